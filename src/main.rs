//! ferrovs: a DPDK userspace Layer-4 load balancer with LVS/IPVS semantics.
use ferrovs::{convert, live};

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use control::config::{Config, MachineFacts};

#[derive(Parser)]
#[command(
    name = "ferrovs",
    version,
    about = "DPDK userspace L4 load balancer (LVS semantics)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the director live on DPDK ports.
    Run {
        #[arg(long)]
        config: PathBuf,
    },
    /// Push a pcap through the same pipeline offline (no DPDK, no root).
    Replay {
        #[arg(long)]
        config: PathBuf,
        #[arg(long = "in")]
        input: PathBuf,
        #[arg(long = "out")]
        output: PathBuf,
        /// Write a JSON report of counters and decisions here.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Write the frames that would go to the ports' kernel twins here.
        #[arg(long = "host-out")]
        host_out: Option<PathBuf>,
    },
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        cmd: ConfigCmd,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Validate a YAML file without running anything.
    Check { file: PathBuf },
    /// Print the services of a YAML file as an ipvsadm rule dump (`ipvsadm -S -n`).
    ToIpvsadm { file: PathBuf },
    /// Read an ipvsadm rule dump (`ipvsadm -S -n`) on stdin and print the YAML
    /// `services:` section it describes; with --base, a whole config whose
    /// services are replaced by the dump's.
    FromIpvsadm {
        #[arg(long)]
        base: Option<PathBuf>,
    },
    /// Read a keepalived.conf (and its includes) and print the ferrovs YAML
    /// of its virtual servers and health checks. Every keyword not mapped
    /// is listed on stderr as FILE:LINE: keyword: reason.
    FromKeepalived {
        file: PathBuf,
        /// A ferrovs config giving what keepalived has no notion of (workers,
        /// ports, routes); its services are replaced. Without it, only the
        /// services: (and timeouts:) sections are printed.
        #[arg(long)]
        base: Option<PathBuf>,
        /// Any keyword not mapped is an error: exit 1, nothing written.
        #[arg(long)]
        strict: bool,
        /// Write the YAML here instead of stdout.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().cmd {
        Cmd::Run { config } => {
            let cfg = load(&config)?;
            check_machine(&cfg, &config)?;
            live::run(cfg, &config)
        }
        Cmd::Replay {
            config,
            input,
            output,
            report,
            host_out,
        } => replay(
            &load(&config)?,
            &input,
            &output,
            report.as_ref(),
            host_out.as_ref(),
        ),
        Cmd::Config { cmd } => match cmd {
            ConfigCmd::Check { file } => {
                check_machine(&load(&file)?, &file)?;
                println!("{}: ok", file.display());
                Ok(())
            }
            ConfigCmd::ToIpvsadm { file } => {
                print!("{}", control::convert::ipvsadm_from_config(&load(&file)?)?);
                Ok(())
            }
            ConfigCmd::FromIpvsadm { base } => from_ipvsadm(base.as_deref()),
            ConfigCmd::FromKeepalived {
                file,
                base,
                strict,
                output,
            } => from_keepalived(&file, base.as_deref(), strict, output.as_deref()),
        },
    }
}

fn from_ipvsadm(base: Option<&std::path::Path>) -> Result<()> {
    let mut dump = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut dump).context("reading stdin")?;
    let services =
        control::convert::services_from_ipvsadm(&dump).map_err(|e| anyhow::anyhow!("{e}"))?;
    match base {
        Some(path) => {
            let mut cfg = load(path)?;
            cfg.services = services;
            cfg.validate()?;
            print!("{}", cfg.to_yaml());
        }
        None => {
            #[derive(serde::Serialize)]
            struct Services {
                services: Vec<control::config::Service>,
            }
            print!(
                "{}",
                serde_yaml_ng::to_string(&Services { services }).context("writing YAML")?
            );
        }
    }
    Ok(())
}

fn from_keepalived(
    file: &std::path::Path,
    base: Option<&std::path::Path>,
    strict: bool,
    output: Option<&std::path::Path>,
) -> Result<()> {
    let base = base.map(load).transpose()?;
    let mapped = control::keepalived::map_file(file, base.as_ref())?;
    for d in &mapped.diagnostics {
        eprintln!("{d}");
    }
    if strict && !mapped.diagnostics.is_empty() {
        anyhow::bail!(
            "--strict: {} keyword(s) not mapped as written; nothing written",
            mapped.diagnostics.len()
        );
    }
    let cfg = mapped.into_config(base.as_ref())?;
    let yaml = match base {
        Some(_) => cfg.to_yaml(),
        None => control::keepalived::fragment_yaml(&cfg, &mapped),
    };
    match output {
        Some(path) => {
            std::fs::write(path, yaml).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{yaml}"),
    }
    Ok(())
}

fn load(path: &std::path::Path) -> Result<Config> {
    Config::load(path).with_context(|| format!("config {}", path.display()))
}

/// The configuration against this machine (online CPUs, memory), as
/// `config check` and `run` (before DPDK) both do.
fn check_machine(config: &Config, path: &std::path::Path) -> Result<()> {
    let facts = MachineFacts::read().context("reading the machine's facts")?;
    config
        .validate_machine(&facts)
        .with_context(|| format!("config {}", path.display()))
}

fn replay(
    config: &Config,
    input: &PathBuf,
    output: &PathBuf,
    report: Option<&PathBuf>,
    host_out: Option<&PathBuf>,
) -> Result<()> {
    let snap = convert::snapshot(config, &[], 1)?;
    let reader =
        BufReader::new(File::open(input).with_context(|| format!("opening {}", input.display()))?);
    let writer = BufWriter::new(
        File::create(output).with_context(|| format!("creating {}", output.display()))?,
    );
    let host_writer = match host_out {
        Some(p) => Some(Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )) as Box<dyn std::io::Write>),
        None => None,
    };
    let r = dataplane::replay::replay(snap, reader, writer, host_writer)?;
    println!(
        "replay: {} frames in, {} out, {} to host, {} connections, {} dropped",
        r.frames_in,
        r.frames_out,
        r.frames_to_host,
        r.conns_created,
        r.drops.values().sum::<u64>()
    );
    if let Some(path) = report {
        std::fs::write(path, serde_json::to_vec_pretty(&r)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
