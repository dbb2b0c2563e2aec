//! Instruction counts of `pktloop` runs under `valgrind --tool=callgrind`, and
//! where they go per function (callgrind_annotate), for `pktloop ipp` and
//! `pktloop ipc`.
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::args::{arg, num};
use serde::Serialize;
use serde_json::Value;

/// Total instructions (Ir) of one callgrind run of `exe args`, its profile
/// written to `out`.
pub fn total_ir(exe: &Path, out: &Path, args: &[&str]) -> Result<u64> {
    let o = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(exe)
        .args(args)
        .output()
        .context("running valgrind (apt-get install valgrind)")?;
    let err = String::from_utf8_lossy(&o.stderr);
    if !o.status.success() {
        bail!("callgrind {args:?} failed: {err}");
    }
    // "==123== Collected : 456789"
    err.lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("no 'Collected' line in callgrind output: {err}"))
}

/// N and N0 runs of one `pktloop` subcommand under callgrind: its
/// instructions per unit of work (packet, connection) are
/// (Ir(N) - Ir(N0)) / (N - N0), which cancels start-up and warm-up.
pub struct Differential {
    exe: PathBuf,
    keep: PathBuf,
    /// The option that sets the amount of work ("--packets", "--conns").
    count: &'static str,
    pub n: u64,
    pub n0: u64,
}

impl Differential {
    /// This executable, from `--n`, `--n0` and `--keep DIR` (where the
    /// profiles stay) or the defaults given.
    pub fn from_args(
        args: &[String],
        count: &'static str,
        (n, n0): (u64, u64),
        keep: &str,
    ) -> Result<Self> {
        let (n, n0) = (num(args, "--n", n)?, num(args, "--n0", n0)?);
        if n <= n0 {
            bail!("--n must exceed --n0");
        }
        let keep = PathBuf::from(arg(args, "--keep").unwrap_or(keep));
        std::fs::create_dir_all(&keep).with_context(|| format!("creating {}", keep.display()))?;
        Ok(Differential {
            exe: std::env::current_exe()?,
            keep,
            count,
            n,
            n0,
        })
    }

    fn out(&self, tag: &str, which: &str) -> PathBuf {
        self.keep.join(format!("callgrind.{tag}.{which}.out"))
    }

    /// Instructions per unit of `pktloop <args>`, its profiles kept as
    /// `callgrind.<tag>.n.out` and `callgrind.<tag>.n0.out`.
    pub fn per_unit(&self, tag: &str, args: &[&str]) -> Result<f64> {
        let run = |count: u64, which: &str| {
            let count = count.to_string();
            let mut a = args.to_vec();
            a.extend([self.count, count.as_str()]);
            total_ir(&self.exe, &self.out(tag, which), &a)
        };
        let (big, small) = (run(self.n, "n")?, run(self.n0, "n0")?);
        Ok((big as f64 - small as f64) / (self.n - self.n0) as f64)
    }

    /// The pipeline's top functions per unit in the profiles of `tag`
    /// (see `pipeline_profile`), printed as `label` lines too.
    pub fn profile(&self, tag: &str, label: &str, floor: f64, most: usize) -> Result<Vec<FnCost>> {
        let units = (self.n - self.n0) as f64;
        let v = pipeline_profile(
            &self.out(tag, "n"),
            &self.out(tag, "n0"),
            units,
            floor,
            most,
        )?;
        for f in &v {
            println!(
                "    {label}: {:>7.1} incl {:>7.1} self  {}",
                f.inclusive, f.self_cost, f.function
            );
        }
        Ok(v)
    }

    /// Says where the profiles are, naming the one of `tag`.
    pub fn print_kept(&self, tag: &str) {
        println!(
            "callgrind profiles kept in {} (callgrind_annotate {})",
            self.keep.display(),
            self.out(tag, "n").display()
        );
    }
}

/// One function's share of a unit of work (a packet, a connection).
#[derive(Serialize)]
pub struct FnCost {
    pub function: String,
    pub inclusive: f64,
    pub self_cost: f64,
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

/// The top `most` functions of the pipeline (dataplane, conntrack, sched)
/// per unit of work: profile `big` minus profile `small`, divided by the
/// `units` between them; only those of at least `floor` inclusive.
pub fn pipeline_profile(
    big: &Path,
    small: &Path,
    units: f64,
    floor: f64,
    most: usize,
) -> Result<Vec<FnCost>> {
    let (ib, is) = (annotate(big, true)?, annotate(small, true)?);
    let (sb, ss) = (annotate(big, false)?, annotate(small, false)?);
    let per = |a: &HashMap<String, u64>, b: &HashMap<String, u64>, k: &str| {
        (*a.get(k).unwrap_or(&0) as f64 - *b.get(k).unwrap_or(&0) as f64) / units
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
            f.inclusive >= floor
                && (f.function.starts_with("dataplane::")
                    || f.function.starts_with("conntrack::")
                    || f.function.starts_with("sched::"))
        })
        .collect();
    v.sort_by(|a, b| b.inclusive.total_cmp(&a.inclusive));
    v.truncate(most);
    Ok(v)
}

/// A report's profile table: `intro`, then one row per function of a
/// serialized `pipeline_profile`.
pub fn profile_md(md: &mut String, intro: &str, prof: &[Value]) -> Result<(), std::fmt::Error> {
    writeln!(md, "\n{intro}\n")?;
    writeln!(md, "| function | inclusive | self |\n|---|---:|---:|")?;
    for f in prof {
        writeln!(
            md,
            "| `{}` | {:.0} | {:.0} |",
            f["function"].as_str().unwrap_or("?"),
            f["inclusive"].as_f64().unwrap_or(0.0),
            f["self_cost"].as_f64().unwrap_or(0.0)
        )?;
    }
    Ok(())
}
