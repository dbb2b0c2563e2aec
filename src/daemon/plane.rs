//! Starts and stops what serves operators: the control socket (`fvsadm`),
//! the Prometheus endpoint and the rate sampler, each on its own thread, all
//! stopped by one flag. None of them touches a worker other than through
//! `CoreShared`.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use control::metrics::{
    BuildInfo, CoreMetrics, DaemonMetrics, MetricsServer, MetricsSource, PortMetrics,
};
use control::server::{Backend, Server, ServerStats};
use dataplane::DropReason;

use super::Daemon;
use crate::host::HostStats;
use crate::steering::PortStatus;

/// Gauges the main loop keeps current for the metrics.
#[derive(Default)]
pub struct PoolGauge {
    pub in_use: AtomicU64,
    pub total: AtomicU64,
}

pub struct ControlPlane {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

struct Metrics {
    daemon: Arc<Daemon>,
    server: Arc<ServerStats>,
    pool: Arc<PoolGauge>,
    steering: Arc<Vec<PortStatus>>,
    host: Arc<HostStats>,
}

impl MetricsSource for Metrics {
    fn render(&self) -> String {
        let cfg = self.daemon.config();
        let counters = self.daemon.counters();
        let cores = self
            .daemon
            .cores()
            .iter()
            .enumerate()
            .map(|(k, c)| {
                let s = &c.stats;
                CoreMetrics {
                    core: k as u32,
                    rx_packets: s.rx_packets.get(),
                    rx_bytes: s.rx_bytes.get(),
                    tx_packets: s.tx_packets.get(),
                    tx_bytes: s.tx_bytes.get(),
                    redirects: s.redirected.get(),
                    full_path: s.full_path.get(),
                    drops: DropReason::ALL
                        .iter()
                        .map(|r| (r.name().to_owned(), s.drops_of(*r)))
                        .collect(),
                    conns: c.conns_tracked.load(Ordering::Relaxed),
                    conn_capacity: c.conns_capacity.load(Ordering::Relaxed),
                }
            })
            .collect();
        let ports = self
            .steering
            .iter()
            .enumerate()
            .map(|(i, p)| PortMetrics {
                port: p.name.clone(),
                flow_steering: p.steered.load(Ordering::Relaxed),
                flow_rules: p.rules.load(Ordering::Relaxed),
                host: self.host.port(i),
            })
            .collect();
        let d = DaemonMetrics {
            cores,
            ports,
            mbufs_in_use: self.pool.in_use.load(Ordering::Relaxed),
            mbufs_total: self.pool.total.load(Ordering::Relaxed),
            control_served: self.server.served.load(Ordering::Relaxed),
            control_refused: self.server.refused.load(Ordering::Relaxed),
            build: BuildInfo {
                version: env!("CARGO_PKG_VERSION").to_owned(),
                dpdk: "22.11".to_owned(),
            },
            health: self.daemon.health_metrics(),
            vrrp: self.daemon.vrrp(),
            garps_sent: self.daemon.garps_sent(),
            sync: self.daemon.sync_metrics(),
        };
        control::metrics::render(&cfg, &counters, &d).unwrap_or_else(|e| format!("# {e}\n"))
    }
}

impl ControlPlane {
    pub fn start(
        daemon: Arc<Daemon>,
        pool: Arc<PoolGauge>,
        steering: Arc<Vec<PortStatus>>,
        host: Arc<HostStats>,
    ) -> Result<ControlPlane> {
        let cfg = daemon.config();
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let server = Server::bind(&cfg.control.socket, 0o600, cfg.control.group.as_deref())
            .with_context(|| format!("control.socket: {}", cfg.control.socket.display()))?;
        let server_stats = server.stats();
        tracing::info!(socket = %cfg.control.socket.display(), "control socket listening");
        {
            let (d, st) = (daemon.clone(), stop.clone());
            threads.push(
                std::thread::Builder::new()
                    .name("fvs-control".into())
                    .spawn(move || {
                        if let Err(e) = server.serve(d, st) {
                            tracing::error!(error = %e, "control socket stopped");
                        }
                    })?,
            );
        }
        if let Some(m) = &cfg.metrics {
            let ms = MetricsServer::bind(m.listen)
                .with_context(|| format!("metrics.listen: {}", m.listen))?;
            tracing::info!(listen = %m.listen, "metrics endpoint listening");
            let src = Arc::new(Metrics {
                daemon: daemon.clone(),
                server: server_stats,
                pool,
                steering,
                host,
            });
            let st = stop.clone();
            threads.push(
                std::thread::Builder::new()
                    .name("fvs-metrics".into())
                    .spawn(move || {
                        if let Err(e) = ms.serve(src, st) {
                            tracing::error!(error = %e, "metrics endpoint stopped");
                        }
                    })?,
            );
        }
        {
            let (d, st) = (daemon, stop.clone());
            threads.push(std::thread::Builder::new().name("fvs-rates".into()).spawn(
                move || {
                    let mut next = Instant::now() + Daemon::sample_interval();
                    while !st.load(Ordering::Relaxed) {
                        if Instant::now() >= next {
                            d.sample_rates();
                            next += Daemon::sample_interval();
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                },
            )?);
        }
        Ok(ControlPlane { stop, threads })
    }

    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// SIGHUP: re-read the YAML and apply the difference (or keep everything).
pub fn reload(daemon: &Daemon) {
    match daemon.reload() {
        Ok(()) => tracing::info!("reload: new configuration applied"),
        Err(e) => tracing::error!(error = %e, "reload refused; running configuration unchanged"),
    }
}
