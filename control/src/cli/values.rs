//! Values on the command line, read as ipvsadm reads them: numbers,
//! timeouts, addresses (`inet_aton` forms or host names), `host[:port]`,
//! scheduler flags.

use std::net::{Ipv4Addr, ToSocketAddrs};
use std::str::FromStr;

use super::Exit;
use crate::config::{Protocol, SchedFlag, Scheduler};
use crate::ipvsadm_fmt::names;

/// Longest timeout ipvsadm accepts (31 days).
pub const MAX_TIMEOUT: u32 = 86400 * 31;

fn fail(msg: impl Into<String>) -> Exit {
    Exit::fail(2, msg)
}

/// ipvsadm's `string_to_number`: a whole decimal number within bounds
/// (`strtol`: leading white space and a sign allowed).
pub(crate) fn number(s: &str, min: i64, max: i64) -> Option<i64> {
    let n: i64 = s
        .trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r'])
        .parse()
        .ok()?;
    (min..=max).contains(&n).then_some(n)
}

/// ipvsadm's `parse_fwmark`: `strtol` base 10 (leading white space and a
/// sign allowed) into 1..=4294967295; anything else, negative numbers
/// included, is refused.
pub(crate) fn fwmark(s: &str) -> Result<u32, Exit> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    t.parse::<i128>()
        .ok()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n != 0)
        .ok_or_else(|| fail(format!("invalid fwmark value `{s}' specified")))
}

pub(crate) fn timeout(s: &str, min: u32) -> Result<u32, Exit> {
    number(s, i64::from(min), i64::from(MAX_TIMEOUT))
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| fail(format!("invalid timeout value `{s}' specified")))
}

/// An IPv4 address or a host name that resolves to one.
pub(crate) fn host(s: &str) -> Option<Ipv4Addr> {
    if s.is_empty() {
        return None;
    }
    if s.bytes()
        .all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b'x' || b == b'X')
    {
        if let Some(a) = inet_aton(s) {
            return Some(a);
        }
        if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return None;
        }
    }
    if s.contains(|c: char| c.is_ascii_whitespace() || c == '[' || c == ']') {
        return None;
    }
    (s, 0).to_socket_addrs().ok()?.find_map(|a| match a {
        std::net::SocketAddr::V4(v4) => Some(*v4.ip()),
        std::net::SocketAddr::V6(_) => None,
    })
}

/// The classic `inet_aton` forms: `a.b.c.d`, `a.b.c` (c 16 bits), `a.b`
/// (b 24 bits), `a` (32 bits); each part decimal, octal (`0` prefix) or
/// hex (`0x`).
pub fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<u32> = s
        .split('.')
        .map(|p| {
            if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
                u32::from_str_radix(h, 16).ok()
            } else if p.len() > 1 && p.starts_with('0') {
                u32::from_str_radix(&p[1..], 8).ok()
            } else if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse().ok()
            } else {
                None
            }
        })
        .collect::<Option<_>>()?;
    let (last, head) = parts.split_last()?;
    if head.len() > 3 || head.iter().any(|p| *p > 255) {
        return None;
    }
    let rest_bits = 8 * (4 - head.len() as u32);
    if rest_bits < 32 && *last >> rest_bits != 0 {
        return None;
    }
    let mut v = 0u32;
    for p in head {
        v = (v << 8) | p;
    }
    let v = if head.is_empty() {
        *last
    } else {
        (v << rest_bits) | last
    };
    Some(Ipv4Addr::from(v))
}

/// ipvsadm's `parse_service`: `host[:port]`, the port a number or a
/// service name. `None` when unreadable.
pub fn service_addr(s: &str, proto: Protocol) -> Option<(Ipv4Addr, Option<u16>)> {
    if s.is_empty() || s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let addr = host(h)?;
    let port = match port {
        None => None,
        Some(p) => Some(match number(p, 0, 65535) {
            Some(n) => u16::try_from(n).ok()?,
            None => names::port_of(p, proto)?,
        }),
    };
    Some((addr, port))
}

/// ipvsadm's `parse_sched_flags`: the flag bits `arg` sets (bit N of the
/// result for `flag-N`), with its checks of the named flags against
/// `sched` (the `-s` word, wlc when absent).
pub(crate) fn sched_flag_bits(sched: &str, arg: &str) -> Result<u8, Exit> {
    let mut bits = 0u8;
    for word in arg.split(',').filter(|f| !f.is_empty()) {
        let flag = SchedFlag::from_str(word)
            .map_err(|_| fail(format!("invalid scheduler flag `{word}'")))?;
        if flag
            .scheduler()
            .is_some_and(|owner| owner.as_str() != sched)
        {
            return Err(fail(format!("incompatible scheduler flag `{word}'")));
        }
        bits |= 1 << flag.bit();
    }
    Ok(bits)
}

/// The flags of `bits` under their names for `sched`, in bit order.
pub(crate) fn sched_flags(sched: Scheduler, bits: u8) -> Vec<SchedFlag> {
    (1..=3)
        .filter(|b| bits & (1 << b) != 0)
        .filter_map(|b| SchedFlag::canonical(sched, b))
        .collect()
}
