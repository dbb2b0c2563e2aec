//! The state machine on a virtual clock: timers, election, preemption,
//! priority 0, v3 interval learning, fault and shutdown.

mod common;

use common::machine::*;
use common::*;
use vrrp::codec::Advert;
use vrrp::{Action, InitialState, Instance, State, Version};

use Action::{Garp, SendAdvert, Transition};

#[test]
fn v2_master_down_interval_is_3000_plus_609_ms() {
    // Skew = (256 - 100) * 1000 / 256 = 609.375 ms; 3 * 1000 + 609.375 -> 3609.
    let (mut i, out) = started(params(Version::V2, 100, 1), 1_000);
    assert_eq!(out, init_to_backup());
    assert_eq!(i.state(), State::Backup);
    assert_eq!(i.next_deadline(), Some(1_000 + 3_609));
    assert!(tick(&mut i, 4_608).is_empty());
    assert_eq!(i.state(), State::Backup);
    assert_eq!(tick(&mut i, 4_609), backup_to_master());
    assert_eq!(i.state(), State::Master);
    assert_eq!(i.master(), Some(ip(1)));
    assert_eq!(i.next_deadline(), Some(4_609 + 1_000));
}

#[test]
fn v3_master_down_interval_at_10_cs() {
    // 3 * 100 ms + (256 - 100) * 100 ms / 256 = 300 + 60.9375 -> 360 ms.
    let mut p = params(Version::V3, 100, 1);
    p.advert_int_cs = 10;
    let (mut i, _) = started(p, 0);
    assert_eq!(i.next_deadline(), Some(360));
    assert!(tick(&mut i, 359).is_empty());
    assert_eq!(tick(&mut i, 360), backup_to_master());
    // Adverts every 100 ms from then on.
    assert_eq!(i.next_deadline(), Some(460));
    assert_eq!(tick(&mut i, 460), [SendAdvert { priority: 100 }]);
    assert_eq!(i.next_deadline(), Some(560));
}

#[test]
fn backup_obeys_higher_and_preempts_lower() {
    let (mut i, _) = started(params(Version::V2, 100, 1), 0);
    // Higher master: timer restarts from each advert.
    assert!(rx(&mut i, 1_000, &advert(Version::V2, 150), 2).is_empty());
    assert_eq!(i.next_deadline(), Some(1_000 + 3_609));
    assert_eq!(i.master(), Some(ip(2)));
    assert!(rx(&mut i, 2_000, &advert(Version::V2, 150), 2).is_empty());
    assert_eq!(i.next_deadline(), Some(2_000 + 3_609));
    // Equal priority is obeyed too (the sender would have won or lost as master).
    rx(&mut i, 3_000, &advert(Version::V2, 100), 2);
    assert_eq!(i.next_deadline(), Some(3_000 + 3_609));
    // Lower master: ignored, so the running timer fires and we preempt.
    assert!(rx(&mut i, 4_000, &advert(Version::V2, 50), 3).is_empty());
    assert!(rx(&mut i, 5_000, &advert(Version::V2, 50), 3).is_empty());
    assert_eq!(i.next_deadline(), Some(6_609));
    assert_eq!(i.master(), Some(ip(3)), "still the master the network sees");
    assert_eq!(tick(&mut i, 6_609), backup_to_master());
    assert_eq!(i.stats().adverts_received, 5);
}

#[test]
fn nopreempt_keeps_a_lower_master() {
    let mut p = params(Version::V2, 100, 1);
    p.preempt = false;
    let (mut i, _) = started(p, 0);
    for t in (1_000..=20_000).step_by(1_000) {
        rx(&mut i, t, &advert(Version::V2, 50), 3);
        assert!(tick(&mut i, t).is_empty());
        assert_eq!(i.next_deadline(), Some(t + 3_609));
    }
    assert_eq!(i.state(), State::Backup);
    assert_eq!(i.master(), Some(ip(3)));
}

#[test]
fn preempt_delay_held_from_start() {
    // Priority 150: skew 106 * 1000 / 256 = 414.0625 ms -> MDI 3414 ms.
    let mut p = params(Version::V2, 150, 1);
    p.preempt_delay_ms = 5_000;
    let (mut i, _) = started(p, 0);
    for t in [1_000, 2_000, 3_000, 4_000] {
        rx(&mut i, t, &advert(Version::V2, 100), 2);
        assert_eq!(i.next_deadline(), Some(t + 3_414), "held: obeyed at {t}");
    }
    // From 5 000 the hold is over: the lower master is ignored.
    for t in [5_000, 6_000, 7_000] {
        rx(&mut i, t, &advert(Version::V2, 100), 2);
        assert_eq!(i.next_deadline(), Some(4_000 + 3_414), "ignored at {t}");
    }
    assert!(tick(&mut i, 7_413).is_empty());
    assert_eq!(
        transitions(&tick(&mut i, 7_414)),
        [(State::Backup, State::Master)]
    );
}

#[test]
fn preempt_delay_starts_once_at_the_first_lower_advert() {
    let mut p = params(Version::V2, 150, 1);
    p.preempt_delay_ms = 5_000;
    let (mut i, _) = started(p, 0);
    // A better master clears the start-up hold (keepalived: "stop preempt delay").
    rx(&mut i, 9_000, &advert(Version::V2, 200), 4);
    // Much later a lower master appears: its first advert starts the hold.
    for t in (10_000..=14_000).step_by(1_000) {
        rx(&mut i, t, &advert(Version::V2, 100), 2);
        assert_eq!(i.next_deadline(), Some(t + 3_414), "held at {t}");
    }
    // Later lower adverts did not extend the hold: it ends at 15 000.
    rx(&mut i, 15_000, &advert(Version::V2, 100), 2);
    assert_eq!(i.next_deadline(), Some(14_000 + 3_414));
    assert_eq!(
        transitions(&tick(&mut i, 17_414)),
        [(State::Backup, State::Master)]
    );
}

#[test]
fn master_steps_down_to_higher_priority() {
    let mut p = params(Version::V2, 100, 5);
    p.initial = InitialState::Master;
    p.garp_delay_ms = 5_000;
    let (mut i, m) = mastered(p, 0);
    let out = rx(&mut i, m + 500, &advert(Version::V2, 101), 2);
    assert_eq!(
        out,
        [Transition {
            from: State::Master,
            to: State::Backup
        }]
    );
    assert_eq!(i.master(), Some(ip(2)));
    // Neither the adver timer (m + 1 000) nor the GARP round (m + 5 000)
    // survives.
    assert_eq!(i.next_deadline(), Some(m + 500 + 3_609));
    assert!(tick(&mut i, m + 500 + 3_608).is_empty());
}
#[test]
fn equal_priority_tie_break_by_address() {
    let mut p = params(Version::V3, 100, 5);
    p.initial = InitialState::Master;
    // 10.0.0.4 < 10.0.0.5: we stay master and answer at once, rearming.
    let (mut i, m) = mastered(p.clone(), 0);
    assert_eq!(
        rx(&mut i, m + 400, &advert(Version::V3, 100), 4),
        [SendAdvert { priority: 100 }]
    );
    assert_eq!(i.state(), State::Master);
    assert_eq!(i.next_deadline(), Some(m + 1_400));
    // 10.0.0.6 > 10.0.0.5: we step down.
    let (mut i, m) = mastered(p.clone(), 0);
    assert_eq!(
        transitions(&rx(&mut i, m + 400, &advert(Version::V3, 100), 6)),
        [(State::Master, State::Backup)]
    );
    // Compared as unsigned 32-bit numbers, not by the first octet alone:
    // 10.0.1.0 > 10.0.0.5.
    let (mut i, m) = mastered(p, 0);
    let mut out = Vec::new();
    let other = std::net::Ipv4Addr::new(10, 0, 1, 0);
    i.on_packet(m + 400, &packet(&advert(Version::V3, 100), other), &mut out)
        .unwrap();
    assert_eq!(i.state(), State::Backup);
    assert_eq!(i.master(), Some(other));
}
#[test]
fn master_answers_a_lower_advert_immediately() {
    let mut p = params(Version::V2, 200, 1);
    p.initial = InitialState::Master;
    let (mut i, m) = mastered(p, 0);
    assert_eq!(i.next_deadline(), Some(m + 1_000));
    assert_eq!(
        rx(&mut i, m + 700, &advert(Version::V2, 100), 2),
        [SendAdvert { priority: 200 }]
    );
    assert_eq!(i.next_deadline(), Some(m + 1_700), "adver timer rearmed");
    assert_eq!(i.state(), State::Master);
}
#[test]
fn priority_zero_backup_takes_over_after_skew_only() {
    let (mut i, _) = started(params(Version::V2, 100, 1), 0);
    rx(&mut i, 1_000, &advert(Version::V2, 200), 2);
    assert!(rx(&mut i, 2_500, &advert(Version::V2, 0), 2).is_empty());
    // Skew only: 609.375 ms -> 2 500 + 609.
    assert_eq!(i.next_deadline(), Some(3_109));
    assert!(tick(&mut i, 3_108).is_empty());
    assert_eq!(tick(&mut i, 3_109), backup_to_master());
    assert_eq!(i.stats().priority_zero_received, 1);
}

#[test]
fn priority_zero_skew_uses_the_learned_v3_interval() {
    let (mut i, _) = started(params(Version::V3, 100, 1), 0);
    let fast = Advert {
        interval_cs: 20,
        ..advert(Version::V3, 200)
    };
    rx(&mut i, 1_000, &fast, 2);
    assert_eq!(i.master_adver_int_cs(), 20);
    rx(
        &mut i,
        1_100,
        &Advert {
            priority: 0,
            ..fast
        },
        2,
    );
    // (256 - 100) * 200 ms / 256 = 121.875 -> 121.
    assert_eq!(i.next_deadline(), Some(1_221));
}

#[test]
fn master_answers_priority_zero_and_rearms() {
    let mut p = params(Version::V2, 100, 1);
    p.initial = InitialState::Master;
    let (mut i, m) = mastered(p, 0);
    assert_eq!(
        rx(&mut i, m + 300, &advert(Version::V2, 0), 2),
        [SendAdvert { priority: 100 }]
    );
    assert_eq!(i.next_deadline(), Some(m + 1_300));
    assert_eq!(i.state(), State::Master);
}
#[test]
fn v3_learns_master_adver_interval() {
    let (mut i, _) = started(params(Version::V3, 100, 1), 0);
    assert_eq!(i.master_adver_int_cs(), 100);
    let a = Advert {
        interval_cs: 50,
        ..advert(Version::V3, 200)
    };
    rx(&mut i, 1_000, &a, 2);
    assert_eq!(i.master_adver_int_cs(), 50);
    // 3 * 500 + 156 * 500 / 256 = 1500 + 304.6875 -> 1 804.
    assert_eq!(i.next_deadline(), Some(1_000 + 1_804));
    // As master we advertise at our own interval again.
    assert_eq!(
        transitions(&tick(&mut i, 2_804)),
        [(State::Backup, State::Master)]
    );
    assert_eq!(i.master_adver_int_cs(), 100);
    assert_eq!(i.next_deadline(), Some(3_804));
    // A master stepping down learns the new master's interval too.
    let b = Advert {
        interval_cs: 30,
        ..advert(Version::V3, 200)
    };
    rx(&mut i, 3_000, &b, 2);
    assert_eq!(i.state(), State::Backup);
    assert_eq!(i.master_adver_int_cs(), 30);
    // 900 + 156 * 300 / 256 = 900 + 182.8125 -> 1 082.
    assert_eq!(i.next_deadline(), Some(3_000 + 1_082));
}

#[test]
fn v2_interval_is_never_learned() {
    let (mut i, _) = started(params(Version::V2, 100, 1), 0);
    rx(&mut i, 1_000, &advert(Version::V2, 200), 2);
    assert_eq!(i.master_adver_int_cs(), 100);
}

#[test]
fn fault_and_recovery() {
    let mut p = params(Version::V2, 100, 1);
    p.initial = InitialState::Master;
    p.preempt_delay_ms = 2_000;
    // Two transitions so far: INIT -> BACKUP (start-up wait) -> MASTER.
    let (mut i, m) = mastered(p, 0);
    assert_eq!(i.stats().transitions, 2);
    let mut out = Vec::new();
    i.set_fault(m + 500, true, &mut out);
    assert_eq!(
        out,
        [
            SendAdvert { priority: 0 },
            Transition {
                from: State::Master,
                to: State::Fault
            }
        ]
    );
    assert_eq!(i.next_deadline(), None);
    assert_eq!(i.master(), None);
    // Packets are validated and counted but change nothing.
    assert!(rx(&mut i, m + 600, &advert(Version::V2, 50), 2).is_empty());
    assert_eq!(i.stats().adverts_received, 1);
    assert!(tick(&mut i, m + 100_000).is_empty());
    // Repeated fault reports are no-ops.
    out.clear();
    i.set_fault(m + 700, true, &mut out);
    assert!(out.is_empty());
    // Recovery goes to BACKUP (not the initial MASTER) with a fresh wait and
    // a fresh preempt hold.
    let up = m + 1_000;
    i.set_fault(up, false, &mut out);
    assert_eq!(
        out,
        [Transition {
            from: State::Fault,
            to: State::Backup
        }]
    );
    assert_eq!(i.next_deadline(), Some(up + 3_609));
    rx(&mut i, up + 1_000, &advert(Version::V2, 50), 2);
    assert_eq!(
        i.next_deadline(),
        Some(up + 1_000 + 3_609),
        "held until up + 2 000"
    );
    rx(&mut i, up + 2_000, &advert(Version::V2, 50), 2);
    assert_eq!(i.next_deadline(), Some(up + 1_000 + 3_609), "hold over");
    // Backup -> fault emits no advert.
    out.clear();
    i.set_fault(up + 3_000, true, &mut out);
    assert_eq!(
        out,
        [Transition {
            from: State::Backup,
            to: State::Fault
        }]
    );
    // Plus MASTER -> FAULT -> BACKUP -> FAULT.
    assert_eq!(i.stats().transitions, 2 + 3);
}
#[test]
fn owner_recovers_straight_to_master() {
    let (mut i, _) = started(params(Version::V3, 255, 1), 0);
    let mut out = Vec::new();
    i.set_fault(10, true, &mut out);
    out.clear();
    i.set_fault(20, false, &mut out);
    assert_eq!(
        out,
        [
            Transition {
                from: State::Fault,
                to: State::Master
            },
            SendAdvert { priority: 255 },
            Garp
        ]
    );
}

#[test]
fn fault_before_start_starts_in_fault() {
    let mut i = Instance::new(params(Version::V2, 100, 1));
    let mut out = Vec::new();
    i.set_fault(0, true, &mut out);
    assert!(out.is_empty(), "nothing to leave in INIT");
    i.start(0, &mut out);
    assert_eq!(
        out,
        [Transition {
            from: State::Init,
            to: State::Fault
        }]
    );
    assert_eq!(i.next_deadline(), None);
}

#[test]
fn shutdown_sends_priority_zero_from_master_only() {
    let mut p = params(Version::V2, 100, 1);
    p.initial = InitialState::Master;
    p.garp_delay_ms = 5_000;
    let (mut i, m) = mastered(p, 0);
    let mut out = Vec::new();
    // The adver timer and the GARP round (m + 5 000) are both pending.
    i.shutdown(m + 2_000, &mut out);
    assert_eq!(
        out,
        [
            SendAdvert { priority: 0 },
            Transition {
                from: State::Master,
                to: State::Init
            }
        ]
    );
    assert_eq!(i.state(), State::Init);
    assert_eq!(i.next_deadline(), None);
    assert!(tick(&mut i, m + 100_000).is_empty());
    i.note_sent(0);
    assert_eq!(i.stats().priority_zero_sent, 1);
    assert_eq!(i.stats().adverts_sent, 1);

    let (mut b, _) = started(params(Version::V2, 100, 1), 0);
    out.clear();
    b.shutdown(10, &mut out);
    assert_eq!(
        out,
        [Transition {
            from: State::Backup,
            to: State::Init
        }]
    );
    out.clear();
    b.shutdown(20, &mut out);
    assert!(out.is_empty(), "already stopped");
    // A stopped instance can start again.
    b.start(30, &mut out);
    assert_eq!(b.state(), State::Backup);
}

#[test]
fn start_twice_is_a_no_op() {
    let (mut i, _) = started(params(Version::V2, 100, 1), 0);
    let mut out = Vec::new();
    i.start(10, &mut out);
    assert!(out.is_empty());
    assert_eq!(i.next_deadline(), Some(3_609));
}

#[test]
fn state_names() {
    let names: Vec<_> = [State::Init, State::Backup, State::Master, State::Fault]
        .iter()
        .map(|s| s.name())
        .collect();
    assert_eq!(names, ["INIT", "BACKUP", "MASTER", "FAULT"]);
}
