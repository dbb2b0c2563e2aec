//! A capture where the real server's MAC changes in the middle of an
//! established connection (its address moved to another NIC, which announces
//! itself by ARP): `ferrovs replay` must send the next data packets to the new
//! MAC, although the fast path remembered the old one, and keep every rewrite
//! and checksum right on both sides of the change.
mod common;

use std::net::Ipv4Addr;

use common::*;

const MS: u64 = 1_000_000;
const RS_MAC_NEW: [u8; 6] = [2, 0, 0, 0, 0xb, 0x11];
const CPORT: u16 = 41000;

/// replay-nat.yaml with one real whose MAC is learned by ARP, not static.
fn config() -> std::path::PathBuf {
    let yaml = std::fs::read_to_string(nat_config())
        .unwrap()
        .lines()
        .filter(|l| {
            !l.contains("10.1.0.11, mac") && !l.contains("10.1.0.12") && !l.contains("10.1.0.13")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let dir = tempdir();
    let path = dir.join("next-hop.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

fn rs_segment(mac: [u8; 6], flags: u8) -> Vec<u8> {
    eth(
        DIRECTOR_MAC,
        mac,
        0x0800,
        &ipv4(
            RS[0],
            CLIENT,
            6,
            &tcp(RS[0], 8080, CLIENT, CPORT, flags, 5000, b"reply"),
        ),
    )
}

fn client_data() -> Vec<u8> {
    tcp_data_frame(VIP, CPORT, 100)
}

#[test]
fn data_follows_a_real_server_whose_mac_changes_mid_connection() {
    let director_on_rs_side = Ipv4Addr::new(10, 1, 0, 1);
    let mut frames = vec![
        (MS, arp_request(RS_MAC[0], RS[0], director_on_rs_side)),
        (2 * MS, tcp_frame(CLIENT_MAC, CLIENT, CPORT, VIP, 80, SYN)),
        (3 * MS, rs_segment(RS_MAC[0], SYN | ACK)),
        (4 * MS, tcp_frame(CLIENT_MAC, CLIENT, CPORT, VIP, 80, ACK)),
    ];
    for i in 0..5 {
        frames.push(((10 + i) * MS, client_data()));
    }
    frames.push((20 * MS, arp_request(RS_MAC_NEW, RS[0], director_on_rs_side)));
    for i in 0..5 {
        frames.push(((30 + i) * MS, client_data()));
        frames.push(((40 + i) * MS, rs_segment(RS_MAC_NEW, ACK)));
    }
    let r = replay(&config(), &frames);
    let to_rs: Vec<Seen> = r
        .out
        .iter()
        .filter(|(_, f)| f[12..14] == [8, 0])
        .map(|(_, f)| parse_tcp(f))
        .filter(|s| s.dst == RS[0])
        .collect();
    // SYN, ACK, 5 data before the change, 5 after.
    assert_eq!(to_rs.len(), 12, "{:?}", r.report);
    for (i, s) in to_rs.iter().enumerate() {
        let want = if i < 7 { RS_MAC[0] } else { RS_MAC_NEW };
        assert_eq!(s.dst_mac, want, "packet {i} to the real");
        assert_eq!(s.src_mac, DIRECTOR_MAC);
        assert_eq!((s.dport, s.sport), (8080, CPORT));
        assert!(s.ip_csum_ok && s.l4_csum_ok, "packet {i}: checksums");
        assert_eq!(s.ttl, 63);
    }
    let to_client: Vec<Seen> = r
        .out
        .iter()
        .filter(|(_, f)| f[12..14] == [8, 0])
        .map(|(_, f)| parse_tcp(f))
        .filter(|s| s.dst == CLIENT)
        .collect();
    assert_eq!(to_client.len(), 6);
    for s in &to_client {
        assert_eq!((s.src, s.sport, s.dst_mac), (VIP, 80, CLIENT_MAC));
        assert!(s.ip_csum_ok && s.l4_csum_ok);
    }
}
