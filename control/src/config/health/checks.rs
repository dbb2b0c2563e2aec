//! The checkers (`checks:` of a service or real): each list entry is a map
//! with one key naming the checker, as keepalived's `HTTP_GET { ... }`:
//!
//! ```yaml
//! checks:
//!   - http_get: {urls: [{path: /, status_code: [200]}], connect_timeout: 3}
//!   - tcp_check: {connect_port: 8080}
//! ```

use std::fmt;
use std::net::Ipv4Addr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::script::Script;
use super::seconds::Seconds;
use crate::config::model::de_int_in_range;

/// One checker of a real.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CheckRepr", into = "CheckRepr")]
pub enum Check {
    /// `GET` over plain TCP (keepalived `HTTP_GET`).
    HttpGet(HttpCheck),
    /// `GET` over TLS (keepalived `SSL_GET`).
    SslGet(HttpCheck),
    /// A TCP connect (keepalived `TCP_CHECK`).
    TcpCheck(TcpCheck),
    /// A program's exit status (keepalived `MISC_CHECK`).
    MiscCheck(MiscCheck),
    /// A DNS query over UDP (keepalived `DNS_CHECK`).
    DnsCheck(DnsCheck),
}

impl Check {
    /// The YAML key of this checker.
    pub fn key(&self) -> &'static str {
        match self {
            Check::HttpGet(_) => "http_get",
            Check::SslGet(_) => "ssl_get",
            Check::TcpCheck(_) => "tcp_check",
            Check::MiscCheck(_) => "misc_check",
            Check::DnsCheck(_) => "dns_check",
        }
    }

    /// The timing options written on the checker itself.
    pub fn timing(&self) -> Timing {
        match self {
            Check::HttpGet(c) | Check::SslGet(c) => c.timing(),
            Check::TcpCheck(c) => c.timing(),
            Check::MiscCheck(c) => c.timing(),
            Check::DnsCheck(c) => c.timing(),
        }
    }

    /// Where the probe goes, for the checkers that connect (not misc_check).
    pub fn connect(&self) -> Option<Connect> {
        match self {
            Check::HttpGet(c) | Check::SslGet(c) => Some(c.connect()),
            Check::TcpCheck(c) => Some(c.connect()),
            Check::DnsCheck(c) => Some(c.connect()),
            Check::MiscCheck(_) => None,
        }
    }
}

/// The options every level (service, real, checker) may set and the
/// checker inherits; `None` = not set here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timing {
    pub delay_loop: Option<Seconds>,
    pub connect_timeout: Option<Seconds>,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Seconds>,
    pub warmup: Option<Seconds>,
    pub alpha: Option<bool>,
}

/// A connecting checker's addresses as written (`None` = default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Connect {
    pub connect_ip: Option<Ipv4Addr>,
    pub connect_port: Option<u16>,
    pub bindto: Option<Ipv4Addr>,
    pub bind_port: Option<u16>,
}

/// Declares a checker struct: its own fields, then the timing options
/// every checker has, plus (`connect`) the connection options of the
/// checkers that open a socket. keepalived's MISC_CHECK has no connection
/// options, so neither has `misc_check`.
macro_rules! checker {
    (connect $(#[$m:meta])* $name:ident { $($body:tt)* }) => {
        checker!(@emit $(#[$m])* $name {
            $($body)*
            /// Probe this address instead of the real's.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub connect_ip: Option<Ipv4Addr>,
            /// Probe this port instead of the real's.
            #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "de_port")]
            pub connect_port: Option<u16>,
            /// Source address (one of the director's port addresses).
            /// Default: the director's address on the real's subnet.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub bindto: Option<Ipv4Addr>,
            /// Source port. Default: any.
            #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "de_port")]
            pub bind_port: Option<u16>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub connect_timeout: Option<Seconds>,
        } {
            fn connect_timeout_of(&self) -> Option<Seconds> { self.connect_timeout }
        });
        impl $name {
            /// The connection options as written.
            pub fn connect(&self) -> Connect {
                Connect {
                    connect_ip: self.connect_ip,
                    connect_port: self.connect_port,
                    bindto: self.bindto,
                    bind_port: self.bind_port,
                }
            }
        }
    };
    (plain $(#[$m:meta])* $name:ident { $($body:tt)* }) => {
        checker!(@emit $(#[$m])* $name { $($body)* } {
            fn connect_timeout_of(&self) -> Option<Seconds> { None }
        });
    };
    (@emit $(#[$m:meta])* $name:ident { $($body:tt)* } { $($extra:tt)* }) => {
        $(#[$m])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($body)*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub retry: Option<u32>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub delay_before_retry: Option<Seconds>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub delay_loop: Option<Seconds>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub warmup: Option<Seconds>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub alpha: Option<bool>,
        }
        impl $name {
            $($extra)*
            /// The timing options written on this checker.
            pub fn timing(&self) -> Timing {
                Timing {
                    delay_loop: self.delay_loop,
                    connect_timeout: self.connect_timeout_of(),
                    retry: self.retry,
                    delay_before_retry: self.delay_before_retry,
                    warmup: self.warmup,
                    alpha: self.alpha,
                }
            }
        }
    };
}

checker! {
    connect
    /// `http_get` and `ssl_get`: every URL must answer as configured.
    HttpCheck {
        pub urls: Vec<Url>,
        /// `Host:` of every URL without its own. Default: the real's, else the service's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub virtualhost: Option<String>,
        /// "1.0" (default), "1.0C" (1.0 with `Connection: close`) or "1.1".
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub http_protocol: Option<HttpProtocol>,
        /// A URL that failed counts as passing on its first success again,
        /// without keepalived's clean round a delay_loop later. Default false.
        #[serde(default, skip_serializing_if = "is_false")]
        pub fast_recovery: bool,
        /// ssl_get only: send SNI. Default false.
        #[serde(default, skip_serializing_if = "is_false")]
        pub enable_sni: bool,
        /// ssl_get only: the SNI name (implies enable_sni).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub sni_name: Option<String>,
    }
}

checker! {
    connect
    /// `tcp_check`: a connect succeeds within connect_timeout.
    TcpCheck {}
}

checker! {
    plain
    /// `misc_check`: runs a program; exit 0 = up, 1 = down, and with
    /// `misc_dynamic` 2..=255 = up with weight (status - 2).
    MiscCheck {
        pub misc_path: Script,
        /// Seconds the program may run (then SIGTERM, then SIGKILL).
        /// Default: the service's delay_loop (keepalived's).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub misc_timeout: Option<Seconds>,
        #[serde(default, skip_serializing_if = "is_false")]
        pub misc_dynamic: bool,
    }
}

checker! {
    connect
    /// `dns_check`: a query over UDP gets an answer with rcode 0.
    DnsCheck {
        /// The query type. Default SOA.
        #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
        pub qtype: Option<DnsType>,
        /// The name queried. Default "." (the root).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub name: Option<String>,
    }
}

/// One URL of an HTTP check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Url {
    pub path: String,
    /// Accepted codes and "first-last" ranges. Default 200-299.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_code: Vec<StatusCodes>,
    /// MD5 of the body, 32 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtualhost: Option<String>,
}

/// An entry of `status_code`: `200` or `"200-299"`. Bounds are checked by
/// validation (100..=599), so they are kept wide here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusCodes {
    pub first: u32,
    pub last: u32,
}

impl StatusCodes {
    pub fn contains(&self, code: u16) -> bool {
        (self.first..=self.last).contains(&u32::from(code))
    }
}

impl fmt::Display for StatusCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

impl Serialize for StatusCodes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.first == self.last {
            s.serialize_u32(self.first)
        } else {
            s.collect_str(self)
        }
    }
}

impl<'de> Deserialize<'de> for StatusCodes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        fn bad<E: de::Error>(v: impl fmt::Display) -> E {
            E::custom(format!(
                "invalid status code {v} (a code, or a range \"first-last\")"
            ))
        }
        impl Visitor<'_> for V {
            type Value = StatusCodes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a status code or a range \"first-last\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusCodes, E> {
                let c = u32::try_from(v).map_err(|_| bad(v))?;
                Ok(StatusCodes { first: c, last: c })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusCodes, E> {
                u64::try_from(v)
                    .map_err(|_| bad(v))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusCodes, E> {
                v.parse().map_err(|_| bad(format!("{v:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

impl std::str::FromStr for StatusCodes {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let (a, b) = s.split_once('-').unwrap_or((s, s));
        let num = |t: &str| -> Result<u32, ()> {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) || t.len() > 9 {
                return Err(());
            }
            t.parse().map_err(|_| ())
        };
        Ok(StatusCodes {
            first: num(a)?,
            last: num(b)?,
        })
    }
}

/// keepalived's `http_protocol`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HttpProtocol {
    /// `GET path HTTP/1.0`.
    #[default]
    Http10,
    /// HTTP/1.0 with `Connection: close`.
    Http10C,
    /// `GET path HTTP/1.1` with `Connection: close`.
    Http11,
}

impl HttpProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpProtocol::Http10 => "1.0",
            HttpProtocol::Http10C => "1.0C",
            HttpProtocol::Http11 => "1.1",
        }
    }

    /// keepalived's spellings: `1.0`, `1.1`, `1.0C` or `1.0c`.
    pub fn parse(s: &str) -> Option<HttpProtocol> {
        match s {
            "1.0" => Some(HttpProtocol::Http10),
            "1.1" => Some(HttpProtocol::Http11),
            "1.0C" | "1.0c" => Some(HttpProtocol::Http10C),
            _ => None,
        }
    }
}

impl Serialize for HttpProtocol {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for HttpProtocol {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const MSG: &str = "must be \"1.0\", \"1.0C\" or \"1.1\"";
        impl Visitor<'_> for V {
            type Value = HttpProtocol;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(MSG)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HttpProtocol, E> {
                HttpProtocol::parse(v).ok_or_else(|| E::custom(MSG))
            }
            // YAML reads an unquoted 1.0 as a number.
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<HttpProtocol, E> {
                if v == 1.0 {
                    Ok(HttpProtocol::Http10)
                } else if v == 1.1 {
                    Ok(HttpProtocol::Http11)
                } else {
                    Err(E::custom(MSG))
                }
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<HttpProtocol, E> {
                Err(E::custom(MSG))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<HttpProtocol, E> {
                Err(E::custom(MSG))
            }
        }
        d.deserialize_any(V)
    }
}

/// The query types keepalived's DNS_CHECK knows (`DNS_TYPE[]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DnsType {
    A,
    Ns,
    Cname,
    #[default]
    Soa,
    Mx,
    Txt,
    Aaaa,
    Rrsig,
    Dnskey,
}

impl DnsType {
    pub const ALL: [DnsType; 9] = [
        DnsType::A,
        DnsType::Ns,
        DnsType::Cname,
        DnsType::Soa,
        DnsType::Mx,
        DnsType::Txt,
        DnsType::Aaaa,
        DnsType::Rrsig,
        DnsType::Dnskey,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DnsType::A => "A",
            DnsType::Ns => "NS",
            DnsType::Cname => "CNAME",
            DnsType::Soa => "SOA",
            DnsType::Mx => "MX",
            DnsType::Txt => "TXT",
            DnsType::Aaaa => "AAAA",
            DnsType::Rrsig => "RRSIG",
            DnsType::Dnskey => "DNSKEY",
        }
    }

    /// The RR type number on the wire.
    pub fn code(self) -> u16 {
        match self {
            DnsType::A => 1,
            DnsType::Ns => 2,
            DnsType::Cname => 5,
            DnsType::Soa => 6,
            DnsType::Mx => 15,
            DnsType::Txt => 16,
            DnsType::Aaaa => 28,
            DnsType::Rrsig => 46,
            DnsType::Dnskey => 48,
        }
    }

    /// Case-insensitive, as keepalived's `dns_type_lookup`.
    pub fn parse(s: &str) -> Option<DnsType> {
        DnsType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
    }

    fn names() -> String {
        let names: Vec<&str> = DnsType::ALL.iter().map(|t| t.as_str()).collect();
        names.join(" ")
    }
}

impl fmt::Display for DnsType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DnsType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DnsType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DnsType::parse(&s).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown DNS type {s:?} (expected one of {})",
                DnsType::names()
            ))
        })
    }
}

/// The YAML form of a `Check`: a map whose one key names the checker.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    http_get: Option<HttpCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ssl_get: Option<HttpCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tcp_check: Option<TcpCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    misc_check: Option<MiscCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dns_check: Option<DnsCheck>,
}

impl TryFrom<CheckRepr> for Check {
    type Error = String;
    fn try_from(r: CheckRepr) -> Result<Check, String> {
        let mut found: Vec<Check> = Vec::new();
        found.extend(r.http_get.map(Check::HttpGet));
        found.extend(r.ssl_get.map(Check::SslGet));
        found.extend(r.tcp_check.map(Check::TcpCheck));
        found.extend(r.misc_check.map(Check::MiscCheck));
        found.extend(r.dns_check.map(Check::DnsCheck));
        match found.len() {
            1 => Ok(found.remove(0)),
            _ => Err(
                "give exactly one checker: http_get, ssl_get, tcp_check, misc_check or dns_check"
                    .to_string(),
            ),
        }
    }
}

impl From<Check> for CheckRepr {
    fn from(c: Check) -> CheckRepr {
        let mut r = CheckRepr::default();
        match c {
            Check::HttpGet(h) => r.http_get = Some(h),
            Check::SslGet(h) => r.ssl_get = Some(h),
            Check::TcpCheck(t) => r.tcp_check = Some(t),
            Check::MiscCheck(m) => r.misc_check = Some(m),
            Check::DnsCheck(d) => r.dns_check = Some(d),
        }
        r
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A port, 1..=65535.
pub(super) fn de_port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    let v = de_int_in_range(d, 1, i64::from(u16::MAX))?;
    u16::try_from(v).map(Some).map_err(de::Error::custom)
}
