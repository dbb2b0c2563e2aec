//! ConnTable: lookups, capacity, timeouts with a virtual clock, re-arming, expiry
//! budgets and memory per connection.

mod common;

use common::*;
use conntrack::*;

const S: Millis = 1000;

fn syn() -> TcpFlags {
    TcpFlags(TcpFlags::SYN)
}
fn ack() -> TcpFlags {
    TcpFlags(TcpFlags::ACK)
}
fn fin() -> TcpFlags {
    TcpFlags(TcpFlags::FIN | TcpFlags::ACK)
}
fn rst() -> TcpFlags {
    TcpFlags(TcpFlags::RST)
}

fn expire_all(t: &mut ConnTable, now: Millis) -> Vec<Conn> {
    let mut out = Vec::new();
    while t.expire(now, 1000, |c| out.push(*c)) > 0 {}
    out
}

#[test]
fn lookup_from_both_directions() {
    let mut t = ConnTable::new(16, Timeouts::default());
    let nc = nat_conn(Proto::Tcp, 1, 0);
    let id = t.insert(nc, 0).unwrap();
    assert_eq!(t.lookup(&nc.orig), Some((id, Dir::In)));
    assert_eq!(t.lookup(&nc.reply), Some((id, Dir::Out)));
    assert_eq!(t.lookup(&nc.orig.reversed()), None);
    let c = t.get(id).unwrap();
    assert_eq!(
        (c.orig, c.reply, c.dest, c.tag, c.state),
        (nc.orig, nc.reply, 0, 7, TcpState::None)
    );
    assert_eq!(c.expires, NEW_CONN_TIMEOUT_MS);
    // The same tuple from another protocol is another flow.
    let mut udp = nc.orig;
    udp.proto = Proto::Udp;
    assert_eq!(t.lookup(&udp), None);
}

#[test]
fn input_only_conns_index_only_the_original() {
    let mut t = ConnTable::new(16, Timeouts::default());
    let nc = dr_conn(1, 0);
    let id = t.insert(nc, 0).unwrap();
    assert_eq!(t.lookup(&nc.orig), Some((id, Dir::In)));
    assert_eq!(t.lookup(&nc.reply), None);
    assert!(t.get(id).unwrap().input_only());
    // Removal must not disturb an unrelated conn that does index that reply tuple.
    let other = NewConn {
        orig: Tuple::new(Proto::Tcp, client(99), 5, VIP, 80),
        ..nat_conn(Proto::Tcp, 1, 0)
    };
    let id2 = t.insert(other, 0).unwrap();
    assert!(t.remove(id).is_some());
    assert_eq!(t.lookup(&other.reply), Some((id2, Dir::Out)));
}

#[test]
fn duplicate_tuples_are_refused() {
    let mut t = ConnTable::new(16, Timeouts::default());
    let nc = nat_conn(Proto::Tcp, 1, 0);
    t.insert(nc, 0).unwrap();
    assert_eq!(t.insert(nc, 0), Err(InsertError::Exists));
    let clash_reply = NewConn {
        orig: Tuple::new(Proto::Tcp, client(2), 9, VIP, 80),
        ..nc
    };
    assert_eq!(t.insert(clash_reply, 0), Err(InsertError::Exists));
    assert_eq!(t.len(), 1);
}

#[test]
fn full_at_capacity_and_existing_keep_working() {
    let cap = 1000;
    let mut t = ConnTable::new(cap, Timeouts::default());
    let ids: Vec<ConnId> = (0..cap as u32)
        .map(|i| t.insert(nat_conn(Proto::Tcp, i, 0), 0).unwrap())
        .collect();
    assert_eq!(t.len(), cap);
    assert_eq!(
        t.insert(nat_conn(Proto::Tcp, 5000, 0), 0),
        Err(InsertError::Full)
    );
    for (i, id) in ids.iter().enumerate() {
        let nc = nat_conn(Proto::Tcp, i as u32, 0);
        assert_eq!(t.lookup(&nc.orig), Some((*id, Dir::In)));
        assert_eq!(t.lookup(&nc.reply), Some((*id, Dir::Out)));
        let tr = t.update(*id, Dir::In, syn(), 1);
        assert_eq!(tr.to, TcpState::SynRecv);
    }
    // Freeing one slot makes room for exactly one more.
    t.remove(ids[10]).unwrap();
    assert!(t.get(ids[10]).is_none());
    t.insert(nat_conn(Proto::Tcp, 5000, 0), 2).unwrap();
    assert_eq!(
        t.insert(nat_conn(Proto::Tcp, 5001, 0), 2),
        Err(InsertError::Full)
    );
}

#[test]
fn zero_capacity_is_always_full() {
    let mut t = ConnTable::new(0, Timeouts::default());
    assert_eq!(
        t.insert(nat_conn(Proto::Udp, 1, 0), 0),
        Err(InsertError::Full)
    );
    assert_eq!(t.expire(10, 10, |_| {}), 0);
}

/// Puts a fresh TCP conn into `state` by driving the kernel tables, then checks it
/// expires exactly `timeout` after the last packet.
#[test]
fn each_state_expires_exactly_on_its_timeout() {
    let mut to = Timeouts::default();
    // Distinct timeouts per state so a wrong lookup shows.
    for (i, s) in TcpState::ALL.into_iter().enumerate() {
        to.set_tcp_state(s, 10 + i as u32);
    }
    // Packet sequences (dir, flags) that reach each state from NONE (LAST_ACK and
    // LISTEN are never entered by the tables, SYNACK only with secure_tcp).
    let paths: Vec<(TcpState, Vec<(Dir, TcpFlags)>)> = vec![
        (TcpState::SynRecv, vec![(Dir::In, syn())]),
        (
            TcpState::Established,
            vec![
                (Dir::In, syn()),
                (Dir::Out, TcpFlags(0x12)),
                (Dir::In, ack()),
            ],
        ),
        (TcpState::SynSent, vec![(Dir::Out, syn())]),
        (
            TcpState::FinWait,
            vec![(Dir::In, syn()), (Dir::In, ack()), (Dir::Out, fin())],
        ),
        (
            TcpState::CloseWait,
            vec![(Dir::In, syn()), (Dir::In, ack()), (Dir::In, fin())],
        ),
        (
            TcpState::TimeWait,
            vec![
                (Dir::In, syn()),
                (Dir::In, ack()),
                (Dir::In, fin()),
                (Dir::Out, fin()),
            ],
        ),
        (
            TcpState::Close,
            vec![(Dir::In, syn()), (Dir::In, ack()), (Dir::In, rst())],
        ),
    ];
    for (want, path) in paths {
        let mut t = ConnTable::new(4, to);
        let id = t.insert(nat_conn(Proto::Tcp, 1, 0), 0).unwrap();
        let mut now = 0;
        for (dir, f) in path {
            now += 500;
            t.update(id, dir, f, now);
        }
        let c = *t.get(id).unwrap();
        assert_eq!(c.state, want);
        let deadline = now + Millis::from(to.tcp_state(want)) * S;
        assert_eq!(c.expires, deadline);
        assert_eq!(t.expire(deadline - 1, 100, |_| {}), 0, "{want:?} early");
        assert!(t.get(id).is_some());
        let gone = expire_all(&mut t, deadline);
        assert_eq!(gone.len(), 1, "{want:?}");
        assert_eq!(gone[0].state, want);
        assert!(t.is_empty());
    }
}

#[test]
fn new_conn_without_packets_expires_after_three_seconds() {
    let mut t = ConnTable::new(4, Timeouts::default());
    t.insert(nat_conn(Proto::Tcp, 1, 0), 1_000).unwrap();
    assert!(expire_all(&mut t, 3_999).is_empty());
    assert_eq!(expire_all(&mut t, 4_000).len(), 1);
}

#[test]
fn packets_rearm_the_timer() {
    let mut t = ConnTable::new(4, Timeouts::default());
    let id = t.insert(nat_conn(Proto::Tcp, 1, 0), 0).unwrap();
    t.update(id, Dir::In, syn(), 0);
    t.update(id, Dir::Out, TcpFlags(0x12), 1);
    t.update(id, Dir::In, ack(), 2);
    // ESTABLISHED (900 s): keep it alive with a packet every 100 s for an hour.
    let mut now = 2;
    while now < 3_600 * S {
        now += 100 * S;
        assert!(expire_all(&mut t, now).is_empty(), "died at {now}");
        t.update(id, Dir::In, ack(), now);
    }
    assert!(expire_all(&mut t, now + 900 * S - 1).is_empty());
    assert_eq!(expire_all(&mut t, now + 900 * S).len(), 1);
}

#[test]
fn shorter_timeout_after_state_change_fires_early_enough() {
    let mut t = ConnTable::new(4, Timeouts::default());
    let id = t.insert(nat_conn(Proto::Tcp, 1, 0), 0).unwrap();
    t.update(id, Dir::In, syn(), 0);
    t.update(id, Dir::In, ack(), 0); // ESTABLISHED, due at 900 s
    t.update(id, Dir::In, rst(), 1_000); // CLOSE, 10 s
    assert!(expire_all(&mut t, 10_999).is_empty());
    assert_eq!(expire_all(&mut t, 11_000).len(), 1);
}

#[test]
fn udp_uses_one_state_and_the_udp_timeout() {
    let mut to = Timeouts::default();
    to.set_tcp_tcpfin_udp(0, 0, 30);
    let mut t = ConnTable::new(4, to);
    let id = t.insert(nat_conn(Proto::Udp, 1, 0), 0).unwrap();
    for (i, dir) in [Dir::In, Dir::Out, Dir::In].into_iter().enumerate() {
        let tr = t.update(id, dir, TcpFlags(0), i as Millis * S);
        assert_eq!(
            (tr.from, tr.to, tr.was_active, tr.is_active),
            (TcpState::None, TcpState::None, false, false)
        );
    }
    let c = t.get(id).unwrap();
    assert_eq!(c.state_name(), "UDP");
    assert_eq!(c.expires, 2 * S + 30 * S);
    assert!(expire_all(&mut t, 32 * S - 1).is_empty());
    assert_eq!(expire_all(&mut t, 32 * S).len(), 1);
}

#[test]
fn set_timeouts_applies_from_the_next_packet() {
    let mut t = ConnTable::new(4, Timeouts::default());
    let id = t.insert(nat_conn(Proto::Tcp, 1, 0), 0).unwrap();
    t.update(id, Dir::In, syn(), 0);
    t.update(id, Dir::In, ack(), 0);
    let mut to = *t.timeouts();
    to.set_tcp_tcpfin_udp(5, 0, 0);
    t.set_timeouts(to);
    assert_eq!(t.get(id).unwrap().expires, 900 * S);
    t.update(id, Dir::In, ack(), 1_000);
    assert_eq!(t.get(id).unwrap().expires, 6_000);
    assert_eq!(expire_all(&mut t, 6_000).len(), 1);
}

#[test]
fn input_only_until_a_reply_is_seen() {
    let mut t = ConnTable::new(4, Timeouts::default());
    let id = t.insert(dr_conn(1, 0), 0).unwrap();
    t.update(id, Dir::In, syn(), 0);
    t.update(id, Dir::In, ack(), 1);
    // INPUT-ONLY: a client FIN moves ESTABLISHED to FIN_WAIT (INPUT would say CLOSE_WAIT).
    let tr = t.update(id, Dir::In, fin(), 2);
    assert_eq!(tr.to, TcpState::FinWait);

    let id2 = t.insert(dr_conn(2, 0), 0).unwrap();
    t.update(id2, Dir::In, syn(), 0);
    t.update(id2, Dir::Out, TcpFlags(0x12), 1);
    assert!(!t.get(id2).unwrap().input_only());
    t.update(id2, Dir::In, ack(), 2);
    assert_eq!(t.update(id2, Dir::In, fin(), 3).to, TcpState::CloseWait);
}

#[test]
fn secure_tcp_switches_tables() {
    let mut t = ConnTable::new(4, Timeouts::default());
    t.set_secure_tcp(true);
    let id = t.insert(dr_conn(1, 0), 0).unwrap();
    assert_eq!(t.update(id, Dir::In, syn(), 0).to, TcpState::SynAck);
}

#[test]
fn unknown_ids_are_harmless() {
    let mut t = ConnTable::new(4, Timeouts::default());
    let id = t.insert(nat_conn(Proto::Tcp, 1, 0), 0).unwrap();
    t.remove(id).unwrap();
    assert!(t.remove(id).is_none());
    let tr = t.update(id, Dir::In, syn(), 0);
    assert_eq!(tr.to, TcpState::None);
    assert!(t.get(id).is_none());
    assert_eq!(expire_all(&mut t, u64::MAX).len(), 0);
}

#[test]
fn expire_respects_budget() {
    let mut t = ConnTable::new(1000, Timeouts::default());
    for i in 0..1000 {
        t.insert(nat_conn(Proto::Udp, i, 0), 0).unwrap();
    }
    assert_eq!(t.expire(10 * S, 64, |_| {}), 64);
    assert_eq!(t.len(), 936);
    assert_eq!(t.expire(10 * S, 0, |_| {}), 0);
    let mut total = 64;
    while !t.is_empty() {
        let n = t.expire(10 * S, 100, |_| {});
        assert!(n <= 100 && n > 0);
        total += n;
    }
    assert_eq!(total, 1000);
}

#[test]
fn a_million_simultaneous_expiries_in_bounded_chunks() {
    let n = 1_000_000u32;
    let mut t = ConnTable::new(n as usize, Timeouts::default());
    for i in 0..n {
        let id = t.insert(nat_conn(Proto::Udp, i, 0), 0).unwrap();
        t.update(id, Dir::In, TcpFlags(0), 0);
    }
    let due = 300 * S;
    assert_eq!(t.expire(due - 1, 1024, |_| {}), 0);
    let mut calls = 0;
    let mut gone = 0usize;
    loop {
        let k = t.expire(due, 1024, |c| assert!(c.expires <= due));
        assert!(k <= 1024);
        if k == 0 {
            break;
        }
        gone += k;
        calls += 1;
    }
    assert_eq!(gone, n as usize);
    assert!(calls >= n as usize / 1024);
    assert!(t.is_empty());
    // The table is reusable afterwards.
    t.insert(nat_conn(Proto::Tcp, 1, 0), due).unwrap();
}

#[test]
fn iter_lists_live_connections() {
    let mut t = ConnTable::new(8, Timeouts::default());
    let a = t.insert(nat_conn(Proto::Tcp, 1, 0), 0).unwrap();
    let b = t.insert(nat_conn(Proto::Udp, 2, 1), 0).unwrap();
    t.remove(a);
    let live: Vec<_> = t.iter().map(|c| c.dest).collect();
    assert_eq!(live, vec![1]);
    assert_eq!(t.iter_ids().next().map(|(id, _)| id), Some(b));
}

#[test]
fn memory_per_connection_is_at_most_128_bytes() {
    // Worst case for a power-of-two bucket array is just past a power of two.
    for cap in [
        1_000usize,
        1 << 16,
        (1 << 16) + 1,
        100_000,
        1_000_000,
        (1 << 20) + 1,
        10_000_000,
    ] {
        let b = ConnTable::bytes_per_conn_for(cap);
        assert!(b <= 128, "capacity {cap}: {b} bytes/conn");
    }
    // The estimate is the measured allocation.
    for cap in [1_000usize, (1 << 16) + 1, 200_000] {
        let t = ConnTable::new(cap, Timeouts::default());
        assert_eq!(
            t.memory_bytes(),
            ConnTable::memory_bytes_for(cap),
            "capacity {cap}"
        );
        assert!(t.bytes_per_conn() <= 128);
    }
}

/// `update`'s fast path (ESTABLISHED + plain ACK) must agree with the state
/// tables in every table and mode, and still leave INPUT-ONLY on a reply.
#[test]
fn established_ack_fast_path_agrees_with_the_tables() {
    for secure in [false, true] {
        for (input_only, dir) in [
            (false, Dir::In),
            (false, Dir::Out),
            (true, Dir::In),
            (true, Dir::Out),
        ] {
            let mut t = ConnTable::new(8, Timeouts::default());
            t.set_secure_tcp(secure);
            let mut c = nat_conn(Proto::Tcp, 1, 0);
            c.input_only = input_only;
            let id = t.insert(c, 0).unwrap();
            t.update(id, Dir::In, syn(), 0);
            t.update(id, Dir::In, ack(), 1);
            let before = t.get(id).unwrap().state;
            let table = match (dir, input_only) {
                (Dir::Out, _) => StateTable::Output,
                (Dir::In, true) => StateTable::InputOnly,
                (Dir::In, false) => StateTable::Input,
            };
            let expected = next_tcp_state(secure, table, before, ack());
            let tr = t.update(id, dir, ack(), 2);
            assert_eq!(
                tr.to, expected,
                "secure={secure} input_only={input_only} {dir:?}"
            );
            if dir == Dir::Out {
                assert!(
                    !t.get(id).unwrap().input_only(),
                    "a reply leaves INPUT-ONLY"
                );
            }
        }
    }
}

/// `lookup_burst` answers exactly what `lookup` answers, for hits in both
/// directions, misses, input-only connections and bursts longer than a chunk.
#[test]
fn burst_lookup_agrees_with_single_lookups() {
    let mut t = ConnTable::with_options(4096, Timeouts::default(), 11, Backing::Lazy);
    let mut keys = Vec::new();
    for i in 0..3000u32 {
        let mut c = nat_conn(if i % 3 == 0 { Proto::Udp } else { Proto::Tcp }, i, i);
        c.input_only = i % 7 == 0;
        t.insert(c, 0).unwrap();
        keys.push(c.orig);
        keys.push(c.reply);
        keys.push(c.orig.reversed());
    }
    // Free some so that reused slots and emptied index slots are exercised.
    let gone: Vec<_> = (0..3000u32)
        .step_by(5)
        .map(|i| keys[i as usize * 3])
        .collect();
    for k in &gone {
        let (id, _) = t.lookup(k).unwrap();
        t.remove(id);
    }
    for len in [1usize, 7, 31, 32, 33, 64, 100] {
        for chunk in keys.chunks(len) {
            let mut out = vec![None; chunk.len()];
            t.lookup_burst(chunk, &mut out);
            let handled = chunk.len().min(BURST);
            for (k, o) in chunk.iter().zip(&out).take(handled) {
                assert_eq!(*o, t.lookup(k), "{k:?}");
            }
            assert!(out[handled..].iter().all(Option::is_none));
        }
    }
    assert!(keys.iter().any(|k| t.lookup(k).is_some()));
    assert!(gone.iter().all(|k| t.lookup(k).is_none()));
}

/// A huge-page-backed, pre-faulted table behaves like a lazily backed one.
#[test]
fn huge_page_backing_is_transparent() {
    let mut huge = ConnTable::with_options(100_000, Timeouts::default(), 3, Backing::HugePages);
    let mut lazy = ConnTable::with_options(100_000, Timeouts::default(), 3, Backing::Lazy);
    for i in 0..50_000u32 {
        let c = nat_conn(Proto::Tcp, i, i % 4);
        assert_eq!(huge.insert(c, 0), lazy.insert(c, 0));
    }
    assert_eq!(huge.memory_bytes(), lazy.memory_bytes());
    assert_eq!(huge.len(), lazy.len());
    assert_eq!(
        huge.iter().map(|c| c.dest).sum::<u32>(),
        lazy.iter().map(|c| c.dest).sum::<u32>()
    );
}

#[test]
fn lookup_at_applies_the_clock_whatever_the_wheel_did() {
    let mut t = ConnTable::new(16, Timeouts::default());
    let nc = nat_conn(Proto::Tcp, 7, 0);
    let id = t.insert(nc, 0).unwrap();
    t.update(id, Dir::In, syn(), 0); // SYN_RECV: 60 s
    assert_eq!(
        t.lookup_at(&nc.reply, 59_999, |_| panic!("alive")),
        Some((id, Dir::Out))
    );
    let mut gone = Vec::new();
    assert_eq!(t.lookup_at(&nc.orig, 60 * S, |c| gone.push(*c)), None);
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].expires, 60 * S, "handed over with its own deadline");
    assert!(t.is_empty());
    assert_eq!(t.lookup(&nc.reply), None, "both directions unindexed");
    assert!(expire_all(&mut t, 100 * S).is_empty(), "and off the wheel");
    // The tuple can be tracked again at once.
    t.insert(nc, 60 * S).unwrap();
}

#[test]
fn only_closing_uncontrolled_tcp_entries_expect_a_new_connection() {
    let mut t = ConnTable::new(16, Timeouts::default());
    let mut tpl = TemplateTable::new(4);
    let states = |t: &mut ConnTable, i: u32, flags: &[TcpFlags]| {
        let id = t.insert(nat_conn(Proto::Tcp, i, 0), 0).unwrap();
        for f in flags {
            t.update(id, Dir::In, *f, 0);
        }
        id
    };
    let tw = states(&mut t, 1, &[syn(), fin()]);
    let cl = states(&mut t, 2, &[syn(), ack(), rst()]);
    let es = states(&mut t, 3, &[syn(), ack()]);
    let cw = states(&mut t, 4, &[syn(), ack(), fin()]);
    let name = |t: &ConnTable, id| t.get(id).unwrap().state_name();
    assert_eq!(
        [name(&t, tw), name(&t, cl), name(&t, es), name(&t, cw)],
        ["TIME_WAIT", "CLOSE", "ESTABLISHED", "CLOSE_WAIT"]
    );
    let expected = |t: &ConnTable, id| t.get(id).unwrap().reuse_expected();
    assert!(expected(&t, tw) && expected(&t, cl));
    assert!(!expected(&t, es) && !expected(&t, cw));
    let key = TemplateKey::new(
        Proto::Tcp,
        client(1),
        std::net::Ipv4Addr::BROADCAST,
        VIP,
        80,
    );
    let tid = tpl.create(key, to(0, 0), 360, 0).unwrap();
    t.set_template(tw, Some(tid));
    assert!(!expected(&t, tw), "a template controls it");
    let udp = t.insert(nat_conn(Proto::Udp, 9, 0), 0).unwrap();
    assert!(!expected(&t, udp));
    // is_new_conn: SYN and nothing else of SYN/ACK/FIN/RST.
    assert!(TcpFlags(TcpFlags::SYN | TcpFlags::PSH).is_new_conn());
    for f in [TcpFlags::ACK, TcpFlags::FIN, TcpFlags::RST] {
        assert!(!TcpFlags(TcpFlags::SYN | f).is_new_conn());
    }
}

/// One worker's tables: the connection table and, beside it, a template
/// table of half its size (at least 1024), both counted full.
#[test]
fn worker_memory_counts_connections_and_templates() {
    use conntrack::{worker_memory_bytes_for, TemplateTable};
    assert_eq!(TemplateTable::capacity_for(10), 1024);
    assert_eq!(TemplateTable::capacity_for(1_000_000), 500_000);
    for cap in [1_000usize, 1_000_000, 10_000_000] {
        let conns = ConnTable::memory_bytes_for(cap);
        let all = worker_memory_bytes_for(cap);
        let templates = TemplateTable::memory_bytes_for(TemplateTable::capacity_for(cap));
        assert_eq!(all, conns + templates, "capacity {cap}");
        // A template costs about what a connection does, and there are half as many.
        if cap >= 1_000_000 {
            assert!(all < conns * 2, "capacity {cap}: {all} vs {conns}");
        }
    }
    // Far past the table's limit the figure saturates instead of wrapping.
    assert!(worker_memory_bytes_for(usize::MAX) >= ConnTable::memory_bytes_for(1 << 30));
}
