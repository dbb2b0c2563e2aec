//! Keyword enums of the configuration (protocol, scheduler, forwarding
//! method, scheduler flags) and the virtual-port set of a service.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::net::serde_via_str;

/// Declares a keyword enum: `FromStr` with an error that lists the accepted
/// words, `Display`/`as_str` with the YAML name, and serde as that string.
macro_rules! keyword_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $word:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in the order of the documentation.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The YAML (and ipvsadm) name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            /// The accepted names separated by spaces.
            pub fn names() -> String {
                let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                names.join(" ")
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($word => Ok($name::$variant),)+
                    _ => Err(format!(
                        concat!("unknown ", $what, " {:?} (expected one of {})"),
                        s,
                        Self::names()
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        serde_via_str!($name, concat!("a ", $what, " name"));
    };
}

keyword_enum! {
    /// Transport protocol of a virtual service.
    Protocol, "protocol" {
        Tcp => "tcp",
        Udp => "udp",
    }
}

keyword_enum! {
    /// The IPVS scheduling algorithms, by their ipvsadm names.
    #[derive(Default)]
    Scheduler, "scheduler" {
        /// Round robin.
        Rr => "rr",
        /// Weighted round robin.
        Wrr => "wrr",
        /// Least connections.
        Lc => "lc",
        /// Weighted least connections (ipvsadm's default).
        #[default]
        Wlc => "wlc",
        /// Shortest expected delay.
        Sed => "sed",
        /// Never queue.
        Nq => "nq",
        /// Locality-based least connections.
        Lblc => "lblc",
        /// Locality-based least connections with replication.
        Lblcr => "lblcr",
        /// Source hashing.
        Sh => "sh",
        /// Destination hashing.
        Dh => "dh",
        /// Maglev hashing.
        Mh => "mh",
        /// Weighted failover.
        Fo => "fo",
        /// Weighted overflow.
        Ovf => "ovf",
        /// Power of two choices.
        Twos => "twos",
    }
}

keyword_enum! {
    /// How a packet reaches a real server.
    #[derive(Default)]
    Forward, "forwarding method" {
        /// Masquerading: destination rewritten to the RS (ipvsadm -m).
        #[default]
        Nat => "nat",
        /// Full NAT: source rewritten to a local address too.
        FullNat => "fullnat",
        /// Direct routing: only the MAC changes (ipvsadm -g).
        Dr => "dr",
        /// IP-in-IP tunnelling (ipvsadm -i).
        Tun => "tun",
    }
}

impl Forward {
    /// The ipvsadm `-L` name of the method (ferrovs adds `FullNat`).
    pub fn ipvsadm_name(self) -> &'static str {
        match self {
            Forward::Nat => "Masq",
            Forward::FullNat => "FullNat",
            Forward::Dr => "Route",
            Forward::Tun => "Tunnel",
        }
    }
}

keyword_enum! {
    /// How a TUN real's packets are encapsulated (ipvsadm --tun-type).
    #[derive(Default)]
    TunType, "tunnel type" {
        /// IPv4 in IPv4 (protocol 4).
        #[default]
        Ipip => "ipip",
        /// Generic UDP Encapsulation to the real's `tun_port`.
        Gue => "gue",
        /// GRE (protocol 47).
        Gre => "gre",
    }
}

keyword_enum! {
    /// The checksum of a GUE or GRE tunnel (ipvsadm --tun-nocsum,
    /// --tun-csum, --tun-remcsum).
    #[derive(Default)]
    TunFlags, "tunnel checksum" {
        /// No checksum (UDP checksum 0, GRE without the C bit).
        #[default]
        Nocsum => "nocsum",
        /// UDP checksum filled, or GRE checksum present.
        Csum => "csum",
        /// GUE remote checksum offload.
        Remcsum => "remcsum",
    }
}

keyword_enum! {
    /// Whether a port steers FullNAT replies to their owner's queue with
    /// rte_flow rules (instead of the inter-core redirect rings).
    #[derive(Default)]
    FlowSteering, "flow_steering mode" {
        /// Try; fall back to the rings when the device refuses.
        #[default]
        Auto => "auto",
        /// Never try: the rings carry every reply to another core.
        Off => "off",
        /// Refuse to start when the device refuses the rules.
        Required => "required",
    }
}

keyword_enum! {
    /// How a port's kernel twin is made (`ports[].host_driver`).
    #[derive(Default)]
    HostDriver, "host_driver" {
        /// DPDK's TAP PMD: works wherever /dev/net/tun does.
        #[default]
        Tap => "tap",
        /// virtio-user over /dev/vhost-net: the kernel moves the frames
        /// (vhost), so the host-path thread copies less.
        VirtioUser => "virtio_user",
    }
}

impl HostDriver {
    pub fn is_tap(&self) -> bool {
        *self == HostDriver::Tap
    }
}

impl FlowSteering {
    pub fn is_auto(&self) -> bool {
        *self == FlowSteering::Auto
    }
}

keyword_enum! {
    /// Scheduler flags (ipvsadm -b). IPVS keeps three flag bits per
    /// service; sh and mh name the first two, and every scheduler takes
    /// the generic names (with no effect where the scheduler has no use
    /// for them, as in the kernel).
    SchedFlag, "scheduler flag" {
        ShFallback => "sh-fallback",
        ShPort => "sh-port",
        MhFallback => "mh-fallback",
        MhPort => "mh-port",
        Flag1 => "flag-1",
        Flag2 => "flag-2",
        Flag3 => "flag-3",
    }
}

impl SchedFlag {
    /// The scheduler a named flag belongs to (`None` for `flag-N`).
    pub fn scheduler(self) -> Option<Scheduler> {
        match self {
            SchedFlag::ShFallback | SchedFlag::ShPort => Some(Scheduler::Sh),
            SchedFlag::MhFallback | SchedFlag::MhPort => Some(Scheduler::Mh),
            SchedFlag::Flag1 | SchedFlag::Flag2 | SchedFlag::Flag3 => None,
        }
    }

    /// The IPVS flag bit, 1..=3 (`IP_VS_SVC_F_SCHED1..3`).
    pub fn bit(self) -> u8 {
        match self {
            SchedFlag::ShFallback | SchedFlag::MhFallback | SchedFlag::Flag1 => 1,
            SchedFlag::ShPort | SchedFlag::MhPort | SchedFlag::Flag2 => 2,
            SchedFlag::Flag3 => 3,
        }
    }

    /// The one name a flag bit has under `sched`: sh and mh name bits 1
    /// and 2, everything else is `flag-N`.
    pub fn canonical(sched: Scheduler, bit: u8) -> Option<SchedFlag> {
        Some(match (sched, bit) {
            (Scheduler::Sh, 1) => SchedFlag::ShFallback,
            (Scheduler::Sh, 2) => SchedFlag::ShPort,
            (Scheduler::Mh, 1) => SchedFlag::MhFallback,
            (Scheduler::Mh, 2) => SchedFlag::MhPort,
            (_, 1) => SchedFlag::Flag1,
            (_, 2) => SchedFlag::Flag2,
            (_, 3) => SchedFlag::Flag3,
            _ => return None,
        })
    }

    /// True when ipvsadm names this flag in its listings under `sched`
    /// (`print_sched_flags`: sh and mh show only their own two flags).
    pub fn listed_with(self, sched: Scheduler) -> bool {
        match sched {
            Scheduler::Sh | Scheduler::Mh => self.scheduler() == Some(sched),
            _ => self.scheduler().is_none(),
        }
    }
}

/// An inclusive range of ports, written `8000-8010`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub fn single(port: u16) -> PortRange {
        PortRange {
            first: port,
            last: port,
        }
    }

    pub fn contains(&self, port: u16) -> bool {
        self.first <= port && port <= self.last
    }

    /// The lowest port present in both ranges.
    pub fn overlap(&self, other: &PortRange) -> Option<u16> {
        let first = self.first.max(other.first);
        (first <= self.last.min(other.last)).then_some(first)
    }
}

impl FromStr for PortRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("invalid port range {s:?} (expected first-last, e.g. \"8000-8010\")");
        let (first, last) = s.split_once('-').ok_or_else(bad)?;
        let first: u16 = first.trim().parse().map_err(|_| bad())?;
        let last: u16 = last.trim().parse().map_err(|_| bad())?;
        if first > last {
            return Err(format!("invalid port range {s:?} (first port above last)"));
        }
        Ok(PortRange { first, last })
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

/// The `ports:` of a multi-port service: a list (`[80, 443]`) or a range
/// (`"8000-8010"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServicePorts {
    List(Vec<u16>),
    Range(PortRange),
}

impl ServicePorts {
    /// The ports as ranges (one single-port range per list entry).
    pub fn ranges(&self) -> Vec<PortRange> {
        match self {
            ServicePorts::List(ports) => ports.iter().map(|p| PortRange::single(*p)).collect(),
            ServicePorts::Range(r) => vec![*r],
        }
    }
}

impl Serialize for ServicePorts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ServicePorts::List(ports) => ports.serialize(s),
            ServicePorts::Range(r) => s.collect_str(r),
        }
    }
}

impl<'de> Deserialize<'de> for ServicePorts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ServicePorts;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of ports or a range \"first-last\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ServicePorts, E> {
                v.parse().map(ServicePorts::Range).map_err(E::custom)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ServicePorts, A::Error> {
                let mut ports = Vec::new();
                while let Some(p) = seq.next_element::<u16>()? {
                    ports.push(p);
                }
                Ok(ServicePorts::List(ports))
            }
        }
        d.deserialize_any(V)
    }
}

serde_via_str!(PortRange, "a port range first-last");
