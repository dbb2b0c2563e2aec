use std::sync::atomic::Ordering::Relaxed;

use conntrack::TcpState::{
    CloseWait as CW, Established as ES, FinWait as FW, SynRecv as SR, TimeWait as TW,
};

use super::*;

const REAL_NAT: [Ipv4Addr; 3] = [
    Ipv4Addr::new(10, 1, 0, 11),
    Ipv4Addr::new(10, 1, 0, 12),
    Ipv4Addr::new(10, 1, 0, 13),
];
const REAL: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 11);
const LOCAL: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 100);

/// What the director sent for one step, and the state of its connection then.
struct Seen {
    step: Step,
    frame: Vec<u8>,
    state: Option<TcpState>,
}

fn watched(c: &mut ConnLoop, n: u64) -> (u64, Vec<Seen>) {
    let mut seen = Vec::new();
    let sent = c
        .run_watched(n, &mut |step, frame, p| {
            seen.push(Seen {
                step,
                frame: frame.to_vec(),
                state: p.last_conn().map(|c| c.state),
            })
        })
        .unwrap();
    (sent, seen)
}

/// The MAC the fixtures give real 10.1.0.1x: 02:00:00:00:01:1x.
fn real_mac(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets()[3];
    [2, 0, 0, 0, 1, ((o / 10) << 4) | (o % 10)]
}

/// Checks one client segment as the director forwarded it; returns the real
/// server it went to.
fn check_client_side(mode: Mode, client: Flow, seen: &Seen) -> Ipv4Addr {
    let got = frames::tcp_segment(&seen.frame).unwrap();
    let what = format!("{} {}", mode.name(), seen.step.name());
    let real = match mode {
        Mode::Nat => {
            assert!(REAL_NAT.contains(&got.flow.dst), "{what}: {got:?}");
            assert_eq!(
                (got.flow.src, got.flow.sport),
                (CLIENT, client.sport),
                "{what}"
            );
            assert_eq!(got.flow.dport, 8080, "{what}");
            got.flow.dst
        }
        Mode::FullNat => {
            assert_eq!(got.flow.src, LOCAL, "{what}");
            assert_eq!((got.flow.dst, got.flow.dport), (REAL, 8080), "{what}");
            REAL
        }
        Mode::Dr => {
            assert_eq!(got.flow, client, "{what}: DR changes no address");
            assert_eq!(frames::ipv4_dst(&seen.frame), Some(client.dst), "{what}");
            REAL
        }
        Mode::Tun => {
            assert_eq!(got.flow, client, "{what}: the inner packet is the client's");
            assert_eq!(frames::ipv4_dst(&seen.frame), Some(REAL), "{what}: outer");
            REAL
        }
        _ => unreachable!(),
    };
    assert_eq!(frames::mac_dst(&seen.frame), real_mac(real), "{what}");
    real
}

fn expected_states(mode: Mode) -> Vec<TcpState> {
    if mode.two_way() {
        vec![SR, SR, ES, ES, ES, CW, TW, TW]
    } else {
        vec![SR, ES, ES, FW, FW]
    }
}

#[test]
fn every_segment_of_50_connections_is_forwarded_to_the_right_place() {
    for mode in Mode::CONNECTION {
        let m = mode.name();
        let mut c = ConnLoop::new(mode, MS_PER_CONN).unwrap();
        let (sent, seen) = watched(&mut c, 50);
        let per = segments_per_conn(mode);
        assert_eq!(per, if mode.two_way() { 8 } else { 5 }, "{m}");
        assert_eq!(sent, 50 * per, "{m}");
        assert_eq!(seen.len() as u64, sent, "{m}");
        let mut reals = Vec::new();
        for (k, conn) in seen.chunks(per as usize).enumerate() {
            let client = Flow {
                src: CLIENT,
                sport: FIRST_CLIENT_PORT + k as u16,
                dst: mode.fixture().1,
                dport: 80,
            };
            let steps: Vec<Step> = conn.iter().map(|s| s.step).collect();
            let want: Vec<Step> = Step::ALL
                .into_iter()
                .filter(|s| s.through_director(mode))
                .collect();
            assert_eq!(steps, want, "{m} connection {k}");
            let states: Vec<_> = conn.iter().map(|s| s.state.unwrap()).collect();
            assert_eq!(states, expected_states(mode), "{m} connection {k}");
            let mut real = None;
            for s in conn {
                let what = format!("{m} connection {k} {}", s.step.name());
                assert!(frames::checksums_ok(&s.frame), "{what}: checksums");
                let got = frames::tcp_segment(&s.frame).unwrap();
                assert_eq!(got.flags, s.step.flags(), "{what}");
                assert_eq!(got.payload, s.step.payload(), "{what}");
                if s.step.from_client() {
                    let r = check_client_side(mode, client, s);
                    assert_eq!(*real.get_or_insert(r), r, "{what}: one real per connection");
                } else {
                    assert_eq!(got.flow, client.reversed(), "{what}: back from the VIP");
                    assert_eq!(frames::mac_dst(&s.frame), CLIENT_MAC, "{what}");
                }
            }
            // The client's acknowledgments follow the server's sequence.
            let last = frames::tcp_segment(&conn.last().unwrap().frame).unwrap();
            assert_eq!(last.ack, SERVER_ISN + 1 + RESPONSE_BYTES as u32 + 1, "{m}");
            reals.push(real.unwrap());
        }
        if mode == Mode::Nat {
            // rr over the three reals: each in turn, a connection each.
            let mut first = reals[..3].to_vec();
            first.sort();
            assert_eq!(first, REAL_NAT, "{m}");
            for (k, r) in reals.iter().enumerate() {
                assert_eq!(*r, reals[k % 3], "{m} connection {k}");
            }
        }

        // Every connection lingers in its last state until its timeout...
        let p = &mut c.pipeline;
        assert_eq!(p.conns().len(), 50, "{m}");
        let last = *expected_states(mode).last().unwrap();
        assert!(p.conns().iter().all(|c| c.state == last), "{m}");
        let active: u64 = p
            .services()
            .flat_map(|s| s.counters.reals.iter())
            .map(|r| r.active.load(Relaxed) + r.inactive.load(Relaxed))
            .sum();
        assert_eq!(active, 50, "{m}: every connection counted on its real");
        // ... and housekeeping removes them all once it has passed.
        let end = c.clock(50) + 121_000;
        let p = &mut c.pipeline;
        assert_eq!(p.housekeeping(end - 2_000), 0, "{m}: nothing due yet");
        assert_eq!(p.housekeeping(end), 50, "{m}");
        assert!(p.conns().is_empty(), "{m}");
        for s in p.services() {
            for r in &s.counters.reals {
                assert_eq!(r.active.load(Relaxed) + r.inactive.load(Relaxed), 0, "{m}");
            }
            if let Some(pool) = &s.local_ports {
                assert_eq!(pool.available(), pool.capacity(), "{m}: local ports back");
            }
        }
    }
}

#[test]
fn the_table_settles_at_the_connections_of_the_last_120_seconds() {
    for mode in [Mode::FullNat, Mode::Dr] {
        // One connection a second: each one expires the connection of 120 s before.
        let mut c = ConnLoop::new(mode, 1_000).unwrap();
        c.run(120).unwrap();
        assert_eq!(c.pipeline.conns().len(), 120, "{}", mode.name());
        for _ in 0..60 {
            c.run(1).unwrap();
            assert_eq!(c.pipeline.conns().len(), 120, "{}", mode.name());
        }
        assert_eq!(c.pipeline.stats().conns_created.get(), 180);
        assert_eq!(c.pipeline.stats().total_drops(), 0);
    }
}

#[test]
fn the_baseline_sends_as_many_frames_without_the_pipeline() {
    for mode in Mode::CONNECTION {
        let mut c = ConnLoop::new(mode, MS_PER_CONN).unwrap();
        let sent = c.run_baseline(20).unwrap();
        assert_eq!(sent, 20 * segments_per_conn(mode), "{}", mode.name());
        assert!(c.pipeline.conns().is_empty());
        assert_eq!(c.pipeline.stats().rx_packets.get(), 0);
    }
}

#[test]
fn a_clock_that_would_reuse_live_ports_or_a_reply_mode_is_refused() {
    // 64 512 ports at 1 ms: back after 64.5 s, inside TIME_WAIT's 120 s.
    assert!(ConnLoop::new(Mode::Nat, 1).is_err());
    assert!(ConnLoop::new(Mode::Nat, 2).is_ok());
    assert!(ConnLoop::new(Mode::NatReply, MS_PER_CONN).is_err());
}

#[test]
fn a_segment_the_director_does_not_forward_is_an_error() {
    let mut c = ConnLoop::new(Mode::Nat, MS_PER_CONN).unwrap();
    c.run(1).unwrap();
    // An address no service listens on: the director does not forward the SYN.
    c.vip = Ipv4Addr::new(10, 0, 0, 99);
    let e = c.run(1).unwrap_err().to_string();
    assert!(e.contains("client SYN came out 0 times"), "{e}");
    assert!(e.contains("nat connection 1 (client port 1025)"), "{e}");
}
