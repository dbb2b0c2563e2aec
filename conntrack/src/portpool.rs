//! FullNAT local (SNAT) address/port pool of one core.
//!
//! Each core owns the ports p with `p & core_mask == core` on every local address, so
//! a reply to (laddr, lport) can be steered to the owning core from the port alone.
//! Free pairs sit in a FIFO ring: `take` and `give_back` are O(1), and a released
//! port goes to the back of the queue, so it is reused as late as possible (the RS
//! may still hold the old connection in TIME_WAIT). A bitmap catches double frees
//! and foreign pairs.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::ops::RangeInclusive;

use hashbrown::HashMap;

use crate::error::PortPoolError;

/// Ports a pool hands out by default (well-known ports excluded).
pub const DEFAULT_PORT_RANGE: RangeInclusive<u16> = 1024..=65535;

pub struct LocalPortPool {
    addrs: Vec<Ipv4Addr>,
    addr_index: HashMap<Ipv4Addr, u16>,
    core: u16,
    core_mask: u16,
    range: RangeInclusive<u16>,
    /// (address index << 16) | port, in hand-out order.
    queue: VecDeque<u32>,
    /// One bit per (address, port): set while the pair is in `queue`.
    free_bits: Vec<u64>,
    capacity: usize,
}

impl LocalPortPool {
    /// The pool of `core` over the default port range.
    pub fn new(local_addrs: &[Ipv4Addr], core: u16, core_mask: u16) -> Self {
        // Only fails for an empty range or > 65536 addresses; keep what fits.
        let n = local_addrs.len().min(1 << 16);
        Self::with_range(&local_addrs[..n], core, core_mask, DEFAULT_PORT_RANGE)
            .unwrap_or_else(|_| Self::empty(core, core_mask))
    }

    fn empty(core: u16, core_mask: u16) -> Self {
        LocalPortPool {
            addrs: Vec::new(),
            addr_index: HashMap::new(),
            core,
            core_mask,
            range: DEFAULT_PORT_RANGE,
            queue: VecDeque::new(),
            free_bits: Vec::new(),
            capacity: 0,
        }
    }

    /// The pool of `core` over `range` (port 0 is never handed out). Duplicate
    /// addresses are counted once.
    pub fn with_range(
        local_addrs: &[Ipv4Addr],
        core: u16,
        core_mask: u16,
        range: RangeInclusive<u16>,
    ) -> Result<Self, PortPoolError> {
        if range.start() > range.end() {
            return Err(PortPoolError::EmptyRange(*range.start(), *range.end()));
        }
        let mut addrs = Vec::new();
        let mut addr_index = HashMap::new();
        for &a in local_addrs {
            if !addr_index.contains_key(&a) {
                let i = u16::try_from(addrs.len())
                    .map_err(|_| PortPoolError::TooManyAddresses(local_addrs.len()))?;
                addr_index.insert(a, i);
                addrs.push(a);
            }
        }
        let ports: Vec<u16> = range
            .clone()
            .filter(|&p| p != 0 && p & core_mask == core)
            .collect();
        let capacity = ports.len() * addrs.len();
        // Twice the pairs: a pair reserved for a synced connection stays
        // queued (skipped when reached) and may be queued again when given
        // back, so giving back never allocates.
        let mut queue = VecDeque::with_capacity(capacity * 2);
        let mut free_bits = vec![0u64; addrs.len() * 1024];
        // Interleave addresses so consecutive takes spread over all of them.
        for &p in &ports {
            for ai in 0..addrs.len() {
                queue.push_back(((ai as u32) << 16) | u32::from(p));
                let bit = ai * 65536 + usize::from(p);
                free_bits[bit / 64] |= 1u64 << (bit % 64);
            }
        }
        Ok(LocalPortPool {
            addrs,
            addr_index,
            core,
            core_mask,
            range,
            queue,
            free_bits,
            capacity,
        })
    }

    /// Next free (local address, port), or `None` when exhausted.
    pub fn take(&mut self) -> Option<(Ipv4Addr, u16)> {
        // Entries of pairs reserved since they were queued are stale: skip.
        while let Some(e) = self.queue.pop_front() {
            let (ai, port) = ((e >> 16) as usize, e as u16);
            let bit = ai * 65536 + usize::from(port);
            let Some(w) = self.free_bits.get_mut(bit / 64) else {
                continue;
            };
            let mask = 1u64 << (bit % 64);
            if *w & mask == 0 {
                continue;
            }
            *w &= !mask;
            return Some((self.addrs.get(ai).copied()?, port));
        }
        None
    }

    /// Takes a given pair out of the free ones (a FullNAT connection a sync
    /// master sent keeps its local address and port). False when this pool
    /// does not own it or it is already in use.
    pub fn reserve(&mut self, addr: Ipv4Addr, port: u16) -> bool {
        let Some(ai) = self.owned_index(addr, port) else {
            return false;
        };
        let bit = usize::from(ai) * 65536 + usize::from(port);
        let Some(w) = self.free_bits.get_mut(bit / 64) else {
            return false;
        };
        let mask = 1u64 << (bit % 64);
        if *w & mask == 0 {
            return false;
        }
        *w &= !mask;
        true
    }

    /// Returns a pair obtained from `take`.
    pub fn give_back(&mut self, addr: Ipv4Addr, port: u16) -> Result<(), PortPoolError> {
        let ai = self
            .owned_index(addr, port)
            .ok_or(PortPoolError::NotOwned(addr, port))?;
        let bit = usize::from(ai) * 65536 + usize::from(port);
        let w = self
            .free_bits
            .get_mut(bit / 64)
            .ok_or(PortPoolError::NotOwned(addr, port))?;
        let mask = 1u64 << (bit % 64);
        if *w & mask != 0 {
            return Err(PortPoolError::AlreadyFree(addr, port));
        }
        *w |= mask;
        // Never grows: each owned pair is queued at most once (the bitmap says so).
        self.queue
            .push_back((u32::from(ai) << 16) | u32::from(port));
        Ok(())
    }

    /// Whether this pool hands out `addr:port` (a reply to it belongs to this core).
    pub fn owns(&self, addr: Ipv4Addr, port: u16) -> bool {
        self.owned_index(addr, port).is_some()
    }

    fn owned_index(&self, addr: Ipv4Addr, port: u16) -> Option<u16> {
        if port == 0 || port & self.core_mask != self.core || !self.range.contains(&port) {
            return None;
        }
        self.addr_index.get(&addr).copied()
    }

    /// Pairs currently free.
    pub fn available(&self) -> usize {
        self.free_bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Pairs this pool owns.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn local_addrs(&self) -> &[Ipv4Addr] {
        &self.addrs
    }

    pub fn core(&self) -> u16 {
        self.core
    }

    pub fn core_mask(&self) -> u16 {
        self.core_mask
    }
}

/// The core owning local port `port` under `core_mask` (for steering replies).
pub fn port_owner(port: u16, core_mask: u16) -> u16 {
    port & core_mask
}

#[cfg(test)]
mod reserve_tests {
    use super::*;

    #[test]
    fn a_reserved_pair_is_never_handed_out_until_given_back() {
        let a = Ipv4Addr::new(10, 0, 0, 9);
        let mut p = LocalPortPool::with_range(&[a], 0, 0, 1000..=1003).unwrap();
        assert!(p.reserve(a, 1001));
        assert!(!p.reserve(a, 1001), "already in use");
        assert!(!p.reserve(Ipv4Addr::new(10, 0, 0, 8), 1002), "not ours");
        assert_eq!(p.available(), 3);
        let taken: Vec<u16> = std::iter::from_fn(|| p.take())
            .map(|(_, port)| port)
            .collect();
        assert_eq!(taken, [1000, 1002, 1003]);
        p.give_back(a, 1001).unwrap();
        assert_eq!(p.take(), Some((a, 1001)));
        assert_eq!(p.take(), None);
        // Every pair back, then all of them out again exactly once.
        for port in 1000..=1003 {
            p.give_back(a, port).unwrap();
        }
        assert_eq!(p.available(), 4);
        let mut again: Vec<u16> = std::iter::from_fn(|| p.take())
            .map(|(_, port)| port)
            .collect();
        again.sort_unstable();
        assert_eq!(again, [1000, 1001, 1002, 1003]);
    }
}
