//! Nothing runs health checks yet (issue 13). A configuration that asks
//! for them is refused by `ferrovs run` and by reloads, naming the first
//! such field, so that no real is believed checked while it is not.

use control::config::health::first_health_setting;
use control::config::{Config, ConfigError};

/// Refuses `config` if any check, quorum, sorry server or script is set.
pub fn refuse_unchecked(config: &Config) -> Result<(), ConfigError> {
    match first_health_setting(config) {
        Some(path) => Err(ConfigError::new(
            path,
            "health checks are not live yet (issue 13)",
        )),
        None => Ok(()),
    }
}
