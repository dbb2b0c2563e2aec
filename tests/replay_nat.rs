//! Replay acceptance of the foundation: ARP, ICMP echo, NAT rewrite both ways,
//! and the rr spread over three real servers.
mod common;
use common::*;

const SEC: u64 = 1_000_000_000;

#[test]
fn arp_request_for_the_vip_gets_a_reply() {
    let r = replay(
        &nat_config(),
        &[(SEC, arp_request(CLIENT_MAC, CLIENT, VIP))],
    );
    assert_eq!(r.out.len(), 1, "{}", r.report);
    let f = &r.out[0].1;
    assert_eq!(&f[0..6], &CLIENT_MAC, "reply goes to the asker");
    assert_eq!(&f[6..12], &DIRECTOR_MAC);
    assert_eq!(&f[12..14], &[8, 6]);
    let a = &f[14..];
    assert_eq!(&a[0..8], &[0, 1, 8, 0, 6, 4, 0, 2], "ethernet/ipv4 reply");
    assert_eq!(&a[8..14], &DIRECTOR_MAC, "sender hw = us");
    assert_eq!(&a[14..18], &VIP.octets(), "sender ip = the VIP");
    assert_eq!(&a[18..24], &CLIENT_MAC);
    assert_eq!(&a[24..28], &CLIENT.octets());
}

#[test]
fn arp_request_for_the_director_address_gets_a_reply_and_others_are_ignored() {
    let stranger = std::net::Ipv4Addr::new(10, 0, 0, 77);
    let r = replay(
        &nat_config(),
        &[
            (SEC, arp_request(CLIENT_MAC, CLIENT, DIRECTOR_IP)),
            (SEC, arp_request(CLIENT_MAC, CLIENT, stranger)),
        ],
    );
    assert_eq!(r.out.len(), 1);
    assert_eq!(&r.out[0].1[14 + 14..14 + 18], &DIRECTOR_IP.octets());
    assert_eq!(drops(&r.report, "arp_not_for_us"), 1);
}

#[test]
fn icmp_echo_to_the_director_gets_a_reply() {
    let r = replay(
        &nat_config(),
        &[(SEC, icmp_echo(CLIENT, DIRECTOR_IP, 7, 1))],
    );
    assert_eq!(r.out.len(), 1, "{}", r.report);
    let f = &r.out[0].1;
    assert_eq!(&f[0..6], &CLIENT_MAC);
    assert_eq!(&f[6..12], &DIRECTOR_MAC);
    let ip = &f[14..34];
    assert_eq!(&ip[12..16], &DIRECTOR_IP.octets());
    assert_eq!(&ip[16..20], &CLIENT.octets());
    assert_eq!(csum(ip, 0), 0, "IP checksum");
    let icmp = &f[34..];
    assert_eq!(icmp[0], 0, "echo reply");
    assert_eq!(&icmp[4..8], &[0, 7, 0, 1], "id and sequence kept");
    assert_eq!(&icmp[8..], b"ferrovs-ping-payload");
    assert_eq!(csum(icmp, 0), 0, "ICMP checksum");
}

#[test]
fn icmp_echo_to_the_vip_gets_a_reply() {
    let r = replay(&nat_config(), &[(SEC, icmp_echo(CLIENT, VIP, 9, 3))]);
    assert_eq!(r.out.len(), 1);
    assert_eq!(&r.out[0].1[14 + 12..14 + 16], &VIP.octets());
}

#[test]
fn syn_is_rewritten_to_a_real_server_and_the_syn_ack_back_to_the_client() {
    // rr on a list built by adding 11, 12, 13 (newest first: 13, 12, 11).
    let syn = tcp_frame(CLIENT_MAC, CLIENT, 40000, VIP, 80, SYN);
    let first = replay(&nat_config(), &[(SEC, syn.clone())]);
    assert_eq!(first.out.len(), 1, "{}", first.report);
    let s = parse_tcp(&first.out[0].1);
    let rs = RS
        .iter()
        .position(|r| *r == s.dst)
        .expect("sent to a real server");
    assert_eq!(
        s.dst_mac, RS_MAC[rs],
        "destination MAC from the static neighbour"
    );
    assert_eq!(s.src_mac, DIRECTOR_MAC);
    assert_eq!(
        (s.src, s.sport),
        (CLIENT, 40000),
        "client address kept in NAT"
    );
    assert_eq!(s.dport, 8080, "port mapping 80 -> 8080");
    assert_eq!(s.flags, SYN);
    assert_eq!(s.ttl, 63, "TTL decremented");
    assert!(s.ip_csum_ok, "IP checksum");
    assert!(s.l4_csum_ok, "TCP checksum");

    let syn_ack = tcp_frame(RS_MAC[rs], RS[rs], 8080, CLIENT, 40000, SYN | ACK);
    let both = replay(&nat_config(), &[(SEC, syn), (SEC + 1000, syn_ack)]);
    assert_eq!(both.out.len(), 2, "{}", both.report);
    let b = parse_tcp(&both.out[1].1);
    assert_eq!((b.src, b.sport), (VIP, 80), "reply comes from VIP:80");
    assert_eq!((b.dst, b.dport), (CLIENT, 40000));
    assert_eq!(b.dst_mac, CLIENT_MAC);
    assert_eq!(b.flags, SYN | ACK);
    assert!(b.ip_csum_ok && b.l4_csum_ok, "checksums of the reply");
    assert_eq!(
        both.report["services"][0]["reals"][rs]["active"], 1,
        "SYN_RECV counts as active"
    );
}

#[test]
fn thirty_syns_spread_ten_ten_ten_with_rr() {
    let frames: Vec<_> = (0..30u16)
        .map(|i| {
            (
                SEC + u64::from(i) * 1000,
                tcp_frame(CLIENT_MAC, CLIENT, 50000 + i, VIP, 80, SYN),
            )
        })
        .collect();
    let r = replay(&nat_config(), &frames);
    assert_eq!(r.out.len(), 30);
    let mut count = [0; 3];
    let mut order = Vec::new();
    for (_, f) in &r.out {
        let s = parse_tcp(f);
        let i = RS.iter().position(|x| *x == s.dst).unwrap();
        count[i] += 1;
        order.push(i);
        assert!(s.ip_csum_ok && s.l4_csum_ok);
    }
    assert_eq!(count, [10, 10, 10]);
    // rr walks the IPVS list (newest first) cyclically.
    for w in order.windows(2) {
        assert_ne!(
            w[0], w[1],
            "rr never picks the same server twice in a row here"
        );
    }
    assert_eq!(r.report["conns_created"], 30);
}

#[test]
fn non_syn_without_a_connection_is_dropped() {
    let r = replay(
        &nat_config(),
        &[(SEC, tcp_frame(CLIENT_MAC, CLIENT, 40001, VIP, 80, ACK))],
    );
    assert!(r.out.is_empty());
    assert_eq!(drops(&r.report, "no_connection"), 1);
}
