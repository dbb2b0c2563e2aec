//! No input makes the codec or an instance panic; valid adverts round-trip.

mod common;

use std::net::Ipv4Addr;

use common::*;
use proptest::prelude::*;
use vrrp::codec::{self, Advert};
use vrrp::{ChecksumForm, Instance, Version};

fn any_version() -> impl Strategy<Value = Version> {
    prop_oneof![Just(Version::V2), Just(Version::V3)]
}

fn any_form() -> impl Strategy<Value = ChecksumForm> {
    prop_oneof![Just(ChecksumForm::Plain), Just(ChecksumForm::PseudoHeader)]
}

fn any_advert() -> impl Strategy<Value = Advert> {
    (
        any_version(),
        any::<u8>(),
        any::<u8>(),
        1u16..=255,
        1u16..=4095,
        prop::collection::vec(any::<u32>().prop_map(Ipv4Addr::from), 0..20),
        0u8..=1,
        any::<[u8; 8]>(),
    )
        .prop_map(|(version, vrid, priority, secs, cs, addresses, at, ad)| {
            let v2 = version == Version::V2;
            Advert {
                version,
                vrid,
                priority,
                interval_cs: if v2 { secs * 100 } else { cs },
                addresses,
                auth_type: if v2 { at } else { 0 },
                auth_data: if v2 { ad } else { [0; 8] },
            }
        })
}

/// Feeds bytes to the decoder and to instances in every state.
fn feed(bytes: &[u8]) {
    let _ = codec::decode(bytes);
    for version in [Version::V2, Version::V3] {
        let mut out = Vec::new();
        let init = Instance::new(params(version, 100, 1));
        let mut backup = init.clone();
        backup.start(0, &mut out);
        let mut master = Instance::new(vrrp::Params {
            initial: vrrp::InitialState::Master,
            ..params(version, 100, 1)
        });
        master.start(0, &mut out);
        let mut fault = backup.clone();
        fault.set_fault(0, true, &mut out);
        for mut inst in [init, backup, master, fault] {
            let _ = inst.on_packet(5, bytes, &mut out);
            inst.on_timer(10_000, &mut out);
        }
    }
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        feed(&bytes);
    }

    /// Random bytes behind a plausible IPv4 header reach the VRRP parser.
    #[test]
    fn random_vrrp_payload_never_panics(
        payload in prop::collection::vec(any::<u8>(), 0..80),
        ttl in any::<u8>(),
    ) {
        let p = codec::ipv4_packet(ip(2), codec::VRRP_GROUP, ttl, &payload);
        feed(&p);
    }

    #[test]
    fn mutated_valid_packets_never_panic(
        a in any_advert(),
        form in any_form(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let mut p = packet_with(&a, ip(2), 255, form);
        for (i, v) in edits {
            let i = i.index(p.len());
            p[i] = v;
        }
        if do_cut {
            p.truncate(cut.index(p.len() + 1));
        }
        feed(&p);
    }

    #[test]
    fn encode_decode_round_trip(a in any_advert(), form in any_form(), src in any::<u32>(), dst in any::<u32>()) {
        let (src, dst) = (Ipv4Addr::from(src), Ipv4Addr::from(dst));
        let msg = codec::encode(&a, src, dst, form);
        let rx = codec::decode(&codec::ipv4_packet(src, dst, 255, &msg)).expect("valid");
        prop_assert_eq!(&rx.advert, &a);
        prop_assert_eq!(rx.src, src);
        prop_assert_eq!(rx.dst, dst);
        if a.version == Version::V2 {
            prop_assert_eq!(rx.checksum, ChecksumForm::Plain);
        }
    }

    /// Any single-bit flip in a v2 message is caught by the checksum.
    /// Bytes 0 (version/type) and 3 (count) are left alone: they change the
    /// layout, so the sum then covers other bytes and could match by chance.
    #[test]
    fn single_bit_flip_in_v2_is_rejected(
        a in any_advert(),
        secs in 1u16..=255,
        bit in any::<prop::sample::Index>(),
    ) {
        let a = Advert { version: Version::V2, interval_cs: secs * 100, ..a };
        let mut p = packet(&a, ip(2));
        let flippable: Vec<usize> = (20..p.len()).filter(|i| *i != 20 && *i != 23).collect();
        let b = bit.index(flippable.len() * 8);
        p[flippable[b / 8]] ^= 1 << (b % 8);
        prop_assert_eq!(codec::decode(&p).map(|_| ()), Err(vrrp::RxDrop::Checksum));
    }
}
