//! Runtime state reported by the daemon: counters, the service listing
//! built from a configuration plus counters, and connection entries.

use std::net::{Ipv4Addr, SocketAddrV4};

use serde::{Deserialize, Serialize};

use crate::config::{
    Config, Forward, Persistence, PortRange, Protocol, SchedFlag, Scheduler, Tunnel,
};

/// Traffic counters and rates of a service or a real (ipvsadm `--stats`
/// and `--rate` columns).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
    /// Connections per second.
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    /// Bytes per second.
    pub inbps: u64,
    pub outbps: u64,
}

impl Stats {
    /// Sum of two counter sets (rates add up too).
    pub fn add(&self, o: &Stats) -> Stats {
        Stats {
            conns: self.conns.wrapping_add(o.conns),
            inpkts: self.inpkts.wrapping_add(o.inpkts),
            outpkts: self.outpkts.wrapping_add(o.outpkts),
            inbytes: self.inbytes.wrapping_add(o.inbytes),
            outbytes: self.outbytes.wrapping_add(o.outbytes),
            cps: self.cps.wrapping_add(o.cps),
            inpps: self.inpps.wrapping_add(o.inpps),
            outpps: self.outpps.wrapping_add(o.outpps),
            inbps: self.inbps.wrapping_add(o.inbps),
            outbps: self.outbps.wrapping_add(o.outbps),
        }
    }
}

/// Counters of one real server, summed over the cores.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealCounters {
    pub address: Ipv4Addr,
    /// The real's destination port as `Service::real_port` gives it.
    pub port: u16,
    pub active: u64,
    pub inactive: u64,
    /// Persistence templates pointing at this real.
    pub persistent: u64,
    pub stats: Stats,
}

/// Counters of one service (by its YAML name), summed over the cores.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceCounters {
    pub name: String,
    pub stats: Stats,
    pub reals: Vec<RealCounters>,
}

/// Everything `Backend::counters` reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub services: Vec<ServiceCounters>,
}

impl Counters {
    pub fn service(&self, name: &str) -> Option<&ServiceCounters> {
        self.services.iter().find(|s| s.name == name)
    }
}

/// One connection (ipvsadm `-Lnc`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnEntry {
    pub protocol: Protocol,
    /// Time left before the entry expires.
    pub expire_ms: u64,
    /// IPVS state name (`ESTABLISHED`, `SYN_RECV`, `UDP`, ...).
    pub state: String,
    pub client: SocketAddrV4,
    pub virt: SocketAddrV4,
    pub dest: SocketAddrV4,
    /// A connection or a persistence template. Default: a connection.
    #[serde(default, skip_serializing_if = "ConnKind::is_conn")]
    pub kind: ConnKind,
}

/// What an entry of the connection table is (`-Lnc` lists both, as the
/// kernel's /proc/net/ip_vs_conn does).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnKind {
    /// A connection.
    #[default]
    Conn,
    /// A persistence template (`IP_VS_CONN_F_TEMPLATE`) of a service with
    /// a protocol: listed with state NONE, whatever `state` says. As the
    /// kernel keeps it: the client address masked, client port 0; virtual
    /// and real ports 0 for a port-0 service.
    Template,
    /// A template of a firewall-mark service: protocol IP, the mark as the
    /// virtual address (`0.0.0.7` for mark 7), every port 0.
    MarkTemplate,
}

impl ConnKind {
    pub fn is_conn(&self) -> bool {
        *self == ConnKind::Conn
    }
}

/// One page of connections.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnPage {
    pub entries: Vec<ConnEntry>,
    /// Offset of the next page; `None` on the last page.
    pub next: Option<u64>,
}

/// One real server as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestEntry {
    pub addr: Ipv4Addr,
    /// Destination port; 0 with a multi-port or port-0 service means
    /// "the packet's port" (listed as the virtual port).
    pub port: Option<u16>,
    pub forward: Forward,
    /// The tunnel of a tun real (`--tun-info`, `-S`).
    #[serde(default)]
    pub tunnel: Option<Tunnel>,
    pub weight: u32,
    pub upper_threshold: u32,
    pub lower_threshold: u32,
    pub active: u64,
    pub inactive: u64,
    pub persistent: u64,
    pub stats: Stats,
}

impl DestEntry {
    /// The port ipvsadm shows for this real under virtual port `vport`.
    pub fn port_for(&self, vport: u16) -> u16 {
        match self.forward {
            Forward::Dr | Forward::Tun => vport,
            _ => self.port.unwrap_or(vport),
        }
    }
}

/// One YAML service as listed; ipvsadm shows one line per virtual port.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEntry {
    pub name: String,
    /// A firewall-mark service (protocol and VIP then unused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fwmark: Option<u32>,
    pub protocol: Protocol,
    pub vip: Ipv4Addr,
    /// The virtual ports (`[0-0]` for all ports).
    pub ports: Vec<PortRange>,
    pub scheduler: Scheduler,
    pub flags: Vec<SchedFlag>,
    pub persistence: Option<Persistence>,
    /// One-packet scheduling (`-o`).
    #[serde(default)]
    pub ops: bool,
    pub local_addresses: Vec<Ipv4Addr>,
    pub stats: Stats,
    /// In file order (order of addition).
    pub dests: Vec<DestEntry>,
}

/// The whole listing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceList {
    pub services: Vec<ServiceEntry>,
}

impl ServiceList {
    /// The listing of `cfg` with the counters of `counters` (matched by
    /// service name, then real address and port; missing ones are zero).
    pub fn build(cfg: &Config, counters: &Counters) -> ServiceList {
        let services = cfg
            .services
            .iter()
            .map(|s| {
                let sc = counters.service(&s.name);
                let dests = s
                    .reals
                    .iter()
                    .map(|r| {
                        let port = s.real_port(r);
                        let rc = sc.and_then(|sc| {
                            sc.reals
                                .iter()
                                .find(|c| c.address == r.address && c.port == port)
                        });
                        let forward = s.forward_of(r);
                        DestEntry {
                            addr: r.address,
                            // A mark service's real keeps its port whatever
                            // the forwarding, as IPVS does for `-f`.
                            port: r.port.filter(|_| {
                                s.fwmark.is_some() || !matches!(forward, Forward::Dr | Forward::Tun)
                            }),
                            forward,
                            tunnel: s.tunnel_of(r),
                            weight: r.weight,
                            upper_threshold: r.upper_threshold,
                            lower_threshold: r.lower_threshold,
                            active: rc.map_or(0, |c| c.active),
                            inactive: rc.map_or(0, |c| c.inactive),
                            persistent: rc.map_or(0, |c| c.persistent),
                            stats: rc.map_or_else(Stats::default, |c| c.stats),
                        }
                    })
                    .collect();
                ServiceEntry {
                    name: s.name.clone(),
                    fwmark: s.fwmark,
                    protocol: s.protocol(),
                    vip: s.vip(),
                    ports: s.port_ranges(),
                    scheduler: s.scheduler,
                    flags: s.flags.clone(),
                    persistence: s.persistence.clone(),
                    ops: s.ops,
                    local_addresses: s.local_addresses.clone(),
                    stats: sc.map_or_else(Stats::default, |c| c.stats),
                    dests,
                }
            })
            .collect();
        ServiceList { services }
    }
}
