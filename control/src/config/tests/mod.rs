//! Tests of the configuration model: parsing, validation, examples.

mod device;
mod examples;
mod health;
mod health_refused;
mod host;
mod marks;
mod net_types;
mod parse;
mod sync;
mod tunnel;
mod validate;
mod validate_machine;
mod validate_system;
mod vrrp;
mod vrrp_refused;

use super::{Config, ConfigError};

/// A small valid configuration the tests start from.
pub(super) const BASE: &str = r#"
workers: {cores: [1]}
ports:
  - name: eth0
    device: "net_af_packet0,iface=lb0"
    mac: "02:00:00:00:00:01"
    addresses: [10.0.0.1/24, 10.20.0.1/24]
  - name: eth1
    device: "net_af_packet1,iface=lb1"
    addresses: [10.30.0.1/24]
routes:
  - {prefix: 0.0.0.0/0, via: 10.0.0.254, port: eth0}
neighbors:
  - {ip: 10.0.0.254, mac: "02:00:00:00:00:fe", port: eth0}
services:
  - name: web
    vip: 10.0.0.100
    port: 80
    protocol: tcp
    scheduler: wlc
    reals:
      - {address: 10.20.0.2, port: 8080, weight: 1}
      - {address: 10.20.0.3, port: 8080, weight: 2}
  - name: dns
    vip: 10.0.0.53
    port: 53
    protocol: udp
    scheduler: rr
    forward: dr
    reals:
      - {address: 10.20.0.4}
"#;

/// The parsed `BASE`.
pub(super) fn base() -> Config {
    match Config::from_yaml_str(BASE) {
        Ok(cfg) => cfg,
        Err(e) => panic!("BASE does not load: {e}"),
    }
}

/// The error of a YAML document that must be refused.
pub(super) fn yaml_err(yaml: &str) -> ConfigError {
    match Config::from_yaml_str(yaml) {
        Ok(cfg) => panic!("accepted:\n{yaml}\nas {cfg:?}"),
        Err(e) => e,
    }
}

/// `BASE` with one text replacement (which must apply), then its error.
pub(super) fn base_err(from: &str, to: &str) -> ConfigError {
    assert!(BASE.contains(from), "BASE has no {from:?}");
    yaml_err(&BASE.replacen(from, to, 1))
}

pub(super) fn assert_error(e: &ConfigError, path: &str, message: &str) {
    assert_eq!(
        (e.path.as_str(), e.message.as_str()),
        (path, message),
        "full error: {e}"
    );
}

/// `cfg` must fail `validate` with exactly this path and message, and the
/// same error must come back when its YAML is loaded.
pub(super) fn check(cfg: &Config, path: &str, message: &str) {
    match cfg.validate() {
        Ok(()) => panic!("validate accepted {cfg:?}"),
        Err(e) => assert_error(&e, path, message),
    }
    let e = yaml_err(&cfg.to_yaml());
    assert_error(&e, path, message);
}

/// `cfg` must be valid, and survive a YAML round trip.
pub(super) fn check_ok(cfg: &Config) {
    if let Err(e) = cfg.validate() {
        panic!("refused: {e}");
    }
    let back = match Config::from_yaml_str(&cfg.to_yaml()) {
        Ok(c) => c,
        Err(e) => panic!("round trip refused: {e}\n{}", cfg.to_yaml()),
    };
    assert_eq!(&back, cfg);
}
