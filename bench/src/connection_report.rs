//! Whole short connections in `plot`'s report: instructions per connection
//! from `pktloop ipc` (raw/ipc.json, callgrind) and ns per connection from
//! criterion's `connection/<mode>` and `connection/<mode>-harness`; their
//! results.json entry, results.md section and charts (conn-ipc.svg, conn-ns.svg).
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use serde_json::{json, Value};

use crate::callgrind::profile_md;
use crate::charts::bar_chart;
use crate::report::{mode_bars, num};

/// The modes `pktloop ipc` and the criterion bench run connections in.
const MODES: [&str; 4] = ["nat", "fullnat", "dr", "tun"];
/// The target: 1 µs of CPU per whole connection.
const TARGET_NS: f64 = 1_000.0;

/// Criterion's ns per connection of one mode.
#[derive(Serialize)]
struct Ns {
    gross: f64,
    /// The same frames without the pipeline.
    harness: Option<f64>,
    /// gross - harness: the director's own time.
    pipeline: Option<f64>,
}

pub struct ConnResults {
    ipc: Option<Value>,
    ns: BTreeMap<String, Ns>,
}

impl ConnResults {
    /// `ipc` is raw/ipc.json; `criterion_ns` gives a criterion benchmark's mean.
    pub fn gather(ipc: Option<Value>, criterion_ns: impl Fn(&str) -> Option<f64>) -> Self {
        let mut ns = BTreeMap::new();
        for m in MODES {
            let Some(gross) = criterion_ns(&format!("connection/{m}")) else {
                continue;
            };
            let harness = criterion_ns(&format!("connection/{m}-harness"));
            let pipeline = harness.map(|h| gross - h);
            ns.insert(
                m.to_string(),
                Ns {
                    gross,
                    harness,
                    pipeline,
                },
            );
        }
        ConnResults { ipc, ns }
    }

    pub fn json(&self) -> Value {
        json!({
            "instructions": self.ipc,
            "criterion_ns": self.ns,
            "target_ns": TARGET_NS,
        })
    }

    fn ipc_modes(&self) -> impl Iterator<Item = &Value> {
        self.ipc
            .as_ref()
            .and_then(|i| i["modes"].as_array())
            .into_iter()
            .flatten()
    }

    /// The director's ns per connection of `mode`: criterion's (harness
    /// subtracted), else the timed hint of `pktloop ipc`.
    fn pipeline_ns(&self, mode: &str) -> Option<(f64, bool)> {
        if let Some(p) = self.ns.get(mode).and_then(|n| n.pipeline) {
            return Some((p, false));
        }
        let m = self.ipc_modes().find(|m| m["mode"] == mode)?;
        Some((m["ns_hint_pipeline"].as_f64()?, true))
    }

    pub fn charts(&self, out: &Path) -> Result<()> {
        let ipc = self
            .ipc
            .as_ref()
            .map_or(Vec::new(), |i| mode_bars(i, "pipeline"));
        bar_chart(
            &out.join("conn-ipc.svg"),
            "Instructions per whole short connection (callgrind, harness subtracted)",
            "instructions / connection",
            &ipc,
            None,
            "{:.0}",
        )?;
        let ns: Vec<(String, f64)> = MODES
            .iter()
            .filter_map(|m| {
                let (v, hint) = self.pipeline_ns(m)?;
                Some((format!("{m}{}", if hint { " (hint)" } else { "" }), v))
            })
            .collect();
        bar_chart(
            &out.join("conn-ns.svg"),
            "Director time per whole short connection (criterion mean, harness subtracted)",
            "ns / connection",
            &ns,
            Some((TARGET_NS, "target: 1 µs per connection")),
            "{:.0}",
        )
    }

    pub fn present(&self) -> bool {
        self.ipc.is_some() || !self.ns.is_empty()
    }

    /// The section's body (its heading is the caller's).
    pub fn md(&self, md: &mut String) -> Result<(), std::fmt::Error> {
        let none = Value::Null;
        let ipc = self.ipc.as_ref().unwrap_or(&none);
        writeln!(
            md,
            "A connection: client SYN (MSS), server SYN+ACK, client ACK, a {}-byte request, a {}-byte \
             response, client FIN+ACK, server FIN+ACK, client ACK (bench/src/connection.rs); DR and \
             TUN see the client's 5 segments only. A fresh client port per connection, {} ms of \
             clock per connection and housekeeping at every tick, so the table holds the last \
             120 s of connections (TIME_WAIT / FIN_WAIT). Instructions: `{}`, (Ir(N) - Ir(N0)) / \
             (N - N0), N = {}, N0 = {}; ns: criterion `connection/<mode>` minus \
             `connection/<mode>-harness` (the same frames without the pipeline). \
             Target: at most 1 µs per connection (HAProxy: 81 µs on this machine).\n",
            ipc["request_bytes"].as_u64().unwrap_or(100),
            ipc["response_bytes"].as_u64().unwrap_or(500),
            ipc["ms_per_conn"].as_u64().unwrap_or(10),
            ipc["command"].as_str().unwrap_or("pktloop ipc (missing)"),
            ipc["n"],
            ipc["n0"],
        )?;
        writeln!(
            md,
            "| mode | segments | instr/conn gross | harness | pipeline | pipeline/packet | \
             ns/conn criterion | harness | pipeline | vs 1 µs | timed hint ns | table |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        )?;
        for m in MODES {
            let i = self.ipc_modes().find(|v| v["mode"] == m).unwrap_or(&none);
            let n = self.ns.get(m);
            if i.is_null() && n.is_none() {
                continue;
            }
            let opt = |x: Option<f64>, d: usize| num(&json!(x), d);
            let vs = self
                .pipeline_ns(m)
                .map_or("-".into(), |(v, _)| format!("{:.2}x", v / TARGET_NS));
            writeln!(
                md,
                "| {m} | {} | {} | {} | {} | {} | {} | {} | {} | {vs} | {} | {} |",
                num(&i["segments"], 0),
                num(&i["gross"], 0),
                num(&i["harness"], 0),
                num(&i["pipeline"], 0),
                num(&i["pipeline_per_packet"], 0),
                opt(n.map(|n| n.gross), 0),
                opt(n.and_then(|n| n.harness), 0),
                opt(n.and_then(|n| n.pipeline), 0),
                num(&i["ns_hint_pipeline"], 0),
                num(&i["table_entries"], 0),
            )?;
        }
        if let Some(prof) = ipc["nat_profile"].as_array().filter(|p| !p.is_empty()) {
            profile_md(
                md,
                "Where a NAT connection's instructions go (callgrind_annotate, N minus N0, per \
                 connection; self cost includes code inlined into the function):",
                prof,
            )?;
        }
        Ok(())
    }
}
