//! Driving one instance on a virtual clock: start, receive, tick, and the
//! action lists the state machine emits.
use vrrp::codec::Advert;
use vrrp::{Action, InitialState, Instance, Params, State, Version};

use super::*;
use Action::{Garp, SendAdvert, Transition};

pub fn started(p: Params, now: u64) -> (Instance, Vec<Action>) {
    let mut i = Instance::new(p);
    let mut out = Vec::new();
    i.start(now, &mut out);
    (i, out)
}

pub fn rx(i: &mut Instance, now: u64, a: &Advert, from: u8) -> Vec<Action> {
    let mut out = Vec::new();
    i.on_packet(now, &packet(a, ip(from)), &mut out)
        .expect("advert accepted");
    out
}

pub fn tick(i: &mut Instance, now: u64) -> Vec<Action> {
    let mut out = Vec::new();
    i.on_timer(now, &mut out);
    out
}

/// What starting an instance that does not own its addresses does.
pub fn init_to_backup() -> Vec<Action> {
    vec![Transition {
        from: State::Init,
        to: State::Backup,
    }]
}

pub fn backup_to_master() -> Vec<Action> {
    became_master(100)
}

pub fn became_master(priority: u8) -> Vec<Action> {
    vec![
        Transition {
            from: State::Backup,
            to: State::Master,
        },
        SendAdvert { priority },
        Garp,
    ]
}

/// Skew_Time in microseconds: v2 `(256 - priority) / 256` s, v3
/// `(256 - priority) * interval / 256`.
pub fn skew_us(version: Version, priority: u8, interval_cs: u16) -> u64 {
    let weight = 256 - u64::from(priority);
    match version {
        Version::V2 => weight * 1_000_000 / 256,
        Version::V3 => weight * u64::from(interval_cs) * 10_000 / 256,
    }
}

/// How long an initial-MASTER instance below priority 255 waits as BACKUP
/// (keepalived 2.2.7): one advert interval plus the skew of priority 255,
/// summed in microseconds and floored to milliseconds once.
pub fn initial_master_wait_ms(p: &Params) -> u64 {
    let interval_us = u64::from(p.advert_int_cs) * 10_000;
    (interval_us + skew_us(p.version, 255, p.advert_int_cs)) / 1_000
}

/// Starts an initial-MASTER instance (priority below 255) at `now` and ticks
/// it at its deadline, checking the start-up wait on the way. Returns the
/// instance, now MASTER, and the moment it became master.
pub fn mastered(p: Params, now: u64) -> (Instance, u64) {
    assert_eq!(p.initial, InitialState::Master);
    assert!(p.priority < 255, "an owner is MASTER at start");
    let wait = initial_master_wait_ms(&p);
    let priority = p.priority;
    let (mut i, out) = started(p, now);
    assert_eq!(transitions(&out), [(State::Init, State::Backup)]);
    let at = i.next_deadline().expect("start-up wait armed");
    assert_eq!(at, now + wait);
    assert_eq!(tick(&mut i, at), became_master(priority));
    assert_eq!(i.state(), State::Master);
    (i, at)
}
