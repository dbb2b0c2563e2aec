//! Every invalid `vrrp:` value and `ha_suspend` is refused whole, naming
//! the field (one test per rule; the exact error text is asserted).

use std::path::PathBuf;

use super::vrrp::{vrrp_base, with_vrrp};
use super::{assert_error, check, check_ok, yaml_err};
use crate::config::health::{Script, Seconds};
use crate::config::{AuthType, Config, VirtualAddress, VrrpAuth, VrrpState};

fn va(s: &str) -> VirtualAddress {
    s.parse().unwrap()
}

/// `vrrp_base()` changed by `f`, which must be refused as given.
fn refused(f: impl FnOnce(&mut Config), path: &str, message: &str) {
    let mut cfg = vrrp_base();
    f(&mut cfg);
    check(&cfg, path, message);
}

/// A second instance on eth0 (router id 52, address 10.10.0.200).
fn two() -> Config {
    let mut cfg = vrrp_base();
    let mut w = cfg.vrrp[0].clone();
    w.name = "VI_2".into();
    w.virtual_router_id = 52;
    w.virtual_ipaddress = vec![va("10.10.0.200")];
    cfg.vrrp.push(w);
    check_ok(&cfg);
    cfg
}

#[test]
fn at_most_64_instances() {
    let mut cfg = vrrp_base();
    for k in 1..=64u8 {
        let mut w = cfg.vrrp[0].clone();
        w.name = format!("VI_{k}x");
        w.virtual_router_id = 100 + k;
        w.virtual_ipaddress = vec![va(&format!("10.10.1.{k}"))];
        cfg.vrrp.push(w);
    }
    check(
        &cfg,
        "vrrp[64]",
        "at most 64 instances (the dataplane keeps one mastership bit per instance)",
    );
    cfg.vrrp.pop();
    check_ok(&cfg);
}

#[test]
fn names_are_non_empty_one_word_and_unique() {
    refused(
        |c| c.vrrp[0].name.clear(),
        "vrrp[0].name",
        "must not be empty",
    );
    refused(
        |c| c.vrrp[0].name = "VI 1".into(),
        "vrrp[0].name",
        "must not contain white space or control characters",
    );
    let mut cfg = two();
    cfg.vrrp[1].name = "VI_1".into();
    check(&cfg, "vrrp[1].name", "duplicate of vrrp[0] (\"VI_1\")");
}

#[test]
fn the_port_must_exist() {
    refused(
        |c| c.vrrp[0].port = "eth9".into(),
        "vrrp[0].port",
        "unknown port \"eth9\"",
    );
}

#[test]
fn the_port_must_have_a_kernel_twin() {
    refused(
        |c| c.ports[0].host_iface = None,
        "vrrp[0].port",
        "port \"eth0\" has no host_iface (the adverts travel through the port's kernel twin)",
    );
}

#[test]
fn the_port_must_have_an_address_for_the_adverts() {
    refused(
        |c| c.ports[0].addresses.clear(),
        "vrrp[0].port",
        "port \"eth0\" has no address (its first address is the instance's primary address, the adverts' source)",
    );
}

#[test]
fn virtual_router_id_is_1_to_255() {
    refused(
        |c| c.vrrp[0].virtual_router_id = 0,
        "vrrp[0].virtual_router_id",
        "must be 1..=255",
    );
    let e = yaml_err(&with_vrrp(
        "vrrp: [{name: A, port: eth0, virtual_router_id: 256, virtual_ipaddress: [10.10.0.100]}]",
    ));
    assert_error(&e, "vrrp[0].virtual_router_id", "must be 1..=255");
}

#[test]
fn virtual_router_id_is_unique_per_port() {
    let mut cfg = two();
    cfg.vrrp[1].virtual_router_id = 51;
    check(
        &cfg,
        "vrrp[1].virtual_router_id",
        "duplicate of vrrp[0] (51 on port \"eth0\")",
    );
    // The same id on another port is another router.
    cfg.vrrp[1].port = "eth1".into();
    cfg.vrrp[1].virtual_ipaddress = vec![va("10.30.0.200")];
    check_ok(&cfg);
}

#[test]
fn priority_is_1_to_255() {
    refused(
        |c| c.vrrp[0].priority = 0,
        "vrrp[0].priority",
        "must be 1..=255",
    );
}

#[test]
fn version_is_2_or_3() {
    refused(
        |c| c.vrrp[0].version = 4,
        "vrrp[0].version",
        "must be 2 or 3",
    );
    let e = yaml_err(&with_vrrp(
        "vrrp: [{name: A, port: eth0, virtual_router_id: 1, version: 1000, virtual_ipaddress: [10.10.0.100]}]",
    ));
    assert_error(&e, "vrrp[0].version", "must be 2 or 3");
}

#[test]
fn advert_int_of_version_2_is_whole_seconds_1_to_255() {
    let message = "must be whole seconds 1..=255 with version 2";
    for bad in [0, 500_000, 1_500_000, 256_000_000] {
        refused(
            |c| c.vrrp[0].advert_int = Seconds::from_micros(bad),
            "vrrp[0].advert_int",
            message,
        );
    }
}

#[test]
fn advert_int_of_version_3_is_centiseconds_up_to_40_95() {
    let message = "must be 0.01..=40.95 seconds in steps of 0.01 with version 3";
    for bad in [0, 5_000, 15_000, 40_960_000] {
        refused(
            |c| {
                c.vrrp[0].version = 3;
                c.vrrp[0].advert_int = Seconds::from_micros(bad);
            },
            "vrrp[0].advert_int",
            message,
        );
    }
    let mut cfg = vrrp_base();
    cfg.vrrp[0].version = 3;
    cfg.vrrp[0].advert_int = Seconds::from_micros(40_950_000);
    check_ok(&cfg);
}

#[test]
fn nopreempt_needs_state_backup() {
    refused(
        |c| {
            c.vrrp[0].nopreempt = true;
            c.vrrp[0].state = VrrpState::Master;
        },
        "vrrp[0].nopreempt",
        "only with state BACKUP (keepalived ignores it with state MASTER)",
    );
}

#[test]
fn nopreempt_is_refused_for_the_address_owner() {
    refused(
        |c| {
            c.vrrp[0].nopreempt = true;
            c.vrrp[0].priority = 255;
        },
        "vrrp[0].nopreempt",
        "not with priority 255 (the address owner always takes over; keepalived ignores it)",
    );
}

#[test]
fn preempt_delay_is_at_most_1000_seconds_in_milliseconds() {
    refused(
        |c| c.vrrp[0].preempt_delay = Seconds::from_micros(1_000_000_001),
        "vrrp[0].preempt_delay",
        "must be at most 1000 seconds",
    );
    refused(
        |c| c.vrrp[0].preempt_delay = Seconds::from_micros(1500),
        "vrrp[0].preempt_delay",
        "must be a whole number of milliseconds",
    );
}

#[test]
fn preempt_delay_needs_a_preempting_backup() {
    refused(
        |c| {
            c.vrrp[0].preempt_delay = Seconds::from_secs(3);
            c.vrrp[0].state = VrrpState::Master;
        },
        "vrrp[0].preempt_delay",
        "only with state BACKUP (keepalived ignores it with state MASTER)",
    );
    refused(
        |c| {
            c.vrrp[0].preempt_delay = Seconds::from_secs(3);
            c.vrrp[0].nopreempt = true;
        },
        "vrrp[0].preempt_delay",
        "not with nopreempt (keepalived ignores it with nopreempt)",
    );
}

fn pass(p: &str) -> Option<VrrpAuth> {
    Some(VrrpAuth {
        auth_type: AuthType::Pass,
        auth_pass: p.into(),
    })
}

#[test]
fn authentication_is_for_version_2_only() {
    refused(
        |c| {
            c.vrrp[0].version = 3;
            c.vrrp[0].authentication = pass("secret");
        },
        "vrrp[0].authentication",
        "version 2 only (VRRPv3 has no authentication)",
    );
}

#[test]
fn ah_authentication_is_not_supported() {
    refused(
        |c| {
            c.vrrp[0].authentication = Some(VrrpAuth {
                auth_type: AuthType::Ah,
                auth_pass: "secret".into(),
            })
        },
        "vrrp[0].authentication.auth_type",
        "AH is not supported (use PASS)",
    );
}

#[test]
fn auth_pass_is_1_to_8_bytes_written_as_a_string() {
    refused(
        |c| c.vrrp[0].authentication = pass(""),
        "vrrp[0].authentication.auth_pass",
        "must be 1..=8 bytes (it is 0)",
    );
    refused(
        |c| c.vrrp[0].authentication = pass("123456789"),
        "vrrp[0].authentication.auth_pass",
        "must be 1..=8 bytes (it is 9)",
    );
    let e = yaml_err(&with_vrrp(
        "vrrp: [{name: A, port: eth0, virtual_router_id: 1, virtual_ipaddress: [10.10.0.100], \
         authentication: {auth_type: PASS, auth_pass: 1111}}]",
    ));
    assert_error(
        &e,
        "vrrp[0].authentication.auth_pass",
        "must be a string: write it in quotes (\"1111\"); YAML reads 1111 as a number",
    );
}

#[test]
fn unicast_src_ip_is_an_address_of_the_port() {
    refused(
        |c| c.vrrp[0].unicast_src_ip = Some("10.30.0.1".parse().unwrap()),
        "vrrp[0].unicast_src_ip",
        "10.30.0.1 is not an address of port \"eth0\" (ports[0].addresses)",
    );
}

#[test]
fn unicast_peers_are_unicast_addresses() {
    refused(
        |c| c.vrrp[0].unicast_peer = vec!["224.0.0.18".parse().unwrap()],
        "vrrp[0].unicast_peer[0]",
        "224.0.0.18 is not a unicast address",
    );
}

#[test]
fn unicast_peers_are_not_the_directors_own() {
    refused(
        |c| c.vrrp[0].unicast_peer = vec!["10.10.0.5".parse().unwrap()],
        "vrrp[0].unicast_peer[0]",
        "10.10.0.5 is the director's own address (ports[0].addresses[1])",
    );
    refused(
        |c| c.vrrp[0].unicast_peer = vec!["10.10.0.100".parse().unwrap()],
        "vrrp[0].unicast_peer[0]",
        "10.10.0.100 is a VIP (services[0].vip)",
    );
    let mut cfg = two();
    cfg.vrrp[0].unicast_peer = vec!["10.10.0.200".parse().unwrap()];
    check(
        &cfg,
        "vrrp[0].unicast_peer[0]",
        "10.10.0.200 is a VRRP virtual address (vrrp[1].virtual_ipaddress[0])",
    );
}

#[test]
fn unicast_peers_are_listed_once() {
    refused(
        |c| c.vrrp[0].unicast_peer = vec!["10.10.0.3".parse().unwrap(); 2],
        "vrrp[0].unicast_peer[1]",
        "duplicate of vrrp[0].unicast_peer[0] (10.10.0.3)",
    );
}

#[test]
fn v3_checksum_as_v2_is_for_version_3_only() {
    refused(
        |c| c.vrrp[0].v3_checksum_as_v2 = true,
        "vrrp[0].v3_checksum_as_v2",
        "version 3 only (a version 2 checksum never covers a pseudo-header)",
    );
}

#[test]
fn virtual_ipaddress_is_not_empty() {
    refused(
        |c| c.vrrp[0].virtual_ipaddress.clear(),
        "vrrp[0].virtual_ipaddress",
        "must not be empty",
    );
}

#[test]
fn virtual_ipaddress_fits_in_one_advert() {
    let many = |n: u32| -> Vec<VirtualAddress> {
        (0..n)
            .map(|k| {
                VirtualAddress(crate::config::Ipv4Net::new((0x0a28_0000 + k).into(), 32).unwrap())
            })
            .collect()
    };
    refused(
        |c| c.vrrp[0].virtual_ipaddress = many(256),
        "vrrp[0].virtual_ipaddress",
        "256 addresses; at most 255 fit in one advert",
    );
    // (576 - 20 - 8 - 8) / 4 with version 2 authentication space.
    refused(
        |c| {
            c.ports[0].mtu = 576;
            c.vrrp[0].virtual_ipaddress = many(136);
        },
        "vrrp[0].virtual_ipaddress",
        "136 addresses; at most 135 fit in one advert on port \"eth0\" (MTU 576)",
    );
}

#[test]
fn virtual_ipaddress_entries_are_unicast_host_addresses() {
    refused(
        |c| c.vrrp[0].virtual_ipaddress = vec![va("10.10.0.100/0")],
        "vrrp[0].virtual_ipaddress[0]",
        "prefix length must be 1..=32",
    );
    refused(
        |c| c.vrrp[0].virtual_ipaddress = vec![va("224.0.0.1")],
        "vrrp[0].virtual_ipaddress[0]",
        "224.0.0.1 is not a unicast address",
    );
    refused(
        |c| c.vrrp[0].virtual_ipaddress = vec![va("10.20.0.255/24")],
        "vrrp[0].virtual_ipaddress[0]",
        "10.20.0.255/24 is a network or broadcast address",
    );
    let e = yaml_err(&with_vrrp(
        "vrrp: [{name: A, port: eth0, virtual_router_id: 1, virtual_ipaddress: [10.10.0.300]}]",
    ));
    assert_error(
        &e,
        "vrrp[0].virtual_ipaddress[0]",
        "invalid IPv4 address \"10.10.0.300\" (expected a.b.c.d or a.b.c.d/n)",
    );
}

#[test]
fn virtual_ipaddress_has_no_duplicates() {
    refused(
        |c| c.vrrp[0].virtual_ipaddress.push(va("10.10.0.100/24")),
        "vrrp[0].virtual_ipaddress[1]",
        "duplicate of vrrp[0].virtual_ipaddress[0] (10.10.0.100)",
    );
}

#[test]
fn virtual_ipaddress_is_not_the_primary_address() {
    refused(
        |c| c.vrrp[0].virtual_ipaddress.push(va("10.10.0.2")),
        "vrrp[0].virtual_ipaddress[1]",
        "10.10.0.2 is the first address of port \"eth0\" (ports[0].addresses[0]), the instance's primary address",
    );
    refused(
        |c| {
            c.vrrp[0].unicast_src_ip = Some("10.10.0.5".parse().unwrap());
            c.vrrp[0].virtual_ipaddress.push(va("10.10.0.5"));
        },
        "vrrp[0].virtual_ipaddress[1]",
        "10.10.0.5 is unicast_src_ip, the adverts' source",
    );
}

#[test]
fn virtual_ipaddress_is_not_another_ports_address() {
    refused(
        |c| c.vrrp[0].virtual_ipaddress.push(va("10.30.0.1")),
        "vrrp[0].virtual_ipaddress[1]",
        "10.30.0.1 is an address of port \"eth1\" (ports[1].addresses[0])",
    );
}

#[test]
fn an_address_belongs_to_one_instance() {
    let mut cfg = two();
    cfg.vrrp[1].virtual_ipaddress.push(va("10.10.0.100/24"));
    check(
        &cfg,
        "vrrp[1].virtual_ipaddress[1]",
        "10.10.0.100 is already vrrp[0].virtual_ipaddress[0] (an address belongs to one instance)",
    );
}

#[test]
fn garp_master_repeat_is_1_to_255() {
    refused(
        |c| c.vrrp[0].garp_master_repeat = 0,
        "vrrp[0].garp_master_repeat",
        "must be 1..=255",
    );
}

#[test]
fn garp_master_delay_is_whole_seconds() {
    let message = "must be whole seconds 0..=4294";
    refused(
        |c| c.vrrp[0].garp_master_delay = Seconds::from_micros(1_500_000),
        "vrrp[0].garp_master_delay",
        message,
    );
    refused(
        |c| c.vrrp[0].garp_master_delay = Seconds::from_secs(4295),
        "vrrp[0].garp_master_delay",
        message,
    );
    let mut cfg = vrrp_base();
    cfg.vrrp[0].garp_master_delay = Seconds::ZERO;
    check_ok(&cfg);
}

#[test]
fn use_vmac_is_refused() {
    refused(
        |c| c.vrrp[0].use_vmac = true,
        "vrrp[0].use_vmac",
        "the RFC virtual MAC is not supported; adverts and ARP answers use the port's MAC, as keepalived does by default",
    );
}

#[test]
fn notify_scripts_are_absolute_command_lines() {
    refused(
        |c| c.vrrp[0].notify_master = Some(Script("became-master".into())),
        "vrrp[0].notify_master",
        "the program must be an absolute path (\"became-master\" is not)",
    );
    refused(
        |c| c.vrrp[0].notify = Some(Script("/bin/notify 'unclosed".into())),
        "vrrp[0].notify",
        &Script("/bin/notify 'unclosed".into()).problem().unwrap(),
    );
}

#[test]
fn notify_fifo_is_an_absolute_path() {
    refused(
        |c| c.vrrp[0].notify_fifo = Some(PathBuf::from("vrrp.fifo")),
        "vrrp[0].notify_fifo",
        "must be an absolute path (\"vrrp.fifo\" is not)",
    );
}

#[test]
fn unknown_keys_and_states_are_refused() {
    let e = yaml_err(&with_vrrp(
        "vrrp: [{name: A, port: eth0, virtual_router_id: 1, virtual_ipaddress: [10.10.0.100], interface: eth0}]",
    ));
    assert_eq!(e.path, "vrrp[0].interface");
    assert!(e.message.starts_with("unknown field"), "{e}");
    let e = yaml_err(&with_vrrp(
        "vrrp: [{name: A, port: eth0, virtual_router_id: 1, virtual_ipaddress: [10.10.0.100], state: FAULT}]",
    ));
    assert_eq!(e.path, "vrrp[0].state");
    assert!(
        e.message.contains("MASTER") && e.message.contains("BACKUP"),
        "{e}"
    );
}

#[test]
fn ha_suspend_needs_an_instance_owning_the_vip() {
    refused(
        |c| {
            c.services[0].ha_suspend = true;
            c.vrrp[0].virtual_ipaddress = vec![va("10.10.0.200")];
        },
        "services[0].ha_suspend",
        "no vrrp instance owns 10.10.0.100 (list it in a vrrp[].virtual_ipaddress)",
    );
    let mut cfg = vrrp_base();
    cfg.services[0].ha_suspend = true;
    check_ok(&cfg);
}

#[test]
fn ha_suspend_is_refused_for_a_firewall_mark_service() {
    let yaml = with_vrrp(
        "vrrp: [{name: A, port: eth0, virtual_router_id: 1, virtual_ipaddress: [10.10.0.100]}]\n\
         marks: [{mark: 7, vip: 10.10.0.100, protocol: tcp, ports: [443]}]\n",
    )
    .replace(
        "    reals: [{address: 10.30.0.2, port: 8080}]\n",
        "    reals: [{address: 10.30.0.2, port: 8080}]\n  \
         - {name: fwm, fwmark: 7, ha_suspend: true, reals: [{address: 10.30.0.2}]}\n",
    );
    let e = yaml_err(&yaml);
    assert_error(
        &e,
        "services[1].ha_suspend",
        "needs a VIP owned by a vrrp instance (a firewall-mark service has none)",
    );
}

#[test]
fn a_real_is_not_a_vrrp_virtual_address() {
    let mut cfg = two();
    cfg.services[0].reals[0].address = "10.10.0.200".parse().unwrap();
    check(
        &cfg,
        "services[0].reals[0].address",
        "10.10.0.200 is a VRRP virtual address (vrrp[1].virtual_ipaddress[0])",
    );
}
