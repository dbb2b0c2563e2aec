//! Connection sync between the workers and the sync thread, never waiting:
//! each worker puts the connections it must send on its own bounded ring,
//! and takes the connections a master sent, which the sync thread routes to
//! the worker that owns them. A full ring is counted, not waited on.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use connsync::{SyncConn, SyncPolicy};
use crossbeam::queue::ArrayQueue;

/// Connections each ring holds: about 2 s of a busy core's sync traffic at
/// the kernel's 3rd/50th-packet rule.
pub const SYNC_RING: usize = 8192;

pub struct SyncRings {
    out: Box<[ArrayQueue<SyncConn>]>,
    install: Box<[ArrayQueue<SyncConn>]>,
    out_dropped: Box<[AtomicU64]>,
    install_dropped: Box<[AtomicU64]>,
    /// The master daemon runs: workers put their connections on `out`.
    sending: AtomicBool,
    /// When a connection is sent (the kernel's sync_threshold).
    pub policy: SyncPolicy,
}

impl SyncRings {
    pub fn new(workers: usize, policy: SyncPolicy) -> SyncRings {
        let n = workers.max(1);
        SyncRings {
            out: (0..n).map(|_| ArrayQueue::new(SYNC_RING)).collect(),
            install: (0..n).map(|_| ArrayQueue::new(SYNC_RING)).collect(),
            out_dropped: (0..n).map(|_| AtomicU64::new(0)).collect(),
            install_dropped: (0..n).map(|_| AtomicU64::new(0)).collect(),
            sending: AtomicBool::new(false),
            policy,
        }
    }

    pub fn workers(&self) -> usize {
        self.out.len()
    }

    /// Sync thread: whether workers queue their connections for sending.
    pub fn set_sending(&self, on: bool) {
        self.sending.store(on, Ordering::Relaxed);
    }

    #[inline]
    pub fn sending(&self) -> bool {
        self.sending.load(Ordering::Relaxed)
    }

    /// Worker `core`: a connection to send; counted when the ring is full.
    pub fn emit(&self, core: usize, c: SyncConn) {
        if let Some(q) = self.out.get(core) {
            if q.push(c).is_err() {
                if let Some(d) = self.out_dropped.get(core) {
                    d.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// Sync thread: every connection worker `core` queued so far.
    pub fn drain_out(&self, core: usize, mut f: impl FnMut(SyncConn)) {
        if let Some(q) = self.out.get(core) {
            while let Some(c) = q.pop() {
                f(c);
            }
        }
    }

    /// Sync thread: a received connection for worker `core`; false (and
    /// counted) when its ring is full.
    pub fn install(&self, core: usize, c: SyncConn) -> bool {
        let ok = self.install.get(core).is_some_and(|q| q.push(c).is_ok());
        if !ok {
            if let Some(d) = self.install_dropped.get(core) {
                d.fetch_add(1, Ordering::Relaxed);
            }
        }
        ok
    }

    /// Worker `core`: the next received connection to install.
    #[inline]
    pub fn take_install(&self, core: usize) -> Option<SyncConn> {
        self.install.get(core)?.pop()
    }

    /// Connections lost to full rings: (to send, to install).
    pub fn dropped(&self) -> (u64, u64) {
        let sum = |v: &[AtomicU64]| v.iter().map(|d| d.load(Ordering::Relaxed)).sum();
        (sum(&self.out_dropped), sum(&self.install_dropped))
    }
}
