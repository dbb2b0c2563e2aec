//! Longest-prefix-match routing over the connected subnets of the ports and
//! the static routes. Tables are a handful of entries on a director, so a
//! scan over a vector sorted by prefix length beats a trie here.
use std::net::Ipv4Addr;

use crate::snapshot::{Ipv4Prefix, Snapshot};

#[derive(Clone, Debug)]
struct Entry {
    prefix: Ipv4Prefix,
    port: usize,
    via: Option<Ipv4Addr>,
}

#[derive(Clone, Debug, Default)]
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
                let net = Ipv4Addr::from(u32::from(a.addr) & a.mask());
                entries.push(Entry {
                    prefix: Ipv4Prefix {
                        addr: net,
                        len: a.len,
                    },
                    port: i,
                    via: None,
                });
            }
        }
        for r in &s.routes {
            entries.push(Entry {
                prefix: r.prefix.clone(),
                port: r.port,
                via: r.via,
            });
        }
        // Longest prefix first; equal lengths keep config order (connected first).
        entries.sort_by_key(|e| std::cmp::Reverse(e.prefix.len));
        RouteTable { entries }
    }

    #[inline]
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<NextHop> {
        self.entries
            .iter()
            .find(|e| e.prefix.contains(dst))
            .map(|e| NextHop {
                port: e.port,
                gateway: e.via.unwrap_or(dst),
            })
    }
}
