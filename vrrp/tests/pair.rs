//! Instances wired together through encode/decode on one virtual clock.

mod common;

use common::*;
use vrrp::codec::{self, VRRP_GROUP};
use vrrp::{Action, ChecksumForm, InitialState, Instance, Params, RxDrop, State, Version};

/// A LAN segment: every advert reaches every node (the sender too, as with
/// IP_MULTICAST_LOOP) after `latency` ms, unless the segment is cut.
struct Lan {
    nodes: Vec<Instance>,
    now: u64,
    latency: u64,
    connected: bool,
    /// (deliver at, to, packet)
    in_flight: Vec<(u64, usize, Vec<u8>)>,
    /// (time, node, from, to)
    transitions: Vec<(u64, usize, State, State)>,
}

impl Lan {
    fn new(params: Vec<Params>) -> Lan {
        Lan {
            nodes: params.into_iter().map(Instance::new).collect(),
            now: 0,
            latency: 1,
            connected: true,
            in_flight: Vec::new(),
            transitions: Vec::new(),
        }
    }

    fn start_all(&mut self) {
        for n in 0..self.nodes.len() {
            let mut out = Vec::new();
            self.nodes[n].start(self.now, &mut out);
            self.apply(n, out);
        }
    }

    fn shutdown(&mut self, n: usize) {
        let mut out = Vec::new();
        self.nodes[n].shutdown(self.now, &mut out);
        self.apply(n, out);
    }

    /// Carries out a node's actions the way the runtime will.
    fn apply(&mut self, n: usize, out: Vec<Action>) {
        for a in out {
            match a {
                Action::SendAdvert { priority } => {
                    let node = &mut self.nodes[n];
                    let src = node.params().primary;
                    let msg = node.advert_bytes(priority, VRRP_GROUP);
                    node.note_sent(priority);
                    if self.connected {
                        let pkt = codec::ipv4_packet(src, VRRP_GROUP, 255, &msg);
                        for to in 0..self.nodes.len() {
                            self.in_flight
                                .push((self.now + self.latency, to, pkt.clone()));
                        }
                    }
                }
                Action::Transition { from, to } => {
                    assert_ne!(from, to, "a transition always changes state");
                    assert_eq!(self.nodes[n].state(), to);
                    self.transitions.push((self.now, n, from, to));
                }
                Action::Garp => {}
            }
        }
    }

    /// Runs every event up to and including `until`, checking after each
    /// step that at most `max_masters` nodes are master.
    fn run_until(&mut self, until: u64, max_masters: usize) {
        loop {
            let next_packet = self.in_flight.iter().map(|p| p.0).min();
            let next_timer = self.nodes.iter().filter_map(|n| n.next_deadline()).min();
            let Some(t) = next_packet.into_iter().chain(next_timer).min() else {
                break;
            };
            if t > until {
                break;
            }
            self.now = t;
            let (due, later): (Vec<_>, Vec<_>) = self.in_flight.drain(..).partition(|p| p.0 <= t);
            self.in_flight = later;
            for (_, to, pkt) in due {
                let mut out = Vec::new();
                let r = self.nodes[to].on_packet(t, &pkt, &mut out);
                // Only our own looped-back adverts may be dropped on this LAN.
                assert!(matches!(r, Ok(()) | Err(RxDrop::Own)), "{r:?}");
                self.apply(to, out);
            }
            for n in 0..self.nodes.len() {
                let mut out = Vec::new();
                self.nodes[n].on_timer(t, &mut out);
                self.apply(n, out);
            }
            assert!(
                self.masters().len() <= max_masters,
                "at {t}: {:?}",
                self.masters()
            );
        }
        self.now = until;
    }

    fn masters(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|n| self.nodes[*n].state() == State::Master)
            .collect()
    }

    fn became_master(&self, n: usize) -> Vec<u64> {
        self.transitions
            .iter()
            .filter(|(_, m, _, to)| *m == n && *to == State::Master)
            .map(|(t, ..)| *t)
            .collect()
    }
}

#[test]
fn higher_priority_wins_and_the_other_takes_over_within_skew() {
    for version in [Version::V2, Version::V3] {
        // A: 10.0.0.1 priority 100; B: 10.0.0.2 priority 150.
        let mut lan = Lan::new(vec![params(version, 100, 1), params(version, 150, 2)]);
        lan.start_all();
        lan.run_until(20_000, 1);
        // B's Master_Down_Interval: 3 000 + 106 * 1000 / 256 (414.0625) -> 3 414.
        assert_eq!(lan.became_master(1), [3_414], "{version:?}");
        assert_eq!(lan.masters(), [1]);
        assert_eq!(lan.nodes[0].state(), State::Backup);
        assert_eq!(lan.nodes[0].master(), Some(ip(2)));
        // B sent one advert per second from 3 414 on; A none.
        assert_eq!(lan.nodes[1].stats().adverts_sent, 17);
        assert_eq!(lan.nodes[0].stats().adverts_sent, 0);
        assert_eq!(lan.nodes[0].stats().adverts_received, 17);
        assert_eq!(lan.nodes[1].stats().drops(RxDrop::Own), 17);

        // B stops: its priority-0 advert reaches A at 20 001, and A takes
        // over after its skew alone, 609 ms, not 3 609.
        lan.shutdown(1);
        assert_eq!(lan.nodes[1].state(), State::Init);
        lan.run_until(30_000, 1);
        assert_eq!(lan.became_master(0), [20_001 + 609], "{version:?}");
        assert_eq!(lan.nodes[1].stats().priority_zero_sent, 1);
        assert_eq!(lan.nodes[0].stats().priority_zero_received, 1);
        assert_eq!(lan.masters(), [0]);
    }
}

#[test]
fn equal_priority_initial_masters_resolve_by_address() {
    let mut a = params(Version::V3, 100, 1);
    let mut b = params(Version::V3, 100, 2);
    a.initial = InitialState::Master;
    b.initial = InitialState::Master;
    let mut lan = Lan::new(vec![a, b]);
    lan.start_all();
    // Below 255 both start BACKUP and claim together after one interval
    // plus the skew of priority 255: 1 000 + 3.906 25 -> 1 003 ms.
    assert!(lan.masters().is_empty());
    lan.run_until(1_003, 2);
    assert_eq!(lan.masters(), [0, 1], "both claim after the start-up wait");
    assert_eq!(lan.became_master(0), [1_003]);
    assert_eq!(lan.became_master(1), [1_003]);
    lan.run_until(1_010, 2);
    // At 1 004 each sees the other's advert: 10.0.0.1 yields to 10.0.0.2.
    assert_eq!(lan.masters(), [1]);
    lan.run_until(60_000, 1);
    assert_eq!(lan.masters(), [1]);
    assert_eq!(lan.nodes[0].master(), Some(ip(2)));
    assert_eq!(lan.nodes[0].stats().transitions, 3); // INIT->BACKUP->MASTER->BACKUP
}

#[test]
fn mixed_v3_checksum_forms_interoperate() {
    let mut a = params(Version::V3, 200, 1);
    a.send_checksum = ChecksumForm::Plain;
    let b = params(Version::V3, 100, 2); // pseudo-header, keepalived's default
    let mut lan = Lan::new(vec![a, b]);
    lan.start_all();
    lan.run_until(10_000, 1);
    assert_eq!(lan.masters(), [0]);
    assert!(lan.nodes[1].stats().adverts_received > 0);
    assert_eq!(lan.nodes[1].stats().dropped.iter().sum::<u64>(), 0);
}

#[test]
fn partition_then_heal_ends_dual_master_within_one_exchange() {
    let mut a = params(Version::V3, 100, 1);
    a.advert_int_cs = 10; // 100 ms adverts
    let mut b = params(Version::V3, 150, 2);
    b.advert_int_cs = 10;
    let mut lan = Lan::new(vec![a, b]);
    lan.start_all();
    lan.run_until(2_000, 1);
    assert_eq!(lan.masters(), [1]);
    // Cut: A stops hearing B and takes over after its Master_Down_Interval.
    lan.connected = false;
    lan.in_flight.clear();
    lan.run_until(5_000, 2);
    assert_eq!(lan.masters(), [0, 1]);
    // Heal at 5 000: the next advert from either side settles it.
    lan.connected = true;
    lan.run_until(5_200, 2);
    assert_eq!(lan.masters(), [1]);
    lan.run_until(10_000, 1);
    assert_eq!(lan.masters(), [1]);
}

#[test]
fn three_nodes_the_best_backup_takes_over() {
    let mut lan = Lan::new(vec![
        params(Version::V2, 100, 1),
        params(Version::V2, 150, 2),
        params(Version::V2, 200, 3),
    ]);
    lan.start_all();
    lan.run_until(10_000, 1);
    // 3 000 + 56 * 1000 / 256 (218.75) -> 3 218.
    assert_eq!(lan.became_master(2), [3_218]);
    lan.shutdown(2);
    lan.run_until(20_000, 1);
    // B's skew (414) beats A's (609); B's first advert reaches A first.
    assert_eq!(lan.became_master(1), [10_001 + 414]);
    assert!(lan.became_master(0).is_empty());
    assert_eq!(lan.nodes[0].master(), Some(ip(2)));
}
