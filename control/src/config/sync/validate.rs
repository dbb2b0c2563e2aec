//! Validation of the `sync:` section. A value the kernel, ipvsadm or
//! keepalived would refuse, correct or ignore is refused here with its
//! field named.

use super::SyncConfig;
use crate::config::error::ConfigError;
use crate::config::health::Seconds;
use crate::config::model::Config;

type Result<T = ()> = std::result::Result<T, ConfigError>;

/// Largest `maxlen`: 65535 - 20 (IPv4) - 8 (UDP), ipvsadm's bound for
/// `--sync-maxlen` and the kernel's clamp.
pub const SYNC_MAXLEN_MAX: u16 = connsync::MAX_MAXLEN as u16;
/// Longest `flush_interval`: the kernel sends a buffer at most 2 s old
/// (`IPVS_SYNC_FLUSH_TIME`).
pub const FLUSH_INTERVAL_MAX: Seconds = super::FLUSH_INTERVAL;

fn err<T>(field: &str, message: impl Into<String>) -> Result<T> {
    Err(ConfigError::new(format!("sync.{field}"), message))
}

/// Every rule.
pub(crate) fn check(cfg: &Config) -> Result {
    let Some(s) = &cfg.sync else {
        return Ok(());
    };
    own(cfg, s)?;
    on_port(cfg, s)
}

/// The rules that need no port (the keepalived import without a base
/// configuration has none).
pub(crate) fn check_portless(cfg: &Config) -> Result {
    match &cfg.sync {
        Some(s) => own(cfg, s),
        None => Ok(()),
    }
}

/// The values on their own, and the instance.
fn own(cfg: &Config, s: &SyncConfig) -> Result {
    if s.interface.is_empty() {
        return err("interface", "must not be empty");
    }
    match (&s.instance, s.role) {
        (Some(name), role) => {
            if name.is_empty() {
                return err("instance", "must not be empty");
            }
            if !cfg.vrrp.iter().any(|v| v.name == *name) {
                return err(
                    "instance",
                    format!("no vrrp instance is named {name:?} (vrrp[].name)"),
                );
            }
            if role.is_some() {
                return err(
                    "role",
                    "must be absent with instance (the instance's state chooses the daemon: master while MASTER, backup otherwise)",
                );
            }
        }
        (None, None) => return err("role", "required without instance: master, backup or both"),
        (None, Some(_)) => {}
    }
    if !s.mcast_group.is_multicast() {
        return err(
            "mcast_group",
            format!("{} is not a multicast address (224.0.0.0/4)", s.mcast_group),
        );
    }
    if s.mcast_port == 0 {
        return err("mcast_port", "must be 1..=65535");
    }
    if s.mcast_ttl == 0 {
        return err("mcast_ttl", "must be 1..=255");
    }
    if s.maxlen == 0 || s.maxlen > SYNC_MAXLEN_MAX {
        return err("maxlen", format!("must be 1..={SYNC_MAXLEN_MAX}"));
    }
    let f = s.flush_interval;
    if f.is_zero() {
        return err("flush_interval", "must be above 0");
    }
    if f > FLUSH_INTERVAL_MAX {
        return err(
            "flush_interval",
            format!(
                "must be at most {FLUSH_INTERVAL_MAX} seconds (the kernel sends a message at most 2 s old)"
            ),
        );
    }
    if !f.as_micros().is_multiple_of(1000) {
        return err("flush_interval", "must be a whole number of milliseconds");
    }
    Ok(())
}

/// The rules that involve the interface's port.
fn on_port(cfg: &Config, s: &SyncConfig) -> Result {
    let Some(port) = cfg.port(&s.interface) else {
        return err(
            "interface",
            format!("unknown port {:?} (ports[].name)", s.interface),
        );
    };
    if port.host_iface.is_none() {
        return err(
            "interface",
            format!(
                "port {:?} has no host_iface (the sync datagrams travel through the port's kernel twin)",
                s.interface
            ),
        );
    }
    Ok(())
}
