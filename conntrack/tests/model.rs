//! Property test: the table against a naive model (a map with explicit deadlines).
//! Checks that connections expire exactly when their deadline passes, never early or
//! late, whatever mix of inserts, packets, removals and clock jumps happens.

mod common;

use std::collections::HashMap;

use common::*;
use conntrack::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Insert(u32, bool),
    Packet(u32, bool, u8),
    Remove(u32),
    Advance(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u32..64, any::<bool>()).prop_map(|(i, udp)| Op::Insert(i, udp)),
        (0u32..128, any::<bool>(), any::<u8>()).prop_map(|(k, out, f)| Op::Packet(k, out, f)),
        (0u32..128).prop_map(Op::Remove),
        prop_oneof![0u64..50, 0u64..5_000, 0u64..1_000_000].prop_map(Op::Advance),
    ]
}

/// Model key k: flow number k / 2, UDP when k is odd.
fn flow(k: u32) -> NewConn {
    nat_conn(if k & 1 == 1 { Proto::Udp } else { Proto::Tcp }, k / 2, 0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn table_matches_model(ops in proptest::collection::vec(op(), 1..300)) {
        let mut to = Timeouts::default();
        // Short timeouts so clock jumps cross many deadlines.
        for s in TcpState::ALL { to.set_tcp_state(s, 1 + s as u32 % 5); }
        to.udp = 3;
        let mut t = ConnTable::new(32, to);
        let mut model: HashMap<u32, (ConnId, Millis)> = HashMap::new();
        let mut now: Millis = 0;
        for op in ops {
            match op {
                Op::Insert(i, udp) => {
                    let i = i * 2 + u32::from(udp);
                    let nc = flow(i);
                    match t.insert(nc, now) {
                        Ok(id) => {
                            prop_assert!(!model.contains_key(&i));
                            model.insert(i, (id, now + NEW_CONN_TIMEOUT_MS));
                        }
                        Err(InsertError::Exists) => prop_assert!(model.contains_key(&i)),
                        Err(InsertError::Full) => prop_assert_eq!(model.len(), 32),
                    }
                }
                Op::Packet(i, out, f) => {
                    if let Some((id, exp)) = model.get_mut(&i) {
                        let dir = if out { Dir::Out } else { Dir::In };
                        let tr = t.update(*id, dir, TcpFlags(f), now);
                        let c = t.get(*id).unwrap();
                        let secs = if c.proto() == Proto::Udp { to.udp } else { to.tcp_state(tr.to) };
                        *exp = now + u64::from(secs) * 1000;
                        prop_assert_eq!(c.expires, *exp);
                    }
                }
                Op::Remove(i) => {
                    if let Some((id, _)) = model.remove(&i) {
                        prop_assert!(t.remove(id).is_some());
                    }
                }
                Op::Advance(dt) => {
                    now += dt;
                    let mut gone = Vec::new();
                    while t.expire(now, 7, |c| gone.push(c.orig)) > 0 {}
                    let mut want: Vec<u32> = model.iter().filter(|(_, (_, e))| *e <= now).map(|(i, _)| *i).collect();
                    want.sort_unstable();
                    let mut got: Vec<u32> = gone
                        .iter()
                        .map(|o| model.keys().copied().find(|i| flow(*i).orig == *o).unwrap_or(u32::MAX))
                        .collect();
                    got.sort_unstable();
                    prop_assert_eq!(&got, &want);
                    for i in want { model.remove(&i); }
                }
            }
            prop_assert_eq!(t.len(), model.len());
            for (i, (id, _)) in &model {
                let nc = flow(*i);
                prop_assert_eq!(t.lookup(&nc.orig), Some((*id, Dir::In)));
                prop_assert_eq!(t.lookup(&nc.reply), Some((*id, Dir::Out)));
            }
        }
    }
}
