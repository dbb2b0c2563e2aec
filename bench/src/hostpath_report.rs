//! The "Host path" section of results.md, from `hostpath.json`
//! (bench/scripts/hostpath.sh): kernel traffic through the twin, and the
//! memif rate with and without a twin.
use std::fmt::Write as _;

use serde_json::Value;

use crate::report::num;

/// The host-path section from bench/scripts/hostpath.sh's summary.
pub fn host_path_md(md: &mut String, h: &Value) -> Result<(), std::fmt::Error> {
    let t = &h["throughput"];
    writeln!(
        md,
        "Run finished {} (commit {}, load average {} at its start). Kernel traffic through the twin \
         on the namespace lab (bench/scripts/hostpath.sh): from the director namespace's kernel \
         to the real server 10.99.1.11 and back, {} MiB each way, median of {} rounds, \
         `host_rate_pps: {}`. Mbit/s of payload; frames/s from /metrics' \
         `ferrovs_port_host_frames_total` over the transfer.\n",
        h["date"].as_str().unwrap_or("?"),
        h["commit"].as_str().unwrap_or("?"),
        h["loadavg"]["start"].as_str().unwrap_or("?"),
        t["file_bytes"].as_u64().unwrap_or(0) >> 20,
        t["rounds"],
        t["host_rate_pps"]
    )?;
    writeln!(
        md,
        "| transfer | Mbit/s | to_kernel frames/s | from_kernel frames/s | host drops | rounds ok |\n\
         |---|---:|---:|---:|---:|---:|"
    )?;
    for d in ["download", "upload"] {
        let x = &t[d];
        if x.is_null() {
            continue;
        }
        let drops: Vec<String> = x["drops"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k, v.as_u64()?)))
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{n} `{k}`"))
            .collect();
        let drops = if drops.is_empty() {
            "0".to_string()
        } else {
            drops.join(", ")
        };
        writeln!(
            md,
            "| {} | {} | {} | {} | {} | {}/{} |",
            x["path"].as_str().unwrap_or(d),
            num(&x["median_mbit_per_s"], 0),
            num(&x["median_to_kernel_fps"], 0),
            num(&x["median_from_kernel_fps"], 0),
            drops,
            x["ok_rounds"],
            x["rounds"]
        )?;
    }
    if t["host_rate_pps"].as_u64().is_some_and(|r| r != 50_000) {
        writeln!(
            md,
            "\nThe bench raises `host_rate_pps` to measure the path itself: at the default, 50 000 \
             frames/s, what the kernel receives is capped at about 600 Mbit/s of full-size frames."
        )?;
    }
    let m = &h["memif"];
    writeln!(
        md,
        "\nPacket rate over memif with and without a twin, same run ({} mode, {} flows, {} s per round, \
         {} interleaved rounds of each; fvs-pktgen on core 0 and one worker on core 1, as in the \
         packet-rate bench). Best round of each kind (other load only lowers a rate) and medians:\n",
        m["mode"].as_str().unwrap_or("nat"),
        m["flows"],
        m["seconds"],
        m["rounds"]
    )?;
    writeln!(
        md,
        "| director | forwarded Mpps, best | / baseline | forwarded Mpps, median | offered Mpps, median \
         | forwarded / offered | kernel frames from the twin /s | kernel frames at the generator /s | rounds ok |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )?;
    for (k, label) in [
        ("baseline", "no host_iface (baseline)"),
        ("idle", "twin, idle"),
        ("busy", "twin, kernel UDP flood out of it"),
    ] {
        let x = &m[k];
        if x.is_null() {
            continue;
        }
        let vs = if k == "baseline" {
            "1.000".to_string()
        } else {
            num(&m["ratios"][&format!("{k}/baseline")], 3)
        };
        writeln!(
            md,
            "| {label} | {} | {vs} | {} | {} | {} | {} | {} | {}/{} |",
            num(&x["best_rx_mpps"], 2),
            num(&x["median_rx_mpps"], 2),
            num(&x["median_tx_mpps"], 2),
            num(&x["median_rx_per_tx"], 3),
            num(&x["median_from_kernel_fps"], 0),
            num(&x["median_rx_other_pps"], 0),
            x["ok_rounds"],
            x["rounds"]
        )?;
    }
    writeln!(
        md,
        "\nbusy / idle: {} (best rounds), {} (medians); idle / baseline {} (medians).",
        num(&m["ratios"]["busy/idle"], 3),
        num(&m["ratios_of_medians"]["busy/idle"], 3),
        num(&m["ratios_of_medians"]["idle/baseline"], 3)
    )?;
    for (k, x) in ["baseline", "idle", "busy"].iter().map(|k| (k, &m[*k])) {
        for e in x["unclean_exits"].as_array().into_iter().flatten() {
            writeln!(
                md,
                "\nferrovs ({k}, round {}) did not stop cleanly: exit status {} (139: SIGSEGV, 137: killed after 10 s).",
                e["round"], e["status"]
            )?;
        }
    }
    let busy = &m["busy"];
    if !busy.is_null() {
        writeln!(
            md,
            "\nDuring the busy rounds the kernel's sender managed {} datagrams/s (median); ferrovs \
             took {} frames/s from the twin and {} of them a second reached fvs-pktgen. The rest \
             were dropped, counted: {} frames/s as `ring_full` (the host-path ring towards the wire) \
             and, in the worker's totals, {} frames per round refused by the memif TX ring \
             (`tx_refused`), which fvs-pktgen drains late while it shares core 0.",
            num(&busy["median_sender_datagrams_per_s"], 0),
            num(&busy["median_from_kernel_fps"], 0),
            num(&busy["median_rx_other_pps"], 0),
            num(&busy["median_ring_full_per_s"], 0),
            num(&busy["median_worker_tx_refused"], 0)
        )?;
    }
    writeln!(
        md,
        "\nThe worker has core 1 to itself; fvs-pktgen, the host-path thread (`workers.host_core: 0`) \
         and, in the busy rounds, the kernel's UDP sender share core 0. The busy rows therefore show \
         the generator losing most of core 0 as much as the director's cost of sending the kernel's \
         frames; `forwarded / offered` (1 when the director forwards all it is offered) is the \
         director's own figure there. Other processes on the machine take cores too (load average \
         above); hostpath.json has every round."
    )?;
    Ok(())
}
