//! VRRP advertisement wire format, v2 (RFC 3768 5.1) and v3 (RFC 9568 5.1),
//! IPv4 only. Public for tests and tools.
//!
//! ```text
//! byte  v2                                v3
//! 0     version 2 | type 1  (0x21)        version 3 | type 1  (0x31)
//! 1     VRID                              VRID
//! 2     priority                          priority
//! 3     count of addresses                count of addresses
//! 4     auth type                         4 reserved bits + 12-bit max
//! 5     advert interval (seconds)         advert interval (centiseconds)
//! 6-7   checksum                          checksum
//! 8..   addresses, then 8 bytes auth      addresses
//! ```
//!
//! Decoding never indexes packet bytes directly: every read goes through
//! `get`, so truncated or hostile input yields an [`RxDrop`], never a panic.

use std::net::Ipv4Addr;

use crate::checksum;
use crate::{ChecksumForm, RxDrop, Version};

/// The VRRP IPv4 multicast group (RFC 5798 5.1.1.2).
pub const VRRP_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// IP protocol number of VRRP.
pub const IPPROTO_VRRP: u8 = 112;
/// TTL every advertisement is sent with and a multicast receiver requires.
pub const VRRP_TTL: u8 = 255;
/// The count field is one byte.
pub const MAX_ADDRESSES: usize = 255;

const ADVERT_TYPE: u8 = 1;
const FIXED_LEN: usize = 8;
const AUTH_LEN: usize = 8;
const IPV4_MIN_HEADER: usize = 20;
/// v3 Max Advert Int is 12 bits.
const V3_INTERVAL_MASK: u16 = 0x0fff;

/// One advertisement, version independent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advert {
    pub version: Version,
    pub vrid: u8,
    pub priority: u8,
    /// Centiseconds. v2 carries whole seconds, so a v2 value is sent as
    /// `interval_cs / 100` and decodes as a multiple of 100.
    pub interval_cs: u16,
    /// At most [`MAX_ADDRESSES`] are encoded.
    pub addresses: Vec<Ipv4Addr>,
    /// v2 only (0 none, 1 simple text password); 0 after decoding v3.
    pub auth_type: u8,
    /// v2 only; zeros after decoding v3.
    pub auth_data: [u8; 8],
}

/// A decoded, checksum-verified advertisement with what the IP header said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub advert: Advert,
    /// Which checksum form matched (always `Plain` for v2).
    pub checksum: ChecksumForm,
}

/// The VRRP message (no IP header). `src` and `dst` only enter a v3
/// pseudo-header checksum; v2 always uses the plain checksum and ignores `form`.
pub fn encode(a: &Advert, src: Ipv4Addr, dst: Ipv4Addr, form: ChecksumForm) -> Vec<u8> {
    let addrs: Vec<Ipv4Addr> = a.addresses.iter().copied().take(MAX_ADDRESSES).collect();
    let count = u8::try_from(addrs.len()).unwrap_or(u8::MAX);
    let mut b = Vec::with_capacity(FIXED_LEN + 4 * addrs.len() + AUTH_LEN);
    b.push((a.version.number() << 4) | ADVERT_TYPE);
    b.push(a.vrid);
    b.push(a.priority);
    b.push(count);
    match a.version {
        Version::V2 => {
            b.push(a.auth_type);
            b.push(u8::try_from(a.interval_cs / 100).unwrap_or(u8::MAX));
        }
        // Reserved bits are sent as zero (RFC 9568 5.2.7); a too-large interval
        // is capped rather than wrapped, so the peer sees the longest one.
        Version::V3 => b.extend_from_slice(&a.interval_cs.min(V3_INTERVAL_MASK).to_be_bytes()),
    }
    b.extend_from_slice(&[0, 0]);
    for ip in &addrs {
        b.extend_from_slice(&ip.octets());
    }
    if a.version == Version::V2 {
        b.extend_from_slice(&a.auth_data);
    }
    let start = match (a.version, form) {
        (Version::V3, ChecksumForm::PseudoHeader) => {
            checksum::pseudo_header(src, dst, u16::try_from(b.len()).unwrap_or(u16::MAX))
        }
        _ => 0,
    };
    let ck = checksum::finish(checksum::add(start, &b));
    if let Some(field) = b.get_mut(6..8) {
        field.copy_from_slice(&ck.to_be_bytes());
    }
    b
}

/// Wraps a VRRP message in a 20-byte IPv4 header (TTL as given, protocol 112,
/// header checksum filled in), for runtimes that build whole packets and for
/// tests. TOS is 0xc0 (internetwork control), as keepalived sends.
pub fn ipv4_packet(src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, vrrp: &[u8]) -> Vec<u8> {
    let total = u16::try_from(IPV4_MIN_HEADER + vrrp.len()).unwrap_or(u16::MAX);
    let mut p = Vec::with_capacity(IPV4_MIN_HEADER + vrrp.len());
    p.extend_from_slice(&[0x45, 0xc0]);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0]); // id, flags, fragment offset
    p.extend_from_slice(&[ttl, IPPROTO_VRRP, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let ck = checksum::finish(checksum::add(0, &p));
    if let Some(field) = p.get_mut(10..12) {
        field.copy_from_slice(&ck.to_be_bytes());
    }
    p.extend_from_slice(vrrp);
    p.truncate(usize::from(total));
    p
}

/// Decodes a whole IPv4 packet (IP header included, as a raw IPPROTO 112
/// socket delivers it) and verifies the VRRP checksum. It does not check
/// anything that depends on the receiving instance (TTL, VRID, version
/// match, auth, addresses): that is `Instance::on_packet`'s job.
pub fn decode(packet: &[u8]) -> Result<Received, RxDrop> {
    let ip = Ipv4Header::parse(packet)?;
    let msg = packet
        .get(ip.header_len..ip.total_len)
        .ok_or(RxDrop::Malformed)?;

    let b0 = *msg.first().ok_or(RxDrop::Length)?;
    let version = match b0 >> 4 {
        2 => Version::V2,
        3 => Version::V3,
        _ => return Err(RxDrop::Version),
    };
    if b0 & 0x0f != ADVERT_TYPE {
        return Err(RxDrop::Type);
    }
    let fixed = msg.get(..FIXED_LEN).ok_or(RxDrop::Length)?;
    let field = |i: usize| fixed.get(i).copied().unwrap_or(0);
    let count = usize::from(field(3));
    let auth_len = if version == Version::V2 { AUTH_LEN } else { 0 };
    let vrrp_len = FIXED_LEN + 4 * count + auth_len;
    // The message may be followed by bytes inside the IP payload (keepalived
    // is stricter and wants an exact fit); only the counted part is read.
    let vrrp = msg.get(..vrrp_len).ok_or(RxDrop::Length)?;

    let form = verify_checksum(version, vrrp, ip.src, ip.dst)?;

    let addr_bytes = vrrp
        .get(FIXED_LEN..FIXED_LEN + 4 * count)
        .ok_or(RxDrop::Length)?;
    let addresses = addr_bytes
        .chunks_exact(4)
        .filter_map(|c| <[u8; 4]>::try_from(c).ok())
        .map(Ipv4Addr::from)
        .collect();

    let (interval_cs, auth_type, auth_data) = match version {
        Version::V2 => {
            let auth = vrrp
                .get(FIXED_LEN + 4 * count..vrrp_len)
                .and_then(|s| <[u8; 8]>::try_from(s).ok())
                .ok_or(RxDrop::Length)?;
            (u16::from(field(5)) * 100, field(4), auth)
        }
        Version::V3 => {
            // Reserved bits are ignored on receive (RFC 9568 5.2.7).
            let raw = u16::from_be_bytes([field(4), field(5)]);
            (raw & V3_INTERVAL_MASK, 0, [0; 8])
        }
    };

    Ok(Received {
        src: ip.src,
        dst: ip.dst,
        ttl: ip.ttl,
        advert: Advert {
            version,
            vrid: field(1),
            priority: field(2),
            interval_cs,
            addresses,
            auth_type,
            auth_data,
        },
        checksum: form,
    })
}

/// v2: the plain sum only. v3: the pseudo-header form first (what keepalived
/// 2.2.7 sends), then the plain form (RFC 9568 5.2.8 for IPv4).
fn verify_checksum(
    version: Version,
    vrrp: &[u8],
    src: Ipv4Addr,
    dst: Ipv4Addr,
) -> Result<ChecksumForm, RxDrop> {
    let plain_ok = checksum::finish(checksum::add(0, vrrp)) == 0;
    if version == Version::V3 {
        let len = u16::try_from(vrrp.len()).map_err(|_| RxDrop::Length)?;
        let start = checksum::pseudo_header(src, dst, len);
        if checksum::finish(checksum::add(start, vrrp)) == 0 {
            return Ok(ChecksumForm::PseudoHeader);
        }
    }
    if plain_ok {
        Ok(ChecksumForm::Plain)
    } else {
        Err(RxDrop::Checksum)
    }
}

/// The parts of the IPv4 header VRRP needs.
struct Ipv4Header {
    header_len: usize,
    total_len: usize,
    ttl: u8,
    src: Ipv4Addr,
    dst: Ipv4Addr,
}

impl Ipv4Header {
    fn parse(p: &[u8]) -> Result<Ipv4Header, RxDrop> {
        let h = p.get(..IPV4_MIN_HEADER).ok_or(RxDrop::Malformed)?;
        let byte = |i: usize| h.get(i).copied().unwrap_or(0);
        let quad = |i: usize| Ipv4Addr::new(byte(i), byte(i + 1), byte(i + 2), byte(i + 3));
        if byte(0) >> 4 != 4 {
            return Err(RxDrop::Malformed);
        }
        let header_len = usize::from(byte(0) & 0x0f) * 4;
        let total_len = usize::from(u16::from_be_bytes([byte(2), byte(3)]));
        // A buffer may carry link padding past the IP datagram; never the reverse.
        if header_len < IPV4_MIN_HEADER || total_len < header_len || total_len > p.len() {
            return Err(RxDrop::Malformed);
        }
        // A fragment is not a whole advertisement (a raw socket hands over
        // reassembled datagrams; a dataplane might not).
        let more_fragments = byte(6) & 0x20 != 0;
        let offset = u16::from_be_bytes([byte(6) & 0x1f, byte(7)]);
        if more_fragments || offset != 0 {
            return Err(RxDrop::Malformed);
        }
        if byte(9) != IPPROTO_VRRP {
            return Err(RxDrop::Malformed);
        }
        Ok(Ipv4Header {
            header_len,
            total_len,
            ttl: byte(8),
            src: quad(12),
            dst: quad(16),
        })
    }
}
