//! Packet-buffer pool shared by all workers (each has a per-lcore cache).
use std::ffi::CString;
use std::ptr::NonNull;

use super::error::DpdkError;
use super::ffi;
use super::mbuf::Mbuf;
use super::Eal;

pub struct Mempool {
    raw: NonNull<ffi::rte_mempool>,
}

// SAFETY: rte_mempool is designed for concurrent use from many lcores; the
// handle is a pointer to shared DPDK state that outlives all users.
unsafe impl Send for Mempool {}
// SAFETY: as above, all mempool operations we call are thread-safe.
unsafe impl Sync for Mempool {}

impl Mempool {
    /// Creates a pktmbuf pool of `count` buffers, `cache` of them cached per lcore.
    pub fn new(
        _eal: &Eal,
        name: &str,
        count: u32,
        cache: u32,
        socket: i32,
    ) -> Result<Self, DpdkError> {
        let cname = CString::new(name).map_err(|_| DpdkError::Invalid {
            call: "rte_pktmbuf_pool_create",
            reason: "pool name contains NUL".into(),
        })?;
        let data_room = ffi::RTE_MBUF_DEFAULT_BUF_SIZE as u16;
        // SAFETY: the EAL is up (`_eal`), `cname` is a valid C string for the call.
        let raw = unsafe {
            ffi::rte_pktmbuf_pool_create(cname.as_ptr(), count, cache, 0, data_room, socket)
        };
        NonNull::new(raw)
            .map(|raw| Mempool { raw })
            .ok_or_else(|| DpdkError::from_errno("rte_pktmbuf_pool_create"))
    }

    pub(super) fn as_ptr(&self) -> *mut ffi::rte_mempool {
        self.raw.as_ptr()
    }

    /// Allocates one buffer; `None` when the pool is exhausted.
    #[inline]
    pub fn alloc(&self) -> Option<Mbuf> {
        // SAFETY: the pool pointer is valid for the pool's lifetime; a non-null
        // result is a fresh mbuf that we now own exactly once.
        let m = unsafe { ffi::rte_pktmbuf_alloc(self.raw.as_ptr()) };
        // SAFETY: `m` comes straight from the allocator and is owned by nobody else.
        NonNull::new(m).map(|p| unsafe { Mbuf::from_raw(p) })
    }

    /// Buffers currently handed out (NIC rings, workers, pending queues).
    pub fn in_use(&self) -> u32 {
        // SAFETY: read-only statistics over a valid pool.
        unsafe { ffi::rte_mempool_in_use_count(self.raw.as_ptr()) }
    }
}
