//! The established fast path: one straight function for the packets that
//! make up nearly all traffic. A frame qualifies when it is a plain IPv4
//! packet without options to our MAC (read from a fixed 54-byte prefix), its
//! connection is live here and stays in its state (an ESTABLISHED TCP
//! connection seeing a segment whose IPVS flag class is ACK, or UDP), and the
//! connection remembers how this direction leaves (`crate::egress`).
//! Everything else, and anything this path is unsure of, goes to the full
//! path untouched, which also fills the remembered hops. What the full path
//! does for such a packet, this path does the same: the state machine's
//! answer (ESTABLISHED stays, timer re-armed), the counters, the rewrite of
//! the connection's forwarding method, the sync policy.
use std::net::Ipv4Addr;

use conntrack::{Dir, Millis, Proto, TcpFlags, TcpState, Tuple};

use super::nat_rewrite::{rewrite_plain, PREFIX};
use super::{tag, Output, Pipeline};
use crate::forward::ipip::{encapsulate_ipip_known, OUTER_LEN};
use crate::frame::Frame;
use crate::snapshot::Forward;

use crate::wire::ETH_LEN;
const IPV4_NO_OPTIONS: u8 = 0x45;
/// The flags that decide IPVS's class of a segment: it is ACK when ACK is
/// the only one of them set (`TcpFlags::class`).
const CLASS_BITS: u8 = TcpFlags::RST | TcpFlags::SYN | TcpFlags::FIN | TcpFlags::ACK;
/// More-fragments flag and fragment offset.
const FRAGMENT_BITS: u16 = 0x3fff;

/// What the fast path needs from a frame's fixed prefix.
struct Plain {
    tuple: Tuple,
    flags: u8,
    /// IPv4 total length.
    tl: usize,
}

/// The prefix of `d` if it is a packet the full path would accept as a
/// whole, unfragmented, option-free IPv4 TCP or UDP packet to `mac`, with a
/// TTL it may decrement; `None` for anything else (the full path decides).
#[inline(always)]
fn plain(d: &[u8], mac: &[u8; 6]) -> Option<Plain> {
    let h: &[u8; PREFIX] = d.first_chunk()?;
    if h[..6] != mac[..] || h[12..15] != [0x08, 0x00, IPV4_NO_OPTIONS] {
        return None;
    }
    let tl = usize::from(u16::from_be_bytes([h[16], h[17]]));
    let frag = u16::from_be_bytes([h[20], h[21]]) & FRAGMENT_BITS;
    if frag != 0 || h[22] <= 1 || ETH_LEN + tl > d.len() {
        return None;
    }
    let proto = match h[23] {
        6 => {
            // The TCP header (data offset) must fit in the packet.
            let doff = usize::from(h[46] >> 4) * 4;
            if doff < 20 || 20 + doff > tl {
                return None;
            }
            Proto::Tcp
        }
        17 => {
            let ulen = usize::from(u16::from_be_bytes([h[38], h[39]]));
            if ulen < 8 || 20 + ulen > tl {
                return None;
            }
            Proto::Udp
        }
        _ => return None,
    };
    let addr = |at: usize| Ipv4Addr::new(h[at], h[at + 1], h[at + 2], h[at + 3]);
    Some(Plain {
        tuple: Tuple {
            proto,
            src: addr(26),
            sport: u16::from_be_bytes([h[34], h[35]]),
            dst: addr(30),
            dport: u16::from_be_bytes([h[36], h[37]]),
        },
        flags: h[47],
        tl,
    })
}

impl<F: Frame> Pipeline<F> {
    /// Forwards `frame` if it is a plain packet of an established connection
    /// whose way out is remembered; otherwise hands it back untouched.
    #[inline(always)]
    pub(super) fn fast(
        &mut self,
        mut frame: F,
        in_port: usize,
        now: Millis,
        out: &mut impl Output<F>,
    ) -> Result<(), F> {
        let Some(mac) = self.port_macs.get(in_port) else {
            return Err(frame);
        };
        let Some(p) = plain(frame.data(), mac) else {
            return Err(frame);
        };
        // While a VRRP instance is not MASTER here, the full path decides
        // which addresses are served.
        if self.vrrp.standby != 0 {
            return Err(frame);
        }
        let steady = now.saturating_add(self.conns.steady_timeout(p.tuple.proto));
        let epoch = self.neigh.epoch();
        let Some((id, dir, mut c)) = self.conns.find_mut(&p.tuple) else {
            return Err(frame);
        };
        let keeps_state = match p.tuple.proto {
            Proto::Udp => true,
            // Every state table keeps ESTABLISHED on an ACK-class segment,
            // except the reply of a DR/TUN connection (INPUT-ONLY).
            Proto::Tcp => {
                c.state == TcpState::Established
                    && p.flags & CLASS_BITS == TcpFlags::ACK
                    && (dir == Dir::In || !c.input_only())
            }
        };
        if c.expires <= now || !keeps_state || tag::toa_pending(c.tag) {
            return Err(frame);
        }
        let Some(hop) = self.egress.get(c.hop[dir as usize], epoch) else {
            return Err(frame);
        };
        let (svc, dest) = (c.service as usize, c.dest);
        // What this direction's packets must read once rewritten (IPVS's
        // xmit per forwarding method); DR leaves the packet as it is.
        let forward = tag::forward(c.tag);
        let (src, dst) = match (forward, dir) {
            (Forward::Nat, Dir::In) => (None, Some((c.reply.src, c.reply.sport))),
            (Forward::Nat, Dir::Out) => (Some((c.orig.dst, c.orig.dport)), None),
            (Forward::FullNat, Dir::In) => (
                Some((c.reply.dst, c.reply.dport)),
                Some((c.reply.src, c.reply.sport)),
            ),
            (Forward::FullNat, Dir::Out) => (
                Some((c.orig.dst, c.orig.dport)),
                Some((c.orig.src, c.orig.sport)),
            ),
            (Forward::Dr, Dir::In) => (None, None),
            (Forward::Tun, Dir::In) => {
                if p.tl + OUTER_LEN > usize::from(hop.mtu) {
                    return Err(frame);
                }
                (None, Some((c.reply.src, 0)))
            }
            // Never indexed: DR/TUN connections keep no reply tuple.
            (Forward::Dr | Forward::Tun, Dir::Out) => return Err(frame),
        };
        let Some(s) = self.services.get(svc).and_then(Option::as_ref) else {
            return Err(frame);
        };
        // The operator asked for connections of a removed real to end at
        // their next packet: the full path does that.
        if self.expire_nodest_conn && s.real(dest).is_none() {
            return Err(frame);
        }
        if !c.extend(steady) {
            // A shorter timeout than the deadline set: the wheel must hear of it.
            return Err(frame);
        }
        let len = frame.len();
        let proto = p.tuple.proto;
        if forward == Forward::Tun {
            let rs = dst.map_or(Ipv4Addr::UNSPECIFIED, |(a, _)| a);
            if !encapsulate_ipip_known(&mut frame, p.tl, hop.outer_src, rs) {
                return Err(frame);
            }
            hop.stamp(frame.data_mut());
        } else if let Some(h) = frame.data_mut().first_chunk_mut::<PREFIX>() {
            if src.is_some() || dst.is_some() {
                rewrite_plain(h, proto, src, dst);
            }
            hop.stamp(h);
        }
        s.counters.count(dest, dir, len);
        let port = hop.port;
        self.last_conn = Some(id);
        if dir == Dir::In && self.sync.is_some() {
            self.sync_out(id, now);
        }
        self.transmit(port, frame, out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

    fn tcp_frame() -> Vec<u8> {
        let mut f = vec![0u8; 60];
        f[..6].copy_from_slice(&MAC);
        f[12..15].copy_from_slice(&[0x08, 0x00, 0x45]);
        f[16..18].copy_from_slice(&40u16.to_be_bytes());
        f[22] = 64;
        f[23] = 6;
        f[26..30].copy_from_slice(&[10, 0, 0, 2]);
        f[30..34].copy_from_slice(&[10, 0, 0, 100]);
        f[34..36].copy_from_slice(&40000u16.to_be_bytes());
        f[36..38].copy_from_slice(&80u16.to_be_bytes());
        f[46] = 0x50;
        f[47] = 0x10;
        f
    }

    #[test]
    fn reads_the_tuple_of_a_plain_segment() {
        let p = plain(&tcp_frame(), &MAC).unwrap();
        assert_eq!(
            (p.tuple.src, p.tuple.sport, p.tuple.dst, p.tuple.dport),
            (
                Ipv4Addr::new(10, 0, 0, 2),
                40000,
                Ipv4Addr::new(10, 0, 0, 100),
                80
            )
        );
        assert_eq!((p.flags, p.tl, p.tuple.proto), (0x10, 40, Proto::Tcp));
    }

    #[test]
    fn leaves_everything_unusual_to_the_full_path() {
        type Change = fn(&mut Vec<u8>);
        let cases: [(&str, Change); 11] = [
            ("other MAC", |f| f[0] = 4),
            ("ARP", |f| f[13] = 6),
            ("IP options", |f| f[14] = 0x46),
            ("IPv6 version", |f| f[14] = 0x65),
            ("more fragments", |f| f[20] = 0x20),
            ("fragment offset", |f| f[21] = 1),
            ("TTL 1", |f| f[22] = 1),
            ("ICMP", |f| f[23] = 1),
            ("total length past the frame", |f| {
                f[16..18].copy_from_slice(&47u16.to_be_bytes())
            }),
            ("data offset past the packet", |f| f[46] = 0x60),
            ("data offset below 5", |f| f[46] = 0x40),
        ];
        for (what, change) in cases {
            let mut f = tcp_frame();
            change(&mut f);
            assert!(plain(&f, &MAC).is_none(), "{what}");
        }
        for len in 0..PREFIX {
            assert!(plain(&tcp_frame()[..len], &MAC).is_none());
        }
    }

    #[test]
    fn the_class_mask_agrees_with_ipvs_flag_classes() {
        for f in 0..=u8::MAX {
            let ack = TcpFlags(f).class() == Some(conntrack::FlagClass::Ack);
            assert_eq!(f & CLASS_BITS == TcpFlags::ACK, ack, "flags {f:#04x}");
        }
    }

    #[test]
    fn udp_length_must_fit() {
        let mut f = tcp_frame();
        f[23] = 17;
        f[16..18].copy_from_slice(&28u16.to_be_bytes());
        f[38..40].copy_from_slice(&8u16.to_be_bytes());
        assert_eq!(plain(&f, &MAC).map(|p| p.tuple.proto), Some(Proto::Udp));
        f[38..40].copy_from_slice(&9u16.to_be_bytes());
        assert!(plain(&f, &MAC).is_none());
        f[38..40].copy_from_slice(&7u16.to_be_bytes());
        assert!(plain(&f, &MAC).is_none());
    }
}
