//! ovf: overflow — the highest-weight server whose active connections do
//! not exceed its weight; the next one takes over when it fills up.

use crate::{Dest, DestChange, Millis, PacketKey, Scheduler};

pub struct Ovf;

impl Scheduler for Ovf {
    fn name(&self) -> &'static str {
        "ovf"
    }

    fn dests_changed(&mut self, _dests: &[Dest], _change: DestChange) {}

    fn schedule(&mut self, dests: &[Dest], _pkt: &PacketKey, _now: Millis) -> Option<usize> {
        let mut best: Option<usize> = None;
        let mut hw = 0;
        for (i, d) in dests.iter().enumerate() {
            if d.overloaded || d.active > d.weight || d.weight == 0 {
                continue;
            }
            if best.is_none() || d.weight > hw {
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
    fn overflows_in_weight_order() {
        let mut d = dests(&[1, 3, 2]);
        let mut s = Ovf;
        let mut seq = Vec::new();
        for _ in 0..9 {
            let i = s.schedule(&d, &any_pkt(), 0).unwrap_or(NONE);
            if i != NONE {
                d[i].active += 1;
            }
            seq.push(i);
        }
        // B takes 4 (active 0..=3 <= 3), then C 3, then A 2, then none.
        assert_eq!(seq, [1, 1, 1, 1, 2, 2, 2, 0, 0]);
        assert_eq!(picks(&mut s, &d, 1), [NONE]);
    }

    #[test]
    fn ties_first_and_overload_skipped() {
        let mut d = dests(&[2, 2, 0]);
        let mut s = Ovf;
        assert_eq!(picks(&mut s, &d, 1), [0]);
        d[0].overloaded = true;
        assert_eq!(picks(&mut s, &d, 1), [1]);
    }
}
