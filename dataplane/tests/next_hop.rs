//! The established fast path remembers how each direction of a connection
//! leaves (port and both MACs). These tests change the world under a live
//! connection, the way a network does, and check the next packet leaves the
//! new way: a real server whose MAC changes (a NIC swapped, an address moved
//! to another host announcing itself by ARP), and a route that changes with a
//! new snapshot.
mod common;

use std::net::Ipv4Addr;
use std::sync::Arc;

use common::{real, segment, snapshot, Sink, CLIENT};
use dataplane::snapshot::{Ipv4Prefix, NeighborSpec, RouteSpec, Snapshot};
use dataplane::wire::{ArpPacket, MacAddr};
use dataplane::{CoreStats, Frame, Pipeline, VecFrame};

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const SYN_ACK: u8 = 0x12;
const RS: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 11);
const RS_MAC_A: [u8; 6] = [2, 0, 0, 0, 0xa, 0x11];
const RS_MAC_B: [u8; 6] = [2, 0, 0, 0, 0xb, 0x11];
const CLIENT_MAC: [u8; 6] = [2, 0, 0, 0, 1, 2];
const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 253);
const GATEWAY_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xfd];
const CPORT: u16 = 40000;

/// One real (10.1.0.11:8080) whose MAC the director learns by ARP.
fn learning_snapshot() -> Snapshot {
    let mut s = snapshot(vec![real(1, 11)], false);
    s.neighbors.retain(|n| n.ip != RS);
    s.neighbors.push(NeighborSpec {
        ip: GATEWAY,
        mac: MacAddr(GATEWAY_MAC),
        port: 0,
    });
    s
}

/// The real server announcing `mac` by asking for the director's address.
fn rs_arp(mac: [u8; 6]) -> VecFrame {
    let mut f = vec![0u8; 60];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&[8, 6]);
    ArpPacket::build_request(&mut f[14..42], MacAddr(mac), RS, Ipv4Addr::new(10, 1, 0, 1)).unwrap();
    VecFrame::from_bytes(&f)
}

/// A segment from the real server to the client (the NAT reply).
fn reply(flags: u8) -> VecFrame {
    let mut f = segment(CPORT, flags).data().to_vec();
    f[6..12].copy_from_slice(&RS_MAC_A);
    f[26..30].copy_from_slice(&RS.octets());
    f[30..34].copy_from_slice(&CLIENT.octets());
    f[34..36].copy_from_slice(&8080u16.to_be_bytes());
    f[36..38].copy_from_slice(&CPORT.to_be_bytes());
    VecFrame::from_bytes(&f)
}

struct Director {
    p: Pipeline<VecFrame>,
    stats: Arc<CoreStats>,
    sink: Sink,
    now: u64,
}

impl Director {
    fn new() -> Self {
        let stats = Arc::new(CoreStats::default());
        let p = Pipeline::new(0, 1, Arc::new(learning_snapshot()), stats.clone()).unwrap();
        Director {
            p,
            stats,
            sink: Sink::default(),
            now: 1,
        }
    }

    /// Processes one frame; returns what left (destination MAC, IPv4 dst).
    fn send(&mut self, f: VecFrame) -> Vec<([u8; 6], Ipv4Addr)> {
        self.now += 1;
        self.sink.sent.clear();
        self.p.process(f, 0, self.now, &mut self.sink);
        self.sink
            .sent
            .iter()
            .filter(|f| f.len() >= 34 && f[12..14] == [8, 0])
            .map(|f| {
                let dst: [u8; 4] = f[30..34].try_into().unwrap();
                (f[0..6].try_into().unwrap(), Ipv4Addr::from(dst))
            })
            .collect()
    }

    fn full_path(&self) -> u64 {
        self.stats.full_path.get()
    }

    /// A connection through the handshake, with the real at `RS_MAC_A`.
    fn established(&mut self) {
        self.send(rs_arp(RS_MAC_A));
        assert_eq!(self.send(segment(CPORT, SYN)), vec![(RS_MAC_A, RS)]);
        assert_eq!(self.send(reply(SYN_ACK)), vec![(CLIENT_MAC, CLIENT)]);
        assert_eq!(self.send(segment(CPORT, ACK)), vec![(RS_MAC_A, RS)]);
        assert_eq!(self.send(reply(ACK)), vec![(CLIENT_MAC, CLIENT)]);
    }
}

#[test]
fn established_packets_take_the_fast_path_once_their_hop_is_known() {
    let mut d = Director::new();
    d.established();
    let before = d.full_path();
    for _ in 0..10 {
        assert_eq!(d.send(segment(CPORT, ACK)), vec![(RS_MAC_A, RS)]);
        assert_eq!(d.send(reply(ACK)), vec![(CLIENT_MAC, CLIENT)]);
    }
    assert_eq!(
        d.full_path(),
        before,
        "20 established packets, none on the full path"
    );
    // A FIN changes the state: the full path's business.
    d.send(segment(CPORT, 0x11));
    assert_eq!(d.full_path(), before + 1);
}

#[test]
fn a_real_server_whose_mac_changes_gets_the_next_packet_at_its_new_mac() {
    let mut d = Director::new();
    d.established();
    assert_eq!(d.send(segment(CPORT, ACK)), vec![(RS_MAC_A, RS)]);
    // The address moves to another NIC, which announces itself.
    d.send(rs_arp(RS_MAC_B));
    for _ in 0..3 {
        assert_eq!(d.send(segment(CPORT, ACK)), vec![(RS_MAC_B, RS)]);
    }
    // Any neighbour change makes every remembered hop be resolved once
    // more (the client's too); then both directions are fast again.
    assert_eq!(d.send(reply(ACK)), vec![(CLIENT_MAC, CLIENT)]);
    let before = d.full_path();
    assert_eq!(d.send(segment(CPORT, ACK)), vec![(RS_MAC_B, RS)]);
    assert_eq!(d.send(reply(ACK)), vec![(CLIENT_MAC, CLIENT)]);
    assert_eq!(d.full_path(), before);
}

#[test]
fn a_route_that_changes_with_a_new_snapshot_takes_the_next_reply() {
    let mut d = Director::new();
    d.established();
    assert_eq!(d.send(reply(ACK)), vec![(CLIENT_MAC, CLIENT)]);
    // The client is now reached through a gateway.
    let mut s = learning_snapshot();
    s.generation = 1;
    s.routes.push(RouteSpec {
        prefix: Ipv4Prefix {
            addr: CLIENT,
            len: 32,
        },
        via: Some(GATEWAY),
        port: 0,
    });
    d.p.apply(Arc::new(s)).unwrap();
    for _ in 0..3 {
        assert_eq!(d.send(reply(ACK)), vec![(GATEWAY_MAC, CLIENT)]);
    }
    // The real's side did not move, and its MAC is still the learned one.
    assert_eq!(d.send(segment(CPORT, ACK)), vec![(RS_MAC_A, RS)]);
}
