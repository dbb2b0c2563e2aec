//! The probes of keepalived's checkers (`TCP_CHECK`, `HTTP_GET`, `SSL_GET`, `MISC_CHECK`,
//! `DNS_CHECK`), as async functions over kernel sockets and processes (tokio).
//!
//! One call to [`run`] is one probe and gives one [`Outcome`]. There is no state here: retries,
//! `delay_loop`, `delay_before_retry`, `alpha`, URL rotation and up/down transitions belong to
//! the caller (the `health` crate's rules). Each module says which keepalived function it
//! follows on the wire, and where it knowingly differs.

mod dns;
mod http;
mod misc;
mod tcp;
mod tls;

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Where a probe connects from and to, and how long each phase may take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `connect_ip` / `connect_port` (by default the real server's address).
    pub connect: SocketAddr,
    /// `bindto` / `bind_port`: the local address the probe's socket is bound to before it
    /// connects; port 0 lets the kernel pick. `None` binds nothing (the kernel chooses).
    pub bind: Option<SocketAddr>,
    /// `connect_timeout`. As in keepalived it applies to each phase on its own (connect,
    /// then the TLS handshake within the same budget as the connect, then the request and
    /// response head, then each read of the body; for DNS the wait for the answer), not to
    /// the probe as a whole.
    pub timeout: Duration,
}

/// What to probe. The connection options come from the [`Target`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    /// `TCP_CHECK`: up when the connect completes within the timeout.
    Tcp,
    /// `HTTP_GET` (`tls: None`) or `SSL_GET` (`tls: Some`): every URL must pass. Each URL is
    /// fetched over its own connection, in order; the first failure is the outcome.
    /// keepalived itself checks one URL per round and retries that URL; a caller that wants
    /// that cadence passes one URL per call.
    Http {
        /// The `url` blocks, in configuration order. An empty list is up without a probe,
        /// as keepalived enables a server whose checker has no URL.
        urls: Vec<UrlCheck>,
        /// `SSL_GET`'s TLS; `None` for plain `HTTP_GET`.
        tls: Option<Tls>,
        /// `http_protocol`.
        protocol: HttpProtocol,
        /// The checker's `virtualhost`, already inherited from the real or virtual server by
        /// the caller; a URL's own `virtualhost` wins over it.
        virtualhost: Option<String>,
    },
    /// `MISC_CHECK`: runs a program; no socket, so the [`Target`] is not used.
    Misc {
        /// `misc_path` split into words as keepalived does (see `health::split_command`). The
        /// first word is the program: a bare name is looked up in `PATH`. It is executed
        /// directly, not through a shell, as keepalived does.
        argv: Vec<String>,
        /// `misc_timeout` (keepalived's default is the `delay_loop`: the caller resolves it).
        timeout: Duration,
        /// `misc_dynamic`: exit codes 2..=255 mean up with weight `code - 2`.
        dynamic: bool,
    },
    /// `DNS_CHECK`: one query over UDP.
    Dns {
        /// `type`: one of keepalived's A, NS, CNAME, SOA (its default), MX, TXT, AAAA,
        /// RRSIG, DNSKEY, in any case.
        qtype: String,
        /// `name`; keepalived's default is the root, written "" or ".".
        name: String,
    },
}

/// One `url { }` block of `HTTP_GET` / `SSL_GET`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlCheck {
    /// `path`, sent as the request target as written.
    pub path: String,
    /// `status_code`: the codes that pass. Empty means keepalived's default, any of 200-299.
    pub status_codes: Vec<u16>,
    /// `digest`: the MD5 of the body, 32 hex digits (either case).
    pub digest: Option<String>,
    /// The URL's own `virtualhost`, sent as `Host:` (and as SNI when enabled).
    pub virtualhost: Option<String>,
}

/// `SSL_GET`'s options. The server's certificate is never verified, as keepalived does not
/// (its SSL context never asks OpenSSL to verify); the handshake's signatures are checked
/// against the presented certificate's key, as OpenSSL still does without verification.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tls {
    /// `enable_sni` (keepalived's `sni_name` turns it on too).
    pub enable_sni: bool,
    /// `sni_name`. With SNI enabled and no name, the URL's `virtualhost` and then the
    /// checker's are sent; with none of them, no SNI is sent.
    pub sni_name: Option<String>,
}

/// `http_protocol`: the request's version, and whether it says `Connection: close`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HttpProtocol {
    /// "1.0" (the default): `HTTP/1.0`, no `Connection` header.
    #[default]
    Http10,
    /// "1.0C": `HTTP/1.0` with `Connection: close`.
    Http10Close,
    /// "1.1": `HTTP/1.1` with `Connection: close`.
    Http11,
}

impl std::str::FromStr for HttpProtocol {
    type Err = String;

    /// Parses keepalived's spellings: "1.0", "1.0C" (or "1.0c"), "1.1".
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "1.0" => Ok(Self::Http10),
            "1.0C" | "1.0c" => Ok(Self::Http10Close),
            "1.1" => Ok(Self::Http11),
            other => Err(format!(
                "invalid http_protocol {other:?} (expected 1.0, 1.0C or 1.1)"
            )),
        }
    }
}

/// The result of one probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The check passed. `weight` is set only by `MISC_CHECK` with `misc_dynamic` and an exit
    /// code of 2..=255: the real's weight becomes `code - 2`. `None` leaves the weight alone.
    Up { weight: Option<u32> },
    /// The check failed; the reason names the step and what went wrong.
    Down { reason: String },
    /// The probe could not be attempted from this host (a socket could not be made or bound,
    /// the program could not be started, the query is malformed). keepalived counts this as
    /// neither failure nor success: it logs and tries again after `delay_loop`.
    NotRun { reason: String },
}

/// An [`Outcome`] and how long the probe took, from its start to its verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub outcome: Outcome,
    pub latency: Duration,
}

/// Runs one probe against one target.
pub async fn run(target: &Target, probe: &Probe) -> Report {
    let started = Instant::now();
    let outcome = match probe {
        Probe::Tcp => tcp::probe(target).await,
        Probe::Http {
            urls,
            tls,
            protocol,
            virtualhost,
        } => {
            let http = http::HttpProbe {
                target,
                tls: tls.as_ref(),
                protocol: *protocol,
                virtualhost: virtualhost.as_deref(),
            };
            http.run(urls).await
        }
        Probe::Misc {
            argv,
            timeout,
            dynamic,
        } => misc::probe(argv, *timeout, *dynamic).await,
        Probe::Dns { qtype, name } => dns::probe(target, qtype, name).await,
    };
    Report {
        outcome,
        latency: started.elapsed(),
    }
}

impl Outcome {
    pub(crate) fn down(reason: impl fmt::Display) -> Self {
        Outcome::Down {
            reason: reason.to_string(),
        }
    }

    pub(crate) fn not_run(reason: impl fmt::Display) -> Self {
        Outcome::NotRun {
            reason: reason.to_string(),
        }
    }

    /// True for [`Outcome::Up`].
    pub fn is_up(&self) -> bool {
        matches!(self, Outcome::Up { .. })
    }
}

/// A duration the way a person writes it in a reason: "1s", "250ms", "1.5s".
pub(crate) struct Human(pub Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms == 0 {
            write!(f, "{}us", self.0.as_micros())
        } else if ms.is_multiple_of(1000) {
            write!(f, "{}s", ms / 1000)
        } else if ms < 1000 {
            write!(f, "{ms}ms")
        } else {
            let text = format!("{}.{:03}", ms / 1000, ms % 1000);
            write!(f, "{}s", text.trim_end_matches('0'))
        }
    }
}

/// An I/O error as a lowercase phrase without the "(os error N)" tail, so reasons read
/// "connection refused" rather than "Connection refused (os error 111)".
pub(crate) fn describe_io(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error ") {
        Some(at) => &text[..at],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => format!("{:?}", e.kind()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(Human(Duration::from_secs(1)).to_string(), "1s");
        assert_eq!(Human(Duration::from_millis(250)).to_string(), "250ms");
        assert_eq!(Human(Duration::from_millis(1500)).to_string(), "1.5s");
        assert_eq!(Human(Duration::from_millis(1050)).to_string(), "1.05s");
        assert_eq!(Human(Duration::from_micros(20)).to_string(), "20us");
    }

    #[test]
    fn io_errors_read_as_phrases() {
        let e = std::io::Error::from_raw_os_error(111);
        assert_eq!(describe_io(&e), "connection refused");
        let e = std::io::Error::other("Boom here");
        assert_eq!(describe_io(&e), "boom here");
    }

    #[test]
    fn http_protocol_names() {
        assert_eq!("1.0".parse(), Ok(HttpProtocol::Http10));
        assert_eq!("1.0C".parse(), Ok(HttpProtocol::Http10Close));
        assert_eq!("1.0c".parse(), Ok(HttpProtocol::Http10Close));
        assert_eq!("1.1".parse(), Ok(HttpProtocol::Http11));
        assert!("2".parse::<HttpProtocol>().is_err());
        assert_eq!(HttpProtocol::default(), HttpProtocol::Http10);
    }
}
