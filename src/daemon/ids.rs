//! Stable ids for services and reals across configuration changes, so a
//! reload or an `fvsadm` edit leaves untouched services and reals (and the
//! connections that point at them) exactly where they were.
use std::collections::HashMap;
use std::net::Ipv4Addr;

use control::config::Service;

#[derive(Debug, Default)]
pub struct Ids {
    services: HashMap<String, u32>,
    reals: HashMap<(u32, Ipv4Addr, u16), u32>,
    next_real: HashMap<u32, u32>,
}

/// What identifies a service, as IPVS does: protocol, VIP and virtual ports.
fn service_key(s: &Service) -> String {
    match s.fwmark {
        Some(m) => format!("fwm|{m}"),
        None => format!(
            "{}|{}|{:?}",
            s.protocol().as_str(),
            s.vip(),
            s.port_ranges()
        ),
    }
}

impl Ids {
    /// The id of `s`, allocated on first sight. A service deleted and added
    /// again gets its old id back, like IPVS reviving a destination from its trash.
    pub fn service(&mut self, s: &Service) -> u32 {
        let next = self.services.len() as u32;
        *self.services.entry(service_key(s)).or_insert(next)
    }

    pub fn real(&mut self, service: u32, addr: Ipv4Addr, port: u16) -> u32 {
        if let Some(id) = self.reals.get(&(service, addr, port)) {
            return *id;
        }
        let next = self.next_real.entry(service).or_insert(0);
        let id = *next;
        *next += 1;
        self.reals.insert((service, addr, port), id);
        id
    }

    pub fn service_id(&self, s: &Service) -> Option<u32> {
        self.services.get(&service_key(s)).copied()
    }

    pub fn real_id(&self, service: u32, addr: Ipv4Addr, port: u16) -> Option<u32> {
        self.reals.get(&(service, addr, port)).copied()
    }
}
