//! `pktloop ipc`: instructions per whole short connection, per mode, under
//! callgrind, and a timed hint outside it.
use anyhow::{bail, Result};
use fvs_bench::args::{arg, num, write_json};
use fvs_bench::callgrind::{Differential, FnCost};
use fvs_bench::connection::{
    segments_per_conn, ConnLoop, MS_PER_CONN, REQUEST_BYTES, RESPONSE_BYTES,
};
use fvs_bench::Mode;
use serde::Serialize;

use crate::timed_conns;

/// The target for a whole short connection: 1 µs of CPU (HAProxy
/// measured 81 µs on this machine).
const TARGET_CONN_NS: f64 = 1_000.0;
const HAPROXY_CONN_NS: f64 = 81_000.0;

#[derive(Serialize)]
struct ModeIpc {
    mode: String,
    /// Segments of a connection through the director (8, or the client's 5).
    segments: u64,
    /// Instructions per connection of the whole loop (pipeline + harness).
    gross: f64,
    /// The harness alone (building, refilling and reading the frames).
    harness: f64,
    /// gross - harness: the pipeline's own cost per connection, housekeeping included.
    pipeline: f64,
    pipeline_per_packet: f64,
    /// Timed outside valgrind after N0 connections: median of 5 rounds of
    /// N - N0 connections, ns per connection (a hint; criterion's
    /// `connection/<mode>` is the measurement).
    ns_hint_gross: f64,
    ns_hint_harness: f64,
    ns_hint_pipeline: f64,
    /// Connection table entries once N0 connections ran (the steady state).
    table_entries: usize,
}

#[derive(Serialize)]
struct IpcReport {
    n: u64,
    n0: u64,
    ms_per_conn: u64,
    request_bytes: usize,
    response_bytes: usize,
    target_ns: f64,
    haproxy_ns: f64,
    modes: Vec<ModeIpc>,
    /// Where a NAT connection's instructions go, per connection.
    nat_profile: Vec<FnCost>,
    command: String,
}

/// Median wall-clock ns per connection over 5 rounds of `n` connections,
/// after `warm` untimed ones.
fn median_ns(mode: Mode, ms: u64, warm: u64, n: u64, baseline: bool) -> Result<(f64, usize)> {
    let mut c = ConnLoop::new(mode, ms)?;
    timed_conns(&mut c, warm, baseline)?;
    let table = c.pipeline.conns().len();
    let mut v = (0..5)
        .map(|_| timed_conns(&mut c, n, baseline))
        .collect::<Result<Vec<f64>>>()?;
    v.sort_by(f64::total_cmp);
    Ok((v[2], table))
}

pub fn ipc(args: &[String]) -> Result<()> {
    let cg = Differential::from_args(
        args,
        "--conns",
        (30_000, 15_000),
        "/tmp/ferrovs-pktloop-conn",
    )?;
    let (n, n0) = (cg.n, cg.n0);
    let ms = num(args, "--ms-per-conn", MS_PER_CONN)?;
    // The table is steady once the first connections expire (120 s).
    if n0 * ms < 121_000 {
        bail!(
            "--n0 {n0} at {ms} ms per connection is {} s of traffic: \
             the table is steady after 121 s",
            n0 * ms / 1000
        );
    }
    let modes = Mode::parse_list(arg(args, "--modes"), &Mode::CONNECTION)?;
    let mut report = IpcReport {
        n,
        n0,
        ms_per_conn: ms,
        request_bytes: REQUEST_BYTES,
        response_bytes: RESPONSE_BYTES,
        target_ns: TARGET_CONN_NS,
        haproxy_ns: HAPROXY_CONN_NS,
        modes: Vec::new(),
        nat_profile: Vec::new(),
        command: format!("pktloop ipc {}", args.join(" ")),
    };
    let ms_s = ms.to_string();
    for mode in modes {
        let m = mode.name();
        let tag = format!("conn-{m}");
        let a = ["conn", "--mode", m, "--ms-per-conn", ms_s.as_str()];
        let gross = cg.per_unit(&tag, &a)?;
        let harness = cg.per_unit(
            &format!("{tag}.baseline"),
            &[&a[..], &["--baseline"]].concat(),
        )?;
        let segments = segments_per_conn(mode);
        let (ns_gross, table_entries) = median_ns(mode, ms, n0, n - n0, false)?;
        let (ns_harness, _) = median_ns(mode, ms, n0, n - n0, true)?;
        let r = ModeIpc {
            mode: m.into(),
            segments,
            gross,
            harness,
            pipeline: gross - harness,
            pipeline_per_packet: (gross - harness) / segments as f64,
            ns_hint_gross: ns_gross,
            ns_hint_harness: ns_harness,
            ns_hint_pipeline: ns_gross - ns_harness,
            table_entries,
        };
        println!(
            "pktloop ipc mode={m:<8} segments={segments} gross={:>8.0} harness={:>6.0} pipeline={:>8.0} \
             instructions/connection ({:>5.0}/packet); timed hint {:>6.0} ns/connection \
             (pipeline {:>6.0}, target <= {TARGET_CONN_NS}); table {} entries",
            r.gross, r.harness, r.pipeline, r.pipeline_per_packet, r.ns_hint_gross,
            r.ns_hint_pipeline, r.table_entries
        );
        if mode == Mode::Nat {
            report.nat_profile = cg.profile(&tag, "nat connection profile", 20.0, 25)?;
        }
        report.modes.push(r);
    }
    cg.print_kept("conn-nat");
    write_json(args, &report)
}
