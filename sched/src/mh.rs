//! mh: Maglev consistent hashing over a prime-sized lookup table.
//!
//! Each server gets a permutation of the slots from an offset and a skip
//! derived from its address and port; servers then claim their next free
//! preferred slot in turns, list order, `weight / gcd` slots per turn, until
//! the table is full. A source address (and port with mh-port) selects a
//! slot. Weights come from the last non-zero weight each server had, so a
//! quiesced server keeps its slots (its keys fail or fall back) and gets
//! exactly the same ones back when it returns.

use hashbrown::HashMap;

use crate::common::gcd_weights;
use crate::hash::hsiphash_u32;
use crate::{Dest, DestChange, Millis, PacketKey, SchedError, SchedFlags, Scheduler};

/// Default table size (the kernel's CONFIG_IP_VS_MH_TAB_INDEX 12).
pub const TAB_SIZE: usize = 4093;
/// Half the table index: at most 2^6 turns per server per round, so a huge
/// weight ratio cannot make one server claim everything at once.
const TAB_BITS: u32 = 6;
const EMPTY: u32 = u32::MAX;

/// The kernel uses fixed (not random) hash keys, so tables are identical
/// across reboots and across load balancers.
const HASH1: (u64, u64) = (2_654_435_761, 2_654_435_761);
const HASH2: (u64, u64) = (2_654_446_892, 2_654_446_892);

pub struct Mh {
    /// Slot -> index into the list, `EMPTY` when no server holds it.
    lookup: Vec<u32>,
    /// Server ids in list order at the last rebuild.
    ids: Vec<u32>,
    /// Latest non-zero weight per server id (the kernel's last_weight).
    last_weight: HashMap<u32, u32>,
    fallback: bool,
    port: bool,
}

/// The kernel hashes one u32: offset + host-order port + host-order address.
fn hashkey(addr: u32, port: u16, key: (u64, u64), offset: u32) -> u32 {
    let v = offset.wrapping_add(port as u32).wrapping_add(addr);
    hsiphash_u32(v, key.0, key.1)
}

/// Position of the highest set bit, 1-based (0 for 0), like the kernel fls().
fn fls(x: u32) -> u32 {
    32 - x.leading_zeros()
}

impl Mh {
    pub fn new(dests: &[Dest], flags: SchedFlags) -> Result<Self, SchedError> {
        crate::check("mh", dests.len())?;
        let mut s = Mh {
            lookup: vec![EMPTY; TAB_SIZE],
            ids: Vec::new(),
            last_weight: dests.iter().map(|d| (d.id, d.weight)).collect(),
            fallback: flags.fallback(),
            port: flags.port(),
        };
        s.reassign(dests);
        Ok(s)
    }

    fn lw(&self, d: &Dest) -> u32 {
        self.last_weight.get(&d.id).copied().unwrap_or(d.weight)
    }

    fn reassign(&mut self, dests: &[Dest]) {
        if dests.len() > TAB_SIZE {
            // The kernel refuses to rebuild and keeps the old table; keep it
            // too, but follow the servers to their new indexes and forget
            // any that were removed.
            let pos: HashMap<u32, u32> = dests
                .iter()
                .enumerate()
                .map(|(i, d)| (d.id, i as u32))
                .collect();
            for slot in self.lookup.iter_mut() {
                let id = self.ids.get(*slot as usize);
                *slot = id.and_then(|id| pos.get(id)).copied().unwrap_or(EMPTY);
            }
            self.ids = dests.iter().map(|d| d.id).collect();
            return;
        }
        self.ids = dests.iter().map(|d| d.id).collect();
        let lws: Vec<u32> = dests.iter().map(|d| self.lw(d)).collect();
        let g = gcd_weights(lws.iter().copied());
        if g == 0 {
            self.lookup.fill(EMPTY);
            return;
        }
        let max = lws.iter().copied().max().unwrap_or(0) / g;
        let rshift = fls(max).saturating_sub(TAB_BITS);
        let m = TAB_SIZE as u32;
        // (next preferred slot, starting at the offset; skip; turns) per server.
        let mut setup: Vec<(u32, u32, u32)> = dests
            .iter()
            .zip(&lws)
            .map(|(d, &lw)| {
                let a = u32::from(d.addr);
                let offset = hashkey(a, d.port, HASH1, 0) % m;
                let skip = hashkey(a, d.port, HASH2, 0) % (m - 1) + 1;
                let turns = match (lw / g) >> rshift {
                    0 => u32::from(lw != 0),
                    t => t,
                };
                (offset, skip, turns)
            })
            .collect();
        let mut taken = vec![false; TAB_SIZE];
        let mut filled = 0usize;
        let mut count = 0u32;
        // Rounds over the list; every round fills at least one slot since
        // g > 0 means some server has turns, so this ends.
        while filled < TAB_SIZE {
            let mut i = 0;
            while i < setup.len() {
                let (mut perm, skip, turns) = setup[i];
                if turns < 1 {
                    i += 1;
                    continue;
                }
                while taken[perm as usize] {
                    perm += skip;
                    if perm >= m {
                        perm -= m;
                    }
                }
                setup[i].0 = perm;
                taken[perm as usize] = true;
                self.lookup[perm as usize] = i as u32;
                filled += 1;
                if filled == TAB_SIZE {
                    return;
                }
                count += 1;
                if count >= turns {
                    count = 0;
                    i += 1;
                }
            }
        }
    }

    fn at(&self, dests: &[Dest], slot: u32) -> Option<usize> {
        let i = *self.lookup.get(slot as usize)? as usize;
        (i < dests.len()).then_some(i)
    }
}

impl Scheduler for Mh {
    fn name(&self) -> &'static str {
        "mh"
    }

    fn dests_changed(&mut self, dests: &[Dest], change: DestChange) {
        match change {
            DestChange::Added(i) => {
                if let Some(d) = dests.get(i) {
                    self.last_weight.insert(d.id, d.weight);
                }
            }
            DestChange::Edited(i) => {
                if let Some(d) = dests.get(i).filter(|d| d.weight != 0) {
                    self.last_weight.insert(d.id, d.weight);
                }
            }
            DestChange::Removed { id, .. } => {
                self.last_weight.remove(&id);
            }
        }
        self.reassign(dests);
    }

    fn schedule(&mut self, dests: &[Dest], pkt: &PacketKey, _now: Millis) -> Option<usize> {
        let addr = u32::from(pkt.src);
        let port = if self.port { pkt.sport } else { 0 };
        let m = TAB_SIZE as u32;
        let home = hashkey(addr, port, HASH1, 0) % m;
        let i = self.at(dests, home)?;
        if dests[i].available() {
            return Some(i);
        }
        if !self.fallback {
            return None;
        }
        // Re-hash with growing offsets until an available server turns up.
        for k in 0..m {
            let roffset = (k + home) % m;
            let i = self.at(dests, hashkey(addr, port, HASH1, roffset) % m)?;
            if dests[i].available() {
                return Some(i);
            }
        }
        None
    }

    fn table_snapshot(&self) -> Option<Vec<Option<u32>>> {
        Some(
            self.lookup
                .iter()
                .map(|&i| self.ids.get(i as usize).copied())
                .collect(),
        )
    }
}

#[cfg(test)]
#[path = "mh_tests.rs"]
mod tests;
