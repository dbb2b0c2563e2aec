//! The host path in replay: what the pipeline does not consume on a port with
//! a kernel twin goes to the host pcap (`--host-out`), never to OUT; VIPs and
//! tracked connections stay in the dataplane; one ARP request, one answer.
mod common;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use common::*;

const SEC: u64 = 1_000_000_000;
const TWIN_PORT: u16 = 22;

fn host_config() -> PathBuf {
    repo().join("configs/replay-host.yaml")
}

/// Frames for the director's own address that the pipeline does not answer.
fn kernel_frames() -> Vec<Vec<u8>> {
    let mut echo_reply = icmp_echo(Ipv4Addr::new(10, 1, 0, 11), DIRECTOR_IP, 7, 1);
    // Type 0 (echo reply), checksum patched by +8 in the type byte's place.
    echo_reply[34] = 0;
    let c = u16::from_be_bytes([echo_reply[36], echo_reply[37]]);
    let fixed = ones_add(c, 0x0800);
    echo_reply[36..38].copy_from_slice(&fixed.to_be_bytes());
    vec![
        tcp_frame(CLIENT_MAC, CLIENT, 40000, DIRECTOR_IP, TWIN_PORT, SYN),
        udp_frame(CLIENT, 5353, DIRECTOR_IP, 53),
        echo_reply,
    ]
}

fn ones_add(a: u16, b: u16) -> u16 {
    let s = u32::from(a) + u32::from(b);
    ((s & 0xffff) + (s >> 16)) as u16
}

fn timed(frames: &[Vec<u8>]) -> Vec<(u64, Vec<u8>)> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| (SEC + i as u64 * 1000, f.clone()))
        .collect()
}

fn host_frames(r: &Replay) -> Vec<Vec<u8>> {
    r.host.iter().map(|(_, f)| f.clone()).collect()
}

fn arp_reply(sender_mac: [u8; 6], sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 2];
    a.extend_from_slice(&sender_mac);
    a.extend_from_slice(&sender.octets());
    a.extend_from_slice(&DIRECTOR_MAC);
    a.extend_from_slice(&target.octets());
    a.resize(46, 0);
    eth(DIRECTOR_MAC, sender_mac, 0x0806, &a)
}

/// The real server (address, MAC) the scheduler gives a first SYN from `client`.
fn first_real(client_mac: [u8; 6], client: Ipv4Addr, sport: u16) -> (Ipv4Addr, [u8; 6]) {
    let syn = tcp_frame(client_mac, client, sport, VIP, 80, SYN);
    let r = replay(&host_config(), &[(SEC, syn)]);
    let dst = parse_tcp(&r.out[0].1).dst;
    let i = RS.iter().position(|&a| a == dst).expect("a real server");
    (dst, RS_MAC[i])
}

fn ethertype(f: &[u8]) -> u16 {
    u16::from_be_bytes([f[12], f[13]])
}

#[test]
fn frames_for_the_directors_address_the_pipeline_does_not_answer_go_to_the_host_only() {
    let mut frames = kernel_frames();
    // An echo request the dataplane answers itself: OUT, not the host.
    frames.push(icmp_echo(CLIENT, DIRECTOR_IP, 9, 1));
    let r = replay(&host_config(), &timed(&frames));
    assert_eq!(host_frames(&r), kernel_frames(), "host pcap: byte for byte");
    assert_eq!(r.out.len(), 1, "only the echo reply leaves the port");
    assert_eq!(r.out[0].1[34], 0, "an echo reply");
    assert_eq!(r.report["frames_to_host"], 3);
    assert_eq!(r.report["host"][0]["port"], "eth0");
    assert_eq!(r.report["host"][0]["frames"], 3);
    let bytes: usize = kernel_frames().iter().map(Vec::len).sum();
    assert_eq!(r.report["host"][0]["bytes"], bytes as u64);
    assert_eq!(r.report["host"][0]["drops"]["ring_full"], 0);
    assert_eq!(drops(&r.report, "local_unsupported"), 0);
    assert!(r.stdout.contains(", 3 to host,"), "{}", r.stdout);
}

#[test]
fn without_a_twin_the_same_frames_are_dropped_as_before() {
    let r = replay(&nat_config(), &timed(&kernel_frames()));
    assert!(r.host.is_empty());
    assert!(r.out.is_empty());
    assert_eq!(r.report["frames_to_host"], 0);
    assert_eq!(drops(&r.report, "local_unsupported"), 3);
}

#[test]
fn arp_for_a_vip_is_answered_once_and_for_a_port_address_goes_to_the_host_only() {
    let frames = [
        arp_request(CLIENT_MAC, CLIENT, VIP),
        arp_request(CLIENT_MAC, CLIENT, DIRECTOR_IP),
    ];
    let r = replay(&host_config(), &timed(&frames));
    assert_eq!(r.out.len(), 1, "one answer, for the VIP");
    let reply = &r.out[0].1;
    assert_eq!(ethertype(reply), 0x0806);
    assert_eq!(&reply[20..22], &[0, 2], "an ARP reply");
    assert_eq!(&reply[28..32], &VIP.octets(), "from the VIP");
    assert_eq!(r.report["arp_replies"], 1);
    assert_eq!(host_frames(&r), vec![frames[1].clone()]);
}

#[test]
fn arp_replies_are_learned_by_the_dataplane_and_copied_to_the_host() {
    // A client the director has no static entry for: the real's SYN-ACK to
    // it waits for ARP; the reply releases it and reaches the kernel too.
    let c = Ipv4Addr::new(10, 0, 0, 7);
    let c_mac = [2, 0, 0, 0, 0, 7];
    let (rs, rs_mac) = first_real(c_mac, c, 41000);
    let frames = [
        tcp_frame(c_mac, c, 41000, VIP, 80, SYN),
        tcp_frame(rs_mac, rs, 8080, c, 41000, SYN | ACK),
        arp_reply(c_mac, c, DIRECTOR_IP),
    ];
    let r = replay(&host_config(), &timed(&frames));
    assert_eq!(host_frames(&r), vec![frames[2].clone()]);
    let kinds: Vec<u16> = r.out.iter().map(|(_, f)| ethertype(f)).collect();
    assert_eq!(kinds, [0x0800, 0x0806, 0x0800], "SYN, ARP request, SYN-ACK");
    let synack = &r.out[2].1;
    assert_eq!(&synack[..6], &c_mac, "sent to the learned MAC");
    assert_eq!(r.report["arp_requests_sent"], 1);
}

#[test]
fn a_tracked_connections_frames_never_reach_the_host() {
    let sport = 42000;
    let (rs, rs_mac) = first_real(CLIENT_MAC, CLIENT, sport);
    let frames = [
        tcp_frame(CLIENT_MAC, CLIENT, sport, VIP, 80, SYN),
        tcp_frame(rs_mac, rs, 8080, CLIENT, sport, SYN | ACK),
        tcp_frame(CLIENT_MAC, CLIENT, sport, VIP, 80, ACK),
        tcp_frame(rs_mac, rs, 8080, CLIENT, sport, ACK),
        icmp_echo(CLIENT, VIP, 3, 1),
    ];
    let r = replay(&host_config(), &timed(&frames));
    assert!(r.host.is_empty(), "{:?}", r.report["to_host"]);
    assert_eq!(r.out.len(), frames.len());
    assert_eq!(r.report["conns_created"], 1);
}

#[test]
fn ipv4_multicast_and_broadcast_go_to_the_host() {
    // VRRP (protocol 112) to 224.0.0.18, and a UDP broadcast.
    let vrrp = eth(
        [0x01, 0x00, 0x5e, 0, 0, 0x12],
        CLIENT_MAC,
        0x0800,
        &ipv4(
            CLIENT,
            Ipv4Addr::new(224, 0, 0, 18),
            112,
            &[0x21, 1, 100, 1, 0, 1, 0, 0],
        ),
    );
    let mut bcast = udp_frame(CLIENT, 520, Ipv4Addr::new(10, 0, 0, 255), 520);
    bcast[..6].copy_from_slice(&[0xff; 6]);
    // Multicast on a port without a twin stays dropped.
    let frames = [vrrp.clone(), bcast.clone()];
    let r = replay(&host_config(), &timed(&frames));
    assert_eq!(host_frames(&r), vec![vrrp, bcast]);
    assert!(r.out.is_empty());
    let r = replay(&nat_config(), &timed(&frames));
    assert!(r.host.is_empty());
    assert_eq!(drops(&r.report, "not_for_us"), 2);
}

#[test]
fn over_host_rate_pps_the_excess_is_dropped_and_counted() {
    // 100 frames/s: a burst of 10 passes at once, then one every 10 ms.
    let text = std::fs::read_to_string(host_config()).unwrap();
    let text = text.replace(
        "    host_iface: fvs-host0",
        "    host_iface: fvs-host0\n    host_rate_pps: 100",
    );
    let dir = tempdir();
    let cfg = dir.join("rate.yaml");
    std::fs::write(&cfg, text).unwrap();
    let frames: Vec<(u64, Vec<u8>)> = (0..50)
        .map(|i| (SEC, udp_frame(CLIENT, 6000 + i, DIRECTOR_IP, 53)))
        .chain(std::iter::once((
            SEC + 10_000_000,
            udp_frame(CLIENT, 7000, DIRECTOR_IP, 53),
        )))
        .collect();
    let r = replay(&cfg, &frames);
    assert_eq!(r.host.len(), 11);
    assert_eq!(r.report["host"][0]["drops"]["rate_limited"], 40);
    let _ = std::fs::remove_dir_all(&dir);
}
