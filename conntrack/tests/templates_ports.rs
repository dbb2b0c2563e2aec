//! Persistence templates and the FullNAT local port pool.

mod common;

use std::net::Ipv4Addr;

use common::*;
use conntrack::*;

const S: Millis = 1000;
const MASK24: Ipv4Addr = Ipv4Addr::new(255, 255, 255, 0);
const MASK32: Ipv4Addr = Ipv4Addr::new(255, 255, 255, 255);

fn key(client: Ipv4Addr, mask: Ipv4Addr, vport: u16) -> TemplateKey {
    TemplateKey::new(Proto::Tcp, client, mask, VIP, vport)
}

fn drain(t: &mut TemplateTable, now: Millis) -> Vec<Template> {
    let mut out = Vec::new();
    while t.expire(now, 100, |x| out.push(*x)) > 0 {}
    out
}

#[test]
fn template_key_masks_client_and_separates_services() {
    let mut t = TemplateTable::new(16);
    let id = t
        .create(
            key(Ipv4Addr::new(192, 0, 2, 77), MASK24, 80),
            to(7, 3),
            DEFAULT_PERSISTENCE_TIMEOUT,
            0,
        )
        .unwrap();
    assert_eq!(
        t.lookup(&key(Ipv4Addr::new(192, 0, 2, 1), MASK24, 80)),
        Some(id)
    );
    assert_eq!(
        t.lookup(&key(Ipv4Addr::new(192, 0, 3, 1), MASK24, 80)),
        None
    );
    assert_eq!(
        t.lookup(&key(Ipv4Addr::new(192, 0, 2, 1), MASK24, 443)),
        None
    );
    let udp = TemplateKey::new(Proto::Udp, Ipv4Addr::new(192, 0, 2, 1), MASK24, VIP, 80);
    assert_eq!(t.lookup(&udp), None);
    // All-port services use vport 0.
    let all = t
        .create(key(Ipv4Addr::new(192, 0, 2, 1), MASK32, 0), to(7, 1), 60, 0)
        .unwrap();
    assert_eq!(
        t.lookup(&key(Ipv4Addr::new(192, 0, 2, 1), MASK32, 0)),
        Some(all)
    );
    let tpl = t.get(id).unwrap();
    assert_eq!(
        (
            tpl.to.service,
            tpl.to.dest,
            tpl.timeout,
            tpl.controls,
            tpl.expires
        ),
        (7, 3, 360, 0, 360 * S)
    );
    assert_eq!(tpl.key.client, Ipv4Addr::new(192, 0, 2, 0));
    assert_eq!(
        t.create(key(Ipv4Addr::new(192, 0, 2, 9), MASK24, 80), to(7, 0), 1, 0),
        Err(InsertError::Exists)
    );
}

#[test]
fn template_ids_of_service_and_real_are_kept_whole() {
    // A service that has seen more than 65 536 reals: the ids must not alias.
    let mut t = TemplateTable::new(4);
    let k = key(Ipv4Addr::new(192, 0, 2, 1), MASK32, 80);
    let id = t.create(k, to(70_000, 65_536 + 5), 360, 0).unwrap();
    let tpl = t.get(id).unwrap();
    assert_eq!((tpl.to.service, tpl.to.dest), (70_000, 65_541));
}

#[test]
fn a_due_template_controlling_connections_is_rearmed_for_60s_at_a_time() {
    // ip_vs_conn_expire's expire_later: +60 s, and 60 s becomes its timeout.
    let mut t = TemplateTable::new(4);
    let k = key(Ipv4Addr::new(198, 51, 100, 1), MASK32, 80);
    let id = t.create(k, to(0, 0), 100, 0).unwrap();
    t.attach(id, 0);
    assert_eq!(t.get(id).unwrap().controls, 1);
    assert!(drain(&mut t, 100 * S).is_empty());
    assert_eq!(t.get(id).unwrap().expires, 160 * S);
    assert_eq!(t.get(id).unwrap().timeout, TEMPLATE_REARM_SECS);
    assert_eq!(t.lookup(&k), Some(id));
    // The last connection goes at 130 s: the template dies at its next re-arm (160 s).
    t.detach(id, 130 * S);
    assert!(drain(&mut t, 160 * S - 1).is_empty());
    let gone = drain(&mut t, 160 * S);
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].to.dest, 0);
    assert_eq!(t.lookup(&k), None);
    assert!(t.is_empty());
}

#[test]
fn a_template_is_gone_at_its_deadline_whatever_the_wheel_did() {
    // No `expire` call at all: the lookup alone applies the clock.
    let mut t = TemplateTable::new(4);
    let k = key(Ipv4Addr::new(198, 51, 100, 2), MASK32, 80);
    let id = t.create(k, to(1, 2), 300, 0).unwrap();
    t.attach(id, 0);
    t.detach(id, 10 * S);
    assert_eq!(t.lookup_at(&k, 299 * S, |_| panic!("alive")), Some(id));
    let mut gone = None;
    assert_eq!(t.lookup_at(&k, 301 * S, |x| gone = Some(*x)), None);
    assert_eq!(gone.map(|g| (g.to.service, g.to.dest)), Some((1, 2)));
    assert!(t.is_empty());
    // A new template for the key can be made at once.
    t.create(k, to(1, 3), 300, 301 * S).unwrap();
}

#[test]
fn a_late_lookup_sees_the_rearms_the_kernel_timer_would_have_made() {
    let mut t = TemplateTable::new(4);
    let k = key(Ipv4Addr::new(198, 51, 100, 3), MASK32, 80);
    let id = t.create(k, to(0, 0), 300, 0).unwrap();
    t.attach(id, 0);
    // Still controlling at 400 s: re-armed at 300 to 360, then to 420.
    assert_eq!(t.lookup_at(&k, 400 * S, |_| panic!("alive")), Some(id));
    assert_eq!(t.get(id).unwrap().expires, 420 * S);
    // Its connection ended at 410 s: gone at 420 s.
    t.detach(id, 410 * S);
    assert_eq!(t.lookup_at(&k, 419 * S, |_| panic!("alive")), Some(id));
    assert_eq!(t.lookup_at(&k, 420 * S, |_| {}), None);
}

#[test]
fn attaching_refreshes_the_timeout() {
    let mut t = TemplateTable::new(4);
    let id = t
        .create(key(Ipv4Addr::new(1, 1, 1, 1), MASK32, 80), to(0, 0), 360, 0)
        .unwrap();
    t.attach(id, 300 * S);
    t.detach(id, 301 * S);
    assert!(drain(&mut t, 659 * S).is_empty());
    assert_eq!(drain(&mut t, 660 * S).len(), 1);
}

#[test]
fn invalidated_template_is_not_found_but_outlives_its_connections() {
    let mut t = TemplateTable::new(4);
    let k = key(Ipv4Addr::new(1, 1, 1, 1), MASK32, 80);
    let id = t.create(k, to(0, 0), 360, 0).unwrap();
    t.attach(id, 0);
    t.invalidate(id, 10 * S);
    assert_eq!(t.lookup(&k), None);
    assert!(!t.get(id).unwrap().is_valid());
    // A fresh template for the same key can coexist.
    let id2 = t.create(k, to(0, 1), 360, 10 * S).unwrap();
    assert_ne!(id, id2);
    t.attach(id2, 10 * S);
    assert!(
        drain(&mut t, 10 * S).is_empty(),
        "still controls a connection"
    );
    t.detach(id, 20 * S);
    assert_eq!(drain(&mut t, 370 * S).len(), 1);
    assert_eq!(t.lookup(&k), Some(id2));
}

#[test]
fn template_table_is_bounded_and_budgeted() {
    let mut t = TemplateTable::new(100);
    for i in 0..100u32 {
        t.create(key(Ipv4Addr::from(i), MASK32, 80), to(0, 0), 1, 0)
            .unwrap();
    }
    assert_eq!(
        t.create(key(Ipv4Addr::from(1000), MASK32, 80), to(0, 0), 1, 0),
        Err(InsertError::Full)
    );
    assert_eq!(t.expire(S, 30, |_| {}), 30);
    assert_eq!(t.len(), 70);
    assert_eq!(drain(&mut t, S).len(), 70);
    t.create(key(Ipv4Addr::from(1000), MASK32, 80), to(0, 0), 1, S)
        .unwrap();
}

#[test]
fn connections_remember_their_template() {
    let mut tpl = TemplateTable::new(4);
    let mut conns = ConnTable::new(4, Timeouts::default());
    let tid = tpl
        .create(key(client(1), MASK32, 80), to(0, 0), 360, 0)
        .unwrap();
    let cid = conns.insert(nat_conn(Proto::Tcp, 1, 0), 0).unwrap();
    conns.set_template(cid, Some(tid));
    tpl.attach(tid, 0);
    let mut released = Vec::new();
    while conns.expire(10 * S, 10, |c| {
        released.extend(c.template().map(|t| (t, c.expires)))
    }) > 0
    {}
    for (t, at) in released {
        tpl.detach(t, at);
    }
    assert_eq!(tpl.get(tid).unwrap().controls, 0);
}

// ---- local port pool ----

fn laddrs() -> Vec<Ipv4Addr> {
    vec![Ipv4Addr::new(10, 20, 0, 10), Ipv4Addr::new(10, 20, 0, 11)]
}

#[test]
fn pool_owns_exactly_the_core_ports() {
    let mask = 0x3; // 4 cores
    let mut pools: Vec<LocalPortPool> = (0..4)
        .map(|c| LocalPortPool::new(&laddrs(), c, mask))
        .collect();
    let per_core = (65536 - 1024) / 4 * 2;
    for (core, p) in pools.iter_mut().enumerate() {
        assert_eq!(p.capacity(), per_core);
        assert_eq!(p.available(), per_core);
        let mut seen = std::collections::HashSet::new();
        while let Some((a, port)) = p.take() {
            assert_eq!(port & mask, core as u16);
            assert_eq!(port_owner(port, mask), core as u16);
            assert!(port >= 1024);
            assert!(laddrs().contains(&a));
            assert!(seen.insert((a, port)), "handed out twice");
        }
        assert_eq!(seen.len(), per_core);
        assert_eq!(p.take(), None, "exhausted");
    }
}

#[test]
fn pool_give_back_fifo_and_errors() {
    let mut p = LocalPortPool::with_range(&laddrs(), 1, 0x1, 2000..=2009).unwrap();
    // Odd ports 2001..2009 on two addresses.
    assert_eq!(p.capacity(), 10);
    let first = p.take().unwrap();
    let second = p.take().unwrap();
    assert_ne!(first.0, second.0, "addresses are interleaved");
    let mut rest = Vec::new();
    while let Some(x) = p.take() {
        rest.push(x);
    }
    assert_eq!(p.take(), None);
    p.give_back(first.0, first.1).unwrap();
    p.give_back(second.0, second.1).unwrap();
    assert_eq!(
        p.give_back(first.0, first.1),
        Err(PortPoolError::AlreadyFree(first.0, first.1))
    );
    assert_eq!(
        p.give_back(first.0, 2002),
        Err(PortPoolError::NotOwned(first.0, 2002))
    );
    assert_eq!(
        p.give_back(first.0, 3001),
        Err(PortPoolError::NotOwned(first.0, 3001))
    );
    let stranger = Ipv4Addr::new(9, 9, 9, 9);
    assert_eq!(
        p.give_back(stranger, 2001),
        Err(PortPoolError::NotOwned(stranger, 2001))
    );
    assert!(p.owns(first.0, 2003) && !p.owns(stranger, 2003));
    // First freed, first reused.
    assert_eq!(p.take(), Some(first));
    p.give_back(rest[0].0, rest[0].1).unwrap();
    assert_eq!(p.take(), Some(second));
    assert_eq!(p.take(), Some(rest[0]));
    assert_eq!(p.available(), 0);
}

#[test]
fn pool_edge_cases() {
    assert_eq!(
        LocalPortPool::with_range(&laddrs(), 0, 0, std::ops::RangeInclusive::new(10, 5)).err(),
        Some(PortPoolError::EmptyRange(10, 5))
    );
    // A core id with bits outside the mask owns nothing.
    let mut p = LocalPortPool::new(&laddrs(), 4, 0x3);
    assert_eq!(p.take(), None);
    // No addresses: nothing to hand out.
    let mut p = LocalPortPool::new(&[], 0, 0);
    assert_eq!(p.capacity(), 0);
    assert_eq!(p.take(), None);
    // Port 0 is never handed out, duplicates count once.
    let a = Ipv4Addr::new(1, 2, 3, 4);
    let mut p = LocalPortPool::with_range(&[a, a], 0, 0, 0..=3).unwrap();
    assert_eq!(p.capacity(), 3);
    assert_eq!(p.take(), Some((a, 1)));
}

#[test]
fn pool_take_and_give_back_are_constant_time() {
    // 64 addresses x 64512 ports on one core: if take/give_back scanned, this
    // churn of 2 M operations would be far too slow for the test to finish.
    let addrs: Vec<Ipv4Addr> = (0..64).map(|i| Ipv4Addr::new(10, 30, 0, i)).collect();
    let mut p = LocalPortPool::new(&addrs, 0, 0);
    assert_eq!(p.capacity(), 64 * 64512);
    let mut held = std::collections::VecDeque::new();
    for _ in 0..1_000_000 {
        held.push_back(p.take().unwrap());
        if held.len() > 1000 {
            let (a, port) = held.pop_front().unwrap();
            p.give_back(a, port).unwrap();
        }
    }
    assert_eq!(p.available(), p.capacity() - held.len());
}
