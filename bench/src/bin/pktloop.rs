//! pktloop: established-flow frames through `Pipeline::process` in memory,
//! for instruction counts per packet under callgrind.
//!
//!   pktloop run --mode nat --packets 200000 [--flows 256] [--baseline] [--sync off|idle|on]
//!       one loop (no valgrind); prints wall-clock ns per packet as a hint.
//!   pktloop ipp [--n 200000] [--n0 20000] [--modes nat,dr] [--json out.json] [--keep DIR]
//!       re-runs itself under `valgrind --tool=callgrind` with N and N0 packets
//!       per mode, and with the harness alone (--baseline), and reports
//!       (Ir(N) - Ir(N0)) / (N - N0): instructions per packet, deterministic.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use fvs_bench::{Established, Mode};
use serde::Serialize;

/// The target the issue sets for an established NAT flow.
const TARGET_NAT_IPP: f64 = 150.0;

use fvs_bench::args::{arg, num};

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
    /// Where an established NAT packet's instructions go: per function,
    /// inclusive and self, per packet (callgrind_annotate of N minus N0).
    nat_profile: Vec<FnCost>,
    command: String,
}

#[derive(Serialize)]
struct FnCost {
    function: String,
    inclusive: f64,
    self_cost: f64,
}

/// Per-function Ir of one profile: `inclusive` or self, keyed by function
/// name (inlined source files merged), via callgrind_annotate.
fn annotate(out: &Path, inclusive: bool) -> Result<HashMap<String, u64>> {
    let o = Command::new("callgrind_annotate")
        .args([
            "--auto=no",
            "--threshold=100",
            if inclusive {
                "--inclusive=yes"
            } else {
                "--inclusive=no"
            },
        ])
        .arg(out)
        .output()
        .context("running callgrind_annotate")?;
    let mut m = HashMap::new();
    for line in String::from_utf8_lossy(&o.stdout).lines() {
        // "  1,234 (12.3%)  path/file.rs:crate::func [/bin]"
        let t = line.trim_start();
        let Some((count, rest)) = t.split_once(' ') else {
            continue;
        };
        let Ok(ir) = count.replace(',', "").parse::<u64>() else {
            continue;
        };
        let Some((_, rest)) = rest.split_once(')') else {
            continue;
        };
        let rest = rest.trim();
        if rest.starts_with("PROGRAM TOTALS") {
            continue;
        }
        let func = rest.split_once(':').map_or(rest, |(_, f)| f);
        let func = func.split(" [").next().unwrap_or(func).trim().to_string();
        // Self cost is split over the source files of inlined code: add the
        // parts. Inclusive cost is repeated on each part: keep the largest.
        let e = m.entry(func).or_insert(0);
        if inclusive {
            *e = (*e).max(ir);
        } else {
            *e += ir;
        }
    }
    Ok(m)
}

/// The top functions of an established NAT packet, per packet.
fn nat_profile(big: &Path, small: &Path, d: f64) -> Result<Vec<FnCost>> {
    let (ib, is) = (annotate(big, true)?, annotate(small, true)?);
    let (sb, ss) = (annotate(big, false)?, annotate(small, false)?);
    let per = |a: &HashMap<String, u64>, b: &HashMap<String, u64>, k: &str| {
        (*a.get(k).unwrap_or(&0) as f64 - *b.get(k).unwrap_or(&0) as f64) / d
    };
    let mut v: Vec<FnCost> = ib
        .keys()
        .map(|k| FnCost {
            function: k.clone(),
            inclusive: per(&ib, &is, k),
            self_cost: per(&sb, &ss, k),
        })
        // Below the pipeline's entry point only (not main, std runtime, the loop).
        .filter(|f| {
            f.inclusive >= 4.0
                && (f.function.starts_with("dataplane::")
                    || f.function.starts_with("conntrack::")
                    || f.function.starts_with("sched::"))
        })
        .collect();
    v.sort_by(|a, b| b.inclusive.total_cmp(&a.inclusive));
    v.truncate(20);
    Ok(v)
}

/// Total instructions (Ir) of one callgrind run of this binary.
fn callgrind(exe: &Path, out: &Path, run_args: &[&str]) -> Result<u64> {
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
        nat_profile: Vec::new(),
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
        if mode == Mode::Nat {
            report.nat_profile = nat_profile(
                &keep.join("callgrind.nat.n.out"),
                &keep.join("callgrind.nat.n0.out"),
                d,
            )?;
            for f in &report.nat_profile {
                println!(
                    "    nat profile: {:>6.1} incl {:>6.1} self  {}",
                    f.inclusive, f.self_cost, f.function
                );
            }
        }
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
        if mode == Mode::Nat {
            // The cost of connection sync on an established NAT flow: rings
            // present (every live director) and a master daemon running.
            for sync in ["idle", "on"] {
                let ir = |count: &str, tag: &str| -> Result<u64> {
                    let a = [
                        "--mode",
                        m,
                        "--packets",
                        count,
                        "--flows",
                        fs.as_str(),
                        "--sync",
                        sync,
                    ];
                    callgrind(
                        &exe,
                        &keep.join(format!("callgrind.{m}-sync-{sync}.{tag}.out")),
                        &a,
                    )
                };
                let gross = (ir(&ns, "n")? as f64 - ir(&n0s, "n0")? as f64) / d;
                let r = ModeIpp {
                    mode: format!("{m} sync-{sync}"),
                    gross,
                    harness,
                    pipeline: gross - harness,
                };
                println!(
                    "pktloop ipp mode={:<14} gross={:>7.1} harness={:>5.1} pipeline={:>7.1} instructions/packet",
                    r.mode, r.gross, r.harness, r.pipeline
                );
                report.modes.push(r);
            }
        }
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
