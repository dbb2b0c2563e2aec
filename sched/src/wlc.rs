//! wlc: weighted least connections, minimising overhead / weight.

use crate::common::wlc_pick;
use crate::{Dest, DestChange, Millis, PacketKey, Scheduler};

pub struct Wlc;

impl Scheduler for Wlc {
    fn name(&self) -> &'static str {
        "wlc"
    }

    fn dests_changed(&mut self, _dests: &[Dest], _change: DestChange) {}

    fn schedule(&mut self, dests: &[Dest], _pkt: &PacketKey, _now: Millis) -> Option<usize> {
        wlc_pick(dests, Dest::overhead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::test_util::*;

    #[test]
    fn weighted_sequence() {
        // Weights 3 1: each pick opens an active connection.
        let mut d = dests(&[3, 1]);
        let mut s = Wlc;
        let mut seq = Vec::new();
        for _ in 0..8 {
            let i = s.schedule(&d, &any_pkt(), 0).unwrap();
            d[i].active += 1;
            seq.push(i);
        }
        // 0/3 vs 0/1 tie -> A; 256/3 vs 0 -> B; 256/3 < 256 -> A; 512/3
        // < 256 -> A; 768/3 = 256 tie -> A; 1024/3 > 256 -> B; ...
        assert_eq!(seq, [0, 1, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn ties_keep_list_order_and_zero_weight_never_wins() {
        let mut d = dests(&[0, 2, 4]);
        d[1].inactive = 2;
        d[2].inactive = 4; // 2/2 == 4/4
        let mut s = Wlc;
        assert_eq!(picks(&mut s, &d, 1), [1]);
        d[1].overloaded = true;
        assert_eq!(picks(&mut s, &d, 1), [2]);
        d[2].weight = 0;
        assert_eq!(picks(&mut s, &d, 1), [NONE]);
    }

    #[test]
    fn no_overflow_with_huge_counters() {
        let mut d = dests(&[65535, 1]);
        d[0].active = u32::MAX;
        d[0].inactive = u32::MAX;
        d[1].active = u32::MAX / 65535;
        let mut s = Wlc;
        assert_eq!(picks(&mut s, &d, 1), [1]);
    }
}
