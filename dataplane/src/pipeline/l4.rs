//! IPv4 to a VIP or from a real server: find or create the connection, run
//! the IPVS state machine, keep the per-RS counts, rewrite for the forwarding
//! mode. Headers are parsed once; rewrites patch checksums incrementally.
use std::net::Ipv4Addr;

use conntrack::{ConnId, Dir, InsertError, Millis, NewConn, Proto, TcpFlags, Tuple};
use sched::PacketKey;

use super::{Pipeline, Verdict};
use crate::frame::Frame;
use crate::snapshot::Forward;
use crate::stats::DropReason;
use crate::wire::{IpProtocol, Ipv4Packet, TcpPacket, UdpPacket};

const ETH_LEN: usize = 14;
const TCP_SYN: u8 = 0x02;
const TCP_RST: u8 = 0x04;

/// What the pipeline needs from the L3/L4 headers, read once.
struct Headers {
    proto: Proto,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    flags: u8,
    hl: usize,
    tl: usize,
}

impl<F: Frame> Pipeline<F> {
    /// `data` is the whole frame (Ethernet already checked).
    pub(super) fn ipv4(&mut self, data: &mut [u8], in_port: usize, now: Millis) -> Verdict {
        let ipbuf = &data[ETH_LEN..];
        let ip = match Ipv4Packet::new_checked(ipbuf) {
            Ok(ip) => ip,
            Err(e) => return Verdict::Drop(DropReason::from_ip_error(e)),
        };
        if ip.is_fragment() {
            return Verdict::Drop(DropReason::Fragment);
        }
        let (src, dst, proto) = (ip.src_addr(), ip.dst_addr(), ip.protocol());
        let (hl, tl) = (ip.header_len(), usize::from(ip.total_len()));
        if self.snap.is_own_address(in_port, dst)
            || (proto == IpProtocol::ICMP && self.snap.is_vip(dst))
        {
            return self.local(data, hl, tl);
        }
        let l4 = &ipbuf[hl..tl];
        let h = match proto {
            IpProtocol::TCP => match TcpPacket::new_checked(l4) {
                Ok(t) => Headers {
                    proto: Proto::Tcp,
                    src,
                    dst,
                    sport: t.src_port(),
                    dport: t.dst_port(),
                    flags: t.flags(),
                    hl,
                    tl,
                },
                Err(e) => return Verdict::Drop(DropReason::from_l4_error(e)),
            },
            IpProtocol::UDP => match UdpPacket::new_checked(l4) {
                Ok(u) => Headers {
                    proto: Proto::Udp,
                    src,
                    dst,
                    sport: u.src_port(),
                    dport: u.dst_port(),
                    flags: 0,
                    hl,
                    tl,
                },
                Err(e) => return Verdict::Drop(DropReason::from_l4_error(e)),
            },
            IpProtocol::ICMP => return self.icmp_error(data, hl, tl),
            _ => return Verdict::Drop(DropReason::UnsupportedProtocol),
        };
        if ip.ttl() <= 1 {
            return Verdict::Drop(DropReason::TtlExceeded);
        }
        let tuple = Tuple {
            proto: h.proto,
            src: h.src,
            sport: h.sport,
            dst: h.dst,
            dport: h.dport,
        };
        let (id, dir) = match self.conns.lookup(&tuple) {
            Some(found) => found,
            None => {
                let svc = self.find_service(h.proto as u8, h.dst, h.dport);
                if self.cores > 1 {
                    // NAT keeps the client's address in both directions, so both
                    // sides of a connection agree on its owner.
                    let client = if svc.is_some() { h.src } else { h.dst };
                    let owner = owner_core(client, self.owner_mask, self.cores);
                    if owner != usize::from(self.core) {
                        return Verdict::Redirect(owner);
                    }
                }
                let Some(svc) = svc else {
                    return Verdict::Drop(DropReason::NoService);
                };
                match self.new_conn(svc, &h, tuple, now) {
                    Ok(id) => (id, Dir::In),
                    Err(r) => return Verdict::Drop(r),
                }
            }
        };
        self.forward(data, &h, id, dir, now)
    }

    fn new_conn(
        &mut self,
        svc: usize,
        h: &Headers,
        orig: Tuple,
        now: Millis,
    ) -> Result<ConnId, DropReason> {
        // IPVS schedules a new TCP connection only on a SYN without RST.
        if h.proto == Proto::Tcp && (h.flags & (TCP_SYN | TCP_RST)) != TCP_SYN {
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
        let real = &self.snap.services[svc].reals[dest_id as usize];
        let rport = if real.port == 0 { h.dport } else { real.port };
        let reply = Tuple {
            proto: h.proto,
            src: real.addr,
            sport: rport,
            dst: h.src,
            dport: h.sport,
        };
        let input_only = matches!(real.forward, Forward::Dr | Forward::Tun);
        let conn = NewConn {
            orig,
            reply,
            service: svc as u32,
            dest: dest_id,
            input_only,
            tag: real.forward as u8,
        };
        let id = self.conns.insert(conn, now).map_err(|e| match e {
            InsertError::Full => DropReason::ConnTableFull,
            InsertError::Exists => DropReason::TupleCollision,
        })?;
        if let Some(t) = template {
            self.templates.attach(t, now);
            self.conns.set_template(id, Some(t));
        }
        let state = &mut self.services[svc];
        state.conn_added(dest_id);
        state.counters.service.conns.add(1);
        if let Some(r) = state.counters.reals.get(dest_id as usize) {
            r.conns.add(1);
        }
        self.stats.conns_created.add(1);
        Ok(id)
    }

    fn forward(
        &mut self,
        data: &mut [u8],
        h: &Headers,
        id: ConnId,
        dir: Dir,
        now: Millis,
    ) -> Verdict {
        let Some(c) = self.conns.get(id) else {
            return Verdict::Drop(DropReason::NoConnection);
        };
        let (svc, dest, orig, reply) = (c.service as usize, c.dest, c.orig, c.reply);
        let Some(forward) = self.forward_of(svc, dest) else {
            return Verdict::Drop(DropReason::NoDestination);
        };
        let t = self.conns.update(id, dir, TcpFlags(h.flags), now);
        let len = data.len();
        if let Some(s) = self.services.get_mut(svc) {
            s.conn_changed(dest, t.was_active, t.is_active);
            let counters = &s.counters;
            let real = counters.reals.get(dest as usize);
            match dir {
                Dir::In => {
                    counters.service.count_in(len);
                    real.inspect(|r| r.count_in(len));
                }
                Dir::Out => {
                    counters.service.count_out(len);
                    real.inspect(|r| r.count_out(len));
                }
            }
        }
        let ipbuf = &mut data[ETH_LEN..];
        match (forward, dir) {
            (Forward::Nat, Dir::In) => {
                rewrite(ipbuf, h, Side::Dst, reply.src, reply.sport);
                Verdict::Route(reply.src)
            }
            (Forward::Nat, Dir::Out) => {
                rewrite(ipbuf, h, Side::Src, orig.dst, orig.dport);
                Verdict::Route(orig.src)
            }
            // Direct routing: the IP packet leaves untouched towards the RS's MAC.
            (Forward::Dr, Dir::In) => Verdict::Route(reply.src),
            _ => Verdict::Drop(DropReason::ModeUnsupported),
        }
    }
}

impl<F: Frame> Pipeline<F> {
    /// The forwarding method of real `dest` of service `svc`.
    #[inline]
    pub(super) fn forward_of(&self, svc: usize, dest: u32) -> Option<Forward> {
        let real = self.snap.services.get(svc)?.reals.get(dest as usize)?;
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

#[derive(Clone, Copy)]
enum Side {
    Src,
    Dst,
}

/// Rewrites one address and port, patching the IP and L4 checksums (RFC 1624),
/// and decrements the TTL as a router does.
#[inline]
fn rewrite(ipbuf: &mut [u8], h: &Headers, side: Side, addr: Ipv4Addr, port: u16) {
    let mut ip = Ipv4Packet::new_unchecked(&mut *ipbuf);
    let old = match side {
        Side::Src => ip.src_addr(),
        Side::Dst => ip.dst_addr(),
    };
    match side {
        Side::Src => ip.rewrite_src_addr(addr),
        Side::Dst => ip.rewrite_dst_addr(addr),
    }
    ip.decrement_ttl();
    let l4 = &mut ipbuf[h.hl..h.tl];
    match h.proto {
        Proto::Tcp => {
            let mut t = TcpPacket::new_unchecked(l4);
            t.update_checksum_addr(old, addr);
            match side {
                Side::Src => t.rewrite_src_port(port),
                Side::Dst => t.rewrite_dst_port(port),
            }
        }
        Proto::Udp => {
            let mut u = UdpPacket::new_unchecked(l4);
            u.update_checksum_addr(old, addr);
            match side {
                Side::Src => u.rewrite_src_port(port),
                Side::Dst => u.rewrite_dst_port(port),
            }
        }
    }
}
