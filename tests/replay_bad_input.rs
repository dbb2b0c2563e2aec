//! Malformed frames are dropped and counted under their reason, never a crash.
mod common;
use common::*;

const SEC: u64 = 1_000_000_000;

fn syn_frame() -> Vec<u8> {
    tcp_frame(CLIENT_MAC, CLIENT, 40000, VIP, 80, SYN)
}

/// Each case: a name, the malformed frame, the drop reason it must count as.
fn cases() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let good = syn_frame();
    let mut ihl4 = good.clone();
    ihl4[14] = 0x44;
    let mut total_beyond = good.clone();
    total_beyond[16..18].copy_from_slice(&2000u16.to_be_bytes());
    let mut total_short = good.clone();
    total_short[16..18].copy_from_slice(&10u16.to_be_bytes());
    let mut offset4 = good.clone();
    offset4[14 + 20 + 12] = 0x40;
    let mut offset_beyond = good.clone();
    offset_beyond[14 + 20 + 12] = 0xf0;
    let mut more_frags = good.clone();
    more_frags[14 + 6] = 0x20;
    let mut frag_offset = good.clone();
    frag_offset[14 + 6..14 + 8].copy_from_slice(&[0x00, 0x10]);
    let mut version6 = good.clone();
    version6[14] = 0x65;
    let mut unknown_type = good.clone();
    unknown_type[12..14].copy_from_slice(&[0x88, 0xb5]);
    let mut other_mac = good.clone();
    other_mac[0..6].copy_from_slice(&[2, 0, 0, 0, 0, 0x99]);
    let udp_bad_len = {
        let mut u = vec![0x9c, 0x40, 0, 53, 0, 200, 0, 0];
        u.extend_from_slice(&[0; 4]);
        eth(DIRECTOR_MAC, CLIENT_MAC, 0x0800, &ipv4(CLIENT, VIP, 17, &u))
    };
    vec![
        ("zero-length frame", vec![], "empty_frame"),
        (
            "truncated ethernet",
            good[..10].to_vec(),
            "truncated_ethernet",
        ),
        (
            "truncated ip header",
            good[..14 + 12].to_vec(),
            "truncated_ip",
        ),
        (
            "truncated tcp header",
            {
                let mut f = good[..14 + 20 + 10].to_vec();
                f[16..18].copy_from_slice(&30u16.to_be_bytes());
                f
            },
            "truncated_l4",
        ),
        ("ihl < 5", ihl4, "bad_ihl"),
        (
            "total length beyond frame",
            total_beyond,
            "bad_total_length",
        ),
        ("total length below header", total_short, "bad_total_length"),
        ("tcp data offset < 5", offset4, "bad_data_offset"),
        (
            "tcp data offset beyond segment",
            offset_beyond,
            "bad_data_offset",
        ),
        ("fragment (MF)", more_frags, "fragment"),
        ("fragment (offset)", frag_offset, "fragment"),
        (
            "ip version 6 in an IPv4 ethertype",
            version6,
            "bad_ip_version",
        ),
        ("unknown ethertype", unknown_type, "unknown_ethertype"),
        ("unicast to another MAC", other_mac, "not_for_us"),
        ("udp length beyond datagram", udp_bad_len, "bad_udp_length"),
        (
            "arp truncated",
            {
                let mut a = arp_request(CLIENT_MAC, CLIENT, VIP);
                a.truncate(14 + 20);
                a
            },
            "arp_malformed",
        ),
    ]
}

#[test]
fn every_malformed_frame_is_dropped_under_its_reason() {
    for (name, frame, reason) in cases() {
        let r = replay(&nat_config(), &[(SEC, frame)]);
        assert!(r.out.is_empty(), "{name}: nothing is sent");
        assert_eq!(
            drops(&r.report, reason),
            1,
            "{name}: counted as {reason}; report {}",
            r.report["drops"]
        );
        let total: u64 = r.report["drops"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(total, 1, "{name}: counted once");
    }
}

#[test]
fn malformed_frames_do_not_disturb_good_traffic() {
    let mut frames: Vec<(u64, Vec<u8>)> = cases().into_iter().map(|(_, f, _)| (SEC, f)).collect();
    frames.push((SEC + 1, syn_frame()));
    let r = replay(&nat_config(), &frames);
    assert_eq!(r.out.len(), 1, "the good SYN still goes out");
    assert_eq!(r.report["conns_created"], 1);
}

#[test]
fn random_bytes_never_crash_the_pipeline() {
    // Deterministic pseudo-random frames of every length up to 128 bytes,
    // half of them with a valid Ethernet/IPv4 prefix to reach deeper parsers.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut frames = Vec::new();
    for i in 0..2000u64 {
        let len = (i % 129) as usize;
        let mut f: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        if i % 2 == 0 && len >= 34 {
            f[0..6].copy_from_slice(&DIRECTOR_MAC);
            f[12..14].copy_from_slice(&[8, 0]);
            f[14] = 0x45;
        }
        frames.push((SEC + i, f));
    }
    let r = replay(&nat_config(), &frames);
    assert_eq!(r.report["rx_packets"], 2000);
}
