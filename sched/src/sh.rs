//! sh: source hashing over a 256-bucket table filled by weight.

use crate::hash::hash_32;
use crate::{Dest, DestChange, Millis, PacketKey, SchedFlags, Scheduler};

const TAB_BITS: u32 = 8;
const TAB_SIZE: usize = 1 << TAB_BITS;
const TAB_MASK: u32 = TAB_SIZE as u32 - 1;
const EMPTY: u32 = u32::MAX;

pub struct Sh {
    /// Bucket -> index into the list, `EMPTY` when the list is empty.
    buckets: [u32; TAB_SIZE],
    /// Server ids in list order at the last rebuild (for snapshots).
    ids: Vec<u32>,
    fallback: bool,
    port: bool,
}

/// Bucket of a key: the kernel hashes the host-order address plus the
/// host-order port (0 unless sh-port), then adds the probe offset.
fn hashkey(addr: u32, port: u16, offset: u32) -> usize {
    (offset.wrapping_add(hash_32((port as u32).wrapping_add(addr), TAB_BITS)) & TAB_MASK) as usize
}

impl Sh {
    pub fn new(dests: &[Dest], flags: SchedFlags) -> Self {
        let mut s = Sh {
            buckets: [EMPTY; TAB_SIZE],
            ids: Vec::new(),
            fallback: flags.fallback(),
            port: flags.port(),
        };
        s.reassign(dests);
        s
    }

    /// Walk the list cyclically, giving each server `weight` consecutive
    /// buckets per round (at least one: a weight-0 server keeps a bucket
    /// and makes its keys unschedulable rather than moving them).
    fn reassign(&mut self, dests: &[Dest]) {
        self.ids = dests.iter().map(|d| d.id).collect();
        if dests.is_empty() {
            self.buckets = [EMPTY; TAB_SIZE];
            return;
        }
        let mut cur = 0usize;
        let mut count = 0u32;
        for b in self.buckets.iter_mut() {
            *b = cur as u32;
            count += 1;
            if count >= dests[cur].weight {
                cur = (cur + 1) % dests.len();
                count = 0;
            }
        }
    }

    fn at(&self, dests: &[Dest], bucket: usize) -> Option<usize> {
        let i = *self.buckets.get(bucket)? as usize;
        (i < dests.len()).then_some(i)
    }
}

impl Scheduler for Sh {
    fn name(&self) -> &'static str {
        "sh"
    }

    fn dests_changed(&mut self, dests: &[Dest], _change: DestChange) {
        self.reassign(dests);
    }

    fn schedule(&mut self, dests: &[Dest], pkt: &PacketKey, _now: Millis) -> Option<usize> {
        let addr = u32::from(pkt.src);
        let port = if self.port { pkt.sport } else { 0 };
        let home = hashkey(addr, port, 0);
        let i = self.at(dests, home)?;
        if dests[i].available() {
            return Some(i);
        }
        if !self.fallback {
            return None;
        }
        // The kernel probes with offset (home + k), which it adds to the
        // hash again: the probe sequence starts at 2 * home, not home + 1.
        for k in 0..TAB_SIZE as u32 {
            let roffset = (k + home as u32) % TAB_SIZE as u32;
            let i = self.at(dests, hashkey(addr, port, roffset))?;
            if dests[i].available() {
                return Some(i);
            }
        }
        None
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

    fn src(a: [u8; 4], sport: u16) -> PacketKey {
        pkt(a, sport, [10, 1, 1, 1])
    }

    #[test]
    fn table_fill_by_weight() {
        let d = dests(&[2, 1, 0]);
        let s = Sh::new(&d, SchedFlags::default());
        let t = s.table_snapshot().unwrap();
        // 10 10 11 12 | 10 10 11 12 | ...
        assert_eq!(&t[..8], &[10, 10, 11, 12, 10, 10, 11, 12].map(Some));
        assert_eq!(t[255], Some(12));
    }

    #[test]
    fn bucket_is_hash32_of_host_order_address() {
        let d = dests(&[1; 256]);
        let mut s = Sh::new(&d, SchedFlags::default());
        for a in [[192, 168, 1, 7], [10, 0, 0, 1], [1, 2, 3, 4]] {
            let v = u32::from_be_bytes(a);
            let want = (v.wrapping_mul(0x61C8_8647) >> 24) as usize;
            // One bucket per server, so the bucket number is the index.
            assert_eq!(s.schedule(&d, &src(a, 1234), 0), Some(want));
        }
    }

    #[test]
    fn sh_port_adds_source_port() {
        let d = dests(&[1; 256]);
        let flags = SchedFlags {
            sh_port: true,
            ..Default::default()
        };
        let mut s = Sh::new(&d, flags);
        let v = u32::from_be_bytes([192, 168, 1, 7]) + 5000;
        let want = (v.wrapping_mul(0x61C8_8647) >> 24) as usize;
        assert_eq!(s.schedule(&d, &src([192, 168, 1, 7], 5000), 0), Some(want));
    }

    #[test]
    fn unavailable_home_without_and_with_fallback() {
        let mut d = dests(&[1; 256]);
        let p = src([192, 168, 1, 7], 1);
        let home = (u32::from_be_bytes([192, 168, 1, 7]).wrapping_mul(0x61C8_8647) >> 24) as usize;
        d[home].weight = 0;
        let mut plain = Sh::new(&d, SchedFlags::default());
        assert_eq!(plain.schedule(&d, &p, 0), None);
        let mut fb = Sh::new(
            &d,
            SchedFlags {
                sh_fallback: true,
                ..Default::default()
            },
        );
        // With one bucket per server the first probe is bucket 2 * home.
        let probe = (2 * home) % 256;
        let want = if probe == home {
            (probe + 1) % 256
        } else {
            probe
        };
        assert_eq!(fb.schedule(&d, &p, 0), Some(want));
    }

    #[test]
    fn fallback_finds_any_available_server() {
        let mut d = dests(&[3, 3, 3]);
        d[0].overloaded = true;
        d[1].weight = 0;
        let flags = SchedFlags {
            sh_fallback: true,
            ..Default::default()
        };
        let mut s = Sh::new(&d, flags);
        s.dests_changed(&d, DestChange::Edited(1));
        for a in 0..50u8 {
            assert_eq!(s.schedule(&d, &src([172, 16, a, 9], 0), 0), Some(2));
        }
        d[2].overloaded = true;
        assert_eq!(s.schedule(&d, &src([172, 16, 0, 9], 0), 0), None);
    }

    #[test]
    fn removed_server_leaves_table() {
        let mut d = dests(&[1, 1, 1]);
        let mut s = Sh::new(&d, SchedFlags::default());
        let gone = d.remove(1);
        s.dests_changed(
            &d,
            DestChange::Removed {
                index: 1,
                id: gone.id,
            },
        );
        let t = s.table_snapshot().unwrap();
        assert!(t.iter().all(|&x| x == Some(10) || x == Some(12)));
        d.clear();
        s.dests_changed(&d, DestChange::Removed { index: 0, id: 10 });
        assert!(s.table_snapshot().unwrap().iter().all(Option::is_none));
    }
}
