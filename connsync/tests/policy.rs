//! SyncPolicy against ip_vs_sync_conn_needed's rules, as a table.

use connsync::tcp_state::*;
use connsync::*;

const TCP: u8 = PROTO_TCP;
const UDP: u8 = PROTO_UDP;

#[test]
fn table_with_defaults() {
    let p = SyncPolicy::default();
    assert_eq!(
        p,
        SyncPolicy {
            threshold: 3,
            period: 50
        }
    );
    #[rustfmt::skip]
    let cases: &[(&str, u8, u32, u16, u16, u32, bool)] = &[
        // what                                  proto flags        old          new          pkts  send
        ("TCP established, 1st packet",          TCP, 0,            ESTABLISHED, ESTABLISHED, 1,   false),
        ("TCP established, 2nd packet",          TCP, 0,            ESTABLISHED, ESTABLISHED, 2,   false),
        ("TCP established, 3rd packet",          TCP, 0,            ESTABLISHED, ESTABLISHED, 3,   true),
        ("TCP established, 4th packet",          TCP, 0,            ESTABLISHED, ESTABLISHED, 4,   false),
        ("TCP established, 52nd packet",         TCP, 0,            ESTABLISHED, ESTABLISHED, 52,  false),
        ("TCP established, 53rd packet",         TCP, 0,            ESTABLISHED, ESTABLISHED, 53,  true),
        ("TCP established, 103rd packet",        TCP, 0,            ESTABLISHED, ESTABLISHED, 103, true),
        ("TCP established, 100th packet",        TCP, 0,            ESTABLISHED, ESTABLISHED, 100, false),
        ("into ESTABLISHED is not forced",       TCP, 0,            SYN_RECV,    ESTABLISHED, 2,   false),
        ("into ESTABLISHED at the 3rd packet",   TCP, 0,            SYN_RECV,    ESTABLISHED, 3,   true),
        ("SYN_RECV never",                       TCP, 0,            NONE,        SYN_RECV,    3,   false),
        ("SYN_SENT never",                       TCP, 0,            NONE,        SYN_SENT,    3,   false),
        ("LAST_ACK never",                       TCP, 0,            ESTABLISHED, LAST_ACK,    3,   false),
        ("LISTEN never",                         TCP, 0,            NONE,        LISTEN,      3,   false),
        ("NONE never",                           TCP, 0,            NONE,        NONE,        3,   false),
        ("ESTABLISHED -> FIN_WAIT forced",       TCP, 0,            ESTABLISHED, FIN_WAIT,    7,   true),
        ("ESTABLISHED -> CLOSE_WAIT forced",     TCP, 0,            ESTABLISHED, CLOSE_WAIT,  8,   true),
        ("FIN_WAIT -> TIME_WAIT forced",         TCP, 0,            FIN_WAIT,    TIME_WAIT,   9,   true),
        ("SYN_RECV -> CLOSE (reset) forced",     TCP, 0,            SYN_RECV,    CLOSE,       2,   true),
        ("FIN_WAIT unchanged: packet rule",      TCP, 0,            FIN_WAIT,    FIN_WAIT,    7,   false),
        ("FIN_WAIT unchanged at 53",             TCP, 0,            FIN_WAIT,    FIN_WAIT,    53,  true),
        ("UDP 3rd packet",                       UDP, 0,            0,           0,           3,   true),
        ("UDP 4th packet",                       UDP, 0,            0,           0,           4,   false),
        ("UDP 53rd packet",                      UDP, 0,            0,           0,           53,  true),
        ("UDP one-packet never",                 UDP, F_ONE_PACKET, 0,           0,           3,   false),
        ("template every time (1)",              TCP, F_TEMPLATE,   0,           1,           1,   true),
        ("template every time (2)",              TCP, F_TEMPLATE,   1,           1,           2,   true),
        ("template, any state",                  TCP, F_TEMPLATE,   0,           SYN_RECV,    4,   true),
        ("fwmark template",                      0,   F_TEMPLATE,   0,           0,           17,  true),
        ("template with one-packet flag",        UDP, F_TEMPLATE | F_ONE_PACKET, 0, 0,        5,   true),
    ];
    for &(what, proto, flags, old, new, pkts, send) in cases {
        assert_eq!(p.needed(proto, flags, old, new, pkts), send, "{what}");
    }
}

#[test]
fn sctp_states() {
    use connsync::sctp_state::*;
    let p = SyncPolicy::default();
    assert!(p.needed(PROTO_SCTP, 0, ESTABLISHED, ESTABLISHED, 3));
    assert!(!p.needed(PROTO_SCTP, 0, ESTABLISHED, ESTABLISHED, 4));
    assert!(p.needed(PROTO_SCTP, 0, ESTABLISHED, SHUTDOWN_SENT, 4));
    assert!(p.needed(PROTO_SCTP, 0, SHUTDOWN_SENT, CLOSED, 4));
    assert!(!p.needed(PROTO_SCTP, 0, NONE, COOKIE_ECHOED, 3));
}

#[test]
fn period_zero_sends_once_and_on_state_changes() {
    let p = SyncPolicy::new(3, 0).unwrap();
    assert!(p.needed(TCP, 0, ESTABLISHED, ESTABLISHED, 3));
    assert!(!p.needed(TCP, 0, ESTABLISHED, ESTABLISHED, 53));
    assert!(p.needed(TCP, 0, ESTABLISHED, FIN_WAIT, 60));
    assert!(p.needed(UDP, 0, 0, 0, 3));
    assert!(!p.needed(UDP, 0, 0, 0, 53));
    // Templates too are then rate-limited to the threshold packet.
    assert!(p.needed(TCP, F_TEMPLATE, 0, 0, 3));
    assert!(!p.needed(TCP, F_TEMPLATE, 0, 0, 4));
}

#[test]
fn sysctl_validation() {
    // proc_do_sync_threshold refuses threshold >= period when period != 0.
    assert_eq!(SyncPolicy::new(3, 3), None);
    assert_eq!(SyncPolicy::new(60, 50), None);
    assert!(SyncPolicy::new(0, 50).is_some());
    assert!(SyncPolicy::new(50, 0).is_some());
}

/// A whole TCP connection on the master: the caller keeps `old_state`
/// as the kernel keeps cp->old_state (updated only when a sync goes out).
#[test]
fn one_connection_life() {
    let p = SyncPolicy::default();
    let states = [
        vec![SYN_RECV],           // SYN
        vec![ESTABLISHED; 120],   // handshake ACK and data
        vec![FIN_WAIT, FIN_WAIT], // client FIN, more packets
        vec![TIME_WAIT],          // last ACK
    ]
    .concat();
    let mut old = NONE;
    let mut sent = Vec::new();
    for (i, &st) in states.iter().enumerate() {
        let pkts = i as u32 + 1;
        if p.needed(TCP, 0, old, st, pkts) {
            old = st;
            sent.push((pkts, st));
        }
    }
    assert_eq!(
        sent,
        vec![
            (3, ESTABLISHED),
            (53, ESTABLISHED),
            (103, ESTABLISHED),
            (122, FIN_WAIT),
            (124, TIME_WAIT),
        ]
    );
}

#[test]
fn state_names() {
    assert_eq!(tcp_state::name(ESTABLISHED), Some("ESTABLISHED"));
    assert_eq!(tcp_state::name(SYNACK), Some("SYNACK"));
    assert_eq!(tcp_state::name(LAST), None);
    assert_eq!(num_states(TCP), Some(11));
    assert_eq!(num_states(1), None);
}
