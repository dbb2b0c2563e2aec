//! pktloop: established-flow frames, or whole short connections, through
//! `Pipeline::process` in memory, for instruction counts under callgrind.
//!
//!   pktloop run --mode nat --packets 200000 [--flows 256] [--baseline] [--sync off|idle|on]
//!       one loop (no valgrind); prints wall-clock ns per packet as a hint.
//!   pktloop ipp [--n 200000] [--n0 20000] [--modes nat,dr] [--json out.json] [--keep DIR]
//!       re-runs itself under `valgrind --tool=callgrind` with N and N0 packets
//!       per mode, and with the harness alone (--baseline), and reports
//!       (Ir(N) - Ir(N0)) / (N - N0): instructions per packet, deterministic.
//!   pktloop conn --mode nat --conns 100000 [--warm W] [--ms-per-conn 10] [--baseline]
//!       whole short connections (bench/src/connection.rs: 8 segments in NAT and
//!       FullNAT, the client's 5 in DR and TUN); prints wall-clock ns per connection.
//!   pktloop ipc [--n 30000] [--n0 15000] [--ms-per-conn 10] [--modes nat,dr] [--json out.json] [--keep DIR]
//!       instructions per whole connection: `conn` under callgrind with N and N0
//!       connections and with the harness alone, (Ir(N) - Ir(N0)) / (N - N0);
//!       plus a timed hint outside valgrind (median of 5 rounds after N0).
mod ipc;
mod ipp;

use std::time::Instant;

use anyhow::{bail, Result};
use fvs_bench::args::{arg, num};
use fvs_bench::connection::{segments_per_conn, ConnLoop, MS_PER_CONN};
use fvs_bench::{Established, Mode};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("ipp") => ipp::ipp(&args[1..]),
        Some("conn") => conn(&args[1..]),
        Some("ipc") => ipc::ipc(&args[1..]),
        _ => {
            eprintln!(
                "usage: pktloop run --mode M --packets N [--flows F] [--baseline]\n       \
                 pktloop ipp [--n N] [--n0 N0] [--modes a,b] [--json PATH] [--keep DIR]\n       \
                 pktloop conn --mode M --conns N [--warm W] [--ms-per-conn MS] [--baseline]\n       \
                 pktloop ipc [--n N] [--n0 N0] [--ms-per-conn MS] [--modes a,b] [--json PATH] [--keep DIR]"
            );
            std::process::exit(2)
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let mode = Mode::parse(arg(args, "--mode").unwrap_or("nat"))?;
    let n = num(args, "--packets", 1_000_000)?;
    let flows = num(args, "--flows", 256)? as usize;
    let baseline = args.iter().any(|a| a == "--baseline");
    let mut e = Established::new(mode, flows)?;
    // Connection sync as live runs it: rings always there (idle), or a
    // master daemon running (on: due connections queued on the ring).
    match arg(args, "--sync").unwrap_or("off") {
        "off" => {}
        s @ ("idle" | "on") => {
            let rings = std::sync::Arc::new(dataplane::sync_rings::SyncRings::new(
                1,
                connsync::SyncPolicy::default(),
            ));
            rings.set_sending(s == "on");
            e.pipeline.use_sync(rings);
        }
        other => bail!("--sync {other}: off, idle or on"),
    }
    let t = Instant::now();
    let sent = if baseline {
        e.run_baseline(n)
    } else {
        e.run(n, 2)
    };
    let ns = t.elapsed().as_nanos() as f64 / n.max(1) as f64;
    println!(
        "pktloop mode={} packets={n} flows={flows} baseline={baseline} sent={sent} ns_per_packet={ns:.1}",
        mode.name()
    );
    if sent != n {
        bail!("{} of {n} frames were sent", sent);
    }
    Ok(())
}

/// Wall-clock ns per connection of `n` more connections (harness alone with
/// `baseline`); fails unless every segment was forwarded.
fn timed_conns(c: &mut ConnLoop, n: u64, baseline: bool) -> Result<f64> {
    let t = Instant::now();
    let sent = if baseline {
        c.run_baseline(n)?
    } else {
        c.run(n)?
    };
    let ns = t.elapsed().as_nanos() as f64 / n.max(1) as f64;
    let want = n * segments_per_conn(c.mode());
    if sent != want {
        bail!("{} of {want} segments were forwarded", sent);
    }
    Ok(ns)
}

fn conn(args: &[String]) -> Result<()> {
    let mode = Mode::parse(arg(args, "--mode").unwrap_or("nat"))?;
    let n = num(args, "--conns", 100_000)?;
    let warm = num(args, "--warm", 0)?;
    let ms = num(args, "--ms-per-conn", MS_PER_CONN)?;
    let baseline = args.iter().any(|a| a == "--baseline");
    let mut c = ConnLoop::new(mode, ms)?;
    timed_conns(&mut c, warm, baseline)?;
    let ns = timed_conns(&mut c, n, baseline)?;
    let segs = segments_per_conn(mode);
    println!(
        "pktloop conn mode={} conns={n} warm={warm} ms_per_conn={ms} baseline={baseline} \
         segments={} table={} ns_per_conn={ns:.1} ns_per_segment={:.1}",
        mode.name(),
        n * segs,
        c.pipeline.conns().len(),
        ns / segs as f64
    );
    Ok(())
}
