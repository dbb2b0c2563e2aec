//! `pktloop ipp`: instructions per packet of an established flow, per mode,
//! under callgrind.
use anyhow::Result;
use fvs_bench::args::{arg, num, write_json};
use fvs_bench::callgrind::{Differential, FnCost};
use fvs_bench::Mode;
use serde::Serialize;

/// The target the issue sets for an established NAT flow.
const TARGET_NAT_IPP: f64 = 150.0;

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

pub fn ipp(args: &[String]) -> Result<()> {
    let cg = Differential::from_args(args, "--packets", (200_000, 20_000), "/tmp/ferrovs-pktloop")?;
    let flows = num(args, "--flows", 256)?;
    let modes = Mode::parse_list(arg(args, "--modes"), &Mode::ALL)?;
    let mut report = IppReport {
        n: cg.n,
        n0: cg.n0,
        flows,
        target_nat: TARGET_NAT_IPP,
        modes: Vec::new(),
        nat_profile: Vec::new(),
        command: format!("pktloop ipp {}", args.join(" ")),
    };
    let fs = flows.to_string();
    for mode in modes {
        let m = mode.name();
        let a = ["run", "--mode", m, "--flows", fs.as_str()];
        let gross = cg.per_unit(m, &a)?;
        let harness = cg.per_unit(
            &format!("{m}.baseline"),
            &[&a[..], &["--baseline"]].concat(),
        )?;
        if mode == Mode::Nat {
            report.nat_profile = cg.profile(m, "nat profile", 4.0, 20)?;
        }
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
                let gross = cg.per_unit(
                    &format!("{m}-sync-{sync}"),
                    &[&a[..], &["--sync", sync]].concat(),
                )?;
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
    cg.print_kept("nat");
    write_json(args, &report)
}
