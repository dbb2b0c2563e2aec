//! Connection sync throughput (criterion), per connection on one core:
//!   sync/encode    the master's sync thread packing connections into IPVS v1
//!                  messages (connsync's Builder, 1472-byte messages)
//!   sync/install   a backup's worker installing received connections
//!                  (service and real lookup, table insert, counters)
//! The per-packet cost on the master's workers is in `pktloop ipp`
//! (`nat sync-idle` and `nat sync-on` against `nat`).
//!
//! Run: CARGO_TARGET_DIR=/tmp/target-bench cargo bench -p ferrovs-bench --bench sync
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use connsync::{SyncConn, FWD_MASQ};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use fvs_bench::{pipeline_from_yaml, REPLAY_NAT_YAML};

/// Connections per measured batch (distinct client ports and addresses).
const BATCH: u32 = 50_000;

fn conn(i: u32) -> SyncConn {
    SyncConn {
        protocol: 6,
        flags: FWD_MASQ,
        state: 1,
        cport: 1024 + (i % 60_000) as u16,
        vport: 80,
        dport: 8080,
        fwmark: 0,
        timeout_s: 900,
        caddr: Ipv4Addr::from(0x0a00_0002 + (i / 60_000) * 256),
        vaddr: Ipv4Addr::new(10, 0, 0, 100),
        daddr: Ipv4Addr::new(10, 1, 0, 11),
        in_seq: None,
        out_seq: None,
        fullnat: None,
    }
}

fn sync(c: &mut Criterion) {
    let conns: Vec<SyncConn> = (0..BATCH).map(conn).collect();
    let mut g = c.benchmark_group("sync");
    g.warm_up_time(Duration::from_millis(300));
    g.measurement_time(Duration::from_secs(2));
    g.sample_size(10);
    g.throughput(Throughput::Elements(1));
    g.bench_function("encode", |b| {
        let mut builder = connsync::v1::Builder::new(0, 1472);
        let mut i = 0usize;
        b.iter(|| {
            let c = &conns[i % conns.len()];
            i += 1;
            black_box(builder.push(c, 0))
        })
    });
    g.bench_function("install", |b| {
        b.iter_custom(|iters| {
            // A fresh backup per batch (outside the timed part), so every
            // install is a new connection.
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(u64::from(BATCH));
                let mut p = pipeline_from_yaml(REPLAY_NAT_YAML).expect("fixture");
                let t = Instant::now();
                for c in &conns[..n as usize] {
                    black_box(p.install_synced(c, 1)).ok();
                }
                total += t.elapsed();
                left -= n;
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, sync);
criterion_main!(benches);
