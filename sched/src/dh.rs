//! dh: destination hashing over a 256-bucket table, one bucket per server
//! per round (weights only decide availability).

use crate::hash::hash_32;
use crate::{Dest, DestChange, Millis, PacketKey, Scheduler};

const TAB_BITS: u32 = 8;
const TAB_SIZE: usize = 1 << TAB_BITS;
const EMPTY: u32 = u32::MAX;

pub struct Dh {
    buckets: [u32; TAB_SIZE],
    ids: Vec<u32>,
}

impl Dh {
    pub fn new(dests: &[Dest]) -> Self {
        let mut s = Dh {
            buckets: [EMPTY; TAB_SIZE],
            ids: Vec::new(),
        };
        s.reassign(dests);
        s
    }

    fn reassign(&mut self, dests: &[Dest]) {
        self.ids = dests.iter().map(|d| d.id).collect();
        let n = dests.len();
        for (b, slot) in self.buckets.iter_mut().enumerate() {
            *slot = if n == 0 { EMPTY } else { (b % n) as u32 };
        }
    }
}

impl Scheduler for Dh {
    fn name(&self) -> &'static str {
        "dh"
    }

    fn dests_changed(&mut self, dests: &[Dest], _change: DestChange) {
        self.reassign(dests);
    }

    fn schedule(&mut self, dests: &[Dest], pkt: &PacketKey, _now: Millis) -> Option<usize> {
        // Host-order destination address, as the kernel's ntohl() gives.
        let bucket = hash_32(u32::from(pkt.dst), TAB_BITS) as usize;
        let i = *self.buckets.get(bucket)? as usize;
        dests.get(i).filter(|d| d.available()).map(|_| i)
    }

    fn table_snapshot(&self) -> Option<Vec<Option<u32>>> {
        Some(
            self.buckets
                .iter()
                .map(|&i| self.ids.get(i as usize).copied())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::test_util::*;

    #[test]
    fn destination_address_selects_bucket() {
        let d = dests(&[1, 7, 3]);
        let mut s = Dh::new(&d);
        for a in [[10, 1, 1, 1], [10, 1, 1, 2], [203, 0, 113, 9]] {
            let b = (u32::from_be_bytes(a).wrapping_mul(0x61C8_8647) >> 24) as usize;
            let p = pkt([1, 1, 1, 1], 1, a);
            assert_eq!(s.schedule(&d, &p, 0), Some(b % 3));
            // The source does not matter.
            let q = pkt([9, 9, 9, 9], 2, a);
            assert_eq!(s.schedule(&d, &q, 0), Some(b % 3));
        }
    }

    #[test]
    fn unavailable_gives_none_and_removal_rebuilds() {
        let mut d = dests(&[1, 1]);
        let mut s = Dh::new(&d);
        let a = [10, 1, 1, 1];
        let b = (u32::from_be_bytes(a).wrapping_mul(0x61C8_8647) >> 24) as usize;
        let home = b % 2;
        d[home].weight = 0;
        assert_eq!(s.schedule(&d, &pkt([1, 1, 1, 1], 1, a), 0), None);
        let gone = d.remove(home);
        s.dests_changed(
            &d,
            DestChange::Removed {
                index: home,
                id: gone.id,
            },
        );
        assert_eq!(s.schedule(&d, &pkt([1, 1, 1, 1], 1, a), 0), Some(0));
        let t = s.table_snapshot().unwrap();
        assert!(t.iter().all(|&x| x == Some(d[0].id)));
    }
}
