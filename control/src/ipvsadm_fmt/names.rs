//! Names for addresses and ports, as ipvsadm shows them without `-n` and
//! reads them on its command line, through the C library's resolver
//! (`getnameinfo`/`getaddrinfo`, so /etc/hosts, DNS and the services
//! database as nsswitch.conf says):
//! - an address shows as its host name (reverse lookup), else numerically;
//! - a port shows as its service name for the protocol (`80` is `http`
//!   for TCP), else as the number;
//! - `-t 10.0.0.1:http` reads the port of a service name.
//!
//! Answers are kept for the life of the process: a listing names the same
//! address once however many lines show it.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::{Mutex, OnceLock};

use crate::config::Protocol;

/// Answers already looked up.
type Cache<K, V> = OnceLock<Mutex<HashMap<K, V>>>;

fn cached<K, V>(cache: &'static Cache<K, V>, key: K, look_up: impl FnOnce(&K) -> V) -> V
where
    K: std::hash::Hash + Eq,
    V: Clone,
{
    let map = cache.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(v) = map.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return v.clone();
    }
    let v = look_up(&key);
    map.lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, v.clone());
    v
}

/// The host name of `addr` (ipvsadm's `gethostbyaddr`), if it has one.
pub fn host_name(addr: Ipv4Addr) -> Option<String> {
    static CACHE: Cache<Ipv4Addr, Option<String>> = OnceLock::new();
    cached(&CACHE, addr, |a| {
        let sock = SocketAddr::V4(SocketAddrV4::new(*a, 0));
        dns_lookup::getnameinfo(&sock, libc::NI_NAMEREQD | libc::NI_NUMERICSERV)
            .ok()
            .map(|(host, _)| host)
    })
}

/// The service name of `port` for `proto` (ipvsadm's `getservbyport`),
/// if the services database has one.
pub fn port_name(port: u16, proto: Protocol) -> Option<String> {
    static CACHE: Cache<(u16, Protocol), Option<String>> = OnceLock::new();
    cached(&CACHE, (port, proto), |&(port, proto)| {
        let sock = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
        let dgram = match proto {
            Protocol::Tcp => 0,
            Protocol::Udp => libc::NI_DGRAM,
        };
        let (_, serv) = dns_lookup::getnameinfo(&sock, libc::NI_NUMERICHOST | dgram).ok()?;
        // Without a name, getnameinfo gives the number.
        (serv != port.to_string()).then_some(serv)
    })
}

/// The port of the service `name` for `proto` (ipvsadm's
/// `getservbyname`); `None` for an unknown name or a number.
pub fn port_of(name: &str, proto: Protocol) -> Option<u16> {
    if name.is_empty() || name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (socktype, protocol) = match proto {
        Protocol::Tcp => (libc::SOCK_STREAM, libc::IPPROTO_TCP),
        Protocol::Udp => (libc::SOCK_DGRAM, libc::IPPROTO_UDP),
    };
    let hints = dns_lookup::AddrInfoHints {
        flags: libc::AI_NUMERICHOST,
        address: libc::AF_INET,
        socktype,
        protocol,
    };
    let mut found = dns_lookup::getaddrinfo(Some("0.0.0.0"), Some(name), Some(hints)).ok()?;
    found.find_map(Result::ok).map(|info| info.sockaddr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The names every Debian system has: 127.0.0.1 localhost in
    // /etc/hosts, http 80/tcp and domain 53/udp in /etc/services.
    #[test]
    fn system_names() {
        assert_eq!(host_name(Ipv4Addr::LOCALHOST).as_deref(), Some("localhost"));
        assert_eq!(port_name(80, Protocol::Tcp).as_deref(), Some("http"));
        assert_eq!(port_name(53, Protocol::Udp).as_deref(), Some("domain"));
        assert_eq!(port_name(0, Protocol::Tcp), None);
        assert_eq!(port_name(65000, Protocol::Udp), None);
        assert_eq!(port_of("http", Protocol::Tcp), Some(80));
        assert_eq!(port_of("www", Protocol::Tcp), Some(80));
        assert_eq!(port_of("domain", Protocol::Udp), Some(53));
        assert_eq!(port_of("no-such-service", Protocol::Tcp), None);
        assert_eq!(port_of("8080", Protocol::Tcp), None);
    }
}
