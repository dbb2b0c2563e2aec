//! Version 0 datagrams written byte by byte (struct ip_vs_sync_mesg_v0,
//! struct ip_vs_sync_conn_v0, struct ip_vs_sync_conn_options).

mod common;

use common::kernel_decode;
use connsync::*;
use std::net::Ipv4Addr;

/// struct ip_vs_sync_mesg_v0.
#[rustfmt::skip]
fn header(nr_conns: u8, syncid: u8, size: u16) -> Vec<u8> {
    let s = size.to_be_bytes();
    vec![
        nr_conns,   // nr_conns
        syncid,     // syncid
        s[0], s[1], // size, big-endian
    ]
}

/// struct ip_vs_sync_conn_v0: UDP 203.0.113.7:5353 -> 192.0.2.53:53 ->
/// 10.1.1.1:53 with the given 16-bit flags and state.
fn entry(flags: u16, state: u16) -> Vec<u8> {
    let f = flags.to_be_bytes();
    let s = state.to_be_bytes();
    vec![
        0x00, // reserved
        17,   // protocol: UDP
        0x14, 0xe9, // cport 5353
        0x00, 0x35, // vport 53
        0x00, 0x35, // dport 53
        203, 0, 113, 7, // caddr
        192, 0, 2, 53, // vaddr
        10, 1, 1, 1, // daddr
        f[0], f[1], // flags (16 bits in v0)
        s[0], s[1], // state
    ]
}

fn expected(flags: u32) -> SyncConn {
    SyncConn {
        protocol: 17,
        flags,
        state: 0,
        cport: 5353,
        vport: 53,
        dport: 53,
        fwmark: 0,
        timeout_s: 0,
        caddr: Ipv4Addr::new(203, 0, 113, 7),
        vaddr: Ipv4Addr::new(192, 0, 2, 53),
        daddr: Ipv4Addr::new(10, 1, 1, 1),
        in_seq: None,
        out_seq: None,
        fullnat: None,
    }
}

#[test]
fn plain() {
    let d = [header(2, 3, 52), entry(0x0002, 0), entry(0x0100, 0)].concat();
    let got = decode(&d, 3).unwrap();
    assert_eq!(got.version, 0);
    assert_eq!(got.syncid, 3);
    assert_eq!(got.conns, vec![expected(FWD_TUNNEL), expected(F_INACTIVE)]);
    let j = kernel_decode(&d).unwrap();
    assert_eq!(j.get("version").u64(), 0);
    assert_eq!(j.get("entries").len(), 2);
}

#[test]
fn with_sequence_options() {
    // flags & IP_VS_CONN_F_SEQ_MASK: struct ip_vs_sync_conn_options follows,
    // memcpy'd from the sender's struct ip_vs_conn: host (little-endian) order.
    let opts = vec![
        0x44, 0x33, 0x22, 0x11, // in_seq.init_seq 0x11223344
        0x05, 0x00, 0x00, 0x00, // in_seq.delta 5
        0x00, 0x00, 0x00, 0x00, // in_seq.previous_delta 0
        0xd0, 0xc0, 0xb0, 0xa0, // out_seq.init_seq 0xa0b0c0d0
        0xfc, 0xff, 0xff, 0xff, // out_seq.delta -4
        0x01, 0x00, 0x00, 0x00, // out_seq.previous_delta 1
    ];
    let d = [
        header(2, 0, 4 + 48 + 24),
        entry(0x0600, 0),
        opts,
        entry(0x0000, 0),
    ]
    .concat();
    let got = decode(&d, 0).unwrap();
    let first = SyncConn {
        in_seq: Some(SeqOpt {
            init_seq: 0x1122_3344,
            delta: 5,
            previous_delta: 0,
        }),
        out_seq: Some(SeqOpt {
            init_seq: 0xa0b0_c0d0,
            delta: 0xffff_fffc,
            previous_delta: 1,
        }),
        ..expected(F_IN_SEQ | F_OUT_SEQ)
    };
    assert_eq!(got.conns, vec![first, expected(FWD_MASQ)]);
    let j = kernel_decode(&d).unwrap();
    assert_eq!(
        j.get("entries")
            .at(0)
            .get("seq")
            .get("in")
            .get("init_seq")
            .u64(),
        0x1122_3344
    );
}

#[test]
fn sequence_flag_without_room_for_options_stops() {
    let d = [header(1, 0, 28 + 10), entry(0x0400, 0), vec![0; 10]].concat();
    let got = decode(&d, 0).unwrap();
    assert_eq!(got.stopped, Some(EntrySkip::V0OptionsTruncated));
    assert!(got.conns.is_empty());
}

#[test]
fn template_and_bad_state() {
    let mut tpl = entry(0x1000 | 0x0100 | 0x0003, tpl_state::ASSURED);
    tpl[2..4].copy_from_slice(&[0, 0]); // cport 0
    let bad = entry(0, 1); // UDP has one state (IP_VS_UDP_S_LAST 1)
    let d = [header(2, 0, 52), tpl, bad].concat();
    let got = decode(&d, 0).unwrap();
    assert_eq!(got.conns.len(), 1);
    assert!(got.conns[0].is_template());
    assert_eq!(got.conns[0].cport, 0);
    assert_eq!(
        got.skipped,
        vec![EntrySkip::InvalidState {
            protocol: 17,
            state: 1
        }]
    );
}

#[test]
fn size_mismatch_and_syncid() {
    let d = [header(1, 3, 29), entry(0, 0)].concat();
    assert_eq!(
        decode(&d, 0),
        Err(Refused::SizeMismatch {
            header: 29,
            actual: 28
        })
    );
    let d = [header(1, 3, 28), entry(0, 0)].concat();
    assert_eq!(
        decode(&d, 4),
        Err(Refused::OtherSyncid { theirs: 3, ours: 4 })
    );
    assert_eq!(decode(&d, 0).unwrap().conns.len(), 1);
}

#[test]
fn more_entries_announced_than_present() {
    let d = [header(3, 0, 28), entry(0, 0)].concat();
    let got = decode(&d, 0).unwrap();
    assert_eq!(got.conns.len(), 1);
    assert_eq!(got.stopped, Some(EntrySkip::Truncated));
}
