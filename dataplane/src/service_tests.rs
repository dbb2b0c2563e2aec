//! Reconciling a service with a new spec keeps what IPVS keeps.
use std::net::Ipv4Addr;

use sched::{PacketKey, SchedFlags};

use super::ServiceState;
use crate::snapshot::{Encap, Forward, PortMatch, RealSpec, ServiceSpec};

fn real(id: u32, last: u8, weight: u32) -> RealSpec {
    RealSpec {
        id,
        addr: Ipv4Addr::new(10, 1, 0, last),
        port: 80,
        weight,
        upper_threshold: 0,
        lower_threshold: 0,
        forward: Forward::Nat,
        encap: Encap::Ipip,
    }
}

fn spec(scheduler: &str, reals: Vec<RealSpec>) -> ServiceSpec {
    ServiceSpec {
        id: 0,
        name: "s".into(),
        fwmark: None,
        proto: conntrack::Proto::Tcp,
        vip: Ipv4Addr::new(10, 0, 0, 100),
        ports: PortMatch::One(80),
        scheduler: scheduler.into(),
        flags: SchedFlags::default(),
        persistence: None,
        ops: false,
        local_addresses: vec![],
        toa: false,
        reals,
    }
}

fn pick(s: &mut ServiceState) -> u8 {
    let key = PacketKey {
        src: Ipv4Addr::new(1, 2, 3, 4),
        sport: 1,
        dst: Ipv4Addr::new(10, 0, 0, 100),
        dport: 80,
        proto: 6,
    };
    let pos = s.schedule(&key, 0).expect("a real");
    s.dests[pos].addr.octets()[3]
}

#[test]
fn list_order_is_newest_first_and_additions_go_to_the_front() {
    let mut s =
        ServiceState::new(&spec("rr", vec![real(0, 11, 1), real(1, 12, 1)]), 0, 0, 0).unwrap();
    assert_eq!(s.dests.iter().map(|d| d.id).collect::<Vec<_>>(), vec![1, 0]);
    s.reconcile(&spec(
        "rr",
        vec![real(0, 11, 1), real(1, 12, 1), real(2, 13, 1)],
    ))
    .unwrap();
    assert_eq!(
        s.dests.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![2, 1, 0]
    );
}

#[test]
fn unrelated_edits_keep_the_wrr_cycle_and_counts() {
    let reals = vec![real(0, 11, 2), real(1, 12, 1)];
    let mut s = ServiceState::new(&spec("wrr", reals.clone()), 0, 0, 0).unwrap();
    s.conn_added(0);
    let first = pick(&mut s);
    // Same spec again (e.g. another service changed): nothing moves.
    s.reconcile(&spec("wrr", reals.clone())).unwrap();
    let mut fresh = ServiceState::new(&spec("wrr", reals), 0, 0, 0).unwrap();
    let _ = pick(&mut fresh);
    assert_eq!(
        pick(&mut s),
        pick(&mut fresh),
        "the cycle continues where it was"
    );
    assert_ne!(first, 0);
    assert_eq!(
        s.dest_by_id(0).unwrap().inactive,
        1,
        "connection counts kept"
    );
}

#[test]
fn a_removed_real_disappears_and_its_id_is_never_scheduled() {
    let mut s = ServiceState::new(
        &spec("rr", vec![real(0, 11, 1), real(1, 12, 1), real(2, 13, 1)]),
        0,
        0,
        0,
    )
    .unwrap();
    s.reconcile(&spec("rr", vec![real(0, 11, 1), real(2, 13, 1)]))
        .unwrap();
    assert!(s.real(1).is_none());
    assert!(s.dest_by_id(1).is_none());
    for _ in 0..10 {
        assert_ne!(pick(&mut s), 12);
    }
}

#[test]
fn a_weight_change_edits_in_place() {
    let mut s =
        ServiceState::new(&spec("wrr", vec![real(0, 11, 1), real(1, 12, 1)]), 0, 0, 0).unwrap();
    s.reconcile(&spec("wrr", vec![real(0, 11, 0), real(1, 12, 1)]))
        .unwrap();
    assert_eq!(
        s.dests.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![1, 0],
        "position kept"
    );
    for _ in 0..10 {
        assert_eq!(pick(&mut s), 12, "weight 0 is quiescent");
    }
}

#[test]
fn a_scheduler_change_rebuilds_the_scheduler_only() {
    let mut s =
        ServiceState::new(&spec("rr", vec![real(0, 11, 1), real(1, 12, 5)]), 0, 0, 0).unwrap();
    s.conn_added(1);
    s.reconcile(&spec("fo", vec![real(0, 11, 1), real(1, 12, 5)]))
        .unwrap();
    for _ in 0..5 {
        assert_eq!(pick(&mut s), 12, "fo picks the highest weight");
    }
    assert_eq!(s.dest_by_id(1).unwrap().inactive, 1);
}

#[test]
fn a_real_keeps_its_tunnel_for_its_connections_after_removal() {
    let gue = Encap::Gue {
        port: 6080,
        csum: true,
    };
    let mut a = real(0, 11, 1);
    a.forward = Forward::Tun;
    a.encap = gue;
    let mut s = ServiceState::new(&spec("rr", vec![a.clone(), real(1, 12, 1)]), 0, 0, 0).unwrap();
    assert_eq!((s.encap_of(0), s.encap_of(1)), (gue, Encap::Ipip));
    // An edit changes the tunnel in place, as ipvsadm -e does.
    a.encap = Encap::Gre { csum: false };
    s.reconcile(&spec("rr", vec![a.clone(), real(1, 12, 1)]))
        .unwrap();
    assert_eq!(s.encap_of(0), Encap::Gre { csum: false });
    // Removed: its connections still get its last tunnel.
    s.reconcile(&spec("rr", vec![real(1, 12, 1)])).unwrap();
    assert!(s.real(0).is_none());
    assert_eq!(s.encap_of(0), Encap::Gre { csum: false });
    assert_eq!(s.encap_of(7), Encap::Ipip, "an id never seen");
}
