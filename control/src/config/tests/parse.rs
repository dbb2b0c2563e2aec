//! Errors found while reading the YAML (before the semantic checks) and
//! the defaults of optional keys.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use super::{assert_error, base, base_err, yaml_err, BASE};
use crate::config::{
    Config, FlowSteering, Forward, PortRange, Protocol, SchedFlag, Scheduler, ServicePorts,
    ROOT_PATH,
};

#[test]
fn base_loads_with_defaults() {
    let cfg = base();
    assert_eq!(cfg.workers.cores, vec![1]);
    assert!(cfg.workers.in_memory);
    assert!(cfg.workers.eal_args.is_empty());
    assert_eq!((cfg.workers.mbufs, cfg.workers.burst), (8191, 32));
    assert_eq!(cfg.ports[0].mtu, 1500);
    assert_eq!(cfg.ports[1].mac, None);
    assert_eq!(cfg.routes[0].via, Some(Ipv4Addr::new(10, 0, 0, 254)));
    let web = &cfg.services[0];
    assert_eq!(web.protocol, Some(Protocol::Tcp));
    assert_eq!(web.forward, Forward::Nat);
    assert!(web.toa);
    assert!(web.flags.is_empty());
    assert_eq!(web.persistence, None);
    assert_eq!(web.reals[1].weight, 2);
    let dns = &cfg.services[1];
    assert_eq!(dns.scheduler, Scheduler::Rr);
    assert_eq!(dns.reals[0].weight, 1);
    assert_eq!(dns.reals[0].port, None);
    assert_eq!(dns.real_port(&dns.reals[0]), 53);
    assert_eq!(dns.forward_of(&dns.reals[0]), Forward::Dr);
    assert_eq!(
        (cfg.timeouts.tcp, cfg.timeouts.tcpfin, cfg.timeouts.udp),
        (900, 120, 300)
    );
    assert_eq!(cfg.conn_max, None);
    assert_eq!(
        cfg.control.socket,
        PathBuf::from("/run/ferrovs/ferrovs.sock")
    );
    assert_eq!(cfg.control.group, None);
    assert!(!cfg.control.expire_nodest_conn);
    assert_eq!(cfg.metrics, None);
    assert_eq!(
        cfg.port("eth1").map(|p| p.device.as_str()),
        Some("net_af_packet1,iface=lb1")
    );
    assert_eq!(
        cfg.service("dns").and_then(|s| s.vip),
        Some(Ipv4Addr::new(10, 0, 0, 53))
    );
}

#[test]
fn scheduler_default_is_wlc_and_every_name_parses() {
    let cfg = Config::from_yaml_str(&BASE.replacen("    scheduler: wlc\n", "", 1)).unwrap();
    assert_eq!(cfg.services[0].scheduler, Scheduler::Wlc);
    for s in Scheduler::ALL {
        let yaml = BASE.replacen("scheduler: wlc", &format!("scheduler: {s}"), 1);
        let cfg = Config::from_yaml_str(&yaml).unwrap();
        assert_eq!(cfg.services[0].scheduler, *s);
    }
    assert_eq!(Scheduler::ALL.len(), 14);
}

#[test]
fn unknown_scheduler() {
    let e = base_err("scheduler: wlc", "scheduler: foo");
    assert_error(
        &e,
        "services[0].scheduler",
        "unknown scheduler \"foo\" (expected one of rr wrr lc wlc sed nq lblc lblcr sh dh mh fo ovf twos)",
    );
    assert_eq!(
        e.to_string(),
        format!("services[0].scheduler: {}", e.message)
    );
}

#[test]
fn unknown_protocol_forward_and_flag() {
    let e = base_err("protocol: udp", "protocol: sctp");
    assert_error(
        &e,
        "services[1].protocol",
        "unknown protocol \"sctp\" (expected one of tcp udp)",
    );
    let e = base_err("forward: dr", "forward: masq");
    assert_error(
        &e,
        "services[1].forward",
        "unknown forwarding method \"masq\" (expected one of nat fullnat dr tun)",
    );
    let e = base_err(
        "scheduler: rr",
        "scheduler: sh\n    flags: [sh-port, sh-nope]",
    );
    assert_error(
        &e,
        "services[1].flags[1]",
        "unknown scheduler flag \"sh-nope\" (expected one of sh-fallback sh-port mh-fallback mh-port flag-1 flag-2 flag-3)",
    );
}

/// `BASE` with `flow_steering: <mode>` on its second port.
fn with_flow_steering(mode: &str) -> String {
    let from = "    addresses: [10.30.0.1/24]\n";
    assert!(BASE.contains(from));
    BASE.replacen(from, &format!("{from}    flow_steering: {mode}\n"), 1)
}

#[test]
fn flow_steering_defaults_to_auto_and_every_mode_parses() {
    let cfg = base();
    assert!(cfg
        .ports
        .iter()
        .all(|p| p.flow_steering == FlowSteering::Auto));
    assert!(
        !cfg.to_yaml().contains("flow_steering"),
        "auto is not written"
    );
    for m in FlowSteering::ALL {
        let cfg = Config::from_yaml_str(&with_flow_steering(m.as_str())).unwrap();
        assert_eq!(cfg.ports[1].flow_steering, *m);
        assert_eq!(cfg.ports[0].flow_steering, FlowSteering::Auto);
        let back = Config::from_yaml_str(&cfg.to_yaml()).unwrap();
        assert_eq!(back, cfg, "{m} survives a round trip");
    }
}

#[test]
fn unknown_flow_steering_mode() {
    let e = yaml_err(&with_flow_steering("maybe"));
    assert_error(
        &e,
        "ports[1].flow_steering",
        "unknown flow_steering mode \"maybe\" (expected one of auto off required)",
    );
    let e = yaml_err(&with_flow_steering("true"));
    assert_eq!(e.path, "ports[1].flow_steering", "{e}");
}

#[test]
fn weight_out_of_range_while_parsing() {
    let e = base_err("weight: 2", "weight: 65536");
    assert_error(&e, "services[0].reals[1].weight", "must be 0..=65535");
    let e = base_err("weight: 2", "weight: -1");
    assert_error(&e, "services[0].reals[1].weight", "must be 0..=65535");
    let e = base_err("weight: 2", "weight: 99999999999999999999");
    assert_eq!(e.path, "services[0].reals[1].weight");
    let cfg = Config::from_yaml_str(&BASE.replacen("weight: 2", "weight: 65535", 1)).unwrap();
    assert_eq!(cfg.services[0].reals[1].weight, 65535);
    let cfg = Config::from_yaml_str(&BASE.replacen("weight: 2", "weight: 0", 1)).unwrap();
    assert_eq!(cfg.services[0].reals[1].weight, 0);
}

#[test]
fn wrong_type_names_the_field() {
    let e = base_err("weight: 2", "weight: heavy");
    assert_error(
        &e,
        "services[0].reals[1].weight",
        "invalid type: string \"heavy\", expected an integer in 0..=65535",
    );
    let e = base_err("vip: 10.0.0.53", "vip: 10.0.0.x");
    assert_error(&e, "services[1].vip", "invalid IPv4 address syntax");
    let e = base_err("port: 53", "port: 70000");
    assert_eq!(e.path, "services[1].port");
}

#[test]
fn missing_vip() {
    let e = base_err("    vip: 10.0.0.100\n", "");
    assert_error(&e, "services[0].vip", "missing (or give fwmark)");
}

#[test]
fn missing_required_keys() {
    let e = yaml_err("ports: []\n");
    assert_error(&e, "workers", "missing");
    let e = base_err("    protocol: udp\n", "");
    assert_error(&e, "services[1].protocol", "missing (tcp or udp)");
    let e = base_err("{address: 10.20.0.4}", "{port: 53}");
    assert_error(&e, "services[1].reals[0].address", "missing");
    let e = base_err(
        "{prefix: 0.0.0.0/0, via: 10.0.0.254, port: eth0}",
        "{prefix: 0.0.0.0/0}",
    );
    assert_error(&e, "routes[0].port", "missing");
}

#[test]
fn unknown_fields_are_refused() {
    let e = base_err("{address: 10.20.0.4}", "{address: 10.20.0.4, wieght: 3}");
    assert_error(
        &e,
        "services[1].reals[0].wieght",
        "unknown field (expected one of address, port, weight, forward, tun_type, tun_port, tun_flags, upper_threshold, lower_threshold, inhibit_on_failure, notify_up, notify_down, alpha, delay_loop, connect_timeout, retry, delay_before_retry, warmup, virtualhost, checks)",
    );
    let e = yaml_err(&format!("{BASE}colour: blue\n"));
    assert_eq!(e.path, "colour");
    assert!(
        e.message
            .starts_with("unknown field (expected one of workers, ports"),
        "{e}"
    );
    let e = base_err("workers: {cores: [1]}", "workers: {cores: [1], threads: 2}");
    assert_eq!(e.path, "workers.threads");
}

#[test]
fn address_without_prefix_length() {
    let e = base_err("[10.30.0.1/24]", "[10.30.0.1]");
    assert_error(
        &e,
        "ports[1].addresses[0]",
        "\"10.30.0.1\" has no prefix length (expected a.b.c.d/n)",
    );
}

#[test]
fn bad_mac_and_mtu_while_parsing() {
    let e = base_err("mac: \"02:00:00:00:00:01\"", "mac: \"02:00:00:00:01\"");
    assert_error(
        &e,
        "ports[0].mac",
        "invalid MAC address \"02:00:00:00:01\" (expected xx:xx:xx:xx:xx:xx)",
    );
    let e = base_err(
        "addresses: [10.30.0.1/24]",
        "addresses: [10.30.0.1/24]\n    mtu: 9001",
    );
    assert_error(&e, "ports[1].mtu", "must be 576..=9000");
    let e = base_err(
        "addresses: [10.30.0.1/24]",
        "addresses: [10.30.0.1/24]\n    mtu: 575",
    );
    assert_error(&e, "ports[1].mtu", "must be 576..=9000");
}

#[test]
fn yaml_syntax_error() {
    let e = yaml_err("workers: {cores: [1]\n");
    assert_eq!(e.path, "workers");
    assert!(e.message.contains("line 2 column 1"), "{e}");
    let e = yaml_err("- just\n- a list\n");
    assert_error(
        &e,
        ROOT_PATH,
        "invalid type: sequence, expected struct Config",
    );
    // An empty document is an empty mapping.
    let e = yaml_err("");
    assert_error(&e, "workers", "missing");
}

#[test]
fn multi_port_forms() {
    let yaml = BASE.replacen("    port: 80\n", "    ports: [80, 443]\n", 1);
    let cfg = Config::from_yaml_str(&yaml).unwrap();
    let web = &cfg.services[0];
    assert_eq!(web.ports, Some(ServicePorts::List(vec![80, 443])));
    assert!(web.matches_port(443) && !web.matches_port(8080));
    assert_eq!(web.single_port(), None);
    let yaml = BASE.replacen("    port: 80\n", "    ports: \"8000-8010\"\n", 1);
    let cfg = Config::from_yaml_str(&yaml).unwrap();
    let web = &cfg.services[0];
    assert_eq!(
        web.ports,
        Some(ServicePorts::Range(PortRange {
            first: 8000,
            last: 8010
        }))
    );
    assert_eq!(
        web.port_ranges(),
        vec![PortRange {
            first: 8000,
            last: 8010
        }]
    );
    assert!(web.matches_port(8005));
    let e = base_err("    port: 80\n", "    ports: \"8010-8000\"\n");
    assert_error(
        &e,
        "services[0].ports",
        "invalid port range \"8010-8000\" (first port above last)",
    );
    let e = base_err("    port: 80\n", "    ports: \"http\"\n");
    assert_error(
        &e,
        "services[0].ports",
        "invalid port range \"http\" (expected first-last, e.g. \"8000-8010\")",
    );
}

#[test]
fn optional_sections() {
    let yaml = format!(
        "{BASE}conn_max: 1000000\nmetrics: {{listen: \"0.0.0.0:9999\"}}\n\
         control: {{socket: /tmp/f.sock, group: adm, expire_nodest_conn: true}}\n"
    );
    let cfg = Config::from_yaml_str(&yaml).unwrap();
    assert_eq!(cfg.conn_max, Some(1_000_000));
    assert_eq!(
        cfg.metrics.unwrap().listen,
        "0.0.0.0:9999".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(cfg.control.group.as_deref(), Some("adm"));
    assert!(cfg.control.expire_nodest_conn);
    let cfg = Config::from_yaml_str(&format!("{BASE}metrics: {{}}\n")).unwrap();
    assert_eq!(
        cfg.metrics.unwrap().listen,
        "127.0.0.1:9180".parse::<SocketAddr>().unwrap()
    );
    let cfg = Config::from_yaml_str(&BASE.replacen(
        "scheduler: rr",
        "scheduler: sh\n    flags: [sh-fallback, sh-port]\n    persistence: {}",
        1,
    ))
    .unwrap();
    let dns = &cfg.services[1];
    assert!(dns.has_flag(SchedFlag::ShPort));
    let p = dns.persistence.as_ref().unwrap();
    assert_eq!((p.timeout, p.netmask), (360, Ipv4Addr::BROADCAST));
}

#[test]
fn to_yaml_round_trip() {
    let cfg = base();
    let yaml = cfg.to_yaml();
    let back = Config::from_yaml_str(&yaml).unwrap();
    assert_eq!(back, cfg);
    assert_eq!(back.to_yaml(), yaml);
}
