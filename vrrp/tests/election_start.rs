//! The start rules on a virtual clock: keepalived 2.2.7's initial MASTER
//! below 255, the address owner, the second gratuitous-ARP round.

mod common;

use common::machine::*;
use common::*;
use vrrp::{Action, InitialState, State, Version};

use Action::{Garp, SendAdvert, Transition};

#[test]
fn initial_master_below_255_waits_one_interval_plus_the_smallest_skew() {
    let mut p = params(Version::V2, 100, 1);
    p.initial = InitialState::Master;
    let start = 1_000;
    // 1 000 ms + floor((256 - 255) * 1 000 ms / 256) = 1 000 + 3 ms.
    let smallest_weight: u64 = 256 - 255;
    let takeover = start + 1_000 + smallest_weight * 1_000 / 256;
    assert_eq!(takeover, start + 1_003);
    assert_eq!(takeover, start + initial_master_wait_ms(&p));
    let (mut i, out) = started(p.clone(), start);
    assert_eq!(out, init_to_backup());
    assert_eq!(i.state(), State::Backup);
    assert_eq!(i.master(), None);
    assert_eq!(i.next_deadline(), Some(takeover));
    assert!(tick(&mut i, takeover - 1).is_empty());
    assert_eq!(i.state(), State::Backup);
    assert_eq!(
        tick(&mut i, takeover),
        [
            Transition {
                from: State::Backup,
                to: State::Master
            },
            SendAdvert { priority: 100 },
            Garp
        ]
    );
    assert_eq!(i.state(), State::Master);
    assert_eq!(i.next_deadline(), Some(takeover + 1_000));

    // A master that speaks first keeps us BACKUP: the wait is replaced by a
    // full Master_Down_Interval (3 000 + 609.375 -> 3 609 ms) from its advert.
    let (mut i, _) = started(p, start);
    let heard = start + 500;
    assert!(rx(&mut i, heard, &advert(Version::V2, 150), 2).is_empty());
    assert_eq!(i.state(), State::Backup);
    assert_eq!(i.master(), Some(ip(2)));
    assert_eq!(i.next_deadline(), Some(heard + 3_609));
    assert!(tick(&mut i, takeover).is_empty());
    assert_eq!(i.state(), State::Backup);
    // Only if that master then goes silent do we take over.
    assert!(tick(&mut i, heard + 3_608).is_empty());
    assert_eq!(tick(&mut i, heard + 3_609), backup_to_master());
}

#[test]
fn initial_master_owner_is_master_at_once() {
    let mut p = params(Version::V2, 255, 1);
    p.initial = InitialState::Master;
    let (i, out) = started(p, 1_000);
    assert_eq!(
        out,
        [
            Transition {
                from: State::Init,
                to: State::Master
            },
            SendAdvert { priority: 255 },
            Garp
        ]
    );
    assert_eq!(i.next_deadline(), Some(2_000));
}

#[test]
fn initial_master_takes_over_with_second_garp_round() {
    let mut p = params(Version::V2, 100, 1);
    p.initial = InitialState::Master;
    p.garp_delay_ms = 5_000;
    // `mastered` checks the takeover itself: advert first, then GARP.
    let (mut i, m) = mastered(p, 100);
    let mut seen = Vec::new();
    while let Some(t) = i.next_deadline().filter(|t| *t <= m + 6_000) {
        for a in tick(&mut i, t) {
            seen.push((t, a));
        }
    }
    let adverts: Vec<_> = seen
        .iter()
        .filter(|(_, a)| *a == SendAdvert { priority: 100 })
        .map(|(t, _)| *t)
        .collect();
    let expected: Vec<_> = (1..=6).map(|k| m + k * 1_000).collect();
    assert_eq!(adverts, expected);
    let garps: Vec<_> = seen
        .iter()
        .filter(|(_, a)| *a == Garp)
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(garps, [m + 5_000], "exactly one delayed round");
}
#[test]
fn owner_starts_master_even_when_configured_backup() {
    let (i, out) = started(params(Version::V3, 255, 1), 0);
    assert_eq!(i.state(), State::Master);
    assert_eq!(sends(&out), [255]);
}
