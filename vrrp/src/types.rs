//! Small shared vocabulary: versions, checksum forms, states, actions.

/// Monotonic milliseconds supplied by the caller (the crate never reads a clock).
pub type Millis = u64;

/// VRRP protocol version spoken by an instance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// RFC 3768: whole-second interval, optional simple-text password.
    V2,
    /// RFC 5798 / RFC 9568: centisecond interval, no authentication.
    V3,
}

impl Version {
    /// The value of the 4-bit version field.
    pub fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

/// Which v3 checksum to send (both are always accepted on receive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChecksumForm {
    /// Message plus the IPv4 pseudo-header (src, dst, zero, 112, VRRP length):
    /// what keepalived 2.2.7 always sends and requires, reading RFC 5798 5.2.8
    /// as applying to IPv4 too.
    PseudoHeader,
    /// Over the VRRP message only, as v2 does: RFC 9568 5.2.8 for IPv4, Cisco,
    /// Juniper, and keepalived's later `v3_checksum_as_v2`.
    Plain,
}

/// The state an instance asks for at start (keepalived `state MASTER|BACKUP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitialState {
    Master,
    Backup,
}

/// Instance state, as keepalived names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Init,
    Backup,
    Master,
    Fault,
}

impl State {
    /// The name keepalived prints (notify scripts, notify_fifo lines).
    pub fn name(self) -> &'static str {
        match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
        }
    }
}

/// What the runtime must do after a call into an [`crate::Instance`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send an advertisement with this priority now (to the group or every
    /// unicast peer); build its bytes with `Instance::advert_bytes`.
    SendAdvert { priority: u8 },
    /// The instance changed state; `from != to` always.
    Transition { from: State, to: State },
    /// Send one round of gratuitous ARPs for every address now (the runtime
    /// repeats each `garp_master_repeat` times).
    Garp,
}
