//! ICMP errors that quote a tracked connection are translated and forwarded
//! along it (as IPVS does); others are dropped with a reason.
mod common;
use std::net::Ipv4Addr;

use common::*;

const SEC: u64 = 1_000_000_000;

/// An ICMP error of `icmp_type`/`code` from `from` to `to`, quoting `quoted`'s
/// IP header and first 8 bytes.
fn icmp_error(
    src_mac: [u8; 6],
    from: Ipv4Addr,
    to: Ipv4Addr,
    icmp_type: u8,
    code: u8,
    quoted: &[u8],
) -> Vec<u8> {
    let ip = &quoted[14..];
    let ihl = usize::from(ip[0] & 0xf) * 4;
    let mut m = vec![icmp_type, code, 0, 0, 0, 0, 0x05, 0xdc];
    m.extend_from_slice(&ip[..ihl + 8]);
    let c = csum(&m, 0);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    eth(DIRECTOR_MAC, src_mac, 0x0800, &ipv4(from, to, 1, &m))
}

fn quote_of(f: &[u8]) -> (Ipv4Addr, u16, Ipv4Addr, u16) {
    let q = &f[14 + 20 + 8..];
    (
        Ipv4Addr::new(q[12], q[13], q[14], q[15]),
        u16::from_be_bytes([q[20], q[21]]),
        Ipv4Addr::new(q[16], q[17], q[18], q[19]),
        u16::from_be_bytes([q[22], q[23]]),
    )
}

#[test]
fn an_error_from_the_real_server_side_reaches_the_client_as_about_its_own_packet() {
    let syn = tcp_frame(CLIENT_MAC, CLIENT, 43000, VIP, 80, SYN);
    let first = replay(&nat_config(), &[(SEC, syn.clone())]);
    let to_rs = first.out[0].1.clone();
    let rs = parse_tcp(&to_rs).dst;
    let rs_mac = RS_MAC[RS.iter().position(|r| *r == rs).unwrap()];
    // The RS (or a router next to it) says the packet we sent it was unreachable.
    let err = icmp_error(rs_mac, rs, CLIENT, 3, 3, &to_rs);
    let r = replay(&nat_config(), &[(SEC, syn), (SEC + 1, err)]);
    assert_eq!(r.out.len(), 2, "{}", r.report);
    let f = &r.out[1].1;
    assert_eq!(&f[0..6], &CLIENT_MAC, "to the client");
    let ip = &f[14..34];
    assert_eq!(
        &ip[12..16],
        &VIP.octets(),
        "from the VIP: the client never heard of the RS"
    );
    assert_eq!(&ip[16..20], &CLIENT.octets());
    assert_eq!(csum(ip, 0), 0);
    assert_eq!(csum(&f[34..], 0), 0, "ICMP checksum");
    assert_eq!(
        quote_of(f),
        (CLIENT, 43000, VIP, 80),
        "quotes the packet as the client sent it"
    );
    assert_eq!((f[34], f[35]), (3, 3), "type and code kept");
}

#[test]
fn an_error_from_the_client_side_reaches_the_real_server() {
    let syn = tcp_frame(CLIENT_MAC, CLIENT, 43001, VIP, 80, SYN);
    let first = replay(&nat_config(), &[(SEC, syn.clone())]);
    let rs = parse_tcp(&first.out[0].1).dst;
    let rs_mac = RS_MAC[RS.iter().position(|r| *r == rs).unwrap()];
    let syn_ack = tcp_frame(rs_mac, rs, 8080, CLIENT, 43001, SYN | ACK);
    let second = replay(
        &nat_config(),
        &[(SEC, syn.clone()), (SEC + 1, syn_ack.clone())],
    );
    let to_client = second.out[1].1.clone();
    // A router on the client's side: time exceeded for the SYN-ACK we sent.
    let router = Ipv4Addr::new(10, 0, 0, 254);
    let err = icmp_error([2, 0, 0, 0, 0, 0xfe], router, VIP, 11, 0, &to_client);
    let r = replay(
        &nat_config(),
        &[(SEC, syn), (SEC + 1, syn_ack), (SEC + 2, err)],
    );
    assert_eq!(r.out.len(), 3, "{}", r.report);
    let f = &r.out[2].1;
    assert_eq!(&f[0..6], &rs_mac, "to the real server");
    assert_eq!(&f[14 + 16..14 + 20], &rs.octets());
    assert_eq!(csum(&f[14..34], 0), 0);
    assert_eq!(csum(&f[34..], 0), 0);
    assert_eq!(
        quote_of(f),
        (rs, 8080, CLIENT, 43001),
        "quotes the packet as the RS sent it"
    );
}

#[test]
fn errors_about_unknown_connections_and_other_icmp_are_dropped_with_reasons() {
    let stray = tcp_frame(CLIENT_MAC, VIP, 80, CLIENT, 49999, SYN | ACK);
    let frames = vec![
        (SEC, icmp_error(CLIENT_MAC, CLIENT, VIP, 3, 1, &stray)),
        (SEC, {
            let mut m = vec![13, 0, 0, 0, 0, 0, 0, 0];
            m.extend_from_slice(&[0; 12]);
            let c = csum(&m, 0);
            m[2..4].copy_from_slice(&c.to_be_bytes());
            eth(
                DIRECTOR_MAC,
                CLIENT_MAC,
                0x0800,
                &ipv4(CLIENT, Ipv4Addr::new(10, 1, 0, 11), 1, &m),
            )
        }),
    ];
    let r = replay(&nat_config(), &frames);
    assert!(r.out.is_empty());
    assert_eq!(
        drops(&r.report, "no_connection"),
        1,
        "{}",
        r.report["drops"]
    );
    assert_eq!(
        drops(&r.report, "icmp_unsupported"),
        1,
        "{}",
        r.report["drops"]
    );
}
