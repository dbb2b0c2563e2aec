//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::net::Ipv4Addr;

use conntrack::{Conn, NewConn, Proto, TemplateDest, Transition, Tuple};

pub const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
pub const RS: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 2);

pub fn client(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x0b00_0000 | (i >> 14))
}

/// A NAT connection number `i` (distinct client address/port per i).
pub fn nat_conn(proto: Proto, i: u32, dest: u32) -> NewConn {
    let c = client(i);
    let cport = 1024 + (i & 0x3fff) as u16;
    NewConn {
        orig: Tuple::new(proto, c, cport, VIP, 80),
        reply: Tuple::new(proto, RS, 8080, c, cport),
        service: 0,
        dest,
        input_only: false,
        tag: 7,
    }
}

/// A DR connection: replies bypass the director.
pub fn dr_conn(i: u32, dest: u32) -> NewConn {
    NewConn {
        input_only: true,
        ..nat_conn(Proto::Tcp, i, dest)
    }
}

/// Per-RS ActiveConn / InActConn counters kept the way the dataplane will keep them:
/// +1 inactive on insert, move on Transition, -1 on expiry/removal.
#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct Counters {
    pub active: Vec<i64>,
    pub inactive: Vec<i64>,
}

impl Counters {
    pub fn new(n: usize) -> Self {
        Counters {
            active: vec![0; n],
            inactive: vec![0; n],
        }
    }

    pub fn on_insert(&mut self, dest: u32) {
        self.inactive[dest as usize] += 1;
    }

    pub fn on_transition(&mut self, dest: u32, t: Transition) {
        if t.was_active && !t.is_active {
            self.active[dest as usize] -= 1;
            self.inactive[dest as usize] += 1;
        } else if !t.was_active && t.is_active {
            self.active[dest as usize] += 1;
            self.inactive[dest as usize] -= 1;
        }
    }

    pub fn on_gone(&mut self, c: &Conn) {
        if c.is_active() {
            self.active[c.dest as usize] -= 1;
        } else {
            self.inactive[c.dest as usize] -= 1;
        }
    }

    pub fn get(&self, dest: u32) -> (i64, i64) {
        (self.active[dest as usize], self.inactive[dest as usize])
    }
}

/// Where a test template sends its clients (the address is the real's id).
pub fn to(service: u32, dest: u32) -> TemplateDest {
    TemplateDest {
        service,
        dest,
        addr: Ipv4Addr::from(0x0a01_0000 + dest),
        port: 8080,
    }
}
