//! The "VRRP failover" section of results.md, from `failover.json`
//! (bench/scripts/failover.sh): a master SIGKILLed over and over, how long
//! until the backup's first advert, ferrovs against keepalived.
use std::fmt::Write as _;

use serde_json::Value;

use crate::report::num;

/// Seconds as milliseconds, or "-" when missing.
fn ms(v: &Value) -> String {
    v.as_f64()
        .map_or("-".into(), |x| format!("{:.0}", x * 1000.0))
}

const SYSTEMS: [&str; 2] = ["ferrovs", "keepalived"];
const FIGURES: [(&str, &str); 2] = [
    ("kill_to_first_advert", "SIGKILL -> backup's first advert"),
    (
        "last_advert_to_first_advert",
        "master's last advert -> backup's first",
    ),
];

/// The failover section from bench/scripts/failover.sh's summary.
pub fn failover_md(md: &mut String, f: &Value) -> Result<(), std::fmt::Error> {
    let v = &f["vrrp"];
    writeln!(
        md,
        "Run finished {} (commit {}, load average {} at its start). Two VRRP routers on the \
         namespace lab's bridge, version {}, `advert_int {}`, master priority {}, backup {}, \
         preemption on, one instance owning {}; the master is SIGKILLed, the backup takes over, \
         the master is restarted and preempts; {} rounds asked per system (bench/scripts/failover.sh). \
         Times from the kill (CLOCK_MONOTONIC, just before kill(2)) and from the master's last \
         advert to the backup's first advert captured on the bridge (same clock). \
         Master_Down_Interval {} ms; bound 3 x advert_int + skew + 0.5 s = {} ms.\n",
        f["date"].as_str().unwrap_or("?"),
        f["commit"].as_str().unwrap_or("?"),
        f["loadavg"]["start"].as_str().unwrap_or("?"),
        v["version"],
        num(&v["advert_int"], 1),
        v["priority_master"],
        v["priority_backup"],
        v["addresses"]
            .as_array()
            .map(|a| a
                .iter()
                .filter_map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(" and "))
            .unwrap_or_default(),
        f["rounds_asked"],
        ms(&f["master_down_interval"]),
        ms(&f["bound"]),
    )?;
    writeln!(
        md,
        "| system | interval | min ms | median ms | max ms | over the bound | rounds |\n\
         |---|---|---:|---:|---:|---:|---:|"
    )?;
    for name in SYSTEMS {
        let s = &f["systems"][name];
        if s.is_null() {
            writeln!(md, "| {name} | missing | | | | | |")?;
            continue;
        }
        let who = match name {
            "ferrovs" => "ferrovs (two directors)".to_string(),
            _ => format!(
                "keepalived{}",
                f["keepalived_version"]
                    .as_str()
                    .and_then(|v| v.split_whitespace().nth(1))
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default()
            ),
        };
        for (key, label) in FIGURES {
            let x = &s[key];
            writeln!(
                md,
                "| {who} | {label} | {} | {} | {} | {} | {}/{} |",
                ms(&x["min"]),
                ms(&x["median"]),
                ms(&x["max"]),
                x["over_bound"],
                s["rounds_ok"],
                s["rounds_run"]
            )?;
        }
    }
    let r = &f["ratio_of_medians"];
    writeln!(
        md,
        "\nferrovs / keepalived, ratio of medians: {} (kill -> first advert), {} (last advert -> first advert).",
        num(&r["kill_to_first_advert"], 3),
        num(&r["last_advert_to_first_advert"], 3)
    )?;
    for name in SYSTEMS {
        let s = &f["systems"][name];
        if s.is_null() {
            continue;
        }
        writeln!(
            md,
            "\n{name}: the master's adverts {} ms apart before the kill (median); restarted, its first \
             advert (preemption) {} ms later (median; the process start included){}{}{}",
            ms(&s["a_advert_gap_median"]),
            ms(&s["restart_to_first_a_advert"]["median"]),
            match s["early"].as_u64() {
                Some(n) if n > 0 => format!(
                    "; {n} round(s) with the backup's first advert sooner than Master_Down_Interval after the master's last"
                ),
                _ => String::new(),
            },
            match s["a_adverts_after_kill"].as_u64() {
                Some(n) if n > 0 => format!("; {n} advert(s) from the master captured after its kill"),
                _ => String::new(),
            },
            match s["error"].as_str() {
                Some(e) => format!("; stopped early: {e}"),
                None => ".".to_string(),
            }
        )?;
    }
    if let Some(e) = f["error"].as_str() {
        writeln!(md, "\nThe run reported: {e}.")?;
    }
    writeln!(
        md,
        "\nkill -> first advert is the backup's Master_Down_Interval less the time between the \
         master's last advert and the kill (uniform over one interval: the kill is placed at \
         random in it), plus the backup's delay in noticing and sending. Every director and \
         keepalived shares the machine's two cores with the capture and other load (load \
         average above); failover.json has every round, with the adverts around each takeover."
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_both_systems_and_a_missing_one() {
        let stat = |m: f64| serde_json::json!({"n": 20, "min": m - 0.05, "median": m, "max": m + 0.05, "over_bound": 0});
        let sys = |m: f64| {
            serde_json::json!({
                "rounds_run": 20, "rounds_ok": 20, "error": null, "early": 0, "a_adverts_after_kill": 0,
                "a_advert_gap_median": 0.1, "restart_to_first_a_advert": {"median": 1.2},
                "kill_to_first_advert": stat(m), "last_advert_to_first_advert": stat(m + 0.05)
            })
        };
        let mut f = serde_json::json!({
            "date": "d", "commit": "c", "loadavg": {"start": "1"}, "rounds_asked": 20,
            "vrrp": {"version": 3, "advert_int": 0.1, "priority_master": 150, "priority_backup": 100,
                     "addresses": ["10.99.0.100", "10.99.1.1/24"]},
            "master_down_interval": 0.3609375, "bound": 0.8609375,
            "keepalived_version": "Keepalived v2.2.7 (01/16,2022)",
            "systems": {"ferrovs": sys(0.32), "keepalived": sys(0.31)},
            "ratio_of_medians": {"kill_to_first_advert": 1.03, "last_advert_to_first_advert": 1.02}
        });
        let mut md = String::new();
        failover_md(&mut md, &f).unwrap();
        assert!(md.contains("| ferrovs (two directors) | SIGKILL -> backup's first advert | 270 | 320 | 370 | 0 | 20/20 |"), "{md}");
        assert!(md.contains("| keepalived v2.2.7 |"), "{md}");
        assert!(md.contains("1.030 (kill -> first advert)"), "{md}");
        f["systems"]["keepalived"] = Value::Null;
        let mut md = String::new();
        failover_md(&mut md, &f).unwrap();
        assert!(md.contains("| keepalived | missing |"), "{md}");
    }
}
