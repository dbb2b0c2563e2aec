//! `vrrp_instance` blocks into `vrrp:` entries: every keyword, the
//! interface to port resolution, the `global_defs` defaults, keepalived's
//! corrections (each reported) and `ha_suspend`.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::{diags, mapped, mapped_on, one_port};
use crate::config::health::{Script, Seconds};
use crate::config::{AuthType, Config, VrrpAuth, VrrpState};
use crate::keepalived::ImportError;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// Two ports: `eth0` (twin `fvs-eth0`, device interface `lb0`) and `eth1`
/// (twin `fvs-eth1`, device interface `lb1`).
fn two_ports() -> Config {
    Config::from_yaml_str(
        "workers: {cores: [0]}\nports:\n\
         - {name: eth0, device: \"net_af_packet0,iface=lb0\", addresses: [10.10.0.2/24], host_iface: fvs-eth0}\n\
         - {name: eth1, device: \"net_af_packet1,iface=lb1\", addresses: [10.30.0.1/24], host_iface: fvs-eth1}\n",
    )
    .unwrap()
}

fn instance(interface: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n  interface {interface}\n  virtual_router_id 9\n  virtual_ipaddress {{\n    10.10.0.100\n  }}\n}}\n"
    )
}

#[test]
fn every_instance_keyword_is_mapped() {
    let base = one_port();
    let m = mapped_on(
        r#"vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 2
  version 2
  preempt_delay 2.5
  authentication {
    auth_type PASS
    auth_pass secret
  }
  unicast_src_ip 10.10.0.2
  unicast_peer {
    10.10.0.3
    10.10.0.4
  }
  virtual_ipaddress {
    10.10.0.100
    10.20.0.1/24
  }
  garp_master_repeat 3
  garp_master_delay 10
  notify_master "/usr/local/bin/master 'a b'"
  notify_backup /usr/local/bin/backup
  notify_fault /usr/local/bin/fault
  notify_stop /usr/local/bin/stop
  notify /usr/local/bin/notify
}
"#,
        Some(&base),
    );
    assert_eq!(diags(&m), Vec::<String>::new());
    let v = &m.vrrp[0];
    assert_eq!(
        (
            v.name.as_str(),
            v.port.as_str(),
            v.virtual_router_id,
            v.priority
        ),
        ("VI_1", "eth0", 51, 150)
    );
    assert_eq!(
        (v.state, v.advert_int, v.version, v.nopreempt),
        (VrrpState::Backup, Seconds::from_secs(2), 2, false)
    );
    assert_eq!(v.preempt_delay, Seconds::from_micros(2_500_000));
    assert_eq!(
        v.authentication,
        Some(VrrpAuth {
            auth_type: AuthType::Pass,
            auth_pass: "secret".into()
        })
    );
    assert_eq!(v.unicast_src_ip, Some(ip("10.10.0.2")));
    assert_eq!(v.unicast_peer, [ip("10.10.0.3"), ip("10.10.0.4")]);
    let vips: Vec<String> = v.virtual_ipaddress.iter().map(|a| a.to_string()).collect();
    assert_eq!(vips, ["10.10.0.100", "10.20.0.1/24"]);
    assert_eq!(
        (v.garp_master_repeat, v.garp_master_delay),
        (3, Seconds::from_secs(10))
    );
    assert_eq!(
        v.notify_master,
        Some(Script("/usr/local/bin/master 'a b'".into()))
    );
    assert_eq!(v.notify.as_ref().unwrap().0, "/usr/local/bin/notify");
    assert_eq!(m.vrrp_origins, [("k.conf".to_string(), 1)]);
    let cfg = m.into_config(Some(&base)).unwrap();
    assert_eq!(cfg.vrrp.len(), 1);
}

#[test]
fn unmapped_instance_keywords_are_reported() {
    let base = one_port();
    let m = mapped_on(
        "vrrp_script chk {\n  script /bin/true\n}\n\
         vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 9\n  use_vmac\n  track_script {\n    chk\n  }\n  \
           track_interface {\n    eth1\n  }\n  smtp_alert\n  strict_mode\n  dpdk_interface dpdk0\n  bogus 1\n  \
           virtual_ipaddress {\n    10.10.0.100/24 dev eth0 label eth0:1\n    fe80::1\n  }\n  \
           virtual_ipaddress_excluded {\n    10.10.0.101\n  }\n  unicast_peer {\n    10.10.0.3 min_ttl 1\n  }\n}\n\
         vrrp_sync_group G {\n  group {\n    VI_1\n  }\n}\n",
        Some(&base),
    );
    assert_eq!(
        diags(&m),
        [
            "k.conf:1: vrrp_script: not mapped (tracking is not supported: the instances' priorities stay as written)",
            "k.conf:7: use_vmac: not mapped (the RFC virtual MAC is not supported; adverts and ARP answers use the port's MAC, as keepalived does by default)",
            "k.conf:8: track_script: not mapped (tracking is not supported: the instance's priority stays as written)",
            "k.conf:11: track_interface: not mapped (tracking is not supported: the instance's priority stays as written)",
            "k.conf:14: smtp_alert: not mapped (ferrovs sends no mail; transitions are logged)",
            "k.conf:15: strict_mode: not mapped (vrrp_instance keyword with no ferrovs equivalent)",
            "k.conf:16: dpdk_interface: not mapped (DPVS extension with no ferrovs equivalent)",
            "k.conf:17: bogus: not mapped (not a keepalived vrrp_instance keyword; keepalived ignores it)",
            "k.conf:19: 10.10.0.100/24: mapped without \"dev eth0 label eth0:1\" (the address is held on the instance's port)",
            "k.conf:20: fe80::1: not mapped (fe80::1 is IPv6 (ferrovs is IPv4-only))",
            "k.conf:22: virtual_ipaddress_excluded: not mapped (addresses held but not advertised are not supported; list them in virtual_ipaddress)",
            "k.conf:26: 10.10.0.3: mapped without \"min_ttl 1\" (ferrovs sends its adverts with TTL 255 and checks none)",
            "k.conf:29: vrrp_sync_group: not mapped (sync groups are not supported: each vrrp instance fails over on its own)",
        ]
    );
    assert_eq!(m.vrrp[0].virtual_ipaddress[0].to_string(), "10.10.0.100/24");
    assert!(!m.vrrp[0].use_vmac);
    m.into_config(Some(&base)).unwrap();
}

#[test]
fn the_interface_is_a_port_name_twin_or_device_interface() {
    let base = two_ports();
    for (iface, port) in [
        ("eth1", "eth1"),
        ("fvs-eth1", "eth1"),
        ("lb1", "eth1"),
        ("lb0", "eth0"),
    ] {
        let m = mapped_on(&instance(iface), Some(&base));
        assert_eq!(diags(&m), Vec::<String>::new(), "{iface}");
        assert_eq!(m.vrrp[0].port, port, "{iface}");
    }
}

#[test]
fn the_only_port_of_the_base_takes_any_interface() {
    let base = one_port();
    let m = mapped_on(&instance("ens32"), Some(&base));
    assert_eq!(
        diags(&m),
        ["k.conf:2: interface: ens32 mapped as port \"eth0\" (the base's only port)"]
    );
    assert_eq!(m.vrrp[0].port, "eth0");
    m.into_config(Some(&base)).unwrap();
}

#[test]
fn an_unresolved_interface_is_written_as_is_and_refused_with_its_line() {
    let base = two_ports();
    let m = mapped_on(&instance("ens32"), Some(&base));
    assert_eq!(
        diags(&m),
        ["k.conf:2: interface: no port of the base is named \"ens32\" or has it as its interface: written as port \"ens32\""]
    );
    match m.into_config(Some(&base)) {
        Err(e @ ImportError::Invalid { .. }) => assert_eq!(
            e.to_string(),
            "k.conf:1: vrrp_instance: vrrp[0].port: unknown port \"ens32\""
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn without_a_base_the_interface_is_the_port_name_and_the_rest_is_checked() {
    let m = mapped(&instance("ens32"));
    assert_eq!(
        diags(&m),
        ["k.conf:2: interface: mapped as port \"ens32\" (no --base to take the ports from: the config needs a port of that name)"]
    );
    let cfg = m.into_config(None).unwrap();
    assert_eq!(cfg.vrrp[0].port, "ens32");
    let yaml = super::super::fragment_yaml(&cfg, &m);
    assert!(
        yaml.contains("vrrp:\n- name: VI_1\n  port: ens32\n"),
        "{yaml}"
    );
    // What needs no port is still checked.
    let m = mapped("vrrp_instance VI_1 {\n  interface ens32\n  virtual_router_id 9\n  notify_master x\n  virtual_ipaddress {\n    10.10.0.100\n  }\n}\n");
    let e = m.into_config(None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "k.conf:1: vrrp_instance: vrrp[0].notify_master: the program must be an absolute path (\"x\" is not)"
    );
}

#[test]
fn global_defs_give_the_instances_defaults() {
    let base = one_port();
    let m = mapped_on(
        "global_defs {\n  vrrp_version 3\n  vrrp_garp_master_delay 1\n  vrrp_garp_master_repeat 2\n  notify_fifo /run/k.fifo root\n}\n\
         vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  advert_int 0.5\n  virtual_ipaddress {\n    10.10.0.100\n  }\n}\n\
         vrrp_instance B {\n  interface eth0\n  virtual_router_id 2\n  version 2\n  garp_master_delay 0\n  virtual_ipaddress {\n    10.10.0.101\n  }\n}\n",
        Some(&base),
    );
    assert_eq!(
        diags(&m),
        [
            "k.conf:5: notify_fifo: fifo owner \"root\" not mapped (ferrovs creates it as its own user)",
            "k.conf:5: notify_fifo: mapped as every vrrp instance's notify_fifo (ferrovs writes only the INSTANCE lines there, not keepalived's virtual and real server lines)",
        ]
    );
    let (a, b) = (&m.vrrp[0], &m.vrrp[1]);
    assert_eq!((a.version, a.advert_int_cs()), (3, 50));
    assert_eq!(b.version, 2);
    assert_eq!(
        (a.garp_master_delay, a.garp_master_repeat),
        (Seconds::from_secs(1), 2)
    );
    assert_eq!(
        (b.garp_master_delay, b.garp_master_repeat),
        (Seconds::ZERO, 2)
    );
    let fifo = Some(PathBuf::from("/run/k.fifo"));
    assert_eq!((&a.notify_fifo, &b.notify_fifo), (&fifo, &fifo));
    m.into_config(Some(&base)).unwrap();
}

#[test]
fn vrrp_notify_fifo_is_the_instances_fifo() {
    let base = one_port();
    let text = format!(
        "global_defs {{\n  notify_fifo /run/all.fifo\n  vrrp_notify_fifo /run/vrrp.fifo\n}}\n{}",
        instance("eth0")
    );
    let m = mapped_on(&text, Some(&base));
    assert_eq!(
        diags(&m),
        ["k.conf:2: notify_fifo: not mapped (vrrp_notify_fifo takes the instances' lines; ferrovs writes no virtual or real server lines)"]
    );
    assert_eq!(m.vrrp[0].notify_fifo, Some(PathBuf::from("/run/vrrp.fifo")));
    // Without an instance there is nothing to report to it.
    let m = mapped("global_defs {\n  vrrp_notify_fifo /run/vrrp.fifo\n}\n");
    assert_eq!(
        diags(&m),
        ["k.conf:2: vrrp_notify_fifo: not mapped (no vrrp_instance reports to it; ferrovs writes no virtual or real server lines)"]
    );
}

#[test]
fn keepalived_corrections_are_applied_and_reported() {
    let base = one_port();
    let m = mapped_on(
        "vrrp_instance A {\n  state MASTER\n  interface eth0\n  virtual_router_id 1\n  advert_int 1.5\n  nopreempt\n  preempt_delay 5\n  \
           garp_master_repeat 0\n  v3_checksum_as_v2\n  authentication {\n    auth_type PASS\n    auth_pass 123456789\n  }\n  \
           virtual_ipaddress {\n    10.10.0.100\n    10.10.0.100\n  }\n}\n\
         vrrp_instance B {\n  interface eth0\n  virtual_router_id 2\n  version 3\n  priority 255\n  advert_int 0.015\n  state RUNNING\n  \
           authentication {\n    auth_type PASS\n    auth_pass x\n  }\n  virtual_ipaddress {\n    10.10.0.100\n    10.10.0.101\n  }\n}\n",
        Some(&base),
    );
    assert_eq!(
        diags(&m),
        [
            "k.conf:5: advert_int: 1.5 mapped as 2 (keepalived's correction for version 2)",
            "k.conf:6: nopreempt: not mapped (nopreempt with state MASTER; keepalived ignores it)",
            "k.conf:7: preempt_delay: not mapped (preempt_delay with state MASTER; keepalived ignores it)",
            "k.conf:8: garp_master_repeat: 0 mapped as 1 (keepalived's correction)",
            "k.conf:9: v3_checksum_as_v2: not mapped (version 3 only; keepalived ignores it)",
            "k.conf:12: auth_pass: mapped as its first 8 bytes \"12345678\" (keepalived truncates it)",
            "k.conf:16: 10.10.0.100: not mapped (duplicate virtual address; keepalived ignores it)",
            "k.conf:24: advert_int: 0.015 mapped as 0.02 (keepalived's correction for version 3)",
            "k.conf:25: state: unknown state \"RUNNING\" mapped as BACKUP (keepalived's correction)",
            "k.conf:26: authentication: not mapped (VRRP version 3 has no authentication; keepalived ignores it)",
            "k.conf:31: 10.10.0.100: not mapped (already a virtual address of A; keepalived ignores it)",
        ]
    );
    let (a, b) = (&m.vrrp[0], &m.vrrp[1]);
    assert_eq!(
        (
            a.advert_int,
            a.nopreempt,
            a.preempt_delay,
            a.garp_master_repeat
        ),
        (Seconds::from_secs(2), false, Seconds::ZERO, 1)
    );
    assert!(!a.v3_checksum_as_v2);
    assert_eq!(a.auth_pass_bytes(), Some(*b"12345678"));
    assert_eq!(a.virtual_ipaddress.len(), 1);
    assert_eq!(b.advert_int_cs(), 2);
    assert_eq!(
        (b.state, b.authentication.is_none()),
        (VrrpState::Backup, true)
    );
    assert_eq!(b.virtual_ipaddress[0].to_string(), "10.10.0.101");
    m.into_config(Some(&base)).unwrap();
}

#[test]
fn the_address_owner_starts_as_master_and_may_not_be_nopreempt() {
    let base = one_port();
    let m = mapped_on(
        "vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  priority 255\n  nopreempt\n  \
           virtual_ipaddress {\n    10.10.0.100\n  }\n}\n",
        Some(&base),
    );
    assert_eq!(
        diags(&m),
        ["k.conf:5: nopreempt: not mapped (nopreempt with priority 255 (the address owner always takes over); keepalived ignores it)"]
    );
    assert_eq!(
        (m.vrrp[0].state, m.vrrp[0].nopreempt),
        (VrrpState::Master, false)
    );
}

#[test]
fn ah_and_incomplete_authentication_are_reported() {
    let base = one_port();
    let m = mapped_on(
        "vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  authentication {\n    auth_type AH\n    auth_pass x\n  }\n  \
           virtual_ipaddress {\n    10.10.0.100\n  }\n}\n\
         vrrp_instance B {\n  interface eth0\n  virtual_router_id 2\n  authentication {\n    auth_type PASS\n  }\n  \
           virtual_ipaddress {\n    10.10.0.101\n  }\n}\n",
        Some(&base),
    );
    assert_eq!(
        diags(&m),
        [
            "k.conf:5: auth_type: not mapped (IPsec AH authentication is not supported)",
            "k.conf:15: authentication: not mapped (no auth_pass; keepalived ignores it)",
        ]
    );
    assert!(m.vrrp.iter().all(|v| v.authentication.is_none()));
}

#[test]
fn instances_without_router_id_interface_or_address_are_not_mapped() {
    let base = two_ports();
    let m = mapped_on(
        "vrrp_instance A {\n  interface eth0\n  virtual_router_id 0\n  virtual_ipaddress {\n    10.10.0.100\n  }\n}\n\
         vrrp_instance B {\n  virtual_router_id 2\n  virtual_ipaddress {\n    10.10.0.101\n  }\n}\n\
         vrrp_instance C {\n  interface eth0\n  virtual_router_id 3\n}\nvrrp_instance\n",
        Some(&base),
    );
    assert_eq!(
        diags(&m),
        [
            "k.conf:1: vrrp_instance: not mapped (no virtual_router_id (keepalived refuses the instance))",
            "k.conf:3: virtual_router_id: not mapped (invalid value \"0\" (expected 1..=255); keepalived ignores it)",
            "k.conf:8: vrrp_instance: not mapped (no interface)",
            "k.conf:14: vrrp_instance: not mapped (no virtual_ipaddress: a ferrovs instance owns at least one address)",
            "k.conf:18: vrrp_instance: not mapped (missing instance name)",
        ]
    );
    assert!(m.vrrp.is_empty());
}

#[test]
fn ha_suspend_follows_the_instance_owning_the_vip() {
    let base = one_port();
    let m = mapped_on(
        &format!(
            "{}virtual_server 10.10.0.100 80 {{\n  protocol TCP\n  ha_suspend\n  real_server 10.10.0.11 80\n}}\n\
             virtual_server 10.10.0.200 80 {{\n  protocol TCP\n  ha_suspend\n  real_server 10.10.0.11 80\n}}\n\
             virtual_server fwmark 3 {{\n  ha_suspend\n  real_server 10.10.0.11 80\n}}\n",
            instance("eth0")
        ),
        Some(&base),
    );
    assert_eq!(
        diags(&m),
        [
            "k.conf:15: ha_suspend: not mapped (no vrrp_instance owns 10.10.0.200: keepalived follows the address on the host, ferrovs the instance that owns it)",
            "k.conf:19: ha_suspend: not mapped (a firewall-mark service has no VIP to follow)",
        ]
    );
    let flags: Vec<bool> = m.services.iter().map(|s| s.ha_suspend).collect();
    assert_eq!(flags, [true, false, false]);
    let cfg = m.into_config(Some(&base)).unwrap();
    assert!(cfg.to_yaml().contains("  ha_suspend: true\n"));
}
