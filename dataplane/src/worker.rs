//! The poll loop of one core, generic over where frames come from: DPDK
//! queues live, a pcap file in replay. Bursts in, pipeline, bursts out.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use conntrack::Millis;

use crate::fabric::Fabric;
use crate::frame::Frame;
use crate::pipeline::{Output, Pipeline};
use crate::shared::CoreShared;
use crate::snapshot::SnapshotCell;
use crate::stats::DropReason;

/// The I/O a worker needs: per-port receive and transmit, and buffers.
pub trait PortIo {
    type F: Frame;
    /// Appends up to `max` received frames of `port` to `out`.
    fn rx(&mut self, port: usize, out: &mut Vec<Self::F>, max: usize);
    /// Sends `frames` (leaving it empty); returns how many the device refused
    /// (those were released).
    fn tx(&mut self, port: usize, frames: &mut Vec<Self::F>) -> usize;
    fn alloc(&mut self) -> Option<Self::F>;
    /// Hands a frame received on `port` to its kernel twin without blocking;
    /// gives it back when that is impossible (ring full).
    fn to_host(&mut self, port: usize, frame: Self::F) -> Result<(), Self::F>;
    /// Appends up to `max` frames the kernel twin of `port` sent, to be
    /// transmitted unchanged (none where this worker does not carry them).
    #[inline]
    fn take_from_host(&mut self, _port: usize, _out: &mut Vec<Self::F>, _max: usize) {}
}

pub struct Worker<Io: PortIo> {
    pub pipeline: Pipeline<Io::F>,
    io: Io,
    nports: usize,
    burst: usize,
    rx_buf: Vec<Io::F>,
    tx_bufs: Vec<Vec<Io::F>>,
    last_housekeeping: Millis,
    generation: u64,
    fabric: Option<Arc<Fabric<Io::F>>>,
    shared: Option<Arc<CoreShared>>,
    /// Redirected frames taken from other cores, awaiting processing.
    inbox: Vec<(usize, Io::F)>,
}

/// Collects a burst's output per port; flushes early when a queue fills.
struct Batch<'a, Io: PortIo> {
    io: &'a mut Io,
    tx: &'a mut [Vec<Io::F>],
    refused: usize,
    fabric: Option<&'a Fabric<Io::F>>,
    core: usize,
}

impl<Io: PortIo> Output<Io::F> for Batch<'_, Io> {
    #[inline]
    fn send(&mut self, port: usize, frame: Io::F) {
        let Some(q) = self.tx.get_mut(port) else {
            self.refused += 1;
            return;
        };
        if q.len() == q.capacity() {
            self.refused += self.io.tx(port, q);
        }
        q.push(frame);
    }
    fn alloc(&mut self) -> Option<Io::F> {
        self.io.alloc()
    }
    #[inline]
    fn redirect(&mut self, core: usize, port: usize, frame: Io::F) -> Result<(), Io::F> {
        match self.fabric {
            Some(f) if core != self.core => f.redirect(self.core, core, port, frame),
            _ => Err(frame),
        }
    }
    #[inline]
    fn to_host(&mut self, port: usize, frame: Io::F) -> Result<(), Io::F> {
        self.io.to_host(port, frame)
    }
}

impl<Io: PortIo> Worker<Io> {
    pub fn new(pipeline: Pipeline<Io::F>, io: Io, burst: usize) -> Self {
        let nports = pipeline.snapshot().ports.len();
        let generation = pipeline.snapshot().generation;
        Worker {
            pipeline,
            io,
            nports,
            burst,
            rx_buf: Vec::with_capacity(burst),
            tx_bufs: (0..nports).map(|_| Vec::with_capacity(burst * 2)).collect(),
            last_housekeeping: 0,
            generation,
            fabric: None,
            shared: None,
            inbox: Vec::with_capacity(burst),
        }
    }

    /// Shows this worker's state to the control plane.
    pub fn with_shared(mut self, shared: Arc<CoreShared>) -> Self {
        shared.applied.store(self.generation, Ordering::Release);
        shared.publish_services(self.pipeline.service_counters());
        self.shared = Some(shared);
        self
    }

    /// Joins this worker to the other cores: connection ownership, redirect
    /// rings and neighbour announcements.
    pub fn with_fabric(mut self, fabric: Arc<Fabric<Io::F>>) -> Self {
        self.fabric = Some(fabric);
        self
    }

    pub fn io_mut(&mut self) -> &mut Io {
        &mut self.io
    }

    /// One pass over every port: receive a burst, process it, send. Returns
    /// the number of frames received.
    pub fn poll_once(&mut self, now: Millis) -> usize {
        let mut received = 0;
        let core = self.pipeline.core();
        // Expiry first, so what timed out by `now` is gone before this burst
        // (the lookups also check deadlines, whatever the wheel's progress).
        if now != self.last_housekeeping {
            self.last_housekeeping = now;
            self.pipeline.housekeeping(now);
            if let Some(sh) = &self.shared {
                sh.serve(self.pipeline.conns(), self.pipeline.templates(), now);
                sh.polled_at.store(now, Ordering::Relaxed);
            }
            let mut batch = Batch {
                io: &mut self.io,
                tx: &mut self.tx_bufs,
                refused: 0,
                fabric: None,
                core,
            };
            self.pipeline.vrrp_tick(&mut batch);
            self.pipeline.sync_tick(now);
            let refused = batch.refused;
            self.count_refused(refused);
        }
        // Taken out for the call (no refcount traffic per poll), then put back.
        if let Some(fabric) = self.fabric.take() {
            received += self.poll_fabric(&fabric, core, now);
            self.fabric = Some(fabric);
        }
        for port in 0..self.nports {
            self.io.rx(port, &mut self.rx_buf, self.burst);
            received += self.rx_buf.len();
            let fabric = self.fabric.as_deref();
            let mut batch = Batch {
                io: &mut self.io,
                tx: &mut self.tx_bufs,
                refused: 0,
                fabric,
                core,
            };
            self.pipeline.prefetch_burst(&self.rx_buf);
            for frame in self.rx_buf.drain(..) {
                self.pipeline.process(frame, port, now, &mut batch);
            }
            let refused = batch.refused;
            self.count_refused(refused);
            // The kernel twin's frames leave in the same transmit burst.
            if let Some(q) = self.tx_bufs.get_mut(port) {
                let room = q.capacity() - q.len();
                self.io.take_from_host(port, q, room);
            }
            self.flush();
        }
        if let Some(fabric) = &self.fabric {
            for u in self.pipeline.take_learned() {
                fabric.announce(core, u);
            }
        }
        received
    }

    /// Neighbours other cores learned, then frames they redirected to us.
    fn poll_fabric(&mut self, fabric: &Fabric<Io::F>, core: usize, now: Millis) -> usize {
        let mut batch = Batch {
            io: &mut self.io,
            tx: &mut self.tx_bufs,
            refused: 0,
            fabric: Some(fabric),
            core,
        };
        if let Some(q) = fabric.announcements(core) {
            while let Some(u) = q.pop() {
                self.pipeline.neighbor_announced(u, now, &mut batch);
            }
        }
        let inbox = &mut self.inbox;
        let n = fabric.receive(core, self.burst, |port, f| inbox.push((port, f)));
        for (port, frame) in self.inbox.drain(..) {
            self.pipeline.process(frame, port, now, &mut batch);
        }
        let refused = batch.refused;
        self.count_refused(refused);
        self.flush();
        n
    }

    fn flush(&mut self) {
        let mut refused = 0;
        for (port, q) in self.tx_bufs.iter_mut().enumerate() {
            if !q.is_empty() {
                refused += self.io.tx(port, q);
            }
        }
        self.count_refused(refused);
    }

    fn count_refused(&self, n: usize) {
        if n > 0 {
            let s = self.pipeline.stats();
            s.drops[DropReason::TxRefused as usize].add(n as u64);
        }
    }

    /// Applies a new snapshot whole, or refuses it whole and says so to the
    /// control side, which then puts every core back on the previous one.
    fn take_snapshot(&mut self, snap: Arc<crate::snapshot::Snapshot>) {
        let g = snap.generation;
        match self.pipeline.apply(snap) {
            Ok(()) => {
                if let Some(sh) = &self.shared {
                    sh.publish_services(self.pipeline.service_counters());
                    sh.applied.store(g, Ordering::Release);
                }
            }
            Err(e) => {
                tracing::error!(generation = g, error = %e, "snapshot refused by worker; keeping the previous one");
                if let Some(sh) = &self.shared {
                    sh.refuse(g, e.to_string());
                }
            }
        }
    }

    /// Polls until `stop` is set, picking up new snapshots between bursts.
    pub fn run(&mut self, stop: &AtomicBool, cell: &SnapshotCell, clock: impl Fn() -> Millis) {
        while !stop.load(Ordering::Relaxed) {
            if self
                .shared
                .as_ref()
                .is_some_and(|sh| sh.wedged.load(Ordering::Relaxed))
            {
                std::thread::sleep(std::time::Duration::from_millis(1));
                continue;
            }
            let g = cell.generation();
            if g != self.generation {
                self.generation = g;
                self.take_snapshot(cell.load());
            }
            self.poll_once(clock());
        }
    }
}
