//! Last step of the packet path: route the destination, resolve the next hop's
//! MAC (or park the frame and ask by ARP), write the Ethernet addresses, send.
use std::net::Ipv4Addr;

use conntrack::Millis;

use super::xmit::outer_src;
use super::{Output, Pipeline};
use crate::egress::Resolved;
use crate::frame::Frame;
use crate::neighbor::Miss;
use crate::stats::DropReason;
use crate::wire::{EthernetFrame, MacAddr};

impl<F: Frame> Pipeline<F> {
    pub(super) fn emit(
        &mut self,
        mut frame: F,
        dst: Ipv4Addr,
        now: Millis,
        out: &mut impl Output<F>,
    ) {
        // A connection direction that already knows its way out (a FIN, a
        // state change on an established connection) skips the lookups.
        if let Some((id, dir)) = self.remember {
            let known = self.conns.get(id).map_or(0, |c| c.hop[dir as usize]);
            if let Some(e) = self.egress.get(known, self.neigh.epoch()) {
                let port = e.port;
                e.stamp(frame.data_mut());
                self.remember = None;
                self.transmit(port, frame, out);
                return;
            }
        }
        let Some(hop) = self.routes.lookup(dst) else {
            self.stats.count_drop(DropReason::NoRoute);
            return;
        };
        let Some(port) = self.snap.ports.get(hop.port) else {
            self.stats.count_drop(DropReason::NoRoute);
            return;
        };
        let src_mac = port.mac;
        match self.neigh.lookup(hop.port, hop.gateway, now) {
            Some((mac, refresh)) => {
                set_macs(&mut frame, src_mac, mac);
                if let Some((id, dir)) = self.remember.take() {
                    let r = Resolved {
                        port: hop.port,
                        gateway: hop.gateway,
                        src_mac,
                        dst_mac: mac,
                        mtu: port.mtu,
                        outer_src: outer_src(port, hop.gateway),
                    };
                    let n = self.egress.remember(&r, self.neigh.epoch());
                    self.conns.set_hop(id, dir, n);
                }
                self.transmit(hop.port, frame, out);
                if refresh {
                    self.send_arp_request(hop.port, hop.gateway, out);
                }
            }
            None => match self.neigh.park(hop.port, hop.gateway, frame, now) {
                Ok(Miss::QueuedSendRequest) => self.send_arp_request(hop.port, hop.gateway, out),
                Ok(Miss::Queued) => {}
                Err(_frame) => self.stats.count_drop(DropReason::NeighborQueueFull),
            },
        }
    }

    /// Sends the frames that were waiting for a neighbour that just answered.
    pub(super) fn flush_released(&mut self, now: Millis, out: &mut impl Output<F>) {
        let mut released = std::mem::take(&mut self.released);
        for p in released.drain(..) {
            let Some(port) = self.snap.ports.get(p.port) else {
                self.stats.count_drop(DropReason::NoRoute);
                continue;
            };
            let src_mac = port.mac;
            // The entry was learned an instant ago, so this lookup cannot miss
            // unless the snapshot changed; then the frame is dropped as unresolved.
            match self.neigh.lookup(p.port, p.ip, now).map(|(m, _)| m) {
                Some(mac) => {
                    let mut frame = p.frame;
                    set_macs(&mut frame, src_mac, mac);
                    self.transmit(p.port, frame, out);
                }
                None => self.stats.count_drop(DropReason::NeighborUnresolved),
            }
        }
        self.released = released;
    }
}

#[inline]
fn set_macs<F: Frame>(frame: &mut F, src: MacAddr, dst: MacAddr) {
    if let Ok(mut eth) = EthernetFrame::new_checked(frame.data_mut()) {
        eth.set_src_addr(src);
        eth.set_dst_addr(dst);
    }
}
