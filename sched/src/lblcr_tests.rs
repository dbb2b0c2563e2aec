use super::*;
use crate::common::test_util::*;

fn to(dst: [u8; 4]) -> PacketKey {
    pkt([192, 168, 0, 1], 1234, dst)
}

const H: Millis = 3_600_000;

fn members(s: &mut Lblcr, dst: [u8; 4]) -> Vec<u32> {
    let i = s.cache.find(u32::from_be_bytes(dst)).unwrap();
    s.cache.entry(i).unwrap().val.members.clone()
}

#[test]
fn set_grows_on_overload_and_serves_least_loaded_member() {
    let mut d = dests(&[1, 1, 4]);
    let mut s = Lblcr::new(&d);
    let p = to([10, 1, 1, 1]);
    assert_eq!(s.schedule(&d, &p, 0), Some(0));
    d[0].active = 2;
    d[1].active = 1;
    d[2].active = 1;
    // A overloaded (2 > 1, C at 1*2 < 4): wlc picks C, which joins.
    assert_eq!(s.schedule(&d, &p, 1), Some(2));
    assert_eq!(members(&mut s, [10, 1, 1, 1]), [12, 10]);
    // Least loaded member: C 256/4 vs A 512/1 -> C.
    assert_eq!(s.schedule(&d, &p, 2), Some(2));
    d[0].active = 0;
    d[2].active = 3;
    // A 0/1 vs C 768/4 -> A (C is first in the set but more loaded).
    assert_eq!(s.schedule(&d, &p, 3), Some(0));
}

#[test]
fn old_set_sheds_most_loaded_member() {
    let mut d = dests(&[1, 1, 4]);
    let mut s = Lblcr::new(&d);
    let p = to([10, 1, 1, 1]);
    s.schedule(&d, &p, 0);
    d[0].active = 2;
    d[1].active = 1;
    d[2].active = 1;
    s.schedule(&d, &p, 1); // set {C, A}, lastmod 1
                           // Exactly at lastmod + expiration nothing happens (strictly after).
    assert_eq!(s.schedule(&d, &p, 1 + 24 * H), Some(2));
    assert_eq!(members(&mut s, [10, 1, 1, 1]).len(), 2);
    // Later: A (512/1) is the most loaded and goes; C still serves.
    assert_eq!(s.schedule(&d, &p, 2 + 24 * H), Some(2));
    assert_eq!(members(&mut s, [10, 1, 1, 1]), [12]);
}

#[test]
fn quiesced_member_skipped_and_removed_member_dropped() {
    let mut d = dests(&[1, 1, 4]);
    let mut s = Lblcr::new(&d);
    let p = to([10, 1, 1, 1]);
    s.schedule(&d, &p, 0);
    d[0].active = 2;
    d[1].active = 1;
    d[2].active = 1;
    s.schedule(&d, &p, 1); // {C, A}
    d[2].weight = 0;
    // C quiesced: set min is A, overloaded vs... nobody below half now
    // (B 1*2 < 1 no, C weight 0) -> A serves.
    assert_eq!(s.schedule(&d, &p, 2), Some(0));
    let gone = d.remove(0);
    s.dests_changed(
        &d,
        DestChange::Removed {
            index: 0,
            id: gone.id,
        },
    );
    assert_eq!(members(&mut s, [10, 1, 1, 1]), [12]);
    // Only C (quiesced) left in the set: wlc picks B, which joins.
    assert_eq!(s.schedule(&d, &p, 3), Some(0));
    assert_eq!(members(&mut s, [10, 1, 1, 1]), [11, 12]);
}

#[test]
fn overloaded_flag_member_not_served() {
    let mut d = dests(&[1, 1]);
    let mut s = Lblcr::new(&d);
    let p = to([10, 1, 1, 1]);
    assert_eq!(s.schedule(&d, &p, 0), Some(0));
    d[0].overloaded = true;
    assert_eq!(s.schedule(&d, &p, 1), Some(1));
    assert_eq!(members(&mut s, [10, 1, 1, 1]), [11, 10]);
}
