//! Validation rules of services and reals: exact path and message, through
//! `validate` and through the YAML.

use std::net::Ipv4Addr;

use super::{base, check, check_ok};
use crate::config::{Forward, Persistence, PortRange, SchedFlag, Scheduler, ServicePorts};

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

#[test]
fn base_is_valid() {
    check_ok(&base());
}

#[test]
fn weight_out_of_range() {
    let mut cfg = base();
    cfg.services[0].reals[1].weight = 65536;
    check(&cfg, "services[0].reals[1].weight", "must be 0..=65535");
    cfg.services[0].reals[1].weight = 65535;
    check_ok(&cfg);
}

#[test]
fn duplicate_service() {
    let mut cfg = base();
    let mut dup = cfg.services[0].clone();
    dup.name = "web2".into();
    dup.scheduler = Scheduler::Rr;
    cfg.services.push(dup.clone());
    check(
        &cfg,
        "services[2]",
        "duplicate of services[0] (tcp 10.0.0.100:80)",
    );
    // Another protocol, port or VIP is another service.
    cfg.services[2].protocol = Some(crate::config::Protocol::Udp);
    check_ok(&cfg);
    cfg.services[2] = dup.clone();
    cfg.services[2].port = Some(81);
    check_ok(&cfg);
    // port 0 (all ports) and port 80 are distinct IPVS services.
    cfg.services[2].port = Some(0);
    cfg.services[2].persistence = Some(Persistence::default());
    check_ok(&cfg);
}

#[test]
fn duplicate_multi_port_service_overlap() {
    let mut cfg = base();
    let mut other = cfg.services[0].clone();
    other.name = "range".into();
    other.port = None;
    other.ports = Some(ServicePorts::Range(PortRange {
        first: 70,
        last: 90,
    }));
    cfg.services.insert(0, other);
    check(
        &cfg,
        "services[1]",
        "duplicate of services[0] (tcp 10.0.0.100:80)",
    );
    cfg.services[0].ports = Some(ServicePorts::List(vec![443, 8443]));
    check_ok(&cfg);
    cfg.services[1].port = None;
    cfg.services[1].ports = Some(ServicePorts::Range(PortRange {
        first: 8000,
        last: 9000,
    }));
    check(
        &cfg,
        "services[1]",
        "duplicate of services[0] (tcp 10.0.0.100:8443)",
    );
}

#[test]
fn duplicate_service_name() {
    let mut cfg = base();
    cfg.services[1].name = "web".into();
    check(
        &cfg,
        "services[1].name",
        "duplicate of services[0] (\"web\")",
    );
}

#[test]
fn duplicate_real() {
    let mut cfg = base();
    let r = cfg.services[0].reals[0].clone();
    cfg.services[0].reals.push(r);
    check(
        &cfg,
        "services[0].reals[2]",
        "duplicate of services[0].reals[0] (10.20.0.2:8080)",
    );
    // Omitted port = service port.
    let mut cfg = base();
    let mut r = cfg.services[1].reals[0].clone();
    r.port = Some(53);
    cfg.services[1].reals.push(r);
    check(
        &cfg,
        "services[1].reals[1]",
        "duplicate of services[1].reals[0] (10.20.0.4:53)",
    );
}

#[test]
fn vip_may_equal_a_port_address() {
    let mut cfg = base();
    cfg.services[0].vip = Some(ip("10.0.0.1"));
    check_ok(&cfg);
}

#[test]
fn vip_and_real_must_be_unicast() {
    let mut cfg = base();
    cfg.services[0].vip = Some(ip("224.0.0.1"));
    check(
        &cfg,
        "services[0].vip",
        "224.0.0.1 is not a unicast address",
    );
    let mut cfg = base();
    cfg.services[0].reals[0].address = ip("0.0.0.0");
    check(
        &cfg,
        "services[0].reals[0].address",
        "0.0.0.0 is not a unicast address",
    );
}

#[test]
fn persistence_netmask_contiguous_and_timeout_positive() {
    let mut cfg = base();
    cfg.services[0].persistence = Some(Persistence {
        timeout: 360,
        netmask: ip("255.0.255.0"),
    });
    check(
        &cfg,
        "services[0].persistence.netmask",
        "must be a contiguous netmask (255.0.255.0)",
    );
    cfg.services[0].persistence = Some(Persistence {
        timeout: 0,
        netmask: ip("255.255.255.0"),
    });
    check(&cfg, "services[0].persistence.timeout", "must be > 0");
    cfg.services[0].persistence = Some(Persistence {
        timeout: 1,
        netmask: ip("255.255.255.0"),
    });
    check_ok(&cfg);
}

#[test]
fn thresholds_lower_not_above_upper() {
    let mut cfg = base();
    let r = &mut cfg.services[0].reals[0];
    r.upper_threshold = 100;
    r.lower_threshold = 101;
    check(
        &cfg,
        "services[0].reals[0].lower_threshold",
        "must be <= upper_threshold (100)",
    );
    cfg.services[0].reals[0].lower_threshold = 100;
    check_ok(&cfg);
    // A lower threshold without an upper one: refused, as the kernel does.
    cfg.services[0].reals[0].upper_threshold = 0;
    check(
        &cfg,
        "services[0].reals[0].lower_threshold",
        "must be <= upper_threshold (0): a lower threshold needs an upper threshold",
    );
    cfg.services[0].reals[0].lower_threshold = 0;
    check_ok(&cfg);
    cfg.services[0].reals[0].upper_threshold = 7;
    check_ok(&cfg);
}

#[test]
fn dr_tun_real_port_must_equal_virtual_port() {
    let mut cfg = base();
    cfg.services[0].reals[0].forward = Some(Forward::Dr);
    check(
        &cfg,
        "services[0].reals[0].port",
        "dr/tun forwarding requires the real port to equal the virtual port (80)",
    );
    cfg.services[0].forward = Forward::Tun;
    cfg.services[0].reals[0].forward = None;
    check(
        &cfg,
        "services[0].reals[0].port",
        "dr/tun forwarding requires the real port to equal the virtual port (80)",
    );
    for r in &mut cfg.services[0].reals {
        r.port = Some(80);
    }
    check_ok(&cfg);
    for r in &mut cfg.services[0].reals {
        r.port = None;
    }
    check_ok(&cfg);
}

#[test]
fn dr_on_multi_port_service_needs_no_real_port() {
    let mut cfg = base();
    let s = &mut cfg.services[0];
    s.port = None;
    s.ports = Some(ServicePorts::List(vec![80, 443]));
    s.forward = Forward::Dr;
    check(
        &cfg,
        "services[0].reals[0].port",
        "dr/tun forwarding on a multi-port or port-0 service requires the real port to be omitted",
    );
    for r in &mut cfg.services[0].reals {
        r.port = None;
    }
    check_ok(&cfg);
    assert_eq!(cfg.services[0].real_port(&cfg.services[0].reals[0]), 0);
}

#[test]
fn nat_real_port_zero_on_single_port_service() {
    let mut cfg = base();
    cfg.services[0].reals[0].port = Some(0);
    check(
        &cfg,
        "services[0].reals[0].port",
        "must not be 0 (omit it to use the virtual port)",
    );
}

#[test]
fn fullnat_requires_local_addresses() {
    let mut cfg = base();
    cfg.services[0].forward = Forward::FullNat;
    check(
        &cfg,
        "services[0].local_addresses",
        "must not be empty with fullnat forwarding",
    );
    let mut cfg = base();
    cfg.services[0].reals[1].forward = Some(Forward::FullNat);
    check(
        &cfg,
        "services[0].local_addresses",
        "must not be empty with fullnat forwarding",
    );
    cfg.services[0].local_addresses = vec![ip("10.20.0.1")];
    check_ok(&cfg);
    cfg.services[0].local_addresses.push(ip("10.20.0.1"));
    check(
        &cfg,
        "services[0].local_addresses[1]",
        "duplicate of services[0].local_addresses[0] (10.20.0.1)",
    );
}

#[test]
fn port_zero_requires_persistence() {
    let mut cfg = base();
    cfg.services[0].port = Some(0);
    for r in &mut cfg.services[0].reals {
        r.port = None;
    }
    check(
        &cfg,
        "services[0].port",
        "port 0 (all ports) requires persistence",
    );
    cfg.services[0].persistence = Some(Persistence::default());
    check_ok(&cfg);
    assert!(cfg.services[0].matches_port(12345));
}

#[test]
fn port_or_ports() {
    let mut cfg = base();
    cfg.services[0].port = None;
    check(&cfg, "services[0].port", "missing");
    cfg.services[0].ports = Some(ServicePorts::List(vec![]));
    check(&cfg, "services[0].ports", "must not be empty");
    cfg.services[0].ports = Some(ServicePorts::List(vec![80, 0]));
    check(
        &cfg,
        "services[0].ports[1]",
        "port 0 (all ports) must be given alone as `port: 0`",
    );
    cfg.services[0].ports = Some(ServicePorts::List(vec![80, 443, 80]));
    check(
        &cfg,
        "services[0].ports[2]",
        "duplicate of services[0].ports[0] (80)",
    );
    cfg.services[0].ports = Some(ServicePorts::Range(PortRange { first: 0, last: 10 }));
    check(
        &cfg,
        "services[0].ports",
        "port 0 (all ports) must be given alone as `port: 0`",
    );
    cfg.services[0].port = Some(80);
    check(
        &cfg,
        "services[0].ports",
        "conflicts with port (give one of them)",
    );
}

#[test]
fn flags_must_match_scheduler() {
    let mut cfg = base();
    cfg.services[1].flags = vec![SchedFlag::ShPort];
    check(
        &cfg,
        "services[1].flags[0]",
        "sh-port requires scheduler sh (this service uses rr)",
    );
    cfg.services[1].scheduler = Scheduler::Sh;
    check_ok(&cfg);
    cfg.services[1].flags.push(SchedFlag::MhFallback);
    check(
        &cfg,
        "services[1].flags[1]",
        "mh-fallback requires scheduler mh (this service uses sh)",
    );
    cfg.services[1].flags = vec![SchedFlag::ShPort, SchedFlag::ShFallback, SchedFlag::ShPort];
    check(
        &cfg,
        "services[1].flags[2]",
        "duplicate of services[1].flags[0] (sh-port)",
    );
    cfg.services[1].scheduler = Scheduler::Mh;
    cfg.services[1].flags = vec![SchedFlag::MhPort, SchedFlag::MhFallback];
    check_ok(&cfg);
}

#[test]
fn generic_flags_and_their_one_name() {
    let mut cfg = base();
    // rr keeps flag-1..3 (no effect, as in the kernel).
    cfg.services[1].flags = vec![SchedFlag::Flag3, SchedFlag::Flag1, SchedFlag::Flag2];
    check_ok(&cfg);
    cfg.services[1].flags.push(SchedFlag::Flag1);
    check(
        &cfg,
        "services[1].flags[3]",
        "duplicate of services[1].flags[1] (flag-1)",
    );
    // sh names bits 1 and 2; bit 3 stays flag-3.
    cfg.services[1].scheduler = Scheduler::Sh;
    cfg.services[1].flags = vec![SchedFlag::Flag3, SchedFlag::Flag2];
    check(
        &cfg,
        "services[1].flags[1]",
        "with scheduler sh, flag-2 is written sh-port",
    );
    cfg.services[1].scheduler = Scheduler::Mh;
    cfg.services[1].flags = vec![SchedFlag::Flag1];
    check(
        &cfg,
        "services[1].flags[0]",
        "with scheduler mh, flag-1 is written mh-fallback",
    );
    cfg.services[1].flags = vec![SchedFlag::Flag3, SchedFlag::MhPort];
    check_ok(&cfg);
}

#[test]
fn empty_names_and_device() {
    let mut cfg = base();
    cfg.ports[1].device.clear();
    check(&cfg, "ports[1].device", "must not be empty");
    let mut cfg = base();
    cfg.services[1].name.clear();
    check(&cfg, "services[1].name", "must not be empty");
}

#[test]
fn mh_holds_at_most_its_lookup_table_size_in_reals() {
    // The workers' limit, checked here first so no worker refuses a change.
    let mut cfg = base();
    cfg.services[0].scheduler = Scheduler::Mh;
    let template = cfg.services[0].reals[0].clone();
    let reals = |n: u32| {
        (0..n)
            .map(|i| {
                let mut r = template.clone();
                r.address = Ipv4Addr::from(u32::from(ip("10.50.0.0")) + i + 1);
                r
            })
            .collect::<Vec<_>>()
    };
    cfg.services[0].reals = reals(4093);
    check_ok(&cfg);
    cfg.services[0].reals = reals(4094);
    check(
        &cfg,
        "services[0].reals",
        "mh: 4094 real servers exceed the 4093-slot lookup table",
    );
}

#[test]
fn real_is_not_the_directors_own_address() {
    let mut cfg = base();
    cfg.services[0].reals[1].address = ip("10.20.0.1");
    check(
        &cfg,
        "services[0].reals[1].address",
        "10.20.0.1 is the director's own address (ports[0].addresses[1])",
    );
    let mut cfg = base();
    cfg.services[1].reals[0].address = ip("10.30.0.1");
    check(
        &cfg,
        "services[1].reals[0].address",
        "10.30.0.1 is the director's own address (ports[1].addresses[0])",
    );
}

#[test]
fn real_is_not_a_vip() {
    // Its own service's VIP, and another service's.
    let mut cfg = base();
    cfg.services[0].reals[0].address = ip("10.0.0.100");
    check(
        &cfg,
        "services[0].reals[0].address",
        "10.0.0.100 is a VIP (services[0].vip)",
    );
    let mut cfg = base();
    cfg.services[0].reals[0].address = ip("10.0.0.53");
    check(
        &cfg,
        "services[0].reals[0].address",
        "10.0.0.53 is a VIP (services[1].vip)",
    );
}

#[test]
fn real_is_not_a_local_address() {
    let mut cfg = base();
    cfg.services[0].forward = Forward::FullNat;
    cfg.services[0].local_addresses = vec![ip("10.20.0.1"), ip("10.20.0.10")];
    check_ok(&cfg);
    // Any service's local address, also a service that is not FullNAT.
    cfg.services[1].reals[0].address = ip("10.20.0.10");
    check(
        &cfg,
        "services[1].reals[0].address",
        "10.20.0.10 is a FullNAT local address (services[0].local_addresses[1])",
    );
}
