//! Why received packets are dropped, and the per-instance counters.

/// Why a received packet was dropped. The metrics label is [`RxDrop::name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum RxDrop {
    /// IP TTL is not 255 on a multicast instance (RFC 5798 7.1: the packet may
    /// have been forwarded from off-link).
    #[error("IP TTL is not 255")]
    Ttl,
    /// VRRP version unknown, or not the one this instance speaks.
    #[error("VRRP version differs from ours")]
    Version,
    /// VRRP type is not 1 (ADVERTISEMENT).
    #[error("VRRP type is not ADVERTISEMENT")]
    Type,
    /// Neither accepted checksum form matches.
    #[error("bad VRRP checksum")]
    Checksum,
    /// The VRRP message is shorter than its address count says.
    #[error("VRRP message truncated")]
    Length,
    /// Another virtual router's advertisement.
    #[error("VRID is not ours")]
    Vrid,
    /// v2 authentication type or password mismatch.
    #[error("v2 authentication mismatch")]
    Auth,
    /// v2 interval differs from ours (keepalived drops these), or a v3 interval of 0.
    #[error("advertisement interval mismatch")]
    Interval,
    /// Address list differs from ours and the sender is not the address owner.
    #[error("virtual address list differs from ours")]
    Addresses,
    /// Our own advertisement (source is our primary address), e.g. looped back.
    #[error("our own advertisement")]
    Own,
    /// Not a well-formed IPv4 packet carrying protocol 112.
    #[error("malformed IPv4 packet")]
    Malformed,
}

impl RxDrop {
    /// Every reason, in `as usize` order (the index into [`Stats::dropped`]).
    pub const ALL: [RxDrop; 11] = [
        RxDrop::Ttl,
        RxDrop::Version,
        RxDrop::Type,
        RxDrop::Checksum,
        RxDrop::Length,
        RxDrop::Vrid,
        RxDrop::Auth,
        RxDrop::Interval,
        RxDrop::Addresses,
        RxDrop::Own,
        RxDrop::Malformed,
    ];

    /// Metrics label.
    pub fn name(self) -> &'static str {
        match self {
            RxDrop::Ttl => "ttl",
            RxDrop::Version => "version",
            RxDrop::Type => "type",
            RxDrop::Checksum => "checksum",
            RxDrop::Length => "length",
            RxDrop::Vrid => "vrid",
            RxDrop::Auth => "auth",
            RxDrop::Interval => "interval",
            RxDrop::Addresses => "addresses",
            RxDrop::Own => "own",
            RxDrop::Malformed => "malformed",
        }
    }
}

/// Per-instance counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Counted by `Instance::note_sent`, i.e. adverts the runtime really sent.
    pub adverts_sent: u64,
    /// Adverts that passed every check (in any state).
    pub adverts_received: u64,
    /// Emitted `Action::Transition`s.
    pub transitions: u64,
    pub priority_zero_sent: u64,
    /// Accepted adverts with priority 0.
    pub priority_zero_received: u64,
    /// Drops, indexed by `RxDrop as usize`.
    pub dropped: [u64; 11],
}

impl Stats {
    /// Drops counted for one reason.
    pub fn drops(&self, why: RxDrop) -> u64 {
        self.dropped.get(why as usize).copied().unwrap_or(0)
    }

    pub(crate) fn count_drop(&mut self, why: RxDrop) {
        if let Some(n) = self.dropped.get_mut(why as usize) {
            *n += 1;
        }
    }
}
