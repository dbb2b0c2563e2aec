use super::*;
use crate::common::test_util::*;
use crate::lcache::CHECK_INTERVAL;

fn to(dst: [u8; 4]) -> PacketKey {
    pkt([192, 168, 0, 1], 1234, dst)
}

#[test]
fn sticks_to_cached_server_despite_load() {
    let mut d = dests(&[1, 1, 1]);
    let mut s = Lblc::new(&d);
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 1]), 0), Some(0));
    // Another destination goes to the least loaded server.
    d[0].active = 1;
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 2]), 0), Some(1));
    d[1].active = 1;
    // active 1 is not > weight 1: still cached.
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 1]), 1), Some(0));
    // active 2 > 1, but nobody has active*2 < weight: still cached.
    d[0].active = 2;
    d[1].active = 1;
    d[2].active = 1;
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 1]), 2), Some(0));
}

#[test]
fn moves_when_overloaded_relative_to_an_idle_server() {
    let mut d = dests(&[1, 1, 4]);
    let mut s = Lblc::new(&d);
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 1]), 0), Some(0));
    d[0].active = 2; // > weight 1
    d[2].active = 1; // 2 < 4: a server below half its weight exists
    d[1].active = 1;
    // wlc: A 512/1, B 256/1, C 256/4 -> C
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 1]), 1), Some(2));
    // The entry now points at C.
    d[0].active = 0;
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 1]), 2), Some(2));
}

#[test]
fn threshold_overload_flag_does_not_move_cached_entry() {
    let mut d = dests(&[1, 1]);
    let mut s = Lblc::new(&d);
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 1]), 0), Some(0));
    d[0].overloaded = true;
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 1]), 1), Some(0));
    // But a new destination never lands on it.
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 9]), 1), Some(1));
}

#[test]
fn quiesced_or_removed_server_is_replaced() {
    let mut d = dests(&[1, 1, 1]);
    let mut s = Lblc::new(&d);
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 1]), 0), Some(0));
    d[0].weight = 0;
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 1]), 1), Some(1));
    d[1].active = 5;
    let gone = d.remove(1);
    s.dests_changed(
        &d,
        DestChange::Removed {
            index: 1,
            id: gone.id,
        },
    );
    // ids now 10 (weight 0), 12.
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 1]), 2), Some(1));
    assert_eq!(d[1].id, 12);
}

#[test]
fn follows_server_when_list_shifts() {
    let mut d = dests(&[1, 1]);
    let mut s = Lblc::new(&d);
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 1]), 0), Some(0));
    d.insert(0, dest(50, 1));
    s.dests_changed(&d, DestChange::Added(0));
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 1]), 1), Some(1));
}

#[test]
fn idle_entry_expires_and_rescheduling_uses_wlc() {
    let mut d = dests(&[1, 1]);
    let mut s = Lblc::new(&d);
    s.set_expiration(2 * CHECK_INTERVAL);
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 1]), 0), Some(0));
    d[0].inactive = 1;
    // Full expiration pass at the 30th tick; drive it with other traffic.
    let other = to([10, 9, 9, 9]);
    for k in 1..=30 {
        s.schedule(&d, &other, k * CHECK_INTERVAL);
    }
    for _ in 0..100 {
        s.schedule(&d, &other, 30 * CHECK_INTERVAL);
    }
    assert_eq!(s.cache.find(u32::from_be_bytes([10, 1, 1, 1])), None);
    assert_eq!(
        s.schedule(&d, &to([10, 1, 1, 1]), 30 * CHECK_INTERVAL),
        Some(1)
    );
}

#[test]
fn none_when_nothing_available() {
    let d = dests(&[0, 0]);
    let mut s = Lblc::new(&d);
    assert_eq!(s.schedule(&d, &to([10, 1, 1, 1]), 0), None);
}
