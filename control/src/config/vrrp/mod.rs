//! The `vrrp:` section: VRRP instances with keepalived's `vrrp_instance`
//! keywords, names and defaults (VRRPv2, RFC 3768, and VRRPv3 over IPv4,
//! RFC 5798 / 9568).
//!
//! An instance owns its virtual addresses: the director answers for them
//! only while the instance is MASTER. Which addresses those are on a port
//! is `Config::port_addresses_with_virtual`; which instance owns an address
//! is `Config::vrrp_owner_of`. Nothing here runs the protocol.

mod validate;

use std::fmt;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::health::{Script, Seconds};
use super::model::{de_int_in_range, Config};
use super::net::Ipv4Net;

pub(crate) use validate::{check, check_portless};
pub use validate::{GARP_DELAY_MAX, PREEMPT_DELAY_MAX, VRRP_INSTANCES_MAX};

/// One VRRP instance (keepalived's `vrrp_instance NAME { ... }`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VrrpInstance {
    /// Unique; `notify` scripts and `notify_fifo` lines carry it.
    pub name: String,
    /// A `ports[].name` with a `host_iface`: the adverts travel through
    /// the port's kernel twin.
    pub port: String,
    /// 1..=255, unique per port.
    #[serde(deserialize_with = "de_1_255")]
    pub virtual_router_id: u8,
    /// 1..=255 (255: the address owner). Default 100.
    #[serde(default = "default_priority", deserialize_with = "de_1_255")]
    pub priority: u8,
    /// Seconds between adverts. Default 1. Version 2: whole seconds
    /// 1..=255; version 3: 0.01..=40.95 in steps of 0.01.
    #[serde(default = "default_advert_int")]
    pub advert_int: Seconds,
    /// 2 | 3. Default 2.
    #[serde(default = "default_version", deserialize_with = "de_version")]
    pub version: u8,
    /// The state the instance starts in: MASTER | BACKUP. Default BACKUP.
    #[serde(default)]
    pub state: VrrpState,
    /// A higher-priority backup does not take over from a live master.
    /// State BACKUP only. Default false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub nopreempt: bool,
    /// Seconds (0..=1000, millisecond steps) a backup waits before taking
    /// over from a lower-priority master. Default 0.
    #[serde(default, skip_serializing_if = "is_zero_secs")]
    pub preempt_delay: Seconds,
    /// Version 2 only: a simple password in every advert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<VrrpAuth>,
    /// The adverts' source: an address of the port. Default: the port's
    /// first address (the instance's primary address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unicast_src_ip: Option<Ipv4Addr>,
    /// Send the adverts to each of these instead of 224.0.0.18.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unicast_peer: Vec<Ipv4Addr>,
    /// Version 3 only: the checksum without the IPv4 pseudo-header (RFC
    /// 9568, Cisco, Juniper) instead of keepalived's. Default false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub v3_checksum_as_v2: bool,
    /// The addresses the instance owns: `a.b.c.d` (a /32) or `a.b.c.d/n`.
    pub virtual_ipaddress: Vec<VirtualAddress>,
    /// Gratuitous ARPs per address on becoming MASTER. Default 5 (1..=255).
    #[serde(default = "default_garp_repeat", deserialize_with = "de_1_255")]
    pub garp_master_repeat: u8,
    /// Whole seconds before the second round of gratuitous ARPs; 0: no
    /// second round. Default 5.
    #[serde(default = "default_garp_delay")]
    pub garp_master_delay: Seconds,
    /// The RFC virtual MAC; only `false` is accepted (the port's MAC is
    /// used, as keepalived does by default).
    #[serde(default, skip_serializing_if = "is_false")]
    pub use_vmac: bool,
    /// Run on becoming MASTER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_master: Option<Script>,
    /// Run on becoming BACKUP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_backup: Option<Script>,
    /// Run on entering FAULT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_fault: Option<Script>,
    /// Run when the instance stops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_stop: Option<Script>,
    /// Run on every transition with `INSTANCE <name> <state> <priority>`
    /// appended (keepalived's generic notify).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<Script>,
    /// A FIFO that gets a line `INSTANCE "<name>" <state> <priority>` per
    /// transition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_fifo: Option<PathBuf>,
}

/// The state an instance starts in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VrrpState {
    #[serde(rename = "MASTER")]
    Master,
    #[default]
    #[serde(rename = "BACKUP")]
    Backup,
}

/// keepalived's `authentication { auth_type PASS; auth_pass X }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VrrpAuth {
    /// PASS (AH is read to be refused by name).
    pub auth_type: AuthType,
    /// 1..=8 bytes, sent zero-padded to 8.
    #[serde(deserialize_with = "de_auth_pass")]
    pub auth_pass: String,
}

/// VRRPv2 authentication types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuthType {
    /// Simple text password (type 1).
    #[serde(rename = "PASS")]
    Pass,
    /// IPsec AH (type 2): not supported.
    #[serde(rename = "AH")]
    Ah,
}

/// A virtual address: `a.b.c.d` (a /32) or `a.b.c.d/n`; written back the
/// same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VirtualAddress(pub Ipv4Net);

impl VirtualAddress {
    pub fn addr(&self) -> Ipv4Addr {
        self.0.addr
    }
}

impl FromStr for VirtualAddress {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.contains('/') {
            return s
                .parse::<Ipv4Net>()
                .map(VirtualAddress)
                .map_err(|e| e.to_string());
        }
        let addr: Ipv4Addr = s
            .parse()
            .map_err(|_| format!("invalid IPv4 address {s:?} (expected a.b.c.d or a.b.c.d/n)"))?;
        Ok(VirtualAddress(Ipv4Net { addr, len: 32 }))
    }
}

impl fmt::Display for VirtualAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len {
            32 => write!(f, "{}", self.0.addr),
            _ => write!(f, "{}", self.0),
        }
    }
}

impl Serialize for VirtualAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VirtualAddress {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

impl VrrpInstance {
    /// The advert interval in centiseconds (VRRPv3's unit; a version 2
    /// interval is a multiple of 100).
    pub fn advert_int_cs(&self) -> u16 {
        u16::try_from(self.advert_int.as_micros() / 10_000).unwrap_or(u16::MAX)
    }

    /// `preempt_delay` in milliseconds.
    pub fn preempt_delay_ms(&self) -> u64 {
        self.preempt_delay.as_micros() / 1000
    }

    /// `garp_master_delay` in milliseconds (0: no second round).
    pub fn garp_master_delay_ms(&self) -> u64 {
        self.garp_master_delay.as_micros() / 1000
    }

    /// The 8 bytes of a version 2 advert's authentication data: the
    /// password zero-padded (`None`: no PASS authentication, all zeros
    /// sent and auth type 0).
    pub fn auth_pass_bytes(&self) -> Option<[u8; 8]> {
        let auth = self.authentication.as_ref()?;
        if auth.auth_type != AuthType::Pass {
            return None;
        }
        let mut out = [0u8; 8];
        let bytes = auth.auth_pass.as_bytes();
        let n = bytes.len().min(8);
        out[..n].copy_from_slice(&bytes[..n]);
        Some(out)
    }

    /// True when the advert checksum leaves out the IPv4 pseudo-header:
    /// always with version 2, with `v3_checksum_as_v2` for version 3
    /// (keepalived's version 3 default includes it).
    pub fn checksum_as_v2(&self) -> bool {
        self.version == 2 || self.v3_checksum_as_v2
    }

    /// True when `addr` is one of the instance's virtual addresses.
    pub fn owns(&self, addr: Ipv4Addr) -> bool {
        self.virtual_ipaddress.iter().any(|v| v.addr() == addr)
    }
}

impl Config {
    /// The index of the VRRP instance whose `virtual_ipaddress` holds
    /// `addr` (validation allows at most one).
    pub fn vrrp_owner_of(&self, addr: Ipv4Addr) -> Option<usize> {
        self.vrrp.iter().position(|v| v.owns(addr))
    }

    /// The adverts' source address of `vrrp[index]`: its `unicast_src_ip`,
    /// else its port's first address.
    pub fn vrrp_src_ip(&self, index: usize) -> Option<Ipv4Addr> {
        let v = self.vrrp.get(index)?;
        v.unicast_src_ip.or_else(|| {
            self.port(&v.port)
                .and_then(|p| p.addresses.first())
                .map(|a| a.addr)
        })
    }

    /// The addresses of `ports[port_index]` with the virtual ones: the
    /// port's `addresses`, then every `virtual_ipaddress` (with its prefix)
    /// of the VRRP instances on that port, in configured order, except the
    /// addresses the director already answers for otherwise — a port
    /// address, a VIP (`services[].vip`, a single-address `marks[].vip`)
    /// or a FullNAT local address — and without duplicates. The virtual
    /// ones are addresses of the port that the director holds only while
    /// their instance is MASTER. Empty for an unknown index.
    pub fn port_addresses_with_virtual(&self, port_index: usize) -> Vec<Ipv4Net> {
        let Some(port) = self.ports.get(port_index) else {
            return Vec::new();
        };
        let mut out = port.addresses.clone();
        let elsewhere = |a: Ipv4Addr| {
            self.ports
                .iter()
                .any(|p| p.addresses.iter().any(|x| x.addr == a))
                || self
                    .services
                    .iter()
                    .any(|s| s.vip == Some(a) || s.local_addresses.contains(&a))
                || self
                    .marks
                    .iter()
                    .any(|m| m.vip.0.len == 32 && m.vip.0.addr == a)
        };
        for v in self.vrrp.iter().filter(|v| v.port == port.name) {
            for va in &v.virtual_ipaddress {
                if elsewhere(va.addr()) || out.iter().any(|x| x.addr == va.addr()) {
                    continue;
                }
                out.push(va.0);
            }
        }
        out
    }
}

fn is_zero_secs(s: &Seconds) -> bool {
    s.is_zero()
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn default_priority() -> u8 {
    100
}
fn default_advert_int() -> Seconds {
    Seconds::from_secs(1)
}
fn default_version() -> u8 {
    2
}
fn default_garp_repeat() -> u8 {
    5
}
fn default_garp_delay() -> Seconds {
    Seconds::from_secs(5)
}

fn de_1_255<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let v = de_int_in_range(d, 1, 255)?;
    u8::try_from(v).map_err(de::Error::custom)
}

fn de_version<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    match de_int_in_range(d, i64::MIN, i64::MAX)? {
        2 => Ok(2),
        3 => Ok(3),
        _ => Err(de::Error::custom("must be 2 or 3")),
    }
}

/// A string; a number (`auth_pass: 1111`) is refused with the fix, since
/// YAML would have read it as a number and lost what was written.
fn de_auth_pass<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct V;
    fn not_text<E: de::Error>(shown: String, kind: &str) -> E {
        E::custom(format!(
            "must be a string: write it in quotes (\"{shown}\"); YAML reads {shown} as a {kind}"
        ))
    }
    impl Visitor<'_> for V {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a password string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Err(not_text(v.to_string(), "number"))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Err(not_text(v.to_string(), "number"))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
            Err(not_text(v.to_string(), "number"))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
            Err(not_text(v.to_string(), "boolean"))
        }
    }
    d.deserialize_any(V)
}
