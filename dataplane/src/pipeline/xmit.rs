//! Transmission along a tracked connection, per forwarding method (IPVS's
//! ip_vs_xmit): NAT rewrites the VIP side, FullNAT both sides (plus TOA), DR
//! only the MAC (done by `emit`), TUN wraps the packet in IPIP, GUE or GRE.
use std::net::Ipv4Addr;

use conntrack::{ConnId, Dir, Millis, Proto, TcpFlags, Tuple};

use super::l4::Headers;
use super::nat_rewrite::rewrite;
use super::{tag, Pipeline, Verdict};
use crate::forward::icmp_gen::build_frag_needed;
use crate::forward::ipip::{clamp_syn_mss_for_tunnel, encapsulate, EncapError};
use crate::forward::toa::{adjust_synack_mss_for_toa, insert_toa};
use crate::frame::Frame;
use crate::snapshot::{Encap, Forward, PortSpec};
use crate::stats::DropReason;

const SYN: u8 = TcpFlags::SYN;
const ACK: u8 = TcpFlags::ACK;
const FIN_SYN_RST: u8 = TcpFlags::FIN | TcpFlags::SYN | TcpFlags::RST;

impl<F: Frame> Pipeline<F> {
    pub(super) fn xmit(
        &mut self,
        frame: &mut F,
        h: &Headers,
        id: ConnId,
        dir: Dir,
        now: Millis,
    ) -> Verdict {
        let Some(c) = self.conns.get(id) else {
            return Verdict::Drop(DropReason::NoConnection);
        };
        let (svc, dest, orig, reply, ctag) = (c.service as usize, c.dest, c.orig, c.reply, c.tag);
        self.last_conn = Some(id);
        // Only operators who asked for it pay for the check on every packet.
        if self.snap.expire_nodest_conn && self.svc_mut(svc).is_none_or(|s| s.real(dest).is_none())
        {
            // The real (or its service) was removed and the operator asked for
            // its connections to end at their next packet, as IPVS does.
            if let Some(c) = self.conns.remove(id) {
                self.release(&c, now);
            }
            return Verdict::Drop(DropReason::NoDestination);
        }
        let t = self.conns.update(id, dir, TcpFlags(h.flags), now);
        // Where this direction leaves is remembered once `emit` resolved it.
        self.remember = Some((id, dir));
        let len = frame.len();
        if let Some(s) = self.svc_mut(svc) {
            s.conn_changed(dest, t.was_active, t.is_active);
            s.counters.count(dest, dir, len);
        }
        match (tag::forward(ctag), dir) {
            (Forward::Nat, Dir::In) => {
                let to = Some((reply.src, reply.sport));
                rewrite(frame.data_mut(), h.hl, h.tl, h.proto, None, to);
                Verdict::Route(reply.src)
            }
            (Forward::Nat, Dir::Out) => {
                let from = Some((orig.dst, orig.dport));
                rewrite(frame.data_mut(), h.hl, h.tl, h.proto, from, None);
                Verdict::Route(orig.src)
            }
            (Forward::FullNat, Dir::In) => {
                fullnat_rewrite(frame, h, reply.reversed());
                if tag::toa_pending(ctag) {
                    self.add_toa(frame, h, id, ctag, reply.src);
                }
                Verdict::Route(reply.src)
            }
            (Forward::FullNat, Dir::Out) => {
                fullnat_rewrite(frame, h, orig.reversed());
                if h.proto == Proto::Tcp
                    && h.flags & (SYN | ACK) == SYN | ACK
                    && self.toa_enabled(svc)
                {
                    // The client's first segment will carry TOA: keep it inside the MTU.
                    let _ = adjust_synack_mss_for_toa(frame);
                }
                Verdict::Route(orig.src)
            }
            // Direct routing: the IP packet leaves untouched towards the RS's MAC.
            (Forward::Dr, Dir::In) => Verdict::Route(reply.src),
            (Forward::Tun, Dir::In) => {
                let encap = self.services.get(svc).and_then(Option::as_ref);
                let encap = encap.map_or(Encap::Ipip, |s| s.encap_of(dest));
                self.tunnel(frame, h, reply.src, encap)
            }
            // DR/TUN replies go from the RS to the client directly, never through us.
            (Forward::Dr | Forward::Tun, Dir::Out) => Verdict::Drop(DropReason::ModeUnsupported),
        }
    }

    fn toa_enabled(&self, svc: usize) -> bool {
        self.services
            .get(svc)
            .and_then(Option::as_ref)
            .is_some_and(|s| s.spec.toa)
    }

    /// TOA goes into the client's SYN and, as DPVS does, again into the first
    /// segment after the handshake (in case the SYN had no room or was lost).
    fn add_toa(&mut self, frame: &mut F, h: &Headers, id: ConnId, ctag: u8, rs: Ipv4Addr) {
        let first_ack = h.flags & (FIN_SYN_RST | ACK) == ACK;
        if h.flags & SYN == 0 && !first_ack {
            return;
        }
        let mtu = self.mtu_towards(rs);
        let _ = insert_toa(frame, h.src, h.sport, mtu);
        if first_ack {
            self.conns.set_tag(id, tag::toa_done(ctag));
        }
    }

    fn mtu_towards(&self, ip: Ipv4Addr) -> u16 {
        self.routes
            .lookup(ip)
            .and_then(|hop| self.snap.ports.get(hop.port))
            .map_or(1500, |p| p.mtu)
    }

    /// IPIP, GUE or GRE to the RS from our address on its segment. A DF
    /// packet that no longer fits becomes an ICMP fragmentation-needed back
    /// to the client. (A connection whose service is gone has no tunnel on
    /// record and gets IPIP, the default.)
    fn tunnel(&mut self, frame: &mut F, h: &Headers, rs: Ipv4Addr, encap: Encap) -> Verdict {
        let Some(hop) = self.routes.lookup(rs) else {
            return Verdict::Drop(DropReason::NoRoute);
        };
        let Some(port) = self.snap.ports.get(hop.port) else {
            return Verdict::Drop(DropReason::NoRoute);
        };
        let mtu = port.mtu;
        let outer_src = outer_src(port, hop.gateway);
        if encap != Encap::Ipip {
            // The fast path builds IPIP only.
            self.remember = None;
        }
        if h.proto == Proto::Tcp && h.flags & SYN != 0 {
            let _ = clamp_syn_mss_for_tunnel(frame, mtu, encap);
        }
        match encapsulate(frame, outer_src, rs, mtu, encap) {
            Ok(()) => Verdict::Route(rs),
            Err(EncapError::TooBig {
                mtu: inner,
                df: true,
            }) => {
                // The message is built in place, so the original is copied
                // first (into preallocated scratch: no allocation here).
                self.remember = None;
                self.scratch.clear();
                let n = frame.len().min(self.scratch.capacity());
                self.scratch.extend_from_slice(&frame.data()[..n]);
                match build_frag_needed(frame, &self.scratch, h.dst, inner) {
                    Ok(()) => {
                        self.stats.icmp_frag_needed_sent.add(1);
                        Verdict::Route(h.src)
                    }
                    Err(_) => Verdict::Drop(DropReason::TunnelTooBig),
                }
            }
            Err(EncapError::TooBig { df: false, .. }) => Verdict::Drop(DropReason::TunnelTooBig),
            Err(EncapError::NoHeadroom) => Verdict::Drop(DropReason::AllocFailed),
            Err(EncapError::Malformed(_)) => Verdict::Drop(DropReason::TruncatedIp),
        }
    }
}

/// A tunnel's outer source towards `gateway`: the port's address on the
/// gateway's subnet, else its first.
pub(super) fn outer_src(port: &PortSpec, gateway: Ipv4Addr) -> Ipv4Addr {
    port.addresses
        .iter()
        .find(|a| a.contains(gateway))
        .or(port.addresses.first())
        .map_or(Ipv4Addr::UNSPECIFIED, |a| a.addr)
}

/// FullNAT: makes the packet read `to` (both addresses and ports).
#[inline]
fn fullnat_rewrite<F: Frame>(frame: &mut F, h: &Headers, to: Tuple) {
    let (src, dst) = (Some((to.src, to.sport)), Some((to.dst, to.dport)));
    rewrite(frame.data_mut(), h.hl, h.tl, h.proto, src, dst);
}
