//! The host path's settings: `ports[].host_iface`, `ports[].host_rate_pps`,
//! `workers.host_core`.

use super::{base, base_err, check, check_ok};

#[test]
fn host_path_is_off_by_default_and_the_rate_defaults_to_50000() {
    let cfg = base();
    assert_eq!(cfg.ports[0].host_iface, None);
    assert_eq!(cfg.ports[0].host_rate_pps, 50_000);
    assert_eq!(cfg.workers.host_core, None);
}

#[test]
fn a_twin_per_port_with_a_rate_and_a_host_core_is_valid() {
    let mut cfg = base();
    cfg.ports[0].host_iface = Some("fvs-host0".into());
    cfg.ports[0].host_rate_pps = 1000;
    cfg.ports[1].host_iface = Some("fvs-host1".into());
    cfg.workers.host_core = Some(0);
    check_ok(&cfg);
}

#[test]
fn host_iface_must_be_a_linux_interface_name() {
    let mut cfg = base();
    for (name, why) in [
        ("", "must not be empty"),
        ("a-name-of-16-byt", "is longer than 15 bytes (IFNAMSIZ)"),
        ("..", "is not an interface name"),
        (
            "tap/0",
            "must not contain '/', ':', white space or control characters",
        ),
        (
            "tap 0",
            "must not contain '/', ':', white space or control characters",
        ),
        (
            "eth0:1",
            "must not contain '/', ':', white space or control characters",
        ),
    ] {
        cfg.ports[1].host_iface = Some(name.into());
        check(&cfg, "ports[1].host_iface", &format!("{name:?} {why}"));
    }
    cfg.ports[1].host_iface = Some("a-name-of-15-by".into());
    check_ok(&cfg);
}

#[test]
fn host_iface_is_unique_and_not_a_ports_device() {
    let mut cfg = base();
    cfg.ports[0].host_iface = Some("twin".into());
    cfg.ports[1].host_iface = Some("twin".into());
    check(
        &cfg,
        "ports[1].host_iface",
        "\"twin\" is already the host_iface of ports[0]",
    );
    cfg.ports[1].host_iface = Some("lb0".into());
    check(
        &cfg,
        "ports[1].host_iface",
        "\"lb0\" is the interface of ports[0].device",
    );
}

#[test]
fn host_rate_pps_must_be_positive() {
    let e = base_err(
        "    addresses: [10.30.0.1/24]",
        "    addresses: [10.30.0.1/24]\n    host_rate_pps: 0",
    );
    super::assert_error(&e, "ports[1].host_rate_pps", "must be > 0");
}

#[test]
fn host_core_must_not_be_a_worker_core() {
    let mut cfg = base();
    cfg.workers.host_core = Some(1);
    check(
        &cfg,
        "workers.host_core",
        "1 is a worker core (workers.cores)",
    );
}
