//! The connection sync daemons (Linux IPVS's, speaking its protocol through
//! the port's kernel twin): the master drains the workers' sync rings into
//! version 1 messages and multicasts them; the backup receives messages,
//! and hands each connection to the worker that owns it. With
//! `sync.instance`, the master daemon runs while that VRRP instance is
//! MASTER and the backup daemon otherwise (keepalived's `lvs_sync_daemon IF
//! inst NAME`); without it, `sync.role` says which run.
mod socket;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use control::config::{Config, SyncConfig, SyncRole, SyncRoles};
use control::proto::SyncDaemonSpec;
use dataplane::pipeline::sync_owner;
use dataplane::sync_rings::SyncRings;
use dataplane::SnapshotCell;

use crate::daemon::Daemon;
use socket::{RecvSocket, SendSocket};

/// Longest wait for a message before the rings are drained again.
const TICK: Duration = Duration::from_millis(5);

/// What the sync daemons did, for /metrics.
#[derive(Default)]
pub struct SyncStats {
    pub messages_sent: AtomicU64,
    pub conns_sent: AtomicU64,
    pub messages_received: AtomicU64,
    pub conns_received: AtomicU64,
    /// Received messages refused whole, and entries skipped, by reason.
    pub refused: Mutex<BTreeMap<&'static str, u64>>,
}

impl SyncStats {
    fn refuse(&self, why: &'static str) {
        *self
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(why)
            .or_default() += 1;
    }
}

pub struct SyncRuntime {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

struct Runner {
    cfg: SyncConfig,
    /// The VRRP instance the roles follow.
    instance: Option<usize>,
    rings: Arc<SyncRings>,
    cell: Arc<SnapshotCell>,
    daemon: Arc<Daemon>,
    stats: Arc<SyncStats>,
    send: SendSocket,
    recv: RecvSocket,
    mtu: u16,
    /// The worker-count mismatch is logged once.
    warned: AtomicBool,
}

impl SyncRuntime {
    /// Opens the sockets on the port's twin (a failure refuses the start)
    /// and runs the daemons on their thread.
    pub fn start(
        config: &Config,
        rings: Arc<SyncRings>,
        cell: Arc<SnapshotCell>,
        daemon: Arc<Daemon>,
        stats: Arc<SyncStats>,
    ) -> Result<Option<SyncRuntime>> {
        let Some(cfg) = config.sync.clone() else {
            return Ok(None);
        };
        let port = config
            .ports
            .iter()
            .find(|p| p.name == cfg.interface)
            .ok_or_else(|| anyhow!("sync.interface: no port {}", cfg.interface))?;
        let twin = port
            .host_iface
            .clone()
            .ok_or_else(|| anyhow!("sync.interface: {} has no host_iface", cfg.interface))?;
        let src = port
            .addresses
            .first()
            .map(|a| a.addr)
            .ok_or_else(|| anyhow!("sync.interface: {} has no address", cfg.interface))?;
        let instance = match &cfg.instance {
            Some(name) => Some(
                config
                    .vrrp
                    .iter()
                    .position(|v| &v.name == name)
                    .ok_or_else(|| anyhow!("sync.instance: no vrrp instance {name}"))?,
            ),
            None => None,
        };
        let send = SendSocket::open(&twin, src, cfg.mcast_group, cfg.mcast_port, cfg.mcast_ttl)
            .with_context(|| format!("sync: the master's socket on {twin}"))?;
        let recv = RecvSocket::open(&twin, src, cfg.mcast_group, cfg.mcast_port)
            .with_context(|| format!("sync: the backup's socket on {twin}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let runner = Runner {
            mtu: port.mtu,
            cfg,
            instance,
            rings,
            cell,
            daemon,
            stats,
            send,
            recv,
            warned: AtomicBool::new(false),
        };
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("fvs-sync".into())
            .spawn(move || runner.run(&flag))
            .context("spawning the sync thread")?;
        Ok(Some(SyncRuntime {
            stop,
            thread: Some(thread),
        }))
    }

    /// Sends what the master still holds, then stops.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Runner {
    /// Which daemons run now: (master, backup).
    fn roles(&self) -> (bool, bool) {
        match (self.instance, self.cfg.role) {
            (Some(i), _) => {
                let master = self.daemon.vrrp_is_master(i);
                (master, !master)
            }
            (None, Some(SyncRoles::Master)) => (true, false),
            (None, Some(SyncRoles::Backup)) => (false, true),
            (None, Some(SyncRoles::Both)) => (true, true),
            (None, None) => (false, false),
        }
    }

    fn run(self, stop: &AtomicBool) {
        let clock = Instant::now();
        let now = || clock.elapsed().as_millis() as u64;
        let mut builder = connsync::v1::Builder::new(self.cfg.syncid, usize::from(self.cfg.maxlen));
        let flush_ms = self.cfg.flush_interval_ms();
        let mut buf = vec![0u8; 65536];
        let mut was = (false, false);
        while !stop.load(Ordering::Relaxed) {
            let (master, backup) = self.roles();
            if (master, backup) != was {
                tracing::info!(master, backup, "sync daemons");
                self.rings.set_sending(master);
                self.publish(master, backup);
                if was.0 && !master {
                    // Stepping down: what is queued still goes out.
                    self.send_all(&mut builder, now(), flush_ms, true);
                }
                was = (master, backup);
            }
            if master {
                self.send_all(&mut builder, now(), flush_ms, false);
            }
            match self.recv.recv(&mut buf, TICK) {
                Ok(Some(n)) if backup => self.receive(buf.get(..n).unwrap_or(&[])),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "sync socket read failed");
                    std::thread::sleep(TICK);
                }
            }
        }
        self.rings.set_sending(false);
        if was.0 {
            self.send_all(&mut builder, now(), flush_ms, true);
        }
        self.publish(false, false);
    }

    /// Drains every worker's ring into messages; sends the full ones, and
    /// a partial one once it is `flush_ms` old (or `force`).
    fn send_all(&self, b: &mut connsync::v1::Builder, now: u64, flush_ms: u64, force: bool) {
        for core in 0..self.rings.workers() {
            self.rings.drain_out(core, |c| {
                self.stats.conns_sent.fetch_add(1, Ordering::Relaxed);
                if let Some(msg) = b.push(&c, now) {
                    self.send_one(&msg);
                }
            });
        }
        if let Some(msg) = b.flush(now, flush_ms, force) {
            self.send_one(&msg);
        }
    }

    fn send_one(&self, msg: &[u8]) {
        match self.send.send(msg) {
            Ok(()) => {
                self.stats.messages_sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => tracing::debug!(error = %e, "sync message not sent"),
        }
    }

    fn receive(&self, datagram: &[u8]) {
        let decoded = match connsync::decode(datagram, self.cfg.syncid) {
            Ok(d) => d,
            Err(r) => {
                self.stats.refuse(r.name());
                return;
            }
        };
        self.stats.messages_received.fetch_add(1, Ordering::Relaxed);
        for s in decoded.skipped.iter().chain(decoded.stopped.iter()) {
            self.stats.refuse(s.name());
        }
        let snap = self.cell.load();
        let workers = self.rings.workers();
        for c in decoded.conns {
            self.stats.conns_received.fetch_add(1, Ordering::Relaxed);
            let Some(owner) = sync_owner(&snap, workers, &c) else {
                self.stats.refuse("worker_count");
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::error!(
                        workers,
                        "sync: a FullNAT connection's local port and client map to different workers here: \
                         the master runs another number of workers (sync needs the same number on both)"
                    );
                }
                continue;
            };
            // A full ring is counted by the rings themselves.
            self.rings.install(owner, c);
        }
    }

    /// `fvsadm -L --daemon`'s view of what runs.
    fn publish(&self, master: bool, backup: bool) {
        let mut list = Vec::new();
        for (on, role) in [(master, SyncRole::Master), (backup, SyncRole::Backup)] {
            if on {
                list.push(SyncDaemonSpec::from_config(&self.cfg, role).status(self.mtu));
            }
        }
        self.daemon.set_sync_daemons(list);
    }
}
