//! The control protocol shared by the daemon and fvsadm: typed, versioned
//! requests and responses, framed as a 4-byte big-endian length followed by
//! a JSON body (`frame`).

mod error;
mod frame;
mod status;
mod sync;

#[cfg(test)]
mod tests;

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::config::{
    Config, Forward, Protocol, SchedFlag, Scheduler, SyncRole, Timeouts, TunFlags, TunType,
};

pub use error::{ControlError, ErrorKind};
pub use frame::{read_frame, read_message, write_frame, write_message, FrameError, MAX_FRAME};
pub use status::{
    ConnEntry, ConnKind, ConnPage, Counters, DestEntry, RealCounters, ServiceCounters,
    ServiceEntry, ServiceList, Stats,
};
pub use sync::{SyncDaemonSpec, SyncDaemonStatus, BACKUP_MAXLEN_MIN};

/// The protocol version; a peer with another version is refused.
pub const PROTO_VERSION: u32 = 1;

/// Largest page of connections returned by one `ListConns`.
pub const CONN_PAGE_MAX: u32 = 2048;

/// An IPVS virtual service, as libipvs keys one: protocol, virtual address
/// and port (0 = all ports), or a firewall mark (non-zero; the other fields
/// are then unused: tcp, 0.0.0.0, 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ServiceKey {
    pub protocol: Protocol,
    pub vip: Ipv4Addr,
    pub port: u16,
    #[serde(default)]
    pub fwmark: u32,
}

impl ServiceKey {
    /// An address service (`-t`/`-u`).
    pub fn addr(protocol: Protocol, vip: Ipv4Addr, port: u16) -> ServiceKey {
        ServiceKey {
            protocol,
            vip,
            port,
            fwmark: 0,
        }
    }

    /// A firewall-mark service (`-f`).
    pub fn fwmark(mark: u32) -> ServiceKey {
        ServiceKey {
            protocol: Protocol::Tcp,
            vip: Ipv4Addr::UNSPECIFIED,
            port: 0,
            fwmark: mark,
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.fwmark {
            0 => write!(f, "{} {}:{}", self.protocol, self.vip, self.port),
            m => write!(f, "fwmark {m}"),
        }
    }
}

impl PartialOrd for Protocol {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Protocol {
    /// IP protocol number order (TCP 6 before UDP 17), as ipvsadm sorts.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.ip_proto().cmp(&other.ip_proto())
    }
}

impl Protocol {
    /// The IP protocol number.
    pub fn ip_proto(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
        }
    }
}

/// Persistence as given on the command line (`-p [timeout] [-M netmask]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistOpts {
    /// `None`: `-p` without a value (360 s).
    pub timeout: Option<u32>,
    /// `None`: 255.255.255.255.
    pub netmask: Option<Ipv4Addr>,
}

/// The options of `-A` / `-E`. Omitted options take their defaults (an
/// `-E` resets them, as ipvsadm does).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceOpts {
    pub key: ServiceKey,
    /// `None`: wlc.
    pub scheduler: Option<Scheduler>,
    pub flags: Vec<SchedFlag>,
    pub persistence: Option<PersistOpts>,
    /// `-o`: one-packet scheduling (an `-E` without it clears it).
    #[serde(default)]
    pub ops: bool,
}

impl ServiceOpts {
    pub fn new(key: ServiceKey) -> ServiceOpts {
        ServiceOpts {
            key,
            scheduler: None,
            flags: Vec::new(),
            persistence: None,
            ops: false,
        }
    }
}

/// The options of `-a` / `-e` / `-d`. Omitted options take ipvsadm's
/// defaults: port = the virtual port, forward = gatewaying (dr),
/// weight 1, thresholds 0, tunnel ipip without a port or checksum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestOpts {
    pub service: ServiceKey,
    pub addr: Ipv4Addr,
    pub port: Option<u16>,
    pub forward: Option<Forward>,
    pub weight: Option<u32>,
    pub upper_threshold: Option<u32>,
    pub lower_threshold: Option<u32>,
    /// `--tun-type`, `--tun-port`, `--tun-nocsum|--tun-csum|--tun-remcsum`.
    #[serde(default)]
    pub tun_type: Option<TunType>,
    #[serde(default)]
    pub tun_port: Option<u16>,
    #[serde(default)]
    pub tun_flags: Option<TunFlags>,
}

impl DestOpts {
    pub fn new(service: ServiceKey, addr: Ipv4Addr, port: Option<u16>) -> DestOpts {
        DestOpts {
            service,
            addr,
            port,
            forward: None,
            weight: None,
            upper_threshold: None,
            lower_threshold: None,
            tun_type: None,
            tun_port: None,
            tun_flags: None,
        }
    }
}

/// What a client asks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestBody {
    /// `-A`
    AddService(ServiceOpts),
    /// `-E`
    EditService(ServiceOpts),
    /// `-D`
    DelService(ServiceKey),
    /// `-C`
    Clear,
    /// `-a`
    AddDest(DestOpts),
    /// `-e`
    EditDest(DestOpts),
    /// `-d` (only `service`, `addr` and `port` are used)
    DelDest(DestOpts),
    /// `-L`: every service with its reals and counters.
    List,
    /// `-L -c`: one page of the connection table; the first page
    /// (`offset` 0) takes a snapshot that later pages read.
    ListConns { offset: u64, limit: u32 },
    /// `-Z [service]`
    Zero(Option<ServiceKey>),
    /// `--set tcp tcpfin udp` (0 = unchanged)
    SetTimeouts { tcp: u32, tcpfin: u32, udp: u32 },
    /// `-L --timeout`
    GetTimeouts,
    /// `-P -z addr`: add a FullNAT local address.
    AddLocalAddr { service: ServiceKey, addr: Ipv4Addr },
    /// `-Q -z addr`: delete a FullNAT local address.
    DelLocalAddr { service: ServiceKey, addr: Ipv4Addr },
    /// `-G [service]`: list local addresses.
    ListLocalAddr(Option<ServiceKey>),
    /// `--reload`: re-read the YAML file.
    Reload,
    /// The running configuration.
    GetConfig,
    /// `-L --health`: every health check's state.
    ListHealth,
    /// `-L --vrrp`: every VRRP instance's state.
    ListVrrp,
    /// `--start-daemon`: start a connection-sync daemon.
    StartDaemon(SyncDaemonSpec),
    /// `--stop-daemon`: stop the connection-sync daemon of this role.
    StopDaemon(SyncRole),
    /// `-L --daemon`: the running connection-sync daemons.
    ListDaemons,
}

impl RequestBody {
    /// True for requests that change the configuration or counters.
    pub fn is_write(&self) -> bool {
        !matches!(
            self,
            RequestBody::List
                | RequestBody::ListConns { .. }
                | RequestBody::GetTimeouts
                | RequestBody::ListLocalAddr(_)
                | RequestBody::GetConfig
                | RequestBody::ListHealth
                | RequestBody::ListVrrp
                | RequestBody::ListDaemons
        )
    }
}

/// The local addresses of one service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalAddrEntry {
    pub service: ServiceKey,
    pub addrs: Vec<Ipv4Addr>,
}

/// One health check of one real, as `fvsadm -L --health` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthEntry {
    pub service: ServiceKey,
    pub real: Ipv4Addr,
    pub real_port: u16,
    /// The checker and its target, e.g. `HTTP_GET 10.0.1.11:8080/health`.
    pub check: String,
    pub up: bool,
    /// Milliseconds in the current state.
    pub since_ms: u64,
    /// The last probe's verdict: "ok" or why it failed; empty before the first.
    pub last: String,
    /// The last probe's duration.
    pub latency_us: u64,
    /// How late the last probe started after it was due.
    pub lag_ms: u64,
}

/// One VRRP instance, as `fvsadm -L --vrrp` lists it and /metrics exports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VrrpEntry {
    pub name: String,
    pub port: String,
    pub vrid: u8,
    pub version: u8,
    /// INIT, BACKUP, MASTER or FAULT.
    pub state: String,
    pub priority: u8,
    pub advert_int_cs: u16,
    /// The master's advert interval as learned (version 3) or our own.
    pub master_adver_int_cs: u16,
    /// The current master's address, as last seen.
    pub master: Option<Ipv4Addr>,
    /// The owned addresses as configured (`10.0.0.1` or `10.0.0.1/24`).
    pub addresses: Vec<String>,
    /// Milliseconds in the current state.
    pub since_ms: u64,
    pub adverts_sent: u64,
    pub adverts_received: u64,
    pub transitions: u64,
    /// Received adverts dropped, by reason (every reason, zeros included).
    pub dropped: Vec<(String, u64)>,
}

/// What the daemon answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ResponseBody {
    /// The request was carried out.
    Done,
    Services(ServiceList),
    Conns(ConnPage),
    Timeouts(Timeouts),
    LocalAddrs(Vec<LocalAddrEntry>),
    Config(Box<Config>),
    Health(Vec<HealthEntry>),
    Vrrp(Vec<VrrpEntry>),
    /// The running connection-sync daemons (`ListDaemons`).
    Daemons(Vec<SyncDaemonStatus>),
}

/// A request with its protocol version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub version: u32,
    pub body: RequestBody,
}

impl Request {
    pub fn new(body: RequestBody) -> Request {
        Request {
            version: PROTO_VERSION,
            body,
        }
    }
}

/// A response with its protocol version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub version: u32,
    pub result: Result<ResponseBody, ControlError>,
}

impl Response {
    pub fn ok(body: ResponseBody) -> Response {
        Response {
            version: PROTO_VERSION,
            result: Ok(body),
        }
    }

    pub fn err(e: ControlError) -> Response {
        Response {
            version: PROTO_VERSION,
            result: Err(e),
        }
    }
}
