//! nq: never queue — the first idle server, else shortest expected delay.

use crate::common::cross_gt;
use crate::sed::sed_overhead;
use crate::{Dest, DestChange, Millis, PacketKey, Scheduler};

pub struct Nq;

impl Scheduler for Nq {
    fn name(&self) -> &'static str {
        "nq"
    }

    fn dests_changed(&mut self, _dests: &[Dest], _change: DestChange) {}

    fn schedule(&mut self, dests: &[Dest], _pkt: &PacketKey, _now: Millis) -> Option<usize> {
        let mut least: Option<(usize, u64)> = None;
        for (i, d) in dests.iter().enumerate() {
            if !d.available() {
                continue;
            }
            // An idle server wins at once, even over a heavier one later.
            if d.active == 0 {
                return Some(i);
            }
            let doh = sed_overhead(d);
            let better = match least {
                None => true,
                Some((l, loh)) => cross_gt(loh, d.weight, doh, dests[l].weight),
            };
            if better {
                least = Some((i, doh));
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
    fn idle_server_first_then_sed() {
        let mut d = dests(&[1, 5, 1]);
        d[0].active = 1;
        d[0].inactive = 50; // inactive never counts
        let mut s = Nq;
        assert_eq!(picks(&mut s, &d, 1), [1]);
        d[1].active = 4;
        assert_eq!(picks(&mut s, &d, 1), [2]);
        d[2].active = 1;
        // 2/1, 5/5, 2/1 -> B
        assert_eq!(picks(&mut s, &d, 1), [1]);
        d[1].active = 9; // 10/5 = 2/1 tie: first in list (A)
        assert_eq!(picks(&mut s, &d, 1), [0]);
    }

    #[test]
    fn idle_but_unavailable_is_skipped() {
        let mut d = dests(&[0, 1, 1]);
        d[1].overloaded = true;
        d[2].active = 3;
        let mut s = Nq;
        assert_eq!(picks(&mut s, &d, 1), [2]);
        d[2].weight = 0;
        assert_eq!(picks(&mut s, &d, 1), [NONE]);
    }
}
