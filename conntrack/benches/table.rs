//! Connection table micro-benchmarks: lookup cost against table size (should stay
//! flat-ish from 1 K to 10 M connections), insert + expire churn, bytes per conn.
//!
//! Run: CARGO_TARGET_DIR=/tmp/target-conntrack cargo bench -p conntrack --bench table

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Duration;

use conntrack::{ConnTable, Dir, NewConn, Proto, TcpFlags, Timeouts, Tuple};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
const RS: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 2);

fn conn(i: u32) -> NewConn {
    let client = Ipv4Addr::from(0x0b00_0000 | (i >> 14));
    let cport = 1024 + (i & 0x3fff) as u16;
    NewConn {
        orig: Tuple::new(Proto::Tcp, client, cport, VIP, 80),
        reply: Tuple::new(Proto::Tcp, RS, 8080, client, cport),
        service: 0,
        dest: 0,
        input_only: false,
        tag: 0,
    }
}

fn build(n: u32) -> ConnTable {
    let mut t = ConnTable::new(n as usize, Timeouts::default());
    for i in 0..n {
        if let Ok(id) = t.insert(conn(i), 0) {
            t.update(id, Dir::In, TcpFlags(TcpFlags::SYN), 0);
        }
    }
    t
}

fn lookups(c: &mut Criterion) {
    let mut g = c.benchmark_group("lookup");
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    g.sample_size(10);
    g.throughput(Throughput::Elements(1));
    for n in [1_000u32, 1_000_000, 10_000_000] {
        let t = build(n);
        eprintln!(
            "table of {n}: {} bytes/conn ({} MiB total)",
            t.bytes_per_conn(),
            t.memory_bytes() >> 20
        );
        // Visit connections in a scattered order (step ~0.618 n, coprime with n) so
        // every lookup misses the cache as a real packet mix would.
        let step = ((u64::from(n) * 618_034 / 1_000_000) as u32) | 1;
        let step = (step..).find(|s| gcd(*s, n) == 1).unwrap_or(1);
        let mut i = 0u32;
        g.bench_with_input(BenchmarkId::new("hit", n), &n, |b, &n| {
            b.iter(|| {
                i = (i + step) % n;
                let c = conn(i);
                black_box(t.lookup(black_box(&c.orig)))
            })
        });
        let mut j = 0u32;
        g.bench_with_input(BenchmarkId::new("reply_hit", n), &n, |b, &n| {
            b.iter(|| {
                j = (j + step) % n;
                let c = conn(j);
                black_box(t.lookup(black_box(&c.reply)))
            })
        });
        let mut k = n;
        g.bench_with_input(BenchmarkId::new("miss", n), &n, |b, _| {
            b.iter(|| {
                k = k.wrapping_add(step);
                let c = conn(k | 0x0100_0000);
                black_box(t.lookup(black_box(&c.orig)))
            })
        });
    }
    g.finish();
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Steady churn: every iteration creates a connection, runs one packet through it
/// and expires what is due; about 500 K connections stay live.
fn churn(c: &mut Criterion) {
    let mut g = c.benchmark_group("churn");
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(3));
    g.sample_size(10);
    g.throughput(Throughput::Elements(1));
    let mut to = Timeouts::default();
    to.set_tcp_tcpfin_udp(0, 0, 1);
    let mut t = ConnTable::new(2_000_000, to);
    let mut i = 0u32;
    let mut now = 0u64;
    let mut tick = 0u32;
    g.bench_function("insert_update_expire", |b| {
        b.iter(|| {
            i = (i + 1) & 0x00ff_ffff;
            tick += 1;
            if tick == 500 {
                tick = 0;
                now += 1;
            }
            let mut nc = conn(i);
            nc.orig.proto = Proto::Udp;
            nc.reply.proto = Proto::Udp;
            if let Ok(id) = t.insert(nc, now) {
                t.update(id, Dir::In, TcpFlags(0), now);
            }
            black_box(t.expire(now, 4, |c| {
                black_box(c.dest);
            }))
        })
    });
    eprintln!("churn: {} live connections at the end", t.len());
    g.finish();
}

criterion_group!(benches, lookups, churn);
criterion_main!(benches);
