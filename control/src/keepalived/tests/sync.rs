//! `lvs_sync_daemon` (and the deprecated `lvs_sync_daemon_interface`)
//! into `sync:`: every option, keepalived's defaults (the instance's
//! virtual_router_id as syncid, both daemons without an instance), and
//! every value keepalived ignores, reported.

use std::net::Ipv4Addr;

use super::{diags, mapped, mapped_on, one_port};
use crate::config::{Config, SyncConfig, SyncRoles};
use crate::keepalived::{fragment_yaml, ImportError};

/// `VI_1` on eth0 with virtual_router_id 9, after `global_defs` holding
/// `sync`.
fn with_instance(sync: &str) -> String {
    format!(
        "global_defs {{\n  {sync}\n}}\n\
         vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 9\n  virtual_ipaddress {{\n    10.10.0.100\n  }}\n}}\n"
    )
}

fn sync_of(text: &str) -> (SyncConfig, Vec<String>) {
    let base = one_port();
    let m = mapped_on(text, Some(&base));
    let cfg = match m.into_config(Some(&base)) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(cfg.sync, m.sync);
    (m.sync.clone().expect("a sync section"), diags(&m))
}

#[test]
fn every_option_is_mapped() {
    let (s, d) = sync_of(&with_instance(
        "lvs_sync_daemon eth0 inst VI_1 id 51 maxlen 1400 port 9000 ttl 3 group 239.1.1.1",
    ));
    assert!(d.is_empty(), "{d:?}");
    let mut want = SyncConfig::new("eth0");
    want.instance = Some("VI_1".into());
    want.syncid = 51;
    want.maxlen = 1400;
    want.mcast_port = 9000;
    want.mcast_ttl = 3;
    want.mcast_group = Ipv4Addr::new(239, 1, 1, 1);
    assert_eq!(s, want);
}

#[test]
fn keepalived_defaults() {
    // With an instance and no id: the instance's virtual_router_id.
    let (s, d) = sync_of(&with_instance("lvs_sync_daemon eth0 inst VI_1"));
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        (s.instance.as_deref(), s.role, s.syncid),
        (Some("VI_1"), None, 9)
    );
    assert_eq!(
        (s.maxlen, s.mcast_port, s.mcast_ttl, s.mcast_group),
        (1472, 8848, 1, Ipv4Addr::new(224, 0, 0, 81))
    );
    // No instance: keepalived's checker runs both daemons, syncid 0.
    let (s, d) = sync_of(&with_instance("lvs_sync_daemon eth0"));
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        (s.instance, s.role, s.syncid),
        (None, Some(SyncRoles::Both), 0)
    );
    let (s, _) = sync_of(&with_instance("lvs_sync_daemon eth0 id 0"));
    assert_eq!(s.syncid, 0);
}

#[test]
fn the_old_positional_form() {
    let (s, d) = sync_of(&with_instance("lvs_sync_daemon eth0 VI_1"));
    assert!(d.is_empty(), "{d:?}");
    assert_eq!((s.instance.as_deref(), s.syncid), (Some("VI_1"), 9));
    let (s, d) = sync_of(&with_instance("lvs_sync_daemon eth0 VI_1 7 ttl 2"));
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(
        (s.instance.as_deref(), s.syncid, s.mcast_ttl),
        (Some("VI_1"), 7, 2)
    );
}

#[test]
fn the_deprecated_instance_keyword() {
    let base = one_port();
    let m = mapped_on(
        "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 9\n  lvs_sync_daemon_interface fvs-eth0\n  virtual_ipaddress {\n    10.10.0.100\n  }\n}\n\
         global_defs {\n  lvs_sync_daemon eth0 id 4\n}\n",
        Some(&base),
    );
    let s = m.sync.clone().unwrap();
    // The instance's own: no vrid default (keepalived's syncid is 0).
    assert_eq!(
        (s.interface.as_str(), s.instance.as_deref(), s.syncid),
        ("eth0", Some("VI_1"), 0)
    );
    // The first one read wins, as in keepalived.
    assert_eq!(
        diags(&m),
        ["k.conf:10: lvs_sync_daemon: not mapped (the sync daemon is already given at k.conf:4; keepalived ignores it)"]
    );
    m.into_config(Some(&base)).unwrap();
}

#[test]
fn values_keepalived_ignores_are_reported() {
    let base = one_port();
    let m = mapped_on(
        &with_instance(
            "lvs_sync_daemon eth0 inst VI_1 id 300 maxlen 0 port 70000 ttl 0 group 10.0.0.1 bogus 1 inst VI_2 maxlen",
        ),
        Some(&base),
    );
    let s = m.sync.clone().unwrap();
    assert_eq!(
        (s.syncid, s.maxlen, s.mcast_port, s.mcast_ttl, s.mcast_group),
        (9, 1472, 8848, 1, Ipv4Addr::new(224, 0, 0, 81))
    );
    assert_eq!(
        diags(&m),
        [
            "k.conf:2: lvs_sync_daemon: id not mapped (invalid value \"300\" (expected 0..=255); keepalived ignores it)",
            "k.conf:2: lvs_sync_daemon: maxlen not mapped (invalid value \"0\" (expected 1..=65507); keepalived ignores it)",
            "k.conf:2: lvs_sync_daemon: port not mapped (invalid value \"70000\" (expected 1..=65535); keepalived ignores it)",
            "k.conf:2: lvs_sync_daemon: ttl not mapped (invalid value \"0\" (expected 1..=255); keepalived ignores it)",
            "k.conf:2: lvs_sync_daemon: group not mapped (10.0.0.1 is not a multicast address; keepalived ignores it)",
            "k.conf:2: lvs_sync_daemon: bogus not mapped (unknown option; keepalived ignores it)",
            "k.conf:2: lvs_sync_daemon: 1 not mapped (unknown option; keepalived ignores it)",
            "k.conf:2: lvs_sync_daemon: inst not mapped (instance already given as VI_1; keepalived ignores it)",
            "k.conf:2: lvs_sync_daemon: maxlen not mapped (no value; keepalived ignores it)",
        ]
    );
    m.into_config(Some(&base)).unwrap();
    let m = mapped_on(
        &with_instance("lvs_sync_daemon eth0 group ff02::1 VI_1 x"),
        Some(&base),
    );
    assert_eq!(
        diags(&m),
        [
            "k.conf:2: lvs_sync_daemon: group not mapped (ff02::1 is IPv6 (ferrovs is IPv4-only))",
            "k.conf:2: lvs_sync_daemon: VI_1 not mapped (unknown option; keepalived ignores it)",
            "k.conf:2: lvs_sync_daemon: x not mapped (unknown option; keepalived ignores it)",
        ]
    );
    // After `group A` the old form's positions are taken: VI_1 is no
    // instance name there.
    assert_eq!(m.sync.unwrap().role, Some(SyncRoles::Both));
}

#[test]
fn a_daemon_keepalived_does_not_run_is_not_mapped() {
    let cases = [
        ("lvs_sync_daemon", "k.conf:2: lvs_sync_daemon: not mapped (no interface; keepalived ignores it)"),
        (
            "lvs_sync_daemon an-interface-name-too-long",
            "k.conf:2: lvs_sync_daemon: not mapped (interface name \"an-interface-name-too-long\" longer than 15 characters; keepalived ignores it)",
        ),
        (
            "lvs_sync_daemon eth0 inst VI_9",
            "k.conf:2: lvs_sync_daemon: not mapped (the sync daemon follows vrrp_instance VI_9, which is not mapped)",
        ),
    ];
    for (line, want) in cases {
        let m = mapped_on(&with_instance(line), Some(&one_port()));
        assert_eq!(m.sync, None, "{line}");
        assert_eq!(diags(&m), [want], "{line}");
    }
    // Outside global_defs keepalived does not read it.
    let m = mapped("lvs_sync_daemon eth0\n");
    assert_eq!(m.sync, None);
    assert_eq!(
        diags(&m),
        ["k.conf:1: lvs_sync_daemon: not mapped (keepalived reads it only inside global_defs and ignores it here)"]
    );
}

#[test]
fn interfaces_resolve_to_ports() {
    // The kernel twin's name, the device's interface.
    for iface in ["fvs-eth0", "lb0"] {
        let (s, d) = sync_of(&with_instance(&format!(
            "lvs_sync_daemon {iface} inst VI_1"
        )));
        assert_eq!(s.interface, "eth0");
        assert!(d.is_empty(), "{d:?}");
    }
    // Without a base the name is written as a port name, and the
    // section gets every check that needs no port.
    let m = mapped(&with_instance("lvs_sync_daemon ens3 inst VI_1"));
    assert_eq!(m.sync.as_ref().unwrap().interface, "ens3");
    let cfg = m.into_config(None).unwrap();
    let yaml = fragment_yaml(&cfg, &m);
    assert!(
        yaml.contains("sync:\n  interface: ens3\n  instance: VI_1\n  syncid: 9\n"),
        "{yaml}"
    );
}

#[test]
fn a_refused_section_names_the_keepalived_line() {
    let base = Config::from_yaml_str(
        "workers: {cores: [0]}\nports:\n  - {name: eth0, device: \"net_af_packet0,iface=lb0\", addresses: [10.10.0.2/24]}\n",
    )
    .unwrap();
    let m = mapped_on("global_defs {\n  lvs_sync_daemon eth0\n}\n", Some(&base));
    match m.into_config(Some(&base)) {
        Err(e @ ImportError::Invalid { .. }) => assert_eq!(
            e.to_string(),
            "k.conf:2: lvs_sync_daemon: sync.interface: port \"eth0\" has no host_iface (the sync datagrams travel through the port's kernel twin)"
        ),
        other => panic!("{other:?}"),
    }
}
