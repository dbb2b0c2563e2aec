//! ICMPv4 message view, echo replies, and the quote inside error messages.

use std::net::Ipv4Addr;

use super::checksum;
use super::{IpProtocol, WireError};

/// ICMPv4 message types the data plane handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IcmpType(pub u8);

impl IcmpType {
    pub const ECHO_REPLY: IcmpType = IcmpType(0);
    pub const DEST_UNREACHABLE: IcmpType = IcmpType(3);
    pub const ECHO_REQUEST: IcmpType = IcmpType(8);
    pub const TIME_EXCEEDED: IcmpType = IcmpType(11);
    pub const PARAMETER_PROBLEM: IcmpType = IcmpType(12);

    /// Error messages quote the offending packet's header (RFC 792).
    pub fn is_error(self) -> bool {
        matches!(self.0, 3 | 11 | 12)
    }
}

/// Codes used with `DEST_UNREACHABLE` and `TIME_EXCEEDED`.
pub mod code {
    pub const NET_UNREACHABLE: u8 = 0;
    pub const HOST_UNREACHABLE: u8 = 1;
    pub const PORT_UNREACHABLE: u8 = 3;
    /// Fragmentation needed and DF set: carries the next-hop MTU (PMTUD).
    pub const FRAG_NEEDED: u8 = 4;
    pub const TTL_EXCEEDED: u8 = 0;
}

const HEADER_LEN: usize = 8;

mod field {
    use std::ops::{Range, RangeFrom};
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Range<usize> = 2..4;
    pub const REST: Range<usize> = 4..8;
    pub const ECHO_IDENT: Range<usize> = 4..6;
    pub const ECHO_SEQ: Range<usize> = 6..8;
    pub const NEXT_HOP_MTU: Range<usize> = 6..8;
    pub const PAYLOAD: RangeFrom<usize> = 8..;
}

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

/// Zero-copy view of an ICMPv4 message. The buffer is the IPv4 payload;
/// the checksum covers all of it.
#[derive(Debug, Clone)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    pub const HEADER_LEN: usize = HEADER_LEN;

    pub fn new_unchecked(buffer: T) -> Self {
        Icmpv4Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        Ok(Self::new_unchecked(buffer))
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn msg_type(&self) -> IcmpType {
        IcmpType(self.buffer.as_ref()[field::TYPE])
    }

    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    pub fn checksum(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The 4 type-specific bytes after the checksum.
    pub fn rest_of_header(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::REST];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    pub fn echo_ident(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::ECHO_IDENT])
    }

    pub fn echo_seq_no(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::ECHO_SEQ])
    }

    /// Next-hop MTU of a "fragmentation needed" message (RFC 1191).
    pub fn next_hop_mtu(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::NEXT_HOP_MTU])
    }

    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD]
    }

    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(self.buffer.as_ref()) == 0
    }

    /// The quoted IPv4 header and first 8 transport bytes of an error
    /// message, which identify the connection the error is about.
    pub fn quote(&self) -> Result<IcmpQuote<&[u8]>, WireError> {
        if !self.msg_type().is_error() {
            return Err(WireError::Unsupported);
        }
        IcmpQuote::new_checked(self.payload())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    fn set_u16_at(&mut self, r: std::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_msg_type(&mut self, t: IcmpType) {
        self.buffer.as_mut()[field::TYPE] = t.0;
    }

    pub fn set_code(&mut self, c: u8) {
        self.buffer.as_mut()[field::CODE] = c;
    }

    pub fn set_checksum(&mut self, v: u16) {
        self.set_u16_at(field::CHECKSUM, v);
    }

    pub fn set_rest_of_header(&mut self, v: u32) {
        self.buffer.as_mut()[field::REST].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_echo_ident(&mut self, v: u16) {
        self.set_u16_at(field::ECHO_IDENT, v);
    }

    pub fn set_echo_seq_no(&mut self, v: u16) {
        self.set_u16_at(field::ECHO_SEQ, v);
    }

    pub fn set_next_hop_mtu(&mut self, v: u16) {
        self.set_u16_at(field::NEXT_HOP_MTU, v);
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[field::PAYLOAD]
    }

    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let c = checksum::checksum(self.buffer.as_ref());
        self.set_checksum(c);
    }

    /// Turns an echo request into the echo reply in place: only the type
    /// changes, so the checksum is patched rather than re-summed over a
    /// possibly large payload. The IP/Ethernet swap is the caller's.
    pub fn echo_request_to_reply(&mut self) -> Result<(), WireError> {
        if self.msg_type() != IcmpType::ECHO_REQUEST {
            return Err(WireError::Unsupported);
        }
        let code = u16::from(self.code());
        let old = u16::from(IcmpType::ECHO_REQUEST.0) << 8 | code;
        let new = u16::from(IcmpType::ECHO_REPLY.0) << 8 | code;
        let c = checksum::update_u16(self.checksum(), old, new);
        self.set_msg_type(IcmpType::ECHO_REPLY);
        self.set_checksum(c);
        Ok(())
    }

    /// Mutable quote, to translate addresses/ports of an error about a
    /// NATed connection; call `fill_checksum` on the message afterwards.
    pub fn quote_mut(&mut self) -> Result<IcmpQuote<&mut [u8]>, WireError> {
        if !self.msg_type().is_error() {
            return Err(WireError::Unsupported);
        }
        IcmpQuote::new_checked(self.payload_mut())
    }
}

/// The IPv4 header plus at least 8 transport bytes quoted by an ICMP
/// error. Not an `Ipv4Packet`: its total length describes the original
/// packet, which the quote truncates.
#[derive(Debug, Clone)]
pub struct IcmpQuote<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> IcmpQuote<T> {
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let b = buffer.as_ref();
        if b.len() < 20 {
            return Err(WireError::Truncated);
        }
        if b[0] >> 4 != 4 {
            return Err(WireError::BadVersion);
        }
        let hl = usize::from(b[0] & 0x0f) * 4;
        if hl < 20 {
            return Err(WireError::BadIhl);
        }
        if b.len() < hl + 8 {
            return Err(WireError::Truncated);
        }
        Ok(IcmpQuote { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[0] & 0x0f) * 4
    }

    /// The quoted IPv4 header, options included.
    pub fn ip_header(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.header_len()]
    }

    /// The first 8 bytes of the quoted transport header.
    pub fn transport(&self) -> &[u8] {
        let hl = self.header_len();
        &self.buffer.as_ref()[hl..hl + 8]
    }

    pub fn protocol(&self) -> IpProtocol {
        IpProtocol(self.buffer.as_ref()[9])
    }

    pub fn src_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[12..16];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[16..20];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// Source port, for TCP and UDP quotes.
    pub fn src_port(&self) -> u16 {
        be16(self.transport())
    }

    /// Destination port, for TCP and UDP quotes.
    pub fn dst_port(&self) -> u16 {
        be16(&self.transport()[2..])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> IcmpQuote<T> {
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[12..16].copy_from_slice(&a.octets());
    }

    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[16..20].copy_from_slice(&a.octets());
    }

    pub fn set_src_port(&mut self, p: u16) {
        let hl = self.header_len();
        self.buffer.as_mut()[hl..hl + 2].copy_from_slice(&p.to_be_bytes());
    }

    pub fn set_dst_port(&mut self, p: u16) {
        let hl = self.header_len();
        self.buffer.as_mut()[hl + 2..hl + 4].copy_from_slice(&p.to_be_bytes());
    }

    /// Recomputes the quoted IPv4 header checksum after a rewrite.
    pub fn fill_ip_checksum(&mut self) {
        let hl = self.header_len();
        let b = self.buffer.as_mut();
        b[10..12].fill(0);
        let c = checksum::checksum(&b[..hl]);
        b[10..12].copy_from_slice(&c.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::{icmp_echo_frame, l3, l4, tcp_frame};
    use crate::wire::Ipv4Packet;
    use etherparse::{icmpv4::DestUnreachableHeader, Icmpv4Header, Icmpv4Type};
    use proptest::prelude::*;

    /// A destination-unreachable message quoting a TCP packet.
    fn unreachable(mtu: u16) -> Vec<u8> {
        let orig = tcp_frame(&[], &[], b"payload");
        let quoted = &l3(&orig)[..28];
        let t = Icmpv4Type::DestinationUnreachable(DestUnreachableHeader::FragmentationNeeded {
            next_hop_mtu: mtu,
        });
        let h = Icmpv4Header::with_checksum(t, quoted);
        let mut v = h.to_bytes().to_vec();
        v.extend_from_slice(quoted);
        v
    }

    #[test]
    fn echo_parse_and_reply() {
        let msg = l4(&icmp_echo_frame(0x55, 7, b"ping data!")).to_vec();
        let mut buf = msg.clone();
        let mut p = Icmpv4Packet::new_checked(&mut buf[..]).unwrap();
        assert_eq!(p.msg_type(), IcmpType::ECHO_REQUEST);
        assert_eq!((p.code(), p.echo_ident(), p.echo_seq_no()), (0, 0x55, 7));
        assert_eq!(p.rest_of_header(), 0x0055_0007);
        assert_eq!(p.payload(), b"ping data!");
        assert!(p.verify_checksum());
        assert!(p.quote().is_err());
        p.echo_request_to_reply().unwrap();
        assert_eq!(p.echo_request_to_reply(), Err(WireError::Unsupported));
        assert!(p.verify_checksum());
        let (h, rest) = Icmpv4Header::from_slice(&buf).unwrap();
        assert!(matches!(h.icmp_type, Icmpv4Type::EchoReply(e) if e.id == 0x55 && e.seq == 7));
        assert_eq!(
            h.checksum,
            Icmpv4Header::with_checksum(h.icmp_type.clone(), rest).checksum
        );
        assert_eq!(&buf[4..], &msg[4..]);
    }

    #[test]
    fn errors_and_setters() {
        assert_eq!(
            Icmpv4Packet::new_checked(&[][..]).unwrap_err(),
            WireError::Truncated
        );
        let msg = unreachable(1400);
        for n in 0..8 {
            assert_eq!(
                Icmpv4Packet::new_checked(&msg[..n]).unwrap_err(),
                WireError::Truncated
            );
        }
        let mut buf = [0u8; 12];
        let mut p = Icmpv4Packet::new_checked(&mut buf[..]).unwrap();
        p.set_msg_type(IcmpType::TIME_EXCEEDED);
        p.set_code(code::TTL_EXCEEDED);
        p.set_rest_of_header(0xdead_beef);
        assert_eq!(p.rest_of_header(), 0xdead_beef);
        p.set_echo_ident(1);
        p.set_echo_seq_no(2);
        assert_eq!((p.echo_ident(), p.echo_seq_no()), (1, 2));
        p.set_next_hop_mtu(1500);
        assert_eq!(p.next_hop_mtu(), 1500);
        p.payload_mut().copy_from_slice(&[1, 2, 3, 4]);
        p.fill_checksum();
        assert!(p.verify_checksum());
        assert_eq!(p.msg_type(), IcmpType::TIME_EXCEEDED);
        // A quote shorter than a header is rejected, not sliced.
        assert_eq!(p.quote().unwrap_err(), WireError::Truncated);
        assert_eq!(p.into_inner().len(), 12);
    }

    #[test]
    fn quote_of_frag_needed() {
        let msg = unreachable(1400);
        let p = Icmpv4Packet::new_checked(&msg[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(
            (p.msg_type(), p.code()),
            (IcmpType::DEST_UNREACHABLE, code::FRAG_NEEDED)
        );
        assert_eq!(p.next_hop_mtu(), 1400);
        let q = p.quote().unwrap();
        assert_eq!(q.protocol(), IpProtocol::TCP);
        assert_eq!(q.src_addr(), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(q.dst_addr(), Ipv4Addr::new(192, 168, 1, 80));
        assert_eq!((q.src_port(), q.dst_port()), (40000, 80));
        assert_eq!(q.ip_header().len(), 20);
        assert_eq!(&q.transport()[4..], &0x0102_0304u32.to_be_bytes());
    }

    #[test]
    fn quote_errors() {
        let msg = unreachable(0);
        for n in 8..36 {
            let p = Icmpv4Packet::new_checked(&msg[..n]).unwrap();
            assert_eq!(p.quote().unwrap_err(), WireError::Truncated, "{n}");
        }
        let mut b = msg.clone();
        b[8] = 0x65;
        assert_eq!(
            Icmpv4Packet::new_checked(&b[..])
                .unwrap()
                .quote()
                .unwrap_err(),
            WireError::BadVersion
        );
        b[8] = 0x44;
        assert_eq!(
            Icmpv4Packet::new_checked(&b[..])
                .unwrap()
                .quote()
                .unwrap_err(),
            WireError::BadIhl
        );
        b[8] = 0x46; // options announced, 8 transport bytes then missing
        assert_eq!(
            Icmpv4Packet::new_checked(&b[..])
                .unwrap()
                .quote()
                .unwrap_err(),
            WireError::Truncated
        );
    }

    #[test]
    fn quote_rewrite() {
        let mut msg = unreachable(1400);
        let mut p = Icmpv4Packet::new_checked(&mut msg[..]).unwrap();
        let mut q = p.quote_mut().unwrap();
        q.set_src_addr(Ipv4Addr::new(203, 0, 113, 9));
        q.set_dst_addr(Ipv4Addr::new(198, 51, 100, 1));
        q.set_src_port(443);
        q.set_dst_port(55555);
        q.fill_ip_checksum();
        p.fill_checksum();
        assert!(p.verify_checksum());
        let q = p.quote().unwrap();
        assert_eq!(
            (q.src_addr(), q.dst_addr()),
            (
                Ipv4Addr::new(203, 0, 113, 9),
                Ipv4Addr::new(198, 51, 100, 1)
            )
        );
        assert_eq!((q.src_port(), q.dst_port()), (443, 55555));
        // The quoted header is a valid IPv4 header again.
        let mut hdr = q.ip_header().to_vec();
        hdr[2..4].copy_from_slice(&20u16.to_be_bytes());
        let ip = Ipv4Packet::new_checked(&hdr[..]).unwrap();
        assert_eq!(ip.src_addr(), Ipv4Addr::new(203, 0, 113, 9));
        assert!(checksum::checksum(q.ip_header()) == 0);
    }

    proptest! {
        #[test]
        fn echo_reply_checksum_matches_recompute(body in proptest::collection::vec(any::<u8>(), 8..100), code in any::<u8>()) {
            let mut buf = body;
            buf[0] = 8;
            buf[1] = code;
            let mut p = Icmpv4Packet::new_checked(&mut buf[..]).unwrap();
            p.fill_checksum();
            p.echo_request_to_reply().unwrap();
            let inc = p.checksum();
            p.fill_checksum();
            prop_assert_eq!(inc, p.checksum());
        }

        #[test]
        fn random_bytes_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(p) = Icmpv4Packet::new_checked(&buf[..]) {
                if let Ok(q) = p.quote() {
                    let _ = (q.src_port(), q.dst_port(), q.ip_header().len(), q.protocol());
                }
            }
        }
    }
}
