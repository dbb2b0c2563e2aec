//! Port <-> service-name lookups in /etc/services (ipvsadm without `-n`
//! prints `10.0.0.1:http`; `-t 10.0.0.1:http` is accepted). Addresses are
//! always shown numerically: fvsadm does no reverse DNS.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::config::Protocol;

/// The services database: (name, proto) -> port and (port, proto) -> name.
#[derive(Debug, Default)]
pub struct ServicesDb {
    by_name: HashMap<(String, Protocol), u16>,
    by_port: HashMap<(u16, Protocol), String>,
}

impl ServicesDb {
    /// Parses the /etc/services format (`name port/proto [aliases] [# ...]`).
    pub fn parse(text: &str) -> ServicesDb {
        let mut db = ServicesDb::default();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let (Some(name), Some(pp)) = (words.next(), words.next()) else {
                continue;
            };
            let Some((port, proto)) = pp.split_once('/') else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            let proto = match proto {
                "tcp" => Protocol::Tcp,
                "udp" => Protocol::Udp,
                _ => continue,
            };
            // The first entry of a port names it (as getservbyport).
            db.by_port
                .entry((port, proto))
                .or_insert_with(|| name.to_string());
            for n in std::iter::once(name).chain(words) {
                db.by_name.entry((n.to_string(), proto)).or_insert(port);
            }
        }
        db
    }

    pub fn port_name(&self, port: u16, proto: Protocol) -> Option<&str> {
        self.by_port.get(&(port, proto)).map(String::as_str)
    }

    pub fn port_of(&self, name: &str, proto: Protocol) -> Option<u16> {
        self.by_name.get(&(name.to_string(), proto)).copied()
    }
}

/// The system's /etc/services (empty when unreadable).
pub fn system() -> &'static ServicesDb {
    static DB: OnceLock<ServicesDb> = OnceLock::new();
    DB.get_or_init(|| {
        std::fs::read_to_string("/etc/services")
            .map(|t| ServicesDb::parse(&t))
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_services() {
        let db = ServicesDb::parse(
            "# comment\nhttp\t\t80/tcp\t\twww\t# WorldWideWeb\nhttp 80/udp\nbad line\nx y/tcp\n",
        );
        assert_eq!(db.port_name(80, Protocol::Tcp), Some("http"));
        assert_eq!(db.port_of("www", Protocol::Tcp), Some(80));
        assert_eq!(db.port_of("www", Protocol::Udp), None);
        assert_eq!(db.port_name(81, Protocol::Tcp), None);
    }
}
