//! Next-hop MAC resolution: static neighbours from the config, entries learned
//! from ARP that age out, and a bounded queue of frames waiting for an answer.
//! Everything is preallocated; nothing here allocates per packet.
use std::net::Ipv4Addr;

use conntrack::Millis;
use hashbrown::HashMap;

use crate::snapshot::Snapshot;
use crate::wire::MacAddr;

/// A learned entry is trusted this long after the last ARP that confirmed it.
pub const REACHABLE_MS: Millis = 300_000;
/// After this age a used entry triggers a refreshing ARP request (still used meanwhile).
pub const REFRESH_MS: Millis = 60_000;
/// A frame waits at most this long for its next hop to answer.
pub const PENDING_MS: Millis = 3_000;
/// At most one ARP request per next hop per this interval.
pub const REQUEST_INTERVAL_MS: Millis = 1_000;
pub const MAX_DYNAMIC: usize = 4096;
pub const MAX_PENDING: usize = 256;
/// Ageing walks the whole table: every 100 ms is ample for second-scale timers.
pub const AGEING_MS: Millis = 100;

#[derive(Clone, Copy, Debug)]
struct Dynamic {
    mac: Option<MacAddr>,
    confirmed: Millis,
    requested: Option<Millis>,
}

/// A neighbour learned on one core, for the others.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NeighborUpdate {
    pub port: usize,
    pub ip: Ipv4Addr,
    pub mac: MacAddr,
}

pub struct Pending<F> {
    pub ip: Ipv4Addr,
    pub port: usize,
    pub frame: F,
    since: Millis,
}

pub struct NeighborTable<F> {
    /// When `expire` last walked the tables (it runs at most every `AGEING_MS`).
    last_ageing: Millis,
    /// Changes whenever an answer `lookup` gave may no longer hold: statics
    /// replaced, a MAC changed or was forgotten, or an entry became due for a
    /// refreshing request (which only `lookup` sends). Whoever remembers
    /// answers (the pipeline's next hops) drops them when it moves.
    epoch: u32,
    statics: HashMap<(usize, Ipv4Addr), MacAddr>,
    dynamic: HashMap<(usize, Ipv4Addr), Dynamic>,
    pending: Vec<Pending<F>>,
}

/// What the caller should do with a frame whose next hop is unknown.
#[derive(Debug, PartialEq, Eq)]
pub enum Miss {
    /// Queued; also send an ARP request now.
    QueuedSendRequest,
    /// Queued; a request is already outstanding.
    Queued,
}

impl<F> NeighborTable<F> {
    pub fn new(s: &Snapshot) -> Self {
        let mut t = NeighborTable {
            last_ageing: 0,
            epoch: 0,
            statics: HashMap::with_capacity(s.neighbors.len()),
            dynamic: HashMap::with_capacity(MAX_DYNAMIC),
            pending: Vec::with_capacity(MAX_PENDING),
        };
        t.set_statics(s);
        t
    }

    /// Replaces the static entries (on a new snapshot); learned ones stay.
    pub fn set_statics(&mut self, s: &Snapshot) {
        self.epoch = self.epoch.wrapping_add(1);
        self.statics.clear();
        for n in &s.neighbors {
            self.statics.insert((n.port, n.ip), n.mac);
        }
    }

    /// The MAC for `ip` on `port`, and whether the entry wants a refreshing request.
    #[inline]
    pub fn lookup(&mut self, port: usize, ip: Ipv4Addr, now: Millis) -> Option<(MacAddr, bool)> {
        if let Some(m) = self.statics.get(&(port, ip)) {
            return Some((*m, false));
        }
        let d = self.dynamic.get_mut(&(port, ip))?;
        let mac = d.mac?;
        let age = now.saturating_sub(d.confirmed);
        if age >= REACHABLE_MS {
            d.mac = None;
            self.epoch = self.epoch.wrapping_add(1);
            return None;
        }
        let refresh = age >= REFRESH_MS
            && d.requested
                .is_none_or(|r| now.saturating_sub(r) >= REQUEST_INTERVAL_MS);
        if refresh {
            d.requested = Some(now);
        }
        Some((mac, refresh))
    }

    /// Parks `frame` until `ip` answers. Gives the frame back when the queue is full.
    pub fn park(&mut self, port: usize, ip: Ipv4Addr, frame: F, now: Millis) -> Result<Miss, F> {
        if self.pending.len() >= MAX_PENDING {
            return Err(frame);
        }
        let room = self.dynamic.len() < MAX_DYNAMIC;
        let send = match self.dynamic.get_mut(&(port, ip)) {
            Some(d) => {
                let due = d
                    .requested
                    .is_none_or(|r| now.saturating_sub(r) >= REQUEST_INTERVAL_MS);
                if due {
                    d.requested = Some(now);
                }
                due
            }
            None => {
                if room {
                    let d = Dynamic {
                        mac: None,
                        confirmed: 0,
                        requested: Some(now),
                    };
                    self.dynamic.insert((port, ip), d);
                }
                true
            }
        };
        self.pending.push(Pending {
            ip,
            port,
            frame,
            since: now,
        });
        Ok(if send {
            Miss::QueuedSendRequest
        } else {
            Miss::Queued
        })
    }

    /// Records `ip is-at mac` on `port` (from an ARP request or reply that
    /// concerns us) and moves the frames that waited for it into `ready`.
    pub fn learn(
        &mut self,
        port: usize,
        ip: Ipv4Addr,
        mac: MacAddr,
        now: Millis,
        ready: &mut Vec<Pending<F>>,
    ) {
        if self.statics.contains_key(&(port, ip)) {
            return;
        }
        if let Some(d) = self.dynamic.get_mut(&(port, ip)) {
            if d.mac.is_some_and(|old| old != mac) {
                self.epoch = self.epoch.wrapping_add(1);
            }
            *d = Dynamic {
                mac: Some(mac),
                confirmed: now,
                requested: None,
            };
        } else if self.dynamic.len() < MAX_DYNAMIC {
            self.dynamic.insert(
                (port, ip),
                Dynamic {
                    mac: Some(mac),
                    confirmed: now,
                    requested: None,
                },
            );
        }
        let mut i = 0;
        while i < self.pending.len() {
            if self.pending[i].ip == ip
                && self.pending[i].port == port
                && ready.len() < ready.capacity()
            {
                ready.push(self.pending.swap_remove(i));
            } else {
                i += 1;
            }
        }
    }

    /// Drops frames that waited too long (returned so the caller counts them)
    /// and forgets entries that stopped answering.
    pub fn expire(&mut self, now: Millis, expired: &mut Vec<Pending<F>>) {
        if now.saturating_sub(self.last_ageing) < AGEING_MS {
            return;
        }
        self.last_ageing = now;
        let mut i = 0;
        while i < self.pending.len() {
            if now.saturating_sub(self.pending[i].since) >= PENDING_MS
                && expired.len() < expired.capacity()
            {
                expired.push(self.pending.swap_remove(i));
            } else {
                i += 1;
            }
        }
        let mut moved = false;
        self.dynamic.retain(|_, d| match d.mac {
            Some(_) => {
                let age = now.saturating_sub(d.confirmed);
                // Due for a refreshing request: only `lookup` sends one, so
                // remembered answers must come back to it.
                moved |= age >= REFRESH_MS
                    && d.requested
                        .is_none_or(|r| now.saturating_sub(r) >= REQUEST_INTERVAL_MS);
                let keep = age < REACHABLE_MS;
                moved |= !keep;
                keep
            }
            None => d
                .requested
                .is_some_and(|r| now.saturating_sub(r) < PENDING_MS),
        });
        if moved {
            self.epoch = self.epoch.wrapping_add(1);
        }
    }

    /// See the field: compare two readings to learn whether answers moved.
    #[inline]
    pub fn epoch(&self) -> u32 {
        self.epoch
    }
}
