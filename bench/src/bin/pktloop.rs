//! pktloop: established-flow frames through `Pipeline::process` in memory,
//! for instruction counts per packet under callgrind.
//!
//!   pktloop run --mode nat --packets 200000 [--flows 256] [--baseline]
//!       one loop (no valgrind); prints wall-clock ns per packet as a hint.
//!   pktloop ipp [--n 200000] [--n0 20000] [--modes nat,dr] [--json out.json] [--keep DIR]
//!       re-runs itself under `valgrind --tool=callgrind` with N and N0 packets
//!       per mode, and with the harness alone (--baseline), and reports
//!       (Ir(N) - Ir(N0)) / (N - N0): instructions per packet, deterministic.
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use fvs_bench::{Established, Mode};
use serde::Serialize;

/// The target the issue sets for an established NAT flow.
const TARGET_NAT_IPP: f64 = 150.0;

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn num(args: &[String], name: &str, default: u64) -> Result<u64> {
    arg(args, name)
        .map(|v| v.parse().with_context(|| format!("{name} {v}")))
        .unwrap_or(Ok(default))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("ipp") => ipp(&args[1..]),
        _ => {
            eprintln!("usage: pktloop run --mode M --packets N [--flows F] [--baseline]\n       pktloop ipp [--n N] [--n0 N0] [--modes a,b] [--json PATH] [--keep DIR]");
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

#[derive(Serialize)]
struct ModeIpp {
    mode: String,
    /// Instructions per packet of the whole loop (pipeline + frame refill).
    gross: f64,
    /// The harness alone (frame refill and recycling).
    harness: f64,
    /// gross - harness: the pipeline's own cost per packet.
    pipeline: f64,
}

#[derive(Serialize)]
struct IppReport {
    n: u64,
    n0: u64,
    flows: u64,
    target_nat: f64,
    modes: Vec<ModeIpp>,
    command: String,
}

/// Total instructions (Ir) of one callgrind run of this binary.
fn callgrind(exe: &PathBuf, out: &PathBuf, run_args: &[&str]) -> Result<u64> {
    let o = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(exe)
        .arg("run")
        .args(run_args)
        .output()
        .context("running valgrind (apt-get install valgrind)")?;
    let err = String::from_utf8_lossy(&o.stderr);
    if !o.status.success() {
        bail!("callgrind {run_args:?} failed: {err}");
    }
    // "==123== Collected : 456789"
    err.lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no 'Collected' line in callgrind output: {err}"))
}

fn ipp(args: &[String]) -> Result<()> {
    let n = num(args, "--n", 200_000)?;
    let n0 = num(args, "--n0", 20_000)?;
    let flows = num(args, "--flows", 256)?;
    if n <= n0 {
        bail!("--n must exceed --n0");
    }
    let modes: Vec<Mode> = match arg(args, "--modes") {
        Some(list) => list.split(',').map(Mode::parse).collect::<Result<_>>()?,
        None => Mode::ALL.to_vec(),
    };
    let keep = PathBuf::from(arg(args, "--keep").unwrap_or("/tmp/ferrovs-pktloop"));
    std::fs::create_dir_all(&keep)?;
    let exe = std::env::current_exe()?;
    let d = (n - n0) as f64;
    let mut report = IppReport {
        n,
        n0,
        flows,
        target_nat: TARGET_NAT_IPP,
        modes: Vec::new(),
        command: format!("pktloop ipp {}", args.join(" ")),
    };
    for mode in modes {
        let m = mode.name();
        let (ns, n0s, fs) = (n.to_string(), n0.to_string(), flows.to_string());
        let ir = |count: &str, baseline: bool, tag: &str| -> Result<u64> {
            let mut a = vec!["--mode", m, "--packets", count, "--flows", fs.as_str()];
            if baseline {
                a.push("--baseline");
            }
            callgrind(&exe, &keep.join(format!("callgrind.{m}.{tag}.out")), &a)
        };
        let big = ir(&ns, false, "n")?;
        let small = ir(&n0s, false, "n0")?;
        let big_b = ir(&ns, true, "baseline-n")?;
        let small_b = ir(&n0s, true, "baseline-n0")?;
        let gross = (big as f64 - small as f64) / d;
        let harness = (big_b as f64 - small_b as f64) / d;
        let r = ModeIpp {
            mode: m.into(),
            gross,
            harness,
            pipeline: gross - harness,
        };
        println!(
            "pktloop ipp mode={:<14} gross={:>7.1} harness={:>5.1} pipeline={:>7.1} instructions/packet{}",
            r.mode,
            r.gross,
            r.harness,
            r.pipeline,
            if mode == Mode::Nat {
                format!(" (target <= {TARGET_NAT_IPP})")
            } else {
                String::new()
            }
        );
        report.modes.push(r);
    }
    println!(
        "callgrind profiles kept in {} (callgrind_annotate {}/callgrind.nat.n.out)",
        keep.display(),
        keep.display()
    );
    if let Some(path) = arg(args, "--json") {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {path}"))?;
    }
    Ok(())
}
