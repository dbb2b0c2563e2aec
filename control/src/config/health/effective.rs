//! The health settings in force: keepalived's inheritance (service ->
//! real -> checker, the nearest setting wins) and its defaults, resolved in
//! one place so that the checker never re-implements them.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use super::checks::{Check, DnsType, HttpCheck, HttpProtocol, StatusCodes, Timing};
use super::script::Script;
use super::seconds::Seconds;
use crate::config::kinds::Forward;
use crate::config::model::{Real, Service};

/// keepalived's `KEEPALIVED_DEFAULT_DELAY`.
pub const DEFAULT_DELAY_LOOP: Seconds = Seconds::from_secs(60);
/// keepalived's virtual-server `connection_to` default.
pub const DEFAULT_CONNECT_TIMEOUT: Seconds = Seconds::from_secs(5);
/// HTTP status codes accepted when a URL lists none (keepalived's 200-299).
pub const DEFAULT_STATUS_CODES: StatusCodes = StatusCodes {
    first: 200,
    last: 299,
};
/// DNS_CHECK's default name (keepalived's "": the root).
pub const DEFAULT_DNS_NAME: &str = ".";

/// Where a real's check is configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckOrigin {
    /// `services[i].checks[k]`, inherited by a real without `checks`.
    Service(usize),
    /// `services[i].reals[j].checks[k]`.
    Real(usize),
}

/// The service-wide settings in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceHealth<'a> {
    pub quorum: u32,
    pub hysteresis: u32,
    pub quorum_up: Option<&'a Script>,
    pub quorum_down: Option<&'a Script>,
    pub omega: bool,
    pub sorry_server: Option<EffectiveSorry>,
}

/// The sorry server in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EffectiveSorry {
    pub address: Ipv4Addr,
    /// 0: the packet's destination port is kept.
    pub port: u16,
    pub forward: Forward,
    /// Listed at weight 0 while not in use (`sorry_server_inhibit`).
    pub inhibit: bool,
}

/// One real's settings in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealHealth<'a> {
    pub inhibit_on_failure: bool,
    pub notify_up: Option<&'a Script>,
    pub notify_down: Option<&'a Script>,
    /// Empty: the real is never checked (always up).
    pub checks: Vec<EffectiveCheck<'a>>,
}

/// One check of one real with every option resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveCheck<'a> {
    pub origin: CheckOrigin,
    /// The checker as written.
    pub check: &'a Check,
    /// Starts failed (the real is installed only after a success).
    pub alpha: bool,
    /// Failed tries after the first before the real goes down.
    pub retry: u32,
    pub delay_loop: Duration,
    pub delay_before_retry: Duration,
    /// The first run comes after a random delay up to this (0: at once).
    pub warmup: Duration,
    pub probe: Probe<'a>,
}

/// What a check does, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe<'a> {
    Tcp(Target),
    Http {
        target: Target,
        /// ssl_get: over TLS (each URL carries its SNI name).
        tls: bool,
        protocol: HttpProtocol,
        fast_recovery: bool,
        urls: Vec<EffectiveUrl<'a>>,
    },
    Misc {
        script: &'a Script,
        timeout: Duration,
        dynamic: bool,
    },
    Dns {
        target: Target,
        qtype: DnsType,
        name: &'a str,
    },
}

/// Where a connecting probe goes and leaves from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// Port 0 only where validation refused the configuration.
    pub connect: SocketAddrV4,
    /// `None`: the director's address on the real's subnet.
    pub bindto: Option<Ipv4Addr>,
    /// `None`: any source port.
    pub bind_port: Option<u16>,
    /// Per phase (connect, send, each receive).
    pub connect_timeout: Duration,
}

/// One URL of an HTTP check, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveUrl<'a> {
    pub path: &'a str,
    /// Accepted codes (never empty).
    pub status_code: Vec<StatusCodes>,
    /// MD5 of the body; `None` when validation refused the hex.
    pub digest: Option<[u8; 16]>,
    pub wants_digest: bool,
    /// The `Host:` header: this name, or (`None`) the target's IP:port.
    pub virtualhost: Option<&'a str>,
    /// SNI for this URL (ssl_get with SNI enabled), keepalived's order.
    pub sni: Option<&'a str>,
}

impl EffectiveUrl<'_> {
    pub fn accepts(&self, code: u16) -> bool {
        self.status_code.iter().any(|r| r.contains(code))
    }
}

impl Service {
    /// The service's own timing options.
    pub fn timing(&self) -> Timing {
        Timing {
            delay_loop: self.delay_loop,
            connect_timeout: self.connect_timeout,
            retry: self.retry,
            delay_before_retry: self.delay_before_retry,
            warmup: self.warmup,
            alpha: self.alpha,
        }
    }

    /// The service-wide health settings in force.
    pub fn health(&self) -> ServiceHealth<'_> {
        ServiceHealth {
            quorum: self.quorum.unwrap_or(1),
            hysteresis: self.hysteresis.unwrap_or(0),
            quorum_up: self.quorum_up.as_ref(),
            quorum_down: self.quorum_down.as_ref(),
            omega: self.omega.unwrap_or(false),
            sorry_server: self.sorry_server.as_ref().map(|s| EffectiveSorry {
                address: s.address,
                port: s
                    .port
                    .unwrap_or_else(|| self.single_port().unwrap_or_default()),
                forward: s.forward.unwrap_or(self.forward),
                inhibit: self.sorry_server_inhibit.unwrap_or(false),
            }),
        }
    }

    /// The checks of `real` (its own, else the service's) with where each
    /// is written.
    pub fn checks_of<'a>(&'a self, real: &'a Real) -> Vec<(CheckOrigin, &'a Check)> {
        match &real.checks {
            Some(own) => own
                .iter()
                .enumerate()
                .map(|(k, c)| (CheckOrigin::Real(k), c))
                .collect(),
            None => self
                .checks
                .iter()
                .enumerate()
                .map(|(k, c)| (CheckOrigin::Service(k), c))
                .collect(),
        }
    }

    /// `real`'s health settings in force (`real` is one of this service's).
    pub fn real_health<'a>(&'a self, real: &'a Real) -> RealHealth<'a> {
        RealHealth {
            inhibit_on_failure: real
                .inhibit_on_failure
                .or(self.inhibit_on_failure)
                .unwrap_or(false),
            notify_up: real.notify_up.as_ref(),
            notify_down: real.notify_down.as_ref(),
            checks: self
                .checks_of(real)
                .into_iter()
                .map(|(origin, check)| self.effective_check(real, origin, check))
                .collect(),
        }
    }

    fn effective_check<'a>(
        &'a self,
        real: &'a Real,
        origin: CheckOrigin,
        check: &'a Check,
    ) -> EffectiveCheck<'a> {
        let t = inherit(check.timing(), real.timing(), self.timing());
        let delay_loop = t.delay_loop.unwrap_or(DEFAULT_DELAY_LOOP);
        let connect_timeout = t.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        let delay_before_retry = t
            .delay_before_retry
            .or_else(|| default_delay_before_retry(check))
            .unwrap_or(delay_loop);
        EffectiveCheck {
            origin,
            check,
            alpha: t.alpha.unwrap_or(false),
            retry: t.retry.unwrap_or_else(|| default_retry(check)),
            delay_loop: delay_loop.as_duration(),
            delay_before_retry: delay_before_retry.as_duration(),
            warmup: t.warmup.unwrap_or(delay_loop).as_duration(),
            probe: self.probe(real, check, connect_timeout.as_duration()),
        }
    }

    fn probe<'a>(&'a self, real: &'a Real, check: &'a Check, timeout: Duration) -> Probe<'a> {
        let target = |c: super::checks::Connect| Target {
            connect: SocketAddrV4::new(
                c.connect_ip.unwrap_or(real.address),
                c.connect_port.unwrap_or_else(|| self.real_port(real)),
            ),
            bindto: c.bindto,
            bind_port: c.bind_port,
            connect_timeout: timeout,
        };
        match check {
            Check::TcpCheck(c) => Probe::Tcp(target(c.connect())),
            Check::HttpGet(h) => self.http_probe(real, h, target(h.connect()), false),
            Check::SslGet(h) => self.http_probe(real, h, target(h.connect()), true),
            Check::MiscCheck(m) => Probe::Misc {
                script: &m.misc_path,
                // keepalived times the script out after the *virtual
                // server's* delay_loop, whatever the checker's.
                timeout: m
                    .misc_timeout
                    .unwrap_or(self.delay_loop.unwrap_or(DEFAULT_DELAY_LOOP))
                    .as_duration(),
                dynamic: m.misc_dynamic,
            },
            Check::DnsCheck(d) => Probe::Dns {
                target: target(d.connect()),
                qtype: d.qtype.unwrap_or_default(),
                name: d.name.as_deref().unwrap_or(DEFAULT_DNS_NAME),
            },
        }
    }

    fn http_probe<'a>(
        &'a self,
        real: &'a Real,
        h: &'a HttpCheck,
        target: Target,
        tls: bool,
    ) -> Probe<'a> {
        let sni_on = tls && (h.enable_sni || h.sni_name.is_some());
        let urls = h
            .urls
            .iter()
            .map(|u| EffectiveUrl {
                path: &u.path,
                status_code: if u.status_code.is_empty() {
                    vec![DEFAULT_STATUS_CODES]
                } else {
                    u.status_code.clone()
                },
                digest: u.digest.as_deref().and_then(parse_digest),
                wants_digest: u.digest.is_some(),
                virtualhost: u
                    .virtualhost
                    .as_deref()
                    .or(h.virtualhost.as_deref())
                    .or(real.virtualhost.as_deref())
                    .or(self.virtualhost.as_deref()),
                // keepalived's SNI order skips the real's virtualhost
                // (check_ssl.c), unlike the Host: header's.
                sni: sni_on
                    .then(|| {
                        h.sni_name
                            .as_deref()
                            .or(u.virtualhost.as_deref())
                            .or(h.virtualhost.as_deref())
                            .or(self.virtualhost.as_deref())
                    })
                    .flatten(),
            })
            .collect();
        Probe::Http {
            target,
            tls,
            protocol: h.http_protocol.unwrap_or_default(),
            fast_recovery: h.fast_recovery,
            urls,
        }
    }
}

impl Real {
    /// The real's own timing options.
    pub fn timing(&self) -> Timing {
        Timing {
            delay_loop: self.delay_loop,
            connect_timeout: self.connect_timeout,
            retry: self.retry,
            delay_before_retry: self.delay_before_retry,
            warmup: self.warmup,
            alpha: self.alpha,
        }
    }

    /// Takes `other`'s health settings: an ipvsadm-style edit of a real
    /// (`fvsadm -e`) changes its forwarding and weight, not its checks.
    pub fn keep_health_of(&mut self, other: &Real) {
        self.inhibit_on_failure = other.inhibit_on_failure;
        self.notify_up = other.notify_up.clone();
        self.notify_down = other.notify_down.clone();
        self.alpha = other.alpha;
        self.delay_loop = other.delay_loop;
        self.connect_timeout = other.connect_timeout;
        self.retry = other.retry;
        self.delay_before_retry = other.delay_before_retry;
        self.warmup = other.warmup;
        self.virtualhost = other.virtualhost.clone();
        self.checks = other.checks.clone();
    }
}

/// The nearest setting of each option: the checker's, else the real's,
/// else the service's.
fn inherit(check: Timing, real: Timing, service: Timing) -> Timing {
    let pick = |f: fn(&Timing) -> Option<Seconds>| f(&check).or(f(&real)).or(f(&service));
    Timing {
        delay_loop: pick(|t| t.delay_loop),
        connect_timeout: pick(|t| t.connect_timeout),
        delay_before_retry: pick(|t| t.delay_before_retry),
        warmup: pick(|t| t.warmup),
        retry: check.retry.or(real.retry).or(service.retry),
        alpha: check.alpha.or(real.alpha).or(service.alpha),
    }
}

/// keepalived's per-checker `default_retry`.
fn default_retry(check: &Check) -> u32 {
    match check {
        Check::MiscCheck(_) => 0,
        Check::DnsCheck(_) => 3,
        Check::HttpGet(_) | Check::SslGet(_) | Check::TcpCheck(_) => 1,
    }
}

/// keepalived's per-checker `default_delay_before_retry`; `None` (DNS)
/// falls back to the check's delay_loop.
fn default_delay_before_retry(check: &Check) -> Option<Seconds> {
    match check {
        Check::HttpGet(_) | Check::SslGet(_) => Some(Seconds::from_secs(3)),
        Check::TcpCheck(_) | Check::MiscCheck(_) => Some(Seconds::from_secs(1)),
        Check::DnsCheck(_) => None,
    }
}

/// 32 hex digits as 16 bytes.
pub fn parse_digest(s: &str) -> Option<[u8; 16]> {
    if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}
