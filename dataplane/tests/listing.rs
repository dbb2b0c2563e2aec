//! Connection listings (`fvsadm -Lnc`) include the persistence templates, as
//! the kernel's /proc/net/ip_vs_conn does: client port 0, state NONE, the
//! real the template sends clients to, and the time left on its timer.
mod common;

use std::net::Ipv4Addr;
use std::sync::Arc;

use common::{real, segment, snapshot, Sink, CLIENT, VIP};
use dataplane::shared::{CoreShared, ViewKind};
use dataplane::snapshot::Persistence;
use dataplane::{CoreStats, Pipeline, VecFrame};

/// A persistent service (`timeout_s`, `netmask`) whose client sent one SYN at 1 s.
fn one_syn(timeout_s: u32, netmask: Ipv4Addr) -> (Pipeline<VecFrame>, Sink, CoreShared) {
    let mut snap = snapshot(vec![real(0, 11)], false);
    snap.services[0].persistence = Some(Persistence { timeout_s, netmask });
    let stats = Arc::new(CoreStats::default());
    let mut p = Pipeline::new(0, 1, Arc::new(snap), stats.clone()).unwrap();
    let mut out = Sink::default();
    p.process(segment(40000, 0x02), 0, 1_000, &mut out);
    (p, out, CoreShared::new(stats))
}

#[test]
fn a_listing_shows_connections_then_templates() {
    let (mut p, mut out, shared) = one_syn(300, Ipv4Addr::new(255, 255, 255, 0));
    shared.request_conns();
    shared.serve(p.conns(), p.templates(), 11_000);
    let list = shared.take_conns().expect("answered");
    assert_eq!(list.len(), 2, "{list:?}");
    let (conn, tpl) = (&list[0], &list[1]);
    assert_eq!(conn.kind, ViewKind::Conn);
    assert_eq!(
        (conn.state, conn.client, conn.expire_ms),
        ("SYN_RECV", (CLIENT, 40000), 50_000)
    );
    assert_eq!(tpl.kind, ViewKind::Template);
    assert_eq!(tpl.state, "NONE");
    assert_eq!(
        tpl.client,
        (Ipv4Addr::new(10, 0, 0, 0), 0),
        "masked, port 0"
    );
    assert_eq!(tpl.virt, (VIP, 80));
    assert_eq!(tpl.dest, (Ipv4Addr::new(10, 1, 0, 11), 8080));
    assert_eq!(tpl.expire_ms, 290_000);
    // Past its timeout (301 s) while it still controls the connection (now
    // ESTABLISHED): re-armed for 60 s.
    shared.request_conns();
    p.process(segment(40000, 0x10), 0, 12_000, &mut out);
    shared.serve(p.conns(), p.templates(), 302_000);
    let list = shared.take_conns().unwrap();
    assert_eq!(list[1].expire_ms, 59_000, "{list:?}");
}

#[test]
fn a_listing_leaves_out_what_timed_out_before_the_wheel_freed_it() {
    let (mut p, _out, shared) = one_syn(30, Ipv4Addr::BROADCAST);
    // SYN_RECV ends at 61 s; no housekeeping ran, so it is still in its table.
    // The template, due at 31 s while it controlled the connection, was
    // re-armed to 91 s, as the kernel's timer would have done.
    shared.request_conns();
    shared.serve(p.conns(), p.templates(), 62_000);
    assert_eq!(p.conns().len(), 1);
    let list = shared.take_conns().unwrap();
    assert_eq!(list.len(), 1, "the connection is not listed: {list:?}");
    assert_eq!(
        (list[0].kind, list[0].expire_ms),
        (ViewKind::Template, 29_000)
    );
    // Housekeeping at 92 s frees the connection at its deadline (61 s) and
    // the template at its next firing (91 s): the listing is empty.
    p.housekeeping(92_000);
    shared.request_conns();
    shared.serve(p.conns(), p.templates(), 92_000);
    assert_eq!(shared.take_conns().unwrap(), vec![]);
    assert!(p.templates().is_empty());
}
