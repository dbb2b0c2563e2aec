//! An owned, single-segment `rte_mbuf`. Ownership is the Rust value: dropping
//! an `Mbuf` frees it once; handing it to the NIC (`into_raw`) gives it up.
use std::ptr::NonNull;

use dataplane::Frame;

use super::ffi;

pub struct Mbuf {
    raw: NonNull<ffi::rte_mbuf>,
}

// SAFETY: an mbuf is plain memory owned by exactly one `Mbuf` value at a time;
// moving it to another thread moves that ownership (free works from any lcore).
unsafe impl Send for Mbuf {}

impl Mbuf {
    /// Takes ownership of a raw mbuf.
    // SAFETY: callers guarantee `raw` is a valid mbuf that no one else owns
    // or will free (the allocator's or the driver's fresh buffer).
    pub(super) unsafe fn from_raw(raw: NonNull<ffi::rte_mbuf>) -> Mbuf {
        Mbuf { raw }
    }

    /// Gives up ownership (the NIC took it).
    pub(super) fn into_raw(self) -> *mut ffi::rte_mbuf {
        let p = self.raw.as_ptr();
        std::mem::forget(self);
        p
    }

    /// The raw pointer, for building a tx burst; ownership stays with `self`.
    pub(super) fn as_raw_ptr(&self) -> *mut ffi::rte_mbuf {
        self.raw.as_ptr()
    }

    #[inline]
    fn m(&self) -> &ffi::rte_mbuf {
        // SAFETY: we own a valid mbuf for as long as `self` lives.
        unsafe { self.raw.as_ref() }
    }

    /// Whether the packet spans more than one segment (we only process one).
    /// Reads `nb_segs`, in the mbuf's first cache line (the one rx already
    /// touched), not `next`, which sits in the second.
    pub fn is_chained(&self) -> bool {
        self.m().nb_segs > 1
    }
}

impl Drop for Mbuf {
    fn drop(&mut self) {
        // SAFETY: we own the mbuf (never handed to the NIC: `into_raw` forgets),
        // so this is the one and only free.
        unsafe { ffi::rte_pktmbuf_free(self.raw.as_ptr()) }
    }
}

impl Frame for Mbuf {
    #[inline]
    fn data(&self) -> &[u8] {
        let m = self.m();
        // SAFETY: buf_addr + data_off .. + data_len lies inside the mbuf's data
        // room (DPDK invariant), and we hold the only reference to it.
        unsafe {
            std::slice::from_raw_parts(
                (m.buf_addr as *const u8).add(m.data_off as usize),
                m.data_len as usize,
            )
        }
    }

    #[inline]
    fn data_mut(&mut self) -> &mut [u8] {
        let m = self.m();
        let (addr, off, len) = (
            m.buf_addr as *mut u8,
            m.data_off as usize,
            m.data_len as usize,
        );
        // SAFETY: same region as `data`, borrowed mutably through `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(addr.add(off), len) }
    }

    fn prepend(&mut self, n: usize) -> bool {
        let Ok(n) = u16::try_from(n) else {
            return false;
        };
        // SAFETY: valid owned mbuf; returns null (and changes nothing) without headroom.
        !unsafe { ffi::rte_pktmbuf_prepend(self.raw.as_ptr(), n) }.is_null()
    }

    fn adj(&mut self, n: usize) -> bool {
        let Ok(n) = u16::try_from(n) else {
            return false;
        };
        // SAFETY: valid owned mbuf; returns null (and changes nothing) if too short.
        !unsafe { ffi::rte_pktmbuf_adj(self.raw.as_ptr(), n) }.is_null()
    }

    fn append(&mut self, n: usize) -> bool {
        let Ok(n) = u16::try_from(n) else {
            return false;
        };
        // SAFETY: valid owned mbuf; returns null (and changes nothing) without tailroom.
        !unsafe { ffi::rte_pktmbuf_append(self.raw.as_ptr(), n) }.is_null()
    }

    fn trim(&mut self, n: usize) -> bool {
        let Ok(n) = u16::try_from(n) else {
            return false;
        };
        // SAFETY: valid owned mbuf; returns -1 (and changes nothing) if too short.
        unsafe { ffi::rte_pktmbuf_trim(self.raw.as_ptr(), n) == 0 }
    }
}
