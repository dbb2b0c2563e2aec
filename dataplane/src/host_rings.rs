//! How frames travel between the workers and the host-path thread without
//! locks: per port and worker a ring towards the kernel twin (the worker
//! produces, the host-path thread consumes), and per port a ring from the
//! twin towards the wire (the host-path thread produces, one worker consumes
//! and transmits). Every ring has one producer and one consumer; a full ring
//! gives the frame back, so nobody ever waits.
use crossbeam::queue::ArrayQueue;

/// Frames in flight in one ring; beyond this the frame is dropped (counted).
pub const HOST_RING: usize = 1024;

/// The worker that transmits what the kernel sends. One worker keeps the
/// kernel's own order on the wire (a TCP stream from the twin is not spread
/// over queues), and the host path is rate-limited far below one core's rate.
pub const WIRE_WORKER: usize = 0;

pub struct HostRings<F> {
    workers: usize,
    /// Index `port * workers + worker`; `None` for ports without a twin.
    to_kernel: Vec<Option<ArrayQueue<F>>>,
    /// Index `port`.
    to_wire: Vec<Option<ArrayQueue<F>>>,
}

impl<F> HostRings<F> {
    /// Rings for `workers` workers; `twins[p]` says whether port `p` has a twin.
    pub fn new(workers: usize, twins: &[bool]) -> Self {
        let workers = workers.max(1);
        let ring = |on: bool| on.then(|| ArrayQueue::new(HOST_RING));
        HostRings {
            workers,
            to_kernel: twins
                .iter()
                .flat_map(|&on| (0..workers).map(move |_| on))
                .map(ring)
                .collect(),
            to_wire: twins.iter().map(|&on| ring(on)).collect(),
        }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Whether `port` has a twin.
    pub fn has_twin(&self, port: usize) -> bool {
        self.to_wire.get(port).is_some_and(Option::is_some)
    }

    fn kernel_ring(&self, port: usize, worker: usize) -> Option<&ArrayQueue<F>> {
        if worker >= self.workers {
            return None;
        }
        self.to_kernel.get(port * self.workers + worker)?.as_ref()
    }

    /// Worker `worker` hands a frame received on `port` to the twin; the
    /// frame comes back when the ring is full or the port has no twin.
    #[inline]
    pub fn push_to_kernel(&self, port: usize, worker: usize, frame: F) -> Result<(), F> {
        match self.kernel_ring(port, worker) {
            Some(q) => q.push(frame),
            None => Err(frame),
        }
    }

    /// The host-path thread takes up to `max` frames of `port` from every
    /// worker, appending them to `out`.
    pub fn take_to_kernel(&self, port: usize, out: &mut Vec<F>, max: usize) {
        for w in 0..self.workers {
            let Some(q) = self.kernel_ring(port, w) else {
                return;
            };
            while out.len() < max {
                match q.pop() {
                    Some(f) => out.push(f),
                    None => break,
                }
            }
        }
    }

    /// The host-path thread queues a frame the kernel sent on `port`'s twin.
    #[inline]
    pub fn push_to_wire(&self, port: usize, frame: F) -> Result<(), F> {
        match self.to_wire.get(port).and_then(Option::as_ref) {
            Some(q) => q.push(frame),
            None => Err(frame),
        }
    }

    /// `WIRE_WORKER` takes up to `max` kernel frames of `port`, appending them to `out`.
    #[inline]
    pub fn take_to_wire(&self, port: usize, out: &mut Vec<F>, max: usize) {
        if let Some(q) = self.to_wire.get(port).and_then(Option::as_ref) {
            while out.len() < max {
                match q.pop() {
                    Some(f) => out.push(f),
                    None => break,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_reach_only_ports_with_a_twin_and_come_back_when_full() {
        let r = HostRings::<u32>::new(2, &[false, true]);
        assert_eq!(r.push_to_kernel(0, 0, 1), Err(1));
        assert_eq!(r.push_to_kernel(1, 2, 2), Err(2), "no such worker");
        assert_eq!(r.push_to_wire(0, 3), Err(3));
        assert_eq!(r.push_to_kernel(1, 0, 10), Ok(()));
        assert_eq!(r.push_to_kernel(1, 1, 11), Ok(()));
        let mut got = Vec::new();
        r.take_to_kernel(1, &mut got, 16);
        assert_eq!(got, vec![10, 11]);
        for i in 0..HOST_RING as u32 {
            assert_eq!(r.push_to_wire(1, i), Ok(()));
        }
        assert_eq!(r.push_to_wire(1, 99_999), Err(99_999));
        let mut wire = Vec::new();
        r.take_to_wire(1, &mut wire, 8);
        assert_eq!(wire, (0..8).collect::<Vec<_>>(), "kernel order kept");
    }

    #[test]
    fn taking_stops_at_max_across_workers() {
        let r = HostRings::<u32>::new(3, &[true]);
        for w in 0..3 {
            for i in 0..4 {
                r.push_to_kernel(0, w, (w * 10 + i) as u32).unwrap();
            }
        }
        let mut got = Vec::new();
        r.take_to_kernel(0, &mut got, 6);
        assert_eq!(got, vec![0, 1, 2, 3, 10, 11]);
        got.clear();
        r.take_to_kernel(0, &mut got, 64);
        assert_eq!(got, vec![12, 13, 20, 21, 22, 23]);
    }
}
