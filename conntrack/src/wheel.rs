//! Hierarchical timer wheel with intrusive, index-based lists.
//!
//! Eleven levels of 64 slots with a 1 ms tick cover the whole `u64` millisecond
//! range, so any deadline can be filed without clamping. An entry at level L sits in
//! the slot given by the L-th 6-bit digit of its deadline, and agrees with the wheel's
//! current time on all higher digits; when the wheel reaches a slot, its whole list is
//! moved (O(1)) onto a `pending` list and the entries are then either reported due or
//! re-filed one level lower. Each entry is therefore touched at most once per level,
//! and `pop_due` does a bounded amount of work per call, so a million timers falling
//! due together are drained in chunks rather than in one pause.
//!
//! The wheel does not store deadlines: the owner passes `deadline_of`, and the wheel
//! only requires that an entry is filed no later than its real deadline. That lets
//! the owner push a deadline *later* without touching the wheel (the common case on
//! every packet); the entry is re-filed when its old slot comes up.

use crate::mem::{filled_vec, Backing};

/// "No entry".
pub(crate) const NIL: u32 = u32::MAX;
/// Marks a `prev` that names a list head rather than an entry.
const HEAD: u32 = 0x8000_0000;

const BITS: u32 = 6;
const SLOTS: usize = 1 << BITS;
const LEVELS: usize = 11; // 11 * 6 = 66 bits >= 64
/// List id of the pending (due or to-be-refiled) list; wheel slots are 0..PENDING.
const PENDING: u32 = (LEVELS * SLOTS) as u32;

/// Largest entry index the encoding supports (the top bit tags list heads).
pub(crate) const MAX_ENTRIES: usize = (HEAD - 1) as usize;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Link {
    prev: u32,
    next: u32,
}

const UNLINKED: Link = Link {
    prev: NIL,
    next: NIL,
};

pub(crate) struct Wheel {
    heads: Vec<u32>,
    occupied: [u64; LEVELS],
    pending: u32,
    links: Vec<Link>,
    /// Wheel time: every entry filed in a slot has a slot start >= `cur`.
    cur: u64,
}

impl Wheel {
    /// A wheel for entries `0..capacity`, starting at time `now`.
    pub(crate) fn new(capacity: usize, now: u64, backing: Backing) -> Self {
        Wheel {
            heads: vec![NIL; LEVELS * SLOTS],
            occupied: [0; LEVELS],
            pending: NIL,
            links: filled_vec(capacity.min(MAX_ENTRIES), UNLINKED, backing),
            cur: now,
        }
    }

    /// Bytes this wheel holds on the heap plus inline.
    pub(crate) fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.heads.capacity() * std::mem::size_of::<u32>()
            + self.links.capacity() * std::mem::size_of::<Link>()
    }

    pub(crate) fn memory_bytes_for(capacity: usize) -> usize {
        std::mem::size_of::<Self>()
            + LEVELS * SLOTS * std::mem::size_of::<u32>()
            + capacity * std::mem::size_of::<Link>()
    }

    #[cfg(test)]
    pub(crate) fn is_scheduled(&self, i: u32) -> bool {
        self.links.get(i as usize).is_some_and(|l| l.prev != NIL)
    }

    /// Files entry `i` for `deadline`, moving it if it was already filed.
    pub(crate) fn schedule(&mut self, i: u32, deadline: u64) {
        if i as usize >= self.links.len() {
            return;
        }
        self.cancel(i);
        self.file(i, deadline);
    }

    /// Takes entry `i` off the wheel (no-op if it is not on it).
    pub(crate) fn cancel(&mut self, i: u32) {
        let Some(&Link { prev, next }) = self.links.get(i as usize) else {
            return;
        };
        if prev == NIL {
            return;
        }
        if prev & HEAD != 0 {
            let list = prev & !HEAD;
            self.set_head(list, next);
            if next == NIL && list < PENDING {
                let (lvl, slot) = (list as usize / SLOTS, list as usize % SLOTS);
                self.occupied[lvl] &= !(1u64 << slot);
            }
        } else if let Some(p) = self.links.get_mut(prev as usize) {
            p.next = next;
        }
        if let Some(n) = self.links.get_mut(next as usize) {
            n.prev = prev;
        }
        self.links[i as usize] = UNLINKED;
    }

    /// Returns (and takes off the wheel) one entry whose real deadline is <= `now`.
    ///
    /// `work` is decremented for every internal step (moving a slot, re-filing an
    /// entry that is not due yet); when it reaches zero the call gives up and a later
    /// call resumes where this one stopped. Returns `None` when nothing more is due
    /// or the work allowance is spent.
    pub(crate) fn pop_due(
        &mut self,
        now: u64,
        work: &mut usize,
        deadline_of: impl Fn(u32) -> u64,
    ) -> Option<u32> {
        // Time never runs backwards for the wheel: an earlier `now` (a caller's clock
        // stepping back) is treated as the wheel's own time.
        let now = now.max(self.cur);
        loop {
            while self.pending != NIL {
                let i = self.pending;
                let d = deadline_of(i);
                if d <= now {
                    self.cancel(i);
                    return Some(i);
                }
                if *work == 0 {
                    return None;
                }
                *work -= 1;
                self.cancel(i);
                self.file(i, d);
            }
            if *work == 0 {
                return None;
            }
            match self.next_slot() {
                Some((list, start)) if start <= now => {
                    *work -= 1;
                    self.cur = start;
                    self.splice_to_pending(list);
                }
                _ => {
                    // Nothing filed before `now`: the wheel can move straight there,
                    // which keeps later filings at the lowest possible level.
                    self.cur = now;
                    return None;
                }
            }
        }
    }

    fn file(&mut self, i: u32, deadline: u64) {
        if deadline <= self.cur {
            self.push_front(PENDING, i);
            return;
        }
        let diff = (deadline ^ self.cur) | (SLOTS as u64 - 1);
        let level = ((63 - diff.leading_zeros()) / BITS) as usize;
        let slot = ((deadline >> (BITS as usize * level)) as usize) & (SLOTS - 1);
        let list = (level * SLOTS + slot) as u32;
        self.push_front(list, i);
        self.occupied[level] |= 1u64 << slot;
    }

    /// Earliest occupied slot: its list id and the time its range starts.
    fn next_slot(&self) -> Option<(u32, u64)> {
        for level in 0..LEVELS {
            let shift = BITS as usize * level;
            let digit = ((self.cur >> shift) as usize) & (SLOTS - 1);
            let candidates = self.occupied[level] & (u64::MAX << digit);
            if candidates == 0 {
                continue;
            }
            let slot = candidates.trailing_zeros() as usize;
            let upper_shift = shift + BITS as usize;
            let upper = if upper_shift >= 64 {
                0
            } else {
                self.cur & (u64::MAX << upper_shift)
            };
            let start = upper | ((slot as u64) << shift);
            return Some(((level * SLOTS + slot) as u32, start));
        }
        None
    }

    fn splice_to_pending(&mut self, list: u32) {
        let first = self.head(list);
        self.set_head(list, NIL);
        let (lvl, slot) = (list as usize / SLOTS, list as usize % SLOTS);
        if let Some(o) = self.occupied.get_mut(lvl) {
            *o &= !(1u64 << slot);
        }
        // Only called with an empty pending list, so the slot's list becomes it.
        self.pending = first;
        if let Some(l) = self.links.get_mut(first as usize) {
            l.prev = HEAD | PENDING;
        }
    }

    fn push_front(&mut self, list: u32, i: u32) {
        let old = self.head(list);
        self.links[i as usize] = Link {
            prev: HEAD | list,
            next: old,
        };
        if let Some(o) = self.links.get_mut(old as usize) {
            o.prev = i;
        }
        self.set_head(list, i);
    }

    fn head(&self, list: u32) -> u32 {
        if list == PENDING {
            self.pending
        } else {
            self.heads.get(list as usize).copied().unwrap_or(NIL)
        }
    }

    fn set_head(&mut self, list: u32, v: u32) {
        if list == PENDING {
            self.pending = v;
        } else if let Some(h) = self.heads.get_mut(list as usize) {
            *h = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(w: &mut Wheel, now: u64, deadlines: &[u64]) -> Vec<u32> {
        let mut out = Vec::new();
        let mut work = usize::MAX;
        while let Some(i) = w.pop_due(now, &mut work, |i| deadlines[i as usize]) {
            out.push(i);
        }
        out.sort_unstable();
        out
    }

    #[test]
    fn fires_exactly_at_deadline_across_levels() {
        let deadlines: Vec<u64> = vec![1, 63, 64, 65, 4095, 4096, 300_000, 900_000, 3_600_000 * 5];
        let mut w = Wheel::new(deadlines.len(), 0, Backing::Lazy);
        for (i, &d) in deadlines.iter().enumerate() {
            w.schedule(i as u32, d);
        }
        for (i, &d) in deadlines.iter().enumerate() {
            assert!(
                drain(&mut w, d - 1, &deadlines).is_empty(),
                "early at {}",
                d - 1
            );
            assert_eq!(drain(&mut w, d, &deadlines), vec![i as u32], "deadline {d}");
        }
    }

    #[test]
    fn cancel_and_move() {
        let mut deadlines = vec![100u64, 200, 300];
        let mut w = Wheel::new(3, 0, Backing::Lazy);
        for i in 0..3 {
            w.schedule(i, deadlines[i as usize]);
        }
        w.cancel(1);
        assert!(!w.is_scheduled(1));
        deadlines[2] = 50;
        w.schedule(2, 50);
        assert_eq!(drain(&mut w, 60, &deadlines), vec![2]);
        assert_eq!(drain(&mut w, 1000, &deadlines), vec![0]);
    }

    #[test]
    fn later_deadline_is_refiled_not_fired() {
        // Filed at 100, real deadline pushed to 5000 without telling the wheel.
        let mut deadlines = vec![100u64];
        let mut w = Wheel::new(1, 0, Backing::Lazy);
        w.schedule(0, 100);
        deadlines[0] = 5000;
        assert!(drain(&mut w, 4999, &deadlines).is_empty());
        assert!(w.is_scheduled(0));
        assert_eq!(drain(&mut w, 5000, &deadlines), vec![0]);
    }

    #[test]
    fn work_is_bounded_and_resumes() {
        let n = 10_000usize;
        let deadlines = vec![777_777u64; n];
        let mut w = Wheel::new(n, 0, Backing::Lazy);
        for (i, &d) in deadlines.iter().enumerate() {
            w.schedule(i as u32, d);
        }
        let mut got = 0;
        let mut calls = 0;
        loop {
            let mut work = 16;
            let mut popped = 0;
            while popped < 100 {
                match w.pop_due(1_000_000, &mut work, |i| deadlines[i as usize]) {
                    Some(_) => popped += 1,
                    None => break,
                }
            }
            got += popped;
            calls += 1;
            if popped == 0 && work > 0 {
                break;
            }
            assert!(calls < 10_000);
        }
        assert_eq!(got, n);
    }

    #[test]
    fn huge_deadlines_do_not_overflow() {
        let deadlines = vec![u64::MAX, u64::MAX - 1, 1 << 63];
        let mut w = Wheel::new(3, u64::MAX - (1 << 40), Backing::Lazy);
        for i in 0..3 {
            w.schedule(i, deadlines[i as usize]);
        }
        assert_eq!(drain(&mut w, u64::MAX, &deadlines).len(), 3);
    }
}
