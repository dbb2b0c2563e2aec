//! One v1 IPv4 entry (`struct ip_vs_sync_v4` + options), written as
//! ip_vs_sync_conn writes it.

use crate::wire::{FULLNAT_LEN, OPT_FULLNAT, OPT_SEQ_DATA, SEQ_OPTIONS, SVER_MASK, V1_ENTRY_V4};
use crate::{SeqOpt, SyncConn, F_HASHED};

/// Whether the sequence option goes out. The kernel ties it to
/// `flags & IP_VS_CONN_F_SEQ_MASK`; here the data itself decides, so a caller
/// that sets the flags without the numbers sends no zeros it never had.
fn has_seq(c: &SyncConn) -> bool {
    c.in_seq.is_some() || c.out_seq.is_some()
}

/// The entry length the `ver_size` field carries: fixed part plus options,
/// without the padding that precedes the next entry.
pub(crate) fn entry_len(c: &SyncConn) -> usize {
    let mut len = V1_ENTRY_V4;
    if has_seq(c) {
        // ip_vs_sync_conn: sizeof(struct ip_vs_sync_conn_options) + 2.
        len += 2 + SEQ_OPTIONS;
    }
    if c.fullnat.is_some() {
        len += 2 + FULLNAT_LEN;
    }
    len
}

fn put_seq(out: &mut Vec<u8>, s: SeqOpt) {
    // hton_seq: each field big-endian in v1.
    out.extend_from_slice(&s.init_seq.to_be_bytes());
    out.extend_from_slice(&s.delta.to_be_bytes());
    out.extend_from_slice(&s.previous_delta.to_be_bytes());
}

/// Appends the entry (no padding) to `out`.
pub(crate) fn put_entry(out: &mut Vec<u8>, c: &SyncConn) {
    let len = entry_len(c);
    out.push(0); // type: IPv4 (STYPE_F_INET6 clear)
    out.push(c.protocol);
    // Entry version 0 in the top nibble; len is at most 70, far below 0x0fff.
    let ver_size = u16::try_from(len).unwrap_or(SVER_MASK) & SVER_MASK;
    out.extend_from_slice(&ver_size.to_be_bytes());
    // The kernel clears HASHED, a local detail, and sends the other 31 bits.
    out.extend_from_slice(&(c.flags & !F_HASHED).to_be_bytes());
    out.extend_from_slice(&c.state.to_be_bytes());
    out.extend_from_slice(&c.cport.to_be_bytes());
    out.extend_from_slice(&c.vport.to_be_bytes());
    out.extend_from_slice(&c.dport.to_be_bytes());
    out.extend_from_slice(&c.fwmark.to_be_bytes());
    out.extend_from_slice(&c.timeout_s.to_be_bytes());
    out.extend_from_slice(&c.caddr.octets());
    out.extend_from_slice(&c.vaddr.octets());
    out.extend_from_slice(&c.daddr.octets());
    if has_seq(c) {
        out.push(OPT_SEQ_DATA);
        out.push(SEQ_OPTIONS as u8);
        put_seq(out, c.in_seq.unwrap_or_default());
        put_seq(out, c.out_seq.unwrap_or_default());
    }
    if let Some((laddr, lport)) = c.fullnat {
        out.push(OPT_FULLNAT);
        out.push(FULLNAT_LEN as u8);
        out.extend_from_slice(&laddr.octets());
        out.extend_from_slice(&lport.to_be_bytes());
    }
}
