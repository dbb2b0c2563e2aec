//! Longest-prefix-match routing over the connected subnets of the ports and
//! the static routes. Tables are a handful of entries on a director, so a
//! scan over a vector sorted by prefix length beats a trie here.
use std::net::Ipv4Addr;

use crate::snapshot::{Ipv4Prefix, Snapshot};

#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    /// Network and mask as host-order words, so a match is one AND and compare.
    net: u32,
    mask: u32,
    len: u8,
    port: usize,
    via: Option<Ipv4Addr>,
}

impl Entry {
    fn new(prefix: &Ipv4Prefix, port: usize, via: Option<Ipv4Addr>) -> Entry {
        let mask = prefix.mask();
        Entry {
            net: u32::from(prefix.addr) & mask,
            mask,
            len: prefix.len,
            port,
            via,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteTable {
    entries: Vec<Entry>,
}

/// Where a packet for some destination leaves: the port and the next hop to resolve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NextHop {
    pub port: usize,
    pub gateway: Ipv4Addr,
}

impl RouteTable {
    pub fn from_snapshot(s: &Snapshot) -> Self {
        let mut entries = Vec::new();
        for (i, p) in s.ports.iter().enumerate() {
            for a in &p.addresses {
                entries.push(Entry::new(a, i, None));
            }
        }
        for r in &s.routes {
            entries.push(Entry::new(&r.prefix, r.port, r.via));
        }
        // Longest prefix first; equal lengths keep config order (connected first).
        entries.sort_by_key(|e| std::cmp::Reverse(e.len));
        RouteTable { entries }
    }

    #[inline]
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<NextHop> {
        let d = u32::from(dst);
        self.entries
            .iter()
            .find(|e| d & e.mask == e.net)
            .map(|e| NextHop {
                port: e.port,
                gateway: e.via.unwrap_or(dst),
            })
    }
}
