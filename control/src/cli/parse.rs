//! ipvsadm 1.31's option semantics: which options each command takes,
//! value checks, and its error messages (exit status 2), on top of the
//! popt-like `args::Reader`.

use std::net::Ipv4Addr;
use std::str::FromStr;

use super::args::{Item, Opt, Reader};
use super::values::{fwmark, host, number, sched_flag_bits, sched_flags, service_addr, timeout};
use super::Exit;
use crate::config::sync::SYNC_MAXLEN_MAX;
use crate::config::{Forward, Protocol, SchedFlag, Scheduler, SyncRole, TunFlags, TunType};
use crate::ipvsadm_fmt::Format;
use crate::proto::ServiceKey;
use crate::rules::DEFAULT_SCHEDULER;

/// The command of one invocation (or one `-R` line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Add,
    Edit,
    Del,
    Flush,
    List,
    AddDest,
    DelDest,
    EditDest,
    SetTimeouts,
    Restore,
    Save,
    Zero,
    StartDaemon,
    StopDaemon,
    AddLaddr,
    DelLaddr,
    GetLaddr,
    Reload,
    Help,
    Version,
}

impl Command {
    /// ipvsadm's command name (used in messages).
    fn name(self) -> &'static str {
        match self {
            Command::Add => "add-service",
            Command::Edit => "edit-service",
            Command::Del => "delete-service",
            Command::Flush => "flush",
            Command::List => "list",
            Command::AddDest => "add-server",
            Command::DelDest => "delete-server",
            Command::EditDest => "edit-server",
            Command::SetTimeouts => "set",
            Command::Restore => "restore",
            Command::Save => "save",
            Command::Zero => "zero",
            Command::StartDaemon => "start-daemon",
            Command::StopDaemon => "stop-daemon",
            Command::AddLaddr => "add-laddr",
            Command::DelLaddr => "del-laddr",
            Command::GetLaddr => "get-laddr",
            Command::Reload => "reload",
            Command::Help => "help",
            Command::Version => "version",
        }
    }

    /// The row of ipvsadm's table of legal options (columns as `OPTNAMES`):
    /// '+' compulsory, 'x' illegal, '1' exclusive, ' ' optional.
    fn legal(self) -> &'static [u8; NOPT] {
        match self {
            Command::Add | Command::Edit => b"xx+   xxxxxxxxxxxxxxx  xxxxxxxxxxxxx",
            Command::Del => b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Command::List => b" 11xxxxxxxxx11       xxxxxx xxxxxx11",
            Command::AddDest | Command::EditDest => b"xx+xxx+    xxxxxxxxxxxxxxxxx     xxx",
            Command::DelDest => b"xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Command::Save => b" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Command::Zero => b"xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Command::StartDaemon => b"xxxxxxxxxxx xxxxxxx xxx    xxxxxxxxx",
            Command::StopDaemon => b"xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxxxx",
            Command::AddLaddr | Command::DelLaddr => b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx+xx",
            Command::GetLaddr => b" x xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            _ => b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        }
    }
}

const NOPT: usize = 36;

/// ipvsadm's option names, by bit (ipvsadm's order, without `--pe`, then
/// ferrovs's own).
const OPTNAMES: [&str; NOPT] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
    "laddr",
    "health",
    "vrrp",
];

mod daemon;
mod legal;

pub use daemon::DEFAULT_MCAST_INTERFACE;
use daemon::{ifname, mcast_group};
use legal::{check_options, check_tunnel, set};

mod bit {
    pub const NUMERIC: usize = 0;
    pub const CONNECTION: usize = 1;
    pub const SERVICE: usize = 2;
    pub const SCHEDULER: usize = 3;
    pub const PERSISTENT: usize = 4;
    pub const NETMASK: usize = 5;
    pub const SERVER: usize = 6;
    pub const FORWARD: usize = 7;
    pub const WEIGHT: usize = 8;
    pub const UTHRESHOLD: usize = 9;
    pub const LTHRESHOLD: usize = 10;
    pub const MCAST: usize = 11;
    pub const TIMEOUT: usize = 12;
    pub const DAEMON: usize = 13;
    pub const STATS: usize = 14;
    pub const RATE: usize = 15;
    pub const THRESHOLDS: usize = 16;
    pub const PERSISTENTCONN: usize = 17;
    pub const NOSORT: usize = 18;
    pub const SYNCID: usize = 19;
    pub const EXACT: usize = 20;
    pub const ONEPACKET: usize = 21;
    pub const SCHED_FLAGS: usize = 22;
    pub const MCAST_GROUP: usize = 23;
    pub const MCAST_PORT: usize = 24;
    pub const MCAST_TTL: usize = 25;
    pub const SYNC_MAXLEN: usize = 26;
    pub const TUN_INFO: usize = 27;
    pub const TUN_TYPE: usize = 28;
    pub const TUN_PORT: usize = 29;
    pub const TUN_NOCSUM: usize = 30;
    pub const TUN_CSUM: usize = 31;
    pub const TUN_REMCSUM: usize = 32;
    pub const LADDR: usize = 33;
    /// ferrovs's own: `-L --health`, every health check's state.
    pub const HEALTH: usize = 34;
    /// ferrovs's own: `-L --vrrp`, every VRRP instance's state.
    pub const VRRP: usize = 35;
}

/// One parsed invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub cmd: Command,
    pub format: Format,
    options: u64,
    pub service: Option<ServiceKey>,
    pub scheduler: Option<String>,
    /// `Some(None)`: `-p` without a value.
    pub persistent: Option<Option<u32>>,
    pub netmask: Option<Ipv4Addr>,
    pub flags: Vec<SchedFlag>,
    /// `-o`: one-packet scheduling.
    pub ops: bool,
    /// `-r`: address and port (`None`: copy the virtual port).
    pub dest: Option<(Ipv4Addr, Option<u16>)>,
    pub forward: Option<Forward>,
    pub weight: Option<u32>,
    pub upper_threshold: Option<u32>,
    pub lower_threshold: Option<u32>,
    pub tun_type: Option<TunType>,
    pub tun_port: Option<u16>,
    pub tun_flags: Option<TunFlags>,
    pub laddr: Option<Ipv4Addr>,
    /// `--set tcp tcpfin udp`
    pub timeouts: (u32, u32, u32),
    /// The sync daemon options: `--start-daemon`/`--stop-daemon`'s role,
    /// `--mcast-interface` (at most 15 bytes, as ipvsadm keeps; ipvsadm's
    /// `eth0` for `--start-daemon` without it), `--syncid`,
    /// `--sync-maxlen`, `--mcast-group`, `--mcast-port`, `--mcast-ttl`.
    pub sync_role: Option<SyncRole>,
    pub mcast_interface: Option<String>,
    pub syncid: Option<u8>,
    pub sync_maxlen: Option<u16>,
    pub mcast_group: Option<Ipv4Addr>,
    pub mcast_port: Option<u16>,
    pub mcast_ttl: Option<u8>,
}

impl Parsed {
    pub fn has(&self, b: usize) -> bool {
        self.options & (1 << b) != 0
    }

    pub fn connection(&self) -> bool {
        self.has(bit::CONNECTION)
    }
    pub fn timeout(&self) -> bool {
        self.has(bit::TIMEOUT)
    }
    pub fn daemon(&self) -> bool {
        self.has(bit::DAEMON)
    }
    pub fn health(&self) -> bool {
        self.has(bit::HEALTH)
    }
    pub fn vrrp(&self) -> bool {
        self.has(bit::VRRP)
    }
}

fn fail(msg: impl Into<String>) -> Exit {
    Exit::fail(2, msg)
}

fn unsupported(word: &str) -> Exit {
    let name = word.split('=').next().unwrap_or(word);
    fail(format!("option `{name}' is not supported by ferrovs"))
}

fn command_of(opt: Opt) -> Option<Command> {
    Some(match opt {
        Opt::AddService => Command::Add,
        Opt::EditService => Command::Edit,
        Opt::DeleteService => Command::Del,
        Opt::Clear => Command::Flush,
        Opt::List => Command::List,
        Opt::Zero => Command::Zero,
        Opt::AddServer => Command::AddDest,
        Opt::EditServer => Command::EditDest,
        Opt::DeleteServer => Command::DelDest,
        Opt::Set => Command::SetTimeouts,
        Opt::Help => Command::Help,
        Opt::Version => Command::Version,
        Opt::Restore => Command::Restore,
        Opt::Save => Command::Save,
        Opt::AddLaddr => Command::AddLaddr,
        Opt::DelLaddr => Command::DelLaddr,
        Opt::GetLaddr => Command::GetLaddr,
        Opt::Reload => Command::Reload,
        Opt::StartDaemon => Command::StartDaemon,
        Opt::StopDaemon => Command::StopDaemon,
        _ => return None,
    })
}

/// Parses one invocation (`args` without the program name), with
/// ipvsadm's checks and messages.
pub fn parse(args: &[String]) -> Result<Parsed, Exit> {
    let mut reader = Reader::new(args);
    let first = match reader.next() {
        Some(Ok(item)) => item,
        _ => return Err(Exit::tryhelp()),
    };
    let cmd = command_of(first.opt).ok_or_else(Exit::tryhelp)?;
    let sync_role = match (cmd, first.arg.as_deref()) {
        (Command::StartDaemon | Command::StopDaemon, Some(arg)) => Some(match arg {
            "master" => SyncRole::Master,
            "backup" => SyncRole::Backup,
            // ipvsadm's two wordings.
            _ if cmd == Command::StartDaemon => {
                return Err(fail("illegal start-daemon parameter specified"))
            }
            _ => return Err(fail("illegal start_daemon specified")),
        }),
        _ => None,
    };
    let mut p = Parsed {
        cmd,
        format: Format::default(),
        options: 0,
        service: None,
        scheduler: None,
        persistent: None,
        netmask: None,
        flags: Vec::new(),
        ops: false,
        dest: None,
        forward: None,
        weight: None,
        upper_threshold: None,
        lower_threshold: None,
        tun_type: None,
        tun_port: None,
        tun_flags: None,
        laddr: None,
        timeouts: (0, 0, 0),
        sync_role,
        mcast_interface: None,
        syncid: None,
        sync_maxlen: None,
        mcast_group: None,
        mcast_port: None,
        mcast_ttl: None,
    };
    if matches!(cmd, Command::Help | Command::Version) {
        return Ok(p);
    }
    let mut flags_arg: Option<String> = None;
    let mut bad = None;
    for item in reader.by_ref() {
        match item {
            Ok(item) => option(&mut p, item, &mut flags_arg)?,
            Err(e) => {
                bad = Some(e);
                break;
            }
        }
    }
    if let Some(e) = bad {
        return Err(Exit::soft(255, format!("{}: {}", e.word, e.reason)));
    }
    let mut left = reader.leftovers.into_iter();
    if cmd == Command::SetTimeouts {
        match (left.next(), left.next(), left.next()) {
            (Some(a), Some(b), Some(c)) => {
                p.timeouts = (timeout(&a, 0)?, timeout(&b, 0)?, timeout(&c, 0)?);
            }
            _ => return Err(fail("--set option requires 3 timeout values")),
        }
    }
    if let Some(extra) = left.next() {
        return Err(fail(format!("unexpected argument {extra}")));
    }
    if let Some(arg) = flags_arg {
        let sched = p.scheduler.as_deref().unwrap_or(DEFAULT_SCHEDULER.as_str());
        let bits = sched_flag_bits(sched, &arg)?;
        // An unknown scheduler is refused before the flags matter.
        if let Ok(sched) = Scheduler::from_str(sched) {
            p.flags = sched_flags(sched, bits);
        }
    }
    check_options(&p)?;
    if let (Command::Add | Command::Edit, Some(svc)) = (cmd, p.service) {
        if svc.fwmark == 0 && svc.port == 0 && p.persistent.is_none() {
            return Err(fail("Zero port specified for non-persistent service"));
        }
        if p.ops && svc.fwmark == 0 && svc.protocol != Protocol::Udp {
            return Err(fail(
                "One-Packet Scheduling is only for UDP virtual services",
            ));
        }
    }
    if matches!(cmd, Command::AddDest | Command::EditDest) {
        let tunnel_options = [
            bit::TUN_TYPE,
            bit::TUN_PORT,
            bit::TUN_NOCSUM,
            bit::TUN_CSUM,
            bit::TUN_REMCSUM,
        ];
        if tunnel_options.iter().any(|b| p.has(*b)) && p.forward != Some(Forward::Tun) {
            return Err(fail("Tunnel options conflict with forward method"));
        }
        check_tunnel(&p)?;
    }
    if cmd == Command::StartDaemon && p.mcast_interface.as_deref().unwrap_or("").is_empty() {
        p.mcast_interface = Some(DEFAULT_MCAST_INTERFACE.to_string());
    }
    if cmd == Command::List {
        let o = |b| p.has(b);
        if ((o(bit::CONNECTION) || o(bit::TIMEOUT) || o(bit::DAEMON))
            && (o(bit::STATS) || o(bit::RATE) || o(bit::THRESHOLDS)))
            || ((o(bit::TIMEOUT) || o(bit::DAEMON)) && o(bit::PERSISTENTCONN))
        {
            return Err(fail("options conflicts in the list command"));
        }
    }
    Ok(p)
}

/// One option after the command (ipvsadm's big switch).
fn option(p: &mut Parsed, item: Item, flags_arg: &mut Option<String>) -> Result<(), Exit> {
    let arg = item.arg.clone().unwrap_or_default();
    // ipvsadm reads the command from the first option only: a command
    // later is an option its loop does not know, named by popt's
    // `poptBadOption` (the last word read).
    if command_of(item.opt).is_some() {
        return Err(fail(format!("invalid option `{}'", item.last)));
    }
    match item.opt {
        Opt::Tcp | Opt::Udp => {
            set(p, bit::SERVICE)?;
            let proto = if item.opt == Opt::Tcp {
                Protocol::Tcp
            } else {
                Protocol::Udp
            };
            let (vip, port) = service_addr(&arg, proto)
                .ok_or_else(|| fail("illegal virtual server address[:port] specified"))?;
            p.service = Some(ServiceKey::addr(proto, vip, port.unwrap_or(0)));
        }
        Opt::Scheduler => {
            set(p, bit::SCHEDULER)?;
            p.scheduler = Some(arg);
        }
        Opt::Persistent => {
            set(p, bit::PERSISTENT)?;
            p.persistent = Some(match &item.arg {
                None => None,
                Some(v) => Some(timeout(v, 1)?),
            });
        }
        Opt::Netmask => {
            set(p, bit::NETMASK)?;
            p.netmask = Some(
                host(&arg)
                    .ok_or_else(|| fail("illegal virtual server persistent mask specified"))?,
            );
        }
        Opt::RealServer => {
            set(p, bit::SERVER)?;
            let proto = p.service.map_or(Protocol::Tcp, |s| s.protocol);
            p.dest = Some(
                service_addr(&arg, proto)
                    .ok_or_else(|| fail("illegal real server address[:port] specified"))?,
            );
        }
        Opt::Masquerading | Opt::Ipip | Opt::Gatewaying | Opt::FullNat => {
            set(p, bit::FORWARD)?;
            p.forward = Some(match item.opt {
                Opt::Masquerading => Forward::Nat,
                Opt::Ipip => Forward::Tun,
                Opt::FullNat => Forward::FullNat,
                _ => Forward::Dr,
            });
        }
        Opt::Weight => {
            set(p, bit::WEIGHT)?;
            let w = number(&arg, 0, 65535).ok_or_else(|| fail("illegal weight specified"))?;
            p.weight = u32::try_from(w).ok();
        }
        Opt::UThreshold => {
            set(p, bit::UTHRESHOLD)?;
            let v = number(&arg, 0, i64::from(i32::MAX))
                .ok_or_else(|| fail("illegal u_threshold specified"))?;
            p.upper_threshold = u32::try_from(v).ok();
        }
        Opt::LThreshold => {
            set(p, bit::LTHRESHOLD)?;
            let v = number(&arg, 0, i64::from(i32::MAX))
                .ok_or_else(|| fail("illegal l_threshold specified"))?;
            p.lower_threshold = u32::try_from(v).ok();
        }
        Opt::Connection => set(p, bit::CONNECTION)?,
        Opt::Numeric => {
            set(p, bit::NUMERIC)?;
            p.format.numeric = true;
        }
        Opt::Timeout => set(p, bit::TIMEOUT)?,
        Opt::Daemon => set(p, bit::DAEMON)?,
        Opt::Health => set(p, bit::HEALTH)?,
        Opt::Vrrp => set(p, bit::VRRP)?,
        Opt::Stats => {
            set(p, bit::STATS)?;
            p.format.stats = true;
        }
        Opt::Rate => {
            set(p, bit::RATE)?;
            p.format.rate = true;
        }
        Opt::Thresholds => {
            set(p, bit::THRESHOLDS)?;
            p.format.thresholds = true;
        }
        Opt::PersistentConn => {
            set(p, bit::PERSISTENTCONN)?;
            p.format.persistent_conn = true;
        }
        Opt::NoSort => {
            set(p, bit::NOSORT)?;
            p.format.nosort = true;
        }
        Opt::Sort => {}
        Opt::Exact => {
            set(p, bit::EXACT)?;
            p.format.exact = true;
        }
        Opt::SchedFlags => {
            set(p, bit::SCHED_FLAGS)?;
            *flags_arg = Some(arg);
        }
        Opt::TunInfo => {
            set(p, bit::TUN_INFO)?;
            p.format.tun_info = true;
        }
        Opt::TunType => {
            set(p, bit::TUN_TYPE)?;
            p.tun_type = Some(
                arg.parse()
                    .map_err(|_| fail("illegal tunnel type specified"))?,
            );
        }
        Opt::TunPort => {
            set(p, bit::TUN_PORT)?;
            let port =
                number(&arg, 1, 65535).ok_or_else(|| fail("illegal tunnel port specified"))?;
            p.tun_port = u16::try_from(port).ok();
        }
        Opt::TunNocsum | Opt::TunCsum | Opt::TunRemcsum => {
            let (b, flags) = match item.opt {
                Opt::TunNocsum => (bit::TUN_NOCSUM, TunFlags::Nocsum),
                Opt::TunCsum => (bit::TUN_CSUM, TunFlags::Csum),
                _ => (bit::TUN_REMCSUM, TunFlags::Remcsum),
            };
            set(p, b)?;
            p.tun_flags = Some(flags);
        }
        Opt::Laddr => {
            set(p, bit::LADDR)?;
            p.laddr = Some(
                arg.parse()
                    .map_err(|_| fail("illegal local address specified"))?,
            );
        }
        Opt::Fwmark => {
            set(p, bit::SERVICE)?;
            p.service = Some(ServiceKey::fwmark(fwmark(&arg)?));
        }
        Opt::Ops => {
            set(p, bit::ONEPACKET)?;
            p.ops = true;
        }
        Opt::McastInterface => {
            set(p, bit::MCAST)?;
            p.mcast_interface = Some(ifname(&arg));
        }
        Opt::Syncid => {
            set(p, bit::SYNCID)?;
            let n = number(&arg, 0, 255).ok_or_else(|| fail("illegal syncid specified"))?;
            p.syncid = u8::try_from(n).ok();
        }
        Opt::McastGroup => {
            set(p, bit::MCAST_GROUP)?;
            p.mcast_group = Some(mcast_group(&arg)?);
        }
        Opt::McastPort => {
            set(p, bit::MCAST_PORT)?;
            let n = number(&arg, 1, 65535).ok_or_else(|| fail("illegal mcast-port specified"))?;
            p.mcast_port = u16::try_from(n).ok();
        }
        Opt::McastTtl => {
            set(p, bit::MCAST_TTL)?;
            let n = number(&arg, 1, 255).ok_or_else(|| fail("illegal mcast-ttl specified"))?;
            p.mcast_ttl = u8::try_from(n).ok();
        }
        Opt::SyncMaxlen => {
            set(p, bit::SYNC_MAXLEN)?;
            let n = number(&arg, 1, i64::from(SYNC_MAXLEN_MAX))
                .ok_or_else(|| fail("illegal sync-maxlen specified"))?;
            p.sync_maxlen = u16::try_from(n).ok();
        }
        Opt::Sctp => return Err(fail("SCTP services are not supported by ferrovs")),
        // ipvsadm takes -6 only after -f (an IPv6 fwmark service).
        Opt::Ipv6 => {
            return Err(match p.service {
                Some(s) if s.fwmark != 0 => fail("IPv6 is not supported by ferrovs"),
                _ => fail("-6 used before -f\n"),
            })
        }
        _ => return Err(unsupported(&item.word)),
    }
    Ok(())
}
