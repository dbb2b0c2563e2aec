//! Shared test helpers: configurations, peer packets, action filters.
#![allow(dead_code)] // each test binary uses a different subset

pub mod machine;

use std::net::Ipv4Addr;

use vrrp::codec::{self, Advert, VRRP_GROUP};
use vrrp::{Action, ChecksumForm, InitialState, Params, State, Version};

pub const VRID: u8 = 51;

pub fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, last)
}

pub fn vips() -> Vec<Ipv4Addr> {
    vec![ip(100), ip(101)]
}

/// A backup-initial, preempting instance with address 10.0.0.`last`,
/// interval 1 s, and the two VIPs.
pub fn params(version: Version, priority: u8, last: u8) -> Params {
    Params {
        version,
        vrid: VRID,
        priority,
        advert_int_cs: 100,
        initial: InitialState::Backup,
        preempt: true,
        preempt_delay_ms: 0,
        primary: ip(last),
        addresses: vips(),
        auth_pass: None,
        unicast: false,
        send_checksum: ChecksumForm::PseudoHeader,
        garp_delay_ms: 0,
    }
}

/// The advert a peer configured like `params(version, ..)` would send.
pub fn advert(version: Version, priority: u8) -> Advert {
    Advert {
        version,
        vrid: VRID,
        priority,
        interval_cs: 100,
        addresses: vips(),
        auth_type: 0,
        auth_data: [0; 8],
    }
}

/// A whole IPv4 packet from `src` to the group, TTL 255, pseudo-header checksum.
pub fn packet(a: &Advert, src: Ipv4Addr) -> Vec<u8> {
    packet_with(a, src, 255, ChecksumForm::PseudoHeader)
}

pub fn packet_with(a: &Advert, src: Ipv4Addr, ttl: u8, form: ChecksumForm) -> Vec<u8> {
    let msg = codec::encode(a, src, VRRP_GROUP, form);
    codec::ipv4_packet(src, VRRP_GROUP, ttl, &msg)
}

pub fn transitions(out: &[Action]) -> Vec<(State, State)> {
    out.iter()
        .filter_map(|a| match a {
            Action::Transition { from, to } => Some((*from, *to)),
            _ => None,
        })
        .collect()
}

pub fn sends(out: &[Action]) -> Vec<u8> {
    out.iter()
        .filter_map(|a| match a {
            Action::SendAdvert { priority } => Some(*priority),
            _ => None,
        })
        .collect()
}
