use super::*;
use crate::common::test_util::*;

fn count(t: &[Option<u32>], id: u32) -> usize {
    t.iter().filter(|&&x| x == Some(id)).count()
}

#[test]
fn table_is_full_and_follows_weights() {
    let d = dests(&[1, 2, 3]);
    let s = Mh::new(&d, SchedFlags::default()).unwrap();
    let t = s.table_snapshot().unwrap();
    assert_eq!(t.len(), TAB_SIZE);
    assert!(t.iter().all(Option::is_some));
    // Turns 1, 2, 3 per round: 6 slots per round until the table fills.
    let (a, b, c) = (count(&t, 10), count(&t, 11), count(&t, 12));
    assert_eq!(a + b + c, TAB_SIZE);
    assert!(
        (a as i64 - 682).abs() <= 1 && (b as i64 - 1364).abs() <= 2,
        "{a} {b} {c}"
    );
}

#[test]
fn lookup_uses_siphash_of_source() {
    let d = dests(&[1, 1, 1, 1]);
    let mut s = Mh::new(&d, SchedFlags::default()).unwrap();
    let t = s.table_snapshot().unwrap();
    for a in [[192, 168, 0, 1], [10, 9, 8, 7], [1, 1, 1, 1]] {
        let v = u32::from_be_bytes(a);
        let slot = hsiphash_u32(v, HASH1.0, HASH1.1) % TAB_SIZE as u32;
        let got = s.schedule(&d, &pkt(a, 999, [10, 1, 1, 1]), 0).unwrap();
        assert_eq!(Some(d[got].id), t[slot as usize]);
    }
}

#[test]
fn mh_port_hashes_the_source_port() {
    let d = dests(&[1; 16]);
    let flags = SchedFlags {
        mh_port: true,
        ..Default::default()
    };
    let mut s = Mh::new(&d, flags).unwrap();
    let t = s.table_snapshot().unwrap();
    let a = [192, 168, 0, 1];
    let mut seen = std::collections::HashSet::new();
    for port in 1000..1100u16 {
        let v = u32::from_be_bytes(a) + port as u32;
        let slot = hsiphash_u32(v, HASH1.0, HASH1.1) % TAB_SIZE as u32;
        let got = s.schedule(&d, &pkt(a, port, [10, 1, 1, 1]), 0).unwrap();
        assert_eq!(Some(d[got].id), t[slot as usize]);
        seen.insert(got);
    }
    assert!(seen.len() > 8, "ports should spread one client");
}

#[test]
fn quiesced_server_keeps_its_slots() {
    let mut d = dests(&[2, 2, 2]);
    let mut s = Mh::new(&d, SchedFlags::default()).unwrap();
    let before = s.table_snapshot().unwrap();
    d[1].weight = 0;
    s.dests_changed(&d, DestChange::Edited(1));
    assert_eq!(s.table_snapshot().unwrap(), before);
    // A source whose slot belongs to server 11 gets nothing...
    let slot_of = |a: [u8; 4]| {
        let v = u32::from_be_bytes(a);
        (hsiphash_u32(v, HASH1.0, HASH1.1) % TAB_SIZE as u32) as usize
    };
    let a = (0..=255u8)
        .map(|x| [172, 16, 0, x])
        .find(|&a| before[slot_of(a)] == Some(11))
        .unwrap();
    let p = pkt(a, 1, [10, 1, 1, 1]);
    assert_eq!(s.schedule(&d, &p, 0), None);
    // ...unless fallback is on.
    let mut fb = Mh::new(
        &d,
        SchedFlags {
            sh_fallback: true,
            ..Default::default()
        },
    )
    .unwrap();
    let got = fb.schedule(&d, &p, 0).unwrap();
    assert_ne!(got, 1);
    // Restoring the weight restores the same table.
    d[1].weight = 2;
    s.dests_changed(&d, DestChange::Edited(1));
    assert_eq!(s.table_snapshot().unwrap(), before);
    assert_eq!(s.schedule(&d, &p, 0), Some(1));
}

#[test]
fn added_with_zero_weight_gets_no_slots() {
    let mut d = dests(&[1, 1]);
    let mut s = Mh::new(&d, SchedFlags::default()).unwrap();
    d.insert(0, dest(50, 0));
    s.dests_changed(&d, DestChange::Added(0));
    assert_eq!(count(&s.table_snapshot().unwrap(), 50), 0);
    d[0].weight = 1;
    s.dests_changed(&d, DestChange::Edited(0));
    assert!(count(&s.table_snapshot().unwrap(), 50) > 1000);
}

#[test]
fn removed_server_vanishes_and_others_mostly_stay() {
    let mut d = dests(&[1; 10]);
    let mut s = Mh::new(&d, SchedFlags::default()).unwrap();
    let before = s.table_snapshot().unwrap();
    let gone = d.remove(3);
    s.dests_changed(
        &d,
        DestChange::Removed {
            index: 3,
            id: gone.id,
        },
    );
    let after = s.table_snapshot().unwrap();
    assert_eq!(count(&after, gone.id), 0);
    let moved = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b != a && **b != Some(gone.id))
        .count();
    assert!(moved < TAB_SIZE / 10, "{moved}");
}

#[test]
fn all_zero_or_empty_gives_empty_table() {
    let d = dests(&[0, 0]);
    let mut s = Mh::new(&d, SchedFlags::default()).unwrap();
    assert!(s.table_snapshot().unwrap().iter().all(Option::is_none));
    assert_eq!(s.schedule(&d, &any_pkt(), 0), None);
}

#[test]
fn huge_weight_ratio_is_shifted() {
    let d = dests(&[65535, 1]);
    let s = Mh::new(&d, SchedFlags::default()).unwrap();
    let t = s.table_snapshot().unwrap();
    // 65535 >> 10 = 63 turns against 1.
    let b = count(&t, 11);
    assert!((60..=70).contains(&b), "{b}");
}

#[test]
fn too_many_servers_is_refused() {
    let d: Vec<Dest> = (0..TAB_SIZE as u32 + 1).map(|i| dest(i, 1)).collect();
    assert!(matches!(
        Mh::new(&d, SchedFlags::default()),
        Err(SchedError::TooManyDests { .. })
    ));
}
