//! The destination-address cache shared by lblc and lblcr: 1024 hash
//! buckets of entries, with the kernel's periodic garbage collection run
//! lazily from the scheduling path.
//!
//! Entries live in a slab with a free list, so a steady-state cache
//! allocates nothing; it only grows past the largest size it ever had.

use crate::hash::hash_32;
use crate::Millis;

const TAB_BITS: u32 = 10;
pub(crate) const TAB_SIZE: usize = 1 << TAB_BITS;
const NIL: u32 = u32::MAX;

/// How often the kernel's GC timer fires.
pub(crate) const CHECK_INTERVAL: Millis = 60_000;
/// Default `lblc_expiration` / `lblcr_expiration` sysctl: one day.
pub(crate) const DEFAULT_EXPIRATION: Millis = 24 * 60 * 60 * 1000;
/// Idle time after which an entry may go when the table is over-full.
const ENTRY_TIMEOUT: Millis = 6 * 60 * 1000;
/// Every this many ticks the GC does a full expiration pass.
const COUNT_FOR_FULL_EXPIRATION: u32 = 30;
/// Entries above which the GC starts trimming (kernel: 16 per bucket).
const MAX_SIZE: usize = TAB_SIZE * 16;
/// Hard cap (not in the kernel, whose allocations can fail instead): past
/// it new destinations are scheduled without being cached, which is how
/// the kernel behaves when it cannot allocate an entry.
const HARD_CAP: usize = MAX_SIZE * 16;
/// Buckets a sweep visits per scheduling call, bounding the added latency.
const SWEEP_STEP: usize = 16;

pub(crate) struct Entry<V> {
    pub addr: u32,
    pub lastuse: Millis,
    next: u32,
    pub val: V,
}

#[derive(Clone, Copy)]
enum Mode {
    /// Drop everything idle for the expiration time.
    Full,
    /// Over-full: drop entries idle for ENTRY_TIMEOUT until `goal` are gone.
    Trim { goal: i64 },
}

struct Sweep {
    mode: Mode,
    left: usize,
}

pub(crate) struct Cache<V> {
    heads: Vec<u32>,
    slab: Vec<Entry<V>>,
    free: u32,
    len: usize,
    next_tick: Option<Millis>,
    counter: u32,
    rover: usize,
    sweep: Option<Sweep>,
}

fn bucket(addr: u32) -> usize {
    hash_32(addr, TAB_BITS) as usize
}

impl<V: Default> Cache<V> {
    pub fn new() -> Self {
        Cache {
            heads: vec![NIL; TAB_SIZE],
            slab: Vec::new(),
            free: NIL,
            len: 0,
            next_tick: None,
            counter: 1,
            rover: 0,
            sweep: None,
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Slab index of the entry for `addr`.
    pub fn find(&self, addr: u32) -> Option<u32> {
        let mut i = self.heads[bucket(addr)];
        while let Some(e) = self.slab.get(i as usize) {
            if e.addr == addr {
                return Some(i);
            }
            i = e.next;
        }
        None
    }

    pub fn entry(&mut self, i: u32) -> Option<&mut Entry<V>> {
        self.slab.get_mut(i as usize)
    }

    /// Add an entry at the head of its bucket; `init` fills in the value
    /// (a recycled value keeps its allocations). `None` at the hard cap.
    pub fn insert(&mut self, addr: u32, now: Millis, init: impl FnOnce(&mut V)) -> Option<u32> {
        let b = bucket(addr);
        let i = if self.free != NIL {
            let i = self.free;
            let e = self.slab.get_mut(i as usize)?;
            self.free = e.next;
            i
        } else {
            if self.len >= HARD_CAP {
                return None;
            }
            self.slab.push(Entry {
                addr,
                lastuse: now,
                next: NIL,
                val: V::default(),
            });
            (self.slab.len() - 1) as u32
        };
        let head = self.heads[b];
        let e = self.slab.get_mut(i as usize)?;
        e.addr = addr;
        e.lastuse = now;
        e.next = head;
        init(&mut e.val);
        self.heads[b] = i;
        self.len += 1;
        Some(i)
    }

    /// Visit every live entry; those for which `keep` says false go.
    pub fn retain(&mut self, mut keep: impl FnMut(&mut V) -> bool) {
        for b in 0..TAB_SIZE {
            self.retain_bucket(b, |e| keep(&mut e.val));
        }
    }

    /// Remove entries of bucket `b` failing `keep`; returns how many went.
    fn retain_bucket(&mut self, b: usize, mut keep: impl FnMut(&mut Entry<V>) -> bool) -> i64 {
        let mut gone = 0;
        let mut prev = NIL;
        let mut cur = self.heads[b];
        while cur != NIL {
            let next = self.slab[cur as usize].next;
            if keep(&mut self.slab[cur as usize]) {
                prev = cur;
            } else {
                if prev == NIL {
                    self.heads[b] = next;
                } else {
                    self.slab[prev as usize].next = next;
                }
                self.slab[cur as usize].next = self.free;
                self.free = cur;
                self.len -= 1;
                gone += 1;
            }
            cur = next;
        }
        gone
    }

    /// Run the GC timer lazily: fire a tick every CHECK_INTERVAL of `now`
    /// and advance any sweep in progress by a few buckets.
    pub fn maintain(&mut self, now: Millis, expiration: Millis) {
        match self.next_tick {
            None => self.next_tick = Some(now.saturating_add(CHECK_INTERVAL)),
            Some(t) if now >= t => {
                // A sweep still unfinished a whole interval later is
                // completed now so ticks keep the kernel's cadence.
                self.step(now, expiration, TAB_SIZE);
                self.tick();
                self.next_tick = Some(now.saturating_add(CHECK_INTERVAL));
            }
            Some(_) => {}
        }
        self.step(now, expiration, SWEEP_STEP);
    }

    /// The kernel timer's decision: a full expiration pass every 30 ticks,
    /// otherwise trim only when the table holds more than MAX_SIZE entries.
    fn tick(&mut self) {
        // The counter runs 1..=30, so "a multiple of 30" is reaching 30.
        if self.counter >= COUNT_FOR_FULL_EXPIRATION {
            self.counter = 1;
            self.sweep = Some(Sweep {
                mode: Mode::Full,
                left: TAB_SIZE,
            });
        } else if self.len <= MAX_SIZE {
            self.counter += 1;
        } else {
            let over = (self.len - MAX_SIZE) as i64;
            let goal = (over * 4 / 3).min(MAX_SIZE as i64 / 2);
            self.sweep = Some(Sweep {
                mode: Mode::Trim { goal },
                left: TAB_SIZE,
            });
        }
    }

    fn step(&mut self, now: Millis, expiration: Millis, budget: usize) {
        for _ in 0..budget {
            let Some(sw) = self.sweep.as_mut() else {
                return;
            };
            if sw.left == 0 {
                self.sweep = None;
                return;
            }
            sw.left -= 1;
            let mode = sw.mode;
            let b = (self.rover + 1) & (TAB_SIZE - 1);
            self.rover = b;
            match mode {
                Mode::Full => {
                    self.retain_bucket(b, |e| now < e.lastuse.saturating_add(expiration));
                }
                Mode::Trim { goal } => {
                    let gone =
                        self.retain_bucket(b, |e| now < e.lastuse.saturating_add(ENTRY_TIMEOUT));
                    let goal = goal - gone;
                    match self.sweep.as_mut() {
                        Some(sw) if goal > 0 => sw.mode = Mode::Trim { goal },
                        _ => self.sweep = None,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_find_remove_recycles() {
        let mut c: Cache<u32> = Cache::new();
        let a = c.insert(1, 0, |v| *v = 7).unwrap();
        let b = c.insert(1 + (1 << 22), 0, |v| *v = 8).unwrap();
        assert_eq!(c.find(1), Some(a));
        assert_eq!(c.find(1 + (1 << 22)), Some(b));
        c.retain(|v| *v != 7);
        assert_eq!(c.find(1), None);
        assert_eq!(c.len(), 1);
        let again = c.insert(5, 0, |v| *v = 9).unwrap();
        assert_eq!(again, a, "slot reused");
        c.retain(|v| *v != 8);
        assert_eq!(c.find(1 + (1 << 22)), None);
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn full_expiration_after_thirty_ticks() {
        let mut c: Cache<u32> = Cache::new();
        let exp = 10 * 60_000;
        c.maintain(0, exp); // arms the timer
        for a in 0..3000u32 {
            c.insert(a, 0, |_| {});
        }
        // Ticks 1..29 only count (the table is not over-full).
        for k in 1..30 {
            c.maintain(k * CHECK_INTERVAL, exp);
        }
        assert_eq!(c.len(), 3000);
        // Tick 30: full pass, spread over calls of SWEEP_STEP buckets.
        let t = 30 * CHECK_INTERVAL;
        for _ in 0..TAB_SIZE / SWEEP_STEP {
            c.maintain(t, exp);
        }
        assert_eq!(c.len(), 0);
    }

    #[test]
    fn fresh_entries_survive_full_pass() {
        let mut c: Cache<u32> = Cache::new();
        let exp = DEFAULT_EXPIRATION;
        c.maintain(0, exp);
        c.insert(1, 0, |_| {});
        let t = 30 * CHECK_INTERVAL;
        c.insert(2, t - 1000, |_| {});
        for k in 1..=30 {
            c.maintain(k * CHECK_INTERVAL, exp);
        }
        for _ in 0..TAB_SIZE {
            c.maintain(t, exp);
        }
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn overfull_table_is_trimmed() {
        let mut c: Cache<u32> = Cache::new();
        c.maintain(0, DEFAULT_EXPIRATION);
        let n = MAX_SIZE as u32 + 300;
        for a in 0..n {
            c.insert(a, 0, |_| {});
        }
        let t = CHECK_INTERVAL; // tick 1: over-full, entries older than 6 min? no
        for _ in 0..2 * TAB_SIZE {
            c.maintain(t, DEFAULT_EXPIRATION);
        }
        assert_eq!(c.len(), n as usize);
        let t = 10 * CHECK_INTERVAL; // ticks 2..: trims at least the goal (400)
        c.maintain(t, DEFAULT_EXPIRATION);
        for _ in 0..2 * TAB_SIZE {
            c.maintain(t, DEFAULT_EXPIRATION);
        }
        let gone = n as usize - c.len();
        assert!((400..1000).contains(&gone), "{gone}");
    }
}
