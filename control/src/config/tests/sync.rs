//! The `sync:` section: parsing, defaults, the YAML round trip, and every
//! refusal (one test per rule; the exact error text is asserted).

use std::net::Ipv4Addr;

use super::vrrp::VRRP_BASE;
use super::{assert_error, check, check_ok, yaml_err};
use crate::config::health::Seconds;
use crate::config::{Config, SyncConfig, SyncRole, SyncRoles};

/// `VRRP_BASE` (ports eth0 and eth1 with kernel twins, instance VI_1) with
/// a port without a twin and a sync section following VI_1.
fn sync_base() -> Config {
    let yaml = format!(
        "{VRRP_BASE}sync: {{interface: eth1, instance: VI_1}}\n"
    )
    .replace(
        "    host_iface: fvs-eth1\n",
        "    host_iface: fvs-eth1\n  - name: eth2\n    device: \"net_af_packet2,iface=lb2\"\n    addresses: [10.40.0.1/24]\n",
    );
    match Config::from_yaml_str(&yaml) {
        Ok(c) => c,
        Err(e) => panic!("sync base does not load: {e}\n{yaml}"),
    }
}

/// `sync_base()` changed by `f`, which must be refused as given.
fn refused(f: impl FnOnce(&mut SyncConfig), path: &str, message: &str) {
    let mut cfg = sync_base();
    f(cfg.sync.as_mut().unwrap());
    check(&cfg, path, message);
}

/// The YAML error of `sync:` written as `section` over `VRRP_BASE`.
fn sync_yaml_err(section: &str) -> crate::config::ConfigError {
    yaml_err(&format!("{VRRP_BASE}sync: {section}\n"))
}

#[test]
fn defaults_are_the_kernels() {
    let cfg = sync_base();
    let s = cfg.sync.as_ref().unwrap();
    assert_eq!(s.interface, "eth1");
    assert_eq!(s.instance.as_deref(), Some("VI_1"));
    assert_eq!(s.role, None);
    assert_eq!(
        (s.syncid, s.mcast_group, s.mcast_port, s.mcast_ttl, s.maxlen),
        (0, Ipv4Addr::new(224, 0, 0, 81), 8848, 1, 1472)
    );
    assert_eq!(s.flush_interval, Seconds::from_secs(2));
    assert_eq!(s.flush_interval_ms(), 2000);
    assert_eq!(s, &{
        let mut d = SyncConfig::new("eth1");
        d.instance = Some("VI_1".into());
        d
    });
    check_ok(&cfg);
    // Without the key, no sync.
    let plain = Config::from_yaml_str(VRRP_BASE).unwrap();
    assert_eq!(plain.sync, None);
    assert!(!plain.to_yaml().contains("sync"));
}

#[test]
fn every_key_is_read_and_written_back() {
    let cfg = Config::from_yaml_str(&format!(
        "{VRRP_BASE}sync:\n  interface: eth0\n  syncid: 51\n  mcast_group: 239.1.2.3\n  mcast_port: 9000\n  mcast_ttl: 3\n  maxlen: 65507\n  flush_interval: 0.2\n  role: both\n"
    ))
    .unwrap();
    let s = cfg.sync.as_ref().unwrap();
    assert_eq!(
        (
            s.syncid,
            s.mcast_group.to_string(),
            s.mcast_port,
            s.mcast_ttl,
            s.maxlen
        ),
        (51, "239.1.2.3".into(), 9000, 3, 65507)
    );
    assert_eq!(s.role, Some(SyncRoles::Both));
    assert_eq!(s.flush_interval_ms(), 200);
    check_ok(&cfg);
    let yaml = cfg.to_yaml();
    assert!(
        yaml.contains("sync:\n  interface: eth0\n  role: both\n  syncid: 51\n"),
        "{yaml}"
    );
    assert!(yaml.contains("  flush_interval: 0.2\n"), "{yaml}");
}

#[test]
fn roles() {
    for (word, role, daemons) in [
        ("master", SyncRoles::Master, &[SyncRole::Master][..]),
        ("backup", SyncRoles::Backup, &[SyncRole::Backup][..]),
        (
            "both",
            SyncRoles::Both,
            &[SyncRole::Master, SyncRole::Backup][..],
        ),
    ] {
        let cfg = Config::from_yaml_str(&format!(
            "{VRRP_BASE}sync: {{interface: eth0, role: {word}}}\n"
        ))
        .unwrap();
        let r = cfg.sync.as_ref().unwrap().role.unwrap();
        assert_eq!((r, r.roles()), (role, daemons));
        check_ok(&cfg);
    }
    assert_eq!("master".parse::<SyncRole>(), Ok(SyncRole::Master));
    assert_eq!(SyncRole::Backup.to_string(), "backup");
    assert!("both".parse::<SyncRole>().is_err());
    let e = sync_yaml_err("{interface: eth0, role: primary}");
    assert_eq!(e.path, "sync.role");
    assert!(e.message.contains("unknown variant `primary`"), "{e}");
}

#[test]
fn the_interface_is_a_port_with_a_kernel_twin() {
    refused(
        |s| s.interface.clear(),
        "sync.interface",
        "must not be empty",
    );
    refused(
        |s| s.interface = "eth9".into(),
        "sync.interface",
        "unknown port \"eth9\" (ports[].name)",
    );
    refused(
        |s| s.interface = "eth2".into(),
        "sync.interface",
        "port \"eth2\" has no host_iface (the sync datagrams travel through the port's kernel twin)",
    );
    let e = sync_yaml_err("{role: master}");
    assert_error(&e, "sync.interface", "missing");
}

#[test]
fn the_instance_is_a_vrrp_instance() {
    refused(
        |s| s.instance = Some(String::new()),
        "sync.instance",
        "must not be empty",
    );
    refused(
        |s| s.instance = Some("VI_9".into()),
        "sync.instance",
        "no vrrp instance is named \"VI_9\" (vrrp[].name)",
    );
}

#[test]
fn role_only_without_instance_and_then_required() {
    refused(
        |s| s.role = Some(SyncRoles::Master),
        "sync.role",
        "must be absent with instance (the instance's state chooses the daemon: master while MASTER, backup otherwise)",
    );
    refused(
        |s| s.instance = None,
        "sync.role",
        "required without instance: master, backup or both",
    );
}

#[test]
fn syncid_is_0_to_255() {
    for ok in ["0", "255"] {
        let cfg = Config::from_yaml_str(&format!(
            "{VRRP_BASE}sync: {{interface: eth0, role: master, syncid: {ok}}}\n"
        ))
        .unwrap();
        check_ok(&cfg);
    }
    for bad in ["256", "-1"] {
        let e = sync_yaml_err(&format!("{{interface: eth0, role: master, syncid: {bad}}}"));
        assert_error(&e, "sync.syncid", "must be 0..=255");
    }
}

#[test]
fn the_group_is_multicast() {
    for bad in ["10.0.0.1", "255.255.255.255", "0.0.0.0", "240.0.0.1"] {
        refused(
            |s| s.mcast_group = bad.parse().unwrap(),
            "sync.mcast_group",
            &format!("{bad} is not a multicast address (224.0.0.0/4)"),
        );
    }
    for ok in ["224.0.0.1", "239.255.255.255"] {
        let mut cfg = sync_base();
        cfg.sync.as_mut().unwrap().mcast_group = ok.parse().unwrap();
        check_ok(&cfg);
    }
    let e = sync_yaml_err("{interface: eth0, role: master, mcast_group: \"ff02::1\"}");
    assert_eq!(e.path, "sync.mcast_group");
}

#[test]
fn port_ttl_and_maxlen_ranges() {
    refused(|s| s.mcast_port = 0, "sync.mcast_port", "must be 1..=65535");
    refused(|s| s.mcast_ttl = 0, "sync.mcast_ttl", "must be 1..=255");
    refused(|s| s.maxlen = 0, "sync.maxlen", "must be 1..=65507");
    refused(|s| s.maxlen = 65508, "sync.maxlen", "must be 1..=65507");
    for (key, bad, msg) in [
        ("mcast_port", "0", "must be 1..=65535"),
        ("mcast_port", "65536", "must be 1..=65535"),
        ("mcast_ttl", "0", "must be 1..=255"),
        ("mcast_ttl", "256", "must be 1..=255"),
        ("maxlen", "0", "must be 1..=65507"),
        ("maxlen", "65508", "must be 1..=65507"),
    ] {
        let e = sync_yaml_err(&format!("{{interface: eth0, role: master, {key}: {bad}}}"));
        assert_error(&e, &format!("sync.{key}"), msg);
    }
    let mut cfg = sync_base();
    let s = cfg.sync.as_mut().unwrap();
    (s.mcast_port, s.mcast_ttl, s.maxlen) = (65535, 255, 1);
    check_ok(&cfg);
}

#[test]
fn flush_interval_is_above_0_at_most_2_in_milliseconds() {
    refused(
        |s| s.flush_interval = Seconds::ZERO,
        "sync.flush_interval",
        "must be above 0",
    );
    refused(
        |s| s.flush_interval = Seconds::from_micros(2_001_000),
        "sync.flush_interval",
        "must be at most 2 seconds (the kernel sends a message at most 2 s old)",
    );
    refused(
        |s| s.flush_interval = Seconds::from_micros(1500),
        "sync.flush_interval",
        "must be a whole number of milliseconds",
    );
    for ok in [1000, 200_000, 2_000_000] {
        let mut cfg = sync_base();
        cfg.sync.as_mut().unwrap().flush_interval = Seconds::from_micros(ok);
        check_ok(&cfg);
    }
    let e = sync_yaml_err("{interface: eth0, role: master, flush_interval: -1}");
    assert_eq!(e.path, "sync.flush_interval");
}

#[test]
fn unknown_keys_are_refused() {
    let e = sync_yaml_err("{interface: eth0, role: master, mcast_interface: eth0}");
    assert_eq!(e.path, "sync.mcast_interface");
    assert!(e.message.starts_with("unknown field"), "{e}");
}
