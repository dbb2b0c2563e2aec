//! Keeps each port's rte_flow rules equal to the rules the current snapshot
//! wants (`dataplane::steer::reply_rules`), or gives up on a port for good.
//!
//! Runs on the control side only (start-up, then after every applied
//! configuration), never on a worker. `sync` diffs: rules that stay wanted are
//! left alone. The first failure on a port rolls back everything installed
//! there and marks the port "rings" until restart, so a port is either fully
//! steered or not at all; the redirect rings keep every reply correct either way.
//! The installer is a trait so all of this is tested without DPDK.
mod ports;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use control::config::{FlowSteering, Port};
use dataplane::steer::SteerRule;

pub use ports::PortFlows;

/// Installs and removes rules on the ports (by index in config order).
pub trait FlowInstaller {
    type Handle;
    type Error: Display;
    /// Validates, then installs `rule` on `port`.
    fn install(&mut self, port: usize, rule: &SteerRule) -> Result<Self::Handle, Self::Error>;
    fn remove(&mut self, port: usize, handle: Self::Handle) -> Result<(), Self::Error>;
}

/// Where a port's FullNAT replies to other cores go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortMode {
    /// `flow_steering: off`, or a single worker (it owns every reply).
    Off,
    /// Willing, but no rule has been wanted yet.
    Pending,
    /// The device took every wanted rule.
    Flow,
    /// The device refused a rule (the reason); rings until restart.
    Rings(String),
}

/// A `required` port whose device refused the rules.
#[derive(Debug, thiserror::Error)]
#[error("ports[{index}] ({name}): flow_steering is required, but the device refused rte_flow rules: {reason}")]
pub struct SteeringError {
    pub index: usize,
    pub name: String,
    pub reason: String,
}

/// What `/metrics` shows of one port, kept current by `Steering`.
#[derive(Debug, Default)]
pub struct PortStatus {
    pub name: String,
    pub steered: AtomicBool,
    pub rules: AtomicU64,
}

/// The rules to take away from `installed` and to add, to reach `desired`.
pub fn diff<'a, H>(
    installed: &'a BTreeMap<SteerRule, H>,
    desired: &'a BTreeSet<SteerRule>,
) -> (Vec<SteerRule>, Vec<SteerRule>) {
    let remove = installed
        .keys()
        .filter(|r| !desired.contains(r))
        .copied()
        .collect();
    let add = desired
        .iter()
        .filter(|r| !installed.contains_key(r))
        .copied()
        .collect();
    (remove, add)
}

struct PortSteering<H> {
    name: String,
    policy: FlowSteering,
    mode: PortMode,
    installed: BTreeMap<SteerRule, H>,
}

pub struct Steering<H> {
    ports: Vec<PortSteering<H>>,
    status: Arc<Vec<PortStatus>>,
}

impl<H> Steering<H> {
    /// One entry per configured port; with a single worker nothing is steered.
    pub fn new(ports: &[Port], workers: usize) -> Self {
        let ports: Vec<PortSteering<H>> = ports
            .iter()
            .map(|p| {
                let mode = if p.flow_steering == FlowSteering::Off || workers <= 1 {
                    PortMode::Off
                } else {
                    PortMode::Pending
                };
                if p.flow_steering == FlowSteering::Off && workers > 1 {
                    tracing::info!(
                        port = %p.name,
                        "flow_steering: off; FullNAT replies to other cores go through the redirect rings"
                    );
                }
                PortSteering {
                    name: p.name.clone(),
                    policy: p.flow_steering,
                    mode,
                    installed: BTreeMap::new(),
                }
            })
            .collect();
        let status = ports
            .iter()
            .map(|p| PortStatus {
                name: p.name.clone(),
                ..PortStatus::default()
            })
            .collect();
        Steering {
            ports,
            status: Arc::new(status),
        }
    }

    /// The per-port status the metrics endpoint reads.
    pub fn status(&self) -> Arc<Vec<PortStatus>> {
        self.status.clone()
    }

    pub fn mode(&self, port: usize) -> Option<&PortMode> {
        self.ports.get(port).map(|p| &p.mode)
    }

    /// The rules installed on `port`.
    pub fn installed(&self, port: usize) -> Vec<SteerRule> {
        self.ports
            .get(port)
            .map(|p| p.installed.keys().copied().collect())
            .unwrap_or_default()
    }

    /// Brings every willing port to `desired`. A port that fails falls back
    /// to the rings; the error names the first such port whose policy is
    /// `required` (the others are only logged).
    pub fn sync<I: FlowInstaller<Handle = H>>(
        &mut self,
        installer: &mut I,
        desired: &BTreeSet<SteerRule>,
    ) -> Result<(), SteeringError> {
        let mut first_err = None;
        for (index, port) in self.ports.iter_mut().enumerate() {
            if let Err(reason) = port.sync(index, installer, desired) {
                port.fall_back(index, installer, reason.clone());
                if port.policy == FlowSteering::Required && first_err.is_none() {
                    first_err = Some(SteeringError {
                        index,
                        name: port.name.clone(),
                        reason,
                    });
                }
            }
        }
        self.publish();
        first_err.map_or(Ok(()), Err)
    }

    /// Removes every rule (before the ports stop).
    pub fn clear<I: FlowInstaller<Handle = H>>(&mut self, installer: &mut I) {
        for (index, port) in self.ports.iter_mut().enumerate() {
            let failed = port.remove_all(index, installer);
            if failed > 0 {
                tracing::warn!(port = %port.name, failed, "some flow rules could not be removed; they go with the port");
            }
        }
        self.publish();
    }

    fn publish(&self) {
        for (p, s) in self.ports.iter().zip(self.status.iter()) {
            s.steered.store(p.mode == PortMode::Flow, Ordering::Relaxed);
            s.rules.store(p.installed.len() as u64, Ordering::Relaxed);
        }
    }
}

impl<H> PortSteering<H> {
    /// Applies the diff; the first refusal is returned as the reason.
    fn sync<I: FlowInstaller<Handle = H>>(
        &mut self,
        index: usize,
        installer: &mut I,
        desired: &BTreeSet<SteerRule>,
    ) -> Result<(), String> {
        if !matches!(self.mode, PortMode::Pending | PortMode::Flow) {
            return Ok(());
        }
        let (remove, add) = diff(&self.installed, desired);
        if remove.is_empty() && add.is_empty() {
            return Ok(());
        }
        // Removals first: they free room in the device for the additions.
        for rule in &remove {
            if let Some(h) = self.installed.remove(rule) {
                installer
                    .remove(index, h)
                    .map_err(|e| format!("removing a rule: {e}"))?;
            }
        }
        for rule in &add {
            let h = installer.install(index, rule).map_err(|e| e.to_string())?;
            self.installed.insert(*rule, h);
        }
        if self.mode == PortMode::Pending {
            tracing::info!(port = %self.name, rules = self.installed.len(), "rte_flow steers FullNAT replies to their owner core's queue");
        } else {
            tracing::info!(port = %self.name, added = add.len(), removed = remove.len(), rules = self.installed.len(), "flow steering rules updated");
        }
        self.mode = PortMode::Flow;
        Ok(())
    }

    /// Rolls the port back to no rules and marks it "rings" for good.
    fn fall_back<I: FlowInstaller<Handle = H>>(
        &mut self,
        index: usize,
        installer: &mut I,
        reason: String,
    ) {
        let failed = self.remove_all(index, installer);
        // Said once per port: the port is not tried again until restart.
        // A `required` port's caller escalates (start-up fails, or an error).
        tracing::info!(port = %self.name, %reason, "no rte_flow steering; FullNAT replies to other cores go through the redirect rings");
        if failed > 0 {
            tracing::warn!(port = %self.name, failed, "some flow rules could not be rolled back; they go with the port");
        }
        self.mode = PortMode::Rings(reason);
    }

    /// Removes every installed rule; returns how many removals failed.
    fn remove_all<I: FlowInstaller<Handle = H>>(
        &mut self,
        index: usize,
        installer: &mut I,
    ) -> usize {
        std::mem::take(&mut self.installed)
            .into_values()
            .map(|h| installer.remove(index, h))
            .filter(Result::is_err)
            .count()
    }
}
