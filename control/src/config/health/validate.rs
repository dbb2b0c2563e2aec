//! Validation of the health settings: a wrong value is refused whole with
//! its field named, never replaced by a default (keepalived logs and
//! ignores such values; a director should not run with a check it did not
//! mean).

use std::net::Ipv4Addr;

use super::checks::{Check, DnsCheck, HttpCheck, Timing, Url};
use super::effective::{parse_digest, CheckOrigin};
use super::script::Script;
use super::seconds::Seconds;
use crate::config::error::ConfigError;
use crate::config::model::{Config, Real, Service};

type Result<T = ()> = std::result::Result<T, ConfigError>;

/// Longest delay_loop, delay_before_retry, warmup and misc_timeout:
/// 31 days, keepalived's `LVS_MAX_TIMEOUT`.
pub const TIMER_MAX: Seconds = Seconds::from_secs(31 * 86400);
/// Longest connect_timeout: keepalived keeps it in a 32-bit count of
/// microseconds.
pub const CONNECT_TIMEOUT_MAX: Seconds = Seconds::from_micros(u32::MAX as u64);

fn err<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T> {
    Err(ConfigError::new(path, message))
}

/// Checks every service's health settings.
pub(crate) fn check(cfg: &Config) -> Result {
    let owned = crate::config::owned::owned(cfg);
    let port_addrs: Vec<Ipv4Addr> = cfg
        .ports
        .iter()
        .flat_map(|p| p.addresses.iter().map(|a| a.addr))
        .collect();
    for (i, s) in cfg.services.iter().enumerate() {
        let ctx = Ctx {
            port_addrs: &port_addrs,
        };
        service(i, s, &ctx)?;
        if let Some(sorry) = &s.sorry_server {
            if let Some(what) = owned.get(&sorry.address) {
                return err(
                    format!("services[{i}].sorry_server.address"),
                    format!("{} is {what}", sorry.address),
                );
            }
        }
    }
    Ok(())
}

struct Ctx<'a> {
    port_addrs: &'a [Ipv4Addr],
}

fn service(i: usize, s: &Service, ctx: &Ctx) -> Result {
    let at = |f: &str| format!("services[{i}].{f}");
    timing(&at(""), &s.timing())?;
    if let Some(v) = &s.virtualhost {
        host_name(at("virtualhost"), v)?;
    }
    if s.quorum == Some(0) {
        return err(at("quorum"), "must be >= 1");
    }
    let quorum = s.quorum.unwrap_or(1);
    if let Some(h) = s.hysteresis {
        if h >= quorum {
            return err(at("hysteresis"), format!("must be below quorum ({quorum})"));
        }
    }
    for (name, script) in [("quorum_up", &s.quorum_up), ("quorum_down", &s.quorum_down)] {
        if let Some(sc) = script {
            self::script(at(name), sc)?;
        }
    }
    if let Some(sorry) = &s.sorry_server {
        crate::config::validate::unicast(at("sorry_server.address"), sorry.address)?;
        crate::config::validate::real_port_rule(
            &|f: &str| at(&format!("sorry_server.{f}")),
            s,
            sorry.forward.unwrap_or(s.forward),
            sorry.port,
        )?;
    } else if s.sorry_server_inhibit.is_some() {
        return err(at("sorry_server_inhibit"), "requires sorry_server");
    }
    for (k, c) in s.checks.iter().enumerate() {
        check_one(&at(&format!("checks[{k}]")), c, ctx)?;
    }
    for (j, r) in s.reals.iter().enumerate() {
        real(i, j, s, r, ctx)?;
    }
    Ok(())
}

fn real(i: usize, j: usize, s: &Service, r: &Real, ctx: &Ctx) -> Result {
    let at = |f: &str| format!("services[{i}].reals[{j}].{f}");
    timing(&at(""), &r.timing())?;
    if let Some(v) = &r.virtualhost {
        host_name(at("virtualhost"), v)?;
    }
    for (name, script) in [("notify_up", &r.notify_up), ("notify_down", &r.notify_down)] {
        if let Some(sc) = script {
            self::script(at(name), sc)?;
        }
    }
    if let Some(own) = &r.checks {
        for (k, c) in own.iter().enumerate() {
            check_one(&at(&format!("checks[{k}]")), c, ctx)?;
        }
    }
    // A probe needs a port: the checker's, else the real's.
    if s.real_port(r) != 0 {
        return Ok(());
    }
    for (origin, c) in s.checks_of(r) {
        let needs_port = c.connect().is_some_and(|c| c.connect_port.is_none());
        if needs_port {
            let path = match origin {
                CheckOrigin::Service(k) => format!("services[{i}].checks[{k}]"),
                CheckOrigin::Real(k) => at(&format!("checks[{k}]")),
            };
            return err(
                format!("{path}.{}.connect_port", c.key()),
                format!(
                    "required: services[{i}].reals[{j}] has no port of its own (firewall-mark, multi-port or port-0 service)"
                ),
            );
        }
    }
    Ok(())
}

/// `prefix` is a path ending with `.` or empty-field form `x.`.
fn timing(prefix: &str, t: &Timing) -> Result {
    let at = |f: &str| format!("{prefix}{f}");
    if let Some(d) = t.delay_loop {
        positive(at("delay_loop"), d, TIMER_MAX)?;
    }
    if let Some(d) = t.connect_timeout {
        positive(at("connect_timeout"), d, CONNECT_TIMEOUT_MAX)?;
    }
    if let Some(d) = t.delay_before_retry {
        at_most(at("delay_before_retry"), d, TIMER_MAX)?;
    }
    if let Some(d) = t.warmup {
        at_most(at("warmup"), d, TIMER_MAX)?;
    }
    Ok(())
}

fn positive(path: String, v: Seconds, max: Seconds) -> Result {
    if v.is_zero() {
        return err(path, "must be > 0");
    }
    at_most(path, v, max)
}

fn at_most(path: String, v: Seconds, max: Seconds) -> Result {
    if v > max {
        return err(path, format!("must be at most {max} seconds"));
    }
    Ok(())
}

fn script(path: String, s: &Script) -> Result {
    match s.problem() {
        Some(why) => err(path, why),
        None => Ok(()),
    }
}

/// A name sent as `Host:` or SNI.
fn host_name(path: String, v: &str) -> Result {
    if v.is_empty() {
        return err(path, "must not be empty");
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return err(path, "must not contain white space or control characters");
    }
    Ok(())
}

/// One checker at `path` (`services[0].checks[1]`).
fn check_one(path: &str, c: &Check, ctx: &Ctx) -> Result {
    let at = |f: &str| format!("{path}.{}.{f}", c.key());
    timing(&at(""), &c.timing())?;
    if let Some(conn) = c.connect() {
        if let Some(ip) = conn.connect_ip {
            crate::config::validate::unicast(at("connect_ip"), ip)?;
        }
        if let Some(ip) = conn.bindto {
            crate::config::validate::unicast(at("bindto"), ip)?;
            if !ctx.port_addrs.contains(&ip) {
                return err(
                    at("bindto"),
                    format!("{ip} is not one of the director's port addresses (ports[].addresses)"),
                );
            }
        }
    }
    match c {
        Check::HttpGet(h) => http(&at(""), h, false),
        Check::SslGet(h) => http(&at(""), h, true),
        Check::TcpCheck(_) => Ok(()),
        Check::MiscCheck(m) => {
            script(at("misc_path"), &m.misc_path)?;
            if let Some(t) = m.misc_timeout {
                if t.is_zero() {
                    return err(
                        at("misc_timeout"),
                        "must be > 0 (omit it for the service's delay_loop)",
                    );
                }
                at_most(at("misc_timeout"), t, TIMER_MAX)?;
            }
            Ok(())
        }
        Check::DnsCheck(d) => dns(&at(""), d),
    }
}

fn http(prefix: &str, h: &HttpCheck, tls: bool) -> Result {
    let at = |f: &str| format!("{prefix}{f}");
    if h.urls.is_empty() {
        return err(at("urls"), "must not be empty (give at least one url)");
    }
    for (u, url) in h.urls.iter().enumerate() {
        self::url(&at(&format!("urls[{u}].")), url)?;
    }
    if let Some(v) = &h.virtualhost {
        host_name(at("virtualhost"), v)?;
    }
    if !tls {
        if h.enable_sni {
            return err(
                at("enable_sni"),
                "only for ssl_get (SNI is a TLS extension)",
            );
        }
        if h.sni_name.is_some() {
            return err(at("sni_name"), "only for ssl_get (SNI is a TLS extension)");
        }
    }
    if let Some(n) = &h.sni_name {
        host_name(at("sni_name"), n)?;
    }
    Ok(())
}

fn url(prefix: &str, u: &Url) -> Result {
    let at = |f: &str| format!("{prefix}{f}");
    if !u.path.starts_with('/') {
        return err(at("path"), "must start with '/'");
    }
    if u.path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return err(
            at("path"),
            "must not contain white space or control characters",
        );
    }
    for (n, codes) in u.status_code.iter().enumerate() {
        let path = at(&format!("status_code[{n}]"));
        for v in [codes.first, codes.last] {
            if !(100..=599).contains(&v) {
                return err(path, format!("{v} is not an HTTP status code (100..=599)"));
            }
        }
        if codes.first > codes.last {
            return err(path, format!("invalid range {codes} (first above last)"));
        }
    }
    if let Some(d) = &u.digest {
        if parse_digest(d).is_none() {
            return err(at("digest"), "must be 32 hex digits (the MD5 of the body)");
        }
    }
    if let Some(v) = &u.virtualhost {
        host_name(at("virtualhost"), v)?;
    }
    Ok(())
}

fn dns(prefix: &str, d: &DnsCheck) -> Result {
    let Some(name) = &d.name else {
        return Ok(());
    };
    let path = format!("{prefix}name");
    if name == "." {
        return Ok(());
    }
    if name.is_empty() {
        return err(path, "must not be empty (\".\" is the root)");
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return err(path, "must not contain white space or control characters");
    }
    let labels = name.strip_suffix('.').unwrap_or(name);
    if labels.split('.').any(str::is_empty) {
        return err(path, format!("{name:?} has an empty label"));
    }
    if labels.split('.').any(|l| l.len() > 63) {
        return err(path, format!("{name:?} has a label longer than 63 bytes"));
    }
    if labels.len() > 253 {
        return err(path, format!("{name:?} is longer than 253 bytes"));
    }
    Ok(())
}
