//! lblcr: locality-based least connections with replication — each
//! destination address maps to a set of servers. The least loaded member
//! serves it; when that one is overloaded the wlc pick joins the set, and
//! a set left unchanged for the expiration time sheds its most loaded
//! member.

use hashbrown::HashMap;

use crate::common::{cross_gt, lblc_overloaded, wlc_pick};
use crate::lblc::{index_of, positions};
use crate::lcache::{Cache, DEFAULT_EXPIRATION};
use crate::{Dest, DestChange, Millis, PacketKey, Scheduler};

#[derive(Default)]
struct DestSet {
    lastmod: Millis,
    /// Server ids, most recently added first (the kernel adds at the head).
    members: Vec<u32>,
}

pub struct Lblcr {
    cache: Cache<DestSet>,
    pos: HashMap<u32, usize>,
    expiration: Millis,
}

impl Lblcr {
    pub fn new(dests: &[Dest]) -> Self {
        Lblcr {
            cache: Cache::new(),
            pos: positions(dests),
            expiration: DEFAULT_EXPIRATION,
        }
    }

    /// The kernel's `lblcr_expiration` sysctl.
    pub fn set_expiration(&mut self, expiration: Millis) {
        self.expiration = expiration;
    }
}

/// Weighted least-loaded member: the first usable one (not overloaded,
/// weight > 0) seeds, later ones win only when strictly less loaded.
fn set_min(set: &DestSet, pos: &HashMap<u32, usize>, dests: &[Dest]) -> Option<usize> {
    let mut least: Option<(usize, u64)> = None;
    for &id in &set.members {
        let Some(i) = index_of(pos, dests, id) else {
            continue;
        };
        let d = &dests[i];
        if d.overloaded {
            continue;
        }
        match least {
            None if d.weight > 0 => least = Some((i, d.overhead())),
            None => {}
            Some((l, loh)) => {
                let doh = d.overhead();
                if cross_gt(loh, d.weight, doh, dests[l].weight) {
                    least = Some((i, doh));
                }
            }
        }
    }
    least.map(|(i, _)| i)
}

/// Weighted most-loaded member with weight > 0 (overload does not matter:
/// this is the one to drop). Ties keep the earlier member.
fn set_max(set: &DestSet, pos: &HashMap<u32, usize>, dests: &[Dest]) -> Option<u32> {
    let mut most: Option<(usize, u64)> = None;
    for &id in &set.members {
        let Some(i) = index_of(pos, dests, id) else {
            continue;
        };
        let d = &dests[i];
        if d.weight == 0 {
            continue;
        }
        let doh = d.overhead();
        let better = match most {
            None => true,
            // moh/mw < doh/dw, i.e. doh * mw > moh * dw.
            Some((m, moh)) => cross_gt(doh, dests[m].weight, moh, d.weight),
        };
        if better {
            most = Some((i, doh));
        }
    }
    most.map(|(i, _)| dests[i].id)
}

impl Scheduler for Lblcr {
    fn name(&self) -> &'static str {
        "lblcr"
    }

    fn dests_changed(&mut self, dests: &[Dest], change: DestChange) {
        self.pos = positions(dests);
        if let DestChange::Removed { id, .. } = change {
            self.cache.retain(|set| {
                set.members.retain(|&m| m != id);
                true
            });
        }
    }

    fn schedule(&mut self, dests: &[Dest], pkt: &PacketKey, now: Millis) -> Option<usize> {
        self.cache.maintain(now, self.expiration);
        let daddr = u32::from(pkt.dst);
        let Some(e) = self.cache.find(daddr).and_then(|i| self.cache.entry(i)) else {
            let pick = wlc_pick(dests, Dest::overhead)?;
            let id = dests[pick].id;
            self.cache.insert(daddr, now, |set| {
                set.members.clear();
                set.members.push(id);
                set.lastmod = now;
            });
            return Some(pick);
        };
        e.lastuse = now;
        let set = &mut e.val;
        // The least loaded member is chosen before any shrinking, and is
        // used even if it is the member the shrinking drops.
        let cur = set_min(set, &self.pos, dests);
        if set.members.len() > 1 && now > set.lastmod.saturating_add(self.expiration) {
            if let Some(m) = set_max(set, &self.pos, dests) {
                set.members.retain(|&x| x != m);
                set.lastmod = now;
            }
        }
        if let Some(i) = cur {
            if !lblc_overloaded(&dests[i], dests) {
                return Some(i);
            }
        }
        let pick = wlc_pick(dests, Dest::overhead)?;
        let id = dests[pick].id;
        if !set.members.contains(&id) {
            set.members.insert(0, id);
            set.lastmod = now;
        }
        Some(pick)
    }
}

#[cfg(test)]
#[path = "lblcr_tests.rs"]
mod tests;
