//! Blank services and reals: what a YAML entry with only its required keys
//! reads as, for the builders that make them from elsewhere (fvsadm's `-A`
//! and `-a`, the keepalived import) and fill in what they know.
use std::net::Ipv4Addr;

use super::kinds::{Forward, Scheduler};
use super::model::{default_weight, Real, Service};

impl Real {
    /// A real at `address` with nothing else set (weight 1), as a YAML real
    /// with only `address` is read.
    pub fn at(address: Ipv4Addr) -> Real {
        Real {
            address,
            port: None,
            weight: default_weight(),
            forward: None,
            tun_type: None,
            tun_port: None,
            tun_flags: None,
            upper_threshold: 0,
            lower_threshold: 0,
            inhibit_on_failure: None,
            notify_up: None,
            notify_down: None,
            alpha: None,
            delay_loop: None,
            connect_timeout: None,
            retry: None,
            delay_before_retry: None,
            warmup: None,
            virtualhost: None,
            checks: None,
        }
    }
}

impl Service {
    /// A service named `name` with nothing else set: the defaults a YAML
    /// service without those keys gets. Builders fill in what they know.
    pub fn named(name: impl Into<String>) -> Service {
        Service {
            name: name.into(),
            fwmark: None,
            vip: None,
            port: None,
            ports: None,
            protocol: None,
            scheduler: Scheduler::default(),
            flags: Vec::new(),
            persistence: None,
            ops: false,
            forward: Forward::default(),
            tun_type: None,
            tun_port: None,
            tun_flags: None,
            local_addresses: Vec::new(),
            toa: true,
            delay_loop: None,
            connect_timeout: None,
            retry: None,
            delay_before_retry: None,
            warmup: None,
            alpha: None,
            omega: None,
            inhibit_on_failure: None,
            virtualhost: None,
            quorum: None,
            hysteresis: None,
            quorum_up: None,
            quorum_down: None,
            sorry_server: None,
            sorry_server_inhibit: None,
            checks: Vec::new(),
            ha_suspend: false,
            reals: Vec::new(),
        }
    }
}
