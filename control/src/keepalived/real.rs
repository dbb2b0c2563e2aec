//! `real_server IP [PORT] { ... }` into a ferrovs real.

use super::checker;
use super::map::Mapper;
use super::tree::Node;
use super::values::{flag, positive_timer, timer, u32_in, unsigned};
use super::vs::{connect_timeout, method, script};
use crate::config::{Real, WEIGHT_MAX};

/// A real as written, before the virtual server's rules apply.
pub struct RealDraft {
    pub real: Real,
    /// The port written (`None`: none).
    pub port: Option<u16>,
    pub weight_given: bool,
    pub node: Node,
}

pub fn map(m: &mut Mapper, n: &Node) -> Option<RealDraft> {
    let address = match n.arg(0).map(super::values::ipv4) {
        Some(Ok(a)) => a,
        Some(Err(e)) => {
            m.unmapped(n, &e);
            return None;
        }
        None => {
            m.unmapped(n, "missing address");
            return None;
        }
    };
    let port = match n.arg(1).map(|p| unsigned(p, 0, 65535)) {
        None => None,
        Some(Ok(p)) => Some(p as u16),
        Some(Err(e)) => {
            m.invalid(n, &e);
            return None;
        }
    };
    let mut r = Real::at(address);
    let mut weight_given = false;
    let mut checks = Vec::new();
    for c in n.children() {
        match c.keyword() {
            "weight" => {
                if let Some(w) = m.value(c, |a| u32_in(a, 0, WEIGHT_MAX)) {
                    r.weight = w;
                    weight_given = true;
                }
            }
            "lvs_method" => {
                if let Some(f) = method(m, c) {
                    r.forward = Some(f.forward);
                    r.tun_type = f.tun_type;
                    r.tun_port = f.tun_port;
                    r.tun_flags = f.tun_flags;
                }
            }
            "uthreshold" => {
                r.upper_threshold = m
                    .value(c, |a| u32_in(a, 0, u32::MAX))
                    .unwrap_or(r.upper_threshold)
            }
            "lthreshold" => {
                r.lower_threshold = m
                    .value(c, |a| u32_in(a, 0, u32::MAX))
                    .unwrap_or(r.lower_threshold)
            }
            "inhibit_on_failure" => match flag(c.arg(0)) {
                Ok(v) => r.inhibit_on_failure = Some(v),
                Err(e) => m.invalid(c, &e),
            },
            "alpha" => match flag(c.arg(0)) {
                Ok(v) => r.alpha = Some(v),
                Err(e) => m.invalid(c, &e),
            },
            "notify_up" => r.notify_up = script(m, c).or(r.notify_up.take()),
            "notify_down" => r.notify_down = script(m, c).or(r.notify_down.take()),
            "delay_loop" => r.delay_loop = m.value(c, positive_timer).or(r.delay_loop),
            "connect_timeout" => {
                r.connect_timeout = m.value(c, connect_timeout).or(r.connect_timeout)
            }
            "delay_before_retry" => {
                r.delay_before_retry = m.value(c, timer).or(r.delay_before_retry)
            }
            "warmup" => r.warmup = m.value(c, timer).or(r.warmup),
            // keepalived's real-server retry is 1.. (its checkers' 0..).
            "retry" => r.retry = m.value(c, |a| u32_in(a, 1, u32::MAX)).or(r.retry),
            "virtualhost" => r.virtualhost = m.value(c, |a| Ok(a.to_string())),
            "HTTP_GET" | "SSL_GET" | "TCP_CHECK" | "MISC_CHECK" | "DNS_CHECK" => {
                if let Some(check) = checker::map(m, c) {
                    checks.push(check);
                }
            }
            "SMTP_CHECK" | "UDP_CHECK" | "PING_CHECK" | "FILE_CHECK" | "BFD_CHECK" => m.unmapped(
                c,
                "ferrovs has no such checker yet; the real is not checked by it",
            ),
            "track_file" => m.unmapped(c, "ferrovs has no track_file"),
            "smtp_alert" => m.unmapped(c, "ferrovs sends no mail; transitions are logged"),
            "snmp_name" => m.unmapped(c, "ferrovs has no SNMP agent; see /metrics"),
            _ => m.unmapped(
                c,
                "not a keepalived real_server keyword; keepalived ignores it",
            ),
        }
    }
    if !checks.is_empty() {
        r.checks = Some(checks);
    }
    Some(RealDraft {
        real: r,
        port,
        weight_given,
        node: n.clone(),
    })
}
