//! The host path's sans-IO half: per-port counters of what goes to and comes
//! from a port's kernel twin, and the rate gate in front of it. Which frames
//! go is decided by the pipeline; how they travel is the worker's `PortIo`.
use conntrack::Millis;

use crate::stats::Counter;

/// Why a frame bound for (or coming from) the kernel was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum HostDrop {
    /// The worker's ring to the host-path thread (or back) was full.
    RingFull,
    /// Over `ports[].host_rate_pps`.
    RateLimited,
    /// The twin or the port refused the frame.
    TxRefused,
}

impl HostDrop {
    pub const ALL: [HostDrop; 3] = [
        HostDrop::RingFull,
        HostDrop::RateLimited,
        HostDrop::TxRefused,
    ];
    pub const COUNT: usize = Self::ALL.len();

    /// Label used in reports and metrics.
    pub fn name(self) -> &'static str {
        match self {
            HostDrop::RingFull => "ring_full",
            HostDrop::RateLimited => "rate_limited",
            HostDrop::TxRefused => "tx_refused",
        }
    }
}

/// Host-path counters of one port, written by one thread (a worker for the
/// kernel-bound direction, the host-path thread for the other).
#[derive(Debug, Default)]
pub struct HostCounters {
    pub to_kernel_frames: Counter,
    pub to_kernel_bytes: Counter,
    pub from_kernel_frames: Counter,
    pub from_kernel_bytes: Counter,
    pub drops: [Counter; HostDrop::COUNT],
}

impl HostCounters {
    #[inline]
    pub fn to_kernel(&self, bytes: usize) {
        self.to_kernel_frames.add(1);
        self.to_kernel_bytes.add(bytes as u64);
    }
    #[inline]
    pub fn from_kernel(&self, bytes: usize) {
        self.from_kernel_frames.add(1);
        self.from_kernel_bytes.add(bytes as u64);
    }
    #[inline]
    pub fn drop(&self, r: HostDrop) {
        self.drops[r as usize].add(1);
    }
    pub fn drops_of(&self, r: HostDrop) -> u64 {
        self.drops[r as usize].get()
    }
}

/// A token bucket on the clock the pipeline is given (milliseconds): at most
/// `rate` frames a second, with bursts of a tenth of a second.
#[derive(Debug, Clone)]
pub struct RateGate {
    rate: u64,
    burst: u64,
    /// Tokens in thousandths of a frame, so a millisecond adds `rate` of them.
    milli_tokens: u64,
    last: Millis,
}

impl RateGate {
    /// `rate` frames per second (0 is taken as 1).
    pub fn new(rate: u64) -> Self {
        let rate = rate.max(1);
        let burst = (rate / 10).max(1);
        RateGate {
            rate,
            burst,
            milli_tokens: burst * 1000,
            last: 0,
        }
    }

    /// Takes one frame's token at `now`; false when over the rate.
    #[inline]
    pub fn admit(&mut self, now: Millis) -> bool {
        if now > self.last {
            let add = (now - self.last).saturating_mul(self.rate);
            self.milli_tokens = self.milli_tokens.saturating_add(add).min(self.burst * 1000);
            self.last = now;
        }
        if self.milli_tokens >= 1000 {
            self.milli_tokens -= 1000;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_passes_a_burst_then_the_rate() {
        // 1000/s: bursts of 100, then one frame a millisecond.
        let mut g = RateGate::new(1000);
        let first = (0..1000).filter(|_| g.admit(0)).count();
        assert_eq!(first, 100);
        assert!(g.admit(1));
        assert!(!g.admit(1));
        let later = (0..1000).filter(|_| g.admit(50)).count();
        assert_eq!(later, 49);
        // A long pause refills no more than the burst.
        let after_pause = (0..1000).filter(|_| g.admit(100_000)).count();
        assert_eq!(after_pause, 100);
    }

    #[test]
    fn a_slow_rate_still_refills() {
        let mut g = RateGate::new(3);
        assert!(g.admit(0));
        assert!(!g.admit(0));
        assert!(!g.admit(100));
        assert!(g.admit(334));
    }
}
