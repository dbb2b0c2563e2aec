//! `ferrovs config from-keepalived`: reads a keepalived.conf (with its
//! `include` files) and writes the ferrovs services it describes, health
//! checks included, and its VRRP instances. keepalived has no notion of
//! ports, workers or routes: those come from a base ferrovs configuration
//! (whose ports also resolve the instances' interfaces).
//!
//! Nothing is dropped silently: every keyword that has no ferrovs meaning
//! (VRRP tracking, mail alerts, DPVS extensions, invalid values keepalived
//! itself would ignore, ...) becomes a `Diagnostic` naming its file and line.

mod checker;
mod lexer;
mod map;
mod real;
mod sync;
mod tree;
mod values;
mod vrrp;
mod vs;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::Path;

use crate::config::{Config, ConfigError, Service, SyncConfig, Timeouts, VrrpInstance};

pub use tree::{parse_text, Node};

/// A keyword (or value) that was not mapped as written, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub keyword: String,
    /// `not mapped (reason)`, or how the value was mapped instead.
    pub message: String,
}

impl Diagnostic {
    pub fn new(file: &str, line: usize, keyword: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_string(),
            line,
            keyword: keyword.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.keyword, self.message
        )
    }
}

/// Why nothing could be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: {message}")]
    Io { file: String, message: String },
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    /// The mapped configuration fails validation (`at`: the
    /// virtual_server it came from, when the error is about a service).
    #[error("{at}{error}")]
    Invalid { at: String, error: ConfigError },
}

/// What a keepalived.conf maps to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    pub services: Vec<Service>,
    /// `lvs_timeouts` (tcp, tcpfin, udp); `None`: not given or 0
    /// (keepalived and ipvsadm leave such a timeout unchanged).
    pub timeouts: [Option<u32>; 3],
    /// Everything not mapped as written, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// The `virtual_server` each service comes from (file, line).
    pub origins: Vec<(String, usize)>,
    /// The `vrrp_instance` blocks.
    pub vrrp: Vec<VrrpInstance>,
    /// The `vrrp_instance` each instance comes from (file, line).
    pub vrrp_origins: Vec<(String, usize)>,
    /// `lvs_sync_daemon` (or a vrrp_instance's deprecated
    /// `lvs_sync_daemon_interface`).
    pub sync: Option<SyncConfig>,
    /// Where `sync` comes from (file, line, keyword).
    pub sync_origin: Option<(String, usize, String)>,
}

/// Reads and maps `path` and its includes; `base` (the configuration the
/// result goes into) resolves the VRRP interfaces to its ports.
pub fn map_file(path: &Path, base: Option<&Config>) -> Result<Mapped, ImportError> {
    let mut diags = Vec::new();
    let nodes = tree::parse_file(path, &mut diags)?;
    Ok(map::map(&nodes, diags, base.map(|b| b.ports.as_slice())))
}

/// Maps text (includes are listed, not read).
pub fn map_text(name: &str, text: &str, base: Option<&Config>) -> Result<Mapped, ImportError> {
    let mut diags = Vec::new();
    let nodes = parse_text(name, text, &mut diags)?;
    Ok(map::map(&nodes, diags, base.map(|b| b.ports.as_slice())))
}

impl Mapped {
    /// The whole configuration: `base` with its services, vrrp
    /// instances and sync daemon replaced by the mapped ones and its
    /// timeouts by `lvs_timeouts`, validated. Without a base, a skeleton (one worker on
    /// core 0, no ports) that only holds the mapped sections for
    /// validation: the instances then get every check that needs no port.
    pub fn into_config(&self, base: Option<&Config>) -> Result<Config, ImportError> {
        let mut cfg = base.cloned().unwrap_or_else(crate::convert::empty);
        cfg.services = self.services.clone();
        cfg.vrrp = self.vrrp.clone();
        cfg.sync = self.sync.clone();
        let t = &mut cfg.timeouts;
        for (slot, v) in [&mut t.tcp, &mut t.tcpfin, &mut t.udp]
            .into_iter()
            .zip(self.timeouts)
        {
            if let Some(v) = v {
                *slot = v;
            }
        }
        let checked = match base {
            Some(_) => cfg.validate(),
            None => {
                let mut no_vrrp = cfg.clone();
                no_vrrp.vrrp.clear();
                no_vrrp.sync = None;
                for s in &mut no_vrrp.services {
                    s.ha_suspend = false;
                }
                no_vrrp
                    .validate()
                    .and_then(|()| crate::config::vrrp::check_portless(&cfg))
                    .and_then(|()| crate::config::sync::check_portless(&cfg))
            }
        };
        checked.map_err(|error| self.invalid(error))?;
        Ok(cfg)
    }

    /// Names the virtual_server, vrrp_instance or lvs_sync_daemon behind
    /// a refused `services[i]...`, `vrrp[i]...` or `sync...` path.
    fn invalid(&self, error: ConfigError) -> ImportError {
        let origin = |prefix: &str, list: &[(String, usize)], what: &str| {
            error
                .path
                .strip_prefix(prefix)
                .and_then(|rest| rest.split(']').next())
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| list.get(i))
                .map(|(file, line)| format!("{file}:{line}: {what}: "))
        };
        let at = origin("services[", &self.origins, "virtual_server")
            .or_else(|| origin("vrrp[", &self.vrrp_origins, "vrrp_instance"))
            .or_else(|| {
                let (file, line, keyword) = self.sync_origin.as_ref()?;
                let sync = error.path == "sync" || error.path.starts_with("sync.");
                sync.then(|| format!("{file}:{line}: {keyword}: "))
            })
            .unwrap_or_default();
        ImportError::Invalid { at, error }
    }
}

/// The YAML of the mapped sections alone (`services:`, `vrrp:` when there
/// are instances, `sync:` when there is a sync daemon and, when
/// `lvs_timeouts` gave any, `timeouts:`), for pasting into a config.
pub fn fragment_yaml(cfg: &Config, mapped: &Mapped) -> String {
    #[derive(serde::Serialize)]
    struct Fragment<'a> {
        services: &'a [Service],
        #[serde(skip_serializing_if = "<[VrrpInstance]>::is_empty")]
        vrrp: &'a [VrrpInstance],
        #[serde(skip_serializing_if = "Option::is_none")]
        sync: Option<&'a SyncConfig>,
        #[serde(skip_serializing_if = "Option::is_none")]
        timeouts: Option<&'a Timeouts>,
    }
    let timeouts = mapped
        .timeouts
        .iter()
        .any(Option::is_some)
        .then_some(&cfg.timeouts);
    serde_yaml_ng::to_string(&Fragment {
        services: &cfg.services,
        vrrp: &cfg.vrrp,
        sync: cfg.sync.as_ref(),
        timeouts,
    })
    .unwrap_or_default()
}
