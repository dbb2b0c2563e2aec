//! Connection sync in the packet path (Linux IPVS's sync daemon, without
//! ever waiting): on a master, a client packet that makes its connection due
//! (the kernel's `ip_vs_sync_conn_needed`) queues the connection for the
//! sync thread; on a backup, the connections the master sent are installed
//! by the worker that owns them, once per housekeeping tick.
use std::sync::Arc;

use connsync::{
    SyncConn, FWD_DROUTE, FWD_FULLNAT, FWD_MASQ, FWD_TUNNEL, F_INACTIVE, F_TEMPLATE, PROTO_TCP,
    PROTO_UDP,
};
use conntrack::{Conn, ConnId, Millis, NewConn, Proto, TcpState, Tuple};

use super::l4::owner_core;
use super::{release_conn, tag, Pipeline};
use crate::frame::Frame;
use crate::snapshot::{Forward, Snapshot};
use crate::sync_rings::SyncRings;

/// Most received connections one core installs per housekeeping tick.
pub const INSTALL_BUDGET: usize = 1024;

/// Why a received connection was not installed (counted per reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncRefusal {
    Protocol,
    NoService,
    NoReal,
    /// FullNAT without its local address and port, or a pair this core's
    /// pool does not have free.
    LocalPort,
    TableFull,
}

impl SyncRefusal {
    pub const ALL: [SyncRefusal; 5] = [
        SyncRefusal::Protocol,
        SyncRefusal::NoService,
        SyncRefusal::NoReal,
        SyncRefusal::LocalPort,
        SyncRefusal::TableFull,
    ];
    pub fn name(self) -> &'static str {
        match self {
            SyncRefusal::Protocol => "protocol",
            SyncRefusal::NoService => "no_service",
            SyncRefusal::NoReal => "no_real",
            SyncRefusal::LocalPort => "local_port",
            SyncRefusal::TableFull => "table_full",
        }
    }
}

fn fwd_flags(f: Forward) -> u32 {
    match f {
        Forward::Nat => FWD_MASQ,
        Forward::FullNat => FWD_FULLNAT,
        Forward::Dr => FWD_DROUTE,
        Forward::Tun => FWD_TUNNEL,
    }
}

/// The worker that owns a connection a master sent, by the rule the
/// workers use for packets: the client's address (masked by the
/// persistence netmasks) for the client's packets and, for FullNAT, the
/// local port for the real's replies. `None` when the two disagree: the
/// master runs another number of workers, and this director could not
/// carry the connection (sync needs the same number on both).
pub fn sync_owner(snap: &Snapshot, cores: usize, c: &SyncConn) -> Option<usize> {
    if cores <= 1 {
        return Some(0);
    }
    let mask = snap
        .services
        .iter()
        .filter_map(|s| s.persistence.as_ref())
        .fold(u32::MAX, |m, p| m & u32::from(p.netmask));
    let by_client = owner_core(c.caddr, mask, cores);
    match c.fullnat {
        Some((_, lport)) => {
            let by_port = usize::from(lport & crate::steer::core_mask(cores));
            (by_port == by_client).then_some(by_client)
        }
        None => Some(by_client),
    }
}

impl<F: Frame> Pipeline<F> {
    /// Takes part in connection sync through `rings`.
    pub fn use_sync(&mut self, rings: Arc<SyncRings>) {
        self.sync = Some(rings);
    }

    /// After a client packet of `id`: queues the connection for the backups
    /// when the kernel's rule says it is due. Nothing without sync or while
    /// no master daemon runs.
    #[inline]
    pub(super) fn sync_out(&mut self, id: ConnId, now: Millis) {
        let Some(rings) = &self.sync else {
            return;
        };
        if !rings.sending() {
            return;
        }
        let rings = rings.clone();
        self.conns.count_in(id);
        let Some(c) = self.conns.get(id) else {
            return;
        };
        let protocol = proto_number(c.proto());
        let flags = fwd_flags(tag::forward(c.tag));
        let policy = rings.policy;
        let due = self.conns.sync_due(id, |old, new, pkts| {
            policy.needed(protocol, flags, old as u16, new as u16, pkts)
        });
        if !due {
            return;
        }
        let Some(c) = self.conns.get(id) else {
            return;
        };
        let (sc, template) = (self.sync_conn(c, now), c.template());
        rings.emit(usize::from(self.core), sc);
        self.stats.sync_sent.add(1);
        // The persistence template travels with its connection, so a new
        // connection of that client reaches the same real after a takeover.
        if let Some(t) = template.and_then(|t| self.sync_template(t)) {
            rings.emit(usize::from(self.core), t);
            self.stats.sync_sent.add(1);
        }
    }

    /// A persistence template as the kernel sends one (ip_vs_sched_persist):
    /// client port 0, the masked client network, flags TEMPLATE | INACTIVE
    /// and the forwarding method, state NONE, the persistence timeout; a
    /// firewall-mark service's with protocol 0 and the mark as address.
    fn sync_template(&self, id: conntrack::TemplateId) -> Option<SyncConn> {
        let t = self.templates.get(id).filter(|t| t.is_valid())?;
        let forward = self
            .services
            .get(t.to.service as usize)
            .and_then(Option::as_ref)?
            .real(t.to.dest)?
            .forward;
        let mark = t.key.mark();
        Some(SyncConn {
            protocol: if mark.is_some() {
                0
            } else {
                proto_number(t.key.proto)
            },
            flags: fwd_flags(forward) | F_TEMPLATE | F_INACTIVE,
            state: 0,
            cport: 0,
            vport: t.key.vport,
            dport: t.to.port,
            fwmark: mark.unwrap_or(0),
            timeout_s: t.timeout,
            caddr: t.key.client,
            vaddr: t.key.vip,
            daddr: t.to.addr,
            in_seq: None,
            out_seq: None,
            fullnat: None,
        })
    }

    /// A connection as the sync protocol carries it.
    fn sync_conn(&self, c: &Conn, _now: Millis) -> SyncConn {
        let forward = tag::forward(c.tag);
        let mut flags = fwd_flags(forward);
        if c.proto() == Proto::Tcp && !c.is_active() {
            flags |= F_INACTIVE;
        }
        let timeouts = self.conns.timeouts();
        let timeout_s = match c.proto() {
            Proto::Tcp => timeouts.tcp_state(c.state),
            Proto::Udp => timeouts.udp,
        };
        let fwmark = self
            .services
            .get(c.service as usize)
            .and_then(Option::as_ref)
            .and_then(|s| s.spec.fwmark)
            .unwrap_or(0);
        SyncConn {
            protocol: proto_number(c.proto()),
            flags,
            state: if c.proto() == Proto::Tcp {
                c.state as u16
            } else {
                0
            },
            cport: c.orig.sport,
            vport: c.orig.dport,
            dport: c.reply.sport,
            fwmark,
            timeout_s,
            caddr: c.orig.src,
            vaddr: c.orig.dst,
            daddr: c.reply.src,
            in_seq: None,
            out_seq: None,
            fullnat: (forward == Forward::FullNat).then_some((c.reply.dst, c.reply.dport)),
        }
    }

    /// Once per housekeeping tick: installs what the sync thread received
    /// for this core (at most `INSTALL_BUDGET`).
    pub fn sync_tick(&mut self, now: Millis) {
        let Some(rings) = self.sync.clone() else {
            return;
        };
        let core = usize::from(self.core);
        for _ in 0..INSTALL_BUDGET {
            let Some(sc) = rings.take_install(core) else {
                break;
            };
            match self.install_synced(&sc, now) {
                Ok(()) => self.stats.sync_installed.add(1),
                Err(r) => self.stats.sync_refused[r as usize].add(1),
            }
        }
    }

    /// Installs one connection a master sent, bound to this director's own
    /// real of that address and port (as the kernel binds a synced entry
    /// to its dest), with the master's state and timeout. An entry of the
    /// same tuple naming another real is replaced.
    pub fn install_synced(&mut self, sc: &SyncConn, now: Millis) -> Result<(), SyncRefusal> {
        if sc.is_template() {
            return self.install_template(sc, now);
        }
        let proto = match sc.protocol {
            PROTO_TCP => Proto::Tcp,
            PROTO_UDP => Proto::Udp,
            _ => return Err(SyncRefusal::Protocol),
        };
        let svc = if sc.fwmark != 0 {
            self.by_mark.get(&sc.fwmark).copied()
        } else {
            self.find_service(proto, sc.vaddr, sc.vport)
        }
        .ok_or(SyncRefusal::NoService)?;
        let (dest, forward, _) = self.synced_real(svc, sc.daddr, |port| {
            (if port == 0 { sc.vport } else { port }) == sc.dport
        })?;
        let orig = Tuple {
            proto,
            src: sc.caddr,
            sport: sc.cport,
            dst: sc.vaddr,
            dport: sc.vport,
        };
        // An entry of this tuple bound elsewhere gives way (ip_vs_proc_conn).
        if let Some((id, _)) = self.conns.lookup(&orig) {
            let other = self.conns.get(id).is_some_and(|c| {
                c.dest != dest || c.service as usize != svc || tag::forward(c.tag) != forward
            });
            if other {
                if let Some(c) = self.conns.remove(id) {
                    release_conn(&mut self.services, &mut self.templates, &c, now);
                }
            }
        }
        let existing = self.conns.lookup(&orig).is_some();
        let (rdst, rdport) = match forward {
            Forward::FullNat => {
                let (laddr, lport) = sc.fullnat.ok_or(SyncRefusal::LocalPort)?;
                if !existing {
                    let pool = self
                        .svc_mut(svc)
                        .and_then(|s| s.local_ports.as_mut())
                        .ok_or(SyncRefusal::LocalPort)?;
                    if !pool.reserve(laddr, lport) {
                        return Err(SyncRefusal::LocalPort);
                    }
                }
                (laddr, lport)
            }
            _ => (sc.caddr, sc.cport),
        };
        let reply = Tuple {
            proto,
            src: sc.daddr,
            sport: sc.dport,
            dst: rdst,
            dport: rdport,
        };
        let tcp_state = match proto {
            Proto::Tcp => TcpState::ALL
                .get(usize::from(sc.state))
                .copied()
                .unwrap_or(TcpState::None),
            Proto::Udp => TcpState::None,
        };
        let conn = NewConn {
            orig,
            reply,
            service: svc as u32,
            dest,
            input_only: matches!(forward, Forward::Dr | Forward::Tun),
            tag: tag::new(forward, false),
        };
        let was_active = self
            .conns
            .lookup(&orig)
            .and_then(|(id, _)| self.conns.get(id))
            .is_some_and(Conn::is_active);
        // No timeout (a version 0 message, or 0): this director's own for
        // the state, as ip_vs_proc_conn does.
        let secs = match (sc.timeout_s, proto) {
            (0, Proto::Tcp) => self.conns.timeouts().tcp_state(tcp_state),
            (0, Proto::Udp) => self.conns.timeouts().udp,
            (t, _) => t,
        };
        let expires = now.saturating_add(u64::from(secs) * 1000);
        let installed = self.conns.install_synced(conn, tcp_state, expires, now);
        let (id, new) = match installed {
            Ok(x) => x,
            Err(_) => {
                if forward == Forward::FullNat && !existing {
                    if let Some(s) = self.svc_mut(svc) {
                        s.release_local_port(rdst, rdport);
                    }
                }
                return Err(SyncRefusal::TableFull);
            }
        };
        let is_active = self.conns.get(id).is_some_and(Conn::is_active);
        if let Some(s) = self.svc_mut(svc) {
            // Synced connections count in the real's active/inactive
            // numbers, as the kernel's do.
            if new {
                s.conn_added(dest);
                s.conn_changed(dest, false, is_active);
            } else {
                s.conn_changed(dest, was_active, is_active);
            }
        }
        Ok(())
    }
}

impl<F: Frame> Pipeline<F> {
    /// This director's own real of service `svc` that a synced entry names
    /// (address `addr`, a port `port_ok` accepts): its id, method, address.
    fn synced_real(
        &self,
        svc: usize,
        addr: std::net::Ipv4Addr,
        port_ok: impl Fn(u16) -> bool,
    ) -> Result<(u32, Forward, std::net::Ipv4Addr), SyncRefusal> {
        let state = self
            .services
            .get(svc)
            .and_then(Option::as_ref)
            .ok_or(SyncRefusal::NoService)?;
        state
            .spec
            .reals
            .iter()
            .find(|r| r.addr == addr && port_ok(r.port))
            .map(|r| (r.id, r.forward, r.addr))
            .ok_or(SyncRefusal::NoReal)
    }

    /// Installs a persistence template a master sent (ip_vs_proc_conn with
    /// IP_VS_CONN_F_TEMPLATE): later connections of that client network go
    /// to the same real, here too. One of the same key sending elsewhere is
    /// replaced; one sending to the same real is refreshed.
    fn install_template(&mut self, sc: &SyncConn, now: Millis) -> Result<(), SyncRefusal> {
        let proto = match sc.protocol {
            PROTO_TCP => Proto::Tcp,
            PROTO_UDP => Proto::Udp,
            // A firewall-mark service's template (protocol IP).
            0 if sc.fwmark != 0 => Proto::Tcp,
            _ => return Err(SyncRefusal::Protocol),
        };
        let svc = self
            .services
            .iter()
            .enumerate()
            .find_map(|(i, s)| {
                let spec = &s.as_ref()?.spec;
                spec.persistence.as_ref()?;
                let same = match spec.fwmark {
                    Some(m) => sc.fwmark == m,
                    None => {
                        sc.fwmark == 0
                            && spec.proto == proto
                            && spec.vip == sc.vaddr
                            && match spec.ports {
                                crate::snapshot::PortMatch::One(p) => p == sc.vport,
                                _ => sc.vport == 0,
                            }
                    }
                };
                same.then_some(i)
            })
            .ok_or(SyncRefusal::NoService)?;
        let (dest, _, addr) =
            self.synced_real(svc, sc.daddr, |port| port == sc.dport || port == 0)?;
        let to = conntrack::TemplateDest {
            service: svc as u32,
            dest,
            addr,
            port: sc.dport,
        };
        let fwmark = self
            .services
            .get(svc)
            .and_then(Option::as_ref)
            .and_then(|s| s.spec.fwmark);
        let all = std::net::Ipv4Addr::BROADCAST;
        let key = match fwmark {
            Some(mark) => conntrack::TemplateKey::fwmark(sc.caddr, all, mark),
            None => conntrack::TemplateKey::new(proto, sc.caddr, all, sc.vaddr, sc.vport),
        };
        if let Some(old) = self.templates.lookup(&key) {
            match self.templates.get(old).map(|t| t.to) {
                Some(d) if d == to => {
                    self.templates.refresh(old, now);
                    return Ok(());
                }
                _ => self.templates.invalidate(old, now),
            }
        }
        self.templates
            .create(key, to, sc.timeout_s, now)
            .map_err(|_| SyncRefusal::TableFull)?;
        if let Some(s) = self.svc_mut(svc) {
            s.template_changed(to.dest, true);
        }
        Ok(())
    }
}

fn proto_number(p: Proto) -> u8 {
    match p {
        Proto::Tcp => PROTO_TCP,
        Proto::Udp => PROTO_UDP,
    }
}
