//! Multi-port services (ferrovs's answer to firewall-mark services) and
//! port-0 services: one service covers many virtual ports, reals without a
//! port keep the packet's port, and persistence holds across the ports.
mod common;
use std::net::Ipv4Addr;

use common::*;

const SEC: u64 = 1_000_000_000;

fn config(ports: &str, persistence: &str) -> std::path::PathBuf {
    let y = format!(
        "workers: {{cores: [1]}}
ports:
  - {{name: eth0, device: net_null0, mac: \"02:00:00:00:00:01\", addresses: [10.0.0.1/24, 10.1.0.1/24]}}
neighbors:
  - {{ip: 10.1.0.11, mac: \"02:00:00:00:01:11\", port: eth0}}
  - {{ip: 10.1.0.12, mac: \"02:00:00:00:01:12\", port: eth0}}
  - {{ip: 10.1.0.13, mac: \"02:00:00:00:01:13\", port: eth0}}
services:
  - name: multi
    vip: 10.0.0.100
    {ports}
    protocol: tcp
    scheduler: rr
    {persistence}
    reals:
      - {{address: 10.1.0.11}}
      - {{address: 10.1.0.12}}
      - {{address: 10.1.0.13}}
"
    );
    let p = std::env::temp_dir().join(format!(
        "ferrovs-mp-{}-{}.yaml",
        std::process::id(),
        ports.len() + persistence.len()
    ));
    std::fs::write(&p, y).unwrap();
    p
}

fn syn(src: Ipv4Addr, sport: u16, dport: u16) -> Vec<u8> {
    tcp_frame(CLIENT_MAC, src, sport, VIP, dport, SYN)
}

#[test]
fn a_port_range_is_one_service() {
    let cfg = config("ports: \"8000-8002\"", "");
    let frames: Vec<_> = [7999u16, 8000, 8001, 8002, 8003]
        .iter()
        .enumerate()
        .map(|(i, p)| (SEC + i as u64, syn(CLIENT, 51000 + i as u16, *p)))
        .collect();
    let r = replay(&cfg, &frames);
    let sent: Vec<u16> = r.out.iter().map(|(_, f)| parse_tcp(f).dport).collect();
    assert_eq!(sent, vec![8000, 8001, 8002]);
    assert_eq!(drops(&r.report, "no_service"), 2);
}

#[test]
fn a_port_list_is_one_service_and_ports_are_kept() {
    let cfg = config("ports: [80, 443, 8000, 8002]", "");
    let frames: Vec<_> = [80u16, 443, 8000, 8002, 8003, 22]
        .iter()
        .enumerate()
        .map(|(i, p)| (SEC + i as u64, syn(CLIENT, 50000 + i as u16, *p)))
        .collect();
    let r = replay(&cfg, &frames);
    let sent: Vec<u16> = r.out.iter().map(|(_, f)| parse_tcp(f).dport).collect();
    assert_eq!(
        sent,
        vec![80, 443, 8000, 8002],
        "covered ports forwarded, each to the same port on the real"
    );
    assert_eq!(
        drops(&r.report, "no_service"),
        2,
        "8003 and 22 are not part of the service"
    );
    let reals: Vec<Ipv4Addr> = r.out.iter().map(|(_, f)| parse_tcp(f).dst).collect();
    assert_ne!(reals[0], reals[1], "one rr sequence across the ports");
}

#[test]
fn persistence_holds_across_the_ports_of_a_multi_port_service() {
    let cfg = config(
        "ports: [80, 443]",
        "persistence: {timeout: 300, netmask: 255.255.255.0}",
    );
    let a = Ipv4Addr::new(10, 0, 0, 2);
    let same_net = Ipv4Addr::new(10, 0, 0, 77);
    let frames = vec![
        (SEC, syn(a, 40000, 80)),
        (SEC + 1, syn(a, 40001, 443)),
        (SEC + 2, syn(same_net, 40002, 443)),
        (SEC + 3, syn(Ipv4Addr::new(10, 0, 9, 9), 40003, 80)),
    ];
    let r = replay(&cfg, &frames);
    let reals: Vec<Ipv4Addr> = r.out.iter().map(|(_, f)| parse_tcp(f).dst).collect();
    assert_eq!(reals.len(), 4, "{}", r.report);
    assert_eq!(reals[1], reals[0], "same client, other port: same real");
    assert_eq!(
        reals[2], reals[0],
        "same /24 (the persistence netmask): same real"
    );
    assert_ne!(reals[3], reals[0], "another network is scheduled anew");
}

#[test]
fn a_port_zero_service_takes_every_port() {
    let cfg = config("port: 0", "persistence: {timeout: 60}");
    let frames: Vec<_> = [1u16, 80, 65535]
        .iter()
        .enumerate()
        .map(|(i, p)| (SEC + i as u64, syn(CLIENT, 41000 + i as u16, *p)))
        .collect();
    let r = replay(&cfg, &frames);
    let sent: Vec<(Ipv4Addr, u16)> = r
        .out
        .iter()
        .map(|(_, f)| parse_tcp(f))
        .map(|s| (s.dst, s.dport))
        .collect();
    assert_eq!(sent.len(), 3, "{}", r.report);
    assert!(
        sent.iter().all(|s| s.0 == sent[0].0),
        "one template for all ports: {sent:?}"
    );
    assert_eq!(
        sent.iter().map(|s| s.1).collect::<Vec<_>>(),
        vec![1, 80, 65535]
    );
}
