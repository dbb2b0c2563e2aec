//! Version 1 datagrams written byte by byte from the kernel's layout
//! (struct ip_vs_sync_mesg, struct ip_vs_sync_v4, options), decoded by the
//! crate, and (when well formed) by tests/kernel_format.py as a cross-check
//! of the bytes themselves.

mod common;

use common::kernel_decode;
use connsync::*;
use std::net::Ipv4Addr;

/// struct ip_vs_sync_mesg.
#[rustfmt::skip]
fn header(syncid: u8, size: u16, nr_conns: u8) -> Vec<u8> {
    let s = size.to_be_bytes();
    vec![
        0x00,       // reserved: 0 (a v0 receiver reads it as nr_conns 0)
        syncid,     // syncid
        s[0], s[1], // size: whole datagram, big-endian
        nr_conns,   // nr_conns
        0x01,       // version: SYNC_PROTO_VER
        0x00, 0x00, // spare
    ]
}

/// struct ip_vs_sync_v4 for TCP 198.51.100.1:40001 -> 192.0.2.10:80 ->
/// 10.0.0.2:8080, DR, ESTABLISHED, 900 s; `size` includes options.
fn entry(size: u16, flags: u32) -> Vec<u8> {
    let s = size.to_be_bytes();
    let f = flags.to_be_bytes();
    vec![
        0x00, // type: IPv4
        0x06, // protocol: TCP
        s[0], s[1], // ver_size: version 0 << 12 | size
        f[0], f[1], f[2], f[3], // flags
        0x00, 0x01, // state: IP_VS_TCP_S_ESTABLISHED
        0x9c, 0x41, // cport 40001
        0x00, 0x50, // vport 80
        0x1f, 0x90, // dport 8080
        0x00, 0x00, 0x00, 0x00, // fwmark
        0x00, 0x00, 0x03, 0x84, // timeout 900 s
        198, 51, 100, 1, // caddr
        192, 0, 2, 10, // vaddr
        10, 0, 0, 2, // daddr
    ]
}

fn expected(flags: u32) -> SyncConn {
    SyncConn {
        protocol: 6,
        flags,
        state: 1,
        cport: 40001,
        vport: 80,
        dport: 8080,
        fwmark: 0,
        timeout_s: 900,
        caddr: Ipv4Addr::new(198, 51, 100, 1),
        vaddr: Ipv4Addr::new(192, 0, 2, 10),
        daddr: Ipv4Addr::new(10, 0, 0, 2),
        in_seq: None,
        out_seq: None,
        fullnat: None,
    }
}

/// The sequence option: type 1, length 24, in_seq and out_seq big-endian.
fn seq_option(ptype: u8) -> Vec<u8> {
    vec![
        ptype, 24, // IPVS_OPT_SEQ_DATA, sizeof(struct ip_vs_sync_conn_options)
        0x11, 0x22, 0x33, 0x44, // in_seq.init_seq
        0x00, 0x00, 0x00, 0x05, // in_seq.delta
        0xff, 0xff, 0xff, 0xfe, // in_seq.previous_delta
        0xa0, 0xb0, 0xc0, 0xd0, // out_seq.init_seq
        0x80, 0x00, 0x00, 0x00, // out_seq.delta
        0x00, 0x00, 0x00, 0x07, // out_seq.previous_delta
    ]
}

fn seqs() -> (SeqOpt, SeqOpt) {
    (
        SeqOpt {
            init_seq: 0x1122_3344,
            delta: 5,
            previous_delta: 0xffff_fffe,
        },
        SeqOpt {
            init_seq: 0xa0b0_c0d0,
            delta: 0x8000_0000,
            previous_delta: 7,
        },
    )
}

fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn plain() {
    let d = cat(&[header(5, 44, 1), entry(36, FWD_DROUTE)]);
    assert_eq!(d.len(), 44);
    let got = decode(&d, 5).unwrap();
    assert_eq!(got.version, 1);
    assert_eq!(got.syncid, 5);
    assert_eq!(got.conns, vec![expected(FWD_DROUTE)]);
    assert!(got.skipped.is_empty() && got.stopped.is_none());
    let j = kernel_decode(&d).unwrap();
    assert_eq!(j.get("entries").at(0).get("cport").u64(), 40001);
}

#[test]
fn sequence_options_then_padded_entry() {
    let flags = FWD_MASQ | F_IN_SEQ | F_OUT_SEQ;
    // 36 + 26 = 62 bytes, two bytes of padding, then a plain entry.
    let d = cat(&[
        header(5, 8 + 62 + 2 + 36, 2),
        entry(62, flags),
        seq_option(1),
        vec![0x00, 0x00], // padding to 4 bytes before the next entry
        entry(36, FWD_MASQ),
    ]);
    let got = decode(&d, 0).unwrap();
    let (i, o) = seqs();
    let first = SyncConn {
        in_seq: Some(i),
        out_seq: Some(o),
        ..expected(flags)
    };
    assert_eq!(got.conns, vec![first, expected(FWD_MASQ)]);
    kernel_decode(&d).unwrap();
}

#[test]
fn sequence_type_with_optional_bit_is_still_sequence_data() {
    // The kernel switches on ptype & ~IPVS_OPT_F_PARAM: 0x41 is type 1.
    let d = cat(&[header(0, 8 + 62, 1), entry(62, F_IN_SEQ), seq_option(0x41)]);
    let got = decode(&d, 0).unwrap();
    assert_eq!(got.conns[0].in_seq, Some(seqs().0));
}

#[test]
fn template_as_the_kernel_sends_it() {
    // ip_vs_sched_persist: cport 0, caddr the client network; flags
    // TEMPLATE | INACTIVE | DR from the real server; state ASSURED; the
    // persistence timeout (360 s). NO_CPORT is not set on templates.
    let d = cat(&[
        header(5, 44, 1),
        vec![
            0x00, 0x06, 0x00, 0x24, // type IPv4, TCP, ver_size 36
            0x00, 0x00, 0x11, 0x03, // flags: TEMPLATE 0x1000 | INACTIVE 0x100 | DROUTE 3
            0x00, 0x01, // state: IP_VS_CTPL_S_ASSURED
            0x00, 0x00, // cport 0
            0x01, 0xbb, // vport 443
            0x01, 0xbb, // dport 443
            0x00, 0x00, 0x00, 0x00, // fwmark
            0x00, 0x00, 0x01, 0x68, // timeout 360 s
            198, 51, 100, 0, // caddr: masked client network
            192, 0, 2, 10, // vaddr
            10, 0, 0, 3, // daddr
        ],
    ]);
    let got = decode(&d, 5).unwrap();
    assert_eq!(got.conns.len(), 1);
    let t = &got.conns[0];
    assert!(t.is_template());
    assert_eq!(t.flags, F_TEMPLATE | F_INACTIVE | FWD_DROUTE);
    assert_eq!(
        (t.cport, t.vport, t.state, t.timeout_s),
        (0, 443, tpl_state::ASSURED, 360)
    );
    assert_eq!(
        t.backup_flags(),
        F_TEMPLATE | F_INACTIVE | FWD_DROUTE | F_SYNC
    );
    kernel_decode(&d).unwrap();
}

#[test]
fn fwmark_template_with_protocol_zero_is_kept() {
    let mut e = entry(36, F_TEMPLATE | FWD_DROUTE);
    e[1] = 0; // protocol IPPROTO_IP: fwmark template
    e[8..10].copy_from_slice(&[0x00, 0x07]); // a template state past CTPL_S_LAST is only logged
    let d = cat(&[header(0, 44, 1), e]);
    let got = decode(&d, 0).unwrap();
    assert_eq!(got.conns.len(), 1);
    assert_eq!(got.conns[0].protocol, 0);
}

#[test]
fn unknown_mandatory_option_skips_the_entry_only() {
    let d = cat(&[
        header(0, 8 + 40 + 36, 2),
        entry(40, FWD_DROUTE),
        vec![0x05, 0x02, 0xaa, 0xbb], // option type 5 (no 0x40 bit), length 2
        entry(36, FWD_TUNNEL),
    ]);
    let got = decode(&d, 0).unwrap();
    assert_eq!(got.skipped, vec![EntrySkip::UnknownMandatoryOption(5)]);
    assert_eq!(got.conns, vec![expected(FWD_TUNNEL)]);
    assert!(got.stopped.is_none());
}

#[test]
fn unknown_optional_option_is_stepped_over() {
    let d = cat(&[
        header(0, 8 + 42, 1),
        entry(42, FWD_DROUTE),
        vec![0x45, 0x04, 1, 2, 3, 4], // type 0x45: optional bit set, unknown
    ]);
    let got = decode(&d, 0).unwrap();
    assert_eq!(got.conns, vec![expected(FWD_DROUTE)]);
    assert!(got.skipped.is_empty());
}

#[test]
fn fullnat_option_by_hand() {
    let d = cat(&[
        header(0, 8 + 44, 1),
        entry(44, FWD_FULLNAT),
        vec![0x70, 0x06, 10, 0, 0, 250, 0xee, 0x49], // OPT_FULLNAT: laddr, lport 61001
    ]);
    let got = decode(&d, 0).unwrap();
    let want = SyncConn {
        fullnat: Some((Ipv4Addr::new(10, 0, 0, 250), 61001)),
        ..expected(FWD_FULLNAT)
    };
    assert_eq!(got.conns, vec![want]);
    assert_eq!(OPT_FULLNAT, 0x70);
}

#[test]
fn bad_fullnat_option_skips_the_entry() {
    let d = cat(&[
        header(0, 8 + 40, 1),
        entry(40, FWD_FULLNAT),
        vec![0x70, 0x02, 0, 1],
    ]);
    let got = decode(&d, 0).unwrap();
    assert_eq!(got.skipped, vec![EntrySkip::BadFullnatOption]);
}

#[test]
fn size_field_disagrees() {
    let d = cat(&[header(5, 45, 1), entry(36, FWD_DROUTE)]);
    assert_eq!(
        decode(&d, 5),
        Err(Refused::SizeMismatch {
            header: 45,
            actual: 44
        })
    );
    assert_eq!(decode(&d, 5).unwrap_err().name(), "size_mismatch");
}

#[test]
fn syncid_filter() {
    let d = cat(&[header(9, 44, 1), entry(36, FWD_DROUTE)]);
    assert_eq!(
        decode(&d, 5),
        Err(Refused::OtherSyncid { theirs: 9, ours: 5 })
    );
    assert_eq!(decode(&d, 0).unwrap().conns.len(), 1, "ours 0 accepts all");
    assert_eq!(decode(&d, 9).unwrap().conns.len(), 1);
}

#[test]
fn not_version_one_with_reserved_zero() {
    let mut d = cat(&[header(0, 44, 1), entry(36, FWD_DROUTE)]);
    d[5] = 2;
    assert_eq!(decode(&d, 0), Err(Refused::UnknownVersion { version: 2 }));
    d[5] = 1;
    d[7] = 1; // spare not 0
    assert!(matches!(decode(&d, 0), Err(Refused::UnknownVersion { .. })));
}

#[test]
fn ipv6_entry_is_skipped_and_the_next_read() {
    // struct ip_vs_sync_v6: 72 bytes, addresses 16 bytes each.
    let mut v6 = vec![
        0x01, 0x06, 0x00, 0x48, // type INET6, TCP, size 72
        0, 0, 0, 3, 0, 1, 0x9c, 0x41, 0, 80, 0x1f, 0x90, 0, 0, 0, 0, 0, 0, 3, 0x84,
    ];
    v6.extend([0u8; 48]);
    let d = cat(&[header(0, 8 + 72 + 36, 2), v6, entry(36, FWD_DROUTE)]);
    let got = decode(&d, 0).unwrap();
    assert_eq!(got.skipped, vec![EntrySkip::Ipv6]);
    assert_eq!(got.conns, vec![expected(FWD_DROUTE)]);
}

#[test]
fn unsupported_protocol_and_bad_state_are_skipped() {
    let mut icmp = entry(36, FWD_DROUTE);
    icmp[1] = 1; // ICMP: no IPVS protocol handler
    let mut bad_state = entry(36, FWD_DROUTE);
    bad_state[8..10].copy_from_slice(&[0x00, 0x0b]); // IP_VS_TCP_S_LAST
    let d = cat(&[
        header(0, 8 + 36 * 3, 3),
        icmp,
        bad_state,
        entry(36, FWD_DROUTE),
    ]);
    let got = decode(&d, 0).unwrap();
    assert_eq!(
        got.skipped,
        vec![
            EntrySkip::UnsupportedProtocol(1),
            EntrySkip::InvalidState {
                protocol: 6,
                state: 11
            }
        ]
    );
    assert_eq!(got.conns.len(), 1);
}

#[test]
fn persistence_engine_data_is_skipped() {
    let d = cat(&[
        header(0, 8 + 36 + 4 + 5, 1),
        entry(45, FWD_DROUTE),
        vec![0x02, 0x02, 0xca, 0xfe],       // IPVS_OPT_PE_DATA
        vec![0x03, 0x03, b's', b'i', b'p'], // IPVS_OPT_PE_NAME "sip"
    ]);
    let got = decode(&d, 0).unwrap();
    assert_eq!(got.skipped, vec![EntrySkip::PersistenceEngine]);
    // A PE name without data is ignored by the kernel: entry kept.
    let d = cat(&[
        header(0, 8 + 36 + 5, 1),
        entry(41, FWD_DROUTE),
        vec![0x03, 0x03, b's', b'i', b'p'],
    ]);
    assert_eq!(decode(&d, 0).unwrap().conns.len(), 1);
}

#[test]
fn framing_errors_stop_the_datagram_but_keep_earlier_entries() {
    // Second entry: option length 0 (ip_vs_proc_sync_conn -40).
    let d = cat(&[
        header(0, 8 + 36 + 40 + 36, 3),
        entry(36, FWD_DROUTE),
        entry(40, FWD_DROUTE),
        vec![0x45, 0x00, 0x00, 0x00],
        entry(36, FWD_DROUTE),
    ]);
    let got = decode(&d, 0).unwrap();
    assert_eq!(got.conns.len(), 1);
    assert_eq!(
        got.stopped,
        Some(EntrySkip::OptionLength {
            ptype: 0x45,
            plen: 0
        })
    );
    assert!(got.stopped.unwrap().ends_datagram());

    // Sequence option of the wrong length (-50).
    let d = cat(&[
        header(0, 8 + 40, 1),
        entry(40, F_IN_SEQ),
        vec![0x01, 0x02, 0x00, 0x00],
    ]);
    assert_eq!(decode(&d, 0).unwrap().stopped, Some(EntrySkip::SeqOption));

    // Entry version nibble not 0.
    let d = cat(&[header(0, 44, 1), entry(0x1024, FWD_DROUTE)]);
    assert_eq!(
        decode(&d, 0).unwrap().stopped,
        Some(EntrySkip::EntryVersion(1))
    );

    // Entry length shorter than struct ip_vs_sync_v4 (-20).
    let d = cat(&[header(0, 44, 1), entry(20, FWD_DROUTE)]);
    assert_eq!(
        decode(&d, 0).unwrap().stopped,
        Some(EntrySkip::EntryTooShort(20))
    );

    // Entry length past the datagram.
    let d = cat(&[header(0, 44, 1), entry(40, FWD_DROUTE)]);
    assert_eq!(decode(&d, 0).unwrap().stopped, Some(EntrySkip::PastEnd));

    // Type with bits other than IPv6 (-10).
    let mut e = entry(36, FWD_DROUTE);
    e[0] = 2;
    let d = cat(&[header(0, 44, 1), e]);
    assert_eq!(decode(&d, 0).unwrap().stopped, Some(EntrySkip::BadType(2)));

    // nr_conns says 2, one entry present.
    let d = cat(&[header(0, 44, 2), entry(36, FWD_DROUTE)]);
    let got = decode(&d, 0).unwrap();
    assert_eq!(
        (got.conns.len(), got.stopped),
        (1, Some(EntrySkip::Truncated))
    );
}
