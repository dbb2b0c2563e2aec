//! Version 0 (receive only): ip_vs_process_message_v0.

use super::{checks, record, Decoded, EntrySkip};
use crate::wire::{addr_at, be16_at, le32_at, seq_at, u8_at, SEQ_OPTIONS, V0_ENTRY, V0_HEADER};
use crate::{SyncConn, F_SEQ_MASK};

/// Reads `nr_conns` 24-byte entries after the 4-byte header.
pub(crate) fn read(d: &[u8], nr_conns: u8, out: &mut Decoded) {
    let mut p = V0_HEADER;
    for _ in 0..nr_conns {
        let r = entry_at(d, &mut p);
        if !record(out, r) {
            return;
        }
    }
}

/// One entry at `*p`; advances `*p` past it and its options.
fn entry_at(d: &[u8], p: &mut usize) -> Result<SyncConn, EntrySkip> {
    let s = *p;
    // "if (p + SIMPLE_CONN_SIZE > buffer+buflen)": bogus conn.
    if s + V0_ENTRY > d.len() {
        return Err(EntrySkip::Truncated);
    }
    let get16 = |off| be16_at(d, s + off).ok_or(EntrySkip::Truncated);
    let addr = |off| addr_at(d, s + off).ok_or(EntrySkip::Truncated);
    // Flags are 16 bits in v0; the kernel adds SYNC and clears HASHED when
    // installing (see SyncConn::backup_flags), the value here is as sent.
    let flags = u32::from(get16(20)?);
    // The options follow when the flags say so (no type/length header):
    // FULL_CONN_SIZE = 24 + 24, in the sender's host order (memcpy).
    let seq = if flags & F_SEQ_MASK != 0 {
        let o = s + V0_ENTRY;
        *p = o + SEQ_OPTIONS;
        if *p > d.len() {
            return Err(EntrySkip::V0OptionsTruncated);
        }
        let in_seq = seq_at(d, o, le32_at).ok_or(EntrySkip::V0OptionsTruncated)?;
        let out_seq = seq_at(d, o + 12, le32_at).ok_or(EntrySkip::V0OptionsTruncated)?;
        Some((in_seq, out_seq))
    } else {
        *p = s + V0_ENTRY;
        None
    };
    let protocol = u8_at(d, s + 1).ok_or(EntrySkip::Truncated)?;
    let state = get16(22)?;
    checks::protocol_state(protocol, flags, state)?;
    Ok(SyncConn {
        protocol,
        flags,
        state,
        cport: get16(2)?,
        vport: get16(4)?,
        dport: get16(6)?,
        fwmark: 0,
        // No timeout in v0: ip_vs_proc_conn gets 0 and uses its own.
        timeout_s: 0,
        caddr: addr(8)?,
        vaddr: addr(12)?,
        daddr: addr(16)?,
        in_seq: seq.map(|s| s.0),
        out_seq: seq.map(|s| s.1),
        fullnat: None,
    })
}
