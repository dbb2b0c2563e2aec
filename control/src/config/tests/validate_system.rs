//! Validation rules of workers, ports, routes, neighbours, timeouts and the
//! control section: exact path and message, through `validate` and YAML.

use std::net::Ipv4Addr;

use super::{assert_error, base, check, check_ok};
use crate::config::{Ipv4Net, MacAddr, Neighbor, Route};

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

#[test]
fn route_unknown_port() {
    let mut cfg = base();
    cfg.routes[0].port = "eth9".into();
    check(&cfg, "routes[0].port", "unknown port \"eth9\"");
}

#[test]
fn neighbor_unknown_port() {
    let mut cfg = base();
    cfg.neighbors[0].port = "eth9".into();
    check(&cfg, "neighbors[0].port", "unknown port \"eth9\"");
}

#[test]
fn route_prefix_with_host_bits() {
    let mut cfg = base();
    cfg.routes.push(Route {
        prefix: "10.40.0.1/16".parse().unwrap(),
        via: None,
        port: "eth1".into(),
    });
    check(
        &cfg,
        "routes[1].prefix",
        "host bits set (did you mean 10.40.0.0/16?)",
    );
}

#[test]
fn route_via_off_port_networks() {
    let mut cfg = base();
    cfg.routes[0].via = Some(ip("10.30.0.254"));
    check(
        &cfg,
        "routes[0].via",
        "10.30.0.254 is not on a network of port \"eth0\"",
    );
    cfg.routes[0].port = "eth1".into();
    check_ok(&cfg);
}

#[test]
fn duplicate_route_and_neighbor() {
    let mut cfg = base();
    let r = cfg.routes[0].clone();
    cfg.routes.push(r);
    check(
        &cfg,
        "routes[1].prefix",
        "duplicate of routes[0] (0.0.0.0/0)",
    );
    let mut cfg = base();
    cfg.neighbors.push(Neighbor {
        mac: "02:00:00:00:00:fd".parse().unwrap(),
        ..cfg.neighbors[0].clone()
    });
    check(
        &cfg,
        "neighbors[1].ip",
        "duplicate of neighbors[0] (10.0.0.254 on eth0)",
    );
}

#[test]
fn duplicate_port_name() {
    let mut cfg = base();
    cfg.ports[1].name = "eth0".into();
    check(&cfg, "ports[1].name", "duplicate of ports[0] (\"eth0\")");
}

#[test]
fn duplicate_port_address() {
    let mut cfg = base();
    cfg.ports[1].addresses.push("10.0.0.1/16".parse().unwrap());
    check(
        &cfg,
        "ports[1].addresses[1]",
        "duplicate of ports[0].addresses[0] (10.0.0.1)",
    );
}

#[test]
fn workers_cores_empty_or_duplicated() {
    let mut cfg = base();
    cfg.workers.cores.clear();
    check(&cfg, "workers.cores", "must not be empty");
    cfg.workers.cores = vec![1, 2, 1];
    check(
        &cfg,
        "workers.cores[2]",
        "duplicate of workers.cores[0] (1)",
    );
}

#[test]
fn workers_mbufs_and_burst() {
    let mut cfg = base();
    cfg.workers.mbufs = 0;
    check(&cfg, "workers.mbufs", "must be > 0");
    let mut cfg = base();
    cfg.workers.burst = 0;
    check(&cfg, "workers.burst", "must be 1..=512");
}

#[test]
fn timeouts_positive() {
    for (field, path) in [
        (0, "timeouts.tcp"),
        (1, "timeouts.tcpfin"),
        (2, "timeouts.udp"),
    ] {
        let mut cfg = base();
        let t = &mut cfg.timeouts;
        *[&mut t.tcp, &mut t.tcpfin, &mut t.udp][field] = 0;
        check(&cfg, path, "must be > 0");
    }
}

#[test]
fn mtu_range() {
    let mut cfg = base();
    cfg.ports[0].mtu = 575;
    check(&cfg, "ports[0].mtu", "must be 576..=9000");
    cfg.ports[0].mtu = 9001;
    check(&cfg, "ports[0].mtu", "must be 576..=9000");
    cfg.ports[0].mtu = 9000;
    check_ok(&cfg);
    cfg.ports[0].mtu = 576;
    check_ok(&cfg);
}

#[test]
fn mac_not_multicast() {
    let mut cfg = base();
    cfg.ports[0].mac = Some("01:00:5e:00:00:01".parse().unwrap());
    check(
        &cfg,
        "ports[0].mac",
        "must not be a multicast address (01:00:5e:00:00:01)",
    );
    cfg.ports[0].mac = Some(MacAddr::BROADCAST);
    check(
        &cfg,
        "ports[0].mac",
        "must not be a multicast address (ff:ff:ff:ff:ff:ff)",
    );
    let mut cfg = base();
    cfg.neighbors[0].mac = MacAddr([0x33, 0x33, 0, 0, 0, 1]);
    check(
        &cfg,
        "neighbors[0].mac",
        "must not be a multicast address (33:33:00:00:00:01)",
    );
    let mut cfg = base();
    cfg.ports[1].mac = Some(MacAddr::ZERO);
    check(&cfg, "ports[1].mac", "must not be 00:00:00:00:00:00");
}

#[test]
fn port_address_prefix_length() {
    let mut cfg = base();
    cfg.ports[1].addresses[0] = Ipv4Net {
        addr: ip("10.30.0.1"),
        len: 0,
    };
    check(
        &cfg,
        "ports[1].addresses[0]",
        "prefix length must be 1..=32",
    );
    cfg.ports[1].addresses[0] = "10.30.0.0/24".parse().unwrap();
    check(
        &cfg,
        "ports[1].addresses[0]",
        "10.30.0.0/24 is a network or broadcast address",
    );
    cfg.ports[1].addresses[0] = "10.30.0.0/32".parse().unwrap();
    check_ok(&cfg);
}

#[test]
fn conn_max_and_control() {
    let mut cfg = base();
    cfg.conn_max = Some(0);
    check(&cfg, "conn_max", "must be > 0");
    let mut cfg = base();
    cfg.control.group = Some(String::new());
    check(
        &cfg,
        "control.group",
        "must not be empty (omit it to keep the daemon's group)",
    );
}

#[test]
fn replay_requires_every_mac() {
    let cfg = base();
    assert!(cfg.validate().is_ok());
    let e = cfg.validate_replay().unwrap_err();
    assert_error(&e, "ports[1].mac", "required in replay mode");
    let mut cfg = base();
    cfg.ports[1].mac = Some("02:00:00:00:00:02".parse().unwrap());
    assert!(cfg.validate_replay().is_ok());
}
