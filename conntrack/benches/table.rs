//! Connection table micro-benchmarks: lookup cost against table size (should stay
//! flat-ish from 1 K to 10 M connections), insert + expire churn, bytes per conn.
//!
//! Run: CARGO_TARGET_DIR=/tmp/target-conntrack cargo bench -p conntrack --bench table

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Duration;

use conntrack::{Backing, ConnId, ConnTable, Dir, NewConn, Proto, TcpFlags, Timeouts, Tuple};
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

/// Lookups per `lookup_burst` call: a typical rx burst.
const BURST: usize = 32;

fn build(n: u32, backing: Backing) -> ConnTable {
    let mut t = ConnTable::with_options(n as usize, Timeouts::default(), 7, backing);
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
        let t = build(n, Backing::HugePages);
        eprintln!(
            "table of {n}: {} bytes/conn ({} MiB total)",
            t.bytes_per_conn(),
            t.memory_bytes() >> 20
        );
        eprintln!("  transparent huge pages in use: {} MiB", anon_huge_mib());
        lookup_set(&mut g, &t, n, "");
        if n == 10_000_000 {
            memory_floor(&mut g, &t);
            // The same table on 4 KiB pages: what the huge-page backing buys.
            drop(t);
            let t = build(n, Backing::Lazy);
            lookup_set(&mut g, &t, n, "_smallpages");
        }
    }
    g.finish();
}

/// Serial hits (one lookup after the other: each waits for its own cache misses),
/// burst hits (`lookup_burst`, misses of a burst overlap), and serial misses.
fn lookup_set(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    t: &ConnTable,
    n: u32,
    suffix: &str,
) {
    // Visit connections in a scattered order (step ~0.618 n, coprime with n) so
    // every lookup misses the cache as a real packet mix would.
    let step = ((u64::from(n) * 618_034 / 1_000_000) as u32) | 1;
    let step = (step..n).find(|s| gcd(*s, n) == 1).unwrap_or(1);
    let mut i = 0u32;
    g.throughput(Throughput::Elements(1));
    g.bench_with_input(BenchmarkId::new(format!("hit{suffix}"), n), &n, |b, &n| {
        b.iter(|| {
            i = next(i, step, n);
            let c = conn(i);
            black_box(t.lookup(black_box(&c.orig)))
        })
    });
    let mut j = 0u32;
    g.throughput(Throughput::Elements(BURST as u64));
    g.bench_with_input(
        BenchmarkId::new(format!("burst_hit{suffix}"), n),
        &n,
        |b, &n| {
            let mut tuples = [conn(0).orig; BURST];
            let mut out: [Option<(ConnId, Dir)>; BURST] = [None; BURST];
            b.iter(|| {
                for k in tuples.iter_mut() {
                    j = next(j, step, n);
                    *k = conn(j).orig;
                }
                t.lookup_burst(black_box(&tuples), &mut out);
                black_box(&out);
            })
        },
    );
    if !suffix.is_empty() {
        return;
    }
    let mut r = 0u32;
    g.throughput(Throughput::Elements(1));
    g.bench_with_input(BenchmarkId::new("reply_hit", n), &n, |b, &n| {
        b.iter(|| {
            r = next(r, step, n);
            let c = conn(r);
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

/// The machine's floor for a lookup in a table this big, measured in the same run:
/// per key, one random read in an array the size of the index, then a dependent
/// random read in an array the size of the slab, both on huge pages and
/// prefetched across a burst exactly as `lookup_burst` does, with no hashing or
/// comparing. No design that reads an index line and then an entry can beat it.
fn memory_floor(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    t: &ConnTable,
) {
    const LINE: usize = 64;
    let slab_lines = t.capacity();
    let index_lines = (t.index_bytes() / LINE).max(1);
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut rnd = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut index = conntrack::mem::filled_vec(index_lines, [0u64; 8], Backing::HugePages);
    for line in index.iter_mut() {
        line[0] = rnd();
    }
    let slab = conntrack::mem::filled_vec(slab_lines, [1u64; 8], Backing::HugePages);
    let pick = |x: u64, len: usize| ((u128::from(x as u32) * len as u128) >> 32) as usize;
    eprintln!(
        "memory floor arrays: {} MiB + {} MiB",
        (index_lines * LINE) >> 20,
        (slab_lines * LINE) >> 20
    );
    g.throughput(Throughput::Elements(BURST as u64));
    g.bench_function(BenchmarkId::new("floor_two_reads", t.capacity()), |b| {
        let mut first = [0usize; BURST];
        let mut second = [0usize; BURST];
        b.iter(|| {
            for f in first.iter_mut() {
                *f = pick(rnd(), index_lines);
                conntrack::mem::prefetch(&index[*f]);
            }
            for (s, f) in second.iter_mut().zip(&first) {
                *s = pick(index[*f][0], slab_lines);
                conntrack::mem::prefetch(&slab[*s]);
            }
            let mut sum = 0u64;
            for s in &second {
                sum = sum.wrapping_add(slab[*s][0]);
            }
            black_box(sum)
        })
    });
}

/// The next index of the scattered walk (`(i + step) % n` without a division,
/// whose latency would otherwise be part of every measured lookup).
#[inline]
fn next(i: u32, step: u32, n: u32) -> u32 {
    let j = i + step;
    if j >= n {
        j - n
    } else {
        j
    }
}

/// AnonHugePages of this process, from /proc (0 where unavailable).
fn anon_huge_mib() -> u64 {
    std::fs::read_to_string("/proc/self/smaps_rollup")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("AnonHugePages:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb >> 10)
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
