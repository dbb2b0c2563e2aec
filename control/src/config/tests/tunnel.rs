//! `tun_type`, `tun_port`, `tun_flags`: parsing, inheritance from the
//! service, and the combinations refused with the field named.

use super::{assert_error, base_err, yaml_err, BASE};
use crate::config::{Config, TunFlags, TunType, Tunnel};

/// `BASE` with the dns service (dr) turned into a tun service with `svc`
/// fields and a real with `real` fields.
fn tun_yaml(svc: &str, real: &str) -> String {
    let from = "    forward: dr\n    reals:\n      - {address: 10.20.0.4}\n";
    assert!(BASE.contains(from));
    BASE.replacen(
        from,
        &format!("    forward: tun\n{svc}    reals:\n      - {{address: 10.20.0.4{real}}}\n"),
        1,
    )
}

fn tunnel(yaml: &str) -> Tunnel {
    let cfg = Config::from_yaml_str(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let s = &cfg.services[1];
    s.tunnel_of(&s.reals[0]).expect("a tun real")
}

fn refused(svc: &str, real: &str, path: &str, message: &str) {
    assert_error(&yaml_err(&tun_yaml(svc, real)), path, message);
}

#[test]
fn defaults_and_resolution() {
    let t = |kind, port, flags| Tunnel { kind, port, flags };
    assert_eq!(
        tunnel(&tun_yaml("", "")),
        t(TunType::Ipip, 0, TunFlags::Nocsum)
    );
    assert_eq!(
        tunnel(&tun_yaml("", ", tun_type: gue, tun_port: 6080")),
        t(TunType::Gue, 6080, TunFlags::Nocsum)
    );
    assert_eq!(
        tunnel(&tun_yaml("", ", tun_type: gre, tun_flags: csum")),
        t(TunType::Gre, 0, TunFlags::Csum)
    );
    // Each field inherited from the service, as `forward` is.
    let svc = "    tun_type: gue\n    tun_port: 6080\n    tun_flags: remcsum\n";
    assert_eq!(
        tunnel(&tun_yaml(svc, "")),
        t(TunType::Gue, 6080, TunFlags::Remcsum)
    );
    assert_eq!(
        tunnel(&tun_yaml(svc, ", tun_port: 7")),
        t(TunType::Gue, 7, TunFlags::Remcsum)
    );
    // What does not apply to the real's own type is not inherited.
    assert_eq!(
        tunnel(&tun_yaml(svc, ", tun_type: ipip")),
        t(TunType::Ipip, 0, TunFlags::Nocsum)
    );
    let svc = "    tun_type: gue\n    tun_port: 6080\n    tun_flags: csum\n";
    assert_eq!(
        tunnel(&tun_yaml(svc, ", tun_type: gre")),
        t(TunType::Gre, 0, TunFlags::Csum)
    );
    // Not a tun real: no tunnel.
    let cfg = Config::from_yaml_str(BASE).unwrap();
    assert_eq!(cfg.services[1].tunnel_of(&cfg.services[1].reals[0]), None);
}

#[test]
fn defaults_are_not_written() {
    let yaml = tun_yaml("", ", tun_type: gue, tun_port: 6080, tun_flags: csum");
    let cfg = Config::from_yaml_str(&yaml).unwrap();
    let out = cfg.to_yaml();
    assert!(out.contains("tun_type: gue") && out.contains("tun_port: 6080"));
    assert_eq!(Config::from_yaml_str(&out).unwrap(), cfg);
    let cfg = Config::from_yaml_str(&tun_yaml("", "")).unwrap();
    assert!(!cfg.to_yaml().contains("tun_"));
}

#[test]
fn refused_combinations_name_the_field() {
    let r = "services[1].reals[0]";
    refused(
        "",
        ", tun_type: gue",
        &format!("{r}.tun_port"),
        "required with tun_type gue",
    );
    refused(
        "",
        ", tun_port: 6080",
        &format!("{r}.tun_port"),
        "only valid with tun_type gue (not ipip)",
    );
    refused(
        "",
        ", tun_type: gre, tun_port: 6080",
        &format!("{r}.tun_port"),
        "only valid with tun_type gue (not gre)",
    );
    refused(
        "",
        ", tun_flags: csum",
        &format!("{r}.tun_flags"),
        "csum: tun_type ipip takes no checksum option",
    );
    refused(
        "",
        ", tun_type: gre, tun_flags: remcsum",
        &format!("{r}.tun_flags"),
        "remcsum is only valid with tun_type gue",
    );
    refused(
        "    tun_type: gue\n    tun_port: 1\n    tun_flags: remcsum\n",
        ", tun_type: gre",
        &format!("{r}.tun_type"),
        "gre does not take tun_flags remcsum (from services[1].tun_flags)",
    );
    refused(
        "    tun_port: 6080\n",
        "",
        "services[1].tun_port",
        "only valid with tun_type gue (not ipip)",
    );
    refused(
        "",
        ", tun_type: gue, tun_port: 0",
        &format!("{r}.tun_port"),
        "must be 1..=65535",
    );
    refused(
        "",
        ", tun_type: vxlan",
        &format!("{r}.tun_type"),
        "unknown tunnel type \"vxlan\" (expected one of ipip gue gre)",
    );
    // Tunnel fields only where the forwarding method is tun.
    assert_error(
        &base_err(
            "      - {address: 10.20.0.4}",
            "      - {address: 10.20.0.4, tun_type: gre}",
        ),
        "services[1].reals[0].tun_type",
        "only valid with forward tun (this real forwards by dr)",
    );
    assert_error(
        &base_err(
            "    forward: dr\n",
            "    forward: dr\n    tun_flags: csum\n",
        ),
        "services[1].tun_flags",
        "only valid with forward tun (this service forwards by dr)",
    );
}
