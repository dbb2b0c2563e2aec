//! How `conn_max` becomes per-worker connection tables: one home for the
//! split, used by the snapshot builder, the pure checks and the machine check.

use super::error::ConfigError;
use super::model::Config;

/// Connections per appliance when `conn_max` is not set.
pub const DEFAULT_CONN_MAX: u64 = 1 << 20;

/// Connections one worker's table holds: `conn_max` split evenly over
/// `workers`, at least 1.
pub fn conns_per_worker(conn_max: u64, workers: usize) -> usize {
    usize::try_from(conn_max / workers.max(1) as u64)
        .unwrap_or(usize::MAX)
        .max(1)
}

impl Config {
    /// `conn_max`, or its default.
    pub fn conn_max_or_default(&self) -> u64 {
        self.conn_max.unwrap_or(DEFAULT_CONN_MAX)
    }

    /// Connections each worker's table holds with this configuration's workers.
    pub fn conns_per_worker(&self) -> usize {
        conns_per_worker(self.conn_max_or_default(), self.workers.cores.len())
    }
}

/// `conn_max` must fit the tables: > 0, and no worker's share above what
/// one connection table can index.
pub(crate) fn check(cfg: &Config) -> Result<(), ConfigError> {
    let Some(conn_max) = cfg.conn_max else {
        return Ok(());
    };
    if conn_max == 0 {
        return Err(ConfigError::new("conn_max", "must be > 0"));
    }
    let workers = cfg.workers.cores.len().max(1);
    let limit = conntrack::MAX_CAPACITY as u64;
    if conn_max / workers as u64 > limit {
        return Err(ConfigError::new(
            "conn_max",
            format!(
                "must be at most {} with {workers} worker(s) ({limit} connections per worker)",
                limit * workers as u64
            ),
        ));
    }
    Ok(())
}
