//! Connection records and the values the table hands back.

use crate::state::TcpState;
use crate::template::TemplateId;
use crate::tuple::{Proto, Tuple};
use crate::wheel::NIL;
use crate::Millis;

/// What the dataplane knows when it creates a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewConn {
    /// client:cport -> vip:vport as received (Dir::In lookups match this).
    pub orig: Tuple,
    /// The RS's reply as it will arrive at the director: rs:rport -> client:cport
    /// (NAT) or rs:rport -> laddr:lport (FullNAT).
    pub reply: Tuple,
    /// Opaque indices owned by the caller (service slot, dest id).
    pub service: u32,
    pub dest: u32,
    /// DR/TUN: replies are never seen; the INPUT-ONLY table applies and the reply
    /// tuple is not indexed.
    pub input_only: bool,
    /// Caller's forwarding mode etc., stored and returned untouched.
    pub tag: u8,
}

/// Handle of a live connection in one `ConnTable`. It names a slot: once the
/// connection is removed or expired, the handle must not be used again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnId(pub(crate) u32);

impl ConnId {
    /// The slot number (stable while the connection lives), e.g. for logging.
    pub fn index(self) -> u32 {
        self.0
    }
}

pub(crate) const F_IN_USE: u8 = 1;
/// Kernel's NOOUTPUT: no reply seen (yet) for a DR/TUN connection.
pub(crate) const F_INPUT_ONLY: u8 = 2;
/// The reply tuple is in the index (not for DR/TUN, nor when it equals `orig`).
pub(crate) const F_REPLY_INDEXED: u8 = 4;

/// A connection as stored in the table. One cache line each, so a lookup's
/// tuple compare and the state update after it touch a single line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(align(64))]
pub struct Conn {
    pub orig: Tuple,
    pub reply: Tuple,
    pub service: u32,
    pub dest: u32,
    pub tag: u8,
    /// TCP state; UDP connections stay in `TcpState::None`.
    pub state: TcpState,
    /// When the connection expires unless another packet arrives.
    pub expires: Millis,
    pub(crate) template: u32,
    pub(crate) flags: u8,
    /// The state when the connection was last sent to the sync backups
    /// (the kernel's `cp->old_state`, set only when it is sent).
    pub(crate) synced: TcpState,
    /// Client-side packets seen (the kernel's `cp->in_pkts`, which decides
    /// when a connection is sent to the sync backups).
    pub(crate) in_pkts: u32,
    /// The caller's next-hop handle per direction (`Dir::In`, `Dir::Out`):
    /// the dataplane remembers here how a packet of this connection leaves,
    /// so an established packet skips the route and neighbour lookups. Zero
    /// when the connection is created; the table never reads it.
    pub hop: [u16; 2],
}

// One cache line: the lookup's compare and the fast path's update touch only it.
const _: () = assert!(std::mem::size_of::<Conn>() == 64);

impl Conn {
    /// A free slot's contents.
    pub(crate) const EMPTY: Conn = Conn {
        orig: Tuple::EMPTY,
        reply: Tuple::EMPTY,
        service: 0,
        dest: 0,
        tag: 0,
        state: TcpState::None,
        expires: 0,
        template: NIL,
        flags: 0,
        synced: TcpState::None,
        in_pkts: 0,
        hop: [0; 2],
    };

    pub(crate) fn from_new(c: &NewConn, expires: Millis) -> Self {
        Conn {
            orig: c.orig,
            reply: c.reply,
            service: c.service,
            dest: c.dest,
            tag: c.tag,
            state: TcpState::None,
            expires,
            template: NIL,
            flags: F_IN_USE | if c.input_only { F_INPUT_ONLY } else { 0 },
            synced: TcpState::None,
            in_pkts: 0,
            hop: [0; 2],
        }
    }

    pub fn proto(&self) -> Proto {
        self.orig.proto
    }

    /// Whether the connection counts as active for its RS (UDP never does).
    pub fn is_active(&self) -> bool {
        self.proto() == Proto::Tcp && self.state.is_active()
    }

    /// ipvsadm's state column ("UDP" for UDP connections).
    pub fn state_name(&self) -> &'static str {
        match self.proto() {
            Proto::Tcp => self.state.name(),
            Proto::Udp => "UDP",
        }
    }

    /// True while the connection is DR/TUN-style and no reply has been seen.
    pub fn input_only(&self) -> bool {
        self.flags & F_INPUT_ONLY != 0
    }

    /// The persistence template controlling this connection, if any.
    pub fn template(&self) -> Option<TemplateId> {
        (self.template != NIL).then_some(TemplateId(self.template))
    }

    /// Whether a new-connection SYN on this entry's tuple starts a new
    /// connection (the entry is expired and the SYN scheduled anew): IPVS's
    /// `is_new_conn_expected` with `conn_reuse_mode` 1, the kernel default. Only
    /// a TCP entry in TIME_WAIT or CLOSE that no persistence template controls.
    pub fn reuse_expected(&self) -> bool {
        self.proto() == Proto::Tcp
            && self.template == NIL
            && matches!(self.state, TcpState::TimeWait | TcpState::Close)
    }

    /// Milliseconds left before expiry (0 once due); `ipvsadm -Lnc`'s expire column.
    pub fn remaining(&self, now: Millis) -> Millis {
        self.expires.saturating_sub(now)
    }

    pub(crate) fn in_use(&self) -> bool {
        self.flags & F_IN_USE != 0
    }
}

/// A connection found for a packet, borrowed from its table to be updated in
/// place: read through `Deref`; only the deadline and the next-hop handles
/// change (the tuples stay, or the index would no longer find it).
pub struct ConnMut<'a>(pub(crate) &'a mut Conn);

impl ConnMut<'_> {
    /// Moves the deadline to `expires` when that is not earlier than the
    /// current one (a packet that keeps the state, with the state's timeout
    /// unchanged). An earlier deadline is refused (false): the timer wheel
    /// must then be told, which `ConnTable::update` does.
    #[inline]
    pub fn extend(&mut self, expires: Millis) -> bool {
        let later = expires >= self.0.expires;
        if later {
            self.0.expires = expires;
        }
        later
    }
}

impl std::ops::Deref for ConnMut<'_> {
    type Target = Conn;
    #[inline]
    fn deref(&self) -> &Conn {
        self.0
    }
}

/// A state change, for the caller's per-RS active/inactive counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    pub from: TcpState,
    pub to: TcpState,
    pub was_active: bool,
    pub is_active: bool,
}

impl Transition {
    /// True when the RS's counters must move one connection between columns.
    pub fn activity_changed(&self) -> bool {
        self.was_active != self.is_active
    }
}
