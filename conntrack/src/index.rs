//! Chained hash index from tuples to slab nodes.
//!
//! A node is `slot << 1 | dir`, so one connection has two nodes (original and reply
//! tuple) and the chains themselves live in a flat `next` array indexed by node.
//! The index stores no keys: it asks its owner for the tuple of a node. With a
//! power-of-two bucket array sized to at least the number of nodes, chains average
//! under one entry, and nothing is ever allocated after construction (no resizing,
//! no tombstones) — unlike an open-addressing table, which may rehash when deletions
//! accumulate.

use crate::tuple::{HashSeed, Tuple};
use crate::wheel::NIL;

pub(crate) struct Index {
    heads: Vec<u32>,
    next: Vec<u32>,
    mask: u64,
    seed: HashSeed,
}

impl Index {
    /// An index for `nodes` nodes (node ids `0..nodes`).
    pub(crate) fn new(nodes: usize, seed: HashSeed) -> Self {
        let buckets = Self::buckets_for(nodes);
        Index {
            heads: vec![NIL; buckets],
            next: vec![NIL; nodes],
            mask: (buckets - 1) as u64,
            seed,
        }
    }

    /// Load factor at most 1 (node count <= bucket count), never fewer than 16.
    fn buckets_for(nodes: usize) -> usize {
        nodes.max(16).checked_next_power_of_two().unwrap_or(1 << 62)
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        (self.heads.capacity() + self.next.capacity()) * std::mem::size_of::<u32>()
    }

    pub(crate) fn memory_bytes_for(nodes: usize) -> usize {
        (Self::buckets_for(nodes) + nodes) * std::mem::size_of::<u32>()
    }

    #[inline]
    fn bucket(&self, t: &Tuple) -> usize {
        (t.hash(&self.seed) & self.mask) as usize
    }

    /// The node whose tuple equals `t`.
    #[inline]
    pub(crate) fn find<'a>(
        &self,
        t: &Tuple,
        tuple_of: impl Fn(u32) -> Option<&'a Tuple>,
    ) -> Option<u32> {
        let mut n = self.heads.get(self.bucket(t)).copied().unwrap_or(NIL);
        while n != NIL {
            if tuple_of(n) == Some(t) {
                return Some(n);
            }
            n = self.next.get(n as usize).copied().unwrap_or(NIL);
        }
        None
    }

    /// Adds `node` under key `t` (the caller guarantees the key is not present).
    pub(crate) fn insert(&mut self, node: u32, t: &Tuple) {
        let b = self.bucket(t);
        let (Some(head), Some(link)) =
            (self.heads.get(b).copied(), self.next.get_mut(node as usize))
        else {
            return;
        };
        *link = head;
        self.heads[b] = node;
    }

    /// Unlinks `node`, which was inserted under key `t`.
    pub(crate) fn remove(&mut self, node: u32, t: &Tuple) {
        let b = self.bucket(t);
        let after = self.next.get(node as usize).copied().unwrap_or(NIL);
        let Some(head) = self.heads.get(b).copied() else {
            return;
        };
        if head == node {
            self.heads[b] = after;
        } else {
            let mut n = head;
            while n != NIL {
                let nx = self.next.get(n as usize).copied().unwrap_or(NIL);
                if nx == node {
                    self.next[n as usize] = after;
                    break;
                }
                n = nx;
            }
        }
        if let Some(l) = self.next.get_mut(node as usize) {
            *l = NIL;
        }
    }
}
