//! Flow keys as seen on the wire, and the hash used to index them.

use std::net::Ipv4Addr;

/// L4 protocol of a connection; the discriminants are the IP protocol numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Proto {
    Tcp = 6,
    Udp = 17,
}

impl Proto {
    /// ipvsadm's protocol column ("TCP" / "UDP").
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "TCP",
            Proto::Udp => "UDP",
        }
    }

    /// Maps an IP protocol number; `None` for protocols the balancer does not track.
    pub fn from_ip_proto(p: u8) -> Option<Self> {
        match p {
            6 => Some(Proto::Tcp),
            17 => Some(Proto::Udp),
            _ => None,
        }
    }
}

/// A 5-tuple exactly as it appears in a packet on the wire (src -> dst).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tuple {
    pub proto: Proto,
    pub src: Ipv4Addr,
    pub sport: u16,
    pub dst: Ipv4Addr,
    pub dport: u16,
}

impl Tuple {
    /// Placeholder for unused slots (never looked up: such slots are not indexed).
    pub(crate) const EMPTY: Tuple = Tuple {
        proto: Proto::Tcp,
        src: Ipv4Addr::UNSPECIFIED,
        sport: 0,
        dst: Ipv4Addr::UNSPECIFIED,
        dport: 0,
    };

    pub fn new(proto: Proto, src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16) -> Self {
        Tuple {
            proto,
            src,
            sport,
            dst,
            dport,
        }
    }

    /// The same flow seen from the other end (dst -> src).
    pub fn reversed(&self) -> Self {
        Tuple {
            proto: self.proto,
            src: self.dst,
            sport: self.dport,
            dst: self.src,
            dport: self.sport,
        }
    }

    /// Seeded hash of the tuple. Two rounds of a folded 64x64->128 multiply: cheap
    /// (a few cycles), and every input bit reaches the low bits that pick a bucket.
    /// The seed lets each core (or each boot) use a secret layout so that a client
    /// choosing addresses and ports cannot aim many flows at one chain.
    #[inline]
    pub(crate) fn hash(&self, seed: &HashSeed) -> u64 {
        let a = (u64::from(u32::from(self.src)) << 32) | u64::from(u32::from(self.dst));
        let b = (u64::from(self.sport) << 48)
            | (u64::from(self.dport) << 32)
            | u64::from(self.proto as u8);
        let h = fold_mul(a ^ seed.0, 0x9E37_79B9_7F4A_7C15) ^ b;
        fold_mul(h ^ seed.1, 0xD6E8_FEB8_6659_FD93)
    }
}

/// Two secret words mixed into every tuple hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HashSeed(pub u64, pub u64);

impl HashSeed {
    pub(crate) fn from_u64(seed: u64) -> Self {
        // Spread one caller word into two so that seed 0 is not a degenerate key.
        HashSeed(
            fold_mul(seed ^ 0x243F_6A88_85A3_08D3, 0x1319_8A2E_0370_7344),
            fold_mul(seed ^ 0xA409_3822_299F_31D0, 0x082E_FA98_EC4E_6C89),
        )
    }
}

#[inline]
fn fold_mul(x: u64, y: u64) -> u64 {
    let p = u128::from(x) * u128::from(y);
    (p as u64) ^ ((p >> 64) as u64)
}

/// Which way a packet travels relative to the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// client -> director (to VIP)
    In = 0,
    /// real server -> director (the reply)
    Out = 1,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reversed_swaps_ends() {
        let t = Tuple::new(
            Proto::Tcp,
            Ipv4Addr::new(1, 2, 3, 4),
            1000,
            Ipv4Addr::new(5, 6, 7, 8),
            80,
        );
        let r = t.reversed();
        assert_eq!(r.src, t.dst);
        assert_eq!(r.sport, t.dport);
        assert_eq!(r.reversed(), t);
    }

    #[test]
    fn hash_depends_on_every_field_and_seed() {
        let s = HashSeed::from_u64(7);
        let t = Tuple::new(
            Proto::Tcp,
            Ipv4Addr::new(1, 2, 3, 4),
            1000,
            Ipv4Addr::new(5, 6, 7, 8),
            80,
        );
        let h = t.hash(&s);
        let variants = [
            Tuple {
                proto: Proto::Udp,
                ..t
            },
            Tuple {
                src: Ipv4Addr::new(1, 2, 3, 5),
                ..t
            },
            Tuple { sport: 1001, ..t },
            Tuple {
                dst: Ipv4Addr::new(5, 6, 7, 9),
                ..t
            },
            Tuple { dport: 81, ..t },
        ];
        for v in variants {
            assert_ne!(v.hash(&s), h, "{v:?}");
        }
        assert_ne!(t.hash(&HashSeed::from_u64(8)), h);
        assert_eq!(Proto::from_ip_proto(6), Some(Proto::Tcp));
        assert_eq!(Proto::from_ip_proto(1), None);
    }
}
