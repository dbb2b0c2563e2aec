//! Before a burst is processed packet by packet, its connection-table lookups
//! are started together: every packet's tuple is read with a few bounds-checked
//! loads (no validation: a wrong guess only wastes a prefetch) and the table
//! fetches the buckets and entries of the whole burst at once. With millions of
//! connections each lookup would otherwise wait for two cache misses in turn
//! (conntrack's `table` bench: serial against burst lookups). Small tables skip
//! the pass: they are cache-resident, and the pass costs instructions.
use std::net::Ipv4Addr;

use conntrack::{Proto, Tuple, BURST};

use super::Pipeline;
use crate::frame::Frame;

/// Below this many connections the table sits in the L2 cache (about 100 bytes
/// each) and lookups do not wait for memory: the pass would only cost
/// instructions (about 160 per packet, `pktloop ipp`), so it is skipped.
pub const PREFETCH_MIN_CONNS: usize = 1 << 16;

use crate::wire::ETH_LEN;
const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];

/// The wire tuple of an unfragmented IPv4 TCP/UDP frame, if it looks like one.
#[inline]
fn peek_tuple(data: &[u8]) -> Option<Tuple> {
    if data.get(12..14)? != ETHERTYPE_IPV4 {
        return None;
    }
    let ip = data.get(ETH_LEN..)?;
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    let frag = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]) & 0x3fff;
    let proto = Proto::from_ip_proto(*ip.get(9)?)?;
    let l4 = ip.get(ihl..ihl + 4)?;
    if frag != 0 || ihl < 20 {
        return None;
    }
    let addr = |at: usize| -> Option<Ipv4Addr> {
        let b: [u8; 4] = ip.get(at..at + 4)?.try_into().ok()?;
        Some(Ipv4Addr::from(b))
    };
    Some(Tuple::new(
        proto,
        addr(12)?,
        u16::from_be_bytes([l4[0], l4[1]]),
        addr(16)?,
        u16::from_be_bytes([l4[2], l4[3]]),
    ))
}

impl<F: Frame> Pipeline<F> {
    /// Starts loading the connection-table memory `frames`' lookups will need
    /// (the first `BURST` of them).
    pub fn prefetch_burst(&self, frames: &[F]) {
        if self.conns.len() < PREFETCH_MIN_CONNS {
            return;
        }
        let mut tuples = [Tuple::new(
            Proto::Tcp,
            Ipv4Addr::UNSPECIFIED,
            0,
            Ipv4Addr::UNSPECIFIED,
            0,
        ); BURST];
        let mut n = 0;
        for f in frames.iter().take(BURST) {
            if let Some(t) = peek_tuple(f.data()) {
                tuples[n] = t;
                n += 1;
            }
        }
        self.conns.prefetch_burst(&tuples[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(ethertype: [u8; 2], ihl_words: u8, frag: u16, proto: u8, len: usize) -> Vec<u8> {
        let mut f = vec![0u8; len];
        if len >= 14 {
            f[12..14].copy_from_slice(&ethertype);
        }
        if len >= 54 {
            f[14] = 0x40 | ihl_words;
            f[20..22].copy_from_slice(&frag.to_be_bytes());
            f[23] = proto;
            f[26..30].copy_from_slice(&[10, 0, 0, 2]);
            f[30..34].copy_from_slice(&[10, 0, 0, 100]);
            let l4 = 14 + usize::from(ihl_words) * 4;
            if l4 + 4 <= len {
                f[l4..l4 + 2].copy_from_slice(&40000u16.to_be_bytes());
                f[l4 + 2..l4 + 4].copy_from_slice(&80u16.to_be_bytes());
            }
        }
        f
    }

    #[test]
    fn reads_the_wire_tuple_of_tcp_and_udp() {
        let t = peek_tuple(&frame(ETHERTYPE_IPV4, 5, 0, 6, 60)).unwrap();
        assert_eq!(
            t,
            Tuple::new(
                Proto::Tcp,
                Ipv4Addr::new(10, 0, 0, 2),
                40000,
                Ipv4Addr::new(10, 0, 0, 100),
                80
            )
        );
        assert_eq!(
            peek_tuple(&frame(ETHERTYPE_IPV4, 6, 0, 17, 60)).map(|t| (t.proto, t.sport)),
            Some((Proto::Udp, 40000))
        );
    }

    #[test]
    fn anything_else_is_skipped_without_panicking() {
        assert!(
            peek_tuple(&frame([0x08, 0x06], 5, 0, 6, 60)).is_none(),
            "ARP"
        );
        assert!(
            peek_tuple(&frame(ETHERTYPE_IPV4, 5, 0, 1, 60)).is_none(),
            "ICMP"
        );
        assert!(
            peek_tuple(&frame(ETHERTYPE_IPV4, 5, 0x2000, 6, 60)).is_none(),
            "fragment"
        );
        assert!(
            peek_tuple(&frame(ETHERTYPE_IPV4, 4, 0, 6, 60)).is_none(),
            "bad ihl"
        );
        assert!(
            peek_tuple(&frame(ETHERTYPE_IPV4, 15, 0, 6, 60)).is_none(),
            "truncated"
        );
        for len in 0..60 {
            let _ = peek_tuple(&frame(ETHERTYPE_IPV4, 5, 0, 6, len));
        }
    }
}
