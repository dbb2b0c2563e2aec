//! The steering manager against a fake device: diffs, rollback, "rings" for good.
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;

use control::config::{FlowSteering, Port};
use dataplane::conntrack::Proto;
use dataplane::sched::SchedFlags;
use dataplane::snapshot::{PortMatch, ServiceSpec};
use dataplane::steer::{reply_rules, SteerRule};

use super::*;

const ENOSYS: &str = "rte_flow_validate failed: Function not implemented (errno 38)";

/// A device that remembers what is installed and refuses on demand.
#[derive(Default)]
struct Fake {
    next: u64,
    /// handle -> (port, rule) of every rule in the "device".
    live: BTreeMap<u64, (usize, SteerRule)>,
    /// Every call, in order: ("install" | "remove", port, rule).
    calls: Vec<(&'static str, usize, SteerRule)>,
    /// Ports whose device has no rte_flow at all (af_packet, memif ...).
    refuse: HashSet<usize>,
    /// port -> installs accepted before the device runs out of room.
    room: HashMap<usize, usize>,
}

impl FlowInstaller for Fake {
    type Handle = u64;
    type Error = String;

    fn install(&mut self, port: usize, rule: &SteerRule) -> Result<u64, String> {
        self.calls.push(("install", port, *rule));
        if self.refuse.contains(&port) {
            return Err(ENOSYS.into());
        }
        if let Some(room) = self.room.get_mut(&port) {
            if *room == 0 {
                return Err("rte_flow_create failed: no space left (errno 28)".into());
            }
            *room -= 1;
        }
        self.next += 1;
        self.live.insert(self.next, (port, *rule));
        Ok(self.next)
    }

    fn remove(&mut self, port: usize, handle: u64) -> Result<(), String> {
        let (p, rule) = self
            .live
            .remove(&handle)
            .expect("a handle removed once, and only one the fake gave");
        assert_eq!(p, port, "handle removed through its own port");
        self.calls.push(("remove", port, rule));
        Ok(())
    }
}

impl Fake {
    fn rules_on(&self, port: usize) -> BTreeSet<SteerRule> {
        self.live
            .values()
            .filter(|(p, _)| *p == port)
            .map(|(_, r)| *r)
            .collect()
    }

    fn installs_on(&self, port: usize) -> usize {
        self.calls
            .iter()
            .filter(|(c, p, _)| *c == "install" && *p == port)
            .count()
    }
}

fn port(name: &str, flow_steering: FlowSteering) -> Port {
    Port {
        name: name.into(),
        device: format!("net_null_{name}"),
        mac: None,
        addresses: vec![],
        mtu: 1500,
        flow_steering,
        host_iface: None,
        host_rate_pps: 50_000,
        host_driver: Default::default(),
    }
}

fn service(proto: Proto, locals: &[[u8; 4]]) -> ServiceSpec {
    ServiceSpec {
        id: 0,
        name: "s".into(),
        fwmark: None,
        proto,
        vip: Ipv4Addr::new(10, 0, 0, 100),
        ports: PortMatch::One(80),
        scheduler: "rr".into(),
        flags: SchedFlags::default(),
        persistence: None,
        ops: false,
        local_addresses: locals.iter().map(|&a| Ipv4Addr::from(a)).collect(),
        toa: true,
        reals: vec![],
    }
}

fn rules(locals: &[[u8; 4]], workers: usize) -> BTreeSet<SteerRule> {
    reply_rules(&[service(Proto::Tcp, locals)], workers)
}

const L1: [u8; 4] = [10, 20, 0, 10];
const L2: [u8; 4] = [10, 20, 0, 11];
const L3: [u8; 4] = [10, 20, 0, 12];

#[test]
fn diff_keeps_what_stays_wanted() {
    let old = rules(&[L1, L2], 2);
    let new = rules(&[L2, L3], 2);
    let installed: BTreeMap<SteerRule, ()> = old.iter().map(|r| (*r, ())).collect();
    let (remove, add) = diff(&installed, &new);
    assert!(remove
        .iter()
        .all(|r| r.dst == Ipv4Addr::from(L1) && old.contains(r)));
    assert!(add.iter().all(|r| r.dst == Ipv4Addr::from(L3)));
    assert_eq!((remove.len(), add.len()), (2, 2));
    let (remove, add) = diff(&installed, &old);
    assert!(remove.is_empty() && add.is_empty());
}

#[test]
fn every_willing_port_gets_every_rule() {
    let ports = [
        port("eth0", FlowSteering::Auto),
        port("eth1", FlowSteering::Required),
    ];
    let mut s = Steering::new(&ports, 4);
    let mut dev = Fake::default();
    let want = reply_rules(
        &[service(Proto::Tcp, &[L1]), service(Proto::Udp, &[L1, L2])],
        4,
    );
    assert_eq!(want.len(), 12);
    s.sync(&mut dev, &want).unwrap();
    for p in 0..2 {
        assert_eq!(dev.rules_on(p), want);
        assert_eq!(s.mode(p), Some(&PortMode::Flow));
        assert_eq!(s.installed(p).len(), 12);
        assert!(s.status()[p].steered.load(Ordering::Relaxed));
        assert_eq!(s.status()[p].rules.load(Ordering::Relaxed), 12);
    }
    // The same rules again: nothing to do.
    let calls = dev.calls.len();
    s.sync(&mut dev, &want).unwrap();
    assert_eq!(dev.calls.len(), calls);
}

#[test]
fn a_change_of_local_addresses_installs_and_removes_only_the_difference() {
    let mut s = Steering::new(&[port("eth0", FlowSteering::Auto)], 2);
    let mut dev = Fake::default();
    s.sync(&mut dev, &rules(&[L1, L2], 2)).unwrap();
    dev.calls.clear();
    let new = rules(&[L2, L3], 2);
    s.sync(&mut dev, &new).unwrap();
    let touched: BTreeSet<(&str, Ipv4Addr)> =
        dev.calls.iter().map(|(c, _, r)| (*c, r.dst)).collect();
    assert_eq!(
        touched,
        BTreeSet::from([
            ("remove", Ipv4Addr::from(L1)),
            ("install", Ipv4Addr::from(L3))
        ]),
        "L2's rules stay untouched: {:?}",
        dev.calls
    );
    assert_eq!(dev.calls.len(), 4);
    assert_eq!(dev.rules_on(0), new);
    assert_eq!(s.status()[0].rules.load(Ordering::Relaxed), 4);
    // Every local address gone: no rule left, the port still steers.
    s.sync(&mut dev, &BTreeSet::new()).unwrap();
    assert!(dev.live.is_empty());
    assert_eq!(s.mode(0), Some(&PortMode::Flow));
}

#[test]
fn a_device_without_rte_flow_falls_back_to_the_rings_and_is_not_asked_again() {
    let ports = [
        port("eth0", FlowSteering::Auto),
        port("lab", FlowSteering::Auto),
    ];
    let mut s = Steering::new(&ports, 2);
    let mut dev = Fake {
        refuse: HashSet::from([1]),
        ..Fake::default()
    };
    s.sync(&mut dev, &rules(&[L1], 2)).unwrap();
    assert_eq!(s.mode(0), Some(&PortMode::Flow));
    assert_eq!(s.mode(1), Some(&PortMode::Rings(ENOSYS.into())));
    assert!(!s.status()[1].steered.load(Ordering::Relaxed));
    assert_eq!(s.status()[1].rules.load(Ordering::Relaxed), 0);
    assert_eq!(dev.installs_on(1), 1, "one refusal is enough");
    s.sync(&mut dev, &rules(&[L1, L2], 2)).unwrap();
    assert_eq!(
        dev.installs_on(1),
        1,
        "a rings port is left alone until restart"
    );
    assert_eq!(dev.rules_on(0), rules(&[L1, L2], 2));
}

#[test]
fn a_failure_half_way_rolls_the_port_back_to_no_rule() {
    let mut s = Steering::new(&[port("eth0", FlowSteering::Auto)], 4);
    let mut dev = Fake {
        room: HashMap::from([(0, 6)]),
        ..Fake::default()
    };
    s.sync(&mut dev, &rules(&[L1], 4)).unwrap();
    assert_eq!(dev.rules_on(0).len(), 4);
    // Four more rules fit only in part: the port ends with none at all.
    s.sync(&mut dev, &rules(&[L1, L2], 4)).unwrap();
    assert!(dev.live.is_empty(), "rolled back: {:?}", dev.live);
    assert!(s.installed(0).is_empty());
    assert!(matches!(s.mode(0), Some(PortMode::Rings(r)) if r.contains("no space left")));
    assert!(!s.status()[0].steered.load(Ordering::Relaxed));
    assert_eq!(s.status()[0].rules.load(Ordering::Relaxed), 0);
    let installs = dev.installs_on(0);
    s.sync(&mut dev, &rules(&[L3], 4)).unwrap();
    assert_eq!(dev.installs_on(0), installs);
}

#[test]
fn required_names_the_port_that_refuses() {
    let ports = [
        port("eth0", FlowSteering::Auto),
        port("eth1", FlowSteering::Required),
    ];
    let mut s = Steering::new(&ports, 2);
    let mut dev = Fake {
        refuse: HashSet::from([0, 1]),
        ..Fake::default()
    };
    let e = s.sync(&mut dev, &rules(&[L1], 2)).unwrap_err();
    assert_eq!((e.index, e.name.as_str()), (1, "eth1"));
    let text = e.to_string();
    assert!(
        text.starts_with("ports[1] (eth1): flow_steering is required"),
        "{text}"
    );
    assert!(text.contains("errno 38"), "{text}");
    assert!(matches!(s.mode(0), Some(PortMode::Rings(_))));
}

#[test]
fn off_and_single_worker_never_touch_the_device() {
    let mut dev = Fake::default();
    let mut off = Steering::new(&[port("eth0", FlowSteering::Off)], 4);
    off.sync(&mut dev, &rules(&[L1], 4)).unwrap();
    let mut single = Steering::new(&[port("eth0", FlowSteering::Required)], 1);
    single.sync(&mut dev, &rules(&[L1], 4)).unwrap();
    assert!(dev.calls.is_empty());
    assert_eq!(off.mode(0), Some(&PortMode::Off));
    assert_eq!(single.mode(0), Some(&PortMode::Off));
}

#[test]
fn nothing_wanted_yet_leaves_the_port_pending() {
    let mut s = Steering::new(&[port("eth0", FlowSteering::Auto)], 2);
    let mut dev = Fake::default();
    s.sync(&mut dev, &BTreeSet::new()).unwrap();
    assert!(dev.calls.is_empty());
    assert_eq!(s.mode(0), Some(&PortMode::Pending));
    assert!(!s.status()[0].steered.load(Ordering::Relaxed));
}

#[test]
fn clear_removes_every_rule() {
    let ports = [
        port("eth0", FlowSteering::Auto),
        port("eth1", FlowSteering::Auto),
    ];
    let mut s = Steering::new(&ports, 2);
    let mut dev = Fake::default();
    s.sync(&mut dev, &rules(&[L1, L2], 2)).unwrap();
    assert_eq!(dev.live.len(), 8);
    s.clear(&mut dev);
    assert!(dev.live.is_empty());
    assert_eq!(s.status()[1].rules.load(Ordering::Relaxed), 0);
}
