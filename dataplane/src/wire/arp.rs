//! ARP for Ethernet/IPv4 (RFC 826), the only combination a director needs.

use std::net::Ipv4Addr;

use super::{EtherType, MacAddr, WireError};

/// ARP operation codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpOp(pub u16);

impl ArpOp {
    pub const REQUEST: ArpOp = ArpOp(1);
    pub const REPLY: ArpOp = ArpOp(2);
}

const HTYPE_ETHERNET: u16 = 1;

mod field {
    use std::ops::Range;
    pub const HTYPE: Range<usize> = 0..2;
    pub const PTYPE: Range<usize> = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Range<usize> = 6..8;
    pub const SHA: Range<usize> = 8..14;
    pub const SPA: Range<usize> = 14..18;
    pub const THA: Range<usize> = 18..24;
    pub const TPA: Range<usize> = 24..28;
}

/// Zero-copy view of an Ethernet/IPv4 ARP packet (28 bytes; trailing
/// Ethernet padding is ignored).
#[derive(Debug, Clone)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    pub const LEN: usize = 28;

    pub fn new_unchecked(buffer: T) -> Self {
        ArpPacket { buffer }
    }

    /// Accepts only htype Ethernet / ptype IPv4 (else `Unsupported`) with
    /// 6/4 address lengths (else `BadLength`): the fixed offsets of the
    /// accessors rely on those lengths.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        if buffer.as_ref().len() < Self::LEN {
            return Err(WireError::Truncated);
        }
        let p = Self::new_unchecked(buffer);
        if p.hardware_type() != HTYPE_ETHERNET || p.protocol_type() != EtherType::IPV4 {
            return Err(WireError::Unsupported);
        }
        let b = p.buffer.as_ref();
        if b[field::HLEN] != 6 || b[field::PLEN] != 4 {
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

    fn mac_at(&self, r: std::ops::Range<usize>) -> MacAddr {
        let mut a = [0u8; 6];
        a.copy_from_slice(&self.buffer.as_ref()[r]);
        MacAddr(a)
    }

    fn ip_at(&self, r: std::ops::Range<usize>) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[r];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    pub fn hardware_type(&self) -> u16 {
        self.u16_at(field::HTYPE)
    }

    pub fn protocol_type(&self) -> EtherType {
        EtherType(self.u16_at(field::PTYPE))
    }

    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    pub fn operation(&self) -> ArpOp {
        ArpOp(self.u16_at(field::OPER))
    }

    pub fn sender_hw_addr(&self) -> MacAddr {
        self.mac_at(field::SHA)
    }

    pub fn sender_proto_addr(&self) -> Ipv4Addr {
        self.ip_at(field::SPA)
    }

    pub fn target_hw_addr(&self) -> MacAddr {
        self.mac_at(field::THA)
    }

    pub fn target_proto_addr(&self) -> Ipv4Addr {
        self.ip_at(field::TPA)
    }

    /// Gratuitous ARP announces the sender's own address (SPA == TPA).
    pub fn is_gratuitous(&self) -> bool {
        self.sender_proto_addr() == self.target_proto_addr()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    /// Writes the fixed Ethernet/IPv4 preamble, for building from scratch.
    pub fn init_ethernet_ipv4(&mut self) {
        let b = self.buffer.as_mut();
        b[field::HTYPE].copy_from_slice(&HTYPE_ETHERNET.to_be_bytes());
        b[field::PTYPE].copy_from_slice(&EtherType::IPV4.0.to_be_bytes());
        b[field::HLEN] = 6;
        b[field::PLEN] = 4;
    }

    pub fn set_operation(&mut self, op: ArpOp) {
        self.buffer.as_mut()[field::OPER].copy_from_slice(&op.0.to_be_bytes());
    }

    pub fn set_sender_hw_addr(&mut self, a: MacAddr) {
        self.buffer.as_mut()[field::SHA].copy_from_slice(&a.0);
    }

    pub fn set_sender_proto_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SPA].copy_from_slice(&a.octets());
    }

    pub fn set_target_hw_addr(&mut self, a: MacAddr) {
        self.buffer.as_mut()[field::THA].copy_from_slice(&a.0);
    }

    pub fn set_target_proto_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::TPA].copy_from_slice(&a.octets());
    }

    /// Turns a request for one of our addresses into the reply, in place:
    /// the asker becomes the target, and we answer for the address it
    /// asked about. The Ethernet header is the caller's (swap + set src).
    pub fn make_reply(&mut self, our_mac: MacAddr) {
        let (sha, spa) = (self.sender_hw_addr(), self.sender_proto_addr());
        let tpa = self.target_proto_addr();
        self.set_operation(ArpOp::REPLY);
        self.set_target_hw_addr(sha);
        self.set_target_proto_addr(spa);
        self.set_sender_hw_addr(our_mac);
        self.set_sender_proto_addr(tpa);
    }

    /// Fills a 28-byte buffer with a who-has request for `target_ip`.
    pub fn build_request(
        buffer: T,
        our_mac: MacAddr,
        our_ip: Ipv4Addr,
        target_ip: Ipv4Addr,
    ) -> Result<Self, WireError> {
        if buffer.as_ref().len() < Self::LEN {
            return Err(WireError::Truncated);
        }
        let mut p = Self::new_unchecked(buffer);
        p.init_ethernet_ipv4();
        p.set_operation(ArpOp::REQUEST);
        p.set_sender_hw_addr(our_mac);
        p.set_sender_proto_addr(our_ip);
        p.set_target_hw_addr(MacAddr::ZERO);
        p.set_target_proto_addr(target_ip);
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{ArpHardwareId, ArpOperation, ArpPacket as EpArp};

    const OUR_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0xaa]);
    const ASKER: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);

    fn request() -> Vec<u8> {
        EpArp::new(
            ArpHardwareId::ETHERNET,
            etherparse::EtherType::IPV4,
            ArpOperation::REQUEST,
            &ASKER.0,
            &[10, 0, 0, 1],
            &[0; 6],
            &[10, 0, 0, 100],
        )
        .unwrap()
        .to_bytes()
        .to_vec()
    }

    #[test]
    fn parse_cross_checked() {
        let buf = request();
        let p = ArpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(p.hardware_type(), 1);
        assert_eq!(p.protocol_type(), EtherType::IPV4);
        assert_eq!((p.hardware_len(), p.protocol_len()), (6, 4));
        assert_eq!(p.operation(), ArpOp::REQUEST);
        assert_eq!(p.sender_hw_addr(), ASKER);
        assert_eq!(p.sender_proto_addr(), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(p.target_hw_addr(), MacAddr::ZERO);
        assert_eq!(p.target_proto_addr(), Ipv4Addr::new(10, 0, 0, 100));
        assert!(!p.is_gratuitous());
    }

    #[test]
    fn errors() {
        let buf = request();
        for n in 0..28 {
            assert_eq!(
                ArpPacket::new_checked(&buf[..n]).unwrap_err(),
                WireError::Truncated
            );
        }
        let mut b = buf.clone();
        b[1] = 6; // IEEE 802 hardware type
        assert_eq!(
            ArpPacket::new_checked(&b[..]).unwrap_err(),
            WireError::Unsupported
        );
        let mut b = buf.clone();
        b[2] = 0x86; // ptype 0x86dd
        b[3] = 0xdd;
        assert_eq!(
            ArpPacket::new_checked(&b[..]).unwrap_err(),
            WireError::Unsupported
        );
        for (i, v) in [(4, 8), (5, 16)] {
            let mut b = buf.clone();
            b[i] = v;
            assert_eq!(
                ArpPacket::new_checked(&b[..]).unwrap_err(),
                WireError::BadLength
            );
        }
    }

    #[test]
    fn request_to_reply() {
        let mut buf = request();
        buf.extend_from_slice(&[0; 18]); // Ethernet padding is ignored
        let mut p = ArpPacket::new_checked(&mut buf[..]).unwrap();
        p.make_reply(OUR_MAC);
        assert_eq!(p.operation(), ArpOp::REPLY);
        assert_eq!(p.sender_hw_addr(), OUR_MAC);
        assert_eq!(p.sender_proto_addr(), Ipv4Addr::new(10, 0, 0, 100));
        assert_eq!(p.target_hw_addr(), ASKER);
        assert_eq!(p.target_proto_addr(), Ipv4Addr::new(10, 0, 0, 1));
        let ep = EpArp::from_slice(&buf).unwrap();
        assert_eq!(ep.operation, ArpOperation::REPLY);
        assert_eq!(ep.sender_hw_addr(), &OUR_MAC.0);
        assert_eq!(ep.target_protocol_addr(), &[10, 0, 0, 1]);
    }

    #[test]
    fn build_request_round_trip() {
        let mut buf = [0xffu8; 28];
        let ip = Ipv4Addr::new(10, 0, 0, 100);
        let p = ArpPacket::build_request(&mut buf[..], OUR_MAC, ip, ip).unwrap();
        assert!(p.is_gratuitous());
        assert_eq!(buf.to_vec(), {
            let r = EpArp::new(
                ArpHardwareId::ETHERNET,
                etherparse::EtherType::IPV4,
                ArpOperation::REQUEST,
                &OUR_MAC.0,
                &ip.octets(),
                &[0; 6],
                &ip.octets(),
            );
            r.unwrap().to_bytes().to_vec()
        });
        let p = ArpPacket::new_checked(&buf[..]).unwrap();
        assert_eq!(p.into_inner().len(), 28);
        assert_eq!(
            ArpPacket::build_request(&mut [0u8; 27][..], OUR_MAC, ip, ip).unwrap_err(),
            WireError::Truncated
        );
    }
}
