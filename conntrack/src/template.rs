//! Persistence templates (`ipvsadm -p`): which RS a client (network) was sent to.
//!
//! As in IPVS, a template is keyed by (protocol, client address & netmask, VIP,
//! VPORT — 0 for all-port services), is refreshed whenever a new connection is
//! scheduled through it, and when its timer fires it only goes away if it controls no
//! connections; otherwise it is re-armed for 60 s, and 60 s stays its timeout
//! (`ip_vs_conn_expire`'s `expire_later`).
//!
//! Expiry holds on the caller's clock whatever progress the timer wheel has made:
//! `lookup_at` and `detach` first bring a template to the state the kernel's timer
//! would have left it in at that moment (`settle`), so a template past its deadline
//! is never found, however far the clock jumped (replay) or however far behind
//! the wheel's bounded work is.

use std::net::Ipv4Addr;

use crate::error::InsertError;
use crate::index::Index;
use crate::mem::Backing;
use crate::timeouts::secs_to_ms;
use crate::tuple::{HashSeed, Proto, Tuple};
use crate::wheel::{Wheel, NIL};
use crate::Millis;

/// `-p` given without a value.
pub const DEFAULT_PERSISTENCE_TIMEOUT: u32 = 360;

/// Seconds a due template that still controls connections is re-armed for (and
/// its timeout from then on), as `ip_vs_conn_expire` does.
pub const TEMPLATE_REARM_SECS: u32 = 60;
const REARM_MS: Millis = TEMPLATE_REARM_SECS as Millis * 1000;

const WORK_PER_EXPIRY: usize = 4;
const WORK_FLOOR: usize = 64;
const MAX_TEMPLATES: usize = 1 << 30;

/// Template key; build it with `new` or `fwmark` so the client address is masked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TemplateKey {
    pub proto: Proto,
    pub client: Ipv4Addr,
    pub vip: Ipv4Addr,
    pub vport: u16,
    /// A firewall-mark service's template (`vip` holds the mark): one per
    /// client for every protocol and port the mark covers, as the kernel
    /// keys it (protocol IP, the mark as address, port 0).
    pub fwmark: bool,
}

impl TemplateKey {
    /// `vport` is 0 for all-port (port 0) services.
    pub fn new(
        proto: Proto,
        client: Ipv4Addr,
        netmask: Ipv4Addr,
        vip: Ipv4Addr,
        vport: u16,
    ) -> Self {
        TemplateKey {
            proto,
            client: Ipv4Addr::from(u32::from(client) & u32::from(netmask)),
            vip,
            vport,
            fwmark: false,
        }
    }

    /// The template of a client of firewall-mark service `mark`.
    pub fn fwmark(client: Ipv4Addr, netmask: Ipv4Addr, mark: u32) -> Self {
        TemplateKey {
            proto: Proto::Tcp,
            client: Ipv4Addr::from(u32::from(client) & u32::from(netmask)),
            vip: Ipv4Addr::from(mark),
            vport: 0,
            fwmark: true,
        }
    }

    /// The mark of a firewall-mark service's template.
    pub fn mark(&self) -> Option<u32> {
        self.fwmark.then(|| u32::from(self.vip))
    }

    /// Templates share the tuple index: client port 0, like kernel templates
    /// (1 for a mark's, so a mark never meets an address service's template
    /// whose VIP happens to equal it).
    fn tuple(&self) -> Tuple {
        let cport = u16::from(self.fwmark);
        Tuple::new(self.proto, self.client, cport, self.vip, self.vport)
    }
}

/// Handle of a template in one `TemplateTable`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TemplateId(pub(crate) u32);

/// Where a template sends its clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TemplateDest {
    /// The caller's ids of the service and the real, kept whole (32 bits
    /// each) so they never alias however many reals a service has seen.
    pub service: u32,
    pub dest: u32,
    /// The real's address and port, for listings (which outlive the real).
    pub addr: Ipv4Addr,
    pub port: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Template {
    pub key: TemplateKey,
    pub to: TemplateDest,
    /// Seconds: the service's persistence timeout, 60 once re-armed.
    pub timeout: u32,
    /// Connections currently attached.
    pub controls: u32,
    pub expires: Millis,
    in_use: bool,
    /// Still findable by `lookup` (false once invalidated).
    hashed: bool,
}

impl Template {
    /// False once invalidated: it lingers only until its connections are gone.
    pub fn is_valid(&self) -> bool {
        self.hashed
    }

    /// Milliseconds left at `now` as the kernel's timer would show them (a due
    /// template that controls connections has been re-armed); `ipvsadm -Lnc`'s
    /// expire column.
    pub fn remaining(&self, now: Millis) -> Millis {
        if now < self.expires || self.controls == 0 {
            return self.expires.saturating_sub(now);
        }
        let steps = (now - self.expires) / REARM_MS + 1;
        (self.expires + steps * REARM_MS) - now
    }
}

pub struct TemplateTable {
    slab: Vec<Template>,
    free: Vec<u32>,
    keys: Vec<Tuple>,
    index: Index,
    wheel: Wheel,
    len: usize,
    capacity: usize,
}

impl TemplateTable {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.min(MAX_TEMPLATES);
        TemplateTable {
            slab: Vec::with_capacity(capacity),
            free: Vec::with_capacity(capacity),
            keys: Vec::with_capacity(capacity),
            // One node (slot << 1) per template.
            index: Index::new(
                capacity,
                HashSeed::from_u64(0x7e3f_1a2b_3c4d_5e6f),
                Backing::Lazy,
            ),
            wheel: Wheel::new(capacity, 0, Backing::Lazy),
            len: 0,
            capacity,
        }
    }

    /// The template for `key`, whatever its deadline (see `lookup_at`).
    pub fn lookup(&self, key: &TemplateKey) -> Option<TemplateId> {
        let keys = &self.keys;
        let n = self
            .index
            .find(&key.tuple(), |n| keys.get((n >> 1) as usize))?;
        Some(TemplateId(n >> 1))
    }

    /// The template for `key` as the kernel would have it at `now`: one whose
    /// timeout has passed while it controlled nothing is removed here (handed
    /// to `on_expire` first) and not found; one that still controls
    /// connections has been re-armed.
    pub fn lookup_at(
        &mut self,
        key: &TemplateKey,
        now: Millis,
        on_expire: impl FnOnce(&Template),
    ) -> Option<TemplateId> {
        let id = self.lookup(key)?;
        if self.settle(id.0, now) {
            return Some(id);
        }
        self.wheel.cancel(id.0);
        if let Some(t) = self.free_slot(id.0) {
            on_expire(&t);
        }
        None
    }

    /// Brings template `slot` to where the kernel's timer would have left it at
    /// `at`: past its deadline, one that controls connections has been re-armed
    /// in steps of 60 s (and keeps 60 s as its timeout). Returns false for one
    /// that is due and controls nothing: it is gone.
    fn settle(&mut self, slot: u32, at: Millis) -> bool {
        let Some(t) = self.slab.get_mut(slot as usize).filter(|t| t.in_use) else {
            return false;
        };
        if at < t.expires {
            return true;
        }
        if t.controls == 0 {
            return false;
        }
        let steps = (at - t.expires) / REARM_MS + 1;
        t.expires = t.expires.saturating_add(steps.saturating_mul(REARM_MS));
        t.timeout = TEMPLATE_REARM_SECS;
        // Later than it was filed: the wheel re-files it when the old slot comes up.
        true
    }

    /// Unindexes and frees a slot already off the wheel.
    fn free_slot(&mut self, slot: u32) -> Option<Template> {
        let t = *self.slab.get(slot as usize).filter(|t| t.in_use)?;
        if t.hashed {
            self.index.remove(slot << 1, &t.key.tuple());
        }
        self.slab[slot as usize].in_use = false;
        self.free.push(slot);
        self.len -= 1;
        Some(t)
    }

    pub fn get(&self, id: TemplateId) -> Option<&Template> {
        self.slab.get(id.0 as usize).filter(|t| t.in_use)
    }

    /// Creates a template sending `key` to `to` for `timeout` seconds from
    /// `now`. It starts with no connections: `attach` the one being scheduled.
    pub fn create(
        &mut self,
        key: TemplateKey,
        to: TemplateDest,
        timeout: u32,
        now: Millis,
    ) -> Result<TemplateId, InsertError> {
        if self.lookup(&key).is_some() {
            return Err(InsertError::Exists);
        }
        if self.len >= self.capacity {
            return Err(InsertError::Full);
        }
        let expires = now.saturating_add(secs_to_ms(timeout));
        let t = Template {
            key,
            to,
            timeout,
            controls: 0,
            expires,
            in_use: true,
            hashed: true,
        };
        let (slot, reused) = match self.free.pop() {
            Some(s) => (s, true),
            None if self.slab.len() < self.capacity => (self.slab.len() as u32, false),
            None => return Err(InsertError::Full),
        };
        if self.index.insert(slot << 1, &key.tuple()).is_err() {
            if reused {
                self.free.push(slot);
            }
            return Err(InsertError::Full);
        }
        if reused {
            self.slab[slot as usize] = t;
            self.keys[slot as usize] = key.tuple();
        } else {
            self.slab.push(t);
            self.keys.push(key.tuple());
        }
        self.wheel.schedule(slot, expires);
        self.len += 1;
        Ok(TemplateId(slot))
    }

    /// A new connection goes through the template: count it and refresh the timer
    /// to a full timeout from `now` (what IPVS does when it schedules via a template).
    pub fn attach(&mut self, id: TemplateId, now: Millis) {
        if let Some(t) = self.slab.get_mut(id.0 as usize).filter(|t| t.in_use) {
            t.controls = t.controls.saturating_add(1);
            let expires = now.saturating_add(secs_to_ms(t.timeout));
            let earlier = expires < t.expires;
            t.expires = expires;
            if earlier {
                self.wheel.schedule(id.0, expires);
            }
        }
    }

    /// A sync master sent this template again: a full timeout from `now`,
    /// as `attach` gives, without counting a connection.
    pub fn refresh(&mut self, id: TemplateId, now: Millis) {
        if let Some(t) = self.slab.get_mut(id.0 as usize).filter(|t| t.in_use) {
            let expires = now.saturating_add(secs_to_ms(t.timeout));
            let earlier = expires < t.expires;
            t.expires = expires;
            if earlier {
                self.wheel.schedule(id.0, expires);
            }
        }
    }

    /// A controlled connection went away at `at` (its own deadline when it
    /// expired, or the moment it was removed). Until then the template kept
    /// being re-armed; from then on its deadline stands.
    pub fn detach(&mut self, id: TemplateId, at: Millis) {
        // A connection ending at the very instant the template falls due is
        // gone first: only the template's firings before `at` saw it.
        self.settle(id.0, at.saturating_sub(1));
        if let Some(t) = self.slab.get_mut(id.0 as usize).filter(|t| t.in_use) {
            t.controls = t.controls.saturating_sub(1);
        }
    }

    /// Stops the template from being found (e.g. its RS became unavailable). It is
    /// freed once due and controlling nothing, so ids held by connections stay valid.
    pub fn invalidate(&mut self, id: TemplateId, now: Millis) {
        let Some(t) = self.slab.get_mut(id.0 as usize).filter(|t| t.in_use) else {
            return;
        };
        if t.hashed {
            t.hashed = false;
            let key = t.key.tuple();
            t.expires = now;
            self.index.remove(id.0 << 1, &key);
            self.wheel.schedule(id.0, now);
        }
    }

    /// Removes due templates that control no connection (at most `budget`); due
    /// ones that still control connections are re-armed (see `settle`).
    pub fn expire(
        &mut self,
        now: Millis,
        budget: usize,
        mut on_expire: impl FnMut(&Template),
    ) -> usize {
        let mut work = budget
            .saturating_mul(WORK_PER_EXPIRY)
            .saturating_add(WORK_FLOOR);
        let mut removed = 0;
        while removed < budget {
            let slab = &self.slab;
            let Some(slot) = self.wheel.pop_due(now, &mut work, |i| {
                slab.get(i as usize).map_or(0, |t| t.expires)
            }) else {
                break;
            };
            // (A slot freed meanwhile is not alive, and `free_slot` skips it.)
            if self.settle(slot, now) {
                // Re-arming counts as work so a flood of busy templates stays bounded.
                let e = self.slab[slot as usize].expires;
                self.wheel.schedule(slot, e);
                work = work.saturating_sub(1);
                if work == 0 {
                    break;
                }
                continue;
            }
            if let Some(t) = self.free_slot(slot) {
                removed += 1;
                on_expire(&t);
            }
        }
        removed
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The templates a worker keeps beside a connection table of
    /// `conns` entries: half as many, at least 1024.
    pub fn capacity_for(conns: usize) -> usize {
        (conns / 2).clamp(1024, MAX_TEMPLATES)
    }

    /// Bytes a table of `capacity` holds once full (its slab grows up to
    /// `capacity`; index and wheel are allocated at once), without allocating it.
    pub fn memory_bytes_for(capacity: usize) -> usize {
        let capacity = capacity.min(MAX_TEMPLATES);
        std::mem::size_of::<Self>()
            + capacity
                * (std::mem::size_of::<Template>()
                    + std::mem::size_of::<u32>()
                    + std::mem::size_of::<Tuple>())
            + Index::memory_bytes_for(capacity)
            + Wheel::memory_bytes_for(capacity)
    }

    pub fn iter(&self) -> impl Iterator<Item = (TemplateId, &Template)> {
        self.slab
            .iter()
            .enumerate()
            .filter(|(_, t)| t.in_use)
            .map(|(i, t)| (TemplateId(i as u32), t))
    }
}

// Template ids use the same NIL sentinel as connections' template field.
const _: () = assert!(MAX_TEMPLATES < NIL as usize);
