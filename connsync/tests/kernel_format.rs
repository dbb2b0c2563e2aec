//! What the Builder sends, read back by tests/kernel_format.py, a decoder
//! written from the kernel's struct layouts alone, and compared field by field.

mod common;

use common::{assert_entry_eq, fullnat, kernel_decode, tcp, template, with_seq};
use connsync::v1::Builder;
use connsync::*;

/// Builds one datagram from `conns` (they must fit) and checks it with Python.
fn check_one(syncid: u8, conns: &[SyncConn]) {
    let mut b = Builder::new(syncid, 0);
    for c in conns {
        assert!(b.push(c, 0).is_none(), "fits one datagram");
    }
    let d = b.flush(0, FLUSH_AGE_MS, true).expect("pending datagram");
    let j = kernel_decode(&d).unwrap_or_else(|e| panic!("python refused: {e}"));
    assert_eq!(j.get("version").u64(), 1);
    assert_eq!(j.get("syncid").u64(), u64::from(syncid));
    assert_eq!(j.get("size").u64(), d.len() as u64);
    assert_eq!(j.get("nr_conns").u64(), conns.len() as u64);
    let entries = j.get("entries");
    assert_eq!(entries.len(), conns.len());
    for (i, c) in conns.iter().enumerate() {
        let e = entries.at(i);
        assert_eq!(e.get("offset").u64() % 4, 0, "entry {i} aligned");
        assert_entry_eq(e, c);
    }
    // And the crate reads back what it wrote.
    let back = decode(&d, syncid).expect("accepted");
    assert_eq!(back.conns, conns);
    assert!(back.skipped.is_empty() && back.stopped.is_none());
}

#[test]
fn plain_entries() {
    check_one(7, &[tcp(1), tcp(2), tcp(3)]);
}

#[test]
fn udp_and_fwmark() {
    let udp = SyncConn {
        protocol: PROTO_UDP,
        state: udp_state::NORMAL,
        fwmark: 0xdead_beef,
        flags: FWD_TUNNEL | F_NOOUTPUT,
        timeout_s: 300,
        ..tcp(9)
    };
    check_one(0, &[udp]);
}

#[test]
fn sequence_options_padded_between_entries() {
    // 62-byte entries: two bytes of padding before each following entry.
    check_one(1, &[with_seq(1), tcp(2), with_seq(3), with_seq(4)]);
    let d = {
        let mut b = Builder::new(1, 0);
        b.push(&with_seq(1), 0);
        b.push(&tcp(2), 0);
        b.flush(0, 0, true).unwrap()
    };
    let j = kernel_decode(&d).unwrap();
    assert_eq!(j.get("entries").at(1).get("pad_before").u64(), 2);
    assert_eq!(j.get("entries").at(1).get("offset").u64(), 8 + 64);
    // The last entry is not padded: 8 + 64 + 36.
    assert_eq!(d.len(), 108);
}

#[test]
fn template_entry() {
    check_one(3, &[tcp(1), template()]);
    let fwmark_tpl = SyncConn {
        protocol: PROTO_IP,
        vport: 0,
        dport: 0,
        fwmark: 42,
        vaddr: std::net::Ipv4Addr::from(42u32),
        ..template()
    };
    check_one(3, &[fwmark_tpl]);
}

#[test]
fn fullnat_entries() {
    let both = SyncConn {
        fullnat: Some((std::net::Ipv4Addr::new(10, 0, 0, 251), 1024)),
        ..with_seq(8)
    };
    check_one(2, &[fullnat(1), both.clone(), fullnat(2), both]);
    let d = {
        let mut b = Builder::new(2, 0);
        b.push(&fullnat(1), 0);
        b.flush(0, 0, true).unwrap()
    };
    let opts = kernel_decode(&d).unwrap();
    let opt = opts.get("entries").at(0).get("options").at(0);
    assert_eq!(opt.get("type").u64(), 0x70);
    assert_eq!(opt.get("type").u64() & 0x40, 0x40, "optional bit set");
    assert_eq!(opt.get("len").u64(), 6);
    assert_eq!(opt.get("data").str(), "0a0000faee49");
}

#[test]
fn hashed_flag_is_not_sent() {
    let c = SyncConn {
        flags: FWD_MASQ | F_HASHED | F_INACTIVE,
        state: tcp_state::SYN_RECV,
        ..tcp(1)
    };
    let mut b = Builder::new(0, 0);
    b.push(&c, 0);
    let d = b.flush(0, 0, true).unwrap();
    let j = kernel_decode(&d).unwrap();
    assert_eq!(
        j.get("entries").at(0).get("flags").u64(),
        u64::from(F_INACTIVE)
    );
}

#[test]
fn many_datagrams_all_well_formed() {
    let conns: Vec<SyncConn> = (0..200u8)
        .map(|n| match n % 4 {
            0 => tcp(n),
            1 => with_seq(n),
            2 => fullnat(n),
            _ => template(),
        })
        .collect();
    let mut b = Builder::new(9, 0);
    let mut out = Vec::new();
    for c in &conns {
        out.extend(b.push(c, 0));
    }
    out.extend(b.flush(0, 0, true));
    assert!(out.len() > 1);
    let mut i = 0;
    for d in &out {
        assert!(d.len() <= DEFAULT_MAXLEN);
        let j = kernel_decode(d).unwrap_or_else(|e| panic!("python refused: {e}"));
        let entries = j.get("entries");
        for k in 0..entries.len() {
            assert_entry_eq(entries.at(k), &conns[i]);
            i += 1;
        }
    }
    assert_eq!(i, conns.len());
}

#[test]
fn python_decoder_is_not_vacuous() {
    let mut b = Builder::new(0, 0);
    b.push(&tcp(1), 0);
    let mut d = b.flush(0, 0, true).unwrap();
    d.push(0); // size field now disagrees
    assert!(kernel_decode(&d).is_err());
    d.pop();
    d[8] = 1; // IPv6 type on a 36-byte entry
    assert!(kernel_decode(&d).is_err());
}
