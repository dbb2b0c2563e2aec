//! The firewall-mark classifier (`marks:`): a DPDK appliance has no netfilter
//! to mark packets, so the dataplane applies these rules before the service
//! lookup, and a `services[].fwmark` service takes every packet its mark
//! covers (LVS's `ipvsadm -A -f`), whatever the address, port or protocol.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::ConfigError;
use super::kinds::{PortRange, Protocol};
use super::model::Service;
use super::net::Ipv4Net;

/// One classifier rule: packets of `protocol` to an address in `vip` and a
/// port in `ports` carry `mark`. Rules are tried in file order; the first
/// that matches marks the packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkRule {
    /// 1..=4294967295 (0 means "no mark", as in netfilter).
    pub mark: u32,
    /// An address (`10.10.0.100`) or a prefix (`10.10.0.0/24`).
    pub vip: MarkVip,
    pub protocol: Protocol,
    /// Ports and `"first-last"` ranges.
    pub ports: Vec<MarkPorts>,
}

impl MarkRule {
    /// True when a packet of `protocol` to `addr:port` carries this rule's mark.
    pub fn matches(&self, protocol: Protocol, addr: Ipv4Addr, port: u16) -> bool {
        self.protocol == protocol
            && self.vip.0.contains(addr)
            && self.ports.iter().any(|p| p.0.contains(port))
    }
}

impl MarkRule {
    /// The netfilter rule that marks the same packets on Linux, where
    /// IPVS takes its marks from (ipvsadm itself has no classifier).
    pub fn iptables(&self) -> String {
        let ports: Vec<String> = self
            .ports
            .iter()
            .map(|p| match p.0 {
                r if r.first == r.last => r.first.to_string(),
                r => format!("{}:{}", r.first, r.last),
            })
            .collect();
        format!(
            "iptables -t mangle -A PREROUTING -p {} -d {} -m multiport --dports {} -j MARK --set-mark {}",
            self.protocol,
            self.vip,
            ports.join(","),
            self.mark
        )
    }
}

/// The destination of a mark rule: an address or a prefix, written as given
/// (an address alone is a /32).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarkVip(pub Ipv4Net);

impl FromStr for MarkVip {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.contains('/') {
            return s.parse::<Ipv4Net>().map(MarkVip).map_err(|e| e.to_string());
        }
        let addr: Ipv4Addr = s
            .parse()
            .map_err(|_| format!("invalid IPv4 address or prefix {s:?}"))?;
        Ok(MarkVip(Ipv4Net { addr, len: 32 }))
    }
}

impl fmt::Display for MarkVip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len {
            32 => write!(f, "{}", self.0.addr),
            _ => write!(f, "{}", self.0),
        }
    }
}

impl Serialize for MarkVip {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MarkVip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// One entry of a rule's `ports`: a port (`443`) or a range (`"8000-8010"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarkPorts(pub PortRange);

impl Serialize for MarkPorts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        if r.first == r.last {
            s.serialize_u16(r.first)
        } else {
            s.collect_str(&r)
        }
    }
}

impl<'de> Deserialize<'de> for MarkPorts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MarkPorts;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port (1..=65535) or a range \"first-last\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<MarkPorts, E> {
                u16::try_from(v)
                    .map(|p| MarkPorts(PortRange::single(p)))
                    .map_err(|_| E::custom(format!("port {v} out of range (1..=65535)")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<MarkPorts, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("port {v} out of range (1..=65535)")))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MarkPorts, E> {
                v.parse::<PortRange>().map(MarkPorts).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Checks rule `marks[i]`.
pub(crate) fn rule(i: usize, m: &MarkRule) -> Result<(), ConfigError> {
    let at = |field: &str| format!("marks[{i}].{field}");
    if m.mark == 0 {
        return Err(ConfigError::new(
            at("mark"),
            "must be 1..=4294967295 (0 is no mark)",
        ));
    }
    let net = m.vip.0;
    if !net.is_network() {
        return Err(ConfigError::new(
            at("vip"),
            format!("host bits set (did you mean {}?)", net.trunc()),
        ));
    }
    if m.ports.is_empty() {
        return Err(ConfigError::new(at("ports"), "must not be empty"));
    }
    for (k, p) in m.ports.iter().enumerate() {
        if p.0.first == 0 {
            return Err(ConfigError::new(
                format!("marks[{i}].ports[{k}]"),
                "port 0 is no port (give 1..=65535)",
            ));
        }
    }
    Ok(())
}

/// Checks firewall-mark service `services[i]`: a mark, and none of what an
/// address service is found by.
pub(crate) fn fwmark_service(i: usize, s: &Service) -> Result<(), ConfigError> {
    let at = |field: &str| format!("services[{i}].{field}");
    if s.fwmark == Some(0) {
        return Err(ConfigError::new(
            at("fwmark"),
            "must be 1..=4294967295 (0 is no mark)",
        ));
    }
    let given = [
        ("vip", s.vip.is_some()),
        ("port", s.port.is_some()),
        ("ports", s.ports.is_some()),
        ("protocol", s.protocol.is_some()),
    ];
    if let Some((field, _)) = given.iter().find(|(_, g)| *g) {
        return Err(ConfigError::new(
            at(field),
            "a firewall-mark service has none: the marks: rules say which traffic carries its mark",
        ));
    }
    Ok(())
}
