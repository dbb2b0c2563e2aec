//! Next hops remembered for the established fast path, as DPVS keeps the
//! device and MACs in its connection: per (port, gateway) the Ethernet
//! addresses a frame leaves with and what a tunnel needs, resolved by the full
//! path (route, neighbour table) and shared by every connection that leaves
//! that way. A connection keeps one hop number per direction (`Conn::hop`),
//! so a remembered hop costs it four bytes and refreshing one hop refreshes it
//! for all of its connections at once.
//!
//! Two clocks make a remembered hop stale, and both are checked on use:
//! - a hop's contents hold while the neighbour table's epoch is the one they
//!   were resolved under (a MAC changed or aged, a refresh is due, a new
//!   snapshot replaced the statics, port MACs or MTUs);
//! - a hop *number* holds within one routing era: when routes change, the
//!   gateway a connection's destination routes to may change, so every number
//!   handed out before is retired and its connections resolve again.
use std::net::Ipv4Addr;

use hashbrown::HashMap;

use crate::wire::MacAddr;

/// The hop number of a connection direction with no remembered hop.
pub const NO_HOP: u16 = 0;
/// Hops remembered per routing era (a director talks to its reals and a few
/// gateways; beyond this the rest simply take the full path).
pub const MAX_HOPS: usize = 1024;
/// Hop numbers are never reused within a numbering cycle; a new era that
/// would pass this restarts the cycle (the caller then forgets every hop).
const LAST_BASE: u16 = u16::MAX - MAX_HOPS as u16;

/// How a frame leaves towards one next hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Egress {
    /// The frame's first 12 bytes: the next hop's MAC, then the port's.
    pub eth: [u8; 12],
    pub port: usize,
    pub mtu: u16,
    /// The port's address facing the gateway: a tunnel's outer source.
    pub outer_src: Ipv4Addr,
    epoch: u32,
}

impl Egress {
    /// Writes the hop's Ethernet addresses over the first 12 bytes of `frame`.
    #[inline(always)]
    pub fn stamp(&self, frame: &mut [u8]) {
        if let Some(eth) = frame.first_chunk_mut::<12>() {
            *eth = self.eth;
        }
    }
}

/// What a hop resolves to, for `Egresses::remember`.
#[derive(Clone, Copy, Debug)]
pub struct Resolved {
    pub port: usize,
    pub gateway: Ipv4Addr,
    pub src_mac: MacAddr,
    pub dst_mac: MacAddr,
    pub mtu: u16,
    pub outer_src: Ipv4Addr,
}

pub struct Egresses {
    /// Hop number `base + i` is `slots[i]`.
    slots: Vec<Egress>,
    base: u16,
    by_gateway: HashMap<(usize, Ipv4Addr), u16>,
}

impl Default for Egresses {
    fn default() -> Self {
        Egresses {
            slots: Vec::with_capacity(MAX_HOPS),
            base: 1,
            by_gateway: HashMap::with_capacity(MAX_HOPS),
        }
    }
}

impl Egresses {
    /// Hop `n` if it belongs to this era and was resolved under `epoch`.
    #[inline]
    pub fn get(&self, n: u16, epoch: u32) -> Option<&Egress> {
        let e = self.slots.get(usize::from(n.checked_sub(self.base)?))?;
        (e.epoch == epoch).then_some(e)
    }

    /// Records how frames leave towards `r.gateway` on `r.port`, resolved
    /// under `epoch`, and returns its hop number (`NO_HOP` when the era is full).
    pub fn remember(&mut self, r: &Resolved, epoch: u32) -> u16 {
        let mut eth = [0u8; 12];
        eth[..6].copy_from_slice(&r.dst_mac.0);
        eth[6..].copy_from_slice(&r.src_mac.0);
        let e = Egress {
            eth,
            port: r.port,
            mtu: r.mtu,
            outer_src: r.outer_src,
            epoch,
        };
        if let Some(&n) = self.by_gateway.get(&(r.port, r.gateway)) {
            if let Some(slot) = self.slots.get_mut(usize::from(n - self.base)) {
                *slot = e;
            }
            return n;
        }
        if self.slots.len() >= MAX_HOPS {
            return NO_HOP;
        }
        // base <= LAST_BASE, so this stays below u16::MAX.
        let n = self.base + self.slots.len() as u16;
        self.slots.push(e);
        self.by_gateway.insert((r.port, r.gateway), n);
        n
    }

    /// Retires every hop number handed out so far (routes changed). Returns
    /// true when numbering restarted: the caller must then clear the numbers
    /// its connections hold, as old ones would name new hops.
    pub fn new_era(&mut self) -> bool {
        let next = self.base + self.slots.len() as u16;
        self.slots.clear();
        self.by_gateway.clear();
        if next > LAST_BASE {
            self.base = 1;
            true
        } else {
            self.base = next;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(gw: u8, mac: u8) -> Resolved {
        Resolved {
            port: 0,
            gateway: Ipv4Addr::new(10, 0, 0, gw),
            src_mac: MacAddr([2, 0, 0, 0, 0, 1]),
            dst_mac: MacAddr([2, 0, 0, 0, 0, mac]),
            mtu: 1500,
            outer_src: Ipv4Addr::new(10, 0, 0, 1),
        }
    }

    #[test]
    fn a_hop_holds_within_its_epoch_and_era() {
        let mut h = Egresses::default();
        let n = h.remember(&resolved(2, 0xa), 7);
        assert_ne!(n, NO_HOP);
        assert_eq!(h.get(n, 7).map(|e| e.eth[5]), Some(0xa));
        assert!(h.get(n, 8).is_none(), "another neighbour epoch");
        assert!(h.get(NO_HOP, 7).is_none());
        // The same gateway again: the same number, refreshed in place.
        assert_eq!(h.remember(&resolved(2, 0xb), 8), n);
        assert_eq!(h.get(n, 8).map(|e| e.eth[5]), Some(0xb));
        assert!(!h.new_era());
        assert!(h.get(n, 8).is_none(), "retired with its era");
        let m = h.remember(&resolved(2, 0xb), 8);
        assert!(m > n, "numbers are not reused within a cycle");
    }

    #[test]
    fn a_full_era_remembers_no_more_and_numbering_restarts_safely() {
        let mut h = Egresses::default();
        for i in 0..MAX_HOPS {
            let r = Resolved {
                gateway: Ipv4Addr::from(i as u32),
                ..resolved(0, 1)
            };
            assert_ne!(h.remember(&r, 1), NO_HOP);
        }
        assert_eq!(h.remember(&resolved(250, 1), 1), NO_HOP);
        let mut restarted = false;
        for _ in 0..100 {
            restarted |= h.new_era();
            for i in 0..MAX_HOPS {
                let r = Resolved {
                    gateway: Ipv4Addr::from(i as u32),
                    ..resolved(0, 1)
                };
                h.remember(&r, 1);
            }
        }
        assert!(restarted);
    }
}
