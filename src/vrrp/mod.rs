//! The VRRP runtime: one thread per instance drives the sans-IO state
//! machine (`vrrp` crate) with a raw socket on the port's kernel twin, sets
//! the instance's mastership bit the workers read, asks worker 0 for the
//! gratuitous ARPs, and runs keepalived's notifications.
//!
//! Mastership is bound to the dataplane: an instance is in FAULT (no adverts,
//! addresses given up) while any worker has not polled within one advert
//! interval, or while its port's link is down. A dead process takes its
//! twin, so its adverts and its ARP answers, with it.
pub mod notify;
mod socket;

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use control::config::{Config, VrrpInstance, VrrpState};
use control::proto::VrrpEntry;
use dataplane::mastership::Mastership;
use dataplane::shared::CoreShared;
use vrrp::{Action, ChecksumForm, InitialState, Instance, Params, RxDrop, State, Version};

use crate::daemon::Daemon;
use notify::{Event, Notifier};
use socket::{AdvertSocket, RECV_BUF};

/// Longest sleep between two looks at the stop flag and the dataplane.
const TICK: Duration = Duration::from_millis(5);
/// How long an instance waits for the workers' first polls before it starts.
const FIRST_POLL_WAIT: Duration = Duration::from_secs(5);
/// An advert leaves only if every worker polled this recently: one queued
/// behind a stalled worker would go out late, after the backup took over,
/// and claim mastership again (the stall itself becomes FAULT after one
/// advert interval).
const SEND_FRESH_MS: u64 = 50;
/// How often an instance's view is published when nothing changes.
const PUBLISH_EVERY: Duration = Duration::from_millis(200);

/// What tells an instance whether the dataplane still carries its port.
#[derive(Clone)]
pub struct Liveness {
    /// Every worker's heartbeat.
    pub hearts: Vec<Arc<CoreShared>>,
    /// Per port: the link is up (refreshed by the main loop).
    pub links: Arc<[AtomicBool]>,
    /// The workers' clock: their heartbeats are milliseconds since it.
    pub clock: Instant,
}

impl Liveness {
    fn now(&self) -> u64 {
        self.clock.elapsed().as_millis() as u64
    }

    /// Every worker polled within `within_ms`.
    fn workers_alive(&self, now: u64, within_ms: u64) -> bool {
        self.hearts
            .iter()
            .all(|h| now.saturating_sub(h.polled_at.load(Ordering::Relaxed)) <= within_ms)
    }

    fn link_up(&self, port: usize) -> bool {
        self.links
            .get(port)
            .is_none_or(|l| l.load(Ordering::Relaxed))
    }
}

pub struct VrrpRuntime {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// One instance, ready to run on its thread.
struct Runner {
    index: usize,
    name: String,
    port: usize,
    port_name: String,
    addresses: Vec<String>,
    inst: Instance,
    sock: AdvertSocket,
    notifier: Notifier,
    mastership: Arc<Mastership>,
    daemon: Arc<Daemon>,
    live: Liveness,
    advert_ms: u64,
    version: u8,
    vrid: u8,
    since: Instant,
    fault: bool,
}

fn params(v: &VrrpInstance, src: Ipv4Addr) -> Params {
    Params {
        version: if v.version == 3 {
            Version::V3
        } else {
            Version::V2
        },
        vrid: v.virtual_router_id,
        priority: v.priority,
        advert_int_cs: v.advert_int_cs(),
        initial: if v.state == VrrpState::Master {
            InitialState::Master
        } else {
            InitialState::Backup
        },
        preempt: !v.nopreempt,
        preempt_delay_ms: v.preempt_delay_ms(),
        primary: src,
        addresses: v.virtual_ipaddress.iter().map(|a| a.addr()).collect(),
        auth_pass: v.auth_pass_bytes(),
        unicast: !v.unicast_peer.is_empty(),
        send_checksum: if v.checksum_as_v2() {
            ChecksumForm::Plain
        } else {
            ChecksumForm::PseudoHeader
        },
        garp_delay_ms: v.garp_master_delay_ms(),
    }
}

impl VrrpRuntime {
    /// Opens every instance's socket (any failure refuses the start, naming
    /// the instance), then runs each on its own thread.
    pub fn start(
        config: &Config,
        mastership: Arc<Mastership>,
        daemon: Arc<Daemon>,
        live: Liveness,
    ) -> Result<VrrpRuntime> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut runners = Vec::new();
        for (i, v) in config.vrrp.iter().enumerate() {
            let port = config
                .ports
                .iter()
                .position(|p| p.name == v.port)
                .ok_or_else(|| anyhow!("vrrp[{i}].port: no port {}", v.port))?;
            let p = &config.ports[port];
            let twin = p
                .host_iface
                .clone()
                .ok_or_else(|| anyhow!("vrrp[{i}].port: {} has no host_iface", v.port))?;
            let primary = p
                .addresses
                .first()
                .map(|a| a.addr)
                .ok_or_else(|| anyhow!("vrrp[{i}].port: {} has no address", v.port))?;
            let src = v.unicast_src_ip.unwrap_or(primary);
            let sock = AdvertSocket::open(&twin, src, &v.unicast_peer).with_context(|| {
                format!(
                    "vrrp[{i}] ({}): opening the advert socket on {twin}",
                    v.name
                )
            })?;
            let mut notifier = Notifier::new(&v.name);
            notifier.master = v.notify_master.clone();
            notifier.backup = v.notify_backup.clone();
            notifier.fault = v.notify_fault.clone();
            notifier.stop = v.notify_stop.clone();
            notifier.generic = v.notify.clone();
            notifier.fifo = v.notify_fifo.clone();
            runners.push(Runner {
                index: i,
                name: v.name.clone(),
                port,
                port_name: v.port.clone(),
                addresses: v.virtual_ipaddress.iter().map(|a| a.to_string()).collect(),
                inst: Instance::new(params(v, src)),
                sock,
                notifier,
                mastership: mastership.clone(),
                daemon: daemon.clone(),
                live: live.clone(),
                advert_ms: u64::from(v.advert_int_cs()) * 10,
                version: v.version,
                vrid: v.virtual_router_id,
                since: Instant::now(),
                fault: false,
            });
        }
        let mut threads = Vec::new();
        for r in runners {
            let stop = stop.clone();
            let h = std::thread::Builder::new()
                .name(format!("fvs-vrrp-{}", r.index))
                .spawn(move || r.run(&stop))
                .context("spawning a VRRP thread")?;
            threads.push(h);
        }
        Ok(VrrpRuntime { stop, threads })
    }

    /// Clean stop: every master sends priority 0 and gives its addresses
    /// up; returns once every instance has.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

impl Runner {
    fn run(mut self, stop: &AtomicBool) {
        // An instance starting before the workers poll would go straight
        // to FAULT; give them a bounded moment.
        let waited = Instant::now();
        while !self.live.workers_alive(self.live.now(), self.advert_ms)
            && waited.elapsed() < FIRST_POLL_WAIT
            && !stop.load(Ordering::Relaxed)
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut actions = Vec::new();
        self.inst.start(self.live.now(), &mut actions);
        self.apply(&mut actions);
        let mut buf = vec![0u8; RECV_BUF];
        let mut published = Instant::now();
        self.publish();
        while !stop.load(Ordering::Relaxed) {
            let now = self.live.now();
            let fault =
                !self.live.workers_alive(now, self.advert_ms) || !self.live.link_up(self.port);
            if fault != self.fault {
                self.fault = fault;
                if fault {
                    tracing::warn!(instance = %self.name, workers_alive = self.live.workers_alive(now, self.advert_ms),
                        link_up = self.live.link_up(self.port), "VRRP instance in FAULT: the dataplane cannot carry it");
                }
                self.inst.set_fault(now, fault, &mut actions);
                self.apply(&mut actions);
            }
            self.inst.on_timer(now, &mut actions);
            self.apply(&mut actions);
            let wait = self
                .inst
                .next_deadline()
                .map_or(TICK, |d| Duration::from_millis(d.saturating_sub(now)))
                .min(TICK);
            match self.sock.recv(&mut buf, wait) {
                Ok(Some(n)) => {
                    let now = self.live.now();
                    let packet = buf.get(..n).unwrap_or(&[]);
                    if let Err(why) = self.inst.on_packet(now, packet, &mut actions) {
                        if why != RxDrop::Vrid {
                            tracing::debug!(instance = %self.name, reason = why.name(), "VRRP advert dropped");
                        }
                    }
                    self.apply(&mut actions);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(instance = %self.name, error = %e, "VRRP socket read failed");
                    std::thread::sleep(TICK);
                }
            }
            self.notifier.reap();
            if published.elapsed() >= PUBLISH_EVERY {
                self.publish();
                published = Instant::now();
            }
        }
        self.inst.shutdown(self.live.now(), &mut actions);
        self.apply(&mut actions);
        self.publish();
    }

    /// Carries out what the state machine decided.
    fn apply(&mut self, actions: &mut Vec<Action>) {
        let mut changed = false;
        for a in actions.drain(..) {
            match a {
                Action::SendAdvert { priority } => self.send(priority),
                Action::Garp => self.mastership.request_garp(self.index),
                Action::Transition { from, to } => {
                    // Addresses follow the state before anything is said
                    // about it: a GARP is only sent for a MASTER's addresses.
                    self.mastership.set_master(self.index, to == State::Master);
                    self.since = Instant::now();
                    changed = true;
                    tracing::info!(instance = %self.name, from = from.name(), to = to.name(),
                        priority = self.inst.priority(), master = ?self.inst.master(), "VRRP transition");
                    let event = match to {
                        State::Master => Some(Event::Master),
                        State::Backup => Some(Event::Backup),
                        State::Fault => Some(Event::Fault),
                        State::Init => Some(Event::Stop),
                    };
                    if let Some(e) = event {
                        self.notifier.notify(e, self.inst.priority());
                    }
                }
            }
        }
        if changed {
            self.publish();
        }
    }

    fn send(&mut self, priority: u8) {
        if !self.live.workers_alive(self.live.now(), SEND_FRESH_MS) {
            tracing::debug!(instance = %self.name, priority, "advert held back: a worker is not polling");
            return;
        }
        let mut sent = false;
        for (k, dst) in self.sock.dest_addrs.clone().into_iter().enumerate() {
            let msg = self.inst.advert_bytes(priority, dst);
            match self.sock.send(k, &msg) {
                Ok(()) => sent = true,
                Err(e) => {
                    tracing::debug!(instance = %self.name, %dst, error = %e, "VRRP advert not sent")
                }
            }
        }
        if sent {
            self.inst.note_sent(priority);
        }
    }

    fn publish(&self) {
        let s = self.inst.stats();
        let entry = VrrpEntry {
            name: self.name.clone(),
            port: self.port_name.clone(),
            vrid: self.vrid,
            version: self.version,
            state: self.inst.state().name().to_string(),
            priority: self.inst.priority(),
            advert_int_cs: (self.advert_ms / 10) as u16,
            master_adver_int_cs: self.inst.master_adver_int_cs(),
            master: self.inst.master(),
            addresses: self.addresses.clone(),
            since_ms: self.since.elapsed().as_millis() as u64,
            adverts_sent: s.adverts_sent,
            adverts_received: s.adverts_received,
            transitions: s.transitions,
            dropped: RxDrop::ALL
                .iter()
                .map(|r| (r.name().to_string(), s.dropped[*r as usize]))
                .collect(),
        };
        self.daemon.set_vrrp_entry(self.index, entry);
    }
}
