//! The host path's live half. Per port with a `host_iface`, a kernel
//! interface twin made by a DPDK vdev (TAP PMD, or virtio-user over
//! /dev/vhost-net) with the port's MAC, MTU, addresses and routes; and one
//! thread that alone makes the twins' system calls. Workers hand it the
//! frames the pipeline gives the kernel over `HostRings`; what the kernel
//! transmits goes back over a ring to the worker that puts it on the wire.
//! Nothing here blocks a worker: full rings drop, counted.
//!
//! The twin lives as long as its tap file descriptor: closed at exit, and
//! closed by the kernel when the process dies, which removes the interface.
mod netlink;
pub mod plan;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use control::config::{Config, HostDriver, MacAddr};
use control::metrics::HostMetrics;
use dataplane::host::{HostCounters, HostDrop};
use dataplane::host_rings::HostRings;
use dataplane::Frame;

use crate::dpdk::ethdev::{QueuePair, MAX_BURST};
use crate::dpdk::{Eal, EthPort, Mbuf, Mempool, Vdev};
use plan::TwinPlan;

/// virtio-user's kernel side.
const VHOST_NET: &str = "/dev/vhost-net";

/// Descriptors of a twin's queues: the TAP PMD keeps its RX ring full of
/// pool buffers for the process's life, so the ring is kept small.
const TWIN_DESC: u16 = 256;

/// Longest nap of an idle host-path thread: the added latency of the first
/// frame after a quiet spell (a health probe, an ssh keystroke).
const MAX_NAP: Duration = Duration::from_micros(500);

/// What the twins need from the machine, checked before DPDK starts.
pub fn preflight(config: &Config) -> Result<()> {
    for (i, p) in config.ports.iter().enumerate() {
        if p.host_iface.is_some()
            && p.host_driver == HostDriver::VirtioUser
            && !std::path::Path::new(VHOST_NET).exists()
        {
            bail!("ports[{i}].host_driver: virtio_user needs {VHOST_NET}, which this machine lacks (use tap)");
        }
    }
    Ok(())
}

/// One port's kernel twin: its DPDK side (one queue pair) and its plan.
pub struct Twin {
    pub plan: TwinPlan,
    queue: QueuePair,
    /// Declared before the vdev: the port closes before the device goes.
    port: EthPort,
    _vdev: Vdev,
}

/// Creates and configures the twin of every planned port. Refuses, naming
/// `ports[i].host_iface` or `ports[i].host_driver`, when it cannot.
pub fn create_twins(
    eal: &Eal,
    config: &Config,
    plans: Vec<TwinPlan>,
    pool: &Arc<Mempool>,
) -> Result<Vec<Twin>> {
    let mut twins = Vec::with_capacity(plans.len());
    for plan in plans {
        let i = plan.port;
        let field = format!("ports[{i}].host_iface ({})", plan.iface);
        if netlink::exists(&plan.iface).with_context(|| field.clone())? {
            bail!("{field}: an interface of that name already exists");
        }
        let mac = MacAddr(plan.mac).to_string();
        let (name, args) = match config.ports[i].host_driver {
            HostDriver::Tap => (
                format!("net_tap_fvs{i}"),
                format!("iface={},mac={mac}", plan.iface),
            ),
            HostDriver::VirtioUser => (
                format!("net_virtio_user_fvs{i}"),
                format!(
                    "path={VHOST_NET},queues=1,queue_size=1024,iface={},mac={mac}",
                    plan.iface
                ),
            ),
        };
        let vdev = Vdev::create(eal, &name, &args)
            .with_context(|| format!("{field}: creating {name},{args}"))?;
        let port = EthPort::open_with_ring(eal, &name, 1, pool.clone(), TWIN_DESC, TWIN_DESC)
            .with_context(|| format!("{field}: opening {name}"))?;
        let queue = port
            .queue_pair(0)
            .with_context(|| format!("{field}: {name} has no queue"))?;
        let index = netlink::configure(&plan).with_context(|| format!("{field}: configuring"))?;
        tracing::info!(
            port = %plan.port_name,
            iface = %plan.iface,
            ifindex = index,
            %mac,
            mtu = plan.mtu,
            addresses = ?plan.addresses.iter().map(ToString::to_string).collect::<Vec<_>>(),
            routes = plan.routes.len(),
            "host path: kernel twin up"
        );
        twins.push(Twin {
            plan,
            queue,
            port,
            _vdev: vdev,
        });
    }
    Ok(twins)
}

/// Every host-path counter of the process: each worker's (frames handed to
/// the kernel, rate and ring drops) and the host-path thread's (frames from
/// the kernel, the twin's refusals, full rings to the wire).
pub struct HostStats {
    pub workers: Vec<Arc<[HostCounters]>>,
    pub thread: Arc<[HostCounters]>,
    /// Per port: whether it has a twin.
    twins: Vec<bool>,
}

impl HostStats {
    pub fn new(config: &Config, workers: usize) -> HostStats {
        let fresh = || -> Arc<[HostCounters]> {
            config
                .ports
                .iter()
                .map(|_| HostCounters::default())
                .collect()
        };
        HostStats {
            workers: (0..workers).map(|_| fresh()).collect(),
            thread: fresh(),
            twins: config
                .ports
                .iter()
                .map(|p| p.host_iface.is_some())
                .collect(),
        }
    }

    /// Port `port`'s totals; `None` without a twin.
    pub fn port(&self, port: usize) -> Option<HostMetrics> {
        if !self.twins.get(port).copied().unwrap_or(false) {
            return None;
        }
        let all = || {
            self.workers
                .iter()
                .chain(std::iter::once(&self.thread))
                .filter_map(move |c| c.get(port))
        };
        Some(HostMetrics {
            to_kernel_frames: all().map(|c| c.to_kernel_frames.get()).sum(),
            to_kernel_bytes: all().map(|c| c.to_kernel_bytes.get()).sum(),
            from_kernel_frames: all().map(|c| c.from_kernel_frames.get()).sum(),
            from_kernel_bytes: all().map(|c| c.from_kernel_bytes.get()).sum(),
            drops: HostDrop::ALL
                .iter()
                .map(|r| (r.name().to_owned(), all().map(|c| c.drops_of(*r)).sum()))
                .collect(),
        })
    }
}

/// The host-path thread's loop: until `stop`, moves the workers' frames into
/// the twins and the twins' frames towards the wire. Naps when idle, so it
/// can share a core with the control plane.
pub fn run(
    twins: &mut [Twin],
    rings: &HostRings<Mbuf>,
    counters: &[HostCounters],
    stop: &AtomicBool,
) {
    let mut buf: Vec<Mbuf> = Vec::with_capacity(MAX_BURST);
    let mut idle: u32 = 0;
    while !stop.load(Ordering::Relaxed) {
        let mut moved = 0;
        for t in twins.iter_mut() {
            let port = t.plan.port;
            let Some(c) = counters.get(port) else {
                continue;
            };
            rings.take_to_kernel(port, &mut buf, MAX_BURST);
            moved += buf.len();
            for _ in 0..t.queue.tx(&mut buf) {
                c.drop(HostDrop::TxRefused);
            }
            t.queue.rx(&mut buf, MAX_BURST);
            moved += buf.len();
            for f in buf.drain(..) {
                let len = f.len();
                match rings.push_to_wire(port, f) {
                    Ok(()) => c.from_kernel(len),
                    Err(_f) => c.drop(HostDrop::RingFull),
                }
            }
        }
        if moved == 0 {
            idle = idle.saturating_add(1);
            std::thread::sleep(MAX_NAP.min(Duration::from_micros(20) * idle));
        } else {
            idle = 0;
        }
    }
}

impl Twin {
    /// Stops the twin's port (the loop has stopped polling it).
    pub fn stop(&mut self) {
        self.port.stop();
    }
}

/// Where the host-path thread runs: `workers.host_core`, else wherever the
/// scheduler puts it (the control threads' cores).
pub fn pin(config: &Config) {
    if let Some(core) = config.workers.host_core {
        if !core_affinity::set_for_current(core_affinity::CoreId { id: core as usize }) {
            tracing::warn!(core, "could not pin the host-path thread");
        }
    }
}
