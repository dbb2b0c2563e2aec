//! sed: shortest expected delay, (active + 1) / weight.

use crate::common::wlc_pick;
use crate::{Dest, DestChange, Millis, PacketKey, Scheduler};

pub struct Sed;

/// Expected delay counts only active connections, plus the new one.
pub(crate) fn sed_overhead(d: &Dest) -> u64 {
    d.active as u64 + 1
}

impl Scheduler for Sed {
    fn name(&self) -> &'static str {
        "sed"
    }

    fn dests_changed(&mut self, _dests: &[Dest], _change: DestChange) {}

    fn schedule(&mut self, dests: &[Dest], _pkt: &PacketKey, _now: Millis) -> Option<usize> {
        wlc_pick(dests, sed_overhead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::test_util::*;

    #[test]
    fn weighted_sequence_ignores_inactive() {
        let mut d = dests(&[1, 2]);
        d[0].inactive = 1000;
        let mut s = Sed;
        let mut seq = Vec::new();
        for _ in 0..6 {
            let i = s.schedule(&d, &any_pkt(), 0).unwrap();
            d[i].active += 1;
            seq.push(i);
        }
        // 1/1 vs 1/2 -> B; 1/1 vs 2/2 tie -> A; 2/1 vs 2/2 -> B;
        // 2/1 vs 3/2 -> B; 2/1 vs 4/2 tie -> A; 3/1 vs 4/2 -> B.
        assert_eq!(seq, [1, 0, 1, 1, 0, 1]);
    }

    #[test]
    fn zero_weight_and_overload_skipped() {
        let mut d = dests(&[0, 1, 1]);
        d[1].overloaded = true;
        let mut s = Sed;
        assert_eq!(picks(&mut s, &d, 1), [2]);
        d[2].weight = 0;
        assert_eq!(picks(&mut s, &d, 1), [NONE]);
    }
}
