//! keepalived's value syntax: numbers, timers (decimal seconds), booleans
//! (`true|on|yes`, `false|off|no`), IPv4 addresses.

use std::net::Ipv4Addr;

use crate::config::health::Seconds;

/// An unsigned integer in `min..=max` (keepalived's `read_unsigned`).
pub fn unsigned(s: &str, min: u64, max: u64) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(format!("invalid value {s:?} (expected {min}..={max})")),
    }
}

pub fn u32_in(s: &str, min: u32, max: u32) -> Result<u32, String> {
    unsigned(s, u64::from(min), u64::from(max)).map(|v| v as u32)
}

pub fn port(s: &str) -> Result<u16, String> {
    unsigned(s, 1, 65535).map(|v| v as u16)
}

/// A timer: decimal seconds with up to 6 decimals.
pub fn timer(s: &str) -> Result<Seconds, String> {
    Seconds::parse(s)
        .ok_or_else(|| format!("invalid value {s:?} (expected seconds, e.g. 3 or 0.5)"))
}

/// A timer that must be above 0 (delay_loop, connect_timeout).
pub fn positive_timer(s: &str) -> Result<Seconds, String> {
    match timer(s)? {
        t if t.is_zero() => Err(format!("invalid value {s:?} (must be above 0)")),
        t => Ok(t),
    }
}

/// keepalived's `check_true_false`; no word means true.
pub fn flag(arg: Option<&str>) -> Result<bool, String> {
    match arg {
        None | Some("true" | "on" | "yes") => Ok(true),
        Some("false" | "off" | "no") => Ok(false),
        Some(s) => Err(format!("invalid value {s:?} (expected true or false)")),
    }
}

/// An IPv4 address; an IPv6 one is reported as such.
pub fn ipv4(s: &str) -> Result<Ipv4Addr, String> {
    s.parse().map_err(|_| {
        if s.contains(':') {
            format!("{s} is IPv6 (ferrovs is IPv4-only)")
        } else {
            format!("invalid IPv4 address {s:?}")
        }
    })
}

/// Addresses `a.b.c.d`, `a.b.c.d-e` (last byte range) or
/// `a.b.c.d-a.b.c.e`, as keepalived's group entries; at most `max`.
pub fn address_range(s: &str, max: usize) -> Result<Vec<Ipv4Addr>, String> {
    let Some((first, last)) = s.split_once('-') else {
        return Ok(vec![ipv4(s)?]);
    };
    let first = ipv4(first)?;
    let last = if last.contains('.') {
        ipv4(last)?
    } else {
        let b = unsigned(last, 0, 255).map_err(|_| format!("invalid address range {s:?}"))?;
        let o = first.octets();
        Ipv4Addr::new(o[0], o[1], o[2], b as u8)
    };
    let (a, b) = (u32::from(first), u32::from(last));
    if a > b {
        return Err(format!("invalid address range {s:?} (first above last)"));
    }
    let n = (b - a) as usize + 1;
    if n > max {
        return Err(format!(
            "range {s:?} has {n} addresses; at most {max} are mapped (one ferrovs service each)"
        ));
    }
    Ok((a..=b).map(Ipv4Addr::from).collect())
}
