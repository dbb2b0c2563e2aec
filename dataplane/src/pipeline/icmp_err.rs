//! ICMP errors (destination unreachable, fragmentation needed, time exceeded)
//! that quote a tracked connection are translated and forwarded along it, as
//! IPVS does: the quote is rewritten to what the receiver sent, and the outer
//! addresses to what it can route; anything else is dropped with a reason.
use std::net::Ipv4Addr;

use conntrack::{Dir, Millis, Proto, Tuple};

use super::l4::owner_core;
use super::{Pipeline, Verdict};
use crate::frame::Frame;
use crate::snapshot::Forward;
use crate::stats::DropReason;
use crate::wire::{IcmpType, Icmpv4Packet, IpProtocol, Ipv4Packet};

use crate::wire::ETH_LEN;

impl<F: Frame> Pipeline<F> {
    /// `data` is the whole frame; `hl`/`tl` bound the validated IPv4 packet.
    pub(super) fn icmp_error(
        &mut self,
        data: &mut [u8],
        hl: usize,
        tl: usize,
        now: Millis,
    ) -> Verdict {
        let Some(l4) = data.get(ETH_LEN + hl..ETH_LEN + tl) else {
            return Verdict::Drop(DropReason::TruncatedL4);
        };
        let Ok(icmp) = Icmpv4Packet::new_checked(l4) else {
            return Verdict::Drop(DropReason::TruncatedL4);
        };
        let t = icmp.msg_type();
        if t != IcmpType::DEST_UNREACHABLE && t != IcmpType::TIME_EXCEEDED {
            return Verdict::Drop(DropReason::IcmpUnsupported);
        }
        let Ok(q) = icmp.quote() else {
            return Verdict::Drop(DropReason::IcmpUnsupported);
        };
        let proto = match q.protocol() {
            IpProtocol::TCP => Proto::Tcp,
            IpProtocol::UDP => Proto::Udp,
            _ => return Verdict::Drop(DropReason::IcmpUnsupported),
        };
        let (qs, qsp, qd, qdp) = (q.src_addr(), q.src_port(), q.dst_addr(), q.dst_port());
        // The quote is a packet we sent; its reverse is one we would receive.
        let reverse = Tuple {
            proto,
            src: qd,
            sport: qdp,
            dst: qs,
            dport: qsp,
        };
        let Some((id, dir)) = self.live_conn(&reverse, now) else {
            if self.cores > 1 {
                let from_vip = self.find_service(proto, qs, qsp).is_some();
                let client = if from_vip { qd } else { qs };
                let owner = owner_core(client, self.owner_mask, self.cores);
                if owner != usize::from(self.core) {
                    return Verdict::Redirect(owner);
                }
            }
            return Verdict::Drop(DropReason::NoConnection);
        };
        let Some(c) = self.conns.get(id) else {
            return Verdict::Drop(DropReason::NoConnection);
        };
        let (orig, reply) = (c.orig, c.reply);
        let Some(forward) = self.forward_of(c.service as usize, c.dest) else {
            return Verdict::Drop(DropReason::NoDestination);
        };
        // (new quote src, new quote dst, new outer src, new outer dst, route to)
        let plan = match (dir, forward) {
            // From the client's side, about a packet we sent it: the RS gets the
            // quote as it sent the packet.
            (Dir::In, Forward::Nat) => Plan::new(reply, None, Some(reply.src)),
            (Dir::In, Forward::FullNat) => Plan::new(reply, Some(reply.dst), Some(reply.src)),
            // From the RS's side, about a packet we sent it: the client gets the
            // quote as it sent the packet, from the VIP.
            (Dir::Out, Forward::Nat | Forward::FullNat) => {
                Plan::new(orig, Some(orig.dst), Some(orig.src))
            }
            // DR: the RS owns the VIP, the error goes to it untouched.
            (Dir::In, Forward::Dr) => return Verdict::Route(reply.src),
            _ => return Verdict::Drop(DropReason::IcmpUnsupported),
        };
        apply(data, hl, tl, &plan);
        Verdict::Route(plan.route)
    }
}

struct Plan {
    quote: Tuple,
    outer_src: Option<Ipv4Addr>,
    route: Ipv4Addr,
}

impl Plan {
    fn new(quote: Tuple, outer_src: Option<Ipv4Addr>, outer_dst: Option<Ipv4Addr>) -> Plan {
        Plan {
            quote,
            outer_src,
            route: outer_dst.unwrap_or(quote.src),
        }
    }
}

/// Rewrites the quote and the outer header; checksums are recomputed in full
/// (ICMP errors are rare, and the quote's checksum covers moved fields).
fn apply(data: &mut [u8], hl: usize, tl: usize, plan: &Plan) {
    let ipbuf = &mut data[ETH_LEN..ETH_LEN + tl];
    if let Ok(mut icmp) = Icmpv4Packet::new_checked(&mut ipbuf[hl..]) {
        if let Ok(mut q) = icmp.quote_mut() {
            q.set_src_addr(plan.quote.src);
            q.set_src_port(plan.quote.sport);
            q.set_dst_addr(plan.quote.dst);
            q.set_dst_port(plan.quote.dport);
            q.fill_ip_checksum();
        }
        icmp.fill_checksum();
    }
    let mut ip = Ipv4Packet::new_unchecked(&mut *ipbuf);
    if let Some(s) = plan.outer_src {
        ip.set_src_addr(s);
    }
    ip.set_dst_addr(plan.route);
    ip.decrement_ttl();
    ip.fill_checksum();
}
