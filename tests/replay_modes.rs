//! Issue 5 replay acceptance: every rewritten field and checksum of FullNAT
//! (with the TOA bytes and the SYN-ACK MSS), DR and TUN (with the MSS clamp
//! and fragmentation-needed), and modes mixed within one service.
mod common;
use std::net::Ipv4Addr;

use common::*;

const SEC: u64 = 1_000_000_000;
const LADDR: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 100);
const RS1: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 11);
const RS1_MAC: [u8; 6] = [2, 0, 0, 0, 1, 0x11];

fn cfg() -> std::path::PathBuf {
    repo().join("configs/replay-modes.yaml")
}

fn vip(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, n)
}

/// TCP options of a frame's segment as (kind, data).
fn options(f: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let ihl = usize::from(f[14] & 0xf) * 4;
    let tcp = &f[14 + ihl..];
    let doff = usize::from(tcp[12] >> 4) * 4;
    let raw = &tcp[20..doff];
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            0 => break,
            1 => i += 1,
            k => {
                let l = usize::from(raw[i + 1]);
                out.push((k, raw[i + 2..i + l].to_vec()));
                i += l;
            }
        }
    }
    out
}

fn seq(f: &[u8]) -> u32 {
    let ihl = usize::from(f[14] & 0xf) * 4;
    u32::from_be_bytes(f[14 + ihl + 4..14 + ihl + 8].try_into().unwrap())
}

fn syn_ack_with_mss(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16) -> Vec<u8> {
    tcp_frame(RS1_MAC, src, sport, dst, dport, SYN | ACK)
}

#[test]
fn fullnat_rewrites_both_sides_inserts_toa_and_lowers_the_syn_ack_mss() {
    let syn = tcp_frame(CLIENT_MAC, CLIENT, 41000, vip(101), 80, SYN);
    let first = replay(&cfg(), &[(SEC, syn.clone())]);
    assert_eq!(first.out.len(), 1, "{}", first.report);
    let f = &first.out[0].1;
    let s = parse_tcp(f);
    assert_eq!(s.src, LADDR, "source is the local address");
    assert_eq!((s.dst, s.dport), (RS1, 8080));
    assert_eq!(s.dst_mac, RS1_MAC);
    assert!(s.ip_csum_ok && s.l4_csum_ok, "checksums after TOA");
    assert_eq!(seq(f), 1000, "sequence numbers untouched");
    assert_eq!(s.ttl, 63);
    let lport = s.sport;
    assert!(lport >= 1024, "local port from the pool: {lport}");
    let opts = options(f);
    let mut toa = vec![];
    toa.extend_from_slice(&41000u16.to_be_bytes());
    toa.extend_from_slice(&CLIENT.octets());
    assert!(
        opts.contains(&(254, toa)),
        "TOA option with client port and address: {opts:?}"
    );
    assert!(
        opts.contains(&(2, vec![0x05, 0xb4])),
        "client MSS untouched: {opts:?}"
    );
    assert_eq!(f.len(), syn.len() + 8, "segment grew by the 8 TOA bytes");
    assert_eq!(
        usize::from(u16::from_be_bytes([f[16], f[17]])),
        syn.len() - 14 + 8,
        "IP total length"
    );

    let reply = syn_ack_with_mss(RS1, 8080, LADDR, lport);
    let both = replay(&cfg(), &[(SEC, syn), (SEC + 1, reply)]);
    assert_eq!(both.out.len(), 2);
    let b = &both.out[1].1;
    let r = parse_tcp(b);
    assert_eq!((r.src, r.sport), (vip(101), 80), "reply from VIP:vport");
    assert_eq!((r.dst, r.dport), (CLIENT, 41000), "to the client");
    assert_eq!(r.dst_mac, CLIENT_MAC);
    assert!(r.ip_csum_ok && r.l4_csum_ok);
    assert!(
        options(b).contains(&(2, 1452u16.to_be_bytes().to_vec())),
        "SYN-ACK MSS lowered by the TOA length"
    );
}

#[test]
fn direct_routing_changes_only_the_destination_mac() {
    let syn = tcp_frame(CLIENT_MAC, CLIENT, 41001, vip(102), 80, SYN);
    let r = replay(&cfg(), &[(SEC, syn.clone())]);
    assert_eq!(r.out.len(), 1, "{}", r.report);
    let f = &r.out[0].1;
    assert_eq!(&f[0..6], &RS1_MAC, "destination MAC is the RS's");
    assert_eq!(&f[6..12], &DIRECTOR_MAC);
    assert_eq!(&f[12..], &syn[12..], "the IP packet is untouched");
}

#[test]
fn tunnel_wraps_in_ipip_clamps_the_mss_and_answers_too_big_with_frag_needed() {
    let syn = tcp_frame(CLIENT_MAC, CLIENT, 41002, vip(103), 80, SYN);
    let r = replay(&cfg(), &[(SEC, syn.clone())]);
    assert_eq!(r.out.len(), 1, "{}", r.report);
    let f = &r.out[0].1;
    assert_eq!(&f[0..6], &RS1_MAC);
    let outer = &f[14..34];
    assert_eq!(outer[0], 0x45);
    assert_eq!(outer[9], 4, "IPIP");
    assert_eq!(
        &outer[12..16],
        &[10, 1, 0, 1],
        "outer source: our address on the RS's subnet"
    );
    assert_eq!(&outer[16..20], &RS1.octets());
    assert_eq!(csum(outer, 0), 0, "outer checksum");
    assert_eq!(
        usize::from(u16::from_be_bytes([outer[2], outer[3]])),
        syn.len() - 14 + 20
    );
    let inner: Vec<u8> = [&f[..14], &f[34..]].concat();
    let s = parse_tcp(&inner);
    assert_eq!(
        (s.src, s.dst, s.dport),
        (CLIENT, vip(103), 80),
        "inner packet addressed to the VIP"
    );
    assert!(
        s.ip_csum_ok && s.l4_csum_ok,
        "inner checksums after the MSS clamp"
    );
    assert!(
        options(&inner).contains(&(2, 1440u16.to_be_bytes().to_vec())),
        "MSS clamped to 1500-60"
    );

    // A full-size DF segment no longer fits once wrapped: the client hears so.
    let big = tcp_data_frame(vip(103), 41002, 1456);
    assert_eq!(big.len(), 14 + 1500);
    let r = replay(&cfg(), &[(SEC, syn), (SEC + 1, big.clone())]);
    assert_eq!(r.out.len(), 2, "{}", r.report);
    let icmp_frame = &r.out[1].1;
    assert_eq!(&icmp_frame[0..6], &CLIENT_MAC);
    let ip = &icmp_frame[14..34];
    assert_eq!(ip[9], 1, "ICMP");
    assert_eq!(&ip[16..20], &CLIENT.octets());
    assert_eq!(csum(ip, 0), 0);
    let icmp = &icmp_frame[34..];
    assert_eq!((icmp[0], icmp[1]), (3, 4), "fragmentation needed");
    assert_eq!(
        u16::from_be_bytes([icmp[6], icmp[7]]),
        1480,
        "next-hop MTU inside the tunnel"
    );
    assert_eq!(&icmp[8..28], &big[14..34], "quotes the original IP header");
    assert_eq!(csum(icmp, 0), 0, "ICMP checksum");
    assert_eq!(r.report["icmp_frag_needed_sent"], 1);
}

#[test]
fn modes_mix_within_one_service() {
    let frames: Vec<_> = (0..4u16)
        .map(|i| {
            (
                SEC + u64::from(i),
                tcp_frame(CLIENT_MAC, CLIENT, 42000 + i, vip(104), 80, SYN),
            )
        })
        .collect();
    let r = replay(&cfg(), &frames);
    assert_eq!(r.out.len(), 4, "{}", r.report);
    let mut nat = 0;
    let mut dr = 0;
    for (_, f) in &r.out {
        let s = parse_tcp(f);
        assert_eq!(s.dst_mac, RS1_MAC);
        match (s.dst, s.dport) {
            (d, 8081) if d == RS1 => nat += 1,
            (d, 80) if d == vip(104) => dr += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        (nat, dr),
        (2, 2),
        "rr alternates between the DR and the NAT real"
    );
}
