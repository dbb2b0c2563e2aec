//! The `sync:` section: IPVS connection synchronisation (Linux's
//! ip_vs_sync.c), with the names, defaults and value ranges of ipvsadm's
//! `--start-daemon` options and keepalived's `lvs_sync_daemon`.
//!
//! Either `instance` names a VRRP instance, and the master daemon runs
//! while that instance is MASTER and the backup daemon otherwise
//! (keepalived's `lvs_sync_daemon IF inst NAME`), or `role` says which
//! daemons run. Nothing here runs a daemon.

mod validate;

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::de;
use serde::{Deserialize, Deserializer, Serialize};

use super::health::Seconds;
use super::model::de_int_in_range;

pub(crate) use validate::{check, check_portless};
pub use validate::{FLUSH_INTERVAL_MAX, SYNC_MAXLEN_MAX};

/// Default multicast group, 224.0.0.81 (the kernel's `IP_VS_SYNC_GROUP`).
pub const SYNC_GROUP: Ipv4Addr = connsync::SYNC_GROUP;
/// Default UDP port, 8848 (`IP_VS_SYNC_PORT`).
pub const SYNC_PORT: u16 = connsync::SYNC_PORT;
/// Default multicast TTL.
pub const SYNC_TTL: u8 = 1;
/// Default largest sync message: 1500 - 20 (IPv4) - 8 (UDP), a master's
/// default in start_sync_thread.
pub const SYNC_MAXLEN: u16 = connsync::DEFAULT_MAXLEN as u16;
/// Default flush interval: the kernel sends a buffer at most 2 s old.
pub const FLUSH_INTERVAL: Seconds = Seconds::from_micros(connsync::FLUSH_AGE_MS * 1000);

/// The connection-sync daemons (`sync:`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// A `ports[].name` with a `host_iface`: the sync datagrams travel
    /// through the port's kernel twin.
    pub interface: String,
    /// A `vrrp[].name`: the master daemon runs while that instance is
    /// MASTER, the backup daemon otherwise. With it, `role` is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Which daemons run: master | backup | both. Required without
    /// `instance` (there is no default), absent with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<SyncRoles>,
    /// 0..=255, written in every message sent; a backup with a syncid
    /// other than 0 takes only messages of its own syncid. Default 0
    /// (the backup takes every message), as the kernel.
    #[serde(default, deserialize_with = "de_syncid")]
    pub syncid: u8,
    /// A multicast address. Default 224.0.0.81.
    #[serde(default = "default_group")]
    pub mcast_group: Ipv4Addr,
    /// UDP port, 1..=65535. Default 8848.
    #[serde(default = "default_port", deserialize_with = "de_port")]
    pub mcast_port: u16,
    /// Multicast TTL, 1..=255. Default 1.
    #[serde(default = "default_ttl", deserialize_with = "de_ttl")]
    pub mcast_ttl: u8,
    /// Largest sync message (UDP payload), 1..=65507 (ipvsadm's
    /// `--sync-maxlen` range). Default 1472.
    #[serde(default = "default_maxlen", deserialize_with = "de_maxlen")]
    pub maxlen: u16,
    /// Seconds a partly filled message may wait before it is sent: above
    /// 0, at most 2 (the kernel's bound), in milliseconds. Default 2.
    #[serde(default = "default_flush")]
    pub flush_interval: Seconds,
}

/// The role of one sync daemon (the kernel's `IP_VS_STATE_MASTER` /
/// `IP_VS_STATE_BACKUP`; ipvsadm's `--start-daemon master|backup`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncRole {
    /// Sends the connections this director forwards.
    Master,
    /// Installs the connections a master sends.
    Backup,
}

/// `sync.role`: the daemons that run without an `instance`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncRoles {
    Master,
    Backup,
    /// Both daemons (keepalived's `lvs_sync_daemon` without `inst`).
    Both,
}

impl SyncRole {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncRole::Master => "master",
            SyncRole::Backup => "backup",
        }
    }
}

impl fmt::Display for SyncRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SyncRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "master" => Ok(SyncRole::Master),
            "backup" => Ok(SyncRole::Backup),
            _ => Err(format!(
                "unknown sync role {s:?} (expected master or backup)"
            )),
        }
    }
}

impl SyncRoles {
    /// The daemons of this setting, master first.
    pub fn roles(self) -> &'static [SyncRole] {
        match self {
            SyncRoles::Master => &[SyncRole::Master],
            SyncRoles::Backup => &[SyncRole::Backup],
            SyncRoles::Both => &[SyncRole::Master, SyncRole::Backup],
        }
    }
}

impl SyncConfig {
    /// A configuration with every default, for `interface`, with no
    /// `instance` and no `role` (one of them must then be set).
    pub fn new(interface: impl Into<String>) -> SyncConfig {
        SyncConfig {
            interface: interface.into(),
            instance: None,
            role: None,
            syncid: 0,
            mcast_group: SYNC_GROUP,
            mcast_port: SYNC_PORT,
            mcast_ttl: SYNC_TTL,
            maxlen: SYNC_MAXLEN,
            flush_interval: FLUSH_INTERVAL,
        }
    }

    /// `flush_interval` in milliseconds.
    pub fn flush_interval_ms(&self) -> u64 {
        self.flush_interval.as_micros() / 1000
    }
}

fn default_group() -> Ipv4Addr {
    SYNC_GROUP
}
fn default_port() -> u16 {
    SYNC_PORT
}
fn default_ttl() -> u8 {
    SYNC_TTL
}
fn default_maxlen() -> u16 {
    SYNC_MAXLEN
}
fn default_flush() -> Seconds {
    FLUSH_INTERVAL
}

fn de_syncid<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let v = de_int_in_range(d, 0, 255)?;
    u8::try_from(v).map_err(de::Error::custom)
}

fn de_port<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let v = de_int_in_range(d, 1, i64::from(u16::MAX))?;
    u16::try_from(v).map_err(de::Error::custom)
}

fn de_ttl<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    let v = de_int_in_range(d, 1, 255)?;
    u8::try_from(v).map_err(de::Error::custom)
}

fn de_maxlen<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let v = de_int_in_range(d, 1, i64::from(SYNC_MAXLEN_MAX))?;
    u16::try_from(v).map_err(de::Error::custom)
}
