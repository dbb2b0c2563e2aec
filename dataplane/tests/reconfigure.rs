//! A new snapshot keeps the connections of what it does not touch; a removed
//! real's connections are kept until they end, or expired at their next
//! packet with expire_nodest_conn (as IPVS's sysctl of that name).
mod common;

use std::net::Ipv4Addr;
use std::sync::Arc;

use common::{real, segment, snapshot, Sink};
use dataplane::{CoreStats, DropReason, Pipeline};

fn dst_of(f: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(f[30], f[31], f[32], f[33])
}

fn run(expire_nodest_conn: bool) -> (Sink, Arc<CoreStats>, usize) {
    let stats = Arc::new(CoreStats::default());
    let first = Arc::new(snapshot(vec![real(0, 11), real(1, 12)], expire_nodest_conn));
    let mut p = Pipeline::new(0, 1, first, stats.clone()).unwrap();
    let mut out = Sink::default();
    p.process(segment(40000, 0x02), 0, 1, &mut out);
    let rs = dst_of(&out.sent[0]);
    let keep = if rs == Ipv4Addr::new(10, 1, 0, 11) {
        real(1, 12)
    } else {
        real(0, 11)
    };
    // The real that got the connection is removed.
    p.apply(Arc::new(snapshot(vec![keep], expire_nodest_conn)))
        .unwrap();
    p.process(segment(40000, 0x10), 0, 2, &mut out);
    p.process(segment(40001, 0x02), 0, 3, &mut out);
    let tracked = p.conns().len();
    (out, stats, tracked)
}

#[test]
fn connections_of_a_removed_real_are_kept_by_default() {
    let (out, stats, tracked) = run(false);
    assert_eq!(
        out.sent.len(),
        3,
        "the old connection still flows, the new one goes elsewhere"
    );
    assert_eq!(
        dst_of(&out.sent[1]),
        dst_of(&out.sent[0]),
        "to its original real"
    );
    assert_ne!(
        dst_of(&out.sent[2]),
        dst_of(&out.sent[0]),
        "new connections avoid the removed real"
    );
    assert_eq!(stats.total_drops(), 0);
    assert_eq!(tracked, 2);
}

#[test]
fn expire_nodest_conn_ends_them_at_their_next_packet() {
    let (out, stats, tracked) = run(true);
    assert_eq!(out.sent.len(), 2, "the old connection's packet is dropped");
    assert_eq!(stats.drops_of(DropReason::NoDestination), 1);
    assert_eq!(tracked, 1, "its entry is gone");
}

#[test]
fn a_refused_snapshot_leaves_every_service_as_it_was() {
    let stats = Arc::new(CoreStats::default());
    let first = Arc::new(snapshot(vec![real(0, 11), real(1, 12)], false));
    let mut p = Pipeline::new(0, 1, first.clone(), stats.clone()).unwrap();
    let mut out = Sink::default();
    p.process(segment(40000, 0x02), 0, 1, &mut out);
    // The first service loses a real, and a second one cannot be built.
    let mut bad = snapshot(vec![real(0, 11)], false);
    let mut mh = bad.services[0].clone();
    mh.id = 1;
    mh.ports = dataplane::snapshot::PortMatch::One(81);
    mh.scheduler = "mh".into();
    mh.reals = (0..5000).map(|i| real(i, 20)).collect();
    bad.services.push(mh);
    let e = p.apply(Arc::new(bad)).unwrap_err();
    assert!(e.to_string().contains("mh"), "{e}");
    let services: Vec<(u32, usize)> = p.services().map(|s| (s.spec.id, s.dests.len())).collect();
    assert_eq!(services, vec![(0, 2)], "the first service kept both reals");
    assert_eq!(p.snapshot().generation, first.generation);
    // Traffic goes on as before: rr moves to the other real.
    p.process(segment(40001, 0x02), 0, 2, &mut out);
    assert_eq!(out.sent.len(), 2);
    assert_ne!(dst_of(&out.sent[0]), dst_of(&out.sent[1]));
}
