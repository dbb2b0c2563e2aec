use std::net::Ipv4Addr;

use super::*;
use crate::config::{Protocol, SchedFlag};

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn empty() -> Config {
    Config::from_yaml_str("workers: {cores: [1]}\n").unwrap()
}

fn key(vip: &str, port: u16) -> ServiceKey {
    ServiceKey::addr(Protocol::Tcp, ip(vip), port)
}

fn with_service() -> Config {
    add_service(&empty(), &ServiceOpts::new(key("10.0.0.1", 80))).unwrap()
}

#[test]
fn add_service_defaults_and_name() {
    let cfg = with_service();
    let s = &cfg.services[0];
    assert_eq!(s.name, "tcp-10.0.0.1-80");
    assert_eq!(s.scheduler, Scheduler::Wlc);
    assert_eq!(s.port, Some(80));
    assert!(s.persistence.is_none());
    let e = add_service(&cfg, &ServiceOpts::new(key("10.0.0.1", 80))).unwrap_err();
    assert_eq!(e.message, "Service already exists");
}

#[test]
fn persistence_default_360() {
    let mut o = ServiceOpts::new(key("10.0.0.1", 0));
    o.persistence = Some(PersistOpts {
        timeout: None,
        netmask: None,
    });
    let cfg = add_service(&empty(), &o).unwrap();
    let p = cfg.services[0].persistence.clone().unwrap();
    assert_eq!((p.timeout, p.netmask), (360, Ipv4Addr::BROADCAST));
    // Port 0 without persistence is refused, naming the field.
    let e = add_service(&empty(), &ServiceOpts::new(key("10.0.0.1", 0))).unwrap_err();
    assert_eq!(
        e.code,
        ErrorKind::Invalid {
            field: "services[0].port".into()
        }
    );
}

#[test]
fn generated_name_is_unique() {
    let mut cfg = with_service();
    cfg.services[0].port = Some(81);
    assert_eq!(
        generated_name(&cfg, &key("10.0.0.1", 80)),
        "tcp-10.0.0.1-80-2"
    );
}

#[test]
fn edit_resets_omitted_options() {
    let mut o = ServiceOpts::new(key("10.0.0.1", 80));
    o.scheduler = Some(Scheduler::Sh);
    o.flags = vec![SchedFlag::ShPort];
    o.persistence = Some(PersistOpts {
        timeout: Some(60),
        netmask: Some(ip("255.255.255.0")),
    });
    let cfg = edit_service(&with_service(), &o).unwrap();
    assert_eq!(cfg.services[0].scheduler, Scheduler::Sh);
    let cfg = edit_service(&cfg, &ServiceOpts::new(key("10.0.0.1", 80))).unwrap();
    let s = &cfg.services[0];
    assert_eq!(s.scheduler, Scheduler::Wlc);
    assert!(s.flags.is_empty() && s.persistence.is_none());
    let e = edit_service(&cfg, &ServiceOpts::new(key("10.0.0.2", 80))).unwrap_err();
    assert_eq!(e.message, "No such service");
}

#[test]
fn add_dest_defaults() {
    let cfg = with_service();
    let mut o = DestOpts::new(key("10.0.0.1", 80), ip("10.1.0.1"), Some(8080));
    // -g forces the virtual port.
    let cfg = add_dest(&cfg, &o).unwrap();
    let r = &cfg.services[0].reals[0];
    assert_eq!((r.port, r.forward, r.weight), (None, Some(Forward::Dr), 1));
    let e = add_dest(&cfg, &o).unwrap_err();
    assert_eq!(e.message, "Destination already exists");
    // -m keeps the given port; without a port the virtual port is copied.
    o.addr = ip("10.1.0.2");
    o.forward = Some(Forward::Nat);
    o.weight = Some(5);
    let cfg = add_dest(&cfg, &o).unwrap();
    let r = &cfg.services[0].reals[1];
    assert_eq!((r.port, r.forward, r.weight), (Some(8080), None, 5));
    let mut o3 = DestOpts::new(key("10.0.0.1", 80), ip("10.1.0.3"), None);
    o3.forward = Some(Forward::Nat);
    let cfg = add_dest(&cfg, &o3).unwrap();
    assert_eq!(cfg.services[0].reals[2].port, None);
    assert_eq!(cfg.services[0].real_port(&cfg.services[0].reals[2]), 80);
    let e = add_dest(
        &cfg,
        &DestOpts::new(key("10.0.0.9", 80), ip("10.1.0.3"), None),
    )
    .unwrap_err();
    assert_eq!(e.message, "Service not defined");
}

#[test]
fn edit_and_delete_dest() {
    let cfg = with_service();
    let mut o = DestOpts::new(key("10.0.0.1", 80), ip("10.1.0.1"), Some(8080));
    o.forward = Some(Forward::Nat);
    o.weight = Some(3);
    o.upper_threshold = Some(10);
    let cfg = add_dest(&cfg, &o).unwrap();
    let cfg = add_dest(
        &cfg,
        &DestOpts::new(key("10.0.0.1", 80), ip("10.1.0.2"), None),
    )
    .unwrap();
    // -e without -w resets the weight to 1 and the thresholds to 0.
    let mut e = DestOpts::new(key("10.0.0.1", 80), ip("10.1.0.1"), Some(8080));
    e.forward = Some(Forward::Nat);
    let cfg2 = edit_dest(&cfg, &e).unwrap();
    let r = &cfg2.services[0].reals[0];
    assert_eq!((r.weight, r.upper_threshold, r.port), (1, 0, Some(8080)));
    // Wrong port: no such destination.
    e.port = Some(8081);
    assert_eq!(
        edit_dest(&cfg, &e).unwrap_err().message,
        "No such destination"
    );
    let d = DestOpts::new(key("10.0.0.1", 80), ip("10.1.0.1"), Some(8080));
    let cfg3 = del_dest(&cfg, &d).unwrap();
    assert_eq!(cfg3.services[0].reals.len(), 1);
    assert_eq!(
        del_dest(&cfg3, &d).unwrap_err().message,
        "No such destination"
    );
    // The DR real is found by its address alone (port = virtual port).
    let d = DestOpts::new(key("10.0.0.1", 80), ip("10.1.0.2"), None);
    assert!(del_dest(&cfg3, &d).unwrap().services[0].reals.is_empty());
}

#[test]
fn invalid_result_leaves_input_untouched() {
    let cfg = with_service();
    let before = cfg.clone();
    let mut o = DestOpts::new(key("10.0.0.1", 80), ip("10.1.0.1"), None);
    o.weight = Some(70000);
    let e = add_dest(&cfg, &o).unwrap_err();
    assert_eq!(
        e.display(),
        "services[0].reals[0].weight: must be 0..=65535"
    );
    assert_eq!(cfg, before);
}

#[test]
fn fullnat_needs_local_address() {
    let cfg = with_service();
    let mut o = DestOpts::new(key("10.0.0.1", 80), ip("10.1.0.1"), Some(8080));
    o.forward = Some(Forward::FullNat);
    let e = add_dest(&cfg, &o).unwrap_err();
    assert_eq!(
        e.display(),
        "services[0].local_addresses: must not be empty with fullnat forwarding"
    );
    let cfg = add_local_addr(&cfg, &key("10.0.0.1", 80), ip("10.2.0.1")).unwrap();
    assert_eq!(
        add_local_addr(&cfg, &key("10.0.0.1", 80), ip("10.2.0.1"))
            .unwrap_err()
            .code,
        ErrorKind::LocalAddrExists
    );
    let cfg = add_dest(&cfg, &o).unwrap();
    assert!(del_local_addr(&cfg, &key("10.0.0.1", 80), ip("10.2.0.1")).is_err());
    assert_eq!(
        del_local_addr(&cfg, &key("10.0.0.1", 80), ip("10.2.0.9"))
            .unwrap_err()
            .code,
        ErrorKind::NoLocalAddr
    );
}

#[test]
fn multi_port_services() {
    let yaml = "workers: {cores: [1]}\nservices:\n  - {name: m, vip: 10.0.0.1, ports: [80, 443], protocol: tcp}\n";
    let cfg = Config::from_yaml_str(yaml).unwrap();
    assert_eq!(find_service(&cfg, &key("10.0.0.1", 443)), Some(0));
    assert_eq!(find_service(&cfg, &key("10.0.0.1", 0)), None);
    let e = del_service(&cfg, &key("10.0.0.1", 443)).unwrap_err();
    assert_eq!(e.code, ErrorKind::Unsupported);
    let cfg = add_dest(
        &cfg,
        &DestOpts::new(key("10.0.0.1", 443), ip("10.1.0.1"), None),
    )
    .unwrap();
    assert_eq!(cfg.services[0].reals[0].port, None);
}

#[test]
fn timeouts_zero_unchanged_and_clear() {
    let cfg = set_timeouts(&with_service(), 0, 30, 0).unwrap();
    assert_eq!(
        (cfg.timeouts.tcp, cfg.timeouts.tcpfin, cfg.timeouts.udp),
        (900, 30, 300)
    );
    assert!(clear(&cfg).unwrap().services.is_empty());
    assert!(apply(&cfg, &RequestBody::List).unwrap().is_none());
}
