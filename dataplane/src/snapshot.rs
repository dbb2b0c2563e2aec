//! The immutable configuration a worker runs with. The binary builds it from
//! the validated YAML (control crate); workers pick up a new one between bursts.
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use conntrack::{Proto, Timeouts};
use sched::SchedFlags;

use crate::wire::MacAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forward {
    Nat,
    FullNat,
    Dr,
    Tun,
}

/// How TUN mode wraps a packet for its real (IPVS's `tun_type` with its
/// `tun_flags`). Only meaningful for `Forward::Tun` reals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encap {
    /// IPv4-in-IPv4 (protocol 4).
    #[default]
    Ipip,
    /// UDP to `port` carrying a GUE header; the UDP checksum is filled when
    /// `csum` (IPVS's `--tun-csum` or `--tun-remcsum`), else left zero.
    Gue { port: u16, csum: bool },
    /// GRE (protocol 47) carrying IPv4; with `csum` the header has the
    /// checksum field (IPVS's `--tun-csum`).
    Gre { csum: bool },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv4Prefix {
    pub addr: Ipv4Addr,
    pub len: u8,
}

impl Ipv4Prefix {
    pub fn mask(&self) -> u32 {
        if self.len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.len.min(32)))
        }
    }
    #[inline]
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        (u32::from(ip) ^ u32::from(self.addr)) & self.mask() == 0
    }
}

#[derive(Clone, Debug)]
pub struct PortSpec {
    pub name: String,
    pub mac: MacAddr,
    pub addresses: Vec<Ipv4Prefix>,
    pub mtu: u16,
    /// The port's kernel twin, if it has one (`ports[].host_iface`).
    pub host: Option<HostSpec>,
}

/// A port's host path: the twin's name and the most frames a second it gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSpec {
    pub iface: String,
    pub rate_pps: u32,
}

#[derive(Clone, Debug)]
pub struct RouteSpec {
    pub prefix: Ipv4Prefix,
    pub via: Option<Ipv4Addr>,
    pub port: usize,
}

#[derive(Clone, Debug)]
pub struct NeighborSpec {
    pub ip: Ipv4Addr,
    pub mac: MacAddr,
    pub port: usize,
}

/// Which virtual ports a service covers (a list or range is ferrovs's answer
/// to firewall-mark services; `All` is IPVS's port-0 service).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortMatch {
    One(u16),
    List(Vec<u16>),
    Range(u16, u16),
    All,
}

impl PortMatch {
    #[inline]
    pub fn matches(&self, p: u16) -> bool {
        match self {
            PortMatch::One(x) => *x == p,
            PortMatch::List(v) => v.contains(&p),
            PortMatch::Range(lo, hi) => (*lo..=*hi).contains(&p),
            PortMatch::All => true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Persistence {
    pub timeout_s: u32,
    pub netmask: Ipv4Addr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RealSpec {
    /// Stable within its service across snapshots (never reused).
    pub id: u32,
    pub addr: Ipv4Addr,
    /// 0 = same as the packet's virtual port.
    pub port: u16,
    pub weight: u32,
    pub upper_threshold: u32,
    pub lower_threshold: u32,
    pub forward: Forward,
    /// The tunnel of a `Forward::Tun` real.
    pub encap: Encap,
}

/// One rule of the firewall-mark classifier (YAML `marks:`): packets of
/// `proto` to an address in `dst` and a port in `ports` carry `mark`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkSpec {
    pub mark: u32,
    pub dst: Ipv4Prefix,
    pub proto: Proto,
    /// Inclusive port ranges.
    pub ports: Vec<(u16, u16)>,
}

impl MarkSpec {
    #[inline]
    pub fn matches(&self, proto: Proto, dst: Ipv4Addr, port: u16) -> bool {
        self.proto == proto
            && self.dst.contains(dst)
            && self.ports.iter().any(|&(lo, hi)| lo <= port && port <= hi)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSpec {
    /// Stable across snapshots (never reused while the process lives):
    /// connections refer to their service by it.
    pub id: u32,
    pub name: String,
    /// A firewall-mark service: it takes what the classifier marks, and
    /// `proto`, `vip` and `ports` are unused.
    pub fwmark: Option<u32>,
    pub proto: Proto,
    pub vip: Ipv4Addr,
    pub ports: PortMatch,
    pub scheduler: String,
    pub flags: SchedFlags,
    pub persistence: Option<Persistence>,
    /// One-packet scheduling: no connection outlives its datagram.
    pub ops: bool,
    pub local_addresses: Vec<Ipv4Addr>,
    pub toa: bool,
    /// In order of addition (file order); IPVS list order is the reverse.
    pub reals: Vec<RealSpec>,
}

#[derive(Clone, Debug)]
pub struct Snapshot {
    pub generation: u64,
    pub ports: Vec<PortSpec>,
    pub routes: Vec<RouteSpec>,
    pub neighbors: Vec<NeighborSpec>,
    /// The firewall-mark classifier, first match wins.
    pub marks: Vec<MarkSpec>,
    pub services: Vec<ServiceSpec>,
    pub timeouts: Timeouts,
    /// Connection-table capacity of each core.
    pub conns_per_core: usize,
    /// IPVS's expire_nodest_conn: a packet of a connection whose real was
    /// removed expires it (and is dropped) instead of being forwarded.
    pub expire_nodest_conn: bool,
    /// VRRP instances, by index (the bit of each in `Mastership`).
    pub vrrp: Vec<crate::mastership::VrrpSpec>,
    /// Every address a VRRP instance owns, with the instance's index, sorted
    /// by address (served only while that instance is MASTER).
    pub owned: Vec<(Ipv4Addr, u8)>,
}

impl Snapshot {
    /// Fills `owned` from `vrrp` (call after setting `vrrp`).
    pub fn index_owned(&mut self) {
        self.owned = self
            .vrrp
            .iter()
            .enumerate()
            .flat_map(|(i, v)| v.addresses.iter().map(move |a| (*a, i as u8)))
            .collect();
        self.owned.sort_unstable();
        self.owned.dedup_by_key(|(a, _)| *a);
    }

    /// The VRRP instance owning `ip`, if one does.
    #[inline]
    pub fn owner_of(&self, ip: Ipv4Addr) -> Option<usize> {
        self.owned
            .binary_search_by_key(&ip, |(a, _)| *a)
            .ok()
            .and_then(|k| self.owned.get(k))
            .map(|(_, i)| usize::from(*i))
    }

    /// Whether `ip` is one of the director's own addresses on `port`.
    pub fn is_own_address(&self, port: usize, ip: Ipv4Addr) -> bool {
        self.ports
            .get(port)
            .is_some_and(|p| p.addresses.iter().any(|a| a.addr == ip))
    }
    /// A VIP of an address service, or the single address of a mark rule
    /// (a rule for a wider prefix expects the prefix routed to the director:
    /// answering ARP for a whole prefix could take other hosts' addresses).
    pub fn is_vip(&self, ip: Ipv4Addr) -> bool {
        self.services
            .iter()
            .any(|s| s.fwmark.is_none() && s.vip == ip)
            || self
                .marks
                .iter()
                .any(|m| m.dst.len == 32 && m.dst.addr == ip)
    }

    /// The mark the classifier gives a packet, if any rule matches.
    #[inline]
    pub fn mark_of(&self, proto: Proto, dst: Ipv4Addr, port: u16) -> Option<u32> {
        self.marks
            .iter()
            .find(|m| m.matches(proto, dst, port))
            .map(|m| m.mark)
    }
}

/// Where workers find the newest snapshot. Publishing bumps a generation
/// counter; a worker compares one atomic per burst and only takes the mutex
/// (briefly, to clone an `Arc`) when the generation moved.
pub struct SnapshotCell {
    generation: AtomicU64,
    current: Mutex<Arc<Snapshot>>,
}

impl SnapshotCell {
    pub fn new(s: Snapshot) -> Self {
        SnapshotCell {
            generation: AtomicU64::new(s.generation),
            current: Mutex::new(Arc::new(s)),
        }
    }
    pub fn publish(&self, mut s: Snapshot) {
        let mut cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
        s.generation = cur.generation + 1;
        let g = s.generation;
        *cur = Arc::new(s);
        self.generation.store(g, Ordering::Release);
    }
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
    pub fn load(&self) -> Arc<Snapshot> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
