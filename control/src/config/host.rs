//! The host path's settings: each port's kernel twin (`host_iface`), its
//! rate limit, and the core of the host-path thread.

use std::collections::HashMap;

use super::device::{device_resources, DeviceResource};
use super::error::ConfigError;
use super::model::Config;

/// Linux's IFNAMSIZ less the terminating NUL.
pub(crate) const IFNAME_MAX: usize = 15;

/// Checks `ports[].host_iface`, `ports[].host_rate_pps` and `workers.host_core`.
pub(crate) fn check(cfg: &Config) -> Result<(), ConfigError> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, p) in cfg.ports.iter().enumerate() {
        if p.host_rate_pps == 0 {
            return Err(ConfigError::new(
                format!("ports[{i}].host_rate_pps"),
                "must be > 0",
            ));
        }
        let Some(name) = p.host_iface.as_deref() else {
            continue;
        };
        let path = format!("ports[{i}].host_iface");
        if let Err(why) = interface_name(name) {
            return Err(ConfigError::new(path, format!("{name:?} {why}")));
        }
        if let Some(j) = seen.insert(name, i) {
            return Err(ConfigError::new(
                path,
                format!("{name:?} is already the host_iface of ports[{j}]"),
            ));
        }
        let iface = DeviceResource::Iface(name.to_string());
        if let Some(j) = cfg
            .ports
            .iter()
            .position(|q| device_resources(&q.device).contains(&iface))
        {
            return Err(ConfigError::new(
                path,
                format!("{name:?} is the interface of ports[{j}].device"),
            ));
        }
    }
    if let Some(c) = cfg.workers.host_core {
        if cfg.workers.cores.contains(&c) {
            return Err(ConfigError::new(
                "workers.host_core",
                format!("{c} is a worker core (workers.cores)"),
            ));
        }
    }
    Ok(())
}

/// What the kernel accepts as an interface name (`dev_valid_name`).
fn interface_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("must not be empty");
    }
    if name.len() > IFNAME_MAX {
        return Err("is longer than 15 bytes (IFNAMSIZ)");
    }
    if name == "." || name == ".." {
        return Err("is not an interface name");
    }
    if name
        .bytes()
        .any(|b| b == b'/' || b == b':' || b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err("must not contain '/', ':', white space or control characters");
    }
    Ok(())
}
