//! Invariants of the state machine under random event sequences.

mod common;

use common::*;
use proptest::prelude::*;
use vrrp::codec::Advert;
use vrrp::{Action, InitialState, Instance, State, Version};

#[derive(Clone, Debug)]
enum Op {
    Start,
    /// Advance the clock by this many ms and run due timers.
    Wait(u64),
    /// A valid advert from 10.0.0.`from` with this priority and v3 interval.
    Advert {
        prio: u8,
        from: u8,
        interval_cs: u16,
    },
    Fault(bool),
    Shutdown,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => Just(Op::Start),
        6 => (0u64..5_000).prop_map(Op::Wait),
        6 => (any::<u8>(), 2u8..6, 1u16..300)
            // Peers 2, 3, 5, 6 around our 10.0.0.4, so ties go both ways.
            .prop_map(|(prio, f, interval_cs)| Op::Advert {
                prio,
                from: if f >= 4 { f + 1 } else { f },
                interval_cs,
            }),
        1 => any::<bool>().prop_map(Op::Fault),
        1 => Just(Op::Shutdown),
    ]
}

proptest! {
    #[test]
    fn invariants_hold(
        v3 in any::<bool>(),
        prio in 1u8..=255,
        master_first in any::<bool>(),
        preempt in any::<bool>(),
        preempt_delay_ms in prop_oneof![Just(0u64), 1u64..10_000],
        garp_delay_ms in prop_oneof![Just(0u64), 1u64..10_000],
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let version = if v3 { Version::V3 } else { Version::V2 };
        let mut p = params(version, prio, 4);
        p.initial = if master_first { InitialState::Master } else { InitialState::Backup };
        p.preempt = preempt;
        p.preempt_delay_ms = preempt_delay_ms;
        p.garp_delay_ms = garp_delay_ms;
        let mut inst = Instance::new(p);
        let mut now = 0u64;
        let mut transitions = 0u64;
        for op in ops {
            let before = inst.state();
            let mut out = Vec::new();
            match op {
                Op::Start => inst.start(now, &mut out),
                Op::Wait(dt) => {
                    // Visit every deadline on the way, as a runtime would.
                    let end = now + dt;
                    while let Some(t) = inst.next_deadline().filter(|t| *t <= end) {
                        now = now.max(t);
                        inst.on_timer(now, &mut out);
                        prop_assert!(inst.next_deadline().is_none_or(|d| d > now),
                            "on_timer left a due deadline");
                    }
                    now = end;
                }
                Op::Advert { prio, from, interval_cs } => {
                    let a = Advert {
                        interval_cs: if v3 { interval_cs } else { 100 },
                        ..advert(version, prio)
                    };
                    prop_assert_eq!(inst.on_packet(now, &packet(&a, ip(from)), &mut out), Ok(()));
                }
                Op::Fault(f) => inst.set_fault(now, f, &mut out),
                Op::Shutdown => inst.shutdown(now, &mut out),
            }
            // Transitions chain from the previous state to the current one.
            let mut s = before;
            for a in &out {
                if let Action::Transition { from, to } = a {
                    prop_assert_ne!(from, to);
                    prop_assert_eq!(*from, s);
                    s = *to;
                    transitions += 1;
                }
            }
            prop_assert_eq!(s, inst.state());
            prop_assert_eq!(inst.stats().transitions, transitions);
            // Only a running instance has timers; a master always has its adver timer.
            match inst.state() {
                State::Init | State::Fault => prop_assert_eq!(inst.next_deadline(), None),
                State::Backup => prop_assert!(inst.next_deadline().is_some()),
                State::Master => {
                    prop_assert!(inst.next_deadline().is_some());
                    prop_assert_eq!(inst.master(), Some(ip(4)));
                    prop_assert_eq!(inst.master_adver_int_cs(), inst.params().advert_int_cs);
                }
            }
            // Priority 0 is only ever sent when leaving MASTER.
            for a in &out {
                if *a == (Action::SendAdvert { priority: 0 }) {
                    prop_assert_eq!(before, State::Master);
                    prop_assert!(matches!(inst.state(), State::Init | State::Fault));
                }
            }
            // Every GARP round happens while master.
            if out.contains(&Action::Garp) {
                prop_assert_eq!(inst.state(), State::Master);
            }
        }
    }
}
