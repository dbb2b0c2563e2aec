//! The `vrrp:` section: parsing (full and minimal), defaults, the YAML
//! round trip, and the helpers the runtime uses.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::check_ok;
use crate::config::health::{Script, Seconds};
use crate::config::{AuthType, Config, Ipv4Net, VrrpAuth, VrrpState};

/// Two ports with kernel twins, a service VIP held by `VI_1`.
pub(super) const VRRP_BASE: &str = r#"
workers: {cores: [1]}
ports:
  - name: eth0
    device: "net_af_packet0,iface=lb0"
    addresses: [10.10.0.2/24, 10.10.0.5/24]
    host_iface: fvs-eth0
  - name: eth1
    device: "net_af_packet1,iface=lb1"
    addresses: [10.30.0.1/24]
    host_iface: fvs-eth1
services:
  - name: web
    vip: 10.10.0.100
    port: 80
    protocol: tcp
    reals: [{address: 10.30.0.2, port: 8080}]
vrrp:
  - name: VI_1
    port: eth0
    virtual_router_id: 51
    virtual_ipaddress: [10.10.0.100]
"#;

pub(super) fn vrrp_base() -> Config {
    match Config::from_yaml_str(VRRP_BASE) {
        Ok(c) => c,
        Err(e) => panic!("VRRP_BASE does not load: {e}"),
    }
}

const FULL: &str = r#"
vrrp:
  - name: VI_1
    port: eth0
    virtual_router_id: 51
    priority: 150
    advert_int: 2
    version: 2
    state: BACKUP
    preempt_delay: 2.5
    authentication: {auth_type: PASS, auth_pass: "1111"}
    unicast_src_ip: 10.10.0.5
    unicast_peer: [10.10.0.3, 10.10.0.4]
    virtual_ipaddress: [10.10.0.100, 10.20.0.1/24, 10.20.0.10]
    garp_master_repeat: 3
    garp_master_delay: 10
    notify_master: "/usr/local/bin/became-master"
    notify_backup: "/usr/local/bin/became-backup --quiet"
    notify_fault: /usr/local/bin/fault
    notify_stop: /usr/local/bin/stop
    notify: /usr/local/bin/any-transition
    notify_fifo: /run/ferrovs/vrrp.fifo
  - name: VI_2
    port: eth1
    virtual_router_id: 52
    version: 3
    advert_int: 0.5
    state: MASTER
    priority: 255
    v3_checksum_as_v2: true
    virtual_ipaddress: [10.30.0.100]
"#;

/// `VRRP_BASE` with its `vrrp:` section replaced by `section`.
pub(super) fn with_vrrp(section: &str) -> String {
    let at = VRRP_BASE.find("vrrp:\n").unwrap();
    format!("{}{}", &VRRP_BASE[..at], section.trim_start())
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn net(s: &str) -> Ipv4Net {
    s.parse().unwrap()
}

#[test]
fn the_full_example_parses_with_every_key() {
    let cfg = Config::from_yaml_str(&with_vrrp(FULL)).unwrap();
    check_ok(&cfg);
    let v = &cfg.vrrp[0];
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
        (v.advert_int, v.version, v.state, v.nopreempt),
        (Seconds::from_secs(2), 2, VrrpState::Backup, false)
    );
    assert_eq!(v.preempt_delay, Seconds::from_micros(2_500_000));
    assert_eq!(
        v.authentication,
        Some(VrrpAuth {
            auth_type: AuthType::Pass,
            auth_pass: "1111".into()
        })
    );
    assert_eq!(v.unicast_src_ip, Some(ip("10.10.0.5")));
    assert_eq!(v.unicast_peer, [ip("10.10.0.3"), ip("10.10.0.4")]);
    let vips: Vec<String> = v.virtual_ipaddress.iter().map(|a| a.to_string()).collect();
    assert_eq!(vips, ["10.10.0.100", "10.20.0.1/24", "10.20.0.10"]);
    assert_eq!(v.virtual_ipaddress[0].0, net("10.10.0.100/32"));
    assert_eq!(
        (v.garp_master_repeat, v.garp_master_delay),
        (3, Seconds::from_secs(10))
    );
    assert_eq!(
        v.notify_backup,
        Some(Script("/usr/local/bin/became-backup --quiet".into()))
    );
    assert_eq!(
        v.notify.as_ref().unwrap().0,
        "/usr/local/bin/any-transition"
    );
    assert_eq!(v.notify_fifo, Some(PathBuf::from("/run/ferrovs/vrrp.fifo")));
    let w = &cfg.vrrp[1];
    assert_eq!(
        (
            w.version,
            w.advert_int,
            w.state,
            w.priority,
            w.v3_checksum_as_v2
        ),
        (
            3,
            Seconds::from_micros(500_000),
            VrrpState::Master,
            255,
            true
        )
    );
}

#[test]
fn a_minimal_instance_takes_keepalived_defaults() {
    let cfg = vrrp_base();
    let v = &cfg.vrrp[0];
    assert_eq!(v.priority, 100);
    assert_eq!(v.advert_int, Seconds::from_secs(1));
    assert_eq!(v.version, 2);
    assert_eq!(v.state, VrrpState::Backup);
    assert!(!v.nopreempt && !v.v3_checksum_as_v2 && !v.use_vmac);
    assert!(v.preempt_delay.is_zero());
    assert_eq!(v.garp_master_repeat, 5);
    assert_eq!(v.garp_master_delay, Seconds::from_secs(5));
    assert!(v.authentication.is_none() && v.unicast_src_ip.is_none());
    assert!(v.unicast_peer.is_empty() && v.notify_fifo.is_none());
    // Defaults with a value are written out; the rest is left out.
    let yaml = cfg.to_yaml();
    let section = &yaml[yaml.find("vrrp:\n").unwrap()..yaml.find("timeouts:").unwrap()];
    assert_eq!(
        section,
        "vrrp:\n- name: VI_1\n  port: eth0\n  virtual_router_id: 51\n  priority: 100\n  \
         advert_int: 1\n  version: 2\n  state: BACKUP\n  virtual_ipaddress:\n  - 10.10.0.100\n  \
         garp_master_repeat: 5\n  garp_master_delay: 5\n"
    );
    check_ok(&cfg);
}

#[test]
fn no_vrrp_section_is_written_when_there_is_none() {
    let mut cfg = vrrp_base();
    cfg.vrrp.clear();
    assert!(!cfg.to_yaml().contains("vrrp"));
    check_ok(&cfg);
}

#[test]
fn ha_suspend_is_read_and_written_only_when_true() {
    let mut cfg = vrrp_base();
    assert!(!cfg.services[0].ha_suspend);
    assert!(!cfg.to_yaml().contains("ha_suspend"));
    cfg.services[0].ha_suspend = true;
    assert!(cfg.to_yaml().contains("  ha_suspend: true\n"));
    check_ok(&cfg);
}

#[test]
fn timer_helpers_give_centi_and_milliseconds() {
    let cfg = Config::from_yaml_str(&with_vrrp(FULL)).unwrap();
    let (v, w) = (&cfg.vrrp[0], &cfg.vrrp[1]);
    assert_eq!((v.advert_int_cs(), w.advert_int_cs()), (200, 50));
    assert_eq!((v.preempt_delay_ms(), w.preempt_delay_ms()), (2500, 0));
    assert_eq!(
        (v.garp_master_delay_ms(), w.garp_master_delay_ms()),
        (10_000, 5000)
    );
}

#[test]
fn auth_pass_bytes_are_zero_padded_and_checksum_follows_the_version() {
    let cfg = Config::from_yaml_str(&with_vrrp(FULL)).unwrap();
    let (mut v, mut w) = (cfg.vrrp[0].clone(), cfg.vrrp[1].clone());
    assert_eq!(v.auth_pass_bytes(), Some(*b"1111\0\0\0\0"));
    v.authentication.as_mut().unwrap().auth_pass = "12345678".into();
    assert_eq!(v.auth_pass_bytes(), Some(*b"12345678"));
    assert_eq!(w.auth_pass_bytes(), None);
    // Version 2 never covers a pseudo-header; version 3 only on request.
    assert!(v.checksum_as_v2());
    assert!(w.checksum_as_v2());
    w.v3_checksum_as_v2 = false;
    assert!(!w.checksum_as_v2());
}

#[test]
fn the_owner_of_an_address_and_the_adverts_source() {
    let cfg = Config::from_yaml_str(&with_vrrp(FULL)).unwrap();
    assert_eq!(cfg.vrrp_owner_of(ip("10.20.0.1")), Some(0));
    assert_eq!(cfg.vrrp_owner_of(ip("10.30.0.100")), Some(1));
    assert_eq!(cfg.vrrp_owner_of(ip("10.10.0.2")), None);
    // unicast_src_ip, else the port's first address.
    assert_eq!(cfg.vrrp_src_ip(0), Some(ip("10.10.0.5")));
    assert_eq!(cfg.vrrp_src_ip(1), Some(ip("10.30.0.1")));
    assert_eq!(cfg.vrrp_src_ip(2), None);
}

#[test]
fn port_addresses_with_virtual_adds_only_addresses_held_for_vrrp() {
    let yaml = with_vrrp(
        r#"
vrrp:
  - name: VI_1
    port: eth0
    virtual_router_id: 51
    # a VIP, a new prefix, a port address, a FullNAT local address, a mark VIP
    virtual_ipaddress: [10.10.0.100, 10.20.0.1/24, 10.10.0.5, 10.10.0.50, 10.10.0.60, 10.20.0.10]
  - name: VI_2
    port: eth0
    virtual_router_id: 52
    virtual_ipaddress: [10.10.0.201]
  - name: VI_3
    port: eth1
    virtual_router_id: 52
    virtual_ipaddress: [10.30.0.100/24]
marks:
  - {mark: 7, vip: 10.10.0.60, protocol: tcp, ports: [80]}
"#,
    )
    .replace(
        "    reals: [{address: 10.30.0.2, port: 8080}]\n",
        "    reals: [{address: 10.30.0.2, port: 8080}]\n  \
         - {name: fnat, vip: 10.10.0.101, port: 80, protocol: tcp, forward: fullnat, \
         local_addresses: [10.10.0.50], reals: [{address: 10.30.0.3}]}\n",
    );
    let cfg = Config::from_yaml_str(&yaml).unwrap();
    let shown = |p: usize| -> Vec<String> {
        cfg.port_addresses_with_virtual(p)
            .iter()
            .map(|a| a.to_string())
            .collect()
    };
    assert_eq!(
        shown(0),
        [
            "10.10.0.2/24",
            "10.10.0.5/24",
            "10.20.0.1/24",
            "10.20.0.10/32",
            "10.10.0.201/32"
        ]
    );
    assert_eq!(shown(1), ["10.30.0.1/24", "10.30.0.100/24"]);
    assert!(shown(2).is_empty());
}
