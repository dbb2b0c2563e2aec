//! `ferrovs run`: brings up the EAL and ports from the config, runs one pinned
//! worker per configured core, and shuts everything down in order on
//! SIGINT/SIGTERM (workers joined, ports stopped and closed, EAL cleaned up).
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use control::config::Config;
use dataplane::fabric::Fabric;
use dataplane::host_rings::{HostRings, WIRE_WORKER};
use dataplane::{CoreStats, DropReason, Pipeline, PortIo, SnapshotCell, Worker};

use crate::convert;
use crate::daemon::ids::Ids;
use crate::daemon::plane::{self, ControlPlane, PoolGauge};
use crate::daemon::Daemon;
use crate::dpdk::ethdev::{QueuePair, MAX_BURST};
use crate::dpdk::{Eal, EthPort, Mbuf, Mempool};
use crate::host::{self, HostStats};
use crate::instance_lock::{current_netns, lock_ports, LOCK_DIR};
use crate::steering::{PortFlows, Steering};
use crate::sync::{SyncControl, SyncRuntime, SyncStats};
use crate::vrrp::{Liveness, VrrpRuntime};
use dataplane::mastership::Mastership;
use dataplane::shared::CoreShared;
use dataplane::steer::reply_rules;
use dataplane::sync_rings::SyncRings;

/// A health checker pass older than this is logged as a stall.
const CHECKER_STALL: Duration = Duration::from_secs(5);

/// How often the ports' link state is read for VRRP's FAULT state.
const LINK_CHECK: Duration = Duration::from_millis(100);

/// Time for the VRRP goodbyes (priority 0) to leave through the kernel twin,
/// the host-path thread and worker 0 before they stop.
const GOODBYE_DRAIN: Duration = Duration::from_millis(50);

/// Per-lcore mempool cache (DPDK's recommended order of magnitude).
const POOL_CACHE: u32 = 256;

/// The DPDK device name a config `device` string probes as: the part before
/// the first comma (`net_af_packet0,iface=x` -> `net_af_packet0`).
fn device_name(device: &str) -> &str {
    device.split(',').next().unwrap_or(device)
}

/// vdevs are created by name; anything else is a bus address for the allow list.
fn is_vdev(device: &str) -> bool {
    device.starts_with("net_")
}

pub fn eal_args(config: &Config) -> Vec<String> {
    let mut args = vec!["-l".to_owned(), "0".to_owned(), "--no-telemetry".to_owned()];
    if config.workers.in_memory {
        args.push("--in-memory".into());
    }
    let mut any_pci = false;
    for p in &config.ports {
        if is_vdev(&p.device) {
            args.extend(["--vdev".to_owned(), p.device.clone()]);
        } else {
            any_pci = true;
            args.extend(["-a".to_owned(), p.device.clone()]);
        }
    }
    if !any_pci {
        args.push("--no-pci".into());
    }
    args.extend(config.workers.eal_args.iter().cloned());
    args
}

/// Frames of one worker's queue pairs (one per port) over DPDK, and its
/// rings to and from the ports' kernel twins.
struct DpdkIo {
    queues: Vec<QueuePair>,
    pool: Arc<Mempool>,
    stats: Arc<CoreStats>,
    core: usize,
    host: Arc<HostRings<Mbuf>>,
}

impl PortIo for DpdkIo {
    type F = Mbuf;
    #[inline]
    fn rx(&mut self, port: usize, out: &mut Vec<Mbuf>, max: usize) {
        if let Some(q) = self.queues.get_mut(port) {
            q.rx(out, max);
            // The pipeline works on one contiguous segment; jumbo chains are dropped.
            let before = out.len();
            out.retain(|m| !m.is_chained());
            let dropped = before - out.len();
            if dropped > 0 {
                self.stats.drops[DropReason::MultiSegment as usize].add(dropped as u64);
            }
        }
    }
    #[inline]
    fn tx(&mut self, port: usize, frames: &mut Vec<Mbuf>) -> usize {
        match self.queues.get_mut(port) {
            Some(q) => q.tx(frames),
            None => {
                let n = frames.len();
                frames.clear();
                n
            }
        }
    }
    #[inline]
    fn alloc(&mut self) -> Option<Mbuf> {
        self.pool.alloc()
    }
    #[inline]
    fn to_host(&mut self, port: usize, frame: Mbuf) -> Result<(), Mbuf> {
        self.host.push_to_kernel(port, self.core, frame)
    }
    #[inline]
    fn take_from_host(&mut self, port: usize, out: &mut Vec<Mbuf>, max: usize) {
        if self.core == WIRE_WORKER {
            self.host.take_to_wire(port, out, max);
        }
    }
}

pub fn run(config: Config, config_path: &std::path::Path) -> Result<()> {
    let cores: Vec<usize> = config.workers.cores.iter().map(|&c| c as usize).collect();
    let nworkers = cores.len();
    if nworkers == 0 {
        bail!("workers.cores: at least one core is needed");
    }
    host::preflight(&config)?;
    // A signal asks for the stop (`term`); the threads stop on `stop`, set
    // once the VRRP instances have said goodbye through the dataplane.
    let term = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, term.clone())
        .context("installing SIGINT handler")?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, term.clone())
        .context("installing SIGTERM handler")?;
    let wedge = test_hook_wedge()?;
    let hup = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, hup.clone())
        .context("installing SIGHUP handler")?;

    // One ferrovs per device: refused here, before any device is opened.
    let locks = lock_ports(
        std::path::Path::new(LOCK_DIR),
        &current_netns(),
        &config.ports,
    )?;
    tracing::debug!(locks = ?locks.paths().collect::<Vec<_>>(), "port devices locked");
    let args = eal_args(&config);
    tracing::info!(?args, "initialising DPDK EAL");
    let eal = Eal::init_keeping_cpus(&args).context("EAL initialisation")?;
    let pool = Arc::new(
        Mempool::new(
            &eal,
            "ferrovs_mbufs",
            config.workers.mbufs,
            POOL_CACHE,
            eal.socket_id(),
        )
        .context("creating the mbuf pool")?,
    );
    let mut ports = Vec::with_capacity(config.ports.len());
    for (i, p) in config.ports.iter().enumerate() {
        let port = EthPort::open(&eal, device_name(&p.device), nworkers as u16, pool.clone())
            .with_context(|| format!("ports[{i}] ({}): opening {}", p.name, p.device))?;
        ports.push(port);
    }
    let macs: Vec<Option<[u8; 6]>> = ports.iter().map(|p| p.mac().ok()).collect();
    // The twins take their ports' MACs, so they come after the ports.
    let mut twins = host::create_twins(&eal, &config, host::plan::plans(&config, &macs), &pool)?;
    let twin_ports: Vec<bool> = config
        .ports
        .iter()
        .map(|p| p.host_iface.is_some())
        .collect();
    let host_rings = Arc::new(HostRings::<Mbuf>::new(nworkers, &twin_ports));
    let host_stats = Arc::new(HostStats::new(&config, nworkers));
    let mut ids = Ids::default();
    let snap = convert::snapshot_with_ids(&config, &macs, nworkers, &mut ids)?;
    for (p, spec) in ports.iter().zip(&snap.ports) {
        tracing::info!(port = %spec.name, device = p.name(), mac = %spec.mac, "port up");
    }
    // Reply steering is settled before any worker polls: a `required` port
    // the device refuses stops the start here, naming the port.
    let mut steering = Steering::new(&config.ports, nworkers);
    steering.sync(
        &mut PortFlows(&ports),
        &reply_rules(&snap.services, nworkers),
    )?;
    let mut steered_generation = snap.generation;
    let cell = Arc::new(SnapshotCell::new(snap));
    let stats: Vec<Arc<CoreStats>> = (0..nworkers)
        .map(|_| Arc::new(CoreStats::default()))
        .collect();
    let shared: Vec<Arc<CoreShared>> = stats
        .iter()
        .map(|s| Arc::new(CoreShared::new(s.clone())))
        .collect();
    let daemon = Arc::new(Daemon::new(
        config_path.to_path_buf(),
        config.clone(),
        ids,
        macs.clone(),
        cell.clone(),
        shared.clone(),
    ));
    let gauge = Arc::new(PoolGauge::default());
    gauge
        .total
        .store(u64::from(config.workers.mbufs), Ordering::Relaxed);
    let plane = ControlPlane::start(
        daemon.clone(),
        gauge.clone(),
        steering.status(),
        host_stats.clone(),
    )?;
    let mut checker = crate::checker::runner::Checker::start(daemon.clone())?;
    let start = Instant::now();
    let mastership = Arc::new(Mastership::new(config.vrrp.len()));
    // Always there, idle until a sync daemon runs (from `sync:` or fvsadm).
    let sync_rings = Arc::new(SyncRings::new(nworkers, connsync::SyncPolicy::default()));
    let sync_stats = Arc::new(SyncStats::default());
    let sync_control = Arc::new(SyncControl::new(&config)?);
    daemon.set_sync_sources(crate::daemon::SyncSources {
        stats: sync_stats.clone(),
        rings: sync_rings.clone(),
        control: sync_control.clone(),
    });
    let links: Arc<[AtomicBool]> = ports.iter().map(|_| AtomicBool::new(true)).collect();
    let mut links_checked = Instant::now();
    let burst = (config.workers.burst as usize).clamp(1, MAX_BURST);
    let fabric = (nworkers > 1).then(|| Arc::new(Fabric::<Mbuf>::new(nworkers)));

    let mut stall_logged: Option<Instant> = None;
    let result: Result<()> = std::thread::scope(|scope| {
        let fabric = &fabric;
        let mut handles = Vec::new();
        if !twins.is_empty() {
            let (eal, stop, rings, counters, config) = (
                &eal,
                stop.clone(),
                host_rings.clone(),
                host_stats.thread.clone(),
                &config,
            );
            let twins = &mut twins;
            let h = std::thread::Builder::new()
                .name("fvs-host".into())
                .spawn_scoped(scope, move || -> Result<()> {
                    host::pin(config);
                    eal.register_thread()
                        .context("registering the host-path thread with DPDK")?;
                    tracing::info!(twins = twins.len(), "host path polling");
                    host::run(twins, &rings, &counters, &stop);
                    eal.unregister_thread();
                    Ok(())
                })
                .context("spawning the host-path thread")?;
            handles.push(h);
        }
        for (k, &core) in cores.iter().enumerate() {
            let queues: Vec<QueuePair> = ports
                .iter()
                .filter_map(|p| p.queue_pair(k as u16))
                .collect();
            let (eal, pool, cell, stop, stats) = (
                &eal,
                pool.clone(),
                cell.clone(),
                stop.clone(),
                stats[k].clone(),
            );
            let core_shared = shared[k].clone();
            let (mastership, config, sync_rings) = (&mastership, &config, &sync_rings);
            let (host, host_counters) = (host_rings.clone(), host_stats.workers[k].clone());
            let h = std::thread::Builder::new()
                .name(format!("fvs-worker-{k}"))
                .spawn_scoped(scope, move || -> Result<()> {
                    if !core_affinity::set_for_current(core_affinity::CoreId { id: core }) {
                        tracing::warn!(core, "could not pin worker to core");
                    }
                    eal.register_thread()
                        .context("registering worker with DPDK")?;
                    let mut pipeline =
                        Pipeline::new(k as u16, nworkers, cell.load(), stats.clone())?;
                    pipeline.use_host_counters(host_counters);
                    if !config.vrrp.is_empty() {
                        pipeline.use_mastership(mastership.clone());
                    }
                    pipeline.use_sync(sync_rings.clone());
                    let io = DpdkIo {
                        queues,
                        pool,
                        stats,
                        core: k,
                        host,
                    };
                    let mut worker = Worker::new(pipeline, io, burst);
                    if let Some(f) = fabric {
                        worker = worker.with_fabric(f.clone());
                    }
                    worker = worker.with_shared(core_shared);
                    tracing::info!(worker = k, core, "worker polling");
                    worker.run(&stop, &cell, || start.elapsed().as_millis() as u64);
                    drop(worker);
                    eal.unregister_thread();
                    Ok(())
                })
                .context("spawning worker")?;
            handles.push(h);
        }
        let vrrp = if config.vrrp.is_empty() {
            None
        } else {
            let live = Liveness {
                hearts: shared.clone(),
                links: links.clone(),
                clock: start,
            };
            match VrrpRuntime::start(&config, mastership.clone(), daemon.clone(), live) {
                Ok(v) => Some(v),
                Err(e) => {
                    term.store(true, Ordering::Relaxed);
                    stop.store(true, Ordering::Relaxed);
                    for h in handles {
                        let _ = h.join();
                    }
                    return Err(e);
                }
            }
        };
        let sync = match SyncRuntime::start(
            sync_control.clone(),
            sync_rings.clone(),
            cell.clone(),
            daemon.clone(),
            sync_stats.clone(),
        ) {
            Ok(s) => s,
            Err(e) => {
                term.store(true, Ordering::Relaxed);
                stop.store(true, Ordering::Relaxed);
                if let Some(v) = vrrp {
                    v.stop();
                }
                for h in handles {
                    let _ = h.join();
                }
                return Err(e);
            }
        };
        while !term.load(Ordering::Relaxed) && handles.iter().all(|h| !h.is_finished()) {
            std::thread::sleep(Duration::from_millis(50));
            gauge
                .in_use
                .store(u64::from(pool.in_use()), Ordering::Relaxed);
            if hup.swap(false, Ordering::Relaxed) {
                plane::reload(&daemon);
            }
            if let Some(w) = &wedge {
                if w.swap(false, Ordering::Relaxed) {
                    let wedged = !shared
                        .first()
                        .is_some_and(|s| s.wedged.load(Ordering::Relaxed));
                    tracing::warn!(wedged, "test hook: workers wedged or released");
                    for s in &shared {
                        s.wedged.store(wedged, Ordering::Relaxed);
                    }
                }
            }
            if links_checked.elapsed() >= LINK_CHECK {
                links_checked = Instant::now();
                for (p, l) in ports.iter().zip(links.iter()) {
                    l.store(p.link_up(), Ordering::Relaxed);
                }
            }
            // The checker is never silently stuck: a pass older than
            // CHECKER_STALL is logged (once a minute while it lasts).
            if let Some(age) = daemon.health_pass_age() {
                if age > CHECKER_STALL
                    && stall_logged.is_none_or(|t: Instant| t.elapsed() > Duration::from_secs(60))
                {
                    tracing::error!(
                        ?age,
                        "the health checker has not run for a while; verdicts are stale"
                    );
                    stall_logged = Some(Instant::now());
                }
            }
            // Every applied change (fvsadm, reload) publishes a snapshot; the
            // rules follow it here, on the thread that owns the ports. Until
            // they do, the rings deliver the replies, so a short lag is harmless.
            if cell.generation() != steered_generation {
                let snap = cell.load();
                steered_generation = snap.generation;
                let wanted = reply_rules(&snap.services, nworkers);
                if let Err(e) = steering.sync(&mut PortFlows(&ports), &wanted) {
                    tracing::error!(error = %e, "the redirect rings carry this port's replies until restart");
                }
            }
        }
        // Masters send priority 0 while the dataplane still carries it (a
        // wedged one is released first: the goodbye must get out).
        for s in &shared {
            s.wedged.store(false, Ordering::Relaxed);
        }
        // The master's last sync messages leave before mastership does.
        sync.stop();
        if let Some(v) = vrrp {
            v.stop();
            std::thread::sleep(GOODBYE_DRAIN);
        }
        checker.stop();
        stop.store(true, Ordering::Relaxed);
        let mut first_err = Ok(());
        for h in handles {
            let r = h
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("worker panicked")));
            if first_err.is_ok() {
                first_err = r;
            }
        }
        first_err
    });
    plane.stop();
    steering.clear(&mut PortFlows(&ports));
    log_summary(&stats);
    for p in &mut ports {
        p.stop();
    }
    drop(ports);
    // Closing a twin's tap removes the kernel interface.
    for t in &mut twins {
        t.stop();
    }
    drop(twins);
    // Frames still parked in the host and redirect rings go back to the pool.
    drop(host_rings);
    drop(fabric);
    tracing::info!(
        mbufs_in_use = pool.in_use(),
        "mbuf pool after workers stopped"
    );
    drop(pool);
    drop(eal);
    tracing::info!("ferrovs stopped");
    drop(locks);
    result
}

/// The test hook (`FERROVS_TEST_HOOKS=1` only): each SIGUSR2 wedges every
/// worker, or releases them, as a stuck dataplane would stop polling.
fn test_hook_wedge() -> Result<Option<Arc<AtomicBool>>> {
    if std::env::var_os("FERROVS_TEST_HOOKS").is_none_or(|v| v != "1") {
        return Ok(None);
    }
    let flag = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGUSR2, flag.clone())
        .context("installing the SIGUSR2 test hook")?;
    tracing::warn!("test hooks on: SIGUSR2 wedges and releases the workers");
    Ok(Some(flag))
}

fn log_summary(stats: &[Arc<CoreStats>]) {
    for (k, s) in stats.iter().enumerate() {
        let drops: Vec<String> = DropReason::ALL
            .iter()
            .filter(|r| s.drops_of(**r) > 0)
            .map(|r| format!("{}={}", r.name(), s.drops_of(*r)))
            .collect();
        tracing::info!(
            worker = k,
            rx = s.rx_packets.get(),
            tx = s.tx_packets.get(),
            conns = s.conns_created.get(),
            redirected = s.redirected.get(),
            drops = %drops.join(","),
            "worker totals"
        );
    }
}
