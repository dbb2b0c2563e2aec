use super::*;

#[test]
fn rfc1071_example() {
    // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0x2ddf0,
    // folded 0xddf2; the checksum is its complement 0x220d.
    let b = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    assert_eq!(add(0, &b), 0x2ddf0);
    assert_eq!(finish(add(0, &b)), 0x220d);
}

#[test]
fn odd_length_pads_low_byte() {
    assert_eq!(add(0, &[0x12]), 0x1200);
    assert_eq!(add(0, &[0x00, 0x01, 0x12]), 0x1201);
}

#[test]
fn a_summed_message_with_its_checksum_verifies_to_zero() {
    let mut b = vec![0x45, 0x00, 0x00, 0x1c, 0xab, 0xcd, 0x00, 0x00];
    let ck = finish(add(0, &b));
    b.extend_from_slice(&ck.to_be_bytes());
    assert_eq!(finish(add(0, &b)), 0);
}

#[test]
fn pseudo_header_words() {
    // 10.0.0.1 -> 224.0.0.18, length 12:
    // 0x0a00 + 0x0001 + 0xe000 + 0x0012 + 0x0070 + 0x000c = 0xea8f.
    let s = pseudo_header(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(224, 0, 0, 18), 12);
    assert_eq!(s, 0xea8f);
}
