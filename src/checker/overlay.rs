//! What the health checks change in the running configuration, kept apart
//! from what the operator configured: the daemon publishes
//! `running(configured, overlay)`, so an fvsadm edit or a reload (which change
//! the configured side) keeps every real's health state, and a health
//! transition never rewrites what the operator asked for.
use std::collections::HashMap;
use std::net::Ipv4Addr;

use control::config::{Config, Real};
use control::proto::ServiceKey;
use control::rules::key_of;

/// A real of a service, as the configuration names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RealKey {
    pub service: ServiceKey,
    pub address: Ipv4Addr,
    pub port: Option<u16>,
}

impl RealKey {
    pub fn of(service: ServiceKey, r: &Real) -> RealKey {
        RealKey {
            service,
            address: r.address,
            port: r.port,
        }
    }
}

/// How a failed real is kept out of new scheduling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Down {
    /// Removed from the running service (keepalived's default).
    Remove,
    /// Kept at weight 0 (`inhibit_on_failure`): established connections go on.
    Inhibit,
}

/// A service's sorry server (keepalived's `sorry_server`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sorry {
    pub real: Real,
    /// The quorum is lost: as keepalived's `update_quorum_state`, the live
    /// reals leave the pool and the sorry server serves alone (reals held at
    /// weight 0 by `inhibit_on_failure` stay listed at 0).
    pub active: bool,
    /// `sorry_server_inhibit`: listed at weight 0 while the quorum holds.
    pub inhibit: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overlay {
    pub down: HashMap<RealKey, Down>,
    /// Weights a check set (MISC_CHECK with `misc_dynamic`).
    pub weights: HashMap<RealKey, u32>,
    /// Services whose quorum is lost.
    pub sorry: HashMap<ServiceKey, Sorry>,
}

impl Overlay {
    pub fn is_empty(&self) -> bool {
        self.down.is_empty() && self.weights.is_empty() && self.sorry.is_empty()
    }
}

/// The configuration the dataplane runs: `configured` with the checks'
/// verdicts applied. Entries of `overlay` naming nothing configured are
/// ignored (a reload may have removed the real).
pub fn running(configured: &Config, overlay: &Overlay) -> Config {
    if overlay.is_empty() {
        return configured.clone();
    }
    let mut cfg = configured.clone();
    for s in &mut cfg.services {
        let key = key_of(s);
        let reals = std::mem::take(&mut s.reals);
        let mut kept: Vec<Real> = Vec::with_capacity(reals.len() + 1);
        for mut r in reals {
            let rk = RealKey::of(key, &r);
            match overlay.down.get(&rk) {
                Some(Down::Remove) => continue,
                Some(Down::Inhibit) => r.weight = 0,
                None => {
                    if let Some(w) = overlay.weights.get(&rk) {
                        r.weight = *w;
                    }
                }
            }
            kept.push(r);
        }
        if let Some(sorry) = overlay.sorry.get(&key) {
            if sorry.active {
                kept.retain(|r| overlay.down.get(&RealKey::of(key, r)) == Some(&Down::Inhibit));
            }
            if sorry.active || sorry.inhibit {
                let mut sr = sorry.real.clone();
                if !sorry.active {
                    sr.weight = 0;
                }
                kept.retain(|r| !(r.address == sr.address && r.port == sr.port));
                kept.push(sr);
            }
        }
        s.reals = kept;
    }
    cfg
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
workers: {cores: [1]}
ports:
  - {name: eth0, device: "net_af_packet0,iface=lb0", mac: "02:00:00:00:00:01", addresses: [10.0.0.1/24]}
services:
  - name: web
    vip: 10.0.0.100
    port: 80
    protocol: tcp
    forward: nat
    reals:
      - {address: 10.0.1.11, port: 8080, weight: 3}
      - {address: 10.0.1.12, port: 8080, weight: 2}
      - {address: 10.0.1.13, port: 8080, weight: 1}
"#;

    fn cfg() -> Config {
        Config::from_yaml_str(CONFIG).unwrap()
    }

    fn real(cfg: &Config, i: usize) -> RealKey {
        let s = &cfg.services[0];
        RealKey::of(key_of(s), &s.reals[i])
    }

    fn listed(cfg: &Config) -> Vec<(String, u32)> {
        cfg.services[0]
            .reals
            .iter()
            .map(|r| (r.address.to_string(), r.weight))
            .collect()
    }

    #[test]
    fn no_verdicts_run_the_configuration_as_is() {
        let c = cfg();
        assert_eq!(running(&c, &Overlay::default()), c);
    }

    #[test]
    fn a_down_real_leaves_or_stays_at_weight_zero() {
        let c = cfg();
        let mut o = Overlay::default();
        o.down.insert(real(&c, 0), Down::Remove);
        o.down.insert(real(&c, 1), Down::Inhibit);
        o.weights.insert(real(&c, 2), 7);
        let r = running(&c, &o);
        assert_eq!(
            listed(&r),
            [("10.0.1.12".into(), 0), ("10.0.1.13".into(), 7)]
        );
        // What the operator configured is untouched.
        assert_eq!(listed(&c)[0], ("10.0.1.11".into(), 3));
    }

    #[test]
    fn the_sorry_server_serves_alone_while_the_quorum_is_lost() {
        let c = cfg();
        let sorry = Real {
            address: "10.0.9.9".parse().unwrap(),
            port: Some(8080),
            ..c.services[0].reals[0].clone()
        };
        let key = key_of(&c.services[0]);
        let mut o = Overlay::default();
        o.down.insert(real(&c, 0), Down::Remove);
        o.down.insert(real(&c, 1), Down::Inhibit);
        o.sorry.insert(
            key,
            Sorry {
                real: sorry,
                active: true,
                inhibit: false,
            },
        );
        assert_eq!(
            listed(&running(&c, &o)),
            [("10.0.1.12".into(), 0), ("10.0.9.9".into(), 3)],
            "live reals leave; an inhibited one stays at 0"
        );
        // Quorum back: the sorry server leaves, or waits at 0 when inhibited.
        o.sorry.get_mut(&key).unwrap().active = false;
        assert_eq!(
            listed(&running(&c, &o)),
            [("10.0.1.12".into(), 0), ("10.0.1.13".into(), 1)]
        );
        o.sorry.get_mut(&key).unwrap().inhibit = true;
        assert_eq!(
            listed(&running(&c, &o)),
            [
                ("10.0.1.12".into(), 0),
                ("10.0.1.13".into(), 1),
                ("10.0.9.9".into(), 0)
            ]
        );
    }

    #[test]
    fn verdicts_about_reals_no_longer_configured_are_ignored() {
        let c = cfg();
        let mut o = Overlay::default();
        o.down.insert(
            RealKey {
                address: "10.0.1.99".parse().unwrap(),
                ..real(&c, 0)
            },
            Down::Remove,
        );
        assert_eq!(running(&c, &o), c);
    }
}
