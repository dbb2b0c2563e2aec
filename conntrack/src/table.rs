//! The per-core connection table: slab + two-way tuple index + timer wheel.

use crate::conn::{Conn, ConnId, ConnMut, NewConn, Transition, F_INPUT_ONLY, F_REPLY_INDEXED};
use crate::error::InsertError;
use crate::index::{Index, Probe};
use crate::mem::{empty_vec, filled_vec, prefetch, Backing};
use crate::state::{next_tcp_state, FlagClass, StateTable, TcpFlags, TcpState};
use crate::template::TemplateId;
use crate::timeouts::{secs_to_ms, Timeouts};
use crate::tuple::{Dir, HashSeed, Proto, Tuple};
use crate::wheel::{Wheel, NIL};
use crate::Millis;

/// Timeout of a freshly created connection until its first state change; the kernel
/// arms new connections with 3 s before the first packet runs the state machine.
pub const NEW_CONN_TIMEOUT_MS: Millis = 3_000;

/// Internal steps (`Wheel::pop_due` work units) allowed per expiry in one `expire`
/// call, plus a constant floor: covers moving slots and re-filing entries whose
/// deadline was pushed back by traffic.
const WORK_PER_EXPIRY: usize = 4;
const WORK_FLOOR: usize = 64;

/// Hash seed used by `new`; `with_hash_seed` lets the caller pick a secret one.
const DEFAULT_SEED: u64 = 0x5eed_c0de_f00d_d00d;

/// Largest capacity accepted: slot numbers must leave room for the direction bit
/// and the wheel's list-head tag.
pub const MAX_CAPACITY: usize = 1 << 30;

/// Most tuples `lookup_burst` handles per call (a DPDK burst is at most 64 here).
pub const BURST: usize = 64;

/// Lookups whose memory is fetched together (see `lookup_burst`).
const CHUNK: usize = 32;

/// One core's connections. Fixed capacity, allocated once in `new`.
pub struct ConnTable {
    /// Every slot, allocated (and with `Backing::HugePages` touched) up front;
    /// slots `hwm..` have never been used.
    slab: Vec<Conn>,
    hwm: u32,
    free: Vec<u32>,
    index: Index,
    wheel: Wheel,
    timeouts: Timeouts,
    /// `steady_timeout` per protocol (TCP ESTABLISHED, UDP), from `timeouts`.
    steady: [Millis; 2],
    secure_tcp: bool,
    len: usize,
    capacity: usize,
}

fn steady_of(t: &Timeouts) -> [Millis; 2] {
    [
        secs_to_ms(t.tcp_state(TcpState::Established)),
        secs_to_ms(t.udp),
    ]
}

fn node(slot: u32, dir: Dir) -> u32 {
    (slot << 1) | u32::from(dir == Dir::Out)
}

impl ConnTable {
    /// A table for up to `capacity` connections (at most 2^30), everything
    /// preallocated on huge pages where the kernel has them, and pre-faulted.
    pub fn new(capacity: usize, timeouts: Timeouts) -> Self {
        Self::with_options(capacity, timeouts, DEFAULT_SEED, Backing::HugePages)
    }

    /// As `new`, with a caller-chosen (ideally random, per core) hash seed.
    pub fn with_hash_seed(capacity: usize, timeouts: Timeouts, seed: u64) -> Self {
        Self::with_options(capacity, timeouts, seed, Backing::HugePages)
    }

    /// As `new`, choosing the hash seed and how the memory is backed.
    pub fn with_options(capacity: usize, timeouts: Timeouts, seed: u64, backing: Backing) -> Self {
        let capacity = capacity.min(MAX_CAPACITY);
        ConnTable {
            slab: filled_vec(capacity, Conn::EMPTY, backing),
            hwm: 0,
            free: empty_vec(capacity, 0, backing),
            index: Index::new(capacity * 2, HashSeed::from_u64(seed), backing),
            wheel: Wheel::new(capacity, 0, backing),
            steady: steady_of(&timeouts),
            timeouts,
            secure_tcp: false,
            len: 0,
            capacity,
        }
    }

    /// Finds the connection a packet with tuple `t` belongs to, and its direction.
    #[inline]
    pub fn lookup(&self, t: &Tuple) -> Option<(ConnId, Dir)> {
        self.lookup_probed(&self.index.probe(t), t)
    }

    /// As `lookup`, on the caller's clock: a connection whose timeout has
    /// passed is gone for the very next packet, as the kernel's timer would
    /// have removed it, whatever progress the wheel has made. Such an entry is
    /// removed here (handed to `on_expire` first, as `expire` does) and not found.
    #[inline]
    pub fn lookup_at(
        &mut self,
        t: &Tuple,
        now: Millis,
        on_expire: impl FnOnce(&Conn),
    ) -> Option<(ConnId, Dir)> {
        let (id, dir) = self.lookup(t)?;
        if self.slab[id.0 as usize].expires > now {
            return Some((id, dir));
        }
        if let Some(c) = self.remove(id) {
            on_expire(&c);
        }
        None
    }

    /// The fast path's lookup: the connection of `t` (live or not: the caller
    /// compares `expires` with its clock), the packet's direction, and the
    /// entry to update in place.
    #[inline]
    pub fn find_mut(&mut self, t: &Tuple) -> Option<(ConnId, Dir, ConnMut<'_>)> {
        let (id, dir) = self.lookup(t)?;
        let c = self.slab.get_mut(id.0 as usize)?;
        Some((id, dir, ConnMut(c)))
    }

    /// Sets every connection's next-hop handles back to 0 (the caller's
    /// numbering restarted). Walks the used part of the table.
    pub fn clear_hops(&mut self) {
        let used = self.hwm as usize;
        for c in self.slab.iter_mut().take(used) {
            c.hop = [0; 2];
        }
    }

    /// Records the caller's next-hop handle of one direction of `id`.
    #[inline]
    pub fn set_hop(&mut self, id: ConnId, dir: Dir, hop: u16) {
        if let Some(c) = self.slab.get_mut(id.0 as usize).filter(|c| c.in_use()) {
            c.hop[dir as usize] = hop;
        }
    }

    #[inline]
    fn lookup_probed(&self, p: &Probe, t: &Tuple) -> Option<(ConnId, Dir)> {
        let slab = &self.slab;
        let n = self.index.find_probed(p, t, |n| {
            let c = slab.get((n >> 1) as usize)?;
            Some(if n & 1 == 0 { &c.orig } else { &c.reply })
        })?;
        let dir = if n & 1 == 0 { Dir::In } else { Dir::Out };
        Some((ConnId(n >> 1), dir))
    }

    /// Looks up a burst of tuples: `out[i]` is `lookup(&tuples[i])`. Same answers,
    /// but the memory a lookup waits for is fetched for the whole burst at once:
    /// hash every key and prefetch its bucket, then prefetch every candidate
    /// entry, then compare. Large tables then cost close to small ones, because
    /// the cache misses of one burst overlap instead of queueing.
    /// At most `BURST` tuples are handled per call (the rest of `out` is untouched).
    pub fn lookup_burst(&self, tuples: &[Tuple], out: &mut [Option<(ConnId, Dir)>]) {
        let n = tuples.len().min(out.len()).min(BURST);
        for (t, o) in tuples[..n].chunks(CHUNK).zip(out[..n].chunks_mut(CHUNK)) {
            self.lookup_chunk(t, o);
        }
    }

    #[inline]
    fn lookup_chunk(&self, tuples: &[Tuple], out: &mut [Option<(ConnId, Dir)>]) {
        let probes = self.prefetch_chunk(tuples);
        for ((o, p), t) in out.iter_mut().zip(&probes).zip(tuples) {
            *o = self.lookup_probed(p, t);
        }
    }

    /// The memory half of `lookup_burst` without the lookups: for a caller that
    /// looks the same tuples up one by one right afterwards (the pipeline, which
    /// prefetches a whole rx burst before processing its packets in order).
    pub fn prefetch_burst(&self, tuples: &[Tuple]) {
        for t in tuples.chunks(CHUNK) {
            self.prefetch_chunk(t);
        }
    }

    /// Hashes up to `CHUNK` keys and prefetches their buckets, then (once those
    /// have had time to arrive) the first candidate entry of each.
    #[inline]
    fn prefetch_chunk(&self, tuples: &[Tuple]) -> [Probe; CHUNK] {
        let mut probes = [Probe::default(); CHUNK];
        for (p, t) in probes.iter_mut().zip(tuples) {
            *p = self.index.probe(t);
            self.index.prefetch(p);
        }
        for p in &probes[..tuples.len().min(CHUNK)] {
            self.prefetch_candidate(p);
        }
        probes
    }

    #[inline]
    fn prefetch_candidate(&self, p: &Probe) {
        if let Some(c) = self
            .index
            .first_candidate(p)
            .and_then(|n| self.slab.get((n >> 1) as usize))
        {
            prefetch(c);
        }
    }

    /// Adds a connection in state NONE, armed with the new-connection timeout.
    /// The caller then runs `update` with the packet that created it.
    pub fn insert(&mut self, c: NewConn, now: Millis) -> Result<ConnId, InsertError> {
        let index_reply = !c.input_only && c.reply != c.orig;
        if self.lookup(&c.orig).is_some() || (index_reply && self.lookup(&c.reply).is_some()) {
            return Err(InsertError::Exists);
        }
        if self.len >= self.capacity {
            return Err(InsertError::Full);
        }
        let expires = now.saturating_add(NEW_CONN_TIMEOUT_MS);
        let mut rec = Conn::from_new(&c, expires);
        if index_reply {
            rec.flags |= F_REPLY_INDEXED;
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None if (self.hwm as usize) < self.capacity => {
                self.hwm += 1;
                self.hwm - 1
            }
            None => return Err(InsertError::Full),
        };
        if self.index.insert(node(slot, Dir::In), &c.orig).is_err() {
            self.free.push(slot);
            return Err(InsertError::Full);
        }
        if index_reply && self.index.insert(node(slot, Dir::Out), &c.reply).is_err() {
            self.index.remove(node(slot, Dir::In), &c.orig);
            self.free.push(slot);
            return Err(InsertError::Full);
        }
        self.slab[slot as usize] = rec;
        self.wheel.schedule(slot, expires);
        self.len += 1;
        Ok(ConnId(slot))
    }

    /// Runs the state machine for one packet and re-arms the timer with the new
    /// state's timeout (measured from `now`), as IPVS does on every packet.
    /// An unknown id yields a NONE -> NONE transition and changes nothing.
    pub fn update(&mut self, id: ConnId, dir: Dir, flags: TcpFlags, now: Millis) -> Transition {
        let secure = self.secure_tcp;
        let timeouts = &self.timeouts;
        let Some(c) = self.slab.get_mut(id.0 as usize).filter(|c| c.in_use()) else {
            return Transition {
                from: TcpState::None,
                to: TcpState::None,
                was_active: false,
                is_active: false,
            };
        };
        let from = c.state;
        let was_active = c.is_active();
        let secs = match c.orig.proto {
            Proto::Udp => timeouts.udp,
            // The common case, an established connection seeing a plain ACK,
            // stays ESTABLISHED in every table (INPUT, OUTPUT, INPUT-ONLY,
            // secure or not): skip the table walk.
            Proto::Tcp
                if c.state == TcpState::Established
                    && flags.class() == Some(FlagClass::Ack)
                    && (dir == Dir::In || c.flags & F_INPUT_ONLY == 0) =>
            {
                timeouts.tcp_state(TcpState::Established)
            }
            Proto::Tcp => {
                // A reply proves the replies pass through us after all: leave
                // INPUT-ONLY for good, as the kernel drops its NOOUTPUT flag.
                let table = match dir {
                    Dir::Out => {
                        c.flags &= !F_INPUT_ONLY;
                        StateTable::Output
                    }
                    Dir::In if c.flags & F_INPUT_ONLY != 0 => StateTable::InputOnly,
                    Dir::In => StateTable::Input,
                };
                c.state = next_tcp_state(secure, table, from, flags);
                timeouts.tcp_state(c.state)
            }
        };
        let expires = now.saturating_add(secs_to_ms(secs));
        let earlier = expires < c.expires;
        c.expires = expires;
        // The wheel only needs an entry filed no later than its deadline: a later
        // deadline (the usual case) is left for the wheel to discover, saving two
        // list relinks per packet.
        if earlier {
            self.wheel.schedule(id.0, expires);
        }
        Transition {
            from,
            to: c.state,
            was_active,
            is_active: c.is_active(),
        }
    }

    /// Counts one client-side packet of `id` (the kernel's `in_pkts`, which
    /// the sync policy reads) and returns the count; 0 for an unknown id.
    #[inline]
    pub fn count_in(&mut self, id: ConnId) -> u32 {
        match self.slab.get_mut(id.0 as usize).filter(|c| c.in_use()) {
            Some(c) => {
                c.in_pkts = c.in_pkts.wrapping_add(1);
                c.in_pkts
            }
            None => 0,
        }
    }

    /// Whether `id` is to be sent to the sync backups now, as `needed` says
    /// from (state when last sent, state now, client packets); when it is,
    /// the state now becomes the one last sent (`ip_vs_sync_conn_needed`
    /// updates `cp->old_state` only then).
    pub fn sync_due(
        &mut self,
        id: ConnId,
        needed: impl FnOnce(TcpState, TcpState, u32) -> bool,
    ) -> bool {
        let Some(c) = self.slab.get_mut(id.0 as usize).filter(|c| c.in_use()) else {
            return false;
        };
        let due = needed(c.synced, c.state, c.in_pkts);
        if due {
            c.synced = c.state;
        }
        due
    }

    /// Adds a connection a sync master sent, in its state and with its
    /// expiry (the master's timeout), or updates the entry of the same
    /// tuples. Returns the id and whether it was new.
    pub fn install_synced(
        &mut self,
        c: NewConn,
        state: TcpState,
        expires: Millis,
        now: Millis,
    ) -> Result<(ConnId, bool), InsertError> {
        let (id, new) = match self.lookup(&c.orig) {
            Some((id, Dir::In)) => (id, false),
            Some((_, Dir::Out)) => return Err(InsertError::Exists),
            None => (self.insert(c, now)?, true),
        };
        if let Some(rec) = self.slab.get_mut(id.0 as usize).filter(|r| r.in_use()) {
            rec.state = state;
            rec.synced = state;
            rec.expires = expires;
        }
        self.wheel.schedule(id.0, expires);
        Ok((id, new))
    }

    pub fn get(&self, id: ConnId) -> Option<&Conn> {
        self.slab.get(id.0 as usize).filter(|c| c.in_use())
    }

    /// Records (or clears) the persistence template controlling a connection.
    pub fn set_template(&mut self, id: ConnId, t: Option<TemplateId>) {
        if let Some(c) = self.slab.get_mut(id.0 as usize).filter(|c| c.in_use()) {
            c.template = t.map_or(NIL, |t| t.0);
        }
    }

    /// Replaces the caller's tag of a connection.
    pub fn set_tag(&mut self, id: ConnId, tag: u8) {
        if let Some(c) = self.slab.get_mut(id.0 as usize).filter(|c| c.in_use()) {
            c.tag = tag;
        }
    }

    /// Removes due connections, at most `budget` of them, calling `on_expire` for
    /// each (so the caller can fix counters and release templates/ports) before it
    /// is freed. Returns how many were removed.
    pub fn expire(
        &mut self,
        now: Millis,
        budget: usize,
        mut on_expire: impl FnMut(&Conn),
    ) -> usize {
        let mut work = budget
            .saturating_mul(WORK_PER_EXPIRY)
            .saturating_add(WORK_FLOOR);
        let mut removed = 0;
        while removed < budget {
            let slab = &self.slab;
            let Some(slot) = self.wheel.pop_due(now, &mut work, |i| {
                slab.get(i as usize).map_or(0, |c| c.expires)
            }) else {
                break;
            };
            if let Some(c) = self.release(slot) {
                on_expire(&c);
                removed += 1;
            }
        }
        removed
    }

    /// Removes a connection now (e.g. the dataplane drops a reused TIME_WAIT entry).
    pub fn remove(&mut self, id: ConnId) -> Option<Conn> {
        self.wheel.cancel(id.0);
        self.release(id.0)
    }

    /// Unindexes and frees a slot already off the wheel.
    fn release(&mut self, slot: u32) -> Option<Conn> {
        let c = *self.slab.get(slot as usize).filter(|c| c.in_use())?;
        self.index.remove(node(slot, Dir::In), &c.orig);
        if c.flags & F_REPLY_INDEXED != 0 {
            self.index.remove(node(slot, Dir::Out), &c.reply);
        }
        self.slab[slot as usize].flags = 0;
        self.free.push(slot);
        self.len -= 1;
        Some(c)
    }

    /// Timeouts apply from the next packet of each connection, as in the kernel.
    pub fn set_timeouts(&mut self, t: Timeouts) {
        self.steady = steady_of(&t);
        self.timeouts = t;
    }

    /// How long an entry lives after a packet that leaves its state as it
    /// was, in the common steady case: an ESTABLISHED TCP connection seeing
    /// a plain ACK (every state table keeps it ESTABLISHED) or a UDP packet.
    #[inline]
    pub fn steady_timeout(&self, proto: Proto) -> Millis {
        self.steady[usize::from(proto == Proto::Udp)]
    }

    pub fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }

    /// Switches to the kernel's secure_tcp (DoS defense) state tables.
    pub fn set_secure_tcp(&mut self, on: bool) {
        self.secure_tcp = on;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Live connections in slot order (for `ipvsadm -Lnc`-style listings).
    pub fn iter(&self) -> impl Iterator<Item = &Conn> {
        self.used_slots().iter().filter(|c| c.in_use())
    }

    fn used_slots(&self) -> &[Conn] {
        self.slab.get(..self.hwm as usize).unwrap_or_default()
    }

    /// Heap and inline bytes this table holds, from the actual allocations.
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.slab.capacity() * std::mem::size_of::<Conn>()
            + self.free.capacity() * std::mem::size_of::<u32>()
            + self.index.memory_bytes()
            + self.wheel.memory_bytes()
    }

    /// Bytes of the tuple index alone (the part of `memory_bytes` a lookup reads
    /// before the connection itself).
    pub fn index_bytes(&self) -> usize {
        self.index.memory_bytes()
    }

    /// `memory_bytes` divided by capacity, rounded up: everything a connection costs
    /// (record, both hash nodes and their share of the bucket array, timer links,
    /// free-list slot, and the table's fixed overhead).
    pub fn bytes_per_conn(&self) -> usize {
        self.memory_bytes().div_ceil(self.capacity.max(1))
    }

    /// What `memory_bytes` will be for a table of `capacity`, without allocating it.
    pub fn memory_bytes_for(capacity: usize) -> usize {
        let capacity = capacity.min(MAX_CAPACITY);
        std::mem::size_of::<Self>()
            + capacity * (std::mem::size_of::<Conn>() + std::mem::size_of::<u32>())
            + Index::memory_bytes_for(capacity * 2)
            + Wheel::memory_bytes_for(capacity)
    }

    /// `bytes_per_conn` for a table of `capacity`, without allocating it.
    pub fn bytes_per_conn_for(capacity: usize) -> usize {
        Self::memory_bytes_for(capacity).div_ceil(capacity.clamp(1, MAX_CAPACITY))
    }

    /// Live connections with their ids.
    pub fn iter_ids(&self) -> impl Iterator<Item = (ConnId, &Conn)> {
        self.used_slots()
            .iter()
            .enumerate()
            .filter(|(_, c)| c.in_use())
            .map(|(i, c)| (ConnId(i as u32), c))
    }
}

#[cfg(test)]
mod sync_tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn conn(cport: u16) -> NewConn {
        let t = |src: [u8; 4], sport, dst: [u8; 4], dport| Tuple {
            proto: Proto::Tcp,
            src: Ipv4Addr::from(src),
            sport,
            dst: Ipv4Addr::from(dst),
            dport,
        };
        NewConn {
            orig: t([10, 0, 0, 2], cport, [10, 0, 0, 100], 80),
            reply: t([10, 1, 0, 11], 8080, [10, 0, 0, 2], cport),
            service: 1,
            dest: 2,
            input_only: false,
            tag: 0,
        }
    }

    #[test]
    fn client_packets_are_counted_and_the_synced_state_moves_only_when_sent() {
        let mut t = ConnTable::new(64, Timeouts::default());
        let id = t.insert(conn(1000), 0).unwrap();
        assert_eq!((t.count_in(id), t.count_in(id)), (1, 2));
        t.update(id, Dir::In, TcpFlags(0x02), 0);
        t.update(id, Dir::Out, TcpFlags(0x12), 0);
        t.update(id, Dir::In, TcpFlags(0x10), 0);
        let mut seen = None;
        assert!(!t.sync_due(id, |old, new, pkts| {
            seen = Some((old, new, pkts));
            false
        }));
        assert_eq!(seen, Some((TcpState::None, TcpState::Established, 2)));
        assert!(t.sync_due(id, |_, _, _| true));
        // Sent: ESTABLISHED is now the state last sent.
        assert!(!t.sync_due(id, |old, _, _| old != TcpState::Established));
    }

    #[test]
    fn a_synced_connection_is_installed_with_the_masters_state_and_timeout() {
        let mut t = ConnTable::new(64, Timeouts::default());
        let (id, new) = t
            .install_synced(conn(1000), TcpState::Established, 900_000, 5)
            .unwrap();
        assert!(new);
        let c = t.get(id).unwrap();
        assert_eq!((c.state, c.expires), (TcpState::Established, 900_000));
        assert_eq!(t.lookup(&conn(1000).reply), Some((id, Dir::Out)));
        // The same connection again: updated in place, not duplicated.
        let (again, new) = t
            .install_synced(conn(1000), TcpState::FinWait, 120_000, 6)
            .unwrap();
        assert_eq!((again, new, t.len()), (id, false, 1));
        assert_eq!(t.get(id).unwrap().state, TcpState::FinWait);
        // Its expiry holds on the packet clock.
        assert!(t.lookup_at(&conn(1000).orig, 120_001, |_| {}).is_none());
    }
}
