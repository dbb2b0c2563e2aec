//! Helpers shared by several schedulers.

use crate::Dest;

/// Greatest common divisor of two positive numbers.
pub(crate) fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

/// gcd of the positive weights in the list, 0 when there are none.
pub(crate) fn gcd_weights<I: IntoIterator<Item = u32>>(weights: I) -> u32 {
    weights
        .into_iter()
        .filter(|&w| w > 0)
        .fold(0, |g, w| if g == 0 { w } else { gcd(w, g) })
}

/// The weighted-least-connection pick that wlc, lblc and lblcr share.
///
/// The first non-overloaded server with weight > 0 seeds the search; later
/// servers replace it only when strictly less loaded per unit of weight
/// (`loh * w_d > doh * w_least`), so ties keep the earlier one. Later
/// servers are only skipped when overloaded: a weight-0 server can never
/// win the cross-multiplied test, exactly as in IPVS.
pub(crate) fn wlc_pick(dests: &[Dest], cost: impl Fn(&Dest) -> u64) -> Option<usize> {
    let first = dests.iter().position(|d| !d.overloaded && d.weight > 0)?;
    let mut least = first;
    let mut loh = cost(&dests[first]);
    let mut wl = dests[first].weight;
    for (i, d) in dests.iter().enumerate().skip(first + 1) {
        if d.overloaded {
            continue;
        }
        let doh = cost(d);
        if cross_gt(loh, d.weight, doh, wl) {
            least = i;
            loh = doh;
            wl = d.weight;
        }
    }
    Some(least)
}

/// `a * wb > b * wa`: the cross-multiplied "a/wa is more loaded than
/// b/wb". Overheads stay below 2^41 and weights are 16-bit in IPVS, so 64
/// bits suffice; a weight outside that range takes the 128-bit path
/// instead of overflowing.
#[inline]
pub(crate) fn cross_gt(a: u64, wb: u32, b: u64, wa: u32) -> bool {
    if (wa | wb) <= 0xFFFF && (a | b) < 1 << 47 {
        a * wb as u64 > b * wa as u64
    } else {
        a as u128 * wb as u128 > b as u128 * wa as u128
    }
}

/// The lblc/lblcr notion of "overloaded": more active connections than its
/// weight while some server in the service runs below half its weight.
pub(crate) fn lblc_overloaded(dest: &Dest, dests: &[Dest]) -> bool {
    dest.active > dest.weight
        && dests
            .iter()
            .any(|d| (d.active as u64) * 2 < d.weight as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcd_of_weights() {
        assert_eq!(gcd_weights([4, 0, 6, 8]), 2);
        assert_eq!(gcd_weights([0, 0]), 0);
        assert_eq!(gcd_weights([7]), 7);
        assert_eq!(gcd(12, 18), 6);
    }

    #[test]
    fn cross_multiplication_both_paths() {
        assert!(cross_gt(3, 2, 1, 1)); // 3/1 > 1/2
        assert!(!cross_gt(2, 1, 4, 2)); // 2/2 == 4/... tie is not greater
        let big = (u32::MAX as u64) << 8;
        assert!(cross_gt(big, 65535, big - 1, 65535));
        assert!(cross_gt(big, u32::MAX, big, u32::MAX - 1));
        assert!(!cross_gt(big, u32::MAX - 1, big, u32::MAX));
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::{Dest, Millis, PacketKey, Scheduler};
    use std::net::Ipv4Addr;

    /// Marks "no server" in pick sequences.
    pub const NONE: usize = usize::MAX;

    /// A server with id `id` at 10.0.<id/256>.<id%256>:80.
    pub fn dest(id: u32, weight: u32) -> Dest {
        Dest::new(
            id,
            Ipv4Addr::new(10, 0, (id >> 8) as u8, id as u8),
            80,
            weight,
        )
    }

    /// Servers with ids 10, 11, ... in list order.
    pub fn dests(weights: &[u32]) -> Vec<Dest> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &w)| dest(10 + i as u32, w))
            .collect()
    }

    pub fn pkt(src: [u8; 4], sport: u16, dst: [u8; 4]) -> PacketKey {
        PacketKey {
            src: src.into(),
            sport,
            dst: dst.into(),
            dport: 80,
            proto: 6,
        }
    }

    pub fn any_pkt() -> PacketKey {
        pkt([192, 168, 0, 1], 40000, [10, 1, 1, 1])
    }

    pub fn picks(s: &mut dyn Scheduler, d: &[Dest], n: usize) -> Vec<usize> {
        picks_at(s, d, n, 0)
    }

    pub fn picks_at(s: &mut dyn Scheduler, d: &[Dest], n: usize, now: Millis) -> Vec<usize> {
        (0..n)
            .map(|_| s.schedule(d, &any_pkt(), now).unwrap_or(NONE))
            .collect()
    }

    pub fn ids(s: &mut dyn Scheduler, d: &[Dest], n: usize) -> Vec<u32> {
        (0..n)
            .map(|_| s.schedule(d, &any_pkt(), 0).map_or(u32::MAX, |i| d[i].id))
            .collect()
    }
}
