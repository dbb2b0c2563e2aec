//! VRRP in the packet path, as a neighbour meets it: a backup does not
//! answer ARP for its instance's addresses nor forward traffic to them; a
//! master does, and announces them with gratuitous ARPs when asked.
mod common;

use std::net::Ipv4Addr;
use std::sync::Arc;

use common::{real, segment, snapshot, Sink, US, VIP};
use dataplane::mastership::{Mastership, VrrpSpec};
use dataplane::wire::{ArpOp, ArpPacket, MacAddr};
use dataplane::{CoreStats, DropReason, Pipeline, VecFrame};

const ASKER_MAC: [u8; 6] = [2, 0, 0, 0, 1, 2];
const ASKER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// An address of the port outside every instance.
const OWN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

fn who_has(target: Ipv4Addr) -> VecFrame {
    let mut f = vec![0u8; 60];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&ASKER_MAC);
    f[12..14].copy_from_slice(&[8, 6]);
    ArpPacket::build_request(&mut f[14..42], MacAddr(ASKER_MAC), ASKER, target).unwrap();
    VecFrame::from_bytes(&f)
}

/// A pipeline whose VIP belongs to instance 0, with `m` as its mastership.
fn pipeline(m: &Arc<Mastership>) -> (Pipeline<VecFrame>, Arc<CoreStats>) {
    let mut snap = snapshot(vec![real(1, 11)], false);
    snap.vrrp = vec![VrrpSpec {
        port: 0,
        addresses: vec![VIP],
        garp_repeat: 3,
    }];
    snap.index_owned();
    let stats = Arc::new(CoreStats::default());
    let mut p = Pipeline::new(0, 1, Arc::new(snap), stats.clone()).unwrap();
    p.use_mastership(m.clone());
    (p, stats)
}

fn arp_replies(sink: &Sink) -> usize {
    sink.sent
        .iter()
        .filter(|f| f.len() >= 42 && f[12..14] == [8, 6])
        .filter(|f| ArpPacket::new_checked(&f[14..42]).is_ok_and(|a| a.operation() == ArpOp::REPLY))
        .count()
}

#[test]
fn a_backup_neither_answers_nor_forwards_for_owned_addresses() {
    let m = Arc::new(Mastership::new(1));
    let (mut p, stats) = pipeline(&m);
    let mut sink = Sink::default();
    p.process(who_has(VIP), 0, 1, &mut sink);
    p.process(segment(40000, 0x02), 0, 1, &mut sink);
    assert_eq!(arp_replies(&sink), 0);
    assert_eq!(stats.drops_of(DropReason::VrrpStandby), 2);
    assert_eq!(stats.conns_created.get(), 0);
    // Addresses in no instance behave as before.
    p.process(who_has(OWN), 0, 1, &mut sink);
    assert_eq!(arp_replies(&sink), 1);
}

#[test]
fn mastership_is_picked_up_at_the_next_tick_both_ways() {
    let m = Arc::new(Mastership::new(1));
    let (mut p, stats) = pipeline(&m);
    let mut sink = Sink::default();
    m.set_master(0, true);
    p.vrrp_tick(&mut sink);
    p.process(who_has(VIP), 0, 2, &mut sink);
    p.process(segment(40000, 0x02), 0, 2, &mut sink);
    assert_eq!(arp_replies(&sink), 1);
    assert_eq!(stats.conns_created.get(), 1);
    m.set_master(0, false);
    p.vrrp_tick(&mut sink);
    p.process(segment(40001, 0x02), 0, 3, &mut sink);
    assert_eq!(stats.conns_created.get(), 1);
    assert_eq!(stats.drops_of(DropReason::VrrpStandby), 1);
}

#[test]
fn without_a_runtime_every_instance_counts_as_master() {
    // Replay has no VRRP runtime: owned addresses are served as before.
    let mut snap = snapshot(vec![real(1, 11)], false);
    snap.vrrp = vec![VrrpSpec {
        port: 0,
        addresses: vec![VIP],
        garp_repeat: 1,
    }];
    snap.index_owned();
    let mut p = Pipeline::new(0, 1, Arc::new(snap), Arc::new(CoreStats::default())).unwrap();
    let mut sink = Sink::default();
    p.process(who_has(VIP), 0, 1, &mut sink);
    assert_eq!(arp_replies(&sink), 1);
}

#[test]
fn a_master_sends_the_garp_rounds_asked_for_and_a_backup_none() {
    let m = Arc::new(Mastership::new(1));
    let (mut p, stats) = pipeline(&m);
    let mut sink = Sink::default();
    // Asked while not MASTER (a race with losing it): nothing announced.
    m.request_garp(0);
    p.vrrp_tick(&mut sink);
    assert!(sink.sent.is_empty());
    m.set_master(0, true);
    m.request_garp(0);
    p.vrrp_tick(&mut sink);
    assert_eq!(sink.sent.len(), 3, "garp_repeat 3 x one address");
    for f in &sink.sent {
        assert_eq!(&f[0..6], &[0xff; 6], "broadcast");
        assert_eq!(
            &f[6..12],
            &US,
            "the port's own MAC, as keepalived without use_vmac"
        );
        let a = ArpPacket::new_checked(&f[14..42]).unwrap();
        assert!(a.is_gratuitous());
        assert_eq!(a.sender_proto_addr(), VIP);
        assert_eq!(a.sender_hw_addr(), MacAddr(US));
    }
    assert_eq!(stats.garps_sent.get(), 3);
    // Nothing more until the next request.
    p.vrrp_tick(&mut sink);
    assert_eq!(sink.sent.len(), 3);
}
