//! The Builder's packing: size limits, header fields, flush by age, and a
//! round trip of random connection lists through decode.

mod common;

use common::{fullnat, tcp, template, with_seq};
use connsync::v1::Builder;
use connsync::*;
use proptest::prelude::*;
use std::net::Ipv4Addr;

/// Pushes everything, then forces the last datagram out.
fn build(b: &mut Builder, conns: &[SyncConn], now: Millis) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = conns.iter().filter_map(|c| b.push(c, now)).collect();
    out.extend(b.flush(now, FLUSH_AGE_MS, true));
    out
}

/// Header fields agree with the body.
fn check_header(d: &[u8], syncid: u8) -> usize {
    assert_eq!(d[0], 0, "reserved");
    assert_eq!(d[1], syncid);
    assert_eq!(
        usize::from(u16::from_be_bytes([d[2], d[3]])),
        d.len(),
        "size"
    );
    assert_eq!(d[5], 1, "version");
    assert_eq!(&d[6..8], &[0, 0], "spare");
    let got = decode(d, syncid).unwrap();
    assert_eq!(got.conns.len(), usize::from(d[4]), "nr_conns");
    got.conns.len()
}

#[test]
fn maxlen_is_clamped_as_the_kernel_does() {
    assert_eq!(Builder::new(0, 0).maxlen(), DEFAULT_MAXLEN);
    assert_eq!(Builder::new(0, 1).maxlen(), 1);
    assert_eq!(Builder::new(0, 1_000_000).maxlen(), 65507);
    assert_eq!(Builder::new(0, 1500).maxlen(), 1500);
}

#[test]
fn default_maxlen_holds_forty_plain_entries() {
    // (1472 - 8) / 36 = 40.
    let conns: Vec<_> = (0..41).map(tcp).collect();
    let mut b = Builder::new(1, 0);
    let mut first = None;
    for (i, c) in conns.iter().enumerate() {
        if let Some(d) = b.push(c, 0) {
            assert_eq!(i, 40, "the 41st entry closes the first datagram");
            first = Some(d);
        }
    }
    let d = first.unwrap();
    assert_eq!(d.len(), 8 + 40 * 36);
    assert_eq!(check_header(&d, 1), 40);
    // The 41st started the next one.
    assert_eq!(b.pending_conns(), 1);
}

#[test]
fn datagrams_never_exceed_maxlen() {
    let conns: Vec<SyncConn> = (0..120u8)
        .map(|n| match n % 4 {
            0 => tcp(n),
            1 => with_seq(n),
            2 => fullnat(n),
            _ => SyncConn {
                fullnat: Some((Ipv4Addr::LOCALHOST, 1)),
                ..with_seq(n)
            },
        })
        .collect();
    for maxlen in [80, 81, 99, 100, 101, 150, 512, 1000, 1472] {
        let mut b = Builder::new(2, maxlen);
        let out = build(&mut b, &conns, 0);
        let mut n = 0;
        for d in &out {
            assert!(d.len() <= maxlen, "{} > {maxlen}", d.len());
            n += check_header(d, 2);
        }
        assert_eq!(n, conns.len());
    }
}

#[test]
fn tiny_maxlen_sends_one_entry_per_datagram() {
    // ip_vs_sync_buff_create: room for max(maxlen, header + entry).
    let mut b = Builder::new(0, 10);
    let out = build(&mut b, &[tcp(1), with_seq(2), tcp(3)], 0);
    let lens: Vec<usize> = out.iter().map(Vec::len).collect();
    assert_eq!(lens, vec![44, 70, 44]);
}

#[test]
fn at_most_255_entries() {
    let conns: Vec<_> = (0..300).map(|i| tcp(i as u8)).collect();
    let mut b = Builder::new(0, 65507);
    let out = build(&mut b, &conns, 0);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0][4], 255);
    assert_eq!(out[1][4], 45);
}

#[test]
fn flush_by_age_of_the_first_entry() {
    let mut b = Builder::new(0, 0);
    assert_eq!(b.flush(0, 0, true), None, "nothing pending");
    assert!(b.push(&tcp(1), 1000).is_none());
    assert!(b.push(&tcp(2), 2500).is_none());
    assert_eq!(b.flush(2999, FLUSH_AGE_MS, false), None);
    let d = b
        .flush(3000, FLUSH_AGE_MS, false)
        .expect("2 s after the first entry");
    assert_eq!(check_header(&d, 0), 2);
    assert_eq!(b.flush(10_000, FLUSH_AGE_MS, false), None, "emptied");
    // A new datagram's age starts at its own first entry.
    b.push(&template(), 20_000);
    assert_eq!(b.flush(21_999, FLUSH_AGE_MS, false), None);
    assert!(b.flush(21_999, FLUSH_AGE_MS, true).is_some(), "forced");
}

#[test]
fn clock_going_backwards_does_not_flush_or_panic() {
    let mut b = Builder::new(0, 0);
    b.push(&tcp(1), 5000);
    assert_eq!(b.flush(0, FLUSH_AGE_MS, false), None);
}

fn arb_conn() -> impl Strategy<Value = SyncConn> {
    let proto_state = prop_oneof![
        (Just(PROTO_TCP), 0..tcp_state::LAST),
        (Just(PROTO_UDP), Just(0u16)),
        (Just(PROTO_SCTP), 0..sctp_state::LAST),
        (Just(PROTO_ESP), Just(0u16)),
    ];
    let seq = (any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(a, b, c)| SeqOpt {
        init_seq: a,
        delta: b,
        previous_delta: c,
    });
    (
        (any::<u32>(), proto_state, any::<u8>(), any::<u16>()),
        (
            any::<[u16; 3]>(),
            any::<u32>(),
            any::<u32>(),
            any::<[u32; 3]>(),
        ),
        proptest::option::of((seq.clone(), seq)),
        proptest::option::of((any::<u32>(), any::<u16>())),
    )
        .prop_map(
            |((flags, (p, s), tp, ts), (ports, fwmark, timeout, addrs), seqs, fnat)| {
                let flags = flags & !F_HASHED;
                // Templates skip the protocol and state check: any value goes.
                let (protocol, state) = if flags & F_TEMPLATE != 0 {
                    (tp, ts)
                } else {
                    (p, s)
                };
                SyncConn {
                    protocol,
                    flags,
                    state,
                    cport: ports[0],
                    vport: ports[1],
                    dport: ports[2],
                    fwmark,
                    timeout_s: timeout,
                    caddr: Ipv4Addr::from(addrs[0]),
                    vaddr: Ipv4Addr::from(addrs[1]),
                    daddr: Ipv4Addr::from(addrs[2]),
                    in_seq: seqs.map(|s| s.0),
                    out_seq: seqs.map(|s| s.1),
                    fullnat: fnat.map(|(a, p)| (Ipv4Addr::from(a), p)),
                }
            },
        )
}

proptest! {
    #[test]
    fn round_trip(
        conns in proptest::collection::vec(arb_conn(), 0..150),
        maxlen in prop_oneof![Just(0usize), 80usize..3000],
        syncid in any::<u8>(),
    ) {
        let mut b = Builder::new(syncid, maxlen);
        let out = build(&mut b, &conns, 0);
        let mut back = Vec::new();
        for d in &out {
            prop_assert!(d.len() <= b.maxlen());
            let got = decode(d, syncid).unwrap();
            prop_assert_eq!(got.version, 1);
            prop_assert!(got.skipped.is_empty() && got.stopped.is_none());
            prop_assert_eq!(got.conns.len(), usize::from(d[4]));
            back.extend(got.conns);
        }
        prop_assert_eq!(back, conns);
    }
}
