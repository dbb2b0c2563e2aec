//! The `marks:` classifier and firewall-mark services: parsing, validation
//! (exact path and message), and a YAML round trip.

use super::{assert_error, base, check, check_ok, yaml_err, BASE};
use crate::config::{Config, MarkRule, Protocol};

const MARKS: &str = r#"  - name: fwm7
    fwmark: 7
    scheduler: wrr
    reals:
      - {address: 10.20.0.5, forward: dr}
      - {address: 10.20.0.6, port: 8443, forward: nat}
marks:
  - {mark: 7, vip: 10.0.0.100, protocol: tcp, ports: [443, "8000-8010"]}
  - {mark: 7, vip: 10.0.2.0/24, protocol: udp, ports: [53]}
"#;

fn with_marks() -> Config {
    Config::from_yaml_str(&format!("{BASE}{MARKS}")).unwrap()
}

#[test]
fn marks_and_a_mark_service_parse() {
    let cfg = with_marks();
    let s = cfg.service("fwm7").unwrap();
    assert_eq!(
        (s.fwmark, s.vip, s.port, s.protocol),
        (Some(7), None, None, None)
    );
    assert_eq!(cfg.marks.len(), 2);
    let m: &MarkRule = &cfg.marks[0];
    assert!(m.matches(Protocol::Tcp, "10.0.0.100".parse().unwrap(), 8005));
    assert!(!m.matches(Protocol::Udp, "10.0.0.100".parse().unwrap(), 8005));
    assert!(!m.matches(Protocol::Tcp, "10.0.0.100".parse().unwrap(), 8011));
    assert!(cfg.marks[1].matches(Protocol::Udp, "10.0.2.200".parse().unwrap(), 53));
    // A real without port keeps the packet's port.
    assert_eq!(s.real_port(&s.reals[0]), 0);
    assert_eq!(s.real_port(&s.reals[1]), 8443);
}

#[test]
fn marks_round_trip_through_yaml() {
    let cfg = with_marks();
    let text = cfg.to_yaml();
    assert!(text.contains("vip: 10.0.0.100\n"), "{text}");
    assert!(text.contains("vip: 10.0.2.0/24\n"), "{text}");
    assert!(
        text.contains("- 443\n") && text.contains("- 8000-8010\n"),
        "{text}"
    );
    assert_eq!(Config::from_yaml_str(&text).unwrap(), cfg);
}

#[test]
fn a_mark_service_has_no_address_port_or_protocol() {
    for (field, line) in [
        ("vip", "    vip: 10.0.0.100\n"),
        ("port", "    port: 80\n"),
        ("protocol", "    protocol: tcp\n"),
    ] {
        let yaml =
            format!("{BASE}{MARKS}").replace("    fwmark: 7\n", &format!("    fwmark: 7\n{line}"));
        let e = yaml_err(&yaml);
        assert_error(
            &e,
            &format!("services[2].{field}"),
            "a firewall-mark service has none: the marks: rules say which traffic carries its mark",
        );
    }
}

#[test]
fn bad_marks_are_refused_naming_the_field() {
    let mut cfg = with_marks();
    cfg.services[2].fwmark = Some(0);
    check(
        &cfg,
        "services[2].fwmark",
        "must be 1..=4294967295 (0 is no mark)",
    );
    let mut cfg = with_marks();
    cfg.marks[1].mark = 0;
    check(
        &cfg,
        "marks[1].mark",
        "must be 1..=4294967295 (0 is no mark)",
    );
    let mut cfg = with_marks();
    cfg.marks[0].ports.clear();
    check(&cfg, "marks[0].ports", "must not be empty");
    let e = yaml_err(&format!("{BASE}{MARKS}").replace("10.0.2.0/24", "10.0.2.1/24"));
    assert_error(
        &e,
        "marks[1].vip",
        "host bits set (did you mean 10.0.2.0/24?)",
    );
    let e = yaml_err(&format!("{BASE}{MARKS}").replace("[53]", "[0]"));
    assert_error(
        &e,
        "marks[1].ports[0]",
        "port 0 is no port (give 1..=65535)",
    );
    let e = yaml_err(&format!("{BASE}{MARKS}").replace("[53]", "[\"60-50\"]"));
    assert_eq!(e.path, "marks[1].ports[0]");
    let mut cfg = with_marks();
    let mut dup = cfg.services[2].clone();
    dup.name = "again".into();
    cfg.services.push(dup);
    check(
        &cfg,
        "services[3].fwmark",
        "duplicate of services[2] (fwmark 7)",
    );
    check_ok(&base());
}
