//! TCP segment view, options walker, checksum with the IPv4 pseudo header.

use std::net::Ipv4Addr;

use super::checksum;
use super::WireError;

/// TCP flag bits, as found in the raw `flags()` byte: one home, the
/// connection tracker's (it also gives IPVS's class of a segment).
pub use conntrack::TcpFlags;

/// TCP option kinds the data plane knows by name.
pub struct TcpOptionKind;

impl TcpOptionKind {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMP: u8 = 8;
}

const PROTO_TCP: u8 = 6;
const HEADER_LEN: usize = 20;

mod field {
    use std::ops::Range;
    pub const SRC_PORT: Range<usize> = 0..2;
    pub const DST_PORT: Range<usize> = 2..4;
    pub const SEQ: Range<usize> = 4..8;
    pub const ACK: Range<usize> = 8..12;
    pub const DATA_OFF: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: Range<usize> = 14..16;
    pub const CHECKSUM: Range<usize> = 16..18;
    pub const URGENT: Range<usize> = 18..20;
}

/// Iterator over `(kind, data)` of TCP options. NOP yields empty data;
/// EOL, a length below 2 or an option running past the end stop the walk
/// (a malformed tail is ignored rather than reported).
#[derive(Debug, Clone)]
pub struct TcpOptions<'a> {
    data: &'a [u8],
    pos: usize,
}

/// One step of the options walk: (kind, data range, next position).
fn next_option(data: &[u8], pos: usize) -> Option<(u8, std::ops::Range<usize>, usize)> {
    let kind = *data.get(pos)?;
    match kind {
        TcpOptionKind::EOL => None,
        TcpOptionKind::NOP => Some((kind, pos + 1..pos + 1, pos + 1)),
        _ => {
            let len = usize::from(*data.get(pos + 1)?);
            if len < 2 || pos + len > data.len() {
                return None;
            }
            Some((kind, pos + 2..pos + len, pos + len))
        }
    }
}

impl<'a> TcpOptions<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        TcpOptions { data, pos: 0 }
    }
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match next_option(self.data, self.pos) {
            Some((kind, r, next)) => {
                self.pos = next;
                Some((kind, &self.data[r]))
            }
            None => {
                self.pos = self.data.len();
                None
            }
        }
    }
}

/// Zero-copy view of a TCP segment. The buffer must be exactly the
/// segment (the IPv4 payload): its length enters the pseudo header.
#[derive(Debug, Clone)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    pub const MIN_HEADER_LEN: usize = HEADER_LEN;

    pub fn new_unchecked(buffer: T) -> Self {
        TcpPacket { buffer }
    }

    /// Checks the fixed header and that the data offset stays within it.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let len = buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated);
        }
        let p = Self::new_unchecked(buffer);
        let hl = p.header_len();
        if hl < HEADER_LEN || hl > len {
            return Err(WireError::BadDataOffset);
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

    fn u32_at(&self, r: std::ops::Range<usize>) -> u32 {
        let b = &self.buffer.as_ref()[r];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    pub fn src_port(&self) -> u16 {
        self.u16_at(field::SRC_PORT)
    }

    pub fn dst_port(&self) -> u16 {
        self.u16_at(field::DST_PORT)
    }

    pub fn seq_number(&self) -> u32 {
        self.u32_at(field::SEQ)
    }

    pub fn ack_number(&self) -> u32 {
        self.u32_at(field::ACK)
    }

    /// Data offset in 32-bit words.
    pub fn data_offset(&self) -> u8 {
        self.buffer.as_ref()[field::DATA_OFF] >> 4
    }

    /// Header length in bytes, options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset()) * 4
    }

    /// Raw flag byte; test with the [`TcpFlags`] constants.
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    pub fn fin(&self) -> bool {
        self.flags() & TcpFlags::FIN != 0
    }

    pub fn syn(&self) -> bool {
        self.flags() & TcpFlags::SYN != 0
    }

    pub fn rst(&self) -> bool {
        self.flags() & TcpFlags::RST != 0
    }

    pub fn psh(&self) -> bool {
        self.flags() & TcpFlags::PSH != 0
    }

    pub fn ack(&self) -> bool {
        self.flags() & TcpFlags::ACK != 0
    }

    pub fn urg(&self) -> bool {
        self.flags() & TcpFlags::URG != 0
    }

    pub fn window(&self) -> u16 {
        self.u16_at(field::WINDOW)
    }

    pub fn checksum(&self) -> u16 {
        self.u16_at(field::CHECKSUM)
    }

    pub fn urgent_ptr(&self) -> u16 {
        self.u16_at(field::URGENT)
    }

    /// Header length clamped to the buffer, so slicing never panics even
    /// after `set_data_offset` wrote something inconsistent.
    fn clamped_header_len(&self) -> usize {
        let len = self.buffer.as_ref().len();
        self.header_len().clamp(HEADER_LEN.min(len), len)
    }

    pub fn options(&self) -> &[u8] {
        let hl = self.clamped_header_len();
        &self.buffer.as_ref()[HEADER_LEN.min(hl)..hl]
    }

    pub fn options_iter(&self) -> TcpOptions<'_> {
        TcpOptions::new(self.options())
    }

    /// The MSS option value, if a well-formed one is present.
    pub fn mss(&self) -> Option<u16> {
        self.options_iter()
            .find(|&(k, d)| k == TcpOptionKind::MSS && d.len() == 2)
            .map(|(_, d)| u16::from_be_bytes([d[0], d[1]]))
    }

    pub fn payload(&self) -> &[u8] {
        let hl = self.clamped_header_len();
        &self.buffer.as_ref()[hl..]
    }

    /// Partial sum of pseudo header plus segment.
    fn full_sum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> u32 {
        let b = self.buffer.as_ref();
        // An IPv4 payload never exceeds u16; truncation cannot happen.
        let pseudo = checksum::pseudo_header_sum(src, dst, PROTO_TCP, b.len() as u16);
        checksum::combine(pseudo, checksum::sum(b))
    }

    /// True when the checksum over pseudo header and segment is correct.
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        checksum::fold(self.full_sum(src, dst)) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    fn set_u16_at(&mut self, r: std::ops::Range<usize>, v: u16) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    fn set_u32_at(&mut self, r: std::ops::Range<usize>, v: u32) {
        self.buffer.as_mut()[r].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_src_port(&mut self, v: u16) {
        self.set_u16_at(field::SRC_PORT, v);
    }

    pub fn set_dst_port(&mut self, v: u16) {
        self.set_u16_at(field::DST_PORT, v);
    }

    pub fn set_seq_number(&mut self, v: u32) {
        self.set_u32_at(field::SEQ, v);
    }

    pub fn set_ack_number(&mut self, v: u32) {
        self.set_u32_at(field::ACK, v);
    }

    /// Sets the data offset in 32-bit words (keeps the reserved/NS bits).
    pub fn set_data_offset(&mut self, words: u8) {
        let b = &mut self.buffer.as_mut()[field::DATA_OFF];
        *b = (*b & 0x0f) | (words << 4);
    }

    pub fn set_flags(&mut self, flags: u8) {
        self.buffer.as_mut()[field::FLAGS] = flags;
    }

    pub fn set_window(&mut self, v: u16) {
        self.set_u16_at(field::WINDOW, v);
    }

    pub fn set_checksum(&mut self, v: u16) {
        self.set_u16_at(field::CHECKSUM, v);
    }

    pub fn set_urgent_ptr(&mut self, v: u16) {
        self.set_u16_at(field::URGENT, v);
    }

    pub fn options_mut(&mut self) -> &mut [u8] {
        let hl = self.clamped_header_len();
        &mut self.buffer.as_mut()[HEADER_LEN.min(hl)..hl]
    }

    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = self.clamped_header_len();
        &mut self.buffer.as_mut()[hl..]
    }

    /// Recomputes the checksum from scratch.
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let c = !checksum::fold(self.full_sum(src, dst));
        self.set_checksum(c);
    }

    /// Rewrites the source port, patching the checksum (RFC 1624).
    pub fn rewrite_src_port(&mut self, v: u16) {
        let c = checksum::update_u16(self.checksum(), self.src_port(), v);
        self.set_src_port(v);
        self.set_checksum(c);
    }

    /// Rewrites the destination port, patching the checksum.
    pub fn rewrite_dst_port(&mut self, v: u16) {
        let c = checksum::update_u16(self.checksum(), self.dst_port(), v);
        self.set_dst_port(v);
        self.set_checksum(c);
    }

    /// Rewrites the sequence number (SYN proxy / FullNAT seq offset).
    pub fn rewrite_seq_number(&mut self, v: u32) {
        let c = checksum::update_u32(self.checksum(), self.seq_number(), v);
        self.set_seq_number(v);
        self.set_checksum(c);
    }

    /// Rewrites the acknowledgment number, patching the checksum.
    pub fn rewrite_ack_number(&mut self, v: u32) {
        let c = checksum::update_u32(self.checksum(), self.ack_number(), v);
        self.set_ack_number(v);
        self.set_checksum(c);
    }

    /// Patches the checksum after the IPv4 header's source or destination
    /// changed from `old` to `new` (the pseudo header covers both).
    pub fn update_checksum_addr(&mut self, old: Ipv4Addr, new: Ipv4Addr) {
        let c = checksum::update_addr(self.checksum(), old, new);
        self.set_checksum(c);
    }

    /// Overwrites the value of the first MSS option and patches the
    /// checksum. Returns false when the segment carries no MSS option.
    pub fn set_mss(&mut self, mss: u16) -> bool {
        let opts = self.options();
        let mut pos = 0;
        let mut found = None;
        while let Some((kind, r, next)) = next_option(opts, pos) {
            if kind == TcpOptionKind::MSS && r.len() == 2 {
                found = Some(r.start);
                break;
            }
            pos = next;
        }
        let Some(at) = found else { return false };
        let old = u16::from_be_bytes([opts[at], opts[at + 1]]);
        let off = HEADER_LEN + at;
        // The option may sit at an odd offset after a single NOP.
        let c = checksum::update_u16_at(self.checksum(), off, old, mss);
        self.buffer.as_mut()[off..off + 2].copy_from_slice(&mss.to_be_bytes());
        self.set_checksum(c);
        true
    }

    /// Lowers the MSS option to `max` if larger (MSS clamping for tunnels).
    /// Returns true when the segment was changed.
    pub fn clamp_mss(&mut self, max: u16) -> bool {
        match self.mss() {
            Some(m) if m > max => self.set_mss(max),
            _ => false,
        }
    }
}

#[cfg(test)]
#[path = "tcp_tests.rs"]
mod tests;
