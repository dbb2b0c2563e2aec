//! What one worker shows the control plane, without ever waiting for it:
//! the snapshot generation it runs, its counters, the counters of its
//! services, and connection listings it writes when asked (checked once per
//! housekeeping tick; the control side polls for the answer).
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use conntrack::{ConnTable, Millis, Proto, TcpState, Template, TemplateTable};

use crate::service::ServiceCounters;
use crate::stats::CoreStats;

/// Most connections one core lists per request (the listing is for people).
pub const MAX_LISTED: usize = 1 << 20;

/// What an entry of a listing is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewKind {
    Conn,
    /// A persistence template of an address service.
    Template,
    /// A persistence template of firewall-mark service `mark`.
    MarkTemplate(u32),
}

/// One connection as `ipvsadm -Lnc` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnView {
    pub proto: Proto,
    pub expire_ms: Millis,
    pub state: &'static str,
    pub client: (Ipv4Addr, u16),
    pub virt: (Ipv4Addr, u16),
    pub dest: (Ipv4Addr, u16),
    pub kind: ViewKind,
}

/// A persistence template as the kernel lists it: client port 0, state
/// NONE, the real it sends clients to; an invalidated
/// one with virtual and destination port 65535 (`ip_vs_check_template`).
fn template_view(t: &Template, now: Millis) -> ConnView {
    let unhashed = if t.is_valid() { None } else { Some(u16::MAX) };
    ConnView {
        proto: t.key.proto,
        expire_ms: t.remaining(now),
        // Templates have their own state table in the kernel (NONE, ASSURED),
        // whatever their protocol.
        state: TcpState::None.name(),
        client: (t.key.client, 0),
        virt: (t.key.vip, unhashed.unwrap_or(t.key.vport)),
        dest: (t.to.addr, unhashed.unwrap_or(t.to.port)),
        kind: t
            .key
            .mark()
            .map_or(ViewKind::Template, ViewKind::MarkTemplate),
    }
}

#[derive(Default)]
pub struct CoreShared {
    pub stats: Arc<CoreStats>,
    /// Generation of the snapshot this core runs.
    pub applied: AtomicU64,
    /// Newest generation this core refused (it kept running `applied`), and why.
    refused: AtomicU64,
    refusal: Mutex<String>,
    /// Counters of this core's services, by service id (replaced on apply).
    services: Mutex<Vec<(u32, Arc<ServiceCounters>)>>,
    conns_requested: AtomicBool,
    conns_ready: AtomicBool,
    conns: Mutex<Vec<ConnView>>,
    /// Connections tracked / capacity, for the table-fill gauge.
    pub conns_tracked: AtomicU64,
    pub conns_capacity: AtomicU64,
    /// The worker's clock (ms) at its latest poll: its heartbeat, which
    /// VRRP adverts depend on.
    pub polled_at: AtomicU64,
    /// Test hook: while set the worker stops polling, as a wedged one would.
    pub wedged: AtomicBool,
}

impl CoreShared {
    pub fn new(stats: Arc<CoreStats>) -> Self {
        CoreShared {
            stats,
            ..Default::default()
        }
    }

    /// Worker side: generation `g` could not be applied; the previous one runs on.
    pub fn refuse(&self, g: u64, why: String) {
        *self.refusal.lock().unwrap_or_else(|p| p.into_inner()) = why;
        self.refused.store(g, Ordering::Release);
    }

    /// Control side: why this core refused generation `g`, if it did.
    pub fn refusal(&self, g: u64) -> Option<String> {
        (self.refused.load(Ordering::Acquire) == g).then(|| {
            self.refusal
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        })
    }

    /// Worker side: the services it runs now.
    pub fn publish_services(&self, list: Vec<(u32, Arc<ServiceCounters>)>) {
        *self.services.lock().unwrap_or_else(|p| p.into_inner()) = list;
    }

    /// Control side: counters of this core's services.
    pub fn services(&self) -> Vec<(u32, Arc<ServiceCounters>)> {
        self.services
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Worker side, once per tick: answers a pending listing request with
    /// the connections, then the persistence templates (as /proc/net/ip_vs_conn
    /// lists both).
    pub fn serve(&self, table: &ConnTable, templates: &TemplateTable, now: Millis) {
        self.conns_tracked
            .store(table.len() as u64, Ordering::Relaxed);
        self.conns_capacity
            .store(table.capacity() as u64, Ordering::Relaxed);
        if !self.conns_requested.swap(false, Ordering::Acquire) {
            return;
        }
        let mut out = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        out.clear();
        // What timed out is gone, whether or not the wheel has freed it yet.
        let conns = table.iter().filter(|c| c.expires > now).map(|c| ConnView {
            proto: c.orig.proto,
            expire_ms: c.remaining(now),
            state: c.state_name(),
            client: (c.orig.src, c.orig.sport),
            virt: (c.orig.dst, c.orig.dport),
            dest: (c.reply.src, c.reply.sport),
            kind: ViewKind::Conn,
        });
        let templates = templates
            .iter()
            .filter(|(_, t)| t.remaining(now) > 0)
            .map(|(_, t)| template_view(t, now));
        out.extend(conns.chain(templates).take(MAX_LISTED));
        drop(out);
        self.conns_ready.store(true, Ordering::Release);
    }

    /// Control side: asks for a listing (answered at the worker's next tick).
    pub fn request_conns(&self) {
        self.conns_ready.store(false, Ordering::Release);
        self.conns_requested.store(true, Ordering::Release);
    }

    /// Control side: the listing, once the worker wrote it.
    pub fn take_conns(&self) -> Option<Vec<ConnView>> {
        if !self.conns_ready.swap(false, Ordering::Acquire) {
            return None;
        }
        Some(std::mem::take(
            &mut *self.conns.lock().unwrap_or_else(|p| p.into_inner()),
        ))
    }
}
