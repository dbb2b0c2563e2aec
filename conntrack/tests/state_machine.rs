//! Every transition of the INPUT, OUTPUT and INPUT-ONLY tables (normal and
//! secure_tcp), written out per state from the kernel's ip_vs_proto_tcp.c tables
//! (transposed: one line per current state, columns = syn fin ack rst).

use conntrack::{next_tcp_state, FlagClass, StateTable, TcpFlags, TcpState};

const NORMAL: &str = "
INPUT
NONE        SYN_RECV    CLOSE       ESTABLISHED CLOSE
ESTABLISHED ESTABLISHED CLOSE_WAIT  ESTABLISHED CLOSE
SYN_SENT    ESTABLISHED SYN_SENT    SYN_SENT    CLOSE
SYN_RECV    SYN_RECV    TIME_WAIT   ESTABLISHED SYN_RECV
FIN_WAIT    SYN_RECV    TIME_WAIT   FIN_WAIT    CLOSE
TIME_WAIT   SYN_RECV    TIME_WAIT   TIME_WAIT   CLOSE
CLOSE       SYN_RECV    CLOSE       CLOSE       CLOSE
CLOSE_WAIT  SYN_RECV    CLOSE_WAIT  CLOSE_WAIT  CLOSE
LAST_ACK    SYN_RECV    LAST_ACK    CLOSE       LAST_ACK
LISTEN      SYN_RECV    LISTEN      LISTEN      LISTEN
SYNACK      SYN_RECV    TIME_WAIT   ESTABLISHED SYN_RECV
OUTPUT
NONE        SYN_SENT    TIME_WAIT   ESTABLISHED CLOSE
ESTABLISHED ESTABLISHED FIN_WAIT    ESTABLISHED CLOSE
SYN_SENT    SYN_SENT    SYN_SENT    SYN_SENT    SYN_SENT
SYN_RECV    SYN_RECV    TIME_WAIT   ESTABLISHED CLOSE
FIN_WAIT    SYN_SENT    FIN_WAIT    FIN_WAIT    CLOSE
TIME_WAIT   SYN_SENT    TIME_WAIT   TIME_WAIT   TIME_WAIT
CLOSE       SYN_SENT    CLOSE       CLOSE       CLOSE
CLOSE_WAIT  SYN_SENT    TIME_WAIT   CLOSE_WAIT  CLOSE
LAST_ACK    SYN_SENT    LAST_ACK    LAST_ACK    CLOSE
LISTEN      LISTEN      LISTEN      ESTABLISHED CLOSE
SYNACK      SYN_RECV    TIME_WAIT   ESTABLISHED CLOSE
INPUT_ONLY
NONE        SYN_RECV    CLOSE       ESTABLISHED CLOSE
ESTABLISHED ESTABLISHED FIN_WAIT    ESTABLISHED CLOSE
SYN_SENT    ESTABLISHED SYN_SENT    SYN_SENT    CLOSE
SYN_RECV    SYN_RECV    TIME_WAIT   ESTABLISHED SYN_RECV
FIN_WAIT    SYN_RECV    FIN_WAIT    FIN_WAIT    CLOSE
TIME_WAIT   SYN_RECV    TIME_WAIT   TIME_WAIT   CLOSE
CLOSE       SYN_RECV    CLOSE       CLOSE       CLOSE
CLOSE_WAIT  SYN_RECV    CLOSE_WAIT  CLOSE_WAIT  CLOSE
LAST_ACK    SYN_RECV    LAST_ACK    CLOSE       LAST_ACK
LISTEN      SYN_RECV    LISTEN      LISTEN      LISTEN
SYNACK      SYN_RECV    TIME_WAIT   ESTABLISHED CLOSE
";

const SECURE: &str = "
INPUT
NONE        SYN_RECV    CLOSE       ESTABLISHED CLOSE
ESTABLISHED ESTABLISHED CLOSE_WAIT  ESTABLISHED CLOSE
SYN_SENT    ESTABLISHED SYN_SENT    SYN_SENT    CLOSE
SYN_RECV    SYN_RECV    TIME_WAIT   SYN_RECV    SYN_RECV
FIN_WAIT    SYN_RECV    TIME_WAIT   FIN_WAIT    CLOSE
TIME_WAIT   SYN_RECV    TIME_WAIT   TIME_WAIT   CLOSE
CLOSE       SYN_RECV    CLOSE       CLOSE       CLOSE
CLOSE_WAIT  SYN_RECV    CLOSE_WAIT  CLOSE_WAIT  CLOSE
LAST_ACK    SYN_RECV    LAST_ACK    CLOSE       LAST_ACK
LISTEN      SYN_RECV    LISTEN      LISTEN      LISTEN
SYNACK      SYNACK      SYNACK      SYNACK      CLOSE
OUTPUT
NONE        SYN_SENT    TIME_WAIT   ESTABLISHED CLOSE
ESTABLISHED ESTABLISHED FIN_WAIT    ESTABLISHED CLOSE
SYN_SENT    SYN_SENT    SYN_SENT    SYN_SENT    SYN_SENT
SYN_RECV    SYNACK      TIME_WAIT   ESTABLISHED CLOSE
FIN_WAIT    SYN_SENT    FIN_WAIT    FIN_WAIT    CLOSE
TIME_WAIT   SYN_SENT    TIME_WAIT   TIME_WAIT   TIME_WAIT
CLOSE       SYN_SENT    CLOSE       CLOSE       CLOSE
CLOSE_WAIT  SYN_SENT    TIME_WAIT   CLOSE_WAIT  CLOSE
LAST_ACK    SYN_SENT    LAST_ACK    LAST_ACK    CLOSE
LISTEN      LISTEN      LISTEN      ESTABLISHED CLOSE
SYNACK      SYNACK      TIME_WAIT   ESTABLISHED CLOSE
INPUT_ONLY
NONE        SYNACK      CLOSE       ESTABLISHED CLOSE
ESTABLISHED ESTABLISHED FIN_WAIT    ESTABLISHED CLOSE
SYN_SENT    ESTABLISHED SYN_SENT    SYN_SENT    CLOSE
SYN_RECV    SYN_RECV    TIME_WAIT   ESTABLISHED SYN_RECV
FIN_WAIT    SYNACK      FIN_WAIT    FIN_WAIT    CLOSE
TIME_WAIT   SYNACK      TIME_WAIT   TIME_WAIT   CLOSE
CLOSE       SYNACK      CLOSE       CLOSE       CLOSE
CLOSE_WAIT  SYNACK      CLOSE_WAIT  CLOSE_WAIT  CLOSE
LAST_ACK    SYNACK      LAST_ACK    CLOSE       LAST_ACK
LISTEN      SYNACK      LISTEN      LISTEN      LISTEN
SYNACK      SYNACK      TIME_WAIT   ESTABLISHED CLOSE
";

/// Typical flag bytes for each class, including extra bits that must not matter.
fn flag_samples(class: FlagClass) -> Vec<TcpFlags> {
    let (f, s, r, p, a) = (
        TcpFlags::FIN,
        TcpFlags::SYN,
        TcpFlags::RST,
        TcpFlags::PSH,
        TcpFlags::ACK,
    );
    let bytes: Vec<u8> = match class {
        FlagClass::Syn => vec![s, s | a, s | f, s | f | a | p],
        FlagClass::Fin => vec![f, f | a, f | a | p],
        FlagClass::Ack => vec![a, a | p, a | 0x20 | 0x40 | 0x80],
        FlagClass::Rst => vec![r, r | a, r | s, r | s | f | a],
    };
    bytes.into_iter().map(TcpFlags).collect()
}

fn check(text: &str, secure: bool) -> usize {
    let mut table = StateTable::Input;
    let mut seen = 0;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line {
            "INPUT" => table = StateTable::Input,
            "OUTPUT" => table = StateTable::Output,
            "INPUT_ONLY" => table = StateTable::InputOnly,
            _ => {
                let cols: Vec<&str> = line.split_whitespace().collect();
                assert_eq!(cols.len(), 5, "{line}");
                let from = TcpState::from_name(cols[0]).expect("state name");
                for (class, want) in FlagClass::ALL.into_iter().zip(&cols[1..]) {
                    let want = TcpState::from_name(want).expect("state name");
                    for flags in flag_samples(class) {
                        let got = next_tcp_state(secure, table, from, flags);
                        assert_eq!(
                            got,
                            want,
                            "secure={secure} {table:?} {} + {class:?} ({:#04x})",
                            from.name(),
                            flags.0
                        );
                    }
                    seen += 1;
                }
            }
        }
    }
    seen
}

#[test]
fn normal_tables_every_transition() {
    assert_eq!(check(NORMAL, false), 3 * 11 * 4);
}

#[test]
fn secure_tcp_tables_every_transition() {
    assert_eq!(check(SECURE, true), 3 * 11 * 4);
}

#[test]
fn flag_precedence_is_rst_syn_fin_ack() {
    let c = |b: u8| TcpFlags(b).class();
    assert_eq!(
        c(TcpFlags::RST | TcpFlags::SYN | TcpFlags::FIN | TcpFlags::ACK),
        Some(FlagClass::Rst)
    );
    assert_eq!(
        c(TcpFlags::SYN | TcpFlags::FIN | TcpFlags::ACK),
        Some(FlagClass::Syn)
    );
    assert_eq!(c(TcpFlags::FIN | TcpFlags::ACK), Some(FlagClass::Fin));
    assert_eq!(c(TcpFlags::ACK | TcpFlags::PSH), Some(FlagClass::Ack));
    assert_eq!(c(TcpFlags::PSH), None);
    assert_eq!(c(0), None);
}

#[test]
fn segment_without_known_flags_goes_to_close() {
    for table in [StateTable::Input, StateTable::Output, StateTable::InputOnly] {
        for s in TcpState::ALL {
            for secure in [false, true] {
                assert_eq!(
                    next_tcp_state(secure, table, s, TcpFlags(TcpFlags::PSH)),
                    TcpState::Close
                );
                assert_eq!(
                    next_tcp_state(secure, table, s, TcpFlags(0)),
                    TcpState::Close
                );
            }
        }
    }
}

#[test]
fn active_states_and_names() {
    let active: Vec<&str> = TcpState::ALL
        .into_iter()
        .filter(|s| s.is_active())
        .map(TcpState::name)
        .collect();
    assert_eq!(active, ["ESTABLISHED", "SYN_SENT", "SYN_RECV", "SYNACK"]);
    let names: Vec<&str> = TcpState::ALL.into_iter().map(TcpState::name).collect();
    assert_eq!(
        names.join(" "),
        "NONE ESTABLISHED SYN_SENT SYN_RECV FIN_WAIT TIME_WAIT CLOSE CLOSE_WAIT LAST_ACK LISTEN SYNACK"
    );
    for (i, s) in TcpState::ALL.into_iter().enumerate() {
        assert_eq!(s as usize, i);
    }
}

#[test]
fn new_connections_only_on_syn_without_rst() {
    assert!(TcpFlags(TcpFlags::SYN).starts_connection());
    assert!(TcpFlags(TcpFlags::SYN | TcpFlags::ACK).starts_connection());
    assert!(!TcpFlags(TcpFlags::SYN | TcpFlags::RST).starts_connection());
    assert!(!TcpFlags(TcpFlags::ACK).starts_connection());
}
