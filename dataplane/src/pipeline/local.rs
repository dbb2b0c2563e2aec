//! Traffic addressed to the director itself: ICMP echo to its addresses and
//! to every VIP is answered; anything else goes to the port's kernel twin,
//! or is dropped on a port without one.
use std::net::Ipv4Addr;

use super::{Pipeline, Verdict};
use crate::frame::Frame;
use crate::stats::DropReason;
use crate::wire::{EthernetFrame, IcmpType, Icmpv4Packet, IpProtocol, Ipv4Packet};

use crate::wire::ETH_LEN;
const REPLY_TTL: u8 = 64;

impl<F: Frame> Pipeline<F> {
    /// `data` is the whole frame; its IPv4 header was validated by the caller.
    pub(super) fn local(
        &mut self,
        data: &mut [u8],
        in_port: usize,
        hl: usize,
        tl: usize,
    ) -> Verdict {
        let ip_end = ETH_LEN + tl;
        {
            let Some(ipbuf) = data.get_mut(ETH_LEN..ip_end) else {
                return Verdict::Drop(DropReason::TruncatedIp);
            };
            let (proto, src, dst) = {
                let ip = Ipv4Packet::new_unchecked(&*ipbuf);
                (ip.protocol(), ip.src_addr(), ip.dst_addr())
            };
            if proto != IpProtocol::ICMP {
                return self.local_unserved(in_port, dst);
            }
            let Some(l4) = ipbuf.get_mut(hl..) else {
                return Verdict::Drop(DropReason::TruncatedL4);
            };
            let Ok(mut icmp) = Icmpv4Packet::new_checked(l4) else {
                return Verdict::Drop(DropReason::TruncatedL4);
            };
            if icmp.msg_type() != IcmpType::ECHO_REQUEST {
                // Echo replies to the kernel's pings, errors about its sockets.
                return self.local_unserved(in_port, dst);
            }
            if icmp.echo_request_to_reply().is_err() {
                return Verdict::Drop(DropReason::TruncatedL4);
            }
            let mut ip = Ipv4Packet::new_unchecked(&mut *ipbuf);
            ip.set_src_addr(dst);
            ip.set_dst_addr(src);
            ip.set_ttl(REPLY_TTL);
            ip.fill_checksum();
        }
        if let Ok(mut eth) = EthernetFrame::new_checked(&mut *data) {
            eth.swap_addrs();
        }
        self.stats.icmp_echo_replies.add(1);
        Verdict::ReplySamePort
    }

    /// A frame for the director's address `dst` that the pipeline does not
    /// serve: the kernel twin's, if the port has one.
    pub(super) fn local_unserved(&self, in_port: usize, dst: Ipv4Addr) -> Verdict {
        if self.kernel_address(in_port, dst) {
            Verdict::ToHost
        } else {
            Verdict::Drop(DropReason::LocalUnsupported)
        }
    }
}
