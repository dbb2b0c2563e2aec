//! Cost of one pick per scheduler with 4, 64 and 1024 real servers.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sched::{new_scheduler, Dest, PacketKey, SchedFlags, SCHEDULER_NAMES};

/// Servers with varied weights and load, as a busy service would have.
fn servers(n: u32) -> Vec<Dest> {
    (0..n)
        .map(|i| {
            let mut d = Dest::new(
                i + 1,
                Ipv4Addr::new(10, 0, (i >> 8) as u8, i as u8),
                80,
                1 + (i * 7) % 10,
            );
            d.active = (i * 13) % 50;
            d.inactive = (i * 31) % 200;
            d
        })
        .collect()
}

/// 1024 distinct clients and destinations, cycled through.
fn packets() -> Vec<PacketKey> {
    (0..1024u32)
        .map(|n| {
            let x = n.wrapping_mul(2_654_435_761);
            PacketKey {
                src: Ipv4Addr::from(x),
                sport: (x >> 5) as u16,
                dst: Ipv4Addr::from(0x0a01_0000 | (n & 0xff)),
                dport: 80,
                proto: 6,
            }
        })
        .collect()
}

fn pick(c: &mut Criterion) {
    let pkts = packets();
    let mut g = c.benchmark_group("pick");
    g.warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(10);
    for name in SCHEDULER_NAMES {
        for n in [4u32, 64, 1024] {
            let d = servers(n);
            let mut s = new_scheduler(name, SchedFlags::default(), &d, 1).unwrap();
            let mut k = 0usize;
            let mut now = 0u64;
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter(|| {
                    k = (k + 1) & 1023;
                    now += 1;
                    black_box(s.schedule(&d, &pkts[k], now))
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, pick);
criterion_main!(benches);
