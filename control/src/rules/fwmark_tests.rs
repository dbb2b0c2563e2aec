//! Rules on firewall-mark services and `ops`: what the YAML holds after
//! ipvsadm-style requests.

use super::*;

fn empty() -> Config {
    Config::from_yaml_str("workers: {cores: [1]}\n").unwrap()
}

fn mark7() -> Config {
    add_service(&empty(), &ServiceOpts::new(ServiceKey::fwmark(7))).unwrap()
}

fn dest(addr: &str, port: Option<u16>, forward: Forward) -> DestOpts {
    let mut o = DestOpts::new(ServiceKey::fwmark(7), addr.parse().unwrap(), port);
    o.forward = Some(forward);
    o
}

#[test]
fn a_mark_service_has_no_address_port_or_protocol() {
    let cfg = mark7();
    let s = &cfg.services[0];
    assert_eq!(s.name, "fwm-7");
    assert_eq!(
        (s.fwmark, s.vip, s.port, s.protocol),
        (Some(7), None, None, None)
    );
    assert!(cfg.to_yaml().contains("fwmark: 7\n"), "{}", cfg.to_yaml());
    let e = add_service(&cfg, &ServiceOpts::new(ServiceKey::fwmark(7))).unwrap_err();
    assert_eq!(e.message, "Service already exists");
    let cfg = del_service(&cfg, &ServiceKey::fwmark(7)).unwrap();
    assert!(cfg.services.is_empty());
}

#[test]
fn reals_keep_the_port_they_are_given_whatever_the_forwarding() {
    let mut cfg = mark7();
    for o in [
        dest("10.1.0.11", None, Forward::Dr),
        dest("10.1.0.12", Some(8080), Forward::Dr),
        dest("10.1.0.13", Some(0), Forward::Nat),
        dest("10.1.0.14", Some(443), Forward::Nat),
        dest("10.1.0.15", Some(6000), Forward::Tun),
    ] {
        cfg = add_dest(&cfg, &o).unwrap();
    }
    let ports: Vec<Option<u16>> = cfg.services[0].reals.iter().map(|r| r.port).collect();
    // No port (or 0): the packet's destination port is kept.
    assert_eq!(ports, [None, Some(8080), None, Some(443), Some(6000)]);
    // The same address and port is the same real, whatever the forwarding.
    let e = add_dest(&cfg, &dest("10.1.0.13", None, Forward::Dr)).unwrap_err();
    assert_eq!(e.message, "Destination already exists");
    let cfg2 = edit_dest(&cfg, &dest("10.1.0.12", Some(8080), Forward::Nat)).unwrap();
    assert_eq!(cfg2.services[0].reals[1].port, Some(8080));
    let e = del_dest(
        &cfg,
        &DestOpts::new(ServiceKey::fwmark(7), "10.1.0.12".parse().unwrap(), None),
    )
    .unwrap_err();
    assert_eq!(e.message, "No such destination");
    let cfg = del_dest(
        &cfg,
        &DestOpts::new(ServiceKey::fwmark(7), "10.1.0.11".parse().unwrap(), Some(0)),
    )
    .unwrap();
    assert_eq!(cfg.services[0].reals.len(), 4);
    // The YAML reads back the same.
    assert_eq!(Config::from_yaml_str(&cfg.to_yaml()).unwrap(), cfg);
}

#[test]
fn edit_without_ops_clears_it() {
    let mut o = ServiceOpts::new(ServiceKey::fwmark(7));
    o.ops = true;
    let cfg = add_service(&empty(), &o).unwrap();
    assert!(cfg.services[0].ops);
    assert!(cfg.to_yaml().contains("ops: true\n"));
    let cfg = edit_service(&cfg, &ServiceOpts::new(ServiceKey::fwmark(7))).unwrap();
    assert!(!cfg.services[0].ops);
    // ops on a TCP service is refused by the YAML's validation too.
    let mut o = ServiceOpts::new(ServiceKey::addr(
        crate::config::Protocol::Tcp,
        "10.0.0.1".parse().unwrap(),
        80,
    ));
    o.ops = true;
    let e = add_service(&empty(), &o).unwrap_err();
    assert_eq!(
        e.code,
        ErrorKind::Invalid {
            field: "services[0].ops".into()
        }
    );
}
