//! TOA ("TCP Option Address") for FullNAT.
//!
//! FullNAT replaces the client address with a local address, so the RS
//! would only ever see the director. DPVS (and Alibaba's LVS before it)
//! carries the client's address in a private TCP option that the RS's
//! `toa` kernel module reads back for `getpeername()`:
//!
//! ```text
//! kind 254 | len 8 | client port (2, network order) | client IPv4 (4)
//! ```
//!
//! DPVS adds it to the client's SYN and again to the first segment after
//! the handshake (`ack == ISN(RS)+1`, no SYN/RST/FIN), because a SYN that
//! carries it may be dropped or the options may be full; the caller
//! decides which segment to try, this module only rewrites one.
//!
//! MSS decision (DPVS `src/ipvs/ip_vs_proto_tcp.c`, `tcp_fnat_in_handler`
//! / `tcp_in_add_toa` / `tcp_out_adjust_mss`): TOA makes client->RS
//! segments 8 bytes longer. How large those segments are is set by the
//! MSS the *RS* announces in its SYN-ACK, not by the client's SYN (that
//! one bounds RS->client segments, which never carry TOA). A first data
//! segment of a full MSS plus TOA would exceed the MTU, so DPVS lowers
//! the MSS of the RS's SYN-ACK by the TOA length on the way out
//! (`tcp_out_adjust_mss`, called for `syn && ack` in
//! `tcp_fnat_out_handler`) and leaves the client's SYN MSS alone. We do
//! the same: [`insert_toa`] does not touch any MSS and
//! [`adjust_synack_mss_for_toa`] is applied to the SYN-ACK. A segment that
//! still does not fit is refused with [`ToaError::TooBig`] (DPVS returns
//! `EDPVS_FRAG` and forwards it without TOA), so TOA never causes an IP
//! fragment.
//!
//! Placement: DPVS puts TOA right after the fixed header; we append it
//! after the existing options, which moves only the payload. The `toa`
//! module walks all options, so the order does not matter to it, but an
//! option after an EOL would be invisible: an EOL and the padding after
//! it are therefore rewritten to NOPs, which means the same thing.

use std::net::Ipv4Addr;

use super::ETH_LEN;
use crate::frame::Frame;
use crate::wire::checksum;
use crate::wire::{IpProtocol, Ipv4Packet, TcpOptionKind, TcpPacket, WireError};

/// TCP option kind of TOA (DPVS `TCP_OPT_ADDR`).
pub const TOA_KIND: u8 = 254;
/// Length of the IPv4 TOA option, which is also how much a segment grows.
pub const TOA_LEN: usize = 8;
/// Largest TCP header (data offset 15 words).
const TCP_MAX_HEADER: usize = 60;
const TCP_HEADER: usize = 20;

/// Why TOA was not added. The frame is unchanged in every case, so the
/// caller can still forward the segment without TOA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ToaError {
    #[error("malformed packet: {0}")]
    Malformed(#[from] WireError),
    #[error("not a TCP segment")]
    NotTcp,
    /// The TCP options list is malformed: an option after it would not
    /// be parsed by the RS either.
    #[error("malformed TCP options")]
    BadOptions,
    /// The TCP header is already longer than 52 bytes.
    #[error("no room for TOA in the TCP header")]
    NoRoom,
    /// The IP packet plus TOA would exceed the MTU (caller tries the
    /// next segment; DPVS: EDPVS_FRAG).
    #[error("segment with TOA would exceed the MTU")]
    TooBig,
    /// The buffer cannot grow by 8 bytes at its end.
    #[error("no tailroom for TOA")]
    NoTailroom,
}

/// Offsets of the TCP segment inside a frame, validated once.
struct Layout {
    /// Start of the TCP header in the frame.
    tcp: usize,
    /// TCP header length (data offset * 4).
    thl: usize,
    /// IPv4 total length.
    tl: usize,
}

fn layout(data: &[u8]) -> Result<Layout, ToaError> {
    let ipbuf = data.get(ETH_LEN..).ok_or(WireError::Truncated)?;
    // TOA goes into the segment that carries the TCP header: never a fragment.
    let ip = Ipv4Packet::new_checked_unfragmented(ipbuf)?;
    if ip.protocol() != IpProtocol::TCP {
        return Err(ToaError::NotTcp);
    }
    let (hl, tl) = (ip.header_len(), usize::from(ip.total_len()));
    let tcp = TcpPacket::new_checked(&ipbuf[hl..tl])?;
    Ok(Layout {
        tcp: ETH_LEN + hl,
        thl: tcp.header_len(),
        tl,
    })
}

/// Walks the options the way Linux's `tcp_parse_options` does. Returns
/// the offset of an EOL if there is one, `None` if the list runs to the
/// end, and an error where Linux would stop parsing (bad length).
fn find_eol(opts: &[u8]) -> Result<Option<usize>, ToaError> {
    let mut pos = 0;
    while let Some(&kind) = opts.get(pos) {
        match kind {
            TcpOptionKind::EOL => return Ok(Some(pos)),
            TcpOptionKind::NOP => pos += 1,
            _ => {
                let len = usize::from(*opts.get(pos + 1).ok_or(ToaError::BadOptions)?);
                if len < 2 || pos + len > opts.len() {
                    return Err(ToaError::BadOptions);
                }
                pos += len;
            }
        }
    }
    Ok(None)
}

/// Appends a TOA option carrying `client:client_port` to the TCP segment
/// in `frame` (Ethernet + IPv4 + TCP), moving the payload 8 bytes down.
/// `mtu` is the IP MTU toward the RS. Updates the data offset, the IPv4
/// total length and both checksums incrementally (RFC 1624), so a segment
/// that arrived with a bad checksum still fails at the RS instead of
/// being laundered. Ethernet padding after the IP packet is dropped.
pub fn insert_toa<F: Frame>(
    frame: &mut F,
    client: Ipv4Addr,
    client_port: u16,
    mtu: u16,
) -> Result<(), ToaError> {
    let Layout { tcp, thl, tl } = layout(frame.data())?;
    if thl + TOA_LEN > TCP_MAX_HEADER {
        return Err(ToaError::NoRoom);
    }
    if tl + TOA_LEN > usize::from(mtu) {
        return Err(ToaError::TooBig);
    }
    let eol = find_eol(&frame.data()[tcp + TCP_HEADER..tcp + thl])?;
    // Everything is checked; the only remaining failure is the buffer.
    if !frame.set_len(ETH_LEN + tl + TOA_LEN) {
        return Err(ToaError::NoTailroom);
    }
    let buf = frame.data_mut();
    let opt_end = tcp + thl;
    let seg_end = ETH_LEN + tl;
    let seg_len = tl - (tcp - ETH_LEN);
    let mut csum = u16::from_be_bytes([buf[tcp + 16], buf[tcp + 17]]);

    // EOL and what follows it become NOPs. The sums are taken from an
    // even offset so they line up with the checksum's 16-bit words.
    if let Some(p) = eol {
        let region = (tcp + TCP_HEADER + p) & !1..opt_end;
        let old = checksum::fold(checksum::sum(&buf[region.clone()]));
        buf[tcp + TCP_HEADER + p..opt_end].fill(TcpOptionKind::NOP);
        let new = checksum::fold(checksum::sum(&buf[region]));
        csum = checksum::update_u16(csum, old, new);
    }

    // Move the payload; it shifts by 8 (even), so its word sums stay.
    buf.copy_within(opt_end..seg_end, opt_end + TOA_LEN);
    let [ph, pl] = client_port.to_be_bytes();
    let [a, b, c, d] = client.octets();
    let toa = [TOA_KIND, TOA_LEN as u8, ph, pl, a, b, c, d];
    buf[opt_end..opt_end + TOA_LEN].copy_from_slice(&toa);
    // The option starts at a multiple of 4 in the header: two aligned words.
    csum = checksum::update_u32(csum, 0, u32::from_be_bytes([toa[0], toa[1], ph, pl]));
    csum = checksum::update_u32(csum, 0, u32::from(client));

    // Data offset shares a 16-bit word with the flags.
    let old_w = u16::from_be_bytes([buf[tcp + 12], buf[tcp + 13]]);
    buf[tcp + 12] = (buf[tcp + 12] & 0x0f) | (((thl + TOA_LEN) / 4) as u8) << 4;
    let new_w = u16::from_be_bytes([buf[tcp + 12], buf[tcp + 13]]);
    csum = checksum::update_u16(csum, old_w, new_w);
    // The pseudo header's TCP length grows too. Bounded by the MTU check.
    csum = checksum::update_u16(csum, seg_len as u16, (seg_len + TOA_LEN) as u16);
    buf[tcp + 16..tcp + 18].copy_from_slice(&csum.to_be_bytes());

    let mut ip = Ipv4Packet::new_unchecked(&mut buf[ETH_LEN..]);
    let new_tl = (tl + TOA_LEN) as u16;
    let c = checksum::update_u16(ip.checksum(), tl as u16, new_tl);
    ip.set_total_len(new_tl);
    ip.set_checksum(c);
    Ok(())
}

/// Lowers the MSS option of an RS's SYN-ACK by [`TOA_LEN`] (DPVS
/// `tcp_out_adjust_mss`), so that the client's first data segment still
/// fits the MTU once TOA is added to it. Returns true when the segment
/// changed; other segments, or a SYN-ACK without MSS, are left alone.
pub fn adjust_synack_mss_for_toa<F: Frame>(frame: &mut F) -> Result<bool, ToaError> {
    let Layout { tcp, tl, .. } = layout(frame.data())?;
    let seg = &mut frame.data_mut()[tcp..ETH_LEN + tl];
    let mut tcp = TcpPacket::new_unchecked(seg);
    if !(tcp.syn() && tcp.ack()) {
        return Ok(false);
    }
    match tcp.mss() {
        // An MSS below 8 is nonsense; saturate rather than wrap.
        Some(m) => Ok(tcp.set_mss(m.saturating_sub(TOA_LEN as u16))),
        None => Ok(false),
    }
}

#[cfg(test)]
#[path = "toa_tests.rs"]
mod tests;
