//! What cores exchange without locks: frames redirected to the core that owns
//! their connection (one bounded ring per (source, destination) pair, so each
//! ring has a single producer and a single consumer), and neighbours learned
//! by one core, announced to the others.
use crossbeam::queue::ArrayQueue;

use crate::neighbor::NeighborUpdate;

/// Frames in flight between two cores; beyond this the redirect is dropped (counted).
pub const REDIRECT_RING: usize = 1024;
const NEIGHBOR_RING: usize = 256;

pub struct Fabric<F> {
    cores: usize,
    /// Index `src * cores + dst`.
    frames: Vec<ArrayQueue<(usize, F)>>,
    /// Index `dst`: announcements for that core.
    neighbors: Vec<ArrayQueue<NeighborUpdate>>,
}

impl<F> Fabric<F> {
    pub fn new(cores: usize) -> Self {
        Fabric {
            cores,
            frames: (0..cores * cores)
                .map(|_| ArrayQueue::new(REDIRECT_RING))
                .collect(),
            neighbors: (0..cores).map(|_| ArrayQueue::new(NEIGHBOR_RING)).collect(),
        }
    }

    pub fn cores(&self) -> usize {
        self.cores
    }

    /// Hands `frame` (received on `port`) from core `src` to core `dst`.
    /// Gives the frame back when the ring is full.
    #[inline]
    pub fn redirect(&self, src: usize, dst: usize, port: usize, frame: F) -> Result<(), F> {
        if src >= self.cores || dst >= self.cores {
            return Err(frame);
        }
        match self.frames.get(src * self.cores + dst) {
            Some(q) => q.push((port, frame)).map_err(|(_, f)| f),
            None => Err(frame),
        }
    }

    /// Takes up to `max` frames sent to core `dst` from any other core.
    #[inline]
    pub fn receive(&self, dst: usize, max: usize, mut each: impl FnMut(usize, F)) -> usize {
        let mut n = 0;
        for src in 0..self.cores {
            if src == dst {
                continue;
            }
            let Some(q) = self.frames.get(src * self.cores + dst) else {
                continue;
            };
            while n < max {
                match q.pop() {
                    Some((port, f)) => {
                        each(port, f);
                        n += 1;
                    }
                    None => break,
                }
            }
        }
        n
    }

    /// Tells every other core about a neighbour `src` learned (best effort:
    /// a full ring only delays the others until they ask themselves).
    pub fn announce(&self, src: usize, update: NeighborUpdate) {
        for (dst, q) in self.neighbors.iter().enumerate() {
            if dst != src {
                let _ = q.push(update);
            }
        }
    }

    pub fn announcements(&self, dst: usize) -> Option<&ArrayQueue<NeighborUpdate>> {
        self.neighbors.get(dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_core_out_of_range_gets_nothing_and_the_frame_comes_back() {
        let f = Fabric::<u32>::new(3);
        // src * cores + dst would name ring (1, 0) for (0, 3): refused instead.
        assert_eq!(f.redirect(0, 3, 0, 7), Err(7));
        assert_eq!(f.redirect(3, 0, 0, 8), Err(8));
        assert_eq!(f.redirect(0, 2, 0, 9), Ok(()));
        let mut got = Vec::new();
        for dst in 0..3 {
            f.receive(dst, 16, |_, x| got.push((dst, x)));
        }
        assert_eq!(got, vec![(2, 9)]);
    }
}
