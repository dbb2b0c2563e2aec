//! Rates as ipvsadm `--rate` shows them: a sampler every 2 s turns counter
//! deltas into per-second rates smoothed like IPVS's estimator (each new
//! sample moves the average a quarter of the way).
use std::collections::HashMap;

use control::proto::Stats;

/// (service id, real id or None for the service itself).
pub type RateKey = (u32, Option<u32>);

pub const INTERVAL_MS: u64 = 2_000;

#[derive(Default)]
pub struct Rates {
    last: HashMap<RateKey, Stats>,
    avg: HashMap<RateKey, [f64; 5]>,
}

impl Rates {
    /// Feeds the totals sampled `INTERVAL_MS` after the previous ones.
    pub fn sample(&mut self, totals: HashMap<RateKey, Stats>) {
        for (k, now) in &totals {
            let prev = self.last.get(k).copied().unwrap_or(*now);
            let secs = INTERVAL_MS as f64 / 1000.0;
            let d = |a: u64, b: u64| a.saturating_sub(b) as f64 / secs;
            let inst = [
                d(now.conns, prev.conns),
                d(now.inpkts, prev.inpkts),
                d(now.outpkts, prev.outpkts),
                d(now.inbytes, prev.inbytes),
                d(now.outbytes, prev.outbytes),
            ];
            let a = self.avg.entry(*k).or_insert(inst);
            for (avg, x) in a.iter_mut().zip(inst) {
                *avg += (x - *avg) / 4.0;
            }
        }
        self.avg.retain(|k, _| totals.contains_key(k));
        self.last = totals;
    }

    /// `s` with its rate columns filled in.
    pub fn with_rates(&self, k: RateKey, mut s: Stats) -> Stats {
        if let Some(a) = self.avg.get(&k) {
            s.cps = a[0].round() as u64;
            s.inpps = a[1].round() as u64;
            s.outpps = a[2].round() as u64;
            s.inbps = a[3].round() as u64;
            s.outbps = a[4].round() as u64;
        }
        s
    }
}
