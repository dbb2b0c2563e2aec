//! Minimal classic libpcap file reader and writer (no dependencies).
//!
//! Used by replay tests and tooling, never on the per-packet path, so it
//! allocates one `Vec` per record. Only Ethernet (linktype 1) captures
//! are accepted because the pipeline parses from the Ethernet header.

use std::io::{self, Read, Write};

const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
const LINKTYPE_ETHERNET: u32 = 1;
const WRITER_SNAPLEN: u32 = 65_535;
/// Upper bound on a record, so a corrupt length cannot make us allocate
/// gigabytes (libpcap itself caps at 256 KiB).
pub const MAX_RECORD_LEN: u32 = 262_144;

#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    #[error("pcap I/O error: {0}")]
    Io(#[from] io::Error),
    #[error("not a pcap file (magic {0:#010x})")]
    BadMagic(u32),
    #[error("unsupported pcap link type {0} (only 1, Ethernet)")]
    UnsupportedLinkType(u32),
    #[error("pcap file ends inside a header or record")]
    Truncated,
    #[error("pcap record of {0} bytes exceeds the {MAX_RECORD_LEN} byte limit")]
    RecordTooLarge(u32),
}

/// One captured packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcapRecord {
    /// Capture time in nanoseconds since the Unix epoch.
    pub ts_nanos: u64,
    /// Captured bytes (possibly cut at the snap length).
    pub data: Vec<u8>,
    /// Length of the packet on the wire.
    pub orig_len: u32,
}

/// Reads records from a classic pcap stream of either byte order and
/// either timestamp resolution.
#[derive(Debug)]
pub struct PcapReader<R: Read> {
    inner: R,
    swapped: bool,
    nanos: bool,
    snaplen: u32,
}

/// Fills `buf` completely. Ok(false) on a clean EOF before the first
/// byte; a partial fill is `Truncated`.
fn read_full<R: Read>(r: &mut R, buf: &mut [u8]) -> Result<bool, PcapError> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(PcapError::Truncated),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

impl<R: Read> PcapReader<R> {
    /// Reads and validates the 24-byte global header.
    pub fn new(mut inner: R) -> Result<Self, PcapError> {
        let mut h = [0u8; 24];
        if !read_full(&mut inner, &mut h)? {
            return Err(PcapError::Truncated);
        }
        let le = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        // The magic is written in the writer's byte order; reading it as
        // little endian tells us whether the rest needs swapping.
        let (swapped, nanos) = match le {
            MAGIC_MICROS => (false, false),
            MAGIC_NANOS => (false, true),
            m if m.swap_bytes() == MAGIC_MICROS => (true, false),
            m if m.swap_bytes() == MAGIC_NANOS => (true, true),
            m => return Err(PcapError::BadMagic(m)),
        };
        let mut r = PcapReader {
            inner,
            swapped,
            nanos,
            snaplen: 0,
        };
        r.snaplen = r.u32_at(&h, 16);
        let linktype = r.u32_at(&h, 20);
        if linktype != LINKTYPE_ETHERNET {
            return Err(PcapError::UnsupportedLinkType(linktype));
        }
        Ok(r)
    }

    fn u32_at(&self, b: &[u8], at: usize) -> u32 {
        let v = u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        if self.swapped {
            v.swap_bytes()
        } else {
            v
        }
    }

    pub fn snaplen(&self) -> u32 {
        self.snaplen
    }

    /// True for the nanosecond-resolution variant.
    pub fn is_nanos(&self) -> bool {
        self.nanos
    }

    /// Next record, or `None` at a clean end of file.
    pub fn next_record(&mut self) -> Result<Option<PcapRecord>, PcapError> {
        let mut h = [0u8; 16];
        if !read_full(&mut self.inner, &mut h)? {
            return Ok(None);
        }
        let sec = u64::from(self.u32_at(&h, 0));
        let frac = u64::from(self.u32_at(&h, 4));
        let incl_len = self.u32_at(&h, 8);
        let orig_len = self.u32_at(&h, 12);
        if incl_len > MAX_RECORD_LEN {
            return Err(PcapError::RecordTooLarge(incl_len));
        }
        let mut data = vec![0u8; incl_len as usize];
        if !read_full(&mut self.inner, &mut data)? && incl_len > 0 {
            return Err(PcapError::Truncated);
        }
        let frac_nanos = if self.nanos { frac } else { frac * 1_000 };
        Ok(Some(PcapRecord {
            ts_nanos: sec * 1_000_000_000 + frac_nanos,
            data,
            orig_len,
        }))
    }

    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Iterator for PcapReader<R> {
    type Item = Result<PcapRecord, PcapError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// Writes a little-endian, microsecond-resolution Ethernet capture.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    inner: W,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header (v2.4, snaplen 65535, linktype 1).
    pub fn new(mut inner: W) -> Result<Self, PcapError> {
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&MAGIC_MICROS.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs (8..16) stay zero, as every writer does.
        h[16..20].copy_from_slice(&WRITER_SNAPLEN.to_le_bytes());
        h[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        inner.write_all(&h)?;
        Ok(PcapWriter { inner })
    }

    /// Writes one packet; bytes past the snap length are cut, and the
    /// timestamp is truncated to microseconds.
    pub fn write(&mut self, ts_nanos: u64, data: &[u8]) -> Result<(), PcapError> {
        let orig_len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let incl = &data[..data.len().min(WRITER_SNAPLEN as usize)];
        // Seconds wrap in 2106, when the classic format itself runs out.
        let sec = (ts_nanos / 1_000_000_000) as u32;
        let usec = ((ts_nanos % 1_000_000_000) / 1_000) as u32;
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&sec.to_le_bytes());
        h[4..8].copy_from_slice(&usec.to_le_bytes());
        h[8..12].copy_from_slice(&(incl.len() as u32).to_le_bytes());
        h[12..16].copy_from_slice(&orig_len.to_le_bytes());
        self.inner.write_all(&h)?;
        self.inner.write_all(incl)?;
        Ok(())
    }

    pub fn flush(&mut self) -> Result<(), PcapError> {
        self.inner.flush()?;
        Ok(())
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn global_header(magic: u32, linktype: u32, big_endian: bool) -> Vec<u8> {
        let words = [magic, 0x0004_0002, 0, 0, 65535, linktype];
        let mut v = Vec::new();
        for (i, w) in words.iter().enumerate() {
            // Version is two u16 fields: major 2 then minor 4.
            let bytes = if i == 1 {
                let (maj, min) = (2u16, 4u16);
                if big_endian {
                    [maj.to_be_bytes(), min.to_be_bytes()].concat()
                } else {
                    [maj.to_le_bytes(), min.to_le_bytes()].concat()
                }
            } else if big_endian {
                w.to_be_bytes().to_vec()
            } else {
                w.to_le_bytes().to_vec()
            };
            v.extend_from_slice(&bytes);
        }
        v
    }

    fn record(v: &mut Vec<u8>, be: bool, fields: [u32; 4], data: &[u8]) {
        for f in fields {
            v.extend_from_slice(&if be { f.to_be_bytes() } else { f.to_le_bytes() });
        }
        v.extend_from_slice(data);
    }

    #[test]
    fn write_read_round_trip() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        let pkts: [(u64, Vec<u8>); 3] = [
            (1_700_000_000_123_456_789, vec![1; 60]),
            (5, vec![]),
            (2_000_000_000, vec![7; 1514]),
        ];
        for (ts, d) in &pkts {
            w.write(*ts, d).unwrap();
        }
        w.flush().unwrap();
        let bytes = w.into_inner();
        assert_eq!(bytes.len(), 24 + 3 * 16 + 60 + 1514);
        let r = PcapReader::new(Cursor::new(bytes)).unwrap();
        assert_eq!((r.snaplen(), r.is_nanos()), (65535, false));
        let recs: Vec<_> = r.collect::<Result<_, _>>().unwrap();
        assert_eq!(recs.len(), 3);
        for (rec, (ts, d)) in recs.iter().zip(&pkts) {
            assert_eq!(rec.ts_nanos, ts / 1000 * 1000);
            assert_eq!(&rec.data, d);
            assert_eq!(rec.orig_len as usize, d.len());
        }
    }

    #[test]
    fn snaplen_cuts_oversized() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        w.write(0, &vec![3; 70_000]).unwrap();
        let rec = PcapReader::new(Cursor::new(w.into_inner()))
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!((rec.data.len(), rec.orig_len), (65_535, 70_000));
    }

    #[test]
    fn all_magics_and_byte_orders() {
        for (magic, nanos) in [(MAGIC_MICROS, false), (MAGIC_NANOS, true)] {
            for be in [false, true] {
                let mut f = global_header(magic, 1, be);
                record(&mut f, be, [10, 20, 3, 4], &[0xaa, 0xbb, 0xcc]);
                let mut r = PcapReader::new(&f[..]).unwrap();
                assert_eq!((r.is_nanos(), r.snaplen()), (nanos, 65535));
                let rec = r.next_record().unwrap().unwrap();
                let frac = if nanos { 20 } else { 20_000 };
                assert_eq!(rec.ts_nanos, 10_000_000_000 + frac);
                assert_eq!(
                    (rec.data.as_slice(), rec.orig_len),
                    (&[0xaa, 0xbb, 0xcc][..], 4)
                );
                assert!(r.next_record().unwrap().is_none());
            }
        }
    }

    #[test]
    fn errors() {
        assert!(matches!(
            PcapReader::new(&[][..]),
            Err(PcapError::Truncated)
        ));
        assert!(matches!(
            PcapReader::new(&[0xd4, 0xc3][..]),
            Err(PcapError::Truncated)
        ));
        let f = global_header(0x0a0d_0d0a, 1, false); // pcapng
        assert!(matches!(
            PcapReader::new(&f[..]),
            Err(PcapError::BadMagic(0x0a0d_0d0a))
        ));
        let f = global_header(MAGIC_MICROS, 113, true); // Linux cooked
        assert!(matches!(
            PcapReader::new(&f[..]),
            Err(PcapError::UnsupportedLinkType(113))
        ));

        let mut f = global_header(MAGIC_MICROS, 1, false);
        record(&mut f, false, [0, 0, 10, 10], &[1; 4]);
        let mut r = PcapReader::new(&f[..]).unwrap();
        assert!(matches!(r.next_record(), Err(PcapError::Truncated)));

        let mut f = global_header(MAGIC_MICROS, 1, false);
        f.extend_from_slice(&[0; 7]); // half a record header
        assert!(matches!(
            PcapReader::new(&f[..]).unwrap().next_record(),
            Err(PcapError::Truncated)
        ));

        let mut f = global_header(MAGIC_MICROS, 1, false);
        record(&mut f, false, [0, 0, u32::MAX, 0], &[]);
        let err = PcapReader::new(&f[..]).unwrap().next_record().unwrap_err();
        assert!(matches!(err, PcapError::RecordTooLarge(u32::MAX)));
        assert!(!err.to_string().is_empty());
    }
}
