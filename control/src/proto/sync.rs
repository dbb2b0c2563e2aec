//! The connection-sync daemons over the control socket: what
//! `fvsadm --start-daemon` asks for and what `fvsadm -L --daemon` lists,
//! with the kernel's defaults and clamps (start_sync_thread).

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::config::sync::{SYNC_GROUP, SYNC_MAXLEN, SYNC_MAXLEN_MAX, SYNC_PORT, SYNC_TTL};
use crate::config::{SyncConfig, SyncRole};

/// Smallest `maxlen` of a backup: the kernel raises a smaller one to
/// 1024 (its receive buffer).
pub const BACKUP_MAXLEN_MIN: u16 = 1024;

/// `--start-daemon master|backup [--mcast-interface IF] [--syncid N]
/// [--sync-maxlen N] [--mcast-group A] [--mcast-port P] [--mcast-ttl T]`,
/// as ipvsadm sends it to the kernel: an option not given is `None` (the
/// daemon applies the kernel's default, `SyncDaemonSpec::status`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncDaemonSpec {
    pub role: SyncRole,
    /// A ferrovs port (`ports[].name`); the daemon uses its kernel twin.
    /// fvsadm sends ipvsadm's default, `eth0`, when none is given, and at
    /// most 15 bytes, as ipvsadm (`IP_VS_IFNAME_MAXLEN`).
    pub interface: String,
    /// 0..=255; 0 when not given.
    pub syncid: u8,
    /// `None`: 1472 for a master; for a backup, the interface's MTU (at
    /// least 1500) - 28.
    pub maxlen: Option<u16>,
    /// `None`: 224.0.0.81.
    pub group: Option<Ipv4Addr>,
    /// `None`: 8848.
    pub port: Option<u16>,
    /// `None`: 1.
    pub ttl: Option<u8>,
}

/// One running sync daemon, as `fvsadm -L --daemon` lists it: `master sync
/// daemon (mcast=eth0, syncid=51, maxlen=1472, group=224.0.0.81,
/// port=8848, ttl=1)`. Every value is the one in force (defaults filled
/// in, maxlen clamped).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncDaemonStatus {
    pub role: SyncRole,
    /// The ferrovs port, as the spec named it.
    pub interface: String,
    pub syncid: u8,
    pub maxlen: u16,
    pub group: Ipv4Addr,
    pub port: u16,
    pub ttl: u8,
}

impl SyncDaemonSpec {
    /// A spec with every option at its default (`syncid` 0).
    pub fn new(role: SyncRole, interface: impl Into<String>) -> SyncDaemonSpec {
        SyncDaemonSpec {
            role,
            interface: interface.into(),
            syncid: 0,
            maxlen: None,
            group: None,
            port: None,
            ttl: None,
        }
    }

    /// The daemon of role `role` that the YAML `sync:` section describes
    /// (every value explicit).
    pub fn from_config(cfg: &SyncConfig, role: SyncRole) -> SyncDaemonSpec {
        SyncDaemonSpec {
            role,
            interface: cfg.interface.clone(),
            syncid: cfg.syncid,
            maxlen: Some(cfg.maxlen),
            group: Some(cfg.mcast_group),
            port: Some(cfg.mcast_port),
            ttl: Some(cfg.mcast_ttl),
        }
    }

    /// The values in force, as the kernel's start_sync_thread sets them:
    /// group 224.0.0.81, port 8848 and TTL 1 when not given (or 0);
    /// a given maxlen clamped to 1..=65507 (master) or 1024..=65507
    /// (backup); without one, 1472 for a master and, for a backup,
    /// `clamp(mtu, 1500, 65535) - 28` (`mtu`: the interface's).
    pub fn status(&self, mtu: u16) -> SyncDaemonStatus {
        let min = match self.role {
            SyncRole::Master => 1,
            SyncRole::Backup => BACKUP_MAXLEN_MIN,
        };
        let maxlen = match (self.maxlen.filter(|m| *m != 0), self.role) {
            (Some(m), _) => m.clamp(min, SYNC_MAXLEN_MAX),
            (None, SyncRole::Master) => SYNC_MAXLEN,
            (None, SyncRole::Backup) => mtu.max(1500) - 28,
        };
        SyncDaemonStatus {
            role: self.role,
            interface: self.interface.clone(),
            syncid: self.syncid,
            maxlen,
            group: self.group.unwrap_or(SYNC_GROUP),
            port: self.port.filter(|p| *p != 0).unwrap_or(SYNC_PORT),
            ttl: self.ttl.filter(|t| *t != 0).unwrap_or(SYNC_TTL),
        }
    }
}
