//! Truncated and arbitrary input never panics: it is refused, or entries
//! stop or are skipped.

mod common;

use common::{fullnat, tcp, template, with_seq};
use connsync::v1::Builder;
use connsync::*;
use proptest::prelude::*;

fn sample_v1() -> Vec<u8> {
    let mut b = Builder::new(4, 0);
    for c in [with_seq(1), tcp(2), fullnat(3), template(), with_seq(5)] {
        assert!(b.push(&c, 0).is_none());
    }
    b.flush(0, 0, true).unwrap()
}

fn sample_v0() -> Vec<u8> {
    let mut d = vec![3, 4, 0, 0];
    for flags in [0x0003u16, 0x0603, 0x1000] {
        d.extend([0, 6, 0x9c, 0x41, 0, 80, 0, 80]);
        d.extend([198, 51, 100, 1, 192, 0, 2, 10, 10, 0, 0, 2]);
        d.extend(flags.to_be_bytes());
        d.extend([0, 1]);
        if flags & 0x0600 != 0 {
            d.extend([0xab; 24]);
        }
    }
    let n = d.len() as u16;
    d[2..4].copy_from_slice(&n.to_be_bytes());
    d
}

/// Every prefix, with the size field left alone (refused) and set to the
/// prefix length (decoded as far as it goes).
fn every_prefix(full: &[u8], version: u8) {
    let whole = decode(full, 0).unwrap();
    assert_eq!(whole.version, version);
    for len in 0..full.len() {
        let mut d = full[..len].to_vec();
        match decode(&d, 0) {
            Err(Refused::TooShort { .. }) => assert!(len < 4),
            Err(Refused::SizeMismatch { .. }) => assert!(len >= 4),
            other => panic!("prefix {len}: {other:?}"),
        }
        if len < 4 {
            continue;
        }
        d[2..4].copy_from_slice(&(len as u16).to_be_bytes());
        match decode(&d, 0) {
            // Under 8 bytes a v1 header cannot be told: first byte 0 reads
            // as a v0 datagram with no entries.
            Ok(got) if version == 1 && len < 8 => {
                assert_eq!((got.version, got.conns.len()), (0, 0), "prefix {len}");
                assert!(got.stopped.is_none());
            }
            Ok(got) => {
                assert_eq!(got.version, version);
                assert!(got.conns.len() < whole.conns.len(), "prefix {len}");
                assert_eq!(got.conns[..], whole.conns[..got.conns.len()]);
                assert!(got.stopped.is_some(), "prefix {len} must stop");
            }
            Err(e) => panic!("prefix {len}: {e:?}"),
        }
    }
}

#[test]
fn v1_truncated_at_every_length() {
    every_prefix(&sample_v1(), 1);
}

#[test]
fn v0_truncated_at_every_length() {
    every_prefix(&sample_v0(), 0);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(d in proptest::collection::vec(any::<u8>(), 0..400), ours in any::<u8>()) {
        let _ = decode(&d, ours);
    }

    #[test]
    fn arbitrary_bodies_with_a_valid_header_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..400),
        nr in 1u8..,
        v1 in any::<bool>(),
    ) {
        let mut d = if v1 { vec![0, 0, 0, 0, nr, 1, 0, 0] } else { vec![nr, 0, 0, 0] };
        d.extend(body);
        let n = d.len() as u16;
        d[2..4].copy_from_slice(&n.to_be_bytes());
        let got = decode(&d, 0).unwrap();
        prop_assert!(got.conns.len() + got.skipped.len() <= usize::from(nr));
    }

    #[test]
    fn corrupted_builder_output_never_panics(idx in 0usize..1000, byte in any::<u8>()) {
        let mut d = sample_v1();
        let i = idx % d.len();
        d[i] = byte;
        let _ = decode(&d, 0);
    }
}
