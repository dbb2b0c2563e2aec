//! The "Peers on the namespace lab" part of results.{json,md}, from
//! `peers.jsonl` (bench/scripts/peers.sh): one JSON line per wrk run, with
//! its load balancer, test and round. The keep-alive test runs in several
//! interleaved rounds; each figure reported is the median over the rounds
//! that gave a result, and every round is kept beside it.
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::report::num;

/// The load balancers, in the order peers.sh runs them (`ferrovs-b`: a
/// second ferrovs binary, with `PEER_FERROVS_B`, for a before/after run).
pub const LBS: [&str; 4] = ["ferrovs", "ferrovs-b", "haproxy", "nginx-stream"];

/// The median of `v` (the mean of the middle two for an even count).
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

/// A run wrk could not complete (peers.sh writes `errors: -1`, no requests).
fn failed(v: &Value) -> bool {
    let w = &v["wrk"];
    w["requests"].as_f64().unwrap_or(0.0) <= 0.0 || w["errors"].as_i64().unwrap_or(0) < 0
}

fn rate(v: &Value) -> f64 {
    let w = &v["wrk"];
    w["requests"].as_f64().unwrap_or(0.0) / (w["duration_us"].as_f64().unwrap_or(1.0) / 1e6)
}

fn gbps(v: &Value) -> f64 {
    let w = &v["wrk"];
    w["bytes"].as_f64().unwrap_or(0.0) * 8.0
        / (w["duration_us"].as_f64().unwrap_or(1.0) / 1e6)
        / 1e9
}

fn ms(v: &Value, key: &str) -> Option<f64> {
    v["wrk"][key].as_f64().map(|u| u / 1000.0)
}

/// Median of `f` over the runs of one test that completed.
fn med(runs: &[Value], f: impl Fn(&Value) -> Option<f64>) -> Option<f64> {
    median(runs.iter().filter(|r| !failed(r)).filter_map(f).collect())
}

/// One row per load balancer that has any run, from the lines of
/// peers.jsonl (a line without `round` counts as round 1).
pub fn peer_rows(jsonl: &str) -> Vec<Value> {
    let mut runs: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            let k = (
                v["lb"].as_str().unwrap_or("?").to_string(),
                v["test"].as_str().unwrap_or("?").to_string(),
            );
            runs.entry(k).or_default().push(v);
        }
    }
    for v in runs.values_mut() {
        v.sort_by_key(|r| r["round"].as_u64().unwrap_or(1));
    }
    let empty = Vec::new();
    let mut rows = Vec::new();
    for lb in LBS {
        let get = |test: &str| runs.get(&(lb.to_string(), test.to_string()));
        let (conn, ka, bulk) = (get("conn"), get("ka"), get("bulk"));
        if conn.is_none() && ka.is_none() && bulk.is_none() {
            continue;
        }
        let (conn, ka, bulk) = (
            conn.unwrap_or(&empty),
            ka.unwrap_or(&empty),
            bulk.unwrap_or(&empty),
        );
        let rounds: Vec<Value> = ka
            .iter()
            .map(|r| {
                let ok = !failed(r);
                json!({
                    "round": r["round"].as_u64().unwrap_or(1),
                    "req_per_s": ok.then(|| rate(r)),
                    "p50_ms": ms(r, "p50_us").filter(|_| ok),
                    "p99_ms": ms(r, "p99_us").filter(|_| ok),
                    "max_ms": ms(r, "max_us").filter(|_| ok),
                    "lb_cpu": r["lb_cpu"],
                })
            })
            .collect();
        rows.push(json!({
            "lb": lb,
            "new_conns_per_s": med(conn, |r| Some(rate(r))),
            "conn_p99_ms": med(conn, |r| ms(r, "p99_us")),
            "keepalive_req_per_s": med(ka, |r| Some(rate(r))),
            "keepalive_p50_ms": med(ka, |r| ms(r, "p50_us")),
            "keepalive_p99_ms": med(ka, |r| ms(r, "p99_us")),
            "keepalive_rounds_ok": ka.iter().filter(|r| !failed(r)).count(),
            "keepalive_rounds": rounds,
            "bulk_gbit_per_s": med(bulk, |r| Some(gbps(r))),
            "raw": {"conn": conn, "ka": ka, "bulk": bulk},
        }));
    }
    rows
}

/// Issue 16's target: ferrovs's median keep-alive p99 no worse than
/// HAProxy's, both from the same run's interleaved rounds.
pub fn verdict(rows: &[Value]) -> Value {
    let row = |lb: &str| rows.iter().find(|r| r["lb"] == lb);
    let p99 = |lb: &str| row(lb).and_then(|r| r["keepalive_p99_ms"].as_f64());
    let n = |lb: &str| row(lb).and_then(|r| r["keepalive_rounds_ok"].as_u64());
    let (f, h) = (p99("ferrovs"), p99("haproxy"));
    json!({
        "target": "ferrovs keep-alive p99 <= HAProxy keep-alive p99 (medians over rounds)",
        "ferrovs_p99_ms": f,
        "haproxy_p99_ms": h,
        "ferrovs_rounds": n("ferrovs"),
        "haproxy_rounds": n("haproxy"),
        "holds": f.zip(h).map(|(f, h)| f <= h),
    })
}

/// The peers section: medians, the verdict, then every keep-alive round.
pub fn peers_md(md: &mut String, rows: &[Value], verdict: &Value) -> Result<(), std::fmt::Error> {
    let rounds = rows
        .iter()
        .map(|r| r["keepalive_rounds"].as_array().map_or(0, Vec::len))
        .max()
        .unwrap_or(0);
    writeln!(
        md,
        "Keep-alive: median over {rounds} interleaved rounds (ferrovs, haproxy, nginx, ferrovs, ...; \
         each started afresh per round); new connections and bulk: round 1.\n"
    )?;
    writeln!(
        md,
        "| load balancer | new conn/s | keep-alive req/s | keep-alive p50 ms | keep-alive p99 ms | bulk Gbit/s |\n\
         |---|---:|---:|---:|---:|---:|"
    )?;
    for r in rows {
        writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            r["lb"].as_str().unwrap_or("?"),
            num(&r["new_conns_per_s"], 0),
            num(&r["keepalive_req_per_s"], 0),
            num(&r["keepalive_p50_ms"], 2),
            num(&r["keepalive_p99_ms"], 2),
            num(&r["bulk_gbit_per_s"], 2)
        )?;
    }
    let holds = match verdict["holds"].as_bool() {
        Some(true) => "**holds**",
        Some(false) => "**does not hold**",
        None => "**not measured**",
    };
    writeln!(
        md,
        "\nVerdict: ferrovs p99 <= HAProxy p99 {holds} (median {} ms over {} rounds vs {} ms over {} rounds).\n",
        num(&verdict["ferrovs_p99_ms"], 2),
        verdict["ferrovs_rounds"].as_u64().unwrap_or(0),
        num(&verdict["haproxy_p99_ms"], 2),
        verdict["haproxy_rounds"].as_u64().unwrap_or(0),
    )?;
    round_table(
        md,
        rows,
        rounds,
        "Keep-alive per round (req/s, p50 ms, p99 ms):",
        |x| {
            Some(format!(
                "{} / {} / {}",
                num(&x["req_per_s"], 0),
                num(&x["p50_ms"], 2),
                num(&x["p99_ms"], 2)
            ))
        },
    )?;
    // Where the CPU went (peers.sh's `lb_cpu`): a busy machine shows up here first.
    let has_cpu = rows.iter().any(|r| {
        r["keepalive_rounds"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["lb_cpu"].is_object()))
    });
    if has_cpu {
        writeln!(md)?;
        round_table(
            md,
            rows,
            rounds,
            "Load balancer CPU during each keep-alive run: ms on a CPU / ms runnable but waiting \
             for one (summed over its threads), and the load average at the start:",
            |x| {
                let c = &x["lb_cpu"];
                c.is_object().then(|| {
                    format!(
                        "{} / {} ({})",
                        num(&c["run_ms"], 0),
                        num(&c["wait_ms"], 0),
                        num(&c["loadavg"], 1)
                    )
                })
            },
        )?;
    }
    Ok(())
}

/// A table of rounds (rows) by load balancer (columns) under `title`; `cell`
/// renders one round's entry of `keepalive_rounds` ("-" when missing).
fn round_table(
    md: &mut String,
    rows: &[Value],
    rounds: usize,
    title: &str,
    cell: impl Fn(&Value) -> Option<String>,
) -> Result<(), std::fmt::Error> {
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["lb"].as_str().unwrap_or("?"))
        .collect();
    writeln!(
        md,
        "{title}\n\n| round | {} |\n|---:|{}",
        names.join(" | "),
        "---:|".repeat(rows.len())
    )?;
    for k in 1..=rounds as u64 {
        let cells: Vec<String> = rows
            .iter()
            .map(|r| {
                r["keepalive_rounds"]
                    .as_array()
                    .and_then(|a| a.iter().find(|x| x["round"].as_u64() == Some(k)))
                    .and_then(&cell)
                    .unwrap_or_else(|| "-".into())
            })
            .collect();
        writeln!(md, "| {k} | {} |", cells.join(" | "))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(lb: &str, test: &str, round: u64, p99_us: u64) -> String {
        format!(
            r#"{{"lb":"{lb}","test":"{test}","round":{round},"seconds":5,"wrk":{{"requests":1000,"duration_us":1000000,"bytes":8000,"errors":0,"p50_us":{},"p99_us":{p99_us},"max_us":9000}},"lb_cpu":{{"run_ms":1331,"wait_ms":4015,"loadavg":9.39}}}}"#,
            p99_us / 2
        )
    }

    #[test]
    fn median_odd_even_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![]), None);
    }

    #[test]
    fn medians_over_rounds_and_verdict() {
        let mut text = String::new();
        for (r, f, h) in [(1, 900, 1100), (2, 4400, 2200), (3, 800, 1000)] {
            text += &line("ferrovs", "ka", r, f);
            text.push('\n');
            text += &line("haproxy", "ka", r, h);
            text.push('\n');
        }
        text += &line("ferrovs", "conn", 1, 500);
        let rows = peer_rows(&text);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["keepalive_p99_ms"].as_f64(), Some(0.9));
        assert_eq!(rows[1]["keepalive_p99_ms"].as_f64(), Some(1.1));
        assert_eq!(rows[0]["keepalive_rounds"].as_array().unwrap().len(), 3);
        assert_eq!(rows[0]["new_conns_per_s"].as_f64(), Some(1000.0));
        let v = verdict(&rows);
        assert_eq!(v["holds"], json!(true));
        let mut md = String::new();
        peers_md(&mut md, &rows, &v).unwrap();
        assert!(md.contains("Verdict: ferrovs p99 <= HAProxy p99 **holds**"));
        assert!(md.contains("| 2 | 1000 / 2.20 / 4.40 | 1000 / 1.10 / 2.20 |"));
        assert!(md.contains("| 3 | 1331 / 4015 (9.4) | 1331 / 4015 (9.4) |"));
    }

    #[test]
    fn a_failed_round_is_left_out_of_the_median() {
        let text = format!(
            "{}\n{}\n{}\n",
            line("ferrovs", "ka", 1, 1000),
            r#"{"lb":"ferrovs","test":"ka","round":2,"seconds":5,"wrk":{"requests":0,"duration_us":1,"bytes":0,"errors":-1}}"#,
            line("ferrovs", "ka", 3, 3000),
        );
        let rows = peer_rows(&text);
        assert_eq!(rows[0]["keepalive_p99_ms"].as_f64(), Some(2.0));
        assert_eq!(rows[0]["keepalive_rounds_ok"].as_u64(), Some(2));
        assert_eq!(verdict(&rows)["holds"], Value::Null);
    }
}
