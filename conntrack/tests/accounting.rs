//! Per-RS ActiveConn/InActConn accounting through whole lifecycles, driven only by
//! what the table reports (Transitions and on_expire), the way the dataplane does it.

mod common;

use common::*;
use conntrack::*;

const S: Millis = 1000;
const SYN: u8 = TcpFlags::SYN;
const SYNACK: u8 = TcpFlags::SYN | TcpFlags::ACK;
const ACK: u8 = TcpFlags::ACK;
const FIN: u8 = TcpFlags::FIN | TcpFlags::ACK;
const RST: u8 = TcpFlags::RST;

struct Harness {
    table: ConnTable,
    counters: Counters,
}

impl Harness {
    fn new() -> Self {
        Harness {
            table: ConnTable::new(1024, Timeouts::default()),
            counters: Counters::new(4),
        }
    }

    fn open(&mut self, nc: NewConn, now: Millis) -> ConnId {
        let id = self.table.insert(nc, now).unwrap();
        self.counters.on_insert(nc.dest);
        id
    }

    fn pkt(&mut self, id: ConnId, dir: Dir, flags: u8, now: Millis) -> TcpState {
        let dest = self.table.get(id).unwrap().dest;
        let t = self.table.update(id, dir, TcpFlags(flags), now);
        self.counters.on_transition(dest, t);
        t.to
    }

    fn tick(&mut self, now: Millis) -> usize {
        let c = &mut self.counters;
        let mut n = 0;
        loop {
            let k = self.table.expire(now, 16, |conn| c.on_gone(conn));
            if k == 0 {
                return n;
            }
            n += k;
        }
    }

    fn remove(&mut self, id: ConnId) {
        let c = self.table.remove(id).unwrap();
        self.counters.on_gone(&c);
    }

    /// Counters must always equal a recount over the live table.
    fn check(&self) {
        let mut recount = Counters::new(4);
        for c in self.table.iter() {
            if c.is_active() {
                recount.active[c.dest as usize] += 1;
            } else {
                recount.inactive[c.dest as usize] += 1;
            }
        }
        assert_eq!(self.counters, recount);
    }
}

#[test]
fn nat_handshake_data_and_close_from_client() {
    let mut h = Harness::new();
    let id = h.open(nat_conn(Proto::Tcp, 1, 0), 0);
    assert_eq!(h.counters.get(0), (0, 1), "new conns start inactive");
    assert_eq!(h.pkt(id, Dir::In, SYN, 0), TcpState::SynRecv);
    assert_eq!(h.counters.get(0), (1, 0));
    assert_eq!(h.pkt(id, Dir::Out, SYNACK, 1), TcpState::SynRecv);
    assert_eq!(h.pkt(id, Dir::In, ACK, 2), TcpState::Established);
    for t in 3..10 {
        h.pkt(id, Dir::In, ACK | TcpFlags::PSH, t);
        h.pkt(id, Dir::Out, ACK, t);
    }
    assert_eq!(h.counters.get(0), (1, 0));
    assert_eq!(h.pkt(id, Dir::In, FIN, 10), TcpState::CloseWait);
    assert_eq!(h.counters.get(0), (0, 1));
    assert_eq!(h.pkt(id, Dir::Out, ACK, 11), TcpState::CloseWait);
    assert_eq!(h.pkt(id, Dir::Out, FIN, 12), TcpState::TimeWait);
    assert_eq!(h.pkt(id, Dir::In, ACK, 13), TcpState::TimeWait);
    h.check();
    assert_eq!(h.tick(13 + 120 * S - 1), 0);
    assert_eq!(h.tick(13 + 120 * S), 1);
    assert_eq!(h.counters.get(0), (0, 0));
}

#[test]
fn close_from_server_side() {
    let mut h = Harness::new();
    let id = h.open(nat_conn(Proto::Tcp, 1, 1), 0);
    h.pkt(id, Dir::In, SYN, 0);
    h.pkt(id, Dir::Out, SYNACK, 0);
    h.pkt(id, Dir::In, ACK, 0);
    assert_eq!(h.pkt(id, Dir::Out, FIN, 1), TcpState::FinWait);
    assert_eq!(h.counters.get(1), (0, 1));
    assert_eq!(h.pkt(id, Dir::In, ACK, 2), TcpState::FinWait);
    assert_eq!(h.pkt(id, Dir::In, FIN, 3), TcpState::TimeWait);
    h.check();
    h.tick(3 + 120 * S);
    assert_eq!(h.counters.get(1), (0, 0));
}

#[test]
fn reset_mid_connection_and_timeout_of_half_open() {
    let mut h = Harness::new();
    let a = h.open(nat_conn(Proto::Tcp, 1, 0), 0);
    h.pkt(a, Dir::In, SYN, 0);
    h.pkt(a, Dir::Out, SYNACK, 0);
    h.pkt(a, Dir::In, ACK, 0);
    assert_eq!(h.pkt(a, Dir::Out, RST, 5), TcpState::Close);
    assert_eq!(h.counters.get(0), (0, 1));

    // A SYN flood entry that never completes: active in SYN_RECV, then times out.
    let b = h.open(nat_conn(Proto::Tcp, 2, 0), 0);
    h.pkt(b, Dir::In, SYN, 0);
    assert_eq!(h.counters.get(0), (1, 1));
    h.check();
    assert_eq!(h.tick(5 + 10 * S), 1, "CLOSE lasts 10 s");
    assert_eq!(h.counters.get(0), (1, 0));
    assert_eq!(h.tick(60 * S), 1, "SYN_RECV lasts 60 s");
    assert_eq!(h.counters.get(0), (0, 0));
}

#[test]
fn dr_lifecycle_uses_input_only_table() {
    let mut h = Harness::new();
    let id = h.open(dr_conn(1, 2), 0);
    assert_eq!(h.pkt(id, Dir::In, SYN, 0), TcpState::SynRecv);
    assert_eq!(h.pkt(id, Dir::In, ACK, 1), TcpState::Established);
    assert_eq!(h.counters.get(2), (1, 0));
    assert_eq!(h.pkt(id, Dir::In, FIN, 2), TcpState::FinWait);
    assert_eq!(h.counters.get(2), (0, 1));
    assert_eq!(h.pkt(id, Dir::In, ACK, 3), TcpState::FinWait);
    h.check();
    h.tick(3 + 120 * S);
    assert_eq!(h.counters.get(2), (0, 0));
}

#[test]
fn udp_is_always_inactive() {
    let mut h = Harness::new();
    let id = h.open(nat_conn(Proto::Udp, 1, 3), 0);
    for t in 0..5 {
        h.pkt(id, Dir::In, 0, t * S);
        h.pkt(id, Dir::Out, 0, t * S);
        assert_eq!(h.counters.get(3), (0, 1));
    }
    h.tick(4 * S + 300 * S);
    assert_eq!(h.counters.get(3), (0, 0));
}

#[test]
fn removal_and_many_mixed_connections_stay_consistent() {
    let mut h = Harness::new();
    let mut ids = Vec::new();
    for i in 0..400u32 {
        let proto = if i % 5 == 0 { Proto::Udp } else { Proto::Tcp };
        let nc = if i % 7 == 0 {
            dr_conn(i, i % 4)
        } else {
            nat_conn(proto, i, i % 4)
        };
        ids.push(h.open(nc, 0));
    }
    let script: [(Dir, u8); 6] = [
        (Dir::In, SYN),
        (Dir::Out, SYNACK),
        (Dir::In, ACK),
        (Dir::In, FIN),
        (Dir::Out, RST),
        (Dir::Out, FIN),
    ];
    for (k, id) in ids.iter().enumerate() {
        for (dir, f) in script.iter().take(k % 7) {
            h.pkt(*id, *dir, *f, k as Millis);
        }
    }
    h.check();
    for id in ids.iter().step_by(3) {
        h.remove(*id);
    }
    h.check();
    let mut now = 0;
    while !h.table.is_empty() {
        now += 7 * S;
        h.tick(now);
        h.check();
    }
    assert_eq!(h.counters, Counters::new(4));
}
