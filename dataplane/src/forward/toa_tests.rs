use super::*;
use crate::forward::testutil::{check_ipv4, naive_csum, tcp_frame, udp_frame, SYN_OPTS};
use crate::frame::VecFrame;
use proptest::prelude::*;

const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 33);
const CLIENT_PORT: u16 = 0xbeef;
const TOA_BYTES: [u8; 8] = [254, 8, 0xbe, 0xef, 192, 0, 2, 33];

/// Inserts TOA and returns (TCP header bytes, TCP payload) after checking
/// lengths and both checksums independently.
fn insert_ok(orig: &[u8], mtu: u16) -> (Vec<u8>, Vec<u8>) {
    let mut f = VecFrame::from_bytes(orig);
    insert_toa(&mut f, CLIENT_IP, CLIENT_PORT, mtu).unwrap();
    let out = f.data();
    let (ip0, _) = check_ipv4(&orig[14..]);
    let (ip, l4) = check_ipv4(&out[14..]);
    assert_eq!(ip.total_len, ip0.total_len + 8);
    assert_eq!(out.len(), 14 + usize::from(ip.total_len));
    assert_eq!(&out[..14], &orig[..14]);
    let thl = usize::from(l4[12] >> 4) * 4;
    (l4[..thl].to_vec(), l4[thl..].to_vec())
}

fn orig_payload(orig: &[u8]) -> &[u8] {
    let thl = usize::from(orig[34 + 12] >> 4) * 4;
    let tl = usize::from(u16::from_be_bytes([orig[16], orig[17]]));
    &orig[34 + thl..14 + tl]
}

#[test]
fn syn_gets_toa_after_options() {
    let orig = tcp_frame(true, false, &SYN_OPTS, &[]);
    let (hdr, payload) = insert_ok(&orig, 1500);
    assert_eq!(hdr.len(), 48);
    assert_eq!(&hdr[20..40], &SYN_OPTS);
    assert_eq!(&hdr[40..48], &TOA_BYTES);
    assert!(payload.is_empty());
    // Our own walker sees both the MSS (unchanged) and the TOA.
    let tcp = TcpPacket::new_checked(&hdr[..]).unwrap();
    assert_eq!(tcp.mss(), Some(1460));
    let toa: Vec<_> = tcp.options_iter().filter(|(k, _)| *k == TOA_KIND).collect();
    assert_eq!(toa, vec![(TOA_KIND, &TOA_BYTES[2..])]);
}

#[test]
fn payload_preserved_odd_length() {
    let opts = [1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 3];
    let data: Vec<u8> = (0..=200u8).collect(); // 201 bytes: odd
    let orig = tcp_frame(false, true, &opts, &data);
    let (hdr, payload) = insert_ok(&orig, 1500);
    assert_eq!(hdr.len(), 40);
    assert_eq!(&hdr[20..32], &opts);
    assert_eq!(&hdr[32..40], &TOA_BYTES);
    assert_eq!(payload, data);
    // Everything but data offset and checksum is as before.
    assert_eq!(&hdr[..12], &orig[34..46]);
    assert_eq!(hdr[13], orig[47]);
}

#[test]
fn eol_padding_becomes_nops() {
    let opts = [2, 4, 0x05, 0xb4, 0, 0xaa, 0, 0];
    let orig = tcp_frame(true, false, &opts, b"x");
    let (hdr, payload) = insert_ok(&orig, 1500);
    assert_eq!(&hdr[20..28], &[2, 4, 0x05, 0xb4, 1, 1, 1, 1]);
    assert_eq!(&hdr[28..36], &TOA_BYTES);
    assert_eq!(payload, b"x");
    let tcp = TcpPacket::new_checked(&hdr[..]).unwrap();
    assert!(tcp.options_iter().any(|(k, _)| k == TOA_KIND));
}

#[test]
fn no_options_and_exact_room() {
    let (hdr, _) = insert_ok(&tcp_frame(false, true, &[], b"abc"), 1500);
    assert_eq!(&hdr[20..], &TOA_BYTES);
    // 32 bytes of options: header becomes exactly 60.
    let (hdr, _) = insert_ok(&tcp_frame(false, true, &[1; 32], b"abc"), 1500);
    assert_eq!(hdr.len(), 60);
}

#[test]
fn bad_checksum_is_not_laundered() {
    let mut orig = tcp_frame(false, true, &[], b"payload");
    orig[34 + 16] ^= 0x5a;
    let mut f = VecFrame::from_bytes(&orig);
    insert_toa(&mut f, CLIENT_IP, CLIENT_PORT, 1500).unwrap();
    let out = f.data();
    let l4 = &out[34..];
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&out[26..34]);
    pseudo.extend_from_slice(&[0, 6]);
    pseudo.extend_from_slice(&(l4.len() as u16).to_be_bytes());
    pseudo.extend_from_slice(l4);
    assert_ne!(naive_csum(&pseudo), 0);
}

fn expect_err(orig: &[u8], mtu: u16, e: ToaError) {
    let mut f = VecFrame::from_bytes(orig);
    assert_eq!(insert_toa(&mut f, CLIENT_IP, CLIENT_PORT, mtu), Err(e));
    assert_eq!(f.data(), orig, "frame must be unchanged on error");
}

#[test]
fn errors_leave_frame_unchanged() {
    expect_err(
        &tcp_frame(false, true, &[1; 36], b""),
        1500,
        ToaError::NoRoom,
    );
    expect_err(
        &tcp_frame(false, true, &[1; 40], b""),
        1500,
        ToaError::NoRoom,
    );
    expect_err(&udp_frame(b"q"), 1500, ToaError::NotTcp);
    // MSS option claiming 9 bytes in an 8-byte list.
    expect_err(
        &tcp_frame(true, false, &[2, 9, 5, 0xb4, 1, 1, 1, 1], b""),
        1500,
        ToaError::BadOptions,
    );
    let orig = tcp_frame(false, true, &[], &[7; 100]);
    let tl = (orig.len() - 14) as u16;
    expect_err(&orig, tl + 7, ToaError::TooBig);
    insert_ok(&orig, tl + 8);
    expect_err(&orig[..30], 1500, WireError::Truncated.into());
    expect_err(&orig[..5], 1500, WireError::Truncated.into());
    let mut frag = orig.clone();
    frag[20] |= 0x20; // MF
    expect_err(&frag, 1500, WireError::Fragment.into());
}

#[test]
fn no_tailroom() {
    // A frame filling the whole buffer: 14 + 2034 = 2048 bytes + headroom.
    let orig = tcp_frame(false, true, &[], &[1; 2048 - 54]);
    expect_err(&orig, 9000, ToaError::NoTailroom);
}

#[test]
fn ethernet_padding_is_dropped() {
    let mut orig = tcp_frame(false, true, &[], b"");
    orig.extend_from_slice(&[0xee; 12]);
    let mut f = VecFrame::from_bytes(&orig);
    insert_toa(&mut f, CLIENT_IP, CLIENT_PORT, 1500).unwrap();
    assert_eq!(f.len(), 54 + 8);
    check_ipv4(&f.data()[14..]);
}

#[test]
fn synack_mss_lowered_by_toa_len() {
    let mut f = VecFrame::from_bytes(&tcp_frame(true, true, &SYN_OPTS, b""));
    assert_eq!(adjust_synack_mss_for_toa(&mut f), Ok(true));
    let (_, l4) = check_ipv4(&f.data()[14..]);
    assert_eq!(TcpPacket::new_checked(l4).unwrap().mss(), Some(1452));
    // A client SYN (no ACK) and a plain ACK keep their MSS.
    for (syn, ack) in [(true, false), (false, true)] {
        let orig = tcp_frame(syn, ack, &SYN_OPTS, b"");
        let mut f = VecFrame::from_bytes(&orig);
        assert_eq!(adjust_synack_mss_for_toa(&mut f), Ok(false));
        assert_eq!(f.data(), &orig[..]);
    }
    let mut f = VecFrame::from_bytes(&tcp_frame(true, true, &[1; 4], b""));
    assert_eq!(adjust_synack_mss_for_toa(&mut f), Ok(false));
    let mut f = VecFrame::from_bytes(&udp_frame(b""));
    assert_eq!(adjust_synack_mss_for_toa(&mut f), Err(ToaError::NotTcp));
}

proptest! {
    #[test]
    fn checksums_and_payload_for_any_segment(
        nops in 0usize..=8,
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        ip in any::<u32>(),
        port in any::<u16>(),
        syn in any::<bool>(),
    ) {
        let opts = vec![1u8; nops * 4];
        let orig = tcp_frame(syn, !syn, &opts, &payload);
        let mut f = VecFrame::from_bytes(&orig);
        insert_toa(&mut f, Ipv4Addr::from(ip), port, 1500).unwrap();
        let (_, l4) = check_ipv4(&f.data()[14..]);
        let thl = usize::from(l4[12] >> 4) * 4;
        prop_assert_eq!(thl, 20 + nops * 4 + 8);
        prop_assert_eq!(&l4[thl - 8..thl - 6], &[254u8, 8][..]);
        prop_assert_eq!(&l4[thl - 6..thl - 4], &port.to_be_bytes()[..]);
        prop_assert_eq!(&l4[thl - 4..thl], &ip.to_be_bytes()[..]);
        prop_assert_eq!(&l4[thl..], orig_payload(&orig));
    }

    #[test]
    fn random_bytes_never_panic(
        mut bytes in proptest::collection::vec(any::<u8>(), 0..120),
        mtu in any::<u16>(),
    ) {
        // Make the IPv4 header plausible often enough to reach TCP parsing.
        if bytes.len() > 34 {
            bytes[14] = 0x45;
            bytes[23] = 6;
            let tl = (bytes.len() - 14) as u16;
            bytes[16..18].copy_from_slice(&tl.to_be_bytes());
            bytes[20] &= 0x40;
            bytes[21] = 0;
        }
        let mut f = VecFrame::from_bytes(&bytes);
        let _ = insert_toa(&mut f, Ipv4Addr::LOCALHOST, 1, mtu);
        let _ = adjust_synack_mss_for_toa(&mut f);
    }
}
