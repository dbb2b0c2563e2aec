//! One frame in, one decision out: the per-core packet path shared by live
//! workers and offline replay. Nothing here locks or allocates per packet.
mod arp;
mod emit;
mod fast;
mod host;
mod icmp_err;
mod l4;
mod local;
mod nat_rewrite;
mod persist;
mod prefetch;
mod sync;
mod tag;
mod track;
mod vrrp;
mod xmit;

use std::net::Ipv4Addr;
use std::sync::Arc;

use conntrack::{Conn, ConnId, ConnTable, Dir, Millis, Proto, TemplateTable};
use hashbrown::HashMap;
pub use sync::{sync_owner, SyncRefusal};

use crate::egress::Egresses;
use crate::frame::Frame;
use crate::host::{HostCounters, RateGate};
use crate::neighbor::{NeighborTable, NeighborUpdate, Pending, MAX_PENDING};
use crate::route::RouteTable;
use crate::service::{ServiceBuildError, ServiceState};
use crate::snapshot::{Forward, PortMatch, Snapshot};
use crate::stats::{CoreStats, DropReason};
use crate::wire::{EtherType, EthernetFrame, MacAddr};

/// Where the pipeline puts frames it sends, and where it gets new ones.
pub trait Output<F> {
    fn send(&mut self, port: usize, frame: F);
    fn alloc(&mut self) -> Option<F>;
    /// Hands a frame received on `port` to the core that owns its connection.
    /// Returns the frame when that is impossible (ring full, single core).
    fn redirect(&mut self, core: usize, port: usize, frame: F) -> Result<(), F>;
    /// Hands a frame received on `port` to that port's kernel twin without
    /// blocking. Returns the frame when that is impossible (ring full).
    fn to_host(&mut self, port: usize, frame: F) -> Result<(), F>;
}

/// Most connections expired per housekeeping call: bounds the pause.
pub const EXPIRE_BUDGET: usize = 256;
/// Largest frame (jumbo) an ICMP error can be built from.
const SCRATCH_BYTES: usize = 9216 + 14;
/// Neighbours remembered for announcement between two bursts.
const MAX_LEARNED: usize = 64;

pub struct Pipeline<F> {
    core: u16,
    /// Workers sharing the ports; connections are owned by one of them.
    cores: usize,
    snap: Arc<Snapshot>,
    routes: RouteTable,
    /// Indexed by service id; `None` for ids of removed services.
    services: Vec<Option<ServiceState>>,
    /// (protocol, vip, port) -> service id, for single-port services.
    exact: HashMap<(u8, Ipv4Addr, u16), usize>,
    /// Ids of services with a port list, range or all ports, scanned after an exact miss.
    wide: Vec<usize>,
    /// Firewall mark -> service id.
    by_mark: HashMap<u32, usize>,
    conns: ConnTable,
    /// Persistence templates of this core's connections.
    templates: TemplateTable,
    /// FullNAT local addresses of every service (replies to them are owned by
    /// the core whose port they are addressed to).
    local_addrs: Vec<Ipv4Addr>,
    /// `port & core_mask` is the core owning a FullNAT local port.
    core_mask: u16,
    /// Client addresses are ANDed with this before choosing the owning core,
    /// so every connection a persistence template covers lands on one core.
    owner_mask: u32,
    neigh: NeighborTable<F>,
    stats: Arc<CoreStats>,
    /// Scratch for frames released by the neighbour table (preallocated).
    released: Vec<Pending<F>>,
    /// Neighbours learned here since the worker last announced them.
    learned: Vec<NeighborUpdate>,
    /// Copy of a frame that is rewritten into an ICMP error about itself.
    scratch: Vec<u8>,
    /// The connection the last frame belonged to (replay traces, debugging).
    last_conn: Option<ConnId>,
    /// Per port: this core's share of the twin's rate; `None` without a twin.
    host_gates: Vec<Option<RateGate>>,
    /// Per port: this core's host-path counters.
    host_counters: Arc<[HostCounters]>,
    /// Which VRRP instances are MASTER (their addresses served).
    vrrp: vrrp::VrrpView,
    /// Connection sync with the sync thread, when configured.
    sync: Option<Arc<crate::sync_rings::SyncRings>>,
    /// The snapshot's `expire_nodest_conn`, read by the fast path.
    expire_nodest_conn: bool,
    /// Per port: its MAC, the destination of every frame the fast path takes.
    port_macs: Vec<[u8; 6]>,
    /// Next hops the fast path reuses.
    egress: Egresses,
    /// The connection direction whose next hop the full path is to remember
    /// once it has resolved it for this frame (`emit`).
    remember: Option<(ConnId, Dir)>,
}

impl<F: Frame> Pipeline<F> {
    /// The pipeline of worker `core` out of `cores` sharing the ports.
    pub fn new(
        core: u16,
        cores: usize,
        snap: Arc<Snapshot>,
        stats: Arc<CoreStats>,
    ) -> Result<Self, ServiceBuildError> {
        let conns = ConnTable::new(snap.conns_per_core, snap.timeouts);
        let templates = TemplateTable::new(TemplateTable::capacity_for(snap.conns_per_core));
        let mut p = Pipeline {
            core,
            cores: cores.max(1),
            local_addrs: Vec::new(),
            core_mask: crate::steer::core_mask(cores),
            learned: Vec::with_capacity(MAX_LEARNED),
            scratch: Vec::with_capacity(SCRATCH_BYTES),
            last_conn: None,
            host_gates: Vec::new(),
            host_counters: snap.ports.iter().map(|_| HostCounters::default()).collect(),
            vrrp: vrrp::VrrpView::default(),
            sync: None,
            expire_nodest_conn: false,
            port_macs: Vec::new(),
            egress: Egresses::default(),
            remember: None,
            routes: RouteTable::default(),
            services: Vec::new(),
            exact: HashMap::new(),
            wide: Vec::new(),
            by_mark: HashMap::new(),
            conns,
            templates,
            owner_mask: u32::MAX,
            neigh: NeighborTable::new(&snap),
            stats,
            released: Vec::with_capacity(MAX_PENDING),
            snap: snap.clone(),
        };
        p.apply(snap)?;
        Ok(p)
    }

    /// Switches to a new snapshot, whole or not at all: on error this core
    /// keeps running the previous one, every service as it was. Connections
    /// already tracked stay.
    pub fn apply(&mut self, snap: Arc<Snapshot>) -> Result<(), ServiceBuildError> {
        // Every fallible step first (limits checked, schedulers and new
        // services built), touching nothing; then the changes, which cannot fail.
        let mut changes = Vec::with_capacity(snap.services.len());
        for s in &snap.services {
            let id = s.id as usize;
            let change = match self.services.get(id).and_then(Option::as_ref) {
                Some(old) => Change::Reconcile(old.prepare(s)?),
                None => {
                    let seed = u64::from(self.core) << 32 | id as u64;
                    Change::New(Box::new(ServiceState::new(
                        s,
                        seed,
                        self.core,
                        self.core_mask,
                    )?))
                }
            };
            changes.push((id, change));
        }
        let mut services: Vec<Option<ServiceState>> = Vec::new();
        let mut exact = HashMap::with_capacity(snap.services.len() * 2);
        let mut wide = Vec::new();
        let mut by_mark = HashMap::new();
        for ((id, change), s) in changes.into_iter().zip(&snap.services) {
            if services.len() <= id {
                services.resize_with(id + 1, || None);
            }
            let state = match change {
                Change::New(state) => *state,
                Change::Reconcile(prepared) => {
                    // Prepared from this very state above (ids are unique in
                    // a snapshot), so it is there.
                    let Some(mut old) = self.services.get_mut(id).and_then(Option::take) else {
                        continue;
                    };
                    old.commit(prepared);
                    old
                }
            };
            services[id] = Some(state);
            match (&s.fwmark, &s.ports) {
                (Some(m), _) => {
                    by_mark.insert(*m, id);
                }
                (None, PortMatch::One(p)) => {
                    exact.insert((s.proto as u8, s.vip, *p), id);
                }
                (None, _) => wide.push(id),
            }
        }
        self.local_addrs = snap
            .services
            .iter()
            .flat_map(|s| s.local_addresses.iter().copied())
            .collect();
        self.owner_mask = snap
            .services
            .iter()
            .filter_map(|s| s.persistence.as_ref())
            .fold(u32::MAX, |m, p| m & u32::from(p.netmask));
        let routes = RouteTable::from_snapshot(&snap);
        if routes != self.routes && self.egress.new_era() {
            self.conns.clear_hops();
        }
        self.routes = routes;
        self.port_macs = snap.ports.iter().map(|p| p.mac.0).collect();
        self.expire_nodest_conn = snap.expire_nodest_conn;
        self.set_host_gates(&snap);
        self.neigh.set_statics(&snap);
        self.conns.set_timeouts(snap.timeouts);
        self.services = services;
        self.exact = exact;
        self.wide = wide;
        self.by_mark = by_mark;
        self.snap = snap;
        self.refresh_standby();
        Ok(())
    }

    pub fn core(&self) -> usize {
        usize::from(self.core)
    }

    /// Neighbours learned since the last call, for the other cores.
    pub fn take_learned(&mut self) -> std::vec::Drain<'_, NeighborUpdate> {
        self.learned.drain(..)
    }

    /// A neighbour another core learned.
    pub fn neighbor_announced(&mut self, u: NeighborUpdate, now: Millis, out: &mut impl Output<F>) {
        self.neigh
            .learn(u.port, u.ip, u.mac, now, &mut self.released);
        self.flush_released(now, out);
    }

    pub fn snapshot(&self) -> &Arc<Snapshot> {
        &self.snap
    }
    pub fn stats(&self) -> &Arc<CoreStats> {
        &self.stats
    }
    /// The services of this core, by id.
    pub fn services(&self) -> impl Iterator<Item = &ServiceState> {
        self.services.iter().flatten()
    }

    /// (service id, counters) of every service, for the control plane.
    pub fn service_counters(&self) -> Vec<(u32, Arc<crate::service::ServiceCounters>)> {
        self.services()
            .map(|s| (s.spec.id, s.counters.clone()))
            .collect()
    }

    #[inline]
    pub(crate) fn svc_mut(&mut self, id: usize) -> Option<&mut ServiceState> {
        self.services.get_mut(id)?.as_mut()
    }
    pub fn conns(&self) -> &ConnTable {
        &self.conns
    }
    pub fn templates(&self) -> &TemplateTable {
        &self.templates
    }

    /// The connection the last processed frame belonged to, if it is still tracked.
    pub fn last_conn(&self) -> Option<&Conn> {
        self.conns.get(self.last_conn?)
    }

    /// Handles one received frame: it is sent, parked or dropped (and counted).
    #[inline]
    pub fn process(&mut self, frame: F, in_port: usize, now: Millis, out: &mut impl Output<F>) {
        self.stats.rx_packets.add(1);
        self.stats.rx_bytes.add(frame.len() as u64);
        if let Err(frame) = self.fast(frame, in_port, now, out) {
            self.full(frame, in_port, now, out);
        }
    }

    /// Everything the fast path does not take: new connections, state
    /// changes, ARP, ICMP, the host path, frames whose next hop is not
    /// remembered yet (this path remembers it).
    #[inline(never)]
    fn full(&mut self, mut frame: F, in_port: usize, now: Millis, out: &mut impl Output<F>) {
        self.stats.full_path.add(1);
        self.last_conn = None;
        self.remember = None;
        match self.classify(&mut frame, in_port, now, out) {
            Verdict::Drop(r) => self.stats.count_drop(r),
            Verdict::Consumed => {}
            Verdict::ReplySamePort => self.transmit(in_port, frame, out),
            Verdict::Route(dst) => self.emit(frame, dst, now, out),
            Verdict::Redirect(core) => match out.redirect(core, in_port, frame) {
                Ok(()) => self.stats.redirected.add(1),
                Err(_frame) => self.stats.count_drop(DropReason::RedirectFull),
            },
            Verdict::ToHost => self.hand_to_host(in_port, frame, now, out),
        }
    }

    /// Periodic work: bounded connection expiry and neighbour ageing.
    pub fn housekeeping(&mut self, now: Millis) -> usize {
        let services = &mut self.services;
        let templates = &mut self.templates;
        let n = self.conns.expire(now, EXPIRE_BUDGET, |c| {
            release_conn(services, templates, c, c.expires)
        });
        self.templates
            .expire(now, EXPIRE_BUDGET, |t| persist::template_gone(services, t));
        self.neigh.expire(now, &mut self.released);
        for _ in self.released.drain(..) {
            self.stats.count_drop(DropReason::NeighborUnresolved);
        }
        n
    }

    /// Undoes what a connection removed at `at` held: its real's count, its
    /// FullNAT local port, its persistence template.
    pub(super) fn release(&mut self, c: &Conn, at: Millis) {
        release_conn(&mut self.services, &mut self.templates, c, at);
    }

    fn classify(
        &mut self,
        frame: &mut F,
        in_port: usize,
        now: Millis,
        out: &mut impl Output<F>,
    ) -> Verdict {
        let Some(port) = self.snap.ports.get(in_port) else {
            return Verdict::Drop(DropReason::NotForUs);
        };
        let our_mac = port.mac;
        let (dst, ethertype) = {
            let data = frame.data();
            if data.is_empty() {
                return Verdict::Drop(DropReason::EmptyFrame);
            }
            let Ok(eth) = EthernetFrame::new_checked(data) else {
                return Verdict::Drop(DropReason::TruncatedEthernet);
            };
            (eth.dst_addr(), eth.ethertype())
        };
        // A bridge floods unknown unicast: only frames for us (or broadcast) count.
        // IPv4 multicast and broadcast are the kernel twin's (VRRP, sync, routing).
        if dst != our_mac && dst != MacAddr::BROADCAST {
            if dst.is_multicast() && ethertype == EtherType::IPV4 {
                return self.host_or(in_port, DropReason::NotForUs);
            }
            return Verdict::Drop(DropReason::NotForUs);
        }
        match ethertype {
            EtherType::ARP => self.arp(frame.data_mut(), in_port, our_mac, now, out),
            EtherType::IPV4 if dst == our_mac => self.ipv4(frame, in_port, now),
            EtherType::IPV4 => self.host_or(in_port, DropReason::NotForUs),
            _ => Verdict::Drop(DropReason::UnknownEtherType),
        }
    }

    /// The service a new packet to (proto, vip, port) belongs to: the
    /// firewall-mark service of its mark first, as the kernel looks marks up
    /// before addresses, then the address services.
    #[inline]
    fn find_service(&self, proto: Proto, vip: Ipv4Addr, port: u16) -> Option<usize> {
        if !self.by_mark.is_empty() {
            let svc = self.snap.mark_of(proto, vip, port);
            if let Some(&i) = svc.and_then(|m| self.by_mark.get(&m)) {
                return Some(i);
            }
        }
        let proto = proto as u8;
        if let Some(&i) = self.exact.get(&(proto, vip, port)) {
            return Some(i);
        }
        self.wide.iter().copied().find(|&i| {
            self.services
                .get(i)
                .and_then(Option::as_ref)
                .is_some_and(|s| {
                    let s = &s.spec;
                    s.proto as u8 == proto && s.vip == vip && s.ports.matches(port)
                })
        })
    }

    #[inline(always)]
    fn transmit(&mut self, port: usize, frame: F, out: &mut impl Output<F>) {
        self.stats.tx_packets.add(1);
        self.stats.tx_bytes.add(frame.len() as u64);
        out.send(port, frame);
    }
}

/// What `apply` does to one service once every service passed its checks.
enum Change {
    New(Box<ServiceState>),
    Reconcile(crate::service::Prepared),
}

/// What `Pipeline::release` does, on the fields alone (for callbacks that
/// already borrow the connection table). `at` is when the connection ended.
fn release_conn(
    services: &mut [Option<ServiceState>],
    templates: &mut TemplateTable,
    c: &Conn,
    at: Millis,
) {
    if let Some(s) = services
        .get_mut(c.service as usize)
        .and_then(Option::as_mut)
    {
        s.conn_removed(c.dest, c.is_active());
        if tag::forward(c.tag) == Forward::FullNat {
            s.release_local_port(c.reply.dst, c.reply.dport);
        }
    }
    if let Some(t) = c.template() {
        templates.detach(t, at);
    }
}

/// What to do with a frame after it was parsed and rewritten in place.
pub(crate) enum Verdict {
    Drop(DropReason),
    /// The pipeline kept or released the frame itself (ARP learning).
    Consumed,
    /// Send back out of the port it came in on (MACs already set).
    ReplySamePort,
    /// Route to this IPv4 destination, then resolve the next hop.
    Route(Ipv4Addr),
    /// Another core owns this connection.
    Redirect(usize),
    /// For the kernel twin of the port it came in on (only on ports with one).
    ToHost,
}
