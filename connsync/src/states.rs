//! Protocol numbers and IPVS state numbers (include/net/ip_vs.h enums), and
//! how many states the receiver accepts per protocol.

/// `IPPROTO_IP`: the protocol of a fwmark persistence template.
pub const PROTO_IP: u8 = 0;
/// `IPPROTO_TCP`.
pub const PROTO_TCP: u8 = 6;
/// `IPPROTO_UDP`.
pub const PROTO_UDP: u8 = 17;
/// `IPPROTO_ESP`.
pub const PROTO_ESP: u8 = 50;
/// `IPPROTO_AH`.
pub const PROTO_AH: u8 = 51;
/// `IPPROTO_SCTP`.
pub const PROTO_SCTP: u8 = 132;

/// IPVS TCP states (enum `IP_VS_TCP_S_*`): the numbers on the wire.
pub mod tcp_state {
    pub const NONE: u16 = 0;
    pub const ESTABLISHED: u16 = 1;
    pub const SYN_SENT: u16 = 2;
    pub const SYN_RECV: u16 = 3;
    pub const FIN_WAIT: u16 = 4;
    pub const TIME_WAIT: u16 = 5;
    pub const CLOSE: u16 = 6;
    pub const CLOSE_WAIT: u16 = 7;
    pub const LAST_ACK: u16 = 8;
    pub const LISTEN: u16 = 9;
    pub const SYNACK: u16 = 10;
    /// `IP_VS_TCP_S_LAST`: the protocol's `num_states`.
    pub const LAST: u16 = 11;

    /// The kernel's name for a state (ip_vs_proto_tcp.c tcp_state_name_table),
    /// as ipvsadm -lc prints it; `None` past LAST.
    pub fn name(state: u16) -> Option<&'static str> {
        const NAMES: [&str; 11] = [
            "NONE",
            "ESTABLISHED",
            "SYN_SENT",
            "SYN_RECV",
            "FIN_WAIT",
            "TIME_WAIT",
            "CLOSE",
            "CLOSE_WAIT",
            "LAST_ACK",
            "LISTEN",
            "SYNACK",
        ];
        NAMES.get(usize::from(state)).copied()
    }
}

/// IPVS UDP has one state, `IP_VS_UDP_S_NORMAL`.
pub mod udp_state {
    pub const NORMAL: u16 = 0;
    pub const LAST: u16 = 1;
}

/// IPVS SCTP states (enum `ip_vs_sctp_states`).
pub mod sctp_state {
    pub const NONE: u16 = 0;
    pub const INIT1: u16 = 1;
    pub const INIT: u16 = 2;
    pub const COOKIE_SENT: u16 = 3;
    pub const COOKIE_REPLIED: u16 = 4;
    pub const COOKIE_WAIT: u16 = 5;
    pub const COOKIE: u16 = 6;
    pub const COOKIE_ECHOED: u16 = 7;
    pub const ESTABLISHED: u16 = 8;
    pub const SHUTDOWN_SENT: u16 = 9;
    pub const SHUTDOWN_RECEIVED: u16 = 10;
    pub const SHUTDOWN_ACK_SENT: u16 = 11;
    pub const REJECTED: u16 = 12;
    pub const CLOSED: u16 = 13;
    pub const LAST: u16 = 14;
}

/// Persistence-template states (`IP_VS_CTPL_S_*`): a template becomes
/// ASSURED once a controlled connection is (ip_vs_control_assure_ct).
pub mod tpl_state {
    pub const NONE: u16 = 0;
    pub const ASSURED: u16 = 1;
    pub const LAST: u16 = 2;
}

/// `num_states` of the IPVS protocol handler for `protocol`, or `None` when
/// IPVS has no handler (ip_vs_proto_get fails): TCP, UDP, SCTP, AH and ESP are
/// the ones ip_vs_protocol_init registers.
pub fn num_states(protocol: u8) -> Option<u16> {
    match protocol {
        PROTO_TCP => Some(tcp_state::LAST),
        PROTO_UDP => Some(udp_state::LAST),
        PROTO_SCTP => Some(sctp_state::LAST),
        PROTO_AH | PROTO_ESP => Some(1),
        _ => None,
    }
}
