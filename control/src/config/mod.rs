//! The YAML configuration of ferrovs: model, parsing and validation.
//!
//! ```no_run
//! # use control::config::Config;
//! let cfg = Config::load(std::path::Path::new("configs/lab.yaml")).unwrap();
//! println!("{}", cfg.to_yaml());
//! ```

mod blank;
mod capacity;
mod device;
mod error;
pub mod health;
pub(crate) mod host;
mod kinds;
pub mod machine;
mod marks;
mod model;
mod net;
mod owned;
pub mod sync;
mod tunnel;
mod validate;
pub mod vrrp;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use capacity::{conns_per_worker, DEFAULT_CONN_MAX};
pub use device::{device_resources, DeviceResource};
pub use error::{ConfigError, ROOT_PATH};
pub use health::{Check, Script, Seconds, SorryServer};
pub use kinds::{
    FlowSteering, Forward, HostDriver, PortRange, Protocol, SchedFlag, Scheduler, ServicePorts,
    TunFlags, TunType,
};
pub use machine::{CpuList, MachineError, MachineFacts};
pub use marks::{MarkPorts, MarkRule, MarkVip};
pub use model::{
    Config, ControlConfig, MetricsConfig, Neighbor, Persistence, Port, Real, Route, Service,
    Timeouts, Workers, BURST_MAX, MTU_MAX, MTU_MIN, WEIGHT_MAX,
};
pub use net::{mask_to_prefix_len, prefix_len_to_mask, Ipv4Net, MacAddr};
pub use sync::{SyncConfig, SyncRole, SyncRoles};
pub use tunnel::Tunnel;
pub use vrrp::{AuthType, VirtualAddress, VrrpAuth, VrrpInstance, VrrpState};

impl Config {
    /// Parses a YAML document and validates it.
    pub fn from_yaml_str(s: &str) -> Result<Config, ConfigError> {
        let cfg = Config::parse_yaml(s)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parses a YAML document without the semantic checks of `validate`.
    pub fn parse_yaml(s: &str) -> Result<Config, ConfigError> {
        let de = serde_yaml_ng::Deserializer::from_str(s);
        serde_path_to_error::deserialize(de).map_err(ConfigError::from_serde)
    }

    /// Reads, parses and validates a configuration file. I/O errors carry
    /// the file name as their path.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(path.display().to_string(), e.to_string()))?;
        Config::from_yaml_str(&text)
    }

    /// The semantic checks; the first problem is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate::validate(self)
    }

    /// `validate` plus what `ferrovs replay` needs (every port has a MAC).
    pub fn validate_replay(&self) -> Result<(), ConfigError> {
        validate::validate_replay(self)
    }

    /// The configuration as YAML; `from_yaml_str` reads it back to an equal
    /// value.
    pub fn to_yaml(&self) -> String {
        serde_yaml_ng::to_string(self).expect("the config model always serializes to YAML")
    }

    /// The port with this name.
    pub fn port(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.name == name)
    }

    /// The service with this name.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }
}
