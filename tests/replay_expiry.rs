//! Issue 11 §1 and §2 through `ferrovs replay`: timeouts hold on the capture's
//! clock, to the second, in every state (a non-SYN probe one second before an
//! entry's timeout is forwarded, one second after it is dropped as having no
//! connection); a UDP flow past `timeouts.udp` is scheduled anew; a client SYN
//! on the tuple of a TIME_WAIT or CLOSE entry is a new connection (IPVS's
//! conn_reuse_mode 1), unless a persistence template controls that entry.
mod common;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use common::*;

const MS: u64 = 1_000_000;
const SEC: u64 = 1_000 * MS;
const T0: u64 = 1_000 * SEC;
const PSH: u8 = 0x08;

fn write_config(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferrovs-expiry-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(&p, text).unwrap();
    p
}

/// The replay NAT fixture with `extra` YAML appended (top-level keys).
fn config_with(name: &str, extra: &str) -> PathBuf {
    let base = std::fs::read_to_string(nat_config()).unwrap();
    write_config(name, &format!("{base}{extra}"))
}

/// The replay NAT fixture with persistence on its service.
fn persistent_config(timeout: u32) -> PathBuf {
    let base = std::fs::read_to_string(nat_config()).unwrap();
    let text = base.replace(
        "    scheduler: rr\n",
        &format!("    scheduler: rr\n    persistence: {{timeout: {timeout}}}\n"),
    );
    assert_ne!(base, text);
    write_config(&format!("persist{timeout}"), &text)
}

fn rs_mac(rs: Ipv4Addr) -> [u8; 6] {
    RS_MAC[RS.iter().position(|r| *r == rs).expect("a known real")]
}

fn client(cport: u16, flags: u8) -> Vec<u8> {
    tcp_frame(CLIENT_MAC, CLIENT, cport, VIP, 80, flags)
}

fn server(rs: Ipv4Addr, cport: u16, flags: u8) -> Vec<u8> {
    tcp_frame(rs_mac(rs), rs, 8080, CLIENT, cport, flags)
}

/// The real rr gives the first connection of a fresh replay.
fn first_real(config: &Path) -> Ipv4Addr {
    let r = replay(config, &[(SEC, client(40999, SYN))]);
    parse_tcp(&r.out[0].1).dst
}

/// Client (true) or server (false) segments that lead a new connection into a state.
fn walk_to(state: &str) -> Vec<(bool, u8)> {
    let handshake = vec![(true, SYN), (false, SYN | ACK), (true, ACK)];
    let tail: &[(bool, u8)] = match state {
        "SYN_RECV" => return vec![(true, SYN)],
        "ESTABLISHED" => &[(true, ACK | PSH)],
        // The real closes first: OUTPUT FIN from ESTABLISHED.
        "FIN_WAIT" => &[(false, FIN | ACK)],
        // The client closes first: INPUT FIN from ESTABLISHED.
        "CLOSE_WAIT" => &[(true, FIN | ACK)],
        "TIME_WAIT" => &[(true, FIN | ACK), (false, FIN | ACK)],
        "CLOSE" => &[(true, RST)],
        other => panic!("no walk to {other}"),
    };
    handshake.into_iter().chain(tail.iter().copied()).collect()
}

struct Walk {
    frames: Vec<(u64, Vec<u8>)>,
    last: u64,
    rs: Ipv4Addr,
}

fn walk(config: &Path, state: &str, cport: u16) -> Walk {
    let rs = first_real(config);
    let steps = walk_to(state);
    let frames: Vec<(u64, Vec<u8>)> = steps
        .iter()
        .enumerate()
        .map(|(i, &(from_client, flags))| {
            let at = T0 + i as u64 * MS;
            let f = if from_client {
                client(cport, flags)
            } else {
                server(rs, cport, flags)
            };
            (at, f)
        })
        .collect();
    let last = frames.last().unwrap().0;
    Walk { frames, last, rs }
}

/// Replays the walk into `state`, then one client ACK `offset_s` seconds
/// after the entry's timeout (negative: before). Returns whether the probe
/// reached the real and the replay report.
fn probe(config: &Path, state: &str, timeout_s: u64, before: bool) -> (bool, Replay) {
    let cport = 41000;
    let w = walk(config, state, cport);
    let deadline = w.last + timeout_s * SEC;
    let at = if before {
        deadline - SEC
    } else {
        deadline + SEC
    };
    let mut frames = w.frames.clone();
    frames.push((at, client(cport, ACK)));
    let r = replay(config, &frames);
    let trace = r.report["trace"].as_array().unwrap();
    assert_eq!(
        trace[w.frames.len() - 1]["state"].as_str(),
        Some(state),
        "the walk ends in {state}"
    );
    assert!(
        r.out.len() >= w.frames.len(),
        "every segment of the walk is forwarded"
    );
    let reached = r.out.len() == w.frames.len() + 1 && {
        let s = parse_tcp(&r.out.last().unwrap().1);
        s.dst == w.rs && s.dport == 8080 && s.flags == ACK
    };
    (reached, r)
}

fn holds_to_the_second(config: &Path, state: &str, timeout_s: u64) {
    let (reached, _) = probe(config, state, timeout_s, true);
    assert!(
        reached,
        "{state}: a probe 1 s before its {timeout_s} s timeout is forwarded"
    );
    let (reached, r) = probe(config, state, timeout_s, false);
    assert!(
        !reached,
        "{state}: a probe 1 s after its {timeout_s} s timeout is not forwarded"
    );
    assert_eq!(
        drops(&r.report, "no_connection"),
        1,
        "{state}: the late probe is dropped as having no connection"
    );
}

#[test]
fn syn_recv_lasts_60s() {
    holds_to_the_second(&nat_config(), "SYN_RECV", 60);
}

#[test]
fn established_lasts_timeouts_tcp() {
    holds_to_the_second(&nat_config(), "ESTABLISHED", 900);
    let c = config_with("tcp700", "timeouts: {tcp: 700, tcpfin: 120, udp: 300}\n");
    holds_to_the_second(&c, "ESTABLISHED", 700);
}

#[test]
fn fin_wait_lasts_timeouts_tcpfin() {
    holds_to_the_second(&nat_config(), "FIN_WAIT", 120);
    let c = config_with("tcpfin50", "timeouts: {tcp: 900, tcpfin: 50, udp: 300}\n");
    holds_to_the_second(&c, "FIN_WAIT", 50);
}

#[test]
fn time_wait_lasts_120s_whatever_tcpfin_says() {
    holds_to_the_second(&nat_config(), "TIME_WAIT", 120);
    let c = config_with(
        "tw-tcpfin50",
        "timeouts: {tcp: 900, tcpfin: 50, udp: 300}\n",
    );
    holds_to_the_second(&c, "TIME_WAIT", 120);
}

#[test]
fn close_wait_lasts_60s() {
    holds_to_the_second(&nat_config(), "CLOSE_WAIT", 60);
}

#[test]
fn close_lasts_10s() {
    holds_to_the_second(&nat_config(), "CLOSE", 10);
}

// ---- UDP ----

const UDP_SERVICE: &str = "  - name: dns
    vip: 10.0.0.100
    port: 53
    protocol: udp
    scheduler: rr
    forward: nat
    reals:
      - {address: 10.1.0.11, port: 53}
      - {address: 10.1.0.12, port: 53}
      - {address: 10.1.0.13, port: 53}
";

fn udp_dst(f: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(f[30], f[31], f[32], f[33])
}

fn udp_reals(config: &Path, times: &[u64]) -> Vec<Ipv4Addr> {
    let frames: Vec<(u64, Vec<u8>)> = times
        .iter()
        .map(|&t| (t, udp_frame(CLIENT, 5353, VIP, 53)))
        .collect();
    let r = replay(config, &frames);
    assert_eq!(r.out.len(), times.len(), "every datagram is forwarded");
    r.out.iter().map(|(_, f)| udp_dst(f)).collect()
}

#[test]
fn a_udp_flow_past_its_timeout_is_scheduled_anew() {
    for (name, udp) in [("udp300", 300u64), ("udp45", 45)] {
        let c = config_with(
            name,
            // The service continues the fixture's `services:` list.
            &format!("{UDP_SERVICE}timeouts: {{tcp: 900, tcpfin: 120, udp: {udp}}}\n"),
        );
        let t1 = T0 + (udp - 1) * SEC;
        let alive = udp_reals(&c, &[T0, t1]);
        assert_eq!(
            alive[0], alive[1],
            "udp {udp}: 1 s before the timeout, same flow"
        );
        let t2 = T0 + (udp + 1) * SEC;
        let anew = udp_reals(&c, &[T0, t2]);
        assert_ne!(
            anew[0], anew[1],
            "udp {udp}: 1 s after the timeout, rr moves the datagram to the next real"
        );
        // rr's next real after the first pick, in IPVS list order.
        let third = udp_reals(&c, &[T0, t2, t2 + (udp + 1) * SEC]);
        assert_eq!(third[0..2], anew[..]);
        assert!(
            third[2] != third[1] && third[2] != third[0],
            "a third real next"
        );
    }
}

// ---- port reuse ----

fn reuse_after(config: &Path, state: &str) -> (Ipv4Addr, Ipv4Addr, Replay) {
    let cport = 42000;
    let w = walk(config, state, cport);
    let mut frames = w.frames.clone();
    frames.push((w.last + SEC, client(cport, SYN)));
    let r = replay(config, &frames);
    assert_eq!(r.out.len(), frames.len(), "every segment is forwarded");
    let to = parse_tcp(&r.out.last().unwrap().1);
    assert_eq!((to.flags, to.dport), (SYN, 8080));
    (w.rs, to.dst, r)
}

#[test]
fn a_syn_on_a_time_wait_tuple_is_a_new_connection() {
    let (old, new, r) = reuse_after(&nat_config(), "TIME_WAIT");
    assert_ne!(new, old, "rr moves the reused tuple to the next real");
    assert_eq!(r.report["conns_reused"], 1);
    assert_eq!(r.report["conns_created"], 2);
    let trace = r.report["trace"].as_array().unwrap();
    assert_eq!(trace.last().unwrap()["state"], "SYN_RECV");
}

#[test]
fn a_syn_on_a_close_tuple_is_a_new_connection() {
    let (old, new, r) = reuse_after(&nat_config(), "CLOSE");
    assert_ne!(new, old);
    assert_eq!(r.report["conns_reused"], 1);
}

#[test]
fn a_syn_on_a_live_connection_keeps_its_real() {
    for state in ["ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "SYN_RECV"] {
        let (old, new, r) = reuse_after(&nat_config(), state);
        assert_eq!(new, old, "{state}: not a reusable entry");
        assert_eq!(r.report["conns_reused"], 0, "{state}");
    }
}

#[test]
fn a_time_wait_entry_a_template_controls_is_not_reused() {
    let (old, new, r) = reuse_after(&persistent_config(360), "TIME_WAIT");
    assert_eq!(new, old, "the template keeps the client on its real");
    assert_eq!(r.report["conns_reused"], 0);
}

// ---- persistence templates on the packet clock ----

/// A short connection (SYN then RST: CLOSE, gone 10 s later), then a new
/// connection from another port of the same client at `gap_s` seconds.
fn second_pick(config: &Path, gap_s: u64) -> (Ipv4Addr, Ipv4Addr) {
    let frames = vec![
        (T0, client(43000, SYN)),
        (T0 + MS, client(43000, RST)),
        (T0 + gap_s * SEC, client(43001, SYN)),
    ];
    let r = replay(config, &frames);
    assert_eq!(r.out.len(), 3);
    (parse_tcp(&r.out[0].1).dst, parse_tcp(&r.out[2].1).dst)
}

#[test]
fn a_template_expires_its_persistence_timeout_after_it_was_last_used() {
    let c = persistent_config(100);
    let (a, b) = second_pick(&c, 99);
    assert_eq!(a, b, "1 s before the template's timeout: same real");
    let (a, b) = second_pick(&c, 101);
    assert_ne!(
        a, b,
        "1 s after: the template is gone, rr picks the next real"
    );
}

#[test]
fn a_template_that_still_controls_a_connection_is_rearmed_60s_at_a_time() {
    // The first connection stays ESTABLISHED (900 s): the template, due at
    // 100 s, is re-armed to 160, 220, ... while it controls it.
    let c = persistent_config(100);
    let est = |port: u16| {
        vec![
            (T0, client(port, SYN)),
            (T0 + MS, server(first_real(&c), port, SYN | ACK)),
            (T0 + 2 * MS, client(port, ACK)),
        ]
    };
    let mut frames = est(44000);
    frames.push((T0 + 150 * SEC, client(44001, SYN)));
    let r = replay(&c, &frames);
    assert_eq!(r.out.len(), 4);
    assert_eq!(
        parse_tcp(&r.out[3].1).dst,
        parse_tcp(&r.out[0].1).dst,
        "past its timeout but controlling a connection: still used"
    );
    // The controlling connection is reset at 130 s (CLOSE, gone at 140 s):
    // the template, re-armed to 160 s at 100 s, dies at 160 s.
    let mut frames = est(44010);
    frames.push((T0 + 130 * SEC, client(44010, RST)));
    frames.push((T0 + 159 * SEC, client(44011, SYN)));
    let r = replay(&c, &frames);
    assert_eq!(
        parse_tcp(&r.out[4].1).dst,
        parse_tcp(&r.out[0].1).dst,
        "159 s: alive"
    );
    let mut frames = est(44020);
    frames.push((T0 + 130 * SEC, client(44020, RST)));
    frames.push((T0 + 161 * SEC, client(44021, SYN)));
    let r = replay(&c, &frames);
    assert_ne!(
        parse_tcp(&r.out[4].1).dst,
        parse_tcp(&r.out[0].1).dst,
        "161 s: gone"
    );
}
