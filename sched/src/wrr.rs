//! wrr: weighted round robin by descending "current weight" passes.
//!
//! Each pass walks the list picking servers whose weight is at least `cw`;
//! at the end of the list `cw` drops by the gcd of the weights `di`, and
//! after the pass with `cw <= di` it starts again at `mw`. `mw` is the
//! maximum weight minus `di - 1`, so the last pass of a cycle is `cw = 1`
//! and still finds a server whose weight was lowered below the gcd.

use crate::common::gcd_weights;
use crate::{Dest, DestChange, Millis, PacketKey, Scheduler};

pub struct Wrr {
    /// Last server picked, `None` = list head.
    cursor: Option<usize>,
    cw: i64,
    mw: i64,
    di: i64,
}

/// (di, mw) for the current list.
fn steps(dests: &[Dest]) -> (i64, i64) {
    let di = match gcd_weights(dests.iter().map(|d| d.weight)) {
        0 => 1,
        g => g as i64,
    };
    let max = dests.iter().map(|d| d.weight).max().unwrap_or(0) as i64;
    (di, max - (di - 1))
}

impl Wrr {
    pub fn new(dests: &[Dest]) -> Self {
        let (di, mw) = steps(dests);
        Wrr {
            cursor: None,
            cw: mw,
            mw,
            di,
        }
    }
}

impl Scheduler for Wrr {
    fn name(&self) -> &'static str {
        "wrr"
    }

    fn dests_changed(&mut self, dests: &[Dest], _change: DestChange) {
        // Any change (add, delete, edit) restarts the walk from the head;
        // the current weight survives unless it no longer fits the new
        // range, or is re-aligned onto the new gcd grid (+1, as mw is).
        let (di, mw) = steps(dests);
        self.cursor = None;
        self.di = di;
        self.mw = mw;
        if self.cw > mw || self.cw == 0 {
            self.cw = mw;
        } else if di > 1 {
            self.cw = (self.cw / di) * di + 1;
        }
    }

    fn schedule(&mut self, dests: &[Dest], _pkt: &PacketKey, _now: Millis) -> Option<usize> {
        let n = dests.len();
        if self.mw <= 0 {
            return None;
        }
        let last = self.cursor.filter(|&c| c < n);
        let mut pos = last;
        let mut stop: Option<usize> = None;
        let mut last_pass = false;
        let mut restarted = false;
        // Each trip through the head lowers cw by di >= 1, so two cycles of
        // mw / di passes bound the walk; the guard only backs that up.
        let mut guard = 2 * (self.mw / self.di + 2) + 2;
        loop {
            let start = pos.map_or(0, |p| p + 1);
            for (i, d) in dests.iter().enumerate().skip(start) {
                if !d.overloaded && d.weight as i64 >= self.cw {
                    self.cursor = Some(i);
                    return Some(i);
                }
                if stop == Some(i) {
                    // Every server was checked down to weight >= 1.
                    self.cursor = Some(i);
                    return None;
                }
            }
            pos = None;
            self.cw -= self.di;
            if self.cw <= 0 {
                self.cw = self.mw;
                if last_pass || last.is_none() {
                    self.cursor = None;
                    return None;
                }
                restarted = true;
            }
            last_pass = self.cw <= self.di;
            if last_pass && restarted && last.is_some() {
                // The first pass only covered servers after `last`; finish
                // the weight >= 1 check on the ones up to it.
                stop = last;
            }
            guard -= 1;
            if guard <= 0 {
                self.cursor = None;
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::test_util::*;

    #[test]
    fn fresh_init_cycle() {
        // A4 B3 C2 in list order, all present at init.
        let d = dests(&[4, 3, 2]);
        let mut s = Wrr::new(&d);
        assert_eq!(
            picks(&mut s, &d, 18),
            [0, 0, 1, 0, 1, 2, 0, 1, 2, 0, 0, 1, 0, 1, 2, 0, 1, 2]
        );
    }

    #[test]
    fn built_by_adding_one_by_one_starts_elsewhere() {
        // `ipvsadm -a` C, then B, then A: each lands at the head, giving
        // the list A B C, but cw was 1 when A arrived.
        let mut d: Vec<Dest> = Vec::new();
        let mut s = Wrr::new(&d);
        for (id, w) in [(12, 2), (11, 3), (10, 4)] {
            d.insert(0, dest(id, w));
            s.dests_changed(&d, DestChange::Added(0));
        }
        assert_eq!(
            ids(&mut s, &d, 12),
            [10, 11, 12, 10, 10, 11, 10, 11, 12, 10, 11, 12]
        );
    }

    #[test]
    fn gcd_steps() {
        // Weights 4 2: di 2, mw 3; passes cw 3 and 1 give A, A B.
        let d = dests(&[4, 2]);
        let mut s = Wrr::new(&d);
        assert_eq!(picks(&mut s, &d, 6), [0, 0, 1, 0, 0, 1]);
    }

    #[test]
    fn quiescent_and_overloaded_skipped() {
        let mut d = dests(&[3, 0, 1]);
        let mut s = Wrr::new(&d);
        assert_eq!(picks(&mut s, &d, 8), [0, 0, 0, 2, 0, 0, 0, 2]);
        d[0].overloaded = true;
        assert_eq!(picks(&mut s, &d, 3), [2, 2, 2]);
        d[2].overloaded = true;
        assert_eq!(picks(&mut s, &d, 2), [NONE, NONE]);
        d[0].overloaded = false;
        assert_eq!(picks(&mut s, &d, 2), [0, 0]);
    }

    #[test]
    fn all_zero_weights() {
        let d = dests(&[0, 0]);
        let mut s = Wrr::new(&d);
        assert_eq!(picks(&mut s, &d, 2), [NONE, NONE]);
    }

    #[test]
    fn weight_lowered_below_gcd_is_still_found() {
        // di was 2 (weights 4 2); the edit to 1 recomputes di = 1 anyway,
        // but the cw re-alignment rule is exercised on the way.
        let mut d = dests(&[4, 2]);
        let mut s = Wrr::new(&d);
        assert_eq!(picks(&mut s, &d, 1), [0]); // cw 3
        d[1].weight = 1;
        s.dests_changed(&d, DestChange::Edited(1));
        // di 1, mw 4, cw 3 kept: A (4>=3), then cw 2: A, cw 1: A B, ...
        assert_eq!(picks(&mut s, &d, 6), [0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn realign_cw_on_gcd_grid() {
        // Weights 6 4 (di 2, mw 5); after two picks cw = 5 -> 3.
        let mut d = dests(&[6, 4]);
        let mut s = Wrr::new(&d);
        assert_eq!(picks(&mut s, &d, 3), [0, 0, 1]); // cw 5: A; cw 3: A B
        d.insert(0, dest(50, 8));
        s.dests_changed(&d, DestChange::Added(0));
        // di 2, mw 7; cw 3 -> (3/2)*2+1 = 3; walk restarts at the head.
        assert_eq!(ids(&mut s, &d, 4), [50, 10, 11, 50]);
    }

    #[test]
    fn removal_resets_to_head() {
        let mut d = dests(&[1, 1, 1]);
        let mut s = Wrr::new(&d);
        assert_eq!(picks(&mut s, &d, 2), [0, 1]);
        let gone = d.remove(2);
        s.dests_changed(
            &d,
            DestChange::Removed {
                index: 2,
                id: gone.id,
            },
        );
        assert_eq!(ids(&mut s, &d, 3), [10, 11, 10]);
    }
}
