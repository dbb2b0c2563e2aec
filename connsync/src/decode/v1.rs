//! Version 1 entries: the loop of ip_vs_process_message and the per-entry
//! work of ip_vs_proc_sync_conn.

use super::{checks, options, record, Decoded, EntrySkip};
use crate::wire::{
    addr_at, be16_at, be32_at, u8_at, STYPE_F_INET6, SVER_MASK, SVER_SHIFT, V1_ENTRY_V4,
    V1_ENTRY_V6, V1_HEADER,
};
use crate::SyncConn;

/// Reads the `nr_conns` entries after the 8-byte header.
pub(crate) fn read(d: &[u8], out: &mut Decoded) {
    let nr_conns = u8_at(d, 4).unwrap_or(0);
    let mut p = V1_HEADER;
    for _ in 0..nr_conns {
        let r = match frame(d, p) {
            Ok((entry, next)) => {
                p = next;
                entry_at(entry)
            }
            Err(e) => Err(e),
        };
        if !record(out, r) {
            return;
        }
    }
}

/// ip_vs_process_message's checks on one entry at `p`: the entry bytes
/// (cut to their length) and where the next one starts, 4-byte aligned.
fn frame(d: &[u8], p: usize) -> Result<(&[u8], usize), EntrySkip> {
    // "if (p + sizeof(s->v4) > buffer+buflen)": too small.
    if p + V1_ENTRY_V4 > d.len() {
        return Err(EntrySkip::Truncated);
    }
    let ver_size = be16_at(d, p + 2).ok_or(EntrySkip::Truncated)?;
    let size = usize::from(ver_size & SVER_MASK);
    let entry = d.get(p..p + size).ok_or(EntrySkip::PastEnd)?;
    let version = ver_size >> SVER_SHIFT;
    if version != 0 {
        return Err(EntrySkip::EntryVersion(version as u8));
    }
    // "msg_end = p + ((size + 3) & ~3)": may pass the end; the next
    // iteration's "too small" check catches that.
    Ok((entry, p + ((size + 3) & !3)))
}

/// ip_vs_proc_sync_conn on one framed entry.
fn entry_at(e: &[u8]) -> Result<SyncConn, EntrySkip> {
    let ty = u8_at(e, 0).ok_or(EntrySkip::Truncated)?;
    let v6 = ty & STYPE_F_INET6 != 0;
    if !v6 && ty != 0 {
        return Err(EntrySkip::BadType(ty));
    }
    let fixed = if v6 { V1_ENTRY_V6 } else { V1_ENTRY_V4 };
    if e.len() < fixed {
        // "if (p > msg_end) return -20"
        return Err(EntrySkip::EntryTooShort(e.len() as u16));
    }
    let opts = options::read(e, fixed)?;
    if let Some(skip) = opts.skip {
        return Err(skip);
    }
    if v6 {
        return Err(EntrySkip::Ipv6);
    }
    let protocol = u8_at(e, 1).ok_or(EntrySkip::Truncated)?;
    let flags = be32_at(e, 4).ok_or(EntrySkip::Truncated)?;
    let state = be16_at(e, 8).ok_or(EntrySkip::Truncated)?;
    checks::protocol_state(protocol, flags, state)?;
    if opts.pe_data {
        return Err(EntrySkip::PersistenceEngine);
    }
    let get16 = |off| be16_at(e, off).ok_or(EntrySkip::Truncated);
    let get32 = |off| be32_at(e, off).ok_or(EntrySkip::Truncated);
    let addr = |off| addr_at(e, off).ok_or(EntrySkip::Truncated);
    Ok(SyncConn {
        protocol,
        flags,
        state,
        cport: get16(10)?,
        vport: get16(12)?,
        dport: get16(14)?,
        fwmark: get32(16)?,
        timeout_s: get32(20)?,
        caddr: addr(24)?,
        vaddr: addr(28)?,
        daddr: addr(32)?,
        in_seq: opts.seq.map(|s| s.0),
        out_seq: opts.seq.map(|s| s.1),
        fullnat: opts.fullnat,
    })
}
