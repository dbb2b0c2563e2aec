//! The daemon side of the control plane: the `control::server::Backend` the
//! control socket drives. A change becomes one snapshot for all workers and
//! is acknowledged once every worker runs it; workers never wait for us, and
//! we wait for them by sleeping, never by spinning.
pub mod ids;
pub mod plane;
mod rates;

use std::collections::HashMap;
use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use control::config::{Config, Protocol};
use control::metrics::HealthMetrics;
use control::proto::{
    ConnEntry, ConnKind, ControlError, Counters, ErrorKind, HealthEntry, RealCounters,
    ServiceCounters, ServiceKey, Stats, VrrpEntry,
};
use control::server::Backend;
use dataplane::shared::{CoreShared, ViewKind};
use dataplane::stats::TrafficStats;
use dataplane::SnapshotCell;

use crate::checker::overlay::{self, Overlay};
use crate::convert;
use ids::Ids;
use rates::{RateKey, Rates};

/// How long a change may take to reach every worker.
const APPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a connection listing may take.
const LIST_TIMEOUT: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(1);

pub struct Daemon {
    path: PathBuf,
    config: Mutex<Config>,
    ids: Mutex<Ids>,
    macs: Vec<Option<[u8; 6]>>,
    cell: Arc<SnapshotCell>,
    cores: Vec<Arc<CoreShared>>,
    /// Serialises changes, so snapshots are published in order.
    apply_lock: Mutex<()>,
    /// Counters as they were at the last `-Z`, subtracted from what we report.
    zeroed: Mutex<HashMap<RateKey, Stats>>,
    rates: Mutex<Rates>,
    /// What the health checks change in the configuration (down reals,
    /// dynamic weights, sorry servers); the workers run `config` with it.
    overlay: Mutex<Overlay>,
    /// The checker's last listing and metrics (`None`: nothing checked yet).
    health_view: Mutex<Option<(Vec<HealthEntry>, HealthMetrics, Instant)>>,
    /// Every VRRP instance as its thread last published it, by index.
    vrrp_view: Mutex<Vec<VrrpEntry>>,
    /// The sync daemons running now (`sync:`), as the sync thread says.
    sync_daemons: Mutex<Vec<control::proto::SyncDaemonStatus>>,
    /// The sync thread's counters and the workers' rings, with `sync:`.
    sync_sources: Mutex<Option<SyncSources>>,
}

/// Where the sync metrics come from.
pub struct SyncSources {
    pub stats: Arc<crate::sync::SyncStats>,
    pub rings: Arc<dataplane::sync_rings::SyncRings>,
    /// Which daemons run (fvsadm --start-daemon/--stop-daemon change it).
    pub control: Arc<crate::sync::SyncControl>,
}

fn traffic(t: &TrafficStats) -> Stats {
    Stats {
        conns: t.conns.get(),
        inpkts: t.in_packets.get(),
        outpkts: t.out_packets.get(),
        inbytes: t.in_bytes.get(),
        outbytes: t.out_bytes.get(),
        ..Stats::default()
    }
}

fn minus(a: Stats, b: Stats) -> Stats {
    Stats {
        conns: a.conns.saturating_sub(b.conns),
        inpkts: a.inpkts.saturating_sub(b.inpkts),
        outpkts: a.outpkts.saturating_sub(b.outpkts),
        inbytes: a.inbytes.saturating_sub(b.inbytes),
        outbytes: a.outbytes.saturating_sub(b.outbytes),
        ..a
    }
}

impl Daemon {
    pub fn new(
        path: PathBuf,
        config: Config,
        ids: Ids,
        macs: Vec<Option<[u8; 6]>>,
        cell: Arc<SnapshotCell>,
        cores: Vec<Arc<CoreShared>>,
    ) -> Daemon {
        Daemon {
            path,
            config: Mutex::new(config),
            ids: Mutex::new(ids),
            macs,
            cell,
            cores,
            apply_lock: Mutex::new(()),
            zeroed: Mutex::new(HashMap::new()),
            rates: Mutex::new(Rates::default()),
            overlay: Mutex::new(Overlay::default()),
            health_view: Mutex::new(None),
            vrrp_view: Mutex::new(Vec::new()),
            sync_daemons: Mutex::new(Vec::new()),
            sync_sources: Mutex::new(None),
        }
    }

    pub fn cores(&self) -> &[Arc<CoreShared>] {
        &self.cores
    }

    /// Raw totals per service and real, summed over the cores.
    fn totals(&self) -> HashMap<RateKey, (Stats, [u64; 3])> {
        let mut out: HashMap<RateKey, (Stats, [u64; 3])> = HashMap::new();
        for core in &self.cores {
            for (sid, c) in core.services() {
                let e = out.entry((sid, None)).or_default();
                e.0 = e.0.add(&traffic(&c.service));
                for (rid, r) in c.reals.iter().enumerate() {
                    let e = out.entry((sid, Some(rid as u32))).or_default();
                    e.0 = e.0.add(&traffic(&r.traffic));
                    e.1[0] += r.active.load(Ordering::Relaxed);
                    e.1[1] += r.inactive.load(Ordering::Relaxed);
                    e.1[2] += r.persistent.load(Ordering::Relaxed);
                }
            }
        }
        out
    }

    fn overlay(&self) -> Overlay {
        self.overlay
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Publishes `running` (a configuration with the health overlay applied)
    /// to every worker.
    fn publish_running(&self, running: &Config) -> Result<(), ControlError> {
        let snap = {
            let mut ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
            convert::snapshot_with_ids(running, &self.macs, self.cores.len(), &mut ids)
                .map_err(|e| ControlError::invalid("config", e.to_string()))?
        };
        self.publish(snap)
    }

    /// Applies a change of health verdicts: the configured services with the
    /// new overlay, in one snapshot. Refused whole (the overlay stays as it
    /// was) when the workers refuse it.
    pub fn change_health(&self, change: impl FnOnce(&mut Overlay)) -> Result<(), ControlError> {
        let _serial = self.apply_lock.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.overlay();
        let mut next = current.clone();
        change(&mut next);
        if next == current {
            return Ok(());
        }
        let running = overlay::running(&self.config(), &next);
        self.publish_running(&running)?;
        *self.overlay.lock().unwrap_or_else(|p| p.into_inner()) = next;
        Ok(())
    }

    /// The checker's latest listing and metrics.
    /// The checker's latest listing and metrics; also its heartbeat (it
    /// calls this after every pass, at least every 100 ms).
    pub fn set_health_view(&self, entries: Vec<HealthEntry>, metrics: HealthMetrics) {
        *self.health_view.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((entries, metrics, Instant::now()));
    }

    pub fn health_metrics(&self) -> Option<HealthMetrics> {
        self.health_view
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(_, m, at)| HealthMetrics {
                pass_age_seconds: at.elapsed().as_secs_f64(),
                ..m.clone()
            })
    }

    /// VRRP instance `i`'s thread: its current view.
    pub fn set_vrrp_entry(&self, i: usize, entry: VrrpEntry) {
        let mut v = self.vrrp_view.lock().unwrap_or_else(|p| p.into_inner());
        if v.len() <= i {
            v.resize_with(i + 1, VrrpEntry::default);
        }
        v[i] = entry;
    }

    /// The sync thread: which daemons run now.
    pub fn set_sync_daemons(&self, list: Vec<control::proto::SyncDaemonStatus>) {
        *self.sync_daemons.lock().unwrap_or_else(|p| p.into_inner()) = list;
    }

    fn sync_control(&self) -> Result<Arc<crate::sync::SyncControl>, ControlError> {
        self.sync_sources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|s| s.control.clone())
            .ok_or_else(ControlError::sync_unavailable)
    }

    /// Makes the sync counters part of /metrics.
    pub fn set_sync_sources(&self, sources: SyncSources) {
        *self.sync_sources.lock().unwrap_or_else(|p| p.into_inner()) = Some(sources);
    }

    /// The sync daemons' and the workers' sync counters (`None` without `sync:`).
    pub fn sync_metrics(&self) -> Option<control::metrics::SyncMetrics> {
        let (stats, rings) = {
            let guard = self.sync_sources.lock().unwrap_or_else(|p| p.into_inner());
            let src = guard.as_ref()?;
            (src.stats.clone(), src.rings.clone())
        };
        let refused: Vec<(String, u64)> = stats
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        let sum = |f: &dyn Fn(&dataplane::CoreStats) -> u64| -> u64 {
            self.cores.iter().map(|c| f(&c.stats)).sum()
        };
        Some(control::metrics::SyncMetrics {
            messages_sent: load(&stats.messages_sent),
            messages_received: load(&stats.messages_received),
            conns_queued: sum(&|s| s.sync_sent.get()),
            conns_sent: load(&stats.conns_sent),
            conns_received: load(&stats.conns_received),
            conns_installed: sum(&|s| s.sync_installed.get()),
            refused,
            install_refused: dataplane::pipeline::SyncRefusal::ALL
                .iter()
                .map(|r| {
                    (
                        r.name().to_string(),
                        sum(&|s| s.sync_refused[*r as usize].get()),
                    )
                })
                .collect(),
            ring_dropped: rings.dropped(),
        })
    }

    /// Whether VRRP instance `i` is MASTER (false before it first said).
    pub fn vrrp_is_master(&self, i: usize) -> bool {
        self.vrrp_view
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(i)
            .is_some_and(|e| e.state == "MASTER")
    }

    /// Gratuitous ARPs the workers sent, summed over the cores.
    pub fn garps_sent(&self) -> u64 {
        self.cores.iter().map(|c| c.stats.garps_sent.get()).sum()
    }

    /// How long since the checker's last pass (`None` before its first).
    pub fn health_pass_age(&self) -> Option<Duration> {
        self.health_view
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(_, _, at)| at.elapsed())
    }

    /// Called every `rates::INTERVAL_MS` by the sampler thread.
    pub fn sample_rates(&self) {
        let totals = self
            .totals()
            .into_iter()
            .map(|(k, (s, _))| (k, s))
            .collect();
        self.rates
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .sample(totals);
    }

    pub fn sample_interval() -> Duration {
        Duration::from_millis(rates::INTERVAL_MS)
    }

    /// Waits until every core runs `generation` or has refused it; returns
    /// the refusals (core, why).
    fn wait_applied(&self, generation: u64) -> Result<Vec<(usize, String)>, ControlError> {
        let start = Instant::now();
        loop {
            let mut refused = Vec::new();
            let mut pending = false;
            for (k, c) in self.cores.iter().enumerate() {
                if c.applied.load(Ordering::Acquire) >= generation {
                    continue;
                }
                match c.refusal(generation) {
                    Some(why) => refused.push((k, why)),
                    None => pending = true,
                }
            }
            if !pending {
                return Ok(refused);
            }
            if start.elapsed() > APPLY_TIMEOUT {
                return Err(ControlError::new(
                    ErrorKind::Internal,
                    "workers did not take the new configuration in time",
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Runs `snap` on every worker, or on none: when a worker refuses it,
    /// every worker is put back on the snapshot that ran before (the refusing
    /// ones never left it) and the refusal is returned.
    pub fn publish(&self, snap: dataplane::snapshot::Snapshot) -> Result<(), ControlError> {
        let previous = self.cell.load();
        self.cell.publish(snap);
        let refused = self.wait_applied(self.cell.generation())?;
        let Some((core, why)) = refused.first() else {
            return Ok(());
        };
        tracing::error!(core, error = %why, "a worker refused the change; every worker goes back to the previous configuration");
        self.cell.publish((*previous).clone());
        let again = self.wait_applied(self.cell.generation())?;
        if !again.is_empty() {
            tracing::error!(?again, "workers refused the previous configuration too");
        }
        Err(ControlError::new(
            ErrorKind::Internal,
            format!("refused by worker {core}: {why}; the running configuration is unchanged"),
        ))
    }
}

impl Backend for Daemon {
    fn apply(&self, new: Config) -> Result<(), ControlError> {
        let _serial = self.apply_lock.lock().unwrap_or_else(|p| p.into_inner());
        {
            let cur = self.config.lock().unwrap_or_else(|p| p.into_inner());
            if new.ports != cur.ports || new.workers != cur.workers {
                return Err(ControlError::invalid(
                    "ports",
                    "ports and workers change only with a restart",
                ));
            }
            // Each instance's thread, socket and mastership bit are set up
            // at start-up; a changed instance would run half-applied.
            if new.vrrp != cur.vrrp {
                return Err(ControlError::invalid(
                    "vrrp",
                    "VRRP instances change only with a restart",
                ));
            }
            // The sync thread, its sockets and the workers' rings are set
            // up at start-up too.
            if new.sync != cur.sync {
                return Err(ControlError::invalid(
                    "sync",
                    "the sync daemons' settings change only with a restart",
                ));
            }
            // The tables are sized once, at start-up.
            if new.conn_max != cur.conn_max {
                return Err(ControlError::invalid(
                    "conn_max",
                    "changes only with a restart",
                ));
            }
        }
        new.validate().map_err(ControlError::from)?;
        let running = overlay::running(&new, &self.overlay());
        self.publish_running(&running)?;
        *self.config.lock().unwrap_or_else(|p| p.into_inner()) = new;
        tracing::info!(
            generation = self.cell.generation(),
            "configuration applied on every worker"
        );
        Ok(())
    }

    fn config(&self) -> Config {
        self.config
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn running(&self) -> Config {
        overlay::running(&self.config(), &self.overlay())
    }

    fn health(&self) -> Vec<HealthEntry> {
        self.health_view
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(e, _, _)| e.clone())
            .unwrap_or_default()
    }

    fn start_daemon(&self, spec: control::proto::SyncDaemonSpec) -> Result<(), ControlError> {
        self.sync_control()?.start(spec)
    }

    fn stop_daemon(&self, role: control::config::SyncRole) -> Result<(), ControlError> {
        self.sync_control()?.stop(role)
    }

    fn daemons(&self) -> Vec<control::proto::SyncDaemonStatus> {
        self.sync_daemons
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn vrrp(&self) -> Vec<VrrpEntry> {
        self.vrrp_view
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn counters(&self) -> Counters {
        let cfg = self.config();
        let totals = self.totals();
        let zeroed = self
            .zeroed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let rates = self.rates.lock().unwrap_or_else(|p| p.into_inner());
        let ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        let report = |k: RateKey| {
            let (raw, counts) = totals.get(&k).copied().unwrap_or_default();
            let s = minus(raw, zeroed.get(&k).copied().unwrap_or_default());
            (rates.with_rates(k, s), counts)
        };
        let services = cfg
            .services
            .iter()
            .map(|s| {
                let sid = ids.service_id(s).unwrap_or(u32::MAX);
                let reals = s
                    .reals
                    .iter()
                    .map(|r| {
                        let port = s.real_port(r);
                        let rid = ids.real_id(sid, r.address, port);
                        let (stats, c) =
                            rid.map(|rid| report((sid, Some(rid)))).unwrap_or_default();
                        RealCounters {
                            address: r.address,
                            port,
                            active: c[0],
                            inactive: c[1],
                            persistent: c[2],
                            stats,
                        }
                    })
                    .collect();
                ServiceCounters {
                    name: s.name.clone(),
                    stats: report((sid, None)).0,
                    reals,
                }
            })
            .collect();
        Counters { services }
    }

    fn connections(&self) -> Vec<ConnEntry> {
        for c in &self.cores {
            c.request_conns();
        }
        let start = Instant::now();
        let mut pending: Vec<&Arc<CoreShared>> = self.cores.iter().collect();
        let mut out = Vec::new();
        while !pending.is_empty() && start.elapsed() < LIST_TIMEOUT {
            pending.retain(|c| match c.take_conns() {
                Some(list) => {
                    out.extend(list.into_iter().map(|v| ConnEntry {
                        protocol: match v.proto {
                            dataplane::conntrack::Proto::Tcp => Protocol::Tcp,
                            dataplane::conntrack::Proto::Udp => Protocol::Udp,
                        },
                        expire_ms: v.expire_ms,
                        state: v.state.to_owned(),
                        client: SocketAddrV4::new(v.client.0, v.client.1),
                        virt: SocketAddrV4::new(v.virt.0, v.virt.1),
                        dest: SocketAddrV4::new(v.dest.0, v.dest.1),
                        kind: match v.kind {
                            ViewKind::Conn => ConnKind::Conn,
                            ViewKind::Template => ConnKind::Template,
                            ViewKind::MarkTemplate(_) => ConnKind::MarkTemplate,
                        },
                    }));
                    false
                }
                None => true,
            });
            if !pending.is_empty() {
                std::thread::sleep(POLL);
            }
        }
        out
    }

    fn reload(&self) -> Result<(), ControlError> {
        let new = Config::load(&self.path).map_err(ControlError::from)?;
        self.apply(new)
    }

    fn zero(&self, service: Option<ServiceKey>) {
        let cfg = self.config();
        let totals = self.totals();
        let ids = self.ids.lock().unwrap_or_else(|p| p.into_inner());
        let wanted: Vec<u32> = cfg
            .services
            .iter()
            .filter(|s| {
                service
                    .as_ref()
                    .is_none_or(|k| control::rules::serves(s, k))
            })
            .filter_map(|s| ids.service_id(s))
            .collect();
        let mut zeroed = self.zeroed.lock().unwrap_or_else(|p| p.into_inner());
        for (k, (s, _)) in totals {
            if wanted.contains(&k.0) {
                zeroed.insert(k, s);
            }
        }
    }
}
