//! Per-core counters. One writer (the worker that owns the core), any number of
//! readers (control plane, metrics): plain relaxed atomics written with
//! load+store, which compiles to ordinary moves on x86 — no locked instruction.
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::wire::WireError;

/// Why a frame was dropped. Every drop on the packet path names one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum DropReason {
    EmptyFrame,
    TruncatedEthernet,
    NotForUs,
    UnknownEtherType,
    ArpMalformed,
    ArpNotForUs,
    TruncatedIp,
    BadIpVersion,
    BadIhl,
    BadTotalLength,
    Fragment,
    TruncatedL4,
    BadDataOffset,
    BadUdpLength,
    UnsupportedProtocol,
    LocalUnsupported,
    NoService,
    NoConnection,
    NoDestination,
    ConnTableFull,
    NoRoute,
    TtlExceeded,
    NeighborQueueFull,
    NeighborUnresolved,
    MultiSegment,
    TxRefused,
    AllocFailed,
    IcmpUnsupported,
    TupleCollision,
    ModeUnsupported,
    RedirectFull,
    LocalPortsExhausted,
    TunnelTooBig,
    /// For an address of a VRRP instance that is not MASTER here.
    VrrpStandby,
}

impl DropReason {
    pub const ALL: [DropReason; 34] = [
        DropReason::EmptyFrame,
        DropReason::TruncatedEthernet,
        DropReason::NotForUs,
        DropReason::UnknownEtherType,
        DropReason::ArpMalformed,
        DropReason::ArpNotForUs,
        DropReason::TruncatedIp,
        DropReason::BadIpVersion,
        DropReason::BadIhl,
        DropReason::BadTotalLength,
        DropReason::Fragment,
        DropReason::TruncatedL4,
        DropReason::BadDataOffset,
        DropReason::BadUdpLength,
        DropReason::UnsupportedProtocol,
        DropReason::LocalUnsupported,
        DropReason::NoService,
        DropReason::NoConnection,
        DropReason::NoDestination,
        DropReason::ConnTableFull,
        DropReason::NoRoute,
        DropReason::TtlExceeded,
        DropReason::NeighborQueueFull,
        DropReason::NeighborUnresolved,
        DropReason::MultiSegment,
        DropReason::TxRefused,
        DropReason::AllocFailed,
        DropReason::IcmpUnsupported,
        DropReason::TupleCollision,
        DropReason::ModeUnsupported,
        DropReason::RedirectFull,
        DropReason::LocalPortsExhausted,
        DropReason::TunnelTooBig,
        DropReason::VrrpStandby,
    ];
    pub const COUNT: usize = Self::ALL.len();

    /// Label used in reports and metrics.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::EmptyFrame => "empty_frame",
            DropReason::TruncatedEthernet => "truncated_ethernet",
            DropReason::NotForUs => "not_for_us",
            DropReason::UnknownEtherType => "unknown_ethertype",
            DropReason::ArpMalformed => "arp_malformed",
            DropReason::ArpNotForUs => "arp_not_for_us",
            DropReason::TruncatedIp => "truncated_ip",
            DropReason::BadIpVersion => "bad_ip_version",
            DropReason::BadIhl => "bad_ihl",
            DropReason::BadTotalLength => "bad_total_length",
            DropReason::Fragment => "fragment",
            DropReason::TruncatedL4 => "truncated_l4",
            DropReason::BadDataOffset => "bad_data_offset",
            DropReason::BadUdpLength => "bad_udp_length",
            DropReason::UnsupportedProtocol => "unsupported_protocol",
            DropReason::LocalUnsupported => "local_unsupported",
            DropReason::NoService => "no_service",
            DropReason::NoConnection => "no_connection",
            DropReason::NoDestination => "no_destination",
            DropReason::ConnTableFull => "conn_table_full",
            DropReason::NoRoute => "no_route",
            DropReason::TtlExceeded => "ttl_exceeded",
            DropReason::NeighborQueueFull => "neighbor_queue_full",
            DropReason::NeighborUnresolved => "neighbor_unresolved",
            DropReason::MultiSegment => "multi_segment",
            DropReason::TxRefused => "tx_refused",
            DropReason::AllocFailed => "alloc_failed",
            DropReason::IcmpUnsupported => "icmp_unsupported",
            DropReason::TupleCollision => "tuple_collision",
            DropReason::ModeUnsupported => "mode_unsupported",
            DropReason::RedirectFull => "redirect_full",
            DropReason::LocalPortsExhausted => "local_ports_exhausted",
            DropReason::TunnelTooBig => "tunnel_too_big",
            DropReason::VrrpStandby => "vrrp_standby",
        }
    }

    /// Maps a wire parse error at the IP layer.
    pub fn from_ip_error(e: WireError) -> Self {
        match e {
            WireError::BadIhl => DropReason::BadIhl,
            WireError::BadTotalLength => DropReason::BadTotalLength,
            WireError::Fragment => DropReason::Fragment,
            WireError::BadVersion => DropReason::BadIpVersion,
            _ => DropReason::TruncatedIp,
        }
    }

    /// Maps a wire parse error at the TCP/UDP layer.
    pub fn from_l4_error(e: WireError) -> Self {
        match e {
            WireError::BadDataOffset => DropReason::BadDataOffset,
            WireError::BadLength => DropReason::BadUdpLength,
            _ => DropReason::TruncatedL4,
        }
    }
}

/// A counter with a single writer.
#[derive(Default, Debug)]
#[repr(transparent)]
pub struct Counter(AtomicU64);

impl Counter {
    #[inline]
    pub fn add(&self, n: u64) {
        // Single writer: a plain read-modify-write without a locked instruction.
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// Counters of one core, padded so two cores never share a cache line.
#[derive(Debug)]
#[repr(align(64))]
pub struct CoreStats {
    pub rx_packets: Counter,
    pub rx_bytes: Counter,
    pub tx_packets: Counter,
    pub tx_bytes: Counter,
    pub redirected: Counter,
    /// Frames the established fast path left to the full path (new
    /// connections, state changes, ARP, ICMP, hops not remembered yet ...).
    pub full_path: Counter,
    pub conns_created: Counter,
    /// Closing entries a new SYN on their tuple expired (port reuse).
    pub conns_reused: Counter,
    pub arp_replies: Counter,
    pub arp_requests_sent: Counter,
    pub icmp_echo_replies: Counter,
    pub icmp_frag_needed_sent: Counter,
    /// Gratuitous ARPs sent for VRRP instances becoming MASTER.
    pub garps_sent: Counter,
    /// Connections queued for the sync backups.
    pub sync_sent: Counter,
    /// Connections a sync master sent, installed here.
    pub sync_installed: Counter,
    /// ... and refused, by `SyncRefusal`.
    pub sync_refused: [Counter; 5],
    pub drops: [Counter; DropReason::COUNT],
}

impl Default for CoreStats {
    fn default() -> Self {
        CoreStats {
            rx_packets: Counter::default(),
            rx_bytes: Counter::default(),
            tx_packets: Counter::default(),
            tx_bytes: Counter::default(),
            redirected: Counter::default(),
            full_path: Counter::default(),
            conns_created: Counter::default(),
            conns_reused: Counter::default(),
            arp_replies: Counter::default(),
            arp_requests_sent: Counter::default(),
            icmp_echo_replies: Counter::default(),
            icmp_frag_needed_sent: Counter::default(),
            garps_sent: Counter::default(),
            sync_sent: Counter::default(),
            sync_installed: Counter::default(),
            sync_refused: std::array::from_fn(|_| Counter::default()),
            drops: std::array::from_fn(|_| Counter::default()),
        }
    }
}

impl CoreStats {
    #[inline]
    pub fn count_drop(&self, r: DropReason) {
        self.drops[r as usize].add(1);
    }
    pub fn drops_of(&self, r: DropReason) -> u64 {
        self.drops[r as usize].get()
    }
    pub fn total_drops(&self) -> u64 {
        self.drops.iter().map(Counter::get).sum()
    }
}

/// Traffic counters of one service or one real server on one core.
#[derive(Default, Debug)]
pub struct TrafficStats {
    pub conns: Counter,
    pub in_packets: Counter,
    pub in_bytes: Counter,
    pub out_packets: Counter,
    pub out_bytes: Counter,
}

impl TrafficStats {
    #[inline]
    pub fn count_in(&self, bytes: usize) {
        self.in_packets.add(1);
        self.in_bytes.add(bytes as u64);
    }
    #[inline]
    pub fn count_out(&self, bytes: usize) {
        self.out_packets.add(1);
        self.out_bytes.add(bytes as u64);
    }
}
