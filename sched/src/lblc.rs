//! lblc: locality-based least connections — remember which server each
//! destination address went to, and keep using it until it is quiesced,
//! removed or overloaded relative to the others; then pick by wlc.

use hashbrown::HashMap;

use crate::common::{lblc_overloaded, wlc_pick};
use crate::lcache::{Cache, DEFAULT_EXPIRATION};
use crate::{Dest, DestChange, Millis, PacketKey, Scheduler};

pub struct Lblc {
    cache: Cache<u32>,
    /// Server id -> list index, rebuilt when the list changes.
    pos: HashMap<u32, usize>,
    expiration: Millis,
}

/// Where server `id` sits in `dests`, trusting the map but checking it.
pub(crate) fn index_of(pos: &HashMap<u32, usize>, dests: &[Dest], id: u32) -> Option<usize> {
    match pos.get(&id) {
        Some(&i) if dests.get(i).is_some_and(|d| d.id == id) => Some(i),
        _ => dests.iter().position(|d| d.id == id),
    }
}

pub(crate) fn positions(dests: &[Dest]) -> HashMap<u32, usize> {
    dests.iter().enumerate().map(|(i, d)| (d.id, i)).collect()
}

impl Lblc {
    pub fn new(dests: &[Dest]) -> Self {
        Lblc {
            cache: Cache::new(),
            pos: positions(dests),
            expiration: DEFAULT_EXPIRATION,
        }
    }

    /// Change the idle time after which entries expire (the kernel's
    /// `lblc_expiration` sysctl).
    pub fn set_expiration(&mut self, expiration: Millis) {
        self.expiration = expiration;
    }
}

impl Scheduler for Lblc {
    fn name(&self) -> &'static str {
        "lblc"
    }

    fn dests_changed(&mut self, dests: &[Dest], change: DestChange) {
        self.pos = positions(dests);
        if let DestChange::Removed { id, .. } = change {
            self.cache.retain(|&mut cached| cached != id);
        }
    }

    fn schedule(&mut self, dests: &[Dest], pkt: &PacketKey, now: Millis) -> Option<usize> {
        self.cache.maintain(now, self.expiration);
        let daddr = u32::from(pkt.dst);
        let found = self.cache.find(daddr);
        if let Some(e) = found.and_then(|i| self.cache.entry(i)) {
            e.lastuse = now;
            // Only quiescing and the lblc overload test move a destination
            // away; the threshold OVERLOAD flag is not consulted here.
            if let Some(i) = index_of(&self.pos, dests, e.val) {
                let d = &dests[i];
                if d.weight > 0 && !lblc_overloaded(d, dests) {
                    return Some(i);
                }
            }
        }
        let pick = wlc_pick(dests, Dest::overhead)?;
        let id = dests[pick].id;
        match found.and_then(|i| self.cache.entry(i)) {
            // Re-pointing an entry is what the kernel's delete-and-recreate
            // amounts to: same address, new server, last use now.
            Some(e) => e.val = id,
            None => {
                self.cache.insert(daddr, now, |v| *v = id);
            }
        }
        Some(pick)
    }
}

#[cfg(test)]
#[path = "lblc_tests.rs"]
mod tests;
