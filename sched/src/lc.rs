//! lc: least connections (overhead = active * 256 + inactive).

use crate::{Dest, DestChange, Millis, PacketKey, Scheduler};

pub struct Lc;

impl Scheduler for Lc {
    fn name(&self) -> &'static str {
        "lc"
    }

    fn dests_changed(&mut self, _dests: &[Dest], _change: DestChange) {}

    fn schedule(&mut self, dests: &[Dest], _pkt: &PacketKey, _now: Millis) -> Option<usize> {
        // Strict `<` keeps the earliest server in list order on ties.
        let mut least: Option<(usize, u64)> = None;
        for (i, d) in dests.iter().enumerate() {
            if !d.available() {
                continue;
            }
            let doh = d.overhead();
            match least {
                Some((_, loh)) if doh >= loh => {}
                _ => least = Some((i, doh)),
            }
        }
        least.map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::test_util::*;

    #[test]
    fn least_overhead_first_on_ties() {
        let mut d = dests(&[1, 5, 1]);
        let mut s = Lc;
        assert_eq!(picks(&mut s, &d, 1), [0]);
        d[0].inactive = 1;
        assert_eq!(picks(&mut s, &d, 1), [1]);
        d[1].active = 1; // 256 > 1
        assert_eq!(picks(&mut s, &d, 1), [2]);
        d[2].inactive = 1; // 0:1 1:256 2:1 -> tie, first wins
        assert_eq!(picks(&mut s, &d, 1), [0]);
    }

    #[test]
    fn weight_ignored_except_zero_and_overload() {
        let mut d = dests(&[0, 100, 1]);
        d[1].inactive = 3;
        d[2].inactive = 2;
        let mut s = Lc;
        assert_eq!(picks(&mut s, &d, 1), [2]);
        d[2].overloaded = true;
        assert_eq!(picks(&mut s, &d, 1), [1]);
        d[1].weight = 0;
        assert_eq!(picks(&mut s, &d, 1), [NONE]);
    }

    #[test]
    fn sequence_with_counters() {
        // Simulate each pick opening an active connection.
        let mut d = dests(&[1, 1, 1]);
        let mut s = Lc;
        let mut seq = Vec::new();
        for _ in 0..6 {
            let i = s.schedule(&d, &any_pkt(), 0).unwrap();
            d[i].active += 1;
            seq.push(i);
        }
        assert_eq!(seq, [0, 1, 2, 0, 1, 2]);
    }
}
