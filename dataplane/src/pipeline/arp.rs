//! ARP: answer for our own addresses and every VIP, learn neighbours from
//! what concerns us, and ask for next hops we do not know yet. On a port
//! with a kernel twin, the twin answers for the port's addresses (one
//! request, one answer) and sees the replies the dataplane learns from.
use std::net::Ipv4Addr;

use conntrack::Millis;

use super::{Output, Pipeline, Verdict};
use crate::frame::Frame;
use crate::neighbor::NeighborUpdate;
use crate::stats::DropReason;
use crate::wire::{ArpOp, ArpPacket, EtherType, EthernetFrame, MacAddr};

use crate::wire::ETH_LEN;
/// ARP frames are padded to the Ethernet minimum (60 bytes without FCS).
const MIN_FRAME: usize = 60;

impl<F: Frame> Pipeline<F> {
    pub(super) fn arp(
        &mut self,
        data: &mut [u8],
        in_port: usize,
        our_mac: MacAddr,
        now: Millis,
        out: &mut impl Output<F>,
    ) -> Verdict {
        let Some(body) = data.get_mut(ETH_LEN..) else {
            return Verdict::Drop(DropReason::ArpMalformed);
        };
        let Ok(mut arp) = ArpPacket::new_checked(body) else {
            return Verdict::Drop(DropReason::ArpMalformed);
        };
        let (sha, spa, tpa, op) = (
            arp.sender_hw_addr(),
            arp.sender_proto_addr(),
            arp.target_proto_addr(),
            arp.operation(),
        );
        let ours = self.snap.is_own_address(in_port, tpa)
            || self.snap.is_vip(tpa)
            || self.local_addrs.contains(&tpa);
        // A VRRP backup neither answers for its instance's addresses nor
        // learns from what is said about them.
        if ours && self.standby_owns(tpa) {
            return Verdict::Drop(DropReason::VrrpStandby);
        }
        // Learn only what concerns us and sits on a connected subnet: never let a
        // stranger's chatter fill the table.
        if ours && !spa.is_unspecified() && sha.is_unicast() && self.on_link(in_port, spa) {
            self.neigh.learn(in_port, spa, sha, now, &mut self.released);
            self.flush_released(now, out);
            if self.cores > 1 && self.learned.len() < self.learned.capacity() {
                self.learned.push(NeighborUpdate {
                    port: in_port,
                    ip: spa,
                    mac: sha,
                });
            }
        }
        if !ours {
            return Verdict::Drop(DropReason::ArpNotForUs);
        }
        let kernels = self.kernel_address(in_port, tpa);
        if op != ArpOp::REQUEST {
            return if kernels {
                Verdict::ToHost
            } else {
                Verdict::Consumed
            };
        }
        if kernels {
            return Verdict::ToHost;
        }
        arp.make_reply(our_mac);
        if let Ok(mut eth) = EthernetFrame::new_checked(&mut *data) {
            eth.set_dst_addr(sha);
            eth.set_src_addr(our_mac);
        }
        self.stats.arp_replies.add(1);
        Verdict::ReplySamePort
    }

    fn on_link(&self, port: usize, ip: Ipv4Addr) -> bool {
        self.snap
            .ports
            .get(port)
            .is_some_and(|p| p.addresses.iter().any(|a| a.contains(ip)))
    }

    /// Broadcasts "who has `target`", from our address on that subnet.
    pub(super) fn send_arp_request(
        &mut self,
        port: usize,
        target: Ipv4Addr,
        out: &mut impl Output<F>,
    ) {
        let Some(spec) = self.snap.ports.get(port) else {
            return;
        };
        let our_ip = spec
            .addresses
            .iter()
            .find(|a| a.contains(target))
            .or(spec.addresses.first())
            .map_or(Ipv4Addr::UNSPECIFIED, |a| a.addr);
        if self.broadcast_arp(port, our_ip, target, out) {
            self.stats.arp_requests_sent.add(1);
        }
    }

    /// Broadcasts an ARP request from `sender` for `target` out of `port`
    /// (a gratuitous one when they are equal); false if none could be built.
    pub(super) fn broadcast_arp(
        &mut self,
        port: usize,
        sender: Ipv4Addr,
        target: Ipv4Addr,
        out: &mut impl Output<F>,
    ) -> bool {
        let Some(our_mac) = self.snap.ports.get(port).map(|p| p.mac) else {
            return false;
        };
        let Some(mut frame) = out.alloc() else {
            self.stats.count_drop(DropReason::AllocFailed);
            return false;
        };
        if !frame.set_len(MIN_FRAME) {
            self.stats.count_drop(DropReason::AllocFailed);
            return false;
        }
        let data = frame.data_mut();
        data.fill(0);
        if let Ok(mut eth) = EthernetFrame::new_checked(&mut *data) {
            eth.set_dst_addr(MacAddr::BROADCAST);
            eth.set_src_addr(our_mac);
            eth.set_ethertype(EtherType::ARP);
        }
        if ArpPacket::build_request(&mut data[ETH_LEN..], our_mac, sender, target).is_err() {
            return false;
        }
        self.transmit(port, frame, out);
        true
    }
}
