//! Per-state idle timeouts, in seconds, as `ipvsadm --set` and the kernel keep them.

use crate::state::TcpState;
use crate::Millis;

/// Idle timeouts (seconds). A connection expires this long after its last packet,
/// using the timeout of the state that packet left it in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Indexed by `TcpState as usize`.
    pub tcp: [u32; TcpState::COUNT],
    pub udp: u32,
}

impl Default for Timeouts {
    /// The kernel's defaults (ip_vs_proto_tcp.c / ip_vs_proto_udp.c).
    fn default() -> Self {
        let mut tcp = [0u32; TcpState::COUNT];
        for s in TcpState::ALL {
            tcp[s as usize] = match s {
                TcpState::None => 2,
                TcpState::Established => 15 * 60,
                TcpState::SynSent => 2 * 60,
                TcpState::SynRecv => 60,
                TcpState::FinWait => 2 * 60,
                TcpState::TimeWait => 2 * 60,
                TcpState::Close => 10,
                TcpState::CloseWait => 60,
                TcpState::LastAck => 30,
                TcpState::Listen => 2 * 60,
                TcpState::SynAck => 120,
            };
        }
        Timeouts { tcp, udp: 5 * 60 }
    }
}

impl Timeouts {
    /// Timeout of a TCP state, in seconds.
    pub fn tcp_state(&self, s: TcpState) -> u32 {
        self.tcp[s as usize]
    }

    pub fn set_tcp_state(&mut self, s: TcpState, secs: u32) {
        self.tcp[s as usize] = secs;
    }

    /// `ipvsadm --set tcp tcpfin udp`: ESTABLISHED, FIN_WAIT and UDP; 0 keeps a value.
    pub fn set_tcp_tcpfin_udp(&mut self, tcp: u32, tcpfin: u32, udp: u32) {
        if tcp != 0 {
            self.set_tcp_state(TcpState::Established, tcp);
        }
        if tcpfin != 0 {
            self.set_tcp_state(TcpState::FinWait, tcpfin);
        }
        if udp != 0 {
            self.udp = udp;
        }
    }

    /// What `ipvsadm --timeout` prints: (tcp, tcpfin, udp).
    pub fn tcp_tcpfin_udp(&self) -> (u32, u32, u32) {
        (
            self.tcp_state(TcpState::Established),
            self.tcp_state(TcpState::FinWait),
            self.udp,
        )
    }
}

/// Seconds to milliseconds, for arming timers.
#[inline]
pub(crate) fn secs_to_ms(secs: u32) -> Millis {
    Millis::from(secs) * 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_ipvs() {
        let t = Timeouts::default();
        let expect = [
            ("NONE", 2),
            ("ESTABLISHED", 900),
            ("SYN_SENT", 120),
            ("SYN_RECV", 60),
            ("FIN_WAIT", 120),
            ("TIME_WAIT", 120),
            ("CLOSE", 10),
            ("CLOSE_WAIT", 60),
            ("LAST_ACK", 30),
            ("LISTEN", 120),
            ("SYNACK", 120),
        ];
        for (name, secs) in expect {
            let s = TcpState::from_name(name).expect("known name");
            assert_eq!(t.tcp_state(s), secs, "{name}");
        }
        assert_eq!(t.udp, 300);
        assert_eq!(t.tcp_tcpfin_udp(), (900, 120, 300));
    }

    #[test]
    fn set_keeps_zero_fields() {
        let mut t = Timeouts::default();
        t.set_tcp_tcpfin_udp(100, 0, 7);
        assert_eq!(t.tcp_tcpfin_udp(), (100, 120, 7));
        t.set_tcp_tcpfin_udp(0, 5, 0);
        assert_eq!(t.tcp_tcpfin_udp(), (100, 5, 7));
        // Other states are untouched.
        assert_eq!(t.tcp_state(TcpState::TimeWait), 120);
    }
}
