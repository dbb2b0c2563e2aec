//! twos: power of two choices — two weighted random picks, keep the one
//! with the lower overhead per unit of weight.

use crate::common::cross_gt;
use crate::{Dest, DestChange, Millis, PacketKey, Scheduler};

/// The kernel draws from its per-CPU prandom; any decent deterministic
/// generator gives the same distribution. SplitMix64 is tiny and has no
/// bad seeds, so the service seed can be used as is.
pub struct Twos {
    state: u64,
}

impl Twos {
    pub fn new(seed: u64) -> Self {
        Twos { state: seed }
    }

    fn next_u32(&mut self) -> u32 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 32) as u32
    }
}

impl Scheduler for Twos {
    fn name(&self) -> &'static str {
        "twos"
    }

    fn dests_changed(&mut self, _dests: &[Dest], _change: DestChange) {}

    fn schedule(&mut self, dests: &[Dest], _pkt: &PacketKey, _now: Millis) -> Option<usize> {
        let total: u64 = dests
            .iter()
            .filter(|d| d.available())
            .map(|d| d.weight as u64)
            .sum();
        if total == 0 {
            return None;
        }
        // Both draws are in [0, total] inclusive (the kernel adds 1 to the
        // modulus); a server is chosen once the running sum reaches the draw.
        let mut r1 = (self.next_u32() as u64 % (total + 1)) as i64;
        let mut r2 = (self.next_u32() as u64 % (total + 1)) as i64;
        let mut c1: Option<(usize, u64)> = None;
        let mut c2: Option<(usize, u64)> = None;
        for (i, d) in dests.iter().enumerate() {
            if !d.available() {
                continue;
            }
            r1 -= d.weight as i64;
            r2 -= d.weight as i64;
            if r1 <= 0 && c1.is_none() {
                c1 = Some((i, d.overhead()));
            }
            if r2 <= 0 && c2.is_none() {
                c2 = Some((i, d.overhead()));
            }
            if c1.is_some() && c2.is_some() {
                break;
            }
        }
        let (i1, oh1) = c1?;
        match c2 {
            // Second choice only when strictly less loaded per weight.
            Some((i2, oh2)) if cross_gt(oh1, dests[i2].weight, oh2, dests[i1].weight) => Some(i2),
            _ => Some(i1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::test_util::*;

    #[test]
    fn never_picks_unavailable() {
        let mut d = dests(&[3, 0, 5, 2]);
        d[2].overloaded = true;
        let mut s = Twos::new(7);
        for i in picks(&mut s, &d, 500) {
            assert!(i == 0 || i == 3, "{i}");
        }
        d[0].weight = 0;
        d[3].overloaded = true;
        assert_eq!(picks(&mut s, &d, 3), [NONE, NONE, NONE]);
    }

    #[test]
    fn prefers_less_loaded_of_two() {
        // Equal weights; B carries load, so B only wins when both draws
        // land on it: about a quarter of the time.
        let mut d = dests(&[1, 1]);
        d[1].active = 100;
        let mut s = Twos::new(1);
        let n = 20_000;
        let b = picks(&mut s, &d, n).iter().filter(|&&i| i == 1).count();
        // Draws over [0, 2]: A for 0 and 1 (r - 1 <= 0), B for 2 only.
        // P(B chosen twice) = 1/9.
        let share = b as f64 / n as f64;
        assert!((share - 1.0 / 9.0).abs() < 0.02, "{share}");
    }

    #[test]
    fn same_seed_same_sequence() {
        let d = dests(&[1, 2, 3]);
        let mut a = Twos::new(42);
        let mut b = Twos::new(42);
        assert_eq!(picks(&mut a, &d, 50), picks(&mut b, &d, 50));
    }
}
