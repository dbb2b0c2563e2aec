//! The IPVS TCP state machine (net/netfilter/ipvs/ip_vs_proto_tcp.c semantics).
//!
//! IPVS does not follow TCP exactly: it only sees one flag class per segment
//! (RST > SYN > FIN > ACK) and the direction, and looks the next state up in one of
//! three tables: INPUT (client -> RS), OUTPUT (RS -> client) and INPUT-ONLY (DR/TUN,
//! where the director never sees the replies). A second set of tables is used when
//! the `secure_tcp` defense is on. The tables below hold the same transitions as the
//! current kernel; `TcpState` discriminants follow the kernel's state numbering so
//! a state indexes the tables directly.

/// Connection state as ipvsadm shows it. UDP connections stay in `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TcpState {
    None = 0,
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait = 4,
    TimeWait = 5,
    Close = 6,
    CloseWait = 7,
    LastAck = 8,
    Listen = 9,
    SynAck = 10,
}

impl TcpState {
    /// Number of states; the size of per-state arrays such as `Timeouts::tcp`.
    pub const COUNT: usize = 11;

    /// Every state in kernel order (index == discriminant).
    pub const ALL: [TcpState; TcpState::COUNT] = [
        TcpState::None,
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::SynAck,
    ];

    /// The name ipvsadm prints in `-Lnc`.
    pub fn name(self) -> &'static str {
        match self {
            TcpState::None => "NONE",
            TcpState::Established => "ESTABLISHED",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::Listen => "LISTEN",
            TcpState::SynAck => "SYNACK",
        }
    }

    /// Parses an ipvsadm state name (the inverse of `name`).
    pub fn from_name(s: &str) -> Option<Self> {
        TcpState::ALL.into_iter().find(|st| st.name() == s)
    }

    /// Whether a TCP connection in this state counts in the RS's ActiveConn column
    /// (the kernel's active-state table: the handshake states and ESTABLISHED).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            TcpState::Established | TcpState::SynSent | TcpState::SynRecv | TcpState::SynAck
        )
    }

    #[inline]
    fn index(self) -> usize {
        self as usize
    }
}

/// Raw TCP flags byte as carried in the header (FIN=1 SYN=2 RST=4 PSH=8 ACK=16).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;

    /// The single class IPVS sees in a segment: RST beats SYN beats FIN beats ACK.
    /// `None` when none of the four is set.
    pub fn class(self) -> Option<FlagClass> {
        if self.0 & Self::RST != 0 {
            Some(FlagClass::Rst)
        } else if self.0 & Self::SYN != 0 {
            Some(FlagClass::Syn)
        } else if self.0 & Self::FIN != 0 {
            Some(FlagClass::Fin)
        } else if self.0 & Self::ACK != 0 {
            Some(FlagClass::Ack)
        } else {
            None
        }
    }

    /// IPVS schedules a new TCP connection only for a SYN without RST.
    pub fn starts_connection(self) -> bool {
        self.0 & Self::SYN != 0 && self.0 & Self::RST == 0
    }

    /// A segment that opens a connection and nothing else (SYN without ACK,
    /// FIN or RST): IPVS's `is_new_conn`, the test for reusing a closing entry.
    #[inline]
    pub fn is_new_conn(self) -> bool {
        self.0 & (Self::SYN | Self::ACK | Self::FIN | Self::RST) == Self::SYN
    }
}

/// Row of a state table (the order matches the kernel tables).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagClass {
    Syn = 0,
    Fin = 1,
    Ack = 2,
    Rst = 3,
}

impl FlagClass {
    pub const ALL: [FlagClass; 4] = [
        FlagClass::Syn,
        FlagClass::Fin,
        FlagClass::Ack,
        FlagClass::Rst,
    ];
}

/// Which of the three tables applies to a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateTable {
    /// client -> director, replies are being seen
    Input = 0,
    /// RS -> director (reply)
    Output = 1,
    /// client -> director for a connection whose replies bypass the director (DR/TUN)
    InputOnly = 2,
}

// (No transition ever leads back to NONE, so it needs no short name.)
use TcpState::{
    Close as CL, CloseWait as CW, Established as ES, FinWait as FW, LastAck as LA, Listen as LI,
    SynAck as SA, SynRecv as SR, SynSent as SS, TimeWait as TW,
};

type Row = [TcpState; TcpState::COUNT];
type Table = [[Row; 4]; 3];

// Columns: NO ES SS SR FW TW CL CW LA LI SA; rows per table: syn fin ack rst.
const NORMAL: Table = [
    // INPUT
    [
        [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
        [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
    ],
    // OUTPUT
    [
        [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
        [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
        [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
    ],
    // INPUT-ONLY
    [
        [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
        [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
    ],
];

// The secure_tcp ("DoS defense") variant: half-open connections are parked in
// SYNACK and need a real reply before they become ESTABLISHED.
const SECURE: Table = [
    // INPUT
    [
        [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SA],
        [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, SA],
        [ES, ES, SS, SR, FW, TW, CL, CW, CL, LI, SA],
        [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
    ],
    // OUTPUT
    [
        [SS, ES, SS, SA, SS, SS, SS, SS, SS, LI, SA],
        [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
        [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
    ],
    // INPUT-ONLY
    [
        [SA, ES, ES, SR, SA, SA, SA, SA, SA, SA, SA],
        [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
        [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
        [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
    ],
];

/// Next state for a segment with `flags` in `table`, from `cur`.
///
/// A segment with none of RST/SYN/FIN/ACK moves the connection to CLOSE, as the
/// kernel does (its lookup falls back to CLOSE when no class matches).
pub fn next_tcp_state(secure: bool, table: StateTable, cur: TcpState, flags: TcpFlags) -> TcpState {
    match flags.class() {
        Some(class) => {
            let t = if secure { &SECURE } else { &NORMAL };
            t[table as usize][class as usize][cur.index()]
        }
        None => TcpState::Close,
    }
}
