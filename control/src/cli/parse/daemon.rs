//! The sync-daemon options' values, read as ipvsadm reads them.
use super::*;

/// ipvsadm's `DEF_MCAST_IFN`: `--start-daemon` without `--mcast-interface`.
pub const DEFAULT_MCAST_INTERFACE: &str = "eth0";
/// ipvsadm keeps `IP_VS_IFNAME_MAXLEN - 1` bytes of `--mcast-interface`.
use crate::config::host::IFNAME_MAX;

/// `--mcast-interface`: at most 15 bytes, as ipvsadm copies it (cut at a
/// character boundary).
pub(super) fn ifname(arg: &str) -> String {
    let mut n = arg.len().min(IFNAME_MAX);
    while !arg.is_char_boundary(n) {
        n -= 1;
    }
    arg[..n].to_string()
}

/// `--mcast-group`: ipvsadm reads an address with a `:` as IPv6, any other
/// as IPv4, and takes only a multicast one. An IPv6 group is refused
/// after ipvsadm's own checks: ferrovs is IPv4-only.
pub(super) fn mcast_group(arg: &str) -> Result<Ipv4Addr, Exit> {
    if arg.contains(':') {
        return match arg.parse::<std::net::Ipv6Addr>() {
            Ok(a) if a.is_multicast() => Err(fail("IPv6 is not supported by ferrovs")),
            _ => Err(fail(format!("invalid IPv6 mcast-group `{arg}'"))),
        };
    }
    match arg.parse::<Ipv4Addr>() {
        Ok(a) if a.is_multicast() => Ok(a),
        _ => Err(fail(format!("invalid IPv4 mcast-group `{arg}'"))),
    }
}
