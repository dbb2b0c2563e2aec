//! Which core a packet belongs to when several cores share the traffic: a
//! FullNAT reply goes to the core whose pool owns its local port, and a packet
//! to a local port no core can own stays where it is (to be dropped) instead of
//! travelling between cores.
mod common;

use std::net::Ipv4Addr;
use std::sync::Arc;

use common::{real, segment_to, snapshot, Sink};
use dataplane::snapshot::Forward;
use dataplane::{CoreStats, Pipeline};

const LOCAL: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 200);

/// Core 0 of a pipeline on `cores` cores, with one FullNAT service using LOCAL.
fn core0(cores: usize) -> (Pipeline<dataplane::VecFrame>, Arc<CoreStats>) {
    let mut r = real(0, 11);
    r.forward = Forward::FullNat;
    let mut snap = snapshot(vec![r], false);
    snap.services[0].local_addresses = vec![LOCAL];
    let stats = Arc::new(CoreStats::default());
    let p = Pipeline::new(0, cores, Arc::new(snap), stats.clone()).unwrap();
    (p, stats)
}

#[test]
fn a_reply_to_a_local_port_goes_to_the_core_owning_the_port() {
    let (mut p, _) = core0(4);
    let mut out = Sink::default();
    for (dport, owner) in [(40001u16, 1usize), (40002, 2), (40003, 3)] {
        p.process(segment_to(LOCAL, 8080, dport, 0x12), 0, 1, &mut out);
        assert_eq!(out.redirected_to.last(), Some(&owner), "port {dport}");
    }
}

#[test]
fn a_local_port_no_core_owns_is_not_redirected() {
    // Three cores: the port mask is 3, and ports with low bits 3 belong to no
    // pool. Such a packet must not be handed to a core that does not exist
    // (or, through ring arithmetic, to a wrong one).
    let (mut p, stats) = core0(3);
    let mut out = Sink::default();
    p.process(segment_to(LOCAL, 8080, 40003, 0x12), 0, 1, &mut out);
    assert!(out.redirected_to.is_empty(), "{:?}", out.redirected_to);
    assert!(out.sent.is_empty());
    assert_eq!(stats.total_drops(), 1, "dropped here, with a reason");
    p.process(segment_to(LOCAL, 8080, 40002, 0x12), 0, 2, &mut out);
    assert_eq!(out.redirected_to, vec![2]);
}
