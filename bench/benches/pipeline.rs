//! Per-packet pipeline micro-benchmarks (criterion):
//!   established/<mode>   one ACK of an established connection (256 flows, cycled)
//!   new_conn/<scheduler> the SYN of a new connection: lookup miss, service
//!                        match, scheduling over 8 weighted reals, insert, NAT
//!   connection/<mode>    one whole short connection (bench/src/connection.rs:
//!                        8 segments in nat and fullnat, the client's 5 in dr
//!                        and tun) on a table in its steady state;
//!                        connection/<mode>-harness the same frames without
//!                        the pipeline, to subtract
//! Connection lookup against table size lives in conntrack/benches/table.rs
//! (scripts/bench.sh runs it).
//!
//! Run: CARGO_TARGET_DIR=/tmp/target-bench cargo bench -p ferrovs-bench --bench pipeline
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use fvs_bench::connection::{ConnLoop, MS_PER_CONN};
use fvs_bench::{new_conn_syn, pipeline_from_yaml, scheduler_yaml, Established, Mode, Recycle};

/// Table capacity for the new-connection bench; the pipeline is rebuilt
/// (outside the timed part) before it fills.
const CONN_MAX: u64 = 1 << 18;
const REBUILD_AT: u32 = 200_000;

/// A group of 20 two-second samples after half a second of warm-up, one
/// element (packet, connection) per iteration.
fn per_element<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    g.sample_size(20);
    g.throughput(Throughput::Elements(1));
    g
}

fn established(c: &mut Criterion) {
    let mut g = per_element(c, "established");
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

/// Connections run before timing: 130 s of traffic at `MS_PER_CONN`, past the
/// 120 s after which each new connection expires an old one.
const STEADY_AFTER: u64 = 130_000 / MS_PER_CONN;

fn connection(c: &mut Criterion) {
    let mut g = per_element(c, "connection");
    for mode in Mode::CONNECTION {
        for baseline in [false, true] {
            let mut l = ConnLoop::new(mode, MS_PER_CONN).expect("connection fixture");
            let id = if baseline {
                l.run_baseline(STEADY_AFTER).expect("harness warm-up");
                format!("{}-harness", mode.name())
            } else {
                l.run(STEADY_AFTER).expect("warm-up to the steady table");
                mode.name().to_string()
            };
            g.bench_function(BenchmarkId::from_parameter(id), |b| {
                if baseline {
                    b.iter(|| black_box(l.run_baseline(1).expect("harness")))
                } else {
                    b.iter(|| black_box(l.run(1).expect("every segment forwarded")))
                }
            });
        }
    }
    g.finish();
}

criterion_group!(benches, established, new_conn, connection);
criterion_main!(benches);
