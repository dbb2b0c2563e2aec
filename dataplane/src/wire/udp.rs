//! UDP datagram view.

use std::net::Ipv4Addr;

use super::checksum;
use super::WireError;

const PROTO_UDP: u8 = 17;
const HEADER_LEN: usize = 8;

mod field {
    use std::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const LENGTH: Range<usize> = 4..6;
    pub const CHECKSUM: Range<usize> = 6..8;
}

/// Zero-copy view of a UDP datagram. The buffer is the IPv4 payload;
/// the datagram itself ends at the UDP length field.
#[derive(Debug, Clone)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    pub const HEADER_LEN: usize = HEADER_LEN;

    pub fn new_unchecked(buffer: T) -> Self {
        UdpPacket { buffer }
    }

    /// Checks the header and that the length field is within 8..=buffer.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let len = buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let p = Self::new_unchecked(buffer);
        let l = usize::from(p.len());
        if !(HEADER_LEN..=len).contains(&l) {
            return Err(WireError::BadLength);
        }
        Ok(p)
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn u16_at(&self, r: std::ops::Range<usize>) -> u16 {
        let b = &self.buffer.as_ref()[r];
        u16::from_be_bytes([b[0], b[1]])
    }

    pub fn src_port(&self) -> u16 {
        self.u16_at(field::SRC_PORT)
    }

    pub fn dst_port(&self) -> u16 {
        self.u16_at(field::DST_PORT)
    }

    /// The length field: header plus payload.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> u16 {
        self.u16_at(field::LENGTH)
    }

    /// 0 means the sender did not compute a checksum.
    pub fn checksum(&self) -> u16 {
        self.u16_at(field::CHECKSUM)
    }

    /// End of the datagram clamped to the buffer, robust to `set_len`.
    fn end(&self) -> usize {
        let len = self.buffer.as_ref().len();
        usize::from(self.len()).clamp(HEADER_LEN.min(len), len)
    }

    pub fn payload(&self) -> &[u8] {
        let end = self.end();
        &self.buffer.as_ref()[HEADER_LEN.min(end)..end]
    }

    fn full_sum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> u32 {
        let end = self.end();
        let pseudo = checksum::pseudo_header_sum(src, dst, PROTO_UDP, end as u16);
        checksum::combine(pseudo, checksum::sum(&self.buffer.as_ref()[..end]))
    }

    /// True when the checksum is absent (0) or correct.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        self.checksum() == 0 || checksum::fold(self.full_sum(src, dst)) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    fn set_u16_at(&mut self, r: std::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_src_port(&mut self, v: u16) {
        self.set_u16_at(field::SRC_PORT, v);
    }

    pub fn set_dst_port(&mut self, v: u16) {
        self.set_u16_at(field::DST_PORT, v);
    }

    pub fn set_len(&mut self, v: u16) {
        self.set_u16_at(field::LENGTH, v);
    }

    pub fn set_checksum(&mut self, v: u16) {
        self.set_u16_at(field::CHECKSUM, v);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = self.end();
        &mut self.buffer.as_mut()[HEADER_LEN.min(end)..end]
    }

    /// Computes the checksum from scratch. A computed 0 is sent as 0xffff
    /// because 0 on the wire means "no checksum" (RFC 768).
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let c = !checksum::fold(self.full_sum(src, dst));
        self.set_checksum(if c == 0 { 0xffff } else { c });
    }

    /// Applies an incremental update unless the checksum is absent, which
    /// must stay absent; maps a resulting 0 to 0xffff like `fill_checksum`.
    fn patch_checksum(&mut self, f: impl FnOnce(u16) -> u16) {
        let c = self.checksum();
        if c != 0 {
            let n = f(c);
            self.set_checksum(if n == 0 { 0xffff } else { n });
        }
    }

    /// Rewrites the source port, patching the checksum if present.
    pub fn rewrite_src_port(&mut self, v: u16) {
        let old = self.src_port();
        self.set_src_port(v);
        self.patch_checksum(|c| checksum::update_u16(c, old, v));
    }

    /// Rewrites the destination port, patching the checksum if present.
    pub fn rewrite_dst_port(&mut self, v: u16) {
        let old = self.dst_port();
        self.set_dst_port(v);
        self.patch_checksum(|c| checksum::update_u16(c, old, v));
    }

    /// Patches the checksum after an IPv4 address in the pseudo header
    /// changed from `old` to `new`.
    pub fn update_checksum_addr(&mut self, old: Ipv4Addr, new: Ipv4Addr) {
        self.patch_checksum(|c| checksum::update_addr(c, old, new));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::{l4, udp_frame, DST_IP, SRC_IP};
    use proptest::prelude::*;

    fn addrs() -> (Ipv4Addr, Ipv4Addr) {
        (Ipv4Addr::from(SRC_IP), Ipv4Addr::from(DST_IP))
    }

    #[test]
    fn parse_cross_checked() {
        let dgram = l4(&udp_frame(b"query")).to_vec();
        let (h, _) = etherparse::UdpHeader::from_slice(&dgram).unwrap();
        let p = UdpPacket::new_checked(&dgram[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (5353, 53));
        assert_eq!(p.len(), h.length);
        assert_eq!(p.checksum(), h.checksum);
        assert_eq!(p.payload(), b"query");
        let (s, d) = addrs();
        assert!(p.verify_checksum(s, d));
        assert!(!p.verify_checksum(s, Ipv4Addr::new(1, 1, 1, 1)));
    }

    #[test]
    fn errors() {
        let dgram = l4(&udp_frame(b"query")).to_vec();
        for n in 0..8 {
            assert_eq!(
                UdpPacket::new_checked(&dgram[..n]).unwrap_err(),
                WireError::Truncated
            );
        }
        assert_eq!(
            UdpPacket::new_checked(&dgram[..12]).unwrap_err(),
            WireError::BadLength
        );
        let mut b = dgram.clone();
        b[4..6].copy_from_slice(&7u16.to_be_bytes());
        assert_eq!(
            UdpPacket::new_checked(&b[..]).unwrap_err(),
            WireError::BadLength
        );
        // Shorter length than the buffer is fine: trailing bytes are padding.
        b[4..6].copy_from_slice(&9u16.to_be_bytes());
        assert_eq!(UdpPacket::new_checked(&b[..]).unwrap().payload(), b"q");
    }

    #[test]
    fn setters_and_zero_checksum() {
        let (s, d) = addrs();
        let mut dgram = l4(&udp_frame(b"query")).to_vec();
        let mut p = UdpPacket::new_checked(&mut dgram[..]).unwrap();
        p.set_checksum(0);
        assert!(p.verify_checksum(s, d));
        // An absent checksum stays absent through rewrites.
        p.rewrite_src_port(1);
        p.rewrite_dst_port(2);
        p.update_checksum_addr(s, d);
        assert_eq!(p.checksum(), 0);
        assert_eq!((p.src_port(), p.dst_port()), (1, 2));
        p.payload_mut()[0] = b'Q';
        p.fill_checksum(s, d);
        assert!(p.verify_checksum(s, d));
        assert_eq!(p.payload(), b"Query");
        p.set_len(0xffff);
        assert_eq!(p.payload(), b"Query");
        p.set_len(0);
        assert!(p.payload().is_empty() && p.payload_mut().is_empty());
    }

    #[test]
    fn computed_zero_is_sent_as_ffff() {
        // Choose payload so the checksum computes to 0: first fill with
        // a zero payload word, then put the complement sum in it.
        let (s, d) = addrs();
        let mut b = [0u8; 10];
        b[4..6].copy_from_slice(&10u16.to_be_bytes());
        let mut p = UdpPacket::new_checked(&mut b[..]).unwrap();
        p.fill_checksum(s, d);
        let c = p.checksum();
        p.payload_mut().copy_from_slice(&c.to_be_bytes());
        p.fill_checksum(s, d);
        assert_eq!(p.checksum(), 0xffff);
        assert!(p.verify_checksum(s, d));
    }

    proptest! {
        #[test]
        fn incremental_rewrites_match_recompute(
            body in proptest::collection::vec(any::<u8>(), 8..100),
            addrs in any::<[u32; 4]>(),
            ports in any::<[u16; 2]>(),
        ) {
            let mut buf = body;
            let l = buf.len() as u16;
            buf[4..6].copy_from_slice(&l.to_be_bytes());
            let [s, d, ns, nd] = addrs.map(Ipv4Addr::from);
            let mut p = UdpPacket::new_checked(&mut buf[..]).unwrap();
            p.fill_checksum(s, d);
            p.rewrite_src_port(ports[0]);
            p.rewrite_dst_port(ports[1]);
            p.update_checksum_addr(s, ns);
            p.update_checksum_addr(d, nd);
            let inc = p.checksum();
            prop_assert!(p.verify_checksum(ns, nd));
            p.fill_checksum(ns, nd);
            prop_assert_eq!(inc, p.checksum());
        }

        #[test]
        fn random_bytes_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(p) = UdpPacket::new_checked(&buf[..]) {
                prop_assert_eq!(p.payload().len() + 8, usize::from(p.len()));
            }
        }
    }
}
