//! Wire format: hand-computed vectors, round trips, and every drop reason.

mod common;

use std::net::Ipv4Addr;

use common::*;
use vrrp::codec::{self, Advert, VRRP_GROUP};
use vrrp::{ChecksumForm, Instance, RxDrop, Version};

const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

fn one_vip(version: Version, interval_cs: u16) -> Advert {
    Advert {
        version,
        vrid: 1,
        priority: 100,
        interval_cs,
        addresses: vec![VIP],
        auth_type: 0,
        auth_data: [0; 8],
    }
}

// The arithmetic below is RFC 1071's: add the message as big-endian 16-bit
// words (checksum field zero), fold carries back in, complement.

// v2, VRID 1, priority 100, one address 10.0.0.100, no auth, 1 s.
//
// Message words:
//   0x2101 (ver 2, type 1, VRID 1)  0x6401 (prio 100, count 1)
//   0x0001 (auth 0, int 1 s)        0x0000 (checksum)
//   0x0a00 0x0064 (10.0.0.100)      0x0000 x4 (auth data)
// Sum: 0x2101 + 0x6401 = 0x8502, + 0x0001 = 0x8503, + 0x0a00 = 0x8f03,
//      + 0x0064 = 0x8f67 (no carry). Checksum = !0x8f67 = 0x7098.
#[test]
fn v2_vector() {
    let b = codec::encode(
        &one_vip(Version::V2, 100),
        SRC,
        VRRP_GROUP,
        ChecksumForm::PseudoHeader, // ignored for v2
    );
    let expect = [
        0x21, 0x01, 0x64, 0x01, 0x00, 0x01, 0x70, 0x98, 10, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    assert_eq!(b, expect);
}

// v2 with auth type 1, password "secret" (zero padded to 8 bytes).
//
// Words: 0x2101 0x6401 0x0101 (auth 1, 1 s) 0x0000 0x0a00 0x0064
//        0x7365 0x6372 0x6574 0x0000 ("se" "cr" "et" "\0\0").
// Sum: 0x8502, + 0x0101 = 0x8603, + 0x0a00 = 0x9003, + 0x0064 = 0x9067,
//      + 0x7365 = 0x103cc, + 0x6372 = 0x1673e, + 0x6574 = 0x1ccb2.
// Fold: 0xccb2 + 0x1 = 0xccb3. Checksum = !0xccb3 = 0x334c.
#[test]
fn v2_pass_vector() {
    let mut a = one_vip(Version::V2, 100);
    a.auth_type = 1;
    a.auth_data = *b"secret\0\0";
    let b = codec::encode(&a, SRC, VRRP_GROUP, ChecksumForm::Plain);
    assert_eq!(b.get(6..8), Some(&[0x33, 0x4c][..]));
    assert_eq!(b.get(12..20), Some(&b"secret\0\0"[..]));
}

// v3, VRID 1, priority 100, one address 10.0.0.100, 100 cs, src 10.0.0.1.
//
// Message words: 0x3101 0x6401 0x0064 (reserved 0, 100 cs) 0x0000 0x0a00 0x0064.
// Message sum: 0x3101 + 0x6401 = 0x9502, + 0x0064 = 0x9566, + 0x0a00 = 0x9f66,
//              + 0x0064 = 0x9fca.
//
// Plain, RFC 9568 5.2.8 for IPv4 ("the checksum calculation only includes
// the VRRP message starting with the Version field and ending after the last
// IPv4 address"): checksum = !0x9fca = 0x6035.
//
// Pseudo-header (keepalived 2.2.7; RFC 5798 5.2.8 as keepalived reads it),
// to 224.0.0.18, VRRP length 12:
//   0x0a00 + 0x0001 (src) + 0xe000 + 0x0012 (dst) + 0x0070 (zero, 112)
//   + 0x000c (length) = 0xea8f.
//   0xea8f + 0x9fca = 0x18a59, fold 0x8a59 + 0x1 = 0x8a5a, checksum = !0x8a5a = 0x75a5.
//
// Pseudo-header to the unicast peer 10.0.0.2 instead:
//   0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 0x0070 + 0x000c = 0x147f,
//   0x147f + 0x9fca = 0xb449 (no carry), checksum = !0xb449 = 0x4bb6.
#[test]
fn v3_vectors_both_forms() {
    let a = one_vip(Version::V3, 100);
    let head = [0x31, 0x01, 0x64, 0x01, 0x00, 0x64];
    let tail = [10, 0, 0, 100];

    let plain = codec::encode(&a, SRC, VRRP_GROUP, ChecksumForm::Plain);
    assert_eq!(plain, [&head[..], &[0x60, 0x35], &tail].concat());

    let pseudo = codec::encode(&a, SRC, VRRP_GROUP, ChecksumForm::PseudoHeader);
    assert_eq!(pseudo, [&head[..], &[0x75, 0xa5], &tail].concat());

    let unicast = codec::encode(&a, SRC, ip(2), ChecksumForm::PseudoHeader);
    assert_eq!(unicast, [&head[..], &[0x4b, 0xb6], &tail].concat());
}

#[test]
fn v3_decode_reports_the_form_that_matched() {
    let a = one_vip(Version::V3, 100);
    for form in [ChecksumForm::Plain, ChecksumForm::PseudoHeader] {
        let p = packet_with(&a, SRC, 255, form);
        let rx = codec::decode(&p).expect("valid");
        assert_eq!(rx.checksum, form);
        assert_eq!(rx.advert, a);
    }
}

#[test]
fn round_trips() {
    let mut v2 = advert(Version::V2, 200);
    v2.auth_type = 1;
    v2.auth_data = *b"pw\0\0\0\0\0\0";
    v2.interval_cs = 300;
    let mut v3 = advert(Version::V3, 1);
    v3.interval_cs = 4095;
    let cases = [
        (v2.clone(), ChecksumForm::Plain, ChecksumForm::Plain),
        // v2 ignores the requested form: always the plain checksum.
        (v2, ChecksumForm::PseudoHeader, ChecksumForm::Plain),
        (v3.clone(), ChecksumForm::Plain, ChecksumForm::Plain),
        (v3, ChecksumForm::PseudoHeader, ChecksumForm::PseudoHeader),
    ];
    for (a, send, seen) in cases {
        let p = packet_with(&a, ip(7), 255, send);
        let rx = codec::decode(&p).expect("round trip");
        assert_eq!(rx.advert, a);
        assert_eq!(rx.src, ip(7));
        assert_eq!(rx.dst, VRRP_GROUP);
        assert_eq!(rx.ttl, 255);
        assert_eq!(rx.checksum, seen);
    }
}

#[test]
fn pseudo_header_binds_the_destination() {
    // Computed for 224.0.0.18 but sent to a unicast peer: neither form matches.
    let a = advert(Version::V3, 100);
    let msg = codec::encode(&a, ip(1), VRRP_GROUP, ChecksumForm::PseudoHeader);
    let p = codec::ipv4_packet(ip(1), ip(2), 255, &msg);
    assert_eq!(codec::decode(&p), Err(RxDrop::Checksum));
}

#[test]
fn v3_reserved_bits_ignored_and_interval_capped() {
    let mut a = advert(Version::V3, 100);
    a.interval_cs = 0xffff;
    let msg = codec::encode(&a, ip(1), VRRP_GROUP, ChecksumForm::Plain);
    assert_eq!(msg.get(4..6), Some(&[0x0f, 0xff][..]));
    // Set the reserved bits and fix the plain checksum up for the change:
    // +0xf000 in word 2 means -0xf000 in the checksum (one's complement).
    let mut m = msg.clone();
    m[4] |= 0xf0;
    let ck = u16::from_be_bytes([m[6], m[7]]);
    let fixed = {
        let mut s = u32::from(!ck) + 0xf000;
        s = (s & 0xffff) + (s >> 16);
        !(s as u16)
    };
    m[6..8].copy_from_slice(&fixed.to_be_bytes());
    let rx = codec::decode(&codec::ipv4_packet(ip(1), VRRP_GROUP, 255, &m)).expect("valid");
    assert_eq!(rx.advert.interval_cs, 0x0fff);
}

#[test]
fn trailing_payload_and_link_padding_are_tolerated() {
    let a = advert(Version::V3, 100);
    let mut p = packet(&a, ip(2));
    // Link-layer padding after the IP datagram.
    p.extend_from_slice(&[0xee; 6]);
    assert!(codec::decode(&p).is_ok());
}

// --- every drop reason ----------------------------------------------------

#[test]
fn decode_drops() {
    let good = packet(&advert(Version::V3, 100), ip(2));
    assert!(codec::decode(&good).is_ok());

    let cases: Vec<(&str, Vec<u8>, RxDrop)> = vec![
        ("empty", vec![], RxDrop::Malformed),
        ("short ip header", good[..19].to_vec(), RxDrop::Malformed),
        ("ipv6 version", with(&good, 0, 0x65), RxDrop::Malformed),
        ("ihl 4", with(&good, 0, 0x44), RxDrop::Malformed),
        ("ihl past total", with(&good, 0, 0x4f), RxDrop::Malformed),
        ("total > buffer", with(&good, 3, 200), RxDrop::Malformed),
        ("total < ihl", with(&good, 3, 10), RxDrop::Malformed),
        ("protocol 17", with(&good, 9, 17), RxDrop::Malformed),
        ("more fragments", with(&good, 6, 0x20), RxDrop::Malformed),
        ("no vrrp bytes", trunc_ip(&good, 20), RxDrop::Length),
        ("fixed part cut", trunc_ip(&good, 27), RxDrop::Length),
        ("address cut", trunc_ip(&good, 31), RxDrop::Length),
        ("count too big", with(&good, 23, 3), RxDrop::Length),
        ("version 1", with(&good, 20, 0x11), RxDrop::Version),
        ("version 4", with(&good, 20, 0x41), RxDrop::Version),
        ("type 2", with(&good, 20, 0x32), RxDrop::Type),
        ("priority flipped", with(&good, 22, 99), RxDrop::Checksum),
    ];
    for (what, p, why) in cases {
        assert_eq!(codec::decode(&p).map(|_| ()), Err(why), "{what}");
    }

    // v2: the auth trailer is part of the length.
    let v2 = packet(&advert(Version::V2, 100), ip(2));
    assert!(codec::decode(&v2).is_ok());
    assert_eq!(
        codec::decode(&trunc_ip(&v2, v2.len() - 1)).map(|_| ()),
        Err(RxDrop::Length)
    );
    // v2 never accepts a pseudo-header checksum.
    let a = advert(Version::V2, 100);
    let mut msg = codec::encode(&a, ip(2), VRRP_GROUP, ChecksumForm::Plain);
    // Replace the plain checksum by the one a pseudo-header would give.
    let plain = u16::from_be_bytes([msg[6], msg[7]]);
    let phdr: u32 = [0x0a00u32, 0x0002, 0xe000, 0x0012, 0x0070, msg.len() as u32]
        .iter()
        .sum();
    let mut s = u32::from(!plain) + phdr;
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    msg[6..8].copy_from_slice(&(!(s as u16)).to_be_bytes());
    let p = codec::ipv4_packet(ip(2), VRRP_GROUP, 255, &msg);
    assert_eq!(codec::decode(&p).map(|_| ()), Err(RxDrop::Checksum));
}

/// Instance-level drops, each from a crafted packet, each counted once.
#[test]
fn instance_drops() {
    let v3 = params(Version::V3, 100, 1);
    let mut v2 = params(Version::V2, 100, 1);
    v2.auth_pass = Some(*b"secret\0\0");
    let peer = ip(2);
    let v2_ok = || {
        let mut a = advert(Version::V2, 150);
        a.auth_type = 1;
        a.auth_data = *b"secret\0\0";
        a
    };

    let cases: Vec<(&str, vrrp::Params, Vec<u8>, RxDrop)> = vec![
        (
            "ttl 254",
            v3.clone(),
            packet_with(&advert(Version::V3, 150), peer, 254, ChecksumForm::Plain),
            RxDrop::Ttl,
        ),
        (
            "v2 to a v3 instance",
            v3.clone(),
            packet(&v2_ok(), peer),
            RxDrop::Version,
        ),
        (
            "other vrid",
            v3.clone(),
            packet(
                &Advert {
                    vrid: 52,
                    ..advert(Version::V3, 150)
                },
                peer,
            ),
            RxDrop::Vrid,
        ),
        (
            "our own",
            v3.clone(),
            packet(&advert(Version::V3, 100), ip(1)),
            RxDrop::Own,
        ),
        (
            "no auth to a PASS instance",
            v2.clone(),
            packet(&advert(Version::V2, 150), peer),
            RxDrop::Auth,
        ),
        (
            "wrong password",
            v2.clone(),
            packet(
                &Advert {
                    auth_data: *b"secreT\0\0",
                    ..v2_ok()
                },
                peer,
            ),
            RxDrop::Auth,
        ),
        (
            "v2 interval 2 s vs 1 s",
            v2.clone(),
            packet(
                &Advert {
                    interval_cs: 200,
                    ..v2_ok()
                },
                peer,
            ),
            RxDrop::Interval,
        ),
        (
            "v3 interval 0",
            v3.clone(),
            packet(
                &Advert {
                    interval_cs: 0,
                    ..advert(Version::V3, 150)
                },
                peer,
            ),
            RxDrop::Interval,
        ),
        (
            "missing a vip",
            v3.clone(),
            packet(
                &Advert {
                    addresses: vec![ip(100)],
                    ..advert(Version::V3, 150)
                },
                peer,
            ),
            RxDrop::Addresses,
        ),
        (
            "extra vip",
            v3.clone(),
            packet(
                &Advert {
                    addresses: vec![ip(100), ip(101), ip(102)],
                    ..advert(Version::V3, 150)
                },
                peer,
            ),
            RxDrop::Addresses,
        ),
        (
            "truncated",
            v3.clone(),
            trunc_ip(&packet(&advert(Version::V3, 150), peer), 30),
            RxDrop::Length,
        ),
        (
            "bad checksum",
            v3.clone(),
            with(&packet(&advert(Version::V3, 150), peer), 22, 151),
            RxDrop::Checksum,
        ),
        (
            "type 2",
            v3.clone(),
            with(&packet(&advert(Version::V3, 150), peer), 20, 0x32),
            RxDrop::Type,
        ),
        ("garbage", v3.clone(), vec![0x45; 3], RxDrop::Malformed),
    ];
    let mut seen = std::collections::HashSet::new();
    for (what, p, bytes, why) in cases {
        let mut inst = Instance::new(p);
        let mut out = Vec::new();
        inst.start(0, &mut out);
        out.clear();
        assert_eq!(inst.on_packet(10, &bytes, &mut out), Err(why), "{what}");
        assert!(out.is_empty(), "{what}: a drop emits nothing");
        assert_eq!(inst.stats().drops(why), 1, "{what}");
        assert_eq!(inst.stats().dropped.iter().sum::<u64>(), 1, "{what}");
        assert_eq!(inst.stats().dropped[why as usize], 1, "{what}");
        assert_eq!(inst.stats().adverts_received, 0, "{what}");
        seen.insert(why);
    }
    assert_eq!(seen.len(), RxDrop::ALL.len(), "every reason exercised");
}

#[test]
fn accepted_variants() {
    // Address order and duplicates do not matter; the owner may differ.
    let v3 = params(Version::V3, 100, 1);
    let ok = [
        Advert {
            addresses: vec![ip(101), ip(100)],
            ..advert(Version::V3, 150)
        },
        Advert {
            addresses: vec![ip(101), ip(100), ip(101)],
            ..advert(Version::V3, 150)
        },
        Advert {
            addresses: vec![ip(9)],
            ..advert(Version::V3, 255)
        },
    ];
    for a in ok {
        let mut inst = Instance::new(v3.clone());
        assert_eq!(
            inst.on_packet(0, &packet(&a, ip(2)), &mut Vec::new()),
            Ok(())
        );
        assert_eq!(inst.stats().adverts_received, 1);
    }
    // Unicast instances accept any TTL.
    let mut uni = v3.clone();
    uni.unicast = true;
    let mut inst = Instance::new(uni);
    let p = packet_with(&advert(Version::V3, 150), ip(2), 64, ChecksumForm::Plain);
    assert_eq!(inst.on_packet(0, &p, &mut Vec::new()), Ok(()));
    // v2 without auth ignores the auth data bytes.
    let mut inst = Instance::new(params(Version::V2, 100, 1));
    let a = Advert {
        auth_data: *b"whatever",
        ..advert(Version::V2, 150)
    };
    assert_eq!(
        inst.on_packet(0, &packet(&a, ip(2)), &mut Vec::new()),
        Ok(())
    );
}

#[test]
fn rx_drop_names_and_indices() {
    let names: Vec<_> = RxDrop::ALL.iter().map(|d| d.name()).collect();
    assert_eq!(
        names,
        [
            "ttl",
            "version",
            "type",
            "checksum",
            "length",
            "vrid",
            "auth",
            "interval",
            "addresses",
            "own",
            "malformed"
        ]
    );
    for (i, d) in RxDrop::ALL.iter().enumerate() {
        assert_eq!(*d as usize, i);
    }
}

#[test]
fn instance_advert_bytes_match_the_codec() {
    let mut p = params(Version::V3, 120, 1);
    p.send_checksum = ChecksumForm::Plain;
    let inst = Instance::new(p);
    let b = inst.advert_bytes(120, ip(9));
    let rx = codec::decode(&codec::ipv4_packet(ip(1), ip(9), 255, &b)).expect("valid");
    assert_eq!(rx.checksum, ChecksumForm::Plain);
    assert_eq!(rx.advert.priority, 120);
    assert_eq!(rx.advert.addresses, vips());

    let mut p = params(Version::V2, 120, 1);
    p.auth_pass = Some(*b"k\0\0\0\0\0\0\0");
    let inst = Instance::new(p);
    let b = inst.advert_bytes(0, VRRP_GROUP);
    let rx = codec::decode(&codec::ipv4_packet(ip(1), VRRP_GROUP, 255, &b)).expect("valid");
    assert_eq!(rx.advert.priority, 0);
    assert_eq!(rx.advert.auth_type, 1);
    assert_eq!(rx.advert.auth_data, *b"k\0\0\0\0\0\0\0");
    assert_eq!(rx.advert.interval_cs, 100);
}

/// `p` with byte `i` set to `v`; IP header bytes get their checksum ignored
/// by decode, VRRP bytes are deliberately left with a stale checksum.
fn with(p: &[u8], i: usize, v: u8) -> Vec<u8> {
    let mut q = p.to_vec();
    q[i] = v;
    q
}

/// The IP datagram cut to `len` bytes, total length updated to match.
fn trunc_ip(p: &[u8], len: usize) -> Vec<u8> {
    let mut q = p[..len].to_vec();
    q[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    q
}
