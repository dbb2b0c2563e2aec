use super::*;

#[test]
fn v2_skew_ignores_interval() {
    // (256 - 100) * 1e6 / 256 = 156e6 / 256 = 609 375 us.
    assert_eq!(skew_us(Version::V2, 100, 100), 609_375);
    assert_eq!(skew_us(Version::V2, 100, 300), 609_375);
    // Priority 255: 1e6 / 256 = 3 906.25 -> 3 906 us.
    assert_eq!(skew_us(Version::V2, 255, 100), 3_906);
}

#[test]
fn v3_skew_scales_with_interval() {
    // (256 - 100) * 10 cs * 10 000 us / 256 = 15 600 000 / 256 = 60 937.5 -> 60 937 us.
    assert_eq!(skew_us(Version::V3, 100, 10), 60_937);
    // At 100 cs v3 equals v2.
    assert_eq!(skew_us(Version::V3, 100, 100), 609_375);
}

#[test]
fn master_down_floors_once() {
    // 3 * 1 s + 609.375 ms.
    assert_eq!(master_down_us(Version::V2, 100, 100), 3_609_375);
    assert_eq!(
        after_us(1_000, master_down_us(Version::V2, 100, 100)),
        4_609
    );
    // 3 * 100 ms + 60.937 ms.
    assert_eq!(master_down_us(Version::V3, 100, 10), 360_937);
    assert_eq!(after_us(0, master_down_us(Version::V3, 100, 10)), 360);
}

#[test]
fn next_and_take_due() {
    let mut t = Timers {
        adver: Some(50),
        master_down: None,
        garp: Some(20),
    };
    assert_eq!(t.next(), Some(20));
    assert!(!take_due(&mut t.garp, 19));
    assert!(take_due(&mut t.garp, 20));
    assert_eq!(t.garp, None);
    assert_eq!(t.next(), Some(50));
    t.clear();
    assert_eq!(t.next(), None);
}
