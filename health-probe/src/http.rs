//! `HTTP_GET` and `SSL_GET`.
//!
//! keepalived (check/check_http.c `http_request`, `http_read_thread`, `http_handle_response`;
//! lib/html.c `extract_status_code`): one connection per URL, and on it exactly
//!
//! ```text
//! GET <path> HTTP/1.0|1.1\r\n
//! User-Agent: KeepAliveClient\r\n
//! [Connection: close\r\n]            (http_protocol 1.0C and 1.1)
//! Host: <virtualhost> | <ip>:<port> | [<ipv6>]:<port>\r\n
//! \r\n
//! ```
//!
//! then the response is read to its end, each read within `connect_timeout`. The URL passes
//! when a response arrived, its status is in the URL's `status_code` set (default 200-299,
//! and never outside 100-599), and, with `digest`, the MD5 of the body equals it. A body
//! shorter than its `Content-Length` is not a failure (keepalived only logs it), nor is a TLS
//! peer closing without `close_notify` (keepalived reads on to its end either way).
//!
//! hyper does the HTTP/1 framing, so the digest covers the decoded body: for a chunked
//! HTTP/1.1 answer that differs from keepalived, which hashes the raw bytes after the head
//! (chunk sizes included) and waits for the server to close.

use std::error::Error as _;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONNECTION, HOST, USER_AGENT};
use hyper::{Method, Request, Uri, Version};
use hyper_util::rt::TokioIo;
use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::{tcp, tls, HttpProtocol, Human, Outcome, Target, Tls, UrlCheck};

/// keepalived's `User-Agent`.
const USER_AGENT_VALUE: &str = "KeepAliveClient";

/// The status codes a URL without `status_code` accepts (`url_check`).
const DEFAULT_STATUS: std::ops::RangeInclusive<u16> = 200..=299;

/// keepalived reads until the server closes, however long that takes; a health endpoint that
/// streams without end would hold the probe forever, so the body is cut off here.
const MAX_BODY: u64 = 64 << 20;

/// One `HTTP_GET` / `SSL_GET` checker's settings, borrowed for one run.
pub(crate) struct HttpProbe<'a> {
    pub(crate) target: &'a Target,
    pub(crate) tls: Option<&'a Tls>,
    pub(crate) protocol: HttpProtocol,
    pub(crate) virtualhost: Option<&'a str>,
}

/// Why one URL failed: the reason, and whether it was the server (Down) or us (NotRun).
enum Failure {
    Down(String),
    NotRun(String),
}

impl HttpProbe<'_> {
    /// Checks every URL in order, each over its own connection; the first failure decides.
    pub(crate) async fn run(&self, urls: &[UrlCheck]) -> Outcome {
        for url in urls {
            let what = self.describe(url);
            match self.check(url).await {
                Ok(()) => {}
                Err(Failure::Down(reason)) => return Outcome::down(format!("{what}: {reason}")),
                Err(Failure::NotRun(reason)) => {
                    return Outcome::not_run(format!("{what}: {reason}"))
                }
            }
        }
        Outcome::Up { weight: None }
    }

    /// "GET http://10.0.0.2:8080/health", with the Host when it is not the address.
    fn describe(&self, url: &UrlCheck) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let mut text = format!("GET {scheme}://{}{}", self.target.connect, url.path);
        if let Some(host) = self.vhost(url) {
            text.push_str(&format!(" (Host: {host})"));
        }
        text
    }

    /// The URL's `virtualhost`, else the checker's (`http_request`'s precedence).
    fn vhost<'u>(&'u self, url: &'u UrlCheck) -> Option<&'u str> {
        url.virtualhost.as_deref().or(self.virtualhost)
    }

    /// keepalived's `Host:` value: the virtual host as written (no port), else the address
    /// and port, an IPv6 address in brackets (RFC 2732).
    fn host_header(&self, url: &UrlCheck) -> String {
        match self.vhost(url) {
            Some(host) => host.to_owned(),
            None => self.target.connect.to_string(),
        }
    }

    fn request(&self, url: &UrlCheck) -> Result<Request<Empty<Bytes>>, Failure> {
        let uri: Uri = url
            .path
            .parse()
            .map_err(|e| Failure::NotRun(format!("invalid path: {e}")))?;
        let host = HeaderValue::from_str(&self.host_header(url))
            .map_err(|_| Failure::NotRun("invalid virtualhost".to_owned()))?;
        let (version, close) = match self.protocol {
            HttpProtocol::Http10 => (Version::HTTP_10, false),
            HttpProtocol::Http10Close => (Version::HTTP_10, true),
            HttpProtocol::Http11 => (Version::HTTP_11, true),
        };
        // Inserted in keepalived's order; hyper writes them in insertion order.
        let mut builder = Request::builder()
            .method(Method::GET)
            .uri(uri)
            .version(version)
            .header(USER_AGENT, USER_AGENT_VALUE);
        if close {
            builder = builder.header(CONNECTION, "close");
        }
        builder
            .header(HOST, host)
            .body(Empty::new())
            .map_err(|e| Failure::NotRun(format!("request: {e}")))
    }

    async fn check(&self, url: &UrlCheck) -> Result<(), Failure> {
        let expected = match &url.digest {
            Some(digest) => Some(parse_digest(digest).map_err(Failure::NotRun)?),
            None => None,
        };
        let request = self.request(url)?;
        let target = self.target;
        // The TLS handshake gets what is left of the connect's budget: keepalived's
        // `http_check_thread` drives `SSL_connect` under the connect's own timer.
        let connect_deadline = Instant::now() + target.timeout;
        let stream = tcp::connect(target).await.map_err(|e| {
            if e.is_server_failure() {
                Failure::Down(e.to_string())
            } else {
                Failure::NotRun(e.to_string())
            }
        })?;
        let Some(tls) = self.tls else {
            let (status, digest) = exchange(stream, request, target.timeout).await?;
            return judge(status, &digest, url, expected);
        };
        let sni = if tls.enable_sni {
            tls.sni_name.as_deref().or(self.vhost(url))
        } else {
            None
        };
        let name = tls::server_name(sni, target.connect.ip()).map_err(Failure::NotRun)?;
        let connector = tls::connector().map_err(Failure::NotRun)?;
        let handshake = connector.connect(name, stream);
        let stream = match tokio::time::timeout_at(connect_deadline.into(), handshake).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                return Err(Failure::Down(format!(
                    "TLS handshake: {}",
                    crate::describe_io(&e)
                )))
            }
            Err(_) => {
                return Err(Failure::Down(format!(
                    "TLS handshake: timed out after {}",
                    Human(target.timeout)
                )))
            }
        };
        let (status, digest) = exchange(stream, request, target.timeout).await?;
        judge(status, &digest, url, expected)
    }
}

/// A configured digest as 16 bytes; keepalived refuses anything but 32 hex digits.
fn parse_digest(text: &str) -> Result<[u8; 16], String> {
    let bytes = text.as_bytes();
    if bytes.len() != 32 || !bytes.iter().all(u8::is_ascii_hexdigit) {
        return Err(format!("invalid digest {text:?} (expected 32 hex digits)"));
    }
    let nibble = |c: u8| (c as char).to_digit(16).map_or(0, |d| d as u8);
    let mut out = [0u8; 16];
    for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *byte = nibble(pair[0]) << 4 | nibble(pair[1]);
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A status list as a person reads it: "[200-299]", "[200, 204, 301-302]".
fn status_list(codes: &[u16]) -> String {
    let mut codes = codes.to_vec();
    codes.sort_unstable();
    codes.dedup();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < codes.len() {
        let start = codes[i];
        let mut end = start;
        while i + 1 < codes.len() && end.checked_add(1) == Some(codes[i + 1]) {
            i += 1;
            end = codes[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    format!("[{}]", parts.join(", "))
}

/// Whether keepalived accepts `status` for a URL with these `status_code`s.
fn status_passes(status: u16, codes: &[u16]) -> bool {
    (100..=599).contains(&status)
        && if codes.is_empty() {
            DEFAULT_STATUS.contains(&status)
        } else {
            codes.contains(&status)
        }
}

/// An error and its causes, "a: b: c", as hyper nests them.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// True when the error is the peer closing early: keepalived ends the read there and judges
/// what it has (`http_read_thread` on EOF; `ssl_read_thread` on a close without close_notify).
fn is_early_close(e: &hyper::Error) -> bool {
    let mut source = e.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::UnexpectedEof {
                return true;
            }
        }
        source = cause.source();
    }
    false
}

/// Sends the request on `io` and judges the answer against the URL.
/// Gives the status and the body's MD5.
async fn exchange<IO>(
    io: IO,
    request: Request<Empty<Bytes>>,
    timeout: Duration,
) -> Result<(u16, [u8; 16]), Failure>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // One connection, one request: no pool, no proxy, nothing from the environment.
    // Title case puts keepalived's header spelling on the wire ("User-Agent", "Host").
    let (mut sender, connection) = hyper::client::conn::http1::Builder::new()
        .title_case_headers(true)
        .handshake::<_, Empty<Bytes>>(TokioIo::new(io))
        .await
        .map_err(|e| Failure::Down(chain(&e)))?;
    let mut connection = std::pin::pin!(connection);
    let work = async {
        let response = match tokio::time::timeout(timeout, sender.send_request(request)).await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) if e.is_incomplete_message() => {
                return Err(Failure::Down(
                    "connection closed before a response".to_owned(),
                ))
            }
            Ok(Err(e)) if e.is_parse() => {
                return Err(Failure::Down(format!("invalid response: {}", chain(&e))))
            }
            Ok(Err(e)) => return Err(Failure::Down(chain(&e))),
            Err(_) => {
                return Err(Failure::Down(format!(
                    "no response within {}",
                    Human(timeout)
                )))
            }
        };
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let mut md5 = Md5::new();
        let mut received: u64 = 0;
        loop {
            match tokio::time::timeout(timeout, body.frame()).await {
                Ok(None) => break,
                Ok(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        received += data.len() as u64;
                        if received > MAX_BODY {
                            return Err(Failure::Down(format!(
                                "status {status}: body longer than {} MiB",
                                MAX_BODY >> 20
                            )));
                        }
                        md5.update(data);
                    }
                }
                Ok(Some(Err(e))) if is_early_close(&e) => break,
                Ok(Some(Err(e))) => {
                    return Err(Failure::Down(format!(
                        "status {status}: reading body: {}",
                        chain(&e)
                    )))
                }
                Err(_) => {
                    return Err(Failure::Down(format!(
                        "status {status}: body read timed out after {}",
                        Human(timeout)
                    )))
                }
            }
        }
        Ok((status, md5.finalize().into()))
    };
    let mut work = std::pin::pin!(work);
    // The connection task must be polled for the exchange to progress. When it ends first
    // (the server closed), what it read is already queued for the exchange to finish with.
    let result = tokio::select! {
        result = &mut work => result,
        _ = &mut connection => work.await,
    };
    result
}

/// The verdict on an answer: the status first, then the digest (`http_handle_response`).
fn judge(
    status: u16,
    digest: &[u8],
    url: &UrlCheck,
    expected: Option<[u8; 16]>,
) -> Result<(), Failure> {
    if !status_passes(status, &url.status_codes) {
        let allowed = if url.status_codes.is_empty() {
            DEFAULT_STATUS.collect::<Vec<_>>()
        } else {
            url.status_codes.clone()
        };
        return Err(Failure::Down(format!(
            "status {status} not in {}",
            status_list(&allowed)
        )));
    }
    if let Some(expected) = expected {
        if digest != expected {
            return Err(Failure::Down(format!(
                "digest {} != expected {}",
                hex(digest),
                hex(&expected)
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests() {
        let d = parse_digest("5D41402abc4b2a76b9719d911017c592");
        assert_eq!(
            d.map(|d| hex(&d)),
            Ok("5d41402abc4b2a76b9719d911017c592".into())
        );
        assert!(parse_digest("5d41402abc4b2a76b9719d911017c59").is_err());
        assert!(parse_digest("+d41402abc4b2a76b9719d911017c592").is_err());
        assert!(parse_digest("\u{e9}41402abc4b2a76b9719d911017c592").is_err());
    }

    #[test]
    fn status_sets() {
        assert_eq!(status_list(&[]), "[]");
        assert_eq!(status_list(&[302, 200, 301, 200]), "[200, 301-302]");
        assert_eq!(status_list(&[65534, 65535]), "[65534-65535]");
        assert!(status_passes(204, &[]));
        assert!(!status_passes(300, &[]));
        assert!(status_passes(503, &[503]));
        assert!(!status_passes(600, &[600]), "never outside 100-599");
        assert!(!status_passes(99, &[99]));
    }

    #[test]
    fn host_header_brackets_ipv6() {
        let target = Target {
            connect: "[2001:db8::1]:8080".parse().expect("addr"),
            bind: None,
            timeout: Duration::from_secs(1),
        };
        let probe = HttpProbe {
            target: &target,
            tls: None,
            protocol: HttpProtocol::Http10,
            virtualhost: None,
        };
        let mut url = UrlCheck {
            path: "/".into(),
            status_codes: vec![],
            digest: None,
            virtualhost: None,
        };
        assert_eq!(probe.host_header(&url), "[2001:db8::1]:8080");
        url.virtualhost = Some("www.example".into());
        assert_eq!(probe.host_header(&url), "www.example");
    }
}
