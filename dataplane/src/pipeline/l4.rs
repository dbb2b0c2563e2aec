//! IPv4 to a VIP or from a real server: find or create the connection, run
//! the IPVS state machine, keep the per-RS counts, rewrite for the forwarding
//! mode. Headers are parsed once; rewrites patch checksums incrementally.
use std::net::Ipv4Addr;

use conntrack::{ConnId, Dir, InsertError, Millis, NewConn, Proto, TcpFlags, Tuple};
use sched::PacketKey;

use super::{tag, Pipeline, Verdict};
use crate::frame::Frame;
use crate::snapshot::Forward;
use crate::stats::DropReason;
use crate::wire::{IpProtocol, Ipv4Packet, TcpPacket, UdpPacket};

use crate::wire::ETH_LEN;
const ICMP_ECHO_REQUEST: u8 = 8;

/// What the pipeline needs from the L3/L4 headers, read once.
pub(super) struct Headers {
    pub(super) proto: Proto,
    pub(super) src: Ipv4Addr,
    pub(super) dst: Ipv4Addr,
    pub(super) sport: u16,
    pub(super) dport: u16,
    pub(super) flags: u8,
    pub(super) hl: usize,
    pub(super) tl: usize,
}

impl<F: Frame> Pipeline<F> {
    /// `frame` holds Ethernet (already checked) + IPv4.
    pub(super) fn ipv4(&mut self, frame: &mut F, in_port: usize, now: Millis) -> Verdict {
        let data = frame.data_mut();
        let ipbuf = &data[ETH_LEN..];
        let ip = match Ipv4Packet::new_checked(ipbuf) {
            Ok(ip) => ip,
            Err(e) => return Verdict::Drop(DropReason::from_ip_error(e)),
        };
        let (src, dst, proto) = (ip.src_addr(), ip.dst_addr(), ip.protocol());
        if self.standby_owns(dst) {
            return Verdict::Drop(DropReason::VrrpStandby);
        }
        if ip.is_fragment() {
            // The kernel reassembles its own traffic; the dataplane does not.
            if self.kernel_address(in_port, dst) {
                return Verdict::ToHost;
            }
            return Verdict::Drop(DropReason::Fragment);
        }
        let (hl, tl) = (ip.header_len(), usize::from(ip.total_len()));
        let l4 = &ipbuf[hl..tl];
        let (proto, sport, dport, flags) = match proto {
            IpProtocol::TCP => match TcpPacket::new_checked(l4) {
                Ok(t) => (Proto::Tcp, t.src_port(), t.dst_port(), t.flags()),
                Err(e) => return Verdict::Drop(DropReason::from_l4_error(e)),
            },
            IpProtocol::UDP => match UdpPacket::new_checked(l4) {
                Ok(u) => (Proto::Udp, u.src_port(), u.dst_port(), 0),
                Err(e) => return Verdict::Drop(DropReason::from_l4_error(e)),
            },
            // The director answers pings to its addresses and to every VIP;
            // ICMP errors are about a connection and get translated.
            IpProtocol::ICMP => {
                let echo = l4.first() == Some(&ICMP_ECHO_REQUEST);
                if self.snap.is_own_address(in_port, dst) || (echo && self.snap.is_vip(dst)) {
                    return self.local(data, in_port, hl, tl);
                }
                return self.icmp_error(data, hl, tl, now);
            }
            _ if self.snap.is_own_address(in_port, dst) => {
                return self.local_unserved(in_port, dst);
            }
            _ => return Verdict::Drop(DropReason::UnsupportedProtocol),
        };
        if ip.ttl() <= 1 {
            // Delivered locally, a TTL of 1 is fine (multicast routing
            // protocols send nothing else).
            if self.kernel_address(in_port, dst) {
                return Verdict::ToHost;
            }
            return Verdict::Drop(DropReason::TtlExceeded);
        }
        let h = Headers {
            proto,
            src,
            dst,
            sport,
            dport,
            flags,
            hl,
            tl,
        };
        let tuple = Tuple {
            proto,
            src,
            sport,
            dst,
            dport,
        };
        // Tracked traffic first: the scans below only matter for a new packet.
        let (id, dir, one_packet) = match self.track(&tuple, flags, now) {
            Some((id, dir)) => (id, dir, false),
            None => {
                if self.snap.is_own_address(in_port, dst) {
                    return self.local_unserved(in_port, dst);
                }
                let svc = self.find_service(proto, dst, dport);
                let owner = self.owner_of(&h, svc.is_some());
                if owner != usize::from(self.core) {
                    return Verdict::Redirect(owner);
                }
                let Some(svc) = svc else {
                    return Verdict::Drop(DropReason::NoService);
                };
                let ops = self
                    .services
                    .get(svc)
                    .and_then(Option::as_ref)
                    .is_some_and(|s| s.spec.ops);
                match self.new_conn(svc, &h, tuple, now) {
                    Ok(id) => (id, Dir::In, ops),
                    Err(r) => return Verdict::Drop(r),
                }
            }
        };
        let verdict = self.xmit(frame, &h, id, dir, now);
        if dir == Dir::In && !one_packet {
            self.sync_out(id, now);
        }
        if one_packet {
            // One-packet scheduling: the entry lives for this datagram only,
            // as the kernel frees an IP_VS_CONN_F_ONE_PACKET entry once sent.
            if let Some(c) = self.conns.remove(id) {
                self.release(&c, now);
            }
        }
        verdict
    }

    /// The core that owns the connection of a packet not found here. Both
    /// directions agree: NAT keeps the client's address on both sides, and a
    /// FullNAT reply is addressed to a local port its owner took.
    #[inline]
    fn owner_of(&self, h: &Headers, to_service: bool) -> usize {
        if self.cores <= 1 {
            return usize::from(self.core);
        }
        if to_service {
            owner_core(h.src, self.owner_mask, self.cores)
        } else if self.local_addrs.contains(&h.dst) {
            // With a core count that is not a power of two, some port classes
            // belong to no core (no pool hands them out): such a packet cannot
            // match a connection anywhere, so it stays here to be dropped rather
            // than wander between cores.
            let owner = usize::from(h.dport & self.core_mask);
            if owner < self.cores {
                owner
            } else {
                usize::from(self.core)
            }
        } else {
            owner_core(h.dst, self.owner_mask, self.cores)
        }
    }

    fn new_conn(
        &mut self,
        svc: usize,
        h: &Headers,
        orig: Tuple,
        now: Millis,
    ) -> Result<ConnId, DropReason> {
        // IPVS schedules a new TCP connection only on a SYN without RST.
        if h.proto == Proto::Tcp && (h.flags & (TcpFlags::SYN | TcpFlags::RST)) != TcpFlags::SYN {
            return Err(DropReason::NoConnection);
        }
        let key = PacketKey {
            src: h.src,
            sport: h.sport,
            dst: h.dst,
            dport: h.dport,
            proto: h.proto as u8,
        };
        let (dest_id, template) = self.pick_dest(svc, &key, now)?;
        let Some(state) = self.services.get_mut(svc).and_then(Option::as_mut) else {
            return Err(DropReason::NoService);
        };
        let Some(real) = state.real(dest_id) else {
            return Err(DropReason::NoDestination);
        };
        let rport = if real.port == 0 { h.dport } else { real.port };
        let (forward, rs) = (real.forward, real.addr);
        let toa = forward == Forward::FullNat && state.spec.toa && h.proto == Proto::Tcp;
        // The reply arrives addressed to the client (NAT) or to the local
        // address and port this core took for the connection (FullNAT).
        let (rdst, rdport) = match forward {
            Forward::FullNat => state
                .local_ports
                .as_mut()
                .and_then(|p| p.take())
                .ok_or(DropReason::LocalPortsExhausted)?,
            _ => (h.src, h.sport),
        };
        let reply = Tuple {
            proto: h.proto,
            src: rs,
            sport: rport,
            dst: rdst,
            dport: rdport,
        };
        let input_only = matches!(forward, Forward::Dr | Forward::Tun);
        let tag = tag::new(forward, toa);
        let conn = NewConn {
            orig,
            reply,
            service: svc as u32,
            dest: dest_id,
            input_only,
            tag,
        };
        let id = match self.conns.insert(conn, now) {
            Ok(id) => id,
            Err(e) => {
                if forward == Forward::FullNat {
                    if let Some(s) = self.svc_mut(svc) {
                        s.release_local_port(rdst, rdport);
                    }
                }
                return Err(match e {
                    InsertError::Full => DropReason::ConnTableFull,
                    InsertError::Exists => DropReason::TupleCollision,
                });
            }
        };
        if let Some(t) = template {
            self.templates.attach(t, now);
            self.conns.set_template(id, Some(t));
        }
        if let Some(state) = self.svc_mut(svc) {
            state.conn_added(dest_id);
            state.counters.service.conns.add(1);
            if let Some(r) = state.counters.reals.get(dest_id as usize) {
                r.traffic.conns.add(1);
            }
        }
        self.stats.conns_created.add(1);
        Ok(id)
    }
}

impl<F: Frame> Pipeline<F> {
    /// The forwarding method of real `dest` of service `svc`.
    #[inline]
    pub(super) fn forward_of(&self, svc: usize, dest: u32) -> Option<Forward> {
        let real = self.services.get(svc)?.as_ref()?.real(dest)?;
        Some(real.forward)
    }
}

/// The worker that owns the connections of client `ip` (masked so that a
/// persistence netmask's clients share a core); a cheap multiplicative hash
/// that every core computes the same way.
#[inline]
pub(crate) fn owner_core(ip: Ipv4Addr, mask: u32, cores: usize) -> usize {
    let x = (u32::from(ip) & mask).wrapping_mul(0x9e37_79b1);
    (x >> 16) as usize % cores.max(1)
}
