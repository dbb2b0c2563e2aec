//! The steering rules agree with the SNAT pools' port ownership.
use std::net::Ipv4Addr;

use conntrack::{LocalPortPool, Proto};
use sched::SchedFlags;

use super::*;
use crate::snapshot::{PortMatch, ServiceSpec};

const L1: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 10);
const L2: Ipv4Addr = Ipv4Addr::new(10, 20, 0, 11);

fn service(name: &str, proto: Proto, locals: &[Ipv4Addr]) -> ServiceSpec {
    ServiceSpec {
        id: 0,
        name: name.into(),
        fwmark: None,
        proto,
        vip: Ipv4Addr::new(10, 0, 0, 100),
        ports: PortMatch::One(80),
        scheduler: "rr".into(),
        flags: SchedFlags::default(),
        persistence: None,
        ops: false,
        local_addresses: locals.to_vec(),
        toa: false,
        reals: vec![],
    }
}

fn rule(dst: Ipv4Addr, proto: Proto, queue: u16, mask: u16) -> SteerRule {
    SteerRule {
        dst,
        proto,
        port_value: queue,
        port_mask: mask,
        queue,
    }
}

#[test]
fn one_worker_needs_no_rule() {
    let s = [service("a", Proto::Tcp, &[L1])];
    assert!(reply_rules(&s, 1).is_empty());
    assert!(reply_rules(&s, 0).is_empty());
}

#[test]
fn one_rule_per_core_with_the_pipelines_mask() {
    let s = [service("a", Proto::Tcp, &[L1])];
    for (workers, mask) in [(2, 1), (3, 3), (4, 3)] {
        let got: Vec<SteerRule> = reply_rules(&s, workers).into_iter().collect();
        let want: Vec<SteerRule> = (0..workers as u16)
            .map(|q| rule(L1, Proto::Tcp, q, mask))
            .collect();
        assert_eq!(got, want, "{workers} workers");
        assert_eq!(core_mask(workers), mask);
    }
}

/// Every port a core's SNAT pool can hand out is steered to that core's
/// queue by exactly one rule; ports no pool hands out match at most one rule.
#[test]
fn every_owned_port_reaches_its_owner_queue() {
    let s = [service("a", Proto::Udp, &[L1])];
    for workers in 1..=4usize {
        let rules = reply_rules(&s, workers);
        let mask = core_mask(workers);
        let pools: Vec<LocalPortPool> = (0..workers as u16)
            .map(|c| LocalPortPool::new(&[L1], c, mask))
            .collect();
        for port in 0..=u16::MAX {
            let hits: Vec<&SteerRule> = rules
                .iter()
                .filter(|r| r.matches(L1, Proto::Udp, port))
                .collect();
            assert!(hits.len() <= 1, "{workers} workers, port {port}: {hits:?}");
            for (c, pool) in pools.iter().enumerate() {
                if pool.owns(L1, port) && workers > 1 {
                    assert_eq!(hits.len(), 1, "{workers} workers, port {port}");
                    assert_eq!(usize::from(hits[0].queue), c, "port {port}");
                }
            }
            assert!(rules.iter().all(|r| !r.matches(L1, Proto::Tcp, port)));
        }
    }
}

#[test]
fn a_local_address_shared_by_services_gives_one_rule_set() {
    let s = [
        service("a", Proto::Tcp, &[L1]),
        service("b", Proto::Tcp, &[L1, L2]),
        service("c", Proto::Tcp, &[L2, L1]),
    ];
    let rules = reply_rules(&s, 2);
    assert_eq!(rules.len(), 4, "{rules:?}");
    for dst in [L1, L2] {
        for q in 0..2 {
            assert!(rules.contains(&rule(dst, Proto::Tcp, q, 1)));
        }
    }
}

#[test]
fn tcp_and_udp_services_each_get_their_protocol() {
    let s = [
        service("t", Proto::Tcp, &[L1]),
        service("u", Proto::Udp, &[L1]),
        service("u2", Proto::Udp, &[L2]),
        service("nat", Proto::Tcp, &[]),
    ];
    let rules = reply_rules(&s, 4);
    assert_eq!(rules.len(), 12);
    let of = |dst, proto| {
        rules
            .iter()
            .filter(|r| r.dst == dst && r.proto == proto)
            .count()
    };
    assert_eq!(of(L1, Proto::Tcp), 4);
    assert_eq!(of(L1, Proto::Udp), 4);
    assert_eq!(of(L2, Proto::Udp), 4);
    assert_eq!(of(L2, Proto::Tcp), 0);
}

#[test]
fn services_without_local_addresses_need_no_rule() {
    let s = [service("nat", Proto::Tcp, &[])];
    assert!(reply_rules(&s, 4).is_empty());
}
