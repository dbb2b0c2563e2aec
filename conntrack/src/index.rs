//! Bucketed cuckoo index from tuples to slab nodes.
//!
//! A node is `slot << 1 | dir`, so one connection has two nodes (original and reply
//! tuple). The index stores no keys, only a 16-bit signature per node, and asks its
//! owner for the tuple of a candidate node to confirm a match.
//!
//! Why this shape: a lookup must cost about the same at 1 thousand and at 10 million
//! connections. Each bucket is exactly one cache line holding ten (signature, node)
//! pairs, so a lookup reads one index line and one slab entry, never a chain, and a
//! burst of lookups can prefetch all its lines before comparing (see
//! `ConnTable::lookup_burst`). Every key has two candidate buckets; it goes to its
//! first one unless that is full, and a short breadth-first cuckoo search makes
//! room when both are full. The second bucket is derived from the first and the
//! signature (`b ^ alt(sig)`), so entries can be moved without reading their tuples.
//! Nothing is ever allocated after construction and deletion leaves no tombstones.

use crate::mem::{filled_vec, prefetch, Backing};
use crate::tuple::{HashSeed, Tuple};

/// (signature, node) pairs per bucket: 10 * (2 + 4) bytes + a 2-byte bitmap fill
/// one 64-byte line.
const SLOTS: usize = 10;
/// Average nodes per bucket the sizing aims at (at most 8 of 10 slots, and at
/// least 4 after rounding the bucket count up to a power of two).
const FILL: usize = 8;
/// Buckets a cuckoo search may visit before the insert is refused.
const MAX_SEARCH: usize = 128;

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Bucket {
    sigs: [u16; SLOTS],
    /// Bit i set: slot i holds a node.
    used: u16,
    _pad: u16,
    nodes: [u32; SLOTS],
}

const EMPTY: Bucket = Bucket {
    sigs: [0; SLOTS],
    used: 0,
    _pad: 0,
    nodes: [0; SLOTS],
};

const FULL: u16 = (1 << SLOTS) - 1;

impl Bucket {
    /// Slots whose signature equals `sig`, as a bitmap: one vector compare for
    /// the first eight slots, two scalar ones for the rest.
    #[inline]
    fn matches(&self, sig: u16) -> u32 {
        let (first, rest) = self.sigs.split_at(8);
        let mut m = first
            .first_chunk::<8>()
            .map_or(0, |eight| match8(eight, sig));
        for (i, s) in rest.iter().enumerate() {
            m |= u32::from(*s == sig) << (8 + i);
        }
        m & u32::from(self.used)
    }

    #[inline]
    fn free_slot(&self) -> Option<usize> {
        (self.used != FULL).then(|| (!self.used).trailing_zeros() as usize)
    }

    fn put(&mut self, i: usize, sig: u16, node: u32) {
        self.sigs[i] = sig;
        self.nodes[i] = node;
        self.used |= 1 << i;
    }
}

/// Bit i set where `lanes[i] == sig`. The scalar form compiled to about 60
/// instructions; SSE2 does it in five (`pktloop ipp` for NAT: 832 -> 809).
#[inline]
fn match8(lanes: &[u16; 8], sig: u16) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi16, _mm_loadu_si128, _mm_movemask_epi8, _mm_packs_epi16,
            _mm_set1_epi16, _mm_setzero_si128,
        };
        // `lanes` is a valid reference to exactly 16 bytes; the other intrinsics
        // only operate on registers; SSE2 is part of the x86_64 baseline.
        // SAFETY: _mm_loadu_si128 reads those 16 bytes, with no alignment need.
        unsafe {
            let v = _mm_loadu_si128(lanes.as_ptr().cast::<__m128i>());
            let eq = _mm_cmpeq_epi16(v, _mm_set1_epi16(sig as i16));
            // Narrow the eight 0/-1 words to bytes, then take their top bits.
            let bytes = _mm_packs_epi16(eq, _mm_setzero_si128());
            (_mm_movemask_epi8(bytes) as u32) & 0xff
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        lanes
            .iter()
            .enumerate()
            .fold(0, |m, (i, l)| m | u32::from(*l == sig) << i)
    }
}

/// Where a key may live: its two buckets and its signature. Computing it is the
/// only hashing a lookup does, so a burst computes all probes first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Probe {
    b1: u32,
    b2: u32,
    sig: u16,
}

/// The index could not make room for a key (both buckets full and no cuckoo path
/// within the search bound); at the configured fill this needs an adversary who
/// knows the secret hash seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NoRoom;

pub(crate) struct Index {
    buckets: Vec<Bucket>,
    mask: u32,
    seed: HashSeed,
}

/// Offset from a key's first bucket to its second. Odd, so the two differ.
#[inline]
fn alt_offset(sig: u16) -> u32 {
    let x = u32::from(sig).wrapping_mul(0x9E37_79B1);
    (x ^ (x >> 15)) | 1
}

impl Index {
    /// An index for `nodes` nodes (node ids `0..nodes`).
    pub(crate) fn new(nodes: usize, seed: HashSeed, backing: Backing) -> Self {
        let n = Self::buckets_for(nodes);
        Index {
            buckets: filled_vec(n, EMPTY, backing),
            mask: (n - 1) as u32,
            seed,
        }
    }

    fn buckets_for(nodes: usize) -> usize {
        nodes
            .div_ceil(FILL)
            .max(2)
            .checked_next_power_of_two()
            .unwrap_or(1 << 31)
            .min(1 << 31)
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<Bucket>()
    }

    pub(crate) fn memory_bytes_for(nodes: usize) -> usize {
        Self::buckets_for(nodes) * std::mem::size_of::<Bucket>()
    }

    #[inline]
    pub(crate) fn probe(&self, t: &Tuple) -> Probe {
        let h = t.hash(&self.seed);
        let b1 = (h as u32) & self.mask;
        let sig = (h >> 48) as u16;
        Probe {
            b1,
            b2: (b1 ^ alt_offset(sig)) & self.mask,
            sig,
        }
    }

    /// Starts loading the key's first bucket (where all but a few keys live).
    #[inline]
    pub(crate) fn prefetch(&self, p: &Probe) {
        if let Some(b) = self.buckets.get(p.b1 as usize) {
            prefetch(b);
        }
    }

    /// The first node in the key's first bucket whose signature matches, if any:
    /// the slab entry a burst should prefetch next.
    #[inline]
    pub(crate) fn first_candidate(&self, p: &Probe) -> Option<u32> {
        let b = self.buckets.get(p.b1 as usize)?;
        let m = b.matches(p.sig);
        (m != 0).then(|| b.nodes[m.trailing_zeros() as usize])
    }

    /// The node whose tuple equals `t`.
    #[inline]
    pub(crate) fn find<'a>(
        &self,
        t: &Tuple,
        tuple_of: impl Fn(u32) -> Option<&'a Tuple>,
    ) -> Option<u32> {
        self.find_probed(&self.probe(t), t, tuple_of)
    }

    /// `find` with the probe already computed.
    #[inline]
    pub(crate) fn find_probed<'a>(
        &self,
        p: &Probe,
        t: &Tuple,
        tuple_of: impl Fn(u32) -> Option<&'a Tuple>,
    ) -> Option<u32> {
        self.find_in(p.b1, p.sig, t, &tuple_of)
            .or_else(|| self.find_in(p.b2, p.sig, t, &tuple_of))
    }

    #[inline]
    fn find_in<'a>(
        &self,
        b: u32,
        sig: u16,
        t: &Tuple,
        tuple_of: &impl Fn(u32) -> Option<&'a Tuple>,
    ) -> Option<u32> {
        let bucket = self.buckets.get(b as usize)?;
        let mut m = bucket.matches(sig);
        while m != 0 {
            let n = bucket.nodes[m.trailing_zeros() as usize];
            if tuple_of(n) == Some(t) {
                return Some(n);
            }
            m &= m - 1;
        }
        None
    }

    /// Adds `node` under key `t` (the caller guarantees the key is not present).
    pub(crate) fn insert(&mut self, node: u32, t: &Tuple) -> Result<(), NoRoom> {
        let p = self.probe(t);
        for b in [p.b1, p.b2] {
            let bucket = &mut self.buckets[b as usize];
            if let Some(i) = bucket.free_slot() {
                bucket.put(i, p.sig, node);
                return Ok(());
            }
        }
        let (root, slot) = self.make_room(p.b1, p.b2).ok_or(NoRoom)?;
        self.buckets[root as usize].put(slot, p.sig, node);
        Ok(())
    }

    /// Breadth-first search for a chain of moves that frees a slot in `b1` or
    /// `b2`, each move taking an entry to its other bucket; performs the moves
    /// and returns the freed (bucket, slot). A bucket is visited at most once, so
    /// no slot is moved twice.
    fn make_room(&mut self, b1: u32, b2: u32) -> Option<(u32, usize)> {
        // (bucket, index of the parent visit, slot of the parent moving here)
        let mut visits = [(0u32, usize::MAX, 0usize); MAX_SEARCH];
        visits[0] = (b1, usize::MAX, 0);
        visits[1] = (b2, usize::MAX, 0);
        let mut len = 2;
        let mut q = 0;
        while q < len {
            let from = visits[q].0;
            for i in 0..SLOTS {
                let bucket = &self.buckets[from as usize];
                let to = (from ^ alt_offset(bucket.sigs[i])) & self.mask;
                if let Some(j) = self.buckets[to as usize].free_slot() {
                    self.move_entry(from, i, to, j);
                    // Walk back to the root, each parent's entry filling the slot
                    // its child just vacated.
                    let (mut cur, mut freed) = (q, i);
                    while visits[cur].1 != usize::MAX {
                        let (here, parent, pslot) = visits[cur];
                        self.move_entry(visits[parent].0, pslot, here, freed);
                        freed = pslot;
                        cur = parent;
                    }
                    return Some((visits[cur].0, freed));
                }
                if len < MAX_SEARCH && !visits[..len].iter().any(|v| v.0 == to) {
                    visits[len] = (to, q, i);
                    len += 1;
                }
            }
            q += 1;
        }
        None
    }

    fn move_entry(&mut self, from: u32, i: usize, to: u32, j: usize) {
        let src = &mut self.buckets[from as usize];
        let (sig, node) = (src.sigs[i], src.nodes[i]);
        src.used &= !(1 << i);
        self.buckets[to as usize].put(j, sig, node);
    }

    /// Unlinks `node`, which was inserted under key `t`.
    pub(crate) fn remove(&mut self, node: u32, t: &Tuple) {
        let p = self.probe(t);
        for b in [p.b1, p.b2] {
            let bucket = &mut self.buckets[b as usize];
            let mut m = bucket.matches(p.sig);
            while m != 0 {
                let i = m.trailing_zeros() as usize;
                if bucket.nodes[i] == node {
                    bucket.used &= !(1 << i);
                    return;
                }
                m &= m - 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tuple::Proto;
    use std::net::Ipv4Addr;

    fn key(i: u32) -> Tuple {
        Tuple::new(
            Proto::Tcp,
            Ipv4Addr::from(0x0a00_0000 | i),
            (i % 50_000) as u16,
            Ipv4Addr::new(10, 0, 0, 100),
            80,
        )
    }

    #[test]
    fn signature_match_agrees_with_comparing_each_slot() {
        let mut x = 0x9E37_79B9u32;
        for round in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let mut b = EMPTY;
            for i in 0..SLOTS {
                // Few distinct values, so matches are common; include 0x8000
                // and 0xffff lanes, where carries would show.
                b.sigs[i] = [0, 1, 0x8000, 0xffff, 0x7fff][((x >> (3 * i)) % 5) as usize];
            }
            b.used = (x >> 7) as u16 & FULL;
            let sig = [0, 1, 0x8000, 0xffff, 0x7fff][(round % 5) as usize];
            let naive = (0..SLOTS)
                .filter(|&i| b.sigs[i] == sig && b.used & (1 << i) != 0)
                .fold(0u32, |m, i| m | 1 << i);
            assert_eq!(b.matches(sig), naive, "{:?} {sig:#x}", b.sigs);
        }
    }

    #[test]
    fn bucket_is_one_cache_line() {
        assert_eq!(std::mem::size_of::<Bucket>(), 64);
        assert_eq!(std::mem::align_of::<Bucket>(), 64);
    }

    #[test]
    fn fills_every_slot_with_cuckoo_moves_and_finds_all() {
        // 32 buckets * 10 slots = 320 slots; fill 95% of them, far beyond the
        // sizing's 80%, so that many inserts need cuckoo moves.
        let keys: Vec<Tuple> = (0..304).map(key).collect();
        let mut idx = Index::new(32 * FILL, HashSeed::from_u64(1), Backing::Lazy);
        assert_eq!(idx.buckets.len(), 32);
        let mut stored = Vec::new();
        for (n, k) in keys.iter().enumerate() {
            if idx.insert(n as u32, k).is_ok() {
                stored.push(n);
            }
        }
        assert!(stored.len() >= 300, "only {} of 304 fitted", stored.len());
        for &n in &stored {
            assert_eq!(idx.find(&keys[n], |m| keys.get(m as usize)), Some(n as u32));
        }
        for &n in stored.iter().step_by(2) {
            idx.remove(n as u32, &keys[n]);
        }
        for &n in &stored {
            let want =
                (n % 2 == 1 || !stored.iter().step_by(2).any(|&s| s == n)).then_some(n as u32);
            assert_eq!(idx.find(&keys[n], |m| keys.get(m as usize)), want, "{n}");
        }
    }

    #[test]
    fn refuses_when_no_path_exists() {
        let keys: Vec<Tuple> = (0..40).map(key).collect();
        // 2 buckets, 20 slots: the 21st key has nowhere to go.
        let mut idx = Index::new(1, HashSeed::from_u64(3), Backing::Lazy);
        assert_eq!(idx.buckets.len(), 2);
        let ok = (0..40u32)
            .filter(|&n| idx.insert(n, &keys[n as usize]).is_ok())
            .count();
        assert_eq!(ok, 20);
        for n in 0..40u32 {
            let found = idx.find(&keys[n as usize], |m| keys.get(m as usize));
            assert!(found.is_none() || found == Some(n));
        }
    }
}
