//! Issue 11 §4: firewall-mark services. The `marks:` classifier marks
//! packets by protocol, destination (address or prefix) and port before the
//! service lookup; a `fwmark` service takes all of its mark's traffic (the
//! packet's port kept for reals without one), and its persistence covers
//! every port and protocol of the mark (LVS's PFWM).
mod common;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use common::*;

const MS: u64 = 1_000_000;
const SEC: u64 = 1_000 * MS;

const EXTRA: &str = "  - name: fwm7
    fwmark: 7
    scheduler: rr
    persistence: {timeout: 300}
    reals:
      - {address: 10.1.0.11}
      - {address: 10.1.0.12}
      - {address: 10.1.0.13}
  - name: fwm9
    fwmark: 9
    scheduler: rr
    reals:
      - {address: 10.1.0.13, port: 8080}
marks:
  - {mark: 7, vip: 10.0.0.100, protocol: tcp, ports: [443, \"8000-8010\"]}
  - {mark: 7, vip: 10.0.0.100, protocol: udp, ports: [53]}
  - {mark: 9, vip: 10.0.2.0/24, protocol: tcp, ports: [80]}
";

fn config() -> PathBuf {
    let base = std::fs::read_to_string(nat_config()).unwrap();
    let dir = std::env::temp_dir().join(format!("ferrovs-fwmark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("fwmark.yaml");
    std::fs::write(&p, format!("{base}{EXTRA}")).unwrap();
    p
}

fn syn(client: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16) -> Vec<u8> {
    tcp_frame(CLIENT_MAC, client, sport, dst, dport, SYN)
}

/// (destination address, destination port) of an output IPv4 frame.
fn dst(f: &[u8]) -> (Ipv4Addr, u16) {
    let ip = &f[14..];
    let ihl = usize::from(ip[0] & 0xf) * 4;
    (
        Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]),
        u16::from_be_bytes([ip[ihl + 2], ip[ihl + 3]]),
    )
}

#[test]
fn a_mark_service_takes_its_marks_traffic_keeping_the_port() {
    let other = Ipv4Addr::new(10, 0, 0, 3);
    let frames = vec![
        (SEC, syn(CLIENT, 40000, VIP, 443)),
        (2 * SEC, syn(other, 40001, VIP, 8005)),
        // Port 80 carries no mark: the address service `web` takes it.
        (3 * SEC, syn(CLIENT, 40002, VIP, 80)),
        // The prefix rule: any address of 10.0.2.0/24, port 80.
        (4 * SEC, syn(CLIENT, 40003, Ipv4Addr::new(10, 0, 2, 77), 80)),
        // Neither marked nor a service.
        (5 * SEC, syn(CLIENT, 40004, VIP, 444)),
    ];
    let r = replay(&config(), &frames);
    assert_eq!(r.out.len(), 4, "{:?}", r.report["drops"]);
    let (a, pa) = dst(&r.out[0].1);
    let (b, pb) = dst(&r.out[1].1);
    assert_eq!(pa, 443, "a real without port keeps the packet's port");
    assert_eq!(pb, 8005);
    assert_ne!(a, b, "rr over the mark's reals");
    assert_eq!(dst(&r.out[2].1).1, 8080, "port 80 is web's (NAT to 8080)");
    assert_eq!(
        dst(&r.out[3].1),
        (Ipv4Addr::new(10, 1, 0, 13), 8080),
        "the prefix rule's mark, its real's port"
    );
    assert_eq!(drops(&r.report, "no_service"), 1);
    for (_, f) in &r.out {
        let s = parse_tcp(f);
        assert!(s.ip_csum_ok && s.l4_csum_ok);
    }
}

#[test]
fn persistence_covers_every_port_and_protocol_of_the_mark() {
    let other = Ipv4Addr::new(10, 0, 0, 3);
    let frames = vec![
        (SEC, syn(CLIENT, 40000, VIP, 8001)),
        (2 * SEC, syn(other, 40001, VIP, 8001)),
        (3 * SEC, syn(CLIENT, 40002, VIP, 443)),
        (4 * SEC, udp_frame(CLIENT, 5353, VIP, 53)),
        (5 * SEC, syn(CLIENT, 40003, VIP, 8010)),
    ];
    let r = replay(&config(), &frames);
    assert_eq!(r.out.len(), 5, "{:?}", r.report["drops"]);
    let first = dst(&r.out[0].1).0;
    assert_ne!(dst(&r.out[1].1).0, first, "another client, the next real");
    for (i, port) in [(2, 443), (3, 53), (4, 8010)] {
        assert_eq!(
            dst(&r.out[i].1),
            (first, port),
            "the client's template holds for port {port} (tcp and udp alike)"
        );
    }
    // The template was last used at 5 s (timeout 300 s); its last
    // connection, the UDP flow, ends at 304 s: the template dies at 305 s.
    for (at, same) in [(304_500 * MS, true), (306 * SEC, false)] {
        let mut later = frames.clone();
        later.push((at, syn(CLIENT, 40004, VIP, 8002)));
        let r = replay(&config(), &later);
        let (real, port) = dst(&r.out[5].1);
        assert_eq!(port, 8002);
        assert_eq!(real == first, same, "at {} ms", at / MS);
    }
}
