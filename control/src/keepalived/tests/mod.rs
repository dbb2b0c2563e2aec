//! Tests of the keepalived.conf reader: its syntax, keepalived's
//! corrections, and that no input makes it panic.

mod fuzz;
mod lexer;
mod mapping;
mod sync;
mod vrrp;

use super::{map_text, Mapped};
use crate::config::Config;

/// Maps `text` (named `k.conf`); panics on a syntax error.
fn mapped(text: &str) -> Mapped {
    mapped_on(text, None)
}

/// `mapped` with a base configuration.
fn mapped_on(text: &str, base: Option<&Config>) -> Mapped {
    match map_text("k.conf", text, base) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

/// A base with one port, `eth0` (twin `fvs-eth0`, address 10.10.0.2/24).
fn one_port() -> Config {
    Config::from_yaml_str(
        "workers: {cores: [0]}
ports:
  - {name: eth0, device: \"net_af_packet0,iface=lb0\", \
         addresses: [10.10.0.2/24], host_iface: fvs-eth0}
",
    )
    .unwrap()
}

/// The diagnostics as printed.
fn diags(m: &Mapped) -> Vec<String> {
    m.diagnostics.iter().map(|d| d.to_string()).collect()
}
