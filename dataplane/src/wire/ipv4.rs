//! IPv4 header view.

use std::net::Ipv4Addr;

use super::{checksum, WireError};

/// IP protocol numbers the data plane dispatches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    pub const ICMP: IpProtocol = IpProtocol(1);
    pub const TCP: IpProtocol = IpProtocol(6);
    pub const UDP: IpProtocol = IpProtocol(17);
}

mod field {
    use std::ops::Range;
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: Range<usize> = 2..4;
    pub const IDENT: Range<usize> = 4..6;
    pub const FLG_OFF: Range<usize> = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Range<usize> = 10..12;
    pub const SRC: Range<usize> = 12..16;
    pub const DST: Range<usize> = 16..20;
}

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// Zero-copy view of an IPv4 packet. The buffer may extend past the
/// packet (Ethernet padding); `payload` stops at the total length.
#[derive(Debug, Clone)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Length of a header without options.
    pub const MIN_HEADER_LEN: usize = 20;

    pub fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Validates version, IHL and total length against the buffer, so
    /// that no accessor can panic afterwards. Fragments are accepted;
    /// see [`Self::new_checked_unfragmented`].
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let b = buffer.as_ref();
        if b.len() < Self::MIN_HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let p = Self::new_unchecked(buffer);
        if p.version() != 4 {
            return Err(WireError::BadVersion);
        }
        let hl = p.header_len();
        if hl < Self::MIN_HEADER_LEN {
            return Err(WireError::BadIhl);
        }
        if hl > p.buffer.as_ref().len() {
            return Err(WireError::Truncated);
        }
        let tl = usize::from(p.total_len());
        if tl < hl || tl > p.buffer.as_ref().len() {
            return Err(WireError::BadTotalLength);
        }
        Ok(p)
    }

    /// Like `new_checked`, but also rejects fragments: the load balancer
    /// keys on L4 ports, which only the first fragment carries.
    pub fn new_checked_unfragmented(buffer: T) -> Result<Self, WireError> {
        let p = Self::new_checked(buffer)?;
        if p.is_fragment() {
            return Err(WireError::Fragment);
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

    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// IHL in 32-bit words.
    pub fn ihl(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] & 0x0f
    }

    /// Header length in bytes (IHL * 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.ihl()) * 4
    }

    pub fn dscp(&self) -> u8 {
        self.buffer.as_ref()[field::TOS] >> 2
    }

    pub fn ecn(&self) -> u8 {
        self.buffer.as_ref()[field::TOS] & 0x03
    }

    pub fn total_len(&self) -> u16 {
        self.u16_at(field::LENGTH)
    }

    pub fn ident(&self) -> u16 {
        self.u16_at(field::IDENT)
    }

    pub fn dont_frag(&self) -> bool {
        self.u16_at(field::FLG_OFF) & FLAG_DF != 0
    }

    pub fn more_frags(&self) -> bool {
        self.u16_at(field::FLG_OFF) & FLAG_MF != 0
    }

    /// Fragment offset in bytes (the field counts 8-byte units).
    pub fn frag_offset(&self) -> u16 {
        (self.u16_at(field::FLG_OFF) & OFFSET_MASK) * 8
    }

    /// Any fragment, first one included.
    pub fn is_fragment(&self) -> bool {
        self.u16_at(field::FLG_OFF) & (FLAG_MF | OFFSET_MASK) != 0
    }

    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    pub fn protocol(&self) -> IpProtocol {
        IpProtocol(self.buffer.as_ref()[field::PROTOCOL])
    }

    pub fn checksum(&self) -> u16 {
        self.u16_at(field::CHECKSUM)
    }

    pub fn src_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::SRC];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::DST];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// Header bounds clamped to the buffer, so that slices stay in range
    /// even if a setter later wrote an inconsistent IHL or total length.
    fn bounds(&self) -> (usize, usize) {
        let len = self.buffer.as_ref().len();
        let end = usize::from(self.total_len()).min(len);
        let hl = self.header_len().clamp(Self::MIN_HEADER_LEN.min(end), end);
        (hl, end)
    }

    /// Option bytes between the fixed header and the payload.
    pub fn options(&self) -> &[u8] {
        let (hl, _) = self.bounds();
        &self.buffer.as_ref()[Self::MIN_HEADER_LEN.min(hl)..hl]
    }

    /// Bytes from the end of the header up to the total length.
    pub fn payload(&self) -> &[u8] {
        let (hl, end) = self.bounds();
        &self.buffer.as_ref()[hl..end]
    }

    /// True when the stored header checksum is correct.
    pub fn verify_checksum(&self) -> bool {
        let (hl, _) = self.bounds();
        checksum::checksum(&self.buffer.as_ref()[..hl]) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    fn set_u16_at(&mut self, r: std::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_version(&mut self, v: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0x0f) | (v << 4);
    }

    /// Sets IHL in 32-bit words.
    pub fn set_ihl(&mut self, words: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0xf0) | (words & 0x0f);
    }

    pub fn set_dscp(&mut self, v: u8) {
        let b = &mut self.buffer.as_mut()[field::TOS];
        *b = (*b & 0x03) | (v << 2);
    }

    pub fn set_ecn(&mut self, v: u8) {
        let b = &mut self.buffer.as_mut()[field::TOS];
        *b = (*b & 0xfc) | (v & 0x03);
    }

    pub fn set_total_len(&mut self, v: u16) {
        self.set_u16_at(field::LENGTH, v);
    }

    pub fn set_ident(&mut self, v: u16) {
        self.set_u16_at(field::IDENT, v);
    }

    pub fn set_dont_frag(&mut self, on: bool) {
        let w = self.u16_at(field::FLG_OFF);
        self.set_u16_at(field::FLG_OFF, if on { w | FLAG_DF } else { w & !FLAG_DF });
    }

    pub fn set_more_frags(&mut self, on: bool) {
        let w = self.u16_at(field::FLG_OFF);
        self.set_u16_at(field::FLG_OFF, if on { w | FLAG_MF } else { w & !FLAG_MF });
    }

    /// Sets the fragment offset in bytes (rounded down to 8).
    pub fn set_frag_offset(&mut self, bytes: u16) {
        let w = self.u16_at(field::FLG_OFF);
        self.set_u16_at(field::FLG_OFF, (w & !OFFSET_MASK) | (bytes / 8));
    }

    pub fn set_ttl(&mut self, v: u8) {
        self.buffer.as_mut()[field::TTL] = v;
    }

    pub fn set_protocol(&mut self, p: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = p.0;
    }

    pub fn set_checksum(&mut self, v: u16) {
        self.set_u16_at(field::CHECKSUM, v);
    }

    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC].copy_from_slice(&a.octets());
    }

    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::DST].copy_from_slice(&a.octets());
    }

    /// Recomputes the header checksum from scratch.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let (hl, _) = self.bounds();
        let c = checksum::checksum(&self.buffer.as_ref()[..hl]);
        self.set_checksum(c);
    }

    /// Decrements the TTL, patching the checksum incrementally (RFC 1624)
    /// rather than re-summing the header on every forwarded packet.
    /// Returns the new TTL; a TTL already at 0 is left untouched.
    pub fn decrement_ttl(&mut self) -> u8 {
        let ttl = self.ttl();
        if ttl == 0 {
            return 0;
        }
        let proto = u16::from(self.buffer.as_ref()[field::PROTOCOL]);
        let old = u16::from(ttl) << 8 | proto;
        let new = u16::from(ttl - 1) << 8 | proto;
        self.set_ttl(ttl - 1);
        let c = checksum::update_u16(self.checksum(), old, new);
        self.set_checksum(c);
        ttl - 1
    }

    /// Sets the source address and patches the header checksum. The
    /// caller must also patch the L4 checksum (pseudo header).
    pub fn rewrite_src_addr(&mut self, a: Ipv4Addr) {
        let c = checksum::update_addr(self.checksum(), self.src_addr(), a);
        self.set_src_addr(a);
        self.set_checksum(c);
    }

    /// Sets the destination address and patches the header checksum.
    pub fn rewrite_dst_addr(&mut self, a: Ipv4Addr) {
        let c = checksum::update_addr(self.checksum(), self.dst_addr(), a);
        self.set_dst_addr(a);
        self.set_checksum(c);
    }

    pub fn options_mut(&mut self) -> &mut [u8] {
        let (hl, _) = self.bounds();
        &mut self.buffer.as_mut()[Self::MIN_HEADER_LEN.min(hl)..hl]
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let (hl, end) = self.bounds();
        &mut self.buffer.as_mut()[hl..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::{l3, tcp_frame};
    use proptest::prelude::*;

    fn packet(ip_opts: &[u8]) -> Vec<u8> {
        l3(&tcp_frame(ip_opts, &[], b"hello")).to_vec()
    }

    #[test]
    fn parse_cross_checked() {
        let opts = [0x94, 0x04, 0x00, 0x00]; // router alert
        let buf = packet(&opts);
        let (h, _) = etherparse::Ipv4Header::from_slice(&buf).unwrap();
        let p = Ipv4Packet::new_checked_unfragmented(&buf[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.ihl(), 6);
        assert_eq!(p.header_len(), h.header_len());
        assert_eq!(p.total_len(), h.total_len);
        assert_eq!(p.ident(), 0x1234);
        assert!(p.dont_frag() && !p.more_frags() && !p.is_fragment());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!((p.dscp(), p.ecn()), (0, 0));
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), IpProtocol::TCP);
        assert_eq!(p.checksum(), h.header_checksum);
        assert!(p.verify_checksum());
        assert_eq!(p.src_addr().octets(), h.source);
        assert_eq!(p.dst_addr().octets(), h.destination);
        assert_eq!(p.options(), &opts);
        assert_eq!(p.payload().len(), 20 + 5);
        assert_eq!(&p.payload()[20..], b"hello");
    }

    #[test]
    fn payload_excludes_ethernet_padding() {
        let mut buf = packet(&[]);
        let tl = buf.len();
        buf.extend_from_slice(&[0xee; 7]);
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.payload().len(), tl - 20);
        assert!(!p.payload().contains(&0xee));
    }

    #[test]
    fn errors() {
        let buf = packet(&[]);
        assert_eq!(
            Ipv4Packet::new_checked(&[][..]).unwrap_err(),
            WireError::Truncated
        );
        for n in 0..20 {
            assert_eq!(
                Ipv4Packet::new_checked(&buf[..n]).unwrap_err(),
                WireError::Truncated
            );
        }
        let mut b = buf.clone();
        b[0] = 0x65;
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            WireError::BadVersion
        );
        for ihl in 0..5 {
            b[0] = 0x40 | ihl;
            assert_eq!(
                Ipv4Packet::new_checked(&b[..]).unwrap_err(),
                WireError::BadIhl
            );
        }
        // Options announced but the buffer stops inside them.
        b[0] = 0x4f;
        assert_eq!(
            Ipv4Packet::new_checked(&b[..40]).unwrap_err(),
            WireError::Truncated
        );
        // Total length beyond the frame (truncated payload) and below header.
        assert_eq!(
            Ipv4Packet::new_checked(&buf[..buf.len() - 1]).unwrap_err(),
            WireError::BadTotalLength
        );
        let mut b = buf.clone();
        b[2..4].copy_from_slice(&19u16.to_be_bytes());
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            WireError::BadTotalLength
        );
    }

    #[test]
    fn fragments() {
        let mut buf = packet(&[]);
        let mut p = Ipv4Packet::new_checked(&mut buf[..]).unwrap();
        p.set_more_frags(true);
        assert!(p.is_fragment() && p.more_frags() && p.dont_frag());
        p.set_more_frags(false);
        p.set_frag_offset(1480);
        assert_eq!(p.frag_offset(), 1480);
        assert!(p.is_fragment());
        assert_eq!(
            Ipv4Packet::new_checked_unfragmented(&buf[..]).unwrap_err(),
            WireError::Fragment
        );
        assert!(Ipv4Packet::new_checked(&buf[..]).is_ok());
    }

    #[test]
    fn setters_round_trip() {
        let mut buf = packet(&[]);
        let mut p = Ipv4Packet::new_checked(&mut buf[..]).unwrap();
        p.set_dscp(46);
        p.set_ecn(2);
        p.set_ident(7);
        p.set_dont_frag(false);
        p.set_ttl(3);
        p.set_protocol(IpProtocol::UDP);
        p.set_src_addr(Ipv4Addr::new(1, 2, 3, 4));
        p.set_dst_addr(Ipv4Addr::new(5, 6, 7, 8));
        p.payload_mut()[0] = 0xaa;
        p.fill_checksum();
        assert_eq!(
            (p.dscp(), p.ecn(), p.ident(), p.dont_frag()),
            (46, 2, 7, false)
        );
        assert_eq!((p.ttl(), p.protocol()), (3, IpProtocol::UDP));
        assert_eq!(p.src_addr(), Ipv4Addr::new(1, 2, 3, 4));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(5, 6, 7, 8));
        assert!(p.verify_checksum());
        let buf = p.into_inner();
        let (h, _) = etherparse::Ipv4Header::from_slice(buf).unwrap();
        assert_eq!(h.calc_header_checksum(), h.header_checksum);
        assert_eq!(buf[20], 0xaa);
    }

    #[test]
    fn inconsistent_setters_do_not_panic() {
        let mut buf = packet(&[]);
        let mut p = Ipv4Packet::new_checked(&mut buf[..]).unwrap();
        for (ihl, tl) in [(15, 0xffff), (0, 0), (2, 10), (15, 30)] {
            p.set_ihl(ihl);
            p.set_total_len(tl);
            let _ = (p.payload().len(), p.options().len(), p.verify_checksum());
            let _ = (p.payload_mut().len(), p.options_mut().len());
            p.fill_checksum();
        }
        p.set_version(6);
        assert_eq!(p.version(), 6);
    }

    #[test]
    fn decrement_ttl() {
        let mut buf = packet(&[]);
        let mut p = Ipv4Packet::new_checked(&mut buf[..]).unwrap();
        p.set_ttl(2);
        p.fill_checksum();
        assert_eq!(p.decrement_ttl(), 1);
        assert!(p.verify_checksum());
        assert_eq!(p.decrement_ttl(), 0);
        assert!(p.verify_checksum());
        assert_eq!(p.decrement_ttl(), 0);
        assert_eq!(p.ttl(), 0);
        assert!(p.verify_checksum());
    }

    proptest! {
        #[test]
        fn incremental_rewrites_match_recompute(
            hdr in proptest::collection::vec(any::<u8>(), 20..=20),
            src in any::<u32>(),
            dst in any::<u32>(),
            ttl in any::<u8>(),
        ) {
            let mut buf = hdr;
            buf[0] = 0x45;
            buf[2..4].copy_from_slice(&20u16.to_be_bytes());
            let mut p = Ipv4Packet::new_checked(&mut buf[..]).unwrap();
            p.set_ttl(ttl);
            p.fill_checksum();
            p.rewrite_src_addr(Ipv4Addr::from(src));
            p.rewrite_dst_addr(Ipv4Addr::from(dst));
            p.decrement_ttl();
            let c = p.checksum();
            p.fill_checksum();
            prop_assert_eq!(c, p.checksum());
            prop_assert!(p.verify_checksum());
        }

        #[test]
        fn random_bytes_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = Ipv4Packet::new_checked(&buf[..]) {
                prop_assert!(p.header_len() + p.payload().len() == usize::from(p.total_len()));
                let _ = (p.options(), p.verify_checksum(), p.is_fragment());
            }
        }
    }
}
