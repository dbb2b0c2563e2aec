//! An ethdev port with one RX/TX queue pair per worker. Each worker gets a
//! `QueuePair` handle (Send, not Clone), so one queue is polled by one thread.
use std::ffi::CString;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::error::DpdkError;
use super::ffi;
use super::mbuf::Mbuf;
use super::{Eal, Mempool};

/// Most frames moved by one rx/tx call.
pub const MAX_BURST: usize = 64;
const RX_DESC: u16 = 1024;
const TX_DESC: u16 = 1024;

/// Numbers every opened port, so a flow handle can tell the port that made it
/// from a later port that happens to reuse the same DPDK port id.
static OPENED: AtomicU64 = AtomicU64::new(0);

pub struct EthPort {
    id: u16,
    name: String,
    queues: u16,
    started: bool,
    /// Unique per open (see `OPENED`).
    serial: u64,
    _pool: Arc<Mempool>,
}

impl EthPort {
    /// Finds the probed device `name` (a vdev name such as `net_af_packet0` or a
    /// PCI address), configures `queues` RX/TX pairs and starts it.
    pub fn open(eal: &Eal, name: &str, queues: u16, pool: Arc<Mempool>) -> Result<Self, DpdkError> {
        Self::open_with_ring(eal, name, queues, pool, RX_DESC, TX_DESC)
    }

    /// As `open`, with `rx_desc`/`tx_desc` descriptors per queue (a device
    /// such as the TAP PMD fills its RX ring with buffers from the pool up front).
    pub fn open_with_ring(
        eal: &Eal,
        name: &str,
        queues: u16,
        pool: Arc<Mempool>,
        rx_desc: u16,
        tx_desc: u16,
    ) -> Result<Self, DpdkError> {
        let cname = CString::new(name).map_err(|_| DpdkError::Invalid {
            call: "rte_eth_dev_get_port_by_name",
            reason: "device name contains NUL".into(),
        })?;
        let mut id = 0u16;
        // SAFETY: valid C string and out-pointer for the duration of the call.
        let ret = unsafe { ffi::rte_eth_dev_get_port_by_name(cname.as_ptr(), &mut id) };
        if ret != 0 {
            return Err(DpdkError::from_ret("rte_eth_dev_get_port_by_name", ret));
        }
        let mut info = ffi::rte_eth_dev_info::default();
        // SAFETY: `id` names a probed port; `info` is a valid out-struct.
        let ret = unsafe { ffi::rte_eth_dev_info_get(id, &mut info) };
        if ret != 0 {
            return Err(DpdkError::from_ret("rte_eth_dev_info_get", ret));
        }
        if queues > info.max_rx_queues || queues > info.max_tx_queues {
            return Err(DpdkError::Invalid {
                call: "rte_eth_dev_configure",
                reason: format!(
                    "{name} supports {} rx / {} tx queues, {queues} workers need one pair each",
                    info.max_rx_queues, info.max_tx_queues
                ),
            });
        }
        let conf = ffi::rte_eth_conf::default();
        // SAFETY: valid port id and a zeroed (default) configuration struct.
        let ret = unsafe { ffi::rte_eth_dev_configure(id, queues, queues, &conf) };
        if ret != 0 {
            return Err(DpdkError::from_ret("rte_eth_dev_configure", ret));
        }
        // SAFETY: plain query of a valid port.
        let socket = unsafe { ffi::rte_eth_dev_socket_id(id) };
        let socket = if socket < 0 { eal.socket_id() } else { socket } as u32;
        for q in 0..queues {
            // SAFETY: configured port, queue index in range, null conf = driver
            // defaults, pool outlives the port (held in `_pool`).
            let ret = unsafe {
                ffi::rte_eth_rx_queue_setup(id, q, rx_desc, socket, ptr::null(), pool.as_ptr())
            };
            if ret != 0 {
                return Err(DpdkError::from_ret("rte_eth_rx_queue_setup", ret));
            }
            // SAFETY: as above for the TX side.
            let ret = unsafe { ffi::rte_eth_tx_queue_setup(id, q, tx_desc, socket, ptr::null()) };
            if ret != 0 {
                return Err(DpdkError::from_ret("rte_eth_tx_queue_setup", ret));
            }
        }
        // SAFETY: fully configured port.
        let ret = unsafe { ffi::rte_eth_dev_start(id) };
        if ret != 0 {
            return Err(DpdkError::from_ret("rte_eth_dev_start", ret));
        }
        // Promiscuous mode is best effort: some vdevs do not implement it, and
        // the pipeline filters on destination MAC anyway.
        // SAFETY: started port.
        let _ = unsafe { ffi::rte_eth_promiscuous_enable(id) };
        Ok(EthPort {
            id,
            name: name.to_owned(),
            queues,
            started: true,
            serial: OPENED.fetch_add(1, Ordering::Relaxed),
            _pool: pool,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub(super) fn id(&self) -> u16 {
        self.id
    }

    pub(super) fn serial(&self) -> u64 {
        self.serial
    }

    pub fn mac(&self) -> Result<[u8; 6], DpdkError> {
        let mut addr = ffi::rte_ether_addr::default();
        // SAFETY: valid port id and out-struct.
        let ret = unsafe { ffi::rte_eth_macaddr_get(self.id, &mut addr) };
        if ret != 0 {
            return Err(DpdkError::from_ret("rte_eth_macaddr_get", ret));
        }
        Ok(addr.addr_bytes)
    }

    /// Whether the link is up, as the driver last saw it (never waits).
    pub fn link_up(&self) -> bool {
        let mut link = ffi::rte_eth_link::default();
        // SAFETY: valid port id and out-struct; the call does not wait.
        let ret = unsafe { ffi::rte_eth_link_get_nowait(self.id, &mut link) };
        // A driver that cannot tell is taken at its word that it works.
        ret != 0 || link.link_status() != 0
    }

    /// The handle for queue pair `q`, to be moved into the worker that owns it.
    pub fn queue_pair(&self, q: u16) -> Option<QueuePair> {
        (q < self.queues).then_some(QueuePair {
            port: self.id,
            queue: q,
        })
    }

    /// Stops the port (workers must have stopped polling it).
    pub fn stop(&mut self) {
        if self.started {
            // SAFETY: valid, started port with no pollers left.
            let _ = unsafe { ffi::rte_eth_dev_stop(self.id) };
            self.started = false;
        }
    }
}

impl Drop for EthPort {
    fn drop(&mut self) {
        // Flow rules die with the port; handles still around cannot reach them
        // any more (their serial no longer names an open port).
        super::flow::flush(self.id);
        self.stop();
        // SAFETY: stopped port; nobody polls it any more.
        let _ = unsafe { ffi::rte_eth_dev_close(self.id) };
    }
}

/// One RX/TX queue pair of a port, owned by exactly one worker thread.
pub struct QueuePair {
    port: u16,
    queue: u16,
}

impl QueuePair {
    /// Receives up to `max` frames into `out` (which must have the capacity).
    #[inline]
    pub fn rx(&mut self, out: &mut Vec<Mbuf>, max: usize) {
        let want = max.min(MAX_BURST).min(out.capacity() - out.len());
        let mut ptrs = [ptr::null_mut::<ffi::rte_mbuf>(); MAX_BURST];
        // SAFETY: `ptrs` has room for `want` pointers; this queue is polled by
        // this thread only (QueuePair is not Clone/Sync).
        let n =
            unsafe { ffi::rte_eth_rx_burst(self.port, self.queue, ptrs.as_mut_ptr(), want as u16) };
        for &p in &ptrs[..n as usize] {
            if let Some(p) = ptr::NonNull::new(p) {
                // SAFETY: the driver handed us these mbufs; each is owned once.
                out.push(unsafe { Mbuf::from_raw(p) });
            }
        }
    }

    /// Sends `frames`; what the NIC took is given up, what it refused is freed
    /// (once, by dropping). Returns the number refused. `frames` ends empty.
    #[inline]
    pub fn tx(&mut self, frames: &mut Vec<Mbuf>) -> usize {
        let mut refused = 0;
        while !frames.is_empty() {
            let n = frames.len().min(MAX_BURST);
            let mut ptrs = [ptr::null_mut::<ffi::rte_mbuf>(); MAX_BURST];
            for (slot, f) in ptrs.iter_mut().zip(frames.iter()) {
                *slot = f.as_raw_ptr();
            }
            // SAFETY: `ptrs[..n]` are valid mbufs we own; the driver takes the
            // first `sent` of them, we keep ownership of the rest.
            let sent = unsafe {
                ffi::rte_eth_tx_burst(self.port, self.queue, ptrs.as_mut_ptr(), n as u16)
            } as usize;
            for (i, f) in frames.drain(..n).enumerate() {
                if i < sent {
                    let _ = f.into_raw();
                } else {
                    refused += 1;
                    drop(f);
                }
            }
        }
        refused
    }
}
