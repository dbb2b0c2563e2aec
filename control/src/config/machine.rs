//! Checks against the machine the director starts on: online CPUs for
//! `workers.cores`, available memory for `conn_max`. These are facts, not
//! configuration, so they stay out of the pure `validate` (a reload or an
//! fvsadm change never depends on them); `ferrovs config check` and
//! `ferrovs run` (before DPDK) read the facts once and run this check.

use std::fmt;
use std::path::Path;

use super::error::ConfigError;
use super::model::Config;

/// Where the facts are read from.
pub const MEMINFO: &str = "/proc/meminfo";
pub const CPU_ONLINE: &str = "/sys/devices/system/cpu/online";

/// What the machine offers, read once (or made up by a test).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineFacts {
    /// Bytes the kernel can hand out without swapping (`MemAvailable`).
    /// The connection tables live in ordinary anonymous memory (on
    /// transparent huge pages where the kernel has them), not in the
    /// hugetlbfs pages DPDK reserves for mbufs, so this is what they draw on.
    pub mem_available: u64,
    /// The online CPUs.
    pub online_cpus: CpuList,
}

/// The machine's facts could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    #[error("reading {path}: {source}")]
    Read {
        path: &'static str,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: &'static str, message: String },
}

impl MachineFacts {
    /// The facts of the machine this runs on.
    pub fn read() -> Result<MachineFacts, MachineError> {
        let read = |path: &'static str| {
            std::fs::read_to_string(Path::new(path))
                .map_err(|source| MachineError::Read { path, source })
        };
        let mem_available = mem_available(&read(MEMINFO)?).ok_or_else(|| MachineError::Parse {
            path: MEMINFO,
            message: "no MemAvailable line".into(),
        })?;
        let online_cpus = read(CPU_ONLINE)?
            .parse()
            .map_err(|message| MachineError::Parse {
                path: CPU_ONLINE,
                message,
            })?;
        Ok(MachineFacts {
            mem_available,
            online_cpus,
        })
    }
}

/// `MemAvailable` of a /proc/meminfo text, in bytes.
pub fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?;
    let mut words = line.split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => value.checked_mul(1024),
        None => Some(value),
        Some(_) => None,
    }
}

/// A kernel CPU list (`0-3,8,10-11`), as in /sys/devices/system/cpu/online.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CpuList {
    /// Inclusive ranges, as written.
    ranges: Vec<(u32, u32)>,
}

impl CpuList {
    pub fn contains(&self, cpu: u32) -> bool {
        self.ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&cpu))
    }
}

impl std::str::FromStr for CpuList {
    type Err = String;
    fn from_str(s: &str) -> Result<CpuList, String> {
        let s = s.trim();
        let mut ranges = Vec::new();
        if s.is_empty() {
            return Ok(CpuList { ranges });
        }
        for part in s.split(',') {
            let num = |t: &str| {
                t.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("invalid CPU list {s:?}"))
            };
            let (lo, hi) = match part.split_once('-') {
                Some((a, b)) => (num(a)?, num(b)?),
                None => (num(part)?, num(part)?),
            };
            if lo > hi {
                return Err(format!("invalid CPU list {s:?}"));
            }
            ranges.push((lo, hi));
        }
        Ok(CpuList { ranges })
    }
}

impl fmt::Display for CpuList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ranges.is_empty() {
            return f.write_str("none");
        }
        for (i, &(lo, hi)) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

impl Config {
    /// The configuration against the machine: every `workers.cores` entry
    /// (and `workers.host_core`) an online CPU, and every worker's connection and template tables, full,
    /// within the memory available. Run after `validate`.
    pub fn validate_machine(&self, facts: &MachineFacts) -> Result<(), ConfigError> {
        for (i, &core) in self.workers.cores.iter().enumerate() {
            if !facts.online_cpus.contains(core) {
                return Err(ConfigError::new(
                    format!("workers.cores[{i}]"),
                    format!(
                        "CPU {core} is not online (online CPUs: {})",
                        facts.online_cpus
                    ),
                ));
            }
        }
        if let Some(core) = self.workers.host_core {
            if !facts.online_cpus.contains(core) {
                return Err(ConfigError::new(
                    "workers.host_core",
                    format!(
                        "CPU {core} is not online (online CPUs: {})",
                        facts.online_cpus
                    ),
                ));
            }
        }
        let workers = self.workers.cores.len().max(1);
        let per_worker = self.conns_per_worker();
        let needed =
            (conntrack::worker_memory_bytes_for(per_worker) as u64).saturating_mul(workers as u64);
        if needed > facts.mem_available {
            return Err(ConfigError::new(
                "conn_max",
                format!(
                    "{} connections{} ({per_worker} on each of {workers} worker(s)) need {needed} bytes \
                     of connection and template tables, but the machine has {} bytes available \
                     (MemAvailable in {MEMINFO})",
                    self.conn_max_or_default(),
                    if self.conn_max.is_none() { " (the default)" } else { "" },
                    facts.mem_available
                ),
            ));
        }
        Ok(())
    }
}
