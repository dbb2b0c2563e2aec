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
use control::config::{Config, SyncRole};
use control::proto::{ControlError, ErrorKind, SyncDaemonSpec};
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

/// Which sync daemons are wanted: from `sync:` at start, changed by
/// `fvsadm --start-daemon/--stop-daemon`.
#[derive(Default)]
pub struct SyncControl {
    wanted: Mutex<Wanted>,
    /// Per port name: (twin, first address, MTU).
    ports: Vec<(String, String, std::net::Ipv4Addr, u16)>,
}

#[derive(Clone, Default, PartialEq)]
struct Wanted {
    /// With `sync.instance`: the master daemon runs while this VRRP
    /// instance is MASTER, the backup daemon otherwise.
    follow: Option<usize>,
    master: Option<SyncDaemonSpec>,
    backup: Option<SyncDaemonSpec>,
    /// `sync.flush_interval`, in ms.
    flush_ms: u64,
}

impl SyncControl {
    /// The daemons `sync:` asks for, on the ports of `config`.
    pub fn new(config: &Config) -> Result<SyncControl> {
        let ports = config
            .ports
            .iter()
            .filter_map(|p| {
                Some((
                    p.name.clone(),
                    p.host_iface.clone()?,
                    p.addresses.first()?.addr,
                    p.mtu,
                ))
            })
            .collect();
        let mut w = Wanted {
            flush_ms: connsync::FLUSH_AGE_MS,
            ..Wanted::default()
        };
        if let Some(cfg) = &config.sync {
            w.flush_ms = cfg.flush_interval_ms();
            w.follow = match &cfg.instance {
                Some(name) => Some(
                    config
                        .vrrp
                        .iter()
                        .position(|v| &v.name == name)
                        .ok_or_else(|| anyhow!("sync.instance: no vrrp instance {name}"))?,
                ),
                None => None,
            };
            let roles = match (&cfg.instance, cfg.role) {
                (Some(_), _) => vec![SyncRole::Master, SyncRole::Backup],
                (None, Some(r)) => r.roles().to_vec(),
                (None, None) => Vec::new(),
            };
            for role in roles {
                let spec = Some(SyncDaemonSpec::from_config(cfg, role));
                match role {
                    SyncRole::Master => w.master = spec,
                    SyncRole::Backup => w.backup = spec,
                }
            }
        }
        Ok(SyncControl {
            wanted: Mutex::new(w),
            ports,
        })
    }

    fn wanted(&self) -> Wanted {
        self.wanted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn port(&self, name: &str) -> Option<&(String, String, std::net::Ipv4Addr, u16)> {
        self.ports.iter().find(|p| p.0 == name)
    }

    /// `fvsadm --start-daemon`: refused as the kernel refuses (a daemon of
    /// that role runs; no such interface).
    pub fn start(&self, spec: SyncDaemonSpec) -> std::result::Result<(), ControlError> {
        if self.port(&spec.interface).is_none() {
            return Err(ControlError::new(
                ErrorKind::NoDevice,
                format!("{}: not a port with a host_iface", spec.interface),
            ));
        }
        let mut w = self.wanted.lock().unwrap_or_else(|p| p.into_inner());
        let slot = match spec.role {
            SyncRole::Master => &mut w.master,
            SyncRole::Backup => &mut w.backup,
        };
        if slot.is_some() {
            return Err(ControlError::new(
                ErrorKind::DaemonRunning,
                format!("a {} sync daemon runs", spec.role),
            ));
        }
        *slot = Some(spec);
        Ok(())
    }

    /// `fvsadm --stop-daemon`.
    pub fn stop(&self, role: SyncRole) -> std::result::Result<(), ControlError> {
        let mut w = self.wanted.lock().unwrap_or_else(|p| p.into_inner());
        let slot = match role {
            SyncRole::Master => &mut w.master,
            SyncRole::Backup => &mut w.backup,
        };
        if slot.take().is_none() {
            return Err(ControlError::new(
                ErrorKind::NoDaemon,
                format!("no {role} sync daemon runs"),
            ));
        }
        Ok(())
    }
}

/// The sockets of one running daemon, opened for its spec.
struct Open<S> {
    spec: SyncDaemonSpec,
    sock: S,
}

struct Runner {
    control: Arc<SyncControl>,
    rings: Arc<SyncRings>,
    cell: Arc<SnapshotCell>,
    daemon: Arc<Daemon>,
    stats: Arc<SyncStats>,
    /// The worker-count mismatch is logged once.
    warned: AtomicBool,
}

impl SyncRuntime {
    /// Runs the sync daemons' thread: it opens each daemon's sockets when
    /// the daemon is wanted (by `sync:` or fvsadm) and closes them after.
    pub fn start(
        control: Arc<SyncControl>,
        rings: Arc<SyncRings>,
        cell: Arc<SnapshotCell>,
        daemon: Arc<Daemon>,
        stats: Arc<SyncStats>,
    ) -> Result<SyncRuntime> {
        let stop = Arc::new(AtomicBool::new(false));
        let runner = Runner {
            control,
            rings,
            cell,
            daemon,
            stats,
            warned: AtomicBool::new(false),
        };
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("fvs-sync".into())
            .spawn(move || runner.run(&flag))
            .context("spawning the sync thread")?;
        Ok(SyncRuntime {
            stop,
            thread: Some(thread),
        })
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
    /// The daemons that run now: (master, backup) specs.
    fn active(&self, w: &Wanted) -> (Option<SyncDaemonSpec>, Option<SyncDaemonSpec>) {
        match w.follow {
            Some(i) if self.daemon.vrrp_is_master(i) => (w.master.clone(), None),
            Some(_) => (None, w.backup.clone()),
            None => (w.master.clone(), w.backup.clone()),
        }
    }

    fn open_master(&self, spec: &SyncDaemonSpec) -> Option<Open<SendSocket>> {
        let (_, twin, src, _) = self.control.port(&spec.interface)?;
        let st = spec.status(1500);
        match SendSocket::open(twin, *src, st.group, st.port, st.ttl) {
            Ok(sock) => Some(Open {
                spec: spec.clone(),
                sock,
            }),
            Err(e) => {
                tracing::error!(error = %e, twin, "sync: the master daemon's socket");
                None
            }
        }
    }

    fn open_backup(&self, spec: &SyncDaemonSpec) -> Option<Open<RecvSocket>> {
        let (_, twin, src, _) = self.control.port(&spec.interface)?;
        let st = spec.status(1500);
        match RecvSocket::open(twin, *src, st.group, st.port) {
            Ok(sock) => Some(Open {
                spec: spec.clone(),
                sock,
            }),
            Err(e) => {
                tracing::error!(error = %e, twin, "sync: the backup daemon's socket");
                None
            }
        }
    }

    fn run(self, stop: &AtomicBool) {
        let clock = Instant::now();
        let now = || clock.elapsed().as_millis() as u64;
        let mut master: Option<(Open<SendSocket>, connsync::v1::Builder)> = None;
        let mut backup: Option<Open<RecvSocket>> = None;
        let mut buf = vec![0u8; 65536];
        let mut flush_ms = connsync::FLUSH_AGE_MS;
        while !stop.load(Ordering::Relaxed) {
            let w = self.control.wanted();
            flush_ms = w.flush_ms;
            let (want_m, want_b) = self.active(&w);
            if master.as_ref().map(|(o, _)| &o.spec) != want_m.as_ref() {
                if let Some((o, mut b)) = master.take() {
                    // Stepping down: what is queued still goes out.
                    self.send_all(&o.sock, &mut b, now(), flush_ms, true);
                }
                master = want_m.as_ref().and_then(|spec| {
                    let st = spec.status(1500);
                    let b = connsync::v1::Builder::new(st.syncid, usize::from(st.maxlen));
                    self.open_master(spec).map(|o| (o, b))
                });
                self.rings.set_sending(master.is_some());
                self.publish(&master.as_ref().map(|(o, _)| o.spec.clone()), &want_b);
                tracing::info!(master = master.is_some(), "sync: master daemon");
            }
            if backup.as_ref().map(|o| &o.spec) != want_b.as_ref() {
                backup = want_b.as_ref().and_then(|spec| self.open_backup(spec));
                self.publish(&want_m, &backup.as_ref().map(|o| o.spec.clone()));
                tracing::info!(backup = backup.is_some(), "sync: backup daemon");
            }
            if let Some((o, b)) = master.as_mut() {
                self.send_all(&o.sock, b, now(), flush_ms, false);
            }
            match &backup {
                Some(o) => match o.sock.recv(&mut buf, TICK) {
                    Ok(Some(n)) => {
                        let syncid = o.spec.syncid;
                        self.receive(buf.get(..n).unwrap_or(&[]), syncid);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "sync socket read failed");
                        std::thread::sleep(TICK);
                    }
                },
                None => std::thread::sleep(TICK),
            }
        }
        self.rings.set_sending(false);
        if let Some((o, mut b)) = master.take() {
            self.send_all(&o.sock, &mut b, now(), flush_ms, true);
        }
        self.publish(&None, &None);
    }

    /// Drains every worker's ring into messages; sends the full ones, and
    /// a partial one once it is `flush_ms` old (or `force`).
    fn send_all(
        &self,
        sock: &SendSocket,
        b: &mut connsync::v1::Builder,
        now: u64,
        flush_ms: u64,
        force: bool,
    ) {
        for core in 0..self.rings.workers() {
            self.rings.drain_out(core, |c| {
                self.stats.conns_sent.fetch_add(1, Ordering::Relaxed);
                if let Some(msg) = b.push(&c, now) {
                    self.send_one(sock, &msg);
                }
            });
        }
        if let Some(msg) = b.flush(now, flush_ms, force) {
            self.send_one(sock, &msg);
        }
    }

    fn send_one(&self, sock: &SendSocket, msg: &[u8]) {
        match sock.send(msg) {
            Ok(()) => {
                self.stats.messages_sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => tracing::debug!(error = %e, "sync message not sent"),
        }
    }

    fn receive(&self, datagram: &[u8], syncid: u8) {
        let decoded = match connsync::decode(datagram, syncid) {
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
    fn publish(&self, master: &Option<SyncDaemonSpec>, backup: &Option<SyncDaemonSpec>) {
        let list = [master, backup]
            .into_iter()
            .flatten()
            .map(|spec| {
                let mtu = self.control.port(&spec.interface).map_or(1500, |p| p.3);
                spec.status(mtu)
            })
            .collect();
        self.daemon.set_sync_daemons(list);
    }
}
