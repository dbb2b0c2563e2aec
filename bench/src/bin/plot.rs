//! plot: gathers the raw outputs of one `scripts/bench.sh` run into
//! bench/results/results.json and results.md, and draws SVG charts.
//!
//!   plot --raw bench/results/raw --criterion $CARGO_TARGET_DIR/criterion --out bench/results
//!
//! Every input is optional: a missing part is reported as missing, not guessed.
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use fvs_bench::callgrind::profile_md;
use fvs_bench::charts::{bar_chart, peers_chart};
use fvs_bench::connection_report::ConnResults;
use fvs_bench::failover_report::failover_md;
use fvs_bench::hostpath_report::host_path_md;
use fvs_bench::peers_report::{self, peers_md};
use fvs_bench::report::mode_bars;
use serde_json::{json, Value};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn read_json(p: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(p).ok()?).ok()
}

/// Mean time (ns) of one criterion benchmark, from `<dir>/<id>/new/estimates.json`.
fn criterion_ns(dir: &Path, id: &str) -> Option<f64> {
    let v = read_json(&dir.join(id).join("new/estimates.json"))?;
    v["mean"]["point_estimate"].as_f64()
}

const MODES: [&str; 6] = ["nat", "nat-reply", "fullnat", "fullnat-reply", "dr", "tun"];
const SCHEDULERS: [&str; 14] = [
    "rr", "wrr", "lc", "wlc", "sed", "nq", "lblc", "lblcr", "sh", "dh", "mh", "fo", "ovf", "twos",
];
const SIZES: [(&str, &str); 3] = [("1000", "1K"), ("1000000", "1M"), ("10000000", "10M")];
/// conntrack/benches/table.rs lookup ids, and the lookups one criterion
/// iteration does (its `BURST` for the burst-shaped ones): ns per lookup is
/// the iteration mean divided by it.
const LOOKUP_KINDS: [(&str, f64); 7] = [
    ("hit", 1.0),
    ("burst_hit", 32.0),
    ("reply_hit", 1.0),
    ("miss", 1.0),
    ("hit_smallpages", 1.0),
    ("burst_hit_smallpages", 32.0),
    ("floor_two_reads", 32.0),
];
const PKT_MODES: [&str; 4] = ["nat", "fullnat", "dr", "tun"];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let raw = PathBuf::from(arg(&args, "--raw").unwrap_or("bench/results/raw".into()));
    let crit =
        PathBuf::from(arg(&args, "--criterion").unwrap_or("/tmp/target-bench/criterion".into()));
    let out = PathBuf::from(arg(&args, "--out").unwrap_or("bench/results".into()));
    std::fs::create_dir_all(&out)?;

    let meta = read_json(&raw.join("meta.json")).unwrap_or(json!({}));
    let ipp = read_json(&raw.join("ipp.json"));
    let conns = ConnResults::gather(read_json(&raw.join("ipc.json")), |id| {
        criterion_ns(&crit, id)
    });

    // Criterion: established path per mode, new connection per scheduler,
    // conntrack lookups per table size.
    let mut established = BTreeMap::new();
    for m in MODES {
        if let Some(ns) = criterion_ns(&crit, &format!("established/{m}")) {
            established.insert(m.to_string(), ns);
        }
    }
    let mut new_conn = BTreeMap::new();
    for s in SCHEDULERS {
        if let Some(ns) = criterion_ns(&crit, &format!("new_conn/{s}")) {
            new_conn.insert(s.to_string(), ns);
        }
    }
    let mut lookup = BTreeMap::new();
    for (kind, per_iter) in LOOKUP_KINDS {
        for (n, _) in SIZES {
            if let Some(ns) = criterion_ns(&crit, &format!("lookup/{kind}/{n}")) {
                lookup.insert(format!("{kind}/{n}"), ns / per_iter);
            }
        }
    }
    let churn = criterion_ns(&crit, "churn/insert_update_expire");

    // Packet rate: best round per mode.
    let mut best: BTreeMap<String, f64> = BTreeMap::new();
    let mut rounds: Vec<Value> = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&raw) {
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("pktrate-") && n.ends_with(".json"))
            })
            .collect();
        files.sort();
        for f in files {
            let Some(v) = read_json(&f) else { continue };
            for r in v["results"].as_array().into_iter().flatten() {
                let mode = r["mode"].as_str().unwrap_or("?").to_string();
                let mpps = r["rx_mpps"].as_f64().unwrap_or(0.0);
                let e = best.entry(mode).or_insert(0.0);
                *e = e.max(mpps);
                rounds.push(json!({"file": f.file_name().and_then(|n| n.to_str()), "result": r}));
            }
        }
    }
    let bounce = best.get("bounce").copied();

    // Peers: one line per (lb, test, round); medians over the rounds.
    let peer_rows = std::fs::read_to_string(raw.join("peers.jsonl"))
        .map(|t| peers_report::peer_rows(&t))
        .unwrap_or_default();
    let peers_verdict = peers_report::verdict(&peer_rows);

    // Host path: bench/scripts/hostpath.sh's own summary, kept as it is.
    let host_path = read_json(&raw.join("hostpath.json"));
    // VRRP failover: bench/scripts/failover.sh's own summary, kept as it is.
    let failover = read_json(&raw.join("failover.json"));

    let results = json!({
        "meta": meta,
        "instructions_per_packet": ipp,
        "connection": conns.json(),
        "micro_ns": {
            "established": established,
            "new_conn": new_conn,
            "conntrack_lookup": lookup,
            "conntrack_churn": churn,
        },
        "packet_rate": {
            "best_rx_mpps": best,
            "ratio_to_bounce": PKT_MODES.iter().filter_map(|m| {
                Some((m.to_string(), best.get(*m)? / bounce?))
            }).collect::<BTreeMap<_, _>>(),
            "target_ratio": 0.8,
            "rounds": rounds,
        },
        "peers": peer_rows,
        "peers_keepalive_verdict": peers_verdict,
        "host_path": host_path,
        "failover": failover,
    });
    std::fs::write(
        out.join("results.json"),
        serde_json::to_vec_pretty(&results)?,
    )?;

    // ---- charts
    if let Some(ipp) = &ipp {
        bar_chart(
            &out.join("ipp.svg"),
            "Instructions per packet, established flow (callgrind, harness subtracted)",
            "instructions / packet",
            &mode_bars(ipp, "pipeline"),
            Some((150.0, "target: NAT <= 150")),
            "{:.0}",
        )?;
    }
    if conns.present() {
        conns.charts(&out)?;
    }
    if !established.is_empty() || !new_conn.is_empty() {
        let mut bars: Vec<(String, f64)> = MODES
            .iter()
            .filter_map(|m| Some((format!("est {m}"), *established.get(*m)?)))
            .collect();
        bars.extend(
            SCHEDULERS
                .iter()
                .filter_map(|s| Some((format!("new {s}"), *new_conn.get(*s)?))),
        );
        bar_chart(
            &out.join("micro.svg"),
            "Pipeline time per packet (criterion mean): established flows, new connection per scheduler",
            "ns / packet",
            &bars,
            None,
            "{:.0}",
        )?;
    }
    if !lookup.is_empty() {
        let mut bars = Vec::new();
        for (kind, _) in LOOKUP_KINDS {
            for (n, label) in SIZES {
                if let Some(ns) = lookup.get(&format!("{kind}/{n}")) {
                    bars.push((format!("{kind} {label}"), *ns));
                }
            }
        }
        bar_chart(
            &out.join("lookup.svg"),
            "Connection lookup vs table size (conntrack criterion, scattered keys)",
            "ns / lookup",
            &bars,
            None,
            "{:.0}",
        )?;
    }
    if !best.is_empty() {
        let mut bars: Vec<(String, f64)> = PKT_MODES
            .iter()
            .filter_map(|m| Some((format!("ferrovs {m}"), *best.get(*m)?)))
            .collect();
        if let Some(b) = bounce {
            bars.push(("bounce (I/O ceiling)".into(), b));
        }
        let target = bounce.map(|b| (0.8 * b, "0.8 x bounce"));
        bar_chart(
            &out.join("pktrate.svg"),
            "64-byte packet rate over memif, 1 worker core (best round)",
            "Mpps",
            &bars,
            target,
            "{:.2}",
        )?;
    }
    if !peer_rows.is_empty() {
        peers_chart(&out.join("peers.svg"), &peer_rows, &peers_verdict)?;
    }

    // ---- markdown
    let mut md = String::new();
    writeln!(md, "# ferrovs benchmark results\n")?;
    writeln!(
        md,
        "Machine: {}. Run: {}. Commit: {}. Produced by `make bench` (scripts/bench.sh); \
         charts: ipp.svg, conn-ipc.svg, conn-ns.svg, micro.svg, lookup.svg, pktrate.svg, peers.svg.\n",
        meta["cpu"].as_str().unwrap_or("?"),
        meta["date"].as_str().unwrap_or("?"),
        meta["commit"].as_str().unwrap_or("?")
    )?;
    writeln!(
        md,
        "## Instructions per packet (established flow, callgrind)\n"
    )?;
    match &ipp {
        Some(ipp) => {
            writeln!(
                md,
                "`{}`: (Ir(N) - Ir(N0)) / (N - N0), N = {}, N0 = {}, {} flows. `harness` is the same loop \
                 without the pipeline (frame refill + recycle); `pipeline` = gross - harness. \
                 Target for NAT: <= 150.\n",
                ipp["command"].as_str().unwrap_or("pktloop ipp"),
                ipp["n"],
                ipp["n0"],
                ipp["flows"]
            )?;
            writeln!(md, "| mode | gross | harness | pipeline | vs target 150 |")?;
            writeln!(md, "|---|---:|---:|---:|---:|")?;
            for m in ipp["modes"].as_array().into_iter().flatten() {
                let p = m["pipeline"].as_f64().unwrap_or(0.0);
                writeln!(
                    md,
                    "| {} | {:.0} | {:.0} | {:.0} | {:.1}x |",
                    m["mode"].as_str().unwrap_or("?"),
                    m["gross"].as_f64().unwrap_or(0.0),
                    m["harness"].as_f64().unwrap_or(0.0),
                    p,
                    p / 150.0
                )?;
            }
        }
        None => writeln!(md, "missing (valgrind not run)")?,
    }
    if let Some(prof) = ipp
        .as_ref()
        .and_then(|i| i["nat_profile"].as_array())
        .filter(|p| !p.is_empty())
    {
        profile_md(
            &mut md,
            "Where an established NAT packet's instructions go (callgrind_annotate, N minus N0, per packet; \
             self cost includes code inlined into the function):",
            prof,
        )?;
    }
    if section(
        &mut md,
        "Whole short connections (instructions and ns per connection)",
        conns.present(),
    )? {
        conns.md(&mut md)?;
    }
    if section(
        &mut md,
        "Micro-benchmarks (criterion, mean ns per packet)",
        !(established.is_empty() && new_conn.is_empty()),
    )? {
        writeln!(md, "| established flow | ns |\n|---|---:|")?;
        for m in MODES {
            if let Some(v) = established.get(m) {
                writeln!(md, "| {m} | {v:.1} |")?;
            }
        }
        writeln!(md, "\n| new connection, scheduler | ns |\n|---|---:|")?;
        for s in SCHEDULERS {
            if let Some(v) = new_conn.get(s) {
                writeln!(md, "| {s} | {v:.1} |")?;
            }
        }
    }
    if section(
        &mut md,
        "Connection lookup (conntrack/benches/table.rs, ns)",
        !lookup.is_empty(),
    )? {
        writeln!(md, "| lookup | 1K | 1M | 10M |\n|---|---:|---:|---:|")?;
        for (kind, _) in LOOKUP_KINDS {
            let cells: Vec<String> = SIZES
                .iter()
                .map(|(n, _)| {
                    lookup
                        .get(&format!("{kind}/{n}"))
                        .map_or("-".into(), |v| format!("{v:.1}"))
                })
                .collect();
            writeln!(md, "| {kind} | {} |", cells.join(" | "))?;
        }
        let get = |k: &str| lookup.get(k).copied();
        if let (Some(small), Some(big)) = (get("burst_hit/1000"), get("burst_hit/10000000")) {
            writeln!(
                md,
                "\nburst lookups, 10M against 1K: {:.2}x (target at most 2x)",
                big / small
            )?;
            if let Some(floor) = get("floor_two_reads/10000000") {
                writeln!(
                    md,
                    "burst lookups at 10M against this machine's floor for two dependent \
                     random reads over the same memory (floor_two_reads): {:.2}x; \
                     the floor itself is {:.2}x the 1K lookup",
                    big / floor,
                    floor / small
                )?;
            }
        }
        if let Some(c) = churn {
            writeln!(md, "\ninsert + update + expire churn: {c:.1} ns")?;
        }
    }
    if section(
        &mut md,
        "Packet rate over memif (64-byte frames, 1 worker core)",
        !best.is_empty(),
    )? {
        writeln!(
            md,
            "Best of the interleaved rounds; ratio to the reflector measured in the same run. Target >= 0.8.\n"
        )?;
        writeln!(md, "| path | Mpps | / bounce |\n|---|---:|---:|")?;
        for m in PKT_MODES {
            if let Some(v) = best.get(m) {
                let ratio = bounce.map_or("-".into(), |b| format!("{:.2}", v / b));
                writeln!(md, "| ferrovs {m} | {v:.2} | {ratio} |")?;
            }
        }
        if let Some(b) = bounce {
            writeln!(md, "| bounce (I/O ceiling) | {b:.2} | 1.00 |")?;
        }
    }
    if section(
        &mut md,
        "Peers on the namespace lab (same core, same real servers, same wrk load)",
        !peer_rows.is_empty(),
    )? {
        peers_md(&mut md, &peer_rows, &peers_verdict)?;
    }
    if section(
        &mut md,
        "Host path (kernel twin, `ports[].host_iface`)",
        host_path.is_some(),
    )? {
        if let Some(h) = &host_path {
            host_path_md(&mut md, h)?;
        }
    }
    if section(
        &mut md,
        "VRRP failover (SIGKILLed master, ferrovs and keepalived)",
        failover.is_some(),
    )? {
        if let Some(f) = &failover {
            failover_md(&mut md, f)?;
        }
    }
    std::fs::write(out.join("results.md"), &md).context("writing results.md")?;
    print!("{md}");
    Ok(())
}

/// Writes a section heading, and "missing" when the run produced no data for
/// it; returns whether the section's table should follow.
fn section(md: &mut String, title: &str, present: bool) -> Result<bool, std::fmt::Error> {
    writeln!(md, "\n## {title}\n")?;
    if !present {
        writeln!(md, "missing")?;
    }
    Ok(present)
}
