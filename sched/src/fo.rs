//! fo: weighted failover — always the highest-weight available server.

use crate::{Dest, DestChange, Millis, PacketKey, Scheduler};

pub struct Fo;

impl Scheduler for Fo {
    fn name(&self) -> &'static str {
        "fo"
    }

    fn dests_changed(&mut self, _dests: &[Dest], _change: DestChange) {}

    fn schedule(&mut self, dests: &[Dest], _pkt: &PacketKey, _now: Millis) -> Option<usize> {
        // Strictly greater than the best so far (starting at 0), so weight
        // 0 never wins and ties go to the earlier server.
        let mut best: Option<usize> = None;
        let mut hw = 0;
        for (i, d) in dests.iter().enumerate() {
            if !d.overloaded && d.weight > hw {
                best = Some(i);
                hw = d.weight;
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::test_util::*;

    #[test]
    fn highest_weight_ties_to_first() {
        let mut d = dests(&[2, 5, 5, 1]);
        d[1].active = 1000; // load does not matter
        let mut s = Fo;
        assert_eq!(picks(&mut s, &d, 3), [1, 1, 1]);
        d[1].overloaded = true;
        assert_eq!(picks(&mut s, &d, 1), [2]);
        d[2].weight = 0;
        assert_eq!(picks(&mut s, &d, 1), [0]);
        for x in d.iter_mut() {
            x.weight = 0;
        }
        assert_eq!(picks(&mut s, &d, 1), [NONE]);
    }
}
