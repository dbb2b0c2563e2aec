//! The YAML configuration model (see DESIGN.md, "Contracts").
//!
//! Field names are the YAML keys. Optional keys have their default written
//! next to the field; unknown keys are refused everywhere.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::health::{Check, Script, Seconds, SorryServer};
use super::kinds::{
    FlowSteering, Forward, HostDriver, PortRange, Protocol, SchedFlag, Scheduler, ServicePorts,
    TunFlags, TunType,
};
use super::marks::MarkRule;
use super::net::{Ipv4Net, MacAddr};
use super::sync::SyncConfig;
use super::vrrp::VrrpInstance;

/// Real-server weights: ipvsadm's `-w` range.
pub const WEIGHT_MAX: u32 = 65535;
/// Accepted port MTUs.
pub const MTU_MIN: u16 = 576;
pub const MTU_MAX: u16 = 9000;
/// Largest `workers.burst`.
pub const BURST_MAX: u32 = 512;

/// The whole configuration file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub workers: Workers,
    #[serde(default)]
    pub ports: Vec<Port>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub neighbors: Vec<Neighbor>,
    /// The firewall-mark classifier, applied before the service lookup.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<MarkRule>,
    #[serde(default)]
    pub services: Vec<Service>,
    /// VRRP instances (`vrrp::VrrpInstance`). Each owns its virtual
    /// addresses: the director answers for them only while the instance is
    /// MASTER. `Config::vrrp_owner_of` names an address's instance;
    /// `Config::port_addresses_with_virtual` lists a port's addresses with
    /// the virtual ones that are not already the director's otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vrrp: Vec<VrrpInstance>,
    /// IPVS connection synchronisation (`sync::SyncConfig`): the master
    /// daemon sends the connections this director forwards, the backup
    /// daemon installs those another director sends. `None` (key absent):
    /// no sync daemon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncConfig>,
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Connection-table capacity for the whole director, split evenly
    /// across the worker cores; `None` lets the dataplane choose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conn_max: Option<u64>,
    #[serde(default)]
    pub control: ControlConfig,
    /// Prometheus endpoint; `None` (key absent) disables it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsConfig>,
}

/// Poll-mode worker cores and DPDK EAL settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workers {
    /// One worker per listed CPU core (also the EAL lcores).
    pub cores: Vec<u32>,
    /// EAL `--in-memory` (no hugepage files, no shared runtime dir). Default true.
    #[serde(default = "default_true")]
    pub in_memory: bool,
    /// Extra EAL arguments, appended as given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eal_args: Vec<String>,
    /// Mbufs in the packet pool. Default 8191.
    #[serde(default = "default_mbufs")]
    pub mbufs: u32,
    /// RX/TX burst size. Default 32.
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// The core of the host-path thread (kernel twins); not a worker core.
    /// Absent: the EAL main thread's core.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_core: Option<u32>,
}

/// A network port of the director.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Port {
    pub name: String,
    /// A PCI address or a DPDK vdev string (`net_af_packet0,iface=lb0`).
    pub device: String,
    /// Optional live (read from the device); required in replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<MacAddr>,
    /// The director's own addresses on this port, with prefix lengths.
    #[serde(default)]
    pub addresses: Vec<Ipv4Net>,
    /// Default 1500.
    #[serde(default = "default_mtu", deserialize_with = "de_mtu")]
    pub mtu: u16,
    /// rte_flow steering of FullNAT replies to their owner core. Default auto.
    #[serde(default, skip_serializing_if = "FlowSteering::is_auto")]
    pub flow_steering: FlowSteering,
    /// The kernel twin of this port (a TAP interface of this name), which
    /// gets what the dataplane does not consume. Absent: no host path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_iface: Option<String>,
    /// Most frames per second handed to the kernel twin. Default 50 000.
    #[serde(default = "default_host_rate_pps")]
    pub host_rate_pps: u32,
    /// How the twin is made: `tap` (default) or `virtio_user` (needs /dev/vhost-net).
    #[serde(default, skip_serializing_if = "HostDriver::is_tap")]
    pub host_driver: HostDriver,
}

/// A static route.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub prefix: Ipv4Net,
    /// Gateway; `None` for a directly connected prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Ipv4Addr>,
    /// Name of the egress port.
    pub port: String,
}

/// A static neighbour (ARP) entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Neighbor {
    pub ip: Ipv4Addr,
    pub mac: MacAddr,
    pub port: String,
}

/// A virtual service (ipvsadm -A).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: String,
    /// A firewall-mark service (`ipvsadm -A -f`): every packet the `marks:`
    /// classifier gives this mark, with no `vip`, `port(s)` or `protocol`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fwmark: Option<u32>,
    /// Required unless `fwmark` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vip: Option<Ipv4Addr>,
    /// The virtual port; 0 means every port (requires persistence).
    /// Exactly one of `port` and `ports` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Several virtual ports: a list or a `"first-last"` range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<ServicePorts>,
    /// tcp | udp; required unless `fwmark` is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// Default wlc.
    #[serde(default)]
    pub scheduler: Scheduler,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<SchedFlag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence: Option<Persistence>,
    /// One-packet scheduling (`ipvsadm -o`): every datagram is scheduled on
    /// its own and no connection is kept. UDP and firewall-mark services
    /// only. Default false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ops: bool,
    /// Default forwarding method of the reals. Default nat.
    #[serde(default)]
    pub forward: Forward,
    /// With `forward: tun`, the default tunnel of its tun reals (each
    /// field inherited separately, as `forward` is). Default ipip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tun_type: Option<TunType>,
    /// GUE destination port, 1..=65535 (gue only).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_tun_port"
    )]
    pub tun_port: Option<u16>,
    /// nocsum | csum (gue, gre) | remcsum (gue only). Default nocsum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tun_flags: Option<TunFlags>,
    /// FullNAT source-address pool.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub local_addresses: Vec<Ipv4Addr>,
    /// FullNAT only: insert the TCP option carrying the client address. Default true.
    #[serde(default = "default_true")]
    pub toa: bool,
    // Health checks (keepalived's `virtual_server` keywords). The timing
    // options are the defaults of the service's reals and checks; `None`
    // everywhere means "inherit", resolved by `Service::real_health`.
    /// Seconds between checks. Default 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_loop: Option<Seconds>,
    /// Seconds each probe phase (connect, send, receive) may take. Default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<Seconds>,
    /// Failed tries after the first before a real goes down. Default: the checker's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u32>,
    /// Seconds between those tries. Default: the checker's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_before_retry: Option<Seconds>,
    /// Longest random delay before a check's first run. Default: delay_loop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<Seconds>,
    /// Reals start down and come up on their first success. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<bool>,
    /// Run the down scripts (quorum_down, notify_down) at exit. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omega: Option<bool>,
    /// A failed real stays at weight 0 instead of leaving. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inhibit_on_failure: Option<bool>,
    /// HTTP `Host:` of the service's checks unless set nearer the URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtualhost: Option<String>,
    /// The live reals' total weight the service needs. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<u32>,
    /// Quorum slack: lost below quorum - hysteresis, regained at quorum + hysteresis. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hysteresis: Option<u32>,
    /// Run when the quorum is regained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum_up: Option<Script>,
    /// Run when the quorum is lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum_down: Option<Script>,
    /// Takes the traffic while the quorum is lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sorry_server: Option<SorryServer>,
    /// The sorry server stays listed at weight 0 while not in use. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sorry_server_inhibit: Option<bool>,
    /// Every real's checks, unless the real has `checks` of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// keepalived's `ha_suspend`: the service's checks are suspended while
    /// the VRRP instance owning its VIP is not MASTER. Requires such an
    /// instance. Default false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub ha_suspend: bool,
    /// Real servers in order of addition (as `ipvsadm -a` in file order).
    #[serde(default)]
    pub reals: Vec<Real>,
}

/// Persistence (ipvsadm -p / -M).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persistence {
    /// Seconds. Default 360.
    #[serde(default = "default_persistence_timeout")]
    pub timeout: u32,
    /// Client address mask of the template. Default 255.255.255.255.
    #[serde(default = "default_persistence_netmask")]
    pub netmask: Ipv4Addr,
}

impl Default for Persistence {
    fn default() -> Self {
        Persistence {
            timeout: default_persistence_timeout(),
            netmask: default_persistence_netmask(),
        }
    }
}

/// A real server (ipvsadm -a).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Real {
    pub address: Ipv4Addr,
    /// Default: the service port (for a multi-port or port-0 service, the
    /// packet's destination port is kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// 0..=65535; 0 = quiescent. Default 1.
    #[serde(default = "default_weight", deserialize_with = "de_weight")]
    pub weight: u32,
    /// Default: the service's `forward`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward: Option<Forward>,
    /// Tunnel of a tun real (ipvsadm --tun-type). Default: the service's
    /// `tun_type`, else ipip.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tun_type: Option<TunType>,
    /// GUE destination port (ipvsadm --tun-port), 1..=65535; required
    /// for gue (here or on the service), refused for ipip and gre.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_tun_port"
    )]
    pub tun_port: Option<u16>,
    /// Tunnel checksum (ipvsadm --tun-nocsum/--tun-csum/--tun-remcsum):
    /// nocsum or csum for gue and gre, remcsum for gue only, none for
    /// ipip. Default: the service's `tun_flags`, else nocsum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tun_flags: Option<TunFlags>,
    /// Connection thresholds (ipvsadm -x / -y); 0 = unset.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub upper_threshold: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lower_threshold: u32,
    // Health checks (keepalived's `real_server` keywords); `None` inherits
    // from the service.
    /// Stay at weight 0 when down instead of leaving. Default: the service's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inhibit_on_failure: Option<bool>,
    /// Run when the real comes up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_up: Option<Script>,
    /// Run when the real goes down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_down: Option<Script>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_loop: Option<Seconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<Seconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_before_retry: Option<Seconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<Seconds>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtualhost: Option<String>,
    /// This real's checks instead of the service's (`[]`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Vec<Check>>,
}

/// Connection timeouts in seconds (ipvsadm --set tcp tcpfin udp).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timeouts {
    /// TCP ESTABLISHED. Default 900.
    #[serde(default = "default_tcp_timeout")]
    pub tcp: u32,
    /// TCP FIN_WAIT. Default 120.
    #[serde(default = "default_tcpfin_timeout")]
    pub tcpfin: u32,
    /// UDP. Default 300.
    #[serde(default = "default_udp_timeout")]
    pub udp: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp: default_tcp_timeout(),
            tcpfin: default_tcpfin_timeout(),
            udp: default_udp_timeout(),
        }
    }
}

/// The control socket that fvsadm talks to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlConfig {
    /// Default /run/ferrovs/ferrovs.sock.
    #[serde(default = "default_socket")]
    pub socket: PathBuf,
    /// Group owning the socket (mode 0660); `None` keeps the daemon's group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Like the sysctl: drop connections whose RS was deleted. Default false.
    #[serde(default)]
    pub expire_nodest_conn: bool,
}

impl Default for ControlConfig {
    fn default() -> Self {
        ControlConfig {
            socket: default_socket(),
            group: None,
            expire_nodest_conn: false,
        }
    }
}

/// The Prometheus endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Default 127.0.0.1:9180.
    #[serde(default = "default_metrics_listen")]
    pub listen: SocketAddr,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            listen: default_metrics_listen(),
        }
    }
}

impl Service {
    /// The VIP of an address service (unspecified for a firewall-mark one,
    /// which validation guarantees has none).
    pub fn vip(&self) -> Ipv4Addr {
        self.vip.unwrap_or(Ipv4Addr::UNSPECIFIED)
    }

    /// The protocol of an address service (tcp for a firewall-mark one,
    /// which takes both).
    pub fn protocol(&self) -> Protocol {
        self.protocol.unwrap_or(Protocol::Tcp)
    }

    /// The virtual ports as ranges: `[0-0]` for a port-0 service, empty when
    /// neither `port` nor `ports` is given.
    pub fn port_ranges(&self) -> Vec<PortRange> {
        match (&self.port, &self.ports) {
            (Some(p), _) => vec![PortRange::single(*p)],
            (None, Some(ports)) => ports.ranges(),
            (None, None) => Vec::new(),
        }
    }

    /// The virtual port of a single-port service (0 for all ports), `None`
    /// for a multi-port service.
    pub fn single_port(&self) -> Option<u16> {
        match (&self.port, &self.ports) {
            (Some(p), _) => Some(*p),
            (None, Some(ServicePorts::List(l))) if l.len() == 1 => Some(l[0]),
            (None, Some(ServicePorts::Range(r))) if r.first == r.last => Some(r.first),
            _ => None,
        }
    }

    /// True when the service matches every destination port (`port: 0`).
    pub fn all_ports(&self) -> bool {
        self.port == Some(0)
    }

    /// True when `port` is one of the service's virtual ports.
    pub fn matches_port(&self, port: u16) -> bool {
        self.all_ports() || self.port_ranges().iter().any(|r| r.contains(port))
    }

    pub fn has_flag(&self, flag: SchedFlag) -> bool {
        self.flags.contains(&flag)
    }

    /// The forwarding method of `real` (its own, else the service's).
    pub fn forward_of(&self, real: &Real) -> Forward {
        real.forward.unwrap_or(self.forward)
    }

    /// The destination port towards `real`: its own port, else the service
    /// port; 0 means "keep the packet's destination port" (multi-port and
    /// port-0 services).
    pub fn real_port(&self, real: &Real) -> u16 {
        real.port
            .unwrap_or_else(|| self.single_port().unwrap_or_default())
    }

    /// True when some real (or the service default) uses FullNAT.
    pub fn uses_fullnat(&self) -> bool {
        self.forward == Forward::FullNat
            || self
                .reals
                .iter()
                .any(|r| r.forward == Some(Forward::FullNat))
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn default_true() -> bool {
    true
}
fn default_mbufs() -> u32 {
    8191
}
fn default_burst() -> u32 {
    32
}
fn default_mtu() -> u16 {
    1500
}
fn default_host_rate_pps() -> u32 {
    50_000
}
pub(super) fn default_weight() -> u32 {
    1
}
fn default_persistence_timeout() -> u32 {
    360
}
fn default_persistence_netmask() -> Ipv4Addr {
    Ipv4Addr::BROADCAST
}
fn default_tcp_timeout() -> u32 {
    900
}
fn default_tcpfin_timeout() -> u32 {
    120
}
fn default_udp_timeout() -> u32 {
    300
}
fn default_socket() -> PathBuf {
    PathBuf::from("/run/ferrovs/ferrovs.sock")
}
fn default_metrics_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9180))
}
fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// Reads any YAML integer and keeps it when inside `min..=max`; otherwise
/// the error is `must be min..=max`, so that the field path plus this
/// message reads like the validation errors.
pub(super) fn de_int_in_range<'de, D: Deserializer<'de>>(
    d: D,
    min: i64,
    max: i64,
) -> Result<i64, D::Error> {
    struct V {
        min: i64,
        max: i64,
    }
    impl V {
        fn out_of_range<E: de::Error>(&self) -> E {
            E::custom(format!("must be {}..={}", self.min, self.max))
        }
    }
    impl Visitor<'_> for V {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "an integer in {}..={}", self.min, self.max)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            if (self.min..=self.max).contains(&v) {
                Ok(v)
            } else {
                Err(self.out_of_range())
            }
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            match i64::try_from(v) {
                Ok(v) => self.visit_i64(v),
                Err(_) => Err(self.out_of_range()),
            }
        }
        fn visit_i128<E: de::Error>(self, _: i128) -> Result<i64, E> {
            Err(self.out_of_range())
        }
        fn visit_u128<E: de::Error>(self, _: u128) -> Result<i64, E> {
            Err(self.out_of_range())
        }
    }
    d.deserialize_i64(V { min, max })
}

fn de_weight<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = de_int_in_range(d, 0, i64::from(WEIGHT_MAX))?;
    u32::try_from(v).map_err(de::Error::custom)
}

fn de_tun_port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    let v = de_int_in_range(d, 1, i64::from(u16::MAX))?;
    u16::try_from(v).map(Some).map_err(de::Error::custom)
}

fn de_mtu<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let v = de_int_in_range(d, i64::from(MTU_MIN), i64::from(MTU_MAX))?;
    u16::try_from(v).map_err(de::Error::custom)
}
