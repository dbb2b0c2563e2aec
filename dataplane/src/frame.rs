//! The one abstraction the packet path needs from a buffer: its bytes, and
//! room to grow or shrink at either end. DPDK mbufs implement it in the
//! binary; `VecFrame` implements it for replay and tests.

/// A single-segment packet buffer owned by the pipeline while it is processed.
/// Dropping a frame releases it (for an mbuf: back to its pool, exactly once).
pub trait Frame {
    fn data(&self) -> &[u8];
    fn data_mut(&mut self) -> &mut [u8];
    /// Grows the frame at the front by `n` bytes (from headroom); false if no room.
    fn prepend(&mut self, n: usize) -> bool;
    /// Removes `n` bytes from the front; false if the frame is shorter.
    fn adj(&mut self, n: usize) -> bool;
    /// Grows the frame at the end by `n` bytes (from tailroom); false if no room.
    fn append(&mut self, n: usize) -> bool;
    /// Removes `n` bytes from the end; false if the frame is shorter.
    fn trim(&mut self, n: usize) -> bool;
    /// Sets the length to `len` (shrinking or growing at the end).
    fn set_len(&mut self, len: usize) -> bool {
        let cur = self.data().len();
        if len >= cur {
            self.append(len - cur)
        } else {
            self.trim(cur - len)
        }
    }
    fn len(&self) -> usize {
        self.data().len()
    }
    fn is_empty(&self) -> bool {
        self.data().is_empty()
    }
}

/// Headroom reserved in front of a `VecFrame`, like DPDK's RTE_PKTMBUF_HEADROOM.
pub const HEADROOM: usize = 128;
/// Total buffer size of a `VecFrame`, like a default mbuf data room.
pub const BUF_SIZE: usize = 2048 + HEADROOM;

/// A heap buffer with mbuf-like headroom and tailroom.
#[derive(Clone, Debug)]
pub struct VecFrame {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl VecFrame {
    /// An empty frame with the standard headroom.
    pub fn empty() -> Self {
        VecFrame {
            buf: vec![0u8; BUF_SIZE].into_boxed_slice(),
            start: HEADROOM,
            end: HEADROOM,
        }
    }

    /// A frame holding `bytes` after the standard headroom (longer inputs get a bigger buffer).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let size = BUF_SIZE.max(HEADROOM + bytes.len());
        let mut buf = vec![0u8; size].into_boxed_slice();
        buf[HEADROOM..HEADROOM + bytes.len()].copy_from_slice(bytes);
        VecFrame {
            buf,
            start: HEADROOM,
            end: HEADROOM + bytes.len(),
        }
    }
}

impl Frame for VecFrame {
    fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }
    fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.end]
    }
    fn prepend(&mut self, n: usize) -> bool {
        if n > self.start {
            return false;
        }
        self.start -= n;
        true
    }
    fn adj(&mut self, n: usize) -> bool {
        if n > self.end - self.start {
            return false;
        }
        self.start += n;
        true
    }
    fn append(&mut self, n: usize) -> bool {
        if n > self.buf.len() - self.end {
            return false;
        }
        self.end += n;
        true
    }
    fn trim(&mut self, n: usize) -> bool {
        if n > self.end - self.start {
            return false;
        }
        self.end -= n;
        true
    }
}
