//! Per-packet pipeline micro-benchmarks (criterion):
//!   established/<mode>   one ACK of an established connection (256 flows, cycled)
//!   new_conn/<scheduler> the SYN of a new connection: lookup miss, service
//!                        match, scheduling over 8 weighted reals, insert, NAT
//! Connection lookup against table size lives in conntrack/benches/table.rs
//! (scripts/bench.sh runs it).
//!
//! Run: CARGO_TARGET_DIR=/tmp/target-bench cargo bench -p ferrovs-bench --bench pipeline
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use fvs_bench::{new_conn_syn, pipeline_from_yaml, scheduler_yaml, Established, Mode, Recycle};

/// Table capacity for the new-connection bench; the pipeline is rebuilt
/// (outside the timed part) before it fills.
const CONN_MAX: u64 = 1 << 18;
const REBUILD_AT: u32 = 200_000;

fn established(c: &mut Criterion) {
    let mut g = c.benchmark_group("established");
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    g.sample_size(20);
    g.throughput(Throughput::Elements(1));
    for mode in Mode::ALL {
        let mut e = Established::new(mode, 256).expect("fixture");
        g.bench_function(BenchmarkId::from_parameter(mode.name()), |b| {
            b.iter(|| black_box(e.run(1, 2)))
        });
    }
    g.finish();
}

fn new_conn(c: &mut Criterion) {
    let mut g = c.benchmark_group("new_conn");
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(2));
    g.sample_size(10);
    g.throughput(Throughput::Elements(1));
    for sched in fvs_bench::SCHEDULERS {
        let yaml = scheduler_yaml(sched, CONN_MAX);
        // SYN frames prepared up front: the timed part is the pipeline only
        // (plus the 60-byte refill every established bench pays too).
        let syns: Vec<Vec<u8>> = (0..REBUILD_AT).map(new_conn_syn).collect();
        g.bench_function(BenchmarkId::from_parameter(sched), |b| {
            b.iter_custom(|iters| {
                let mut p = pipeline_from_yaml(&yaml).expect("scheduler fixture");
                let mut out = Recycle::with_frames(64);
                let mut i = 0u32;
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let chunk = left.min(u64::from(REBUILD_AT - i));
                    let t = Instant::now();
                    for _ in 0..chunk {
                        let f = out.frame(&syns[i as usize]);
                        p.process(f, 0, 1, &mut out);
                        i += 1;
                    }
                    total += t.elapsed();
                    left -= chunk;
                    if i == REBUILD_AT {
                        p = pipeline_from_yaml(&yaml).expect("scheduler fixture");
                        i = 0;
                    }
                }
                black_box(out.sent);
                total
            })
        });
    }
    g.finish();
}

criterion_group!(benches, established, new_conn);
criterion_main!(benches);
