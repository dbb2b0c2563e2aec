//! Traffic addressed to the director itself: ICMP echo to its addresses and
//! to every VIP is answered; anything else is not served here.
use super::{Pipeline, Verdict};
use crate::frame::Frame;
use crate::stats::DropReason;
use crate::wire::{EthernetFrame, IcmpType, Icmpv4Packet, IpProtocol, Ipv4Packet};

const ETH_LEN: usize = 14;
const REPLY_TTL: u8 = 64;

impl<F: Frame> Pipeline<F> {
    /// `data` is the whole frame; its IPv4 header was validated by the caller.
    pub(super) fn local(&mut self, data: &mut [u8], hl: usize, tl: usize) -> Verdict {
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
                return Verdict::Drop(DropReason::LocalUnsupported);
            }
            let Some(l4) = ipbuf.get_mut(hl..) else {
                return Verdict::Drop(DropReason::TruncatedL4);
            };
            let Ok(mut icmp) = Icmpv4Packet::new_checked(l4) else {
                return Verdict::Drop(DropReason::TruncatedL4);
            };
            if icmp.msg_type() != IcmpType::ECHO_REQUEST {
                return Verdict::Drop(DropReason::LocalUnsupported);
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
}
