//! The option list after a v1 entry's fixed part (the loop in
//! ip_vs_proc_sync_conn, with ip_vs_proc_seqopt and ip_vs_proc_str).

use super::EntrySkip;
use crate::wire::{
    addr_at, be16_at, be32_at, seq_at, u8_at, FULLNAT_LEN, OPT_FULLNAT, OPT_F_PARAM, OPT_PE_DATA,
    OPT_PE_NAME, OPT_SEQ_DATA, PE_NAME_MAXLEN, SEQ_OPTIONS,
};
use crate::SeqOpt;
use std::net::Ipv4Addr;

/// What the options of one entry said.
#[derive(Default)]
pub(crate) struct Options {
    pub seq: Option<(SeqOpt, SeqOpt)>,
    pub pe_data: bool,
    pub fullnat: Option<(Ipv4Addr, u16)>,
    /// Why the entry is skipped (not the datagram stopped), if it is.
    pub skip: Option<EntrySkip>,
}

/// Walks the options in `entry[start..]` (`entry` ends at the entry's length).
/// `Err` are the kernel's negative returns: the datagram stops.
pub(crate) fn read(entry: &[u8], start: usize) -> Result<Options, EntrySkip> {
    let mut o = Options::default();
    let mut fullnat_seen = false;
    let mut pe_name_seen = false;
    let end = entry.len();
    let mut p = start;
    while p < end {
        // "if (p+2 > msg_end) return -30"
        let (Some(ptype), Some(plen)) = (u8_at(entry, p), u8_at(entry, p + 1)) else {
            return Err(EntrySkip::OptionTruncated);
        };
        p += 2;
        let data_len = usize::from(plen);
        // "if (!plen || ((p + plen) > msg_end)) return -40"
        if plen == 0 || p + data_len > end {
            return Err(EntrySkip::OptionLength { ptype, plen });
        }
        // Our own type first: the kernel would skip it as optional.
        if ptype == OPT_FULLNAT {
            if data_len != FULLNAT_LEN || fullnat_seen {
                o.skip.get_or_insert(EntrySkip::BadFullnatOption);
            } else if let (Some(a), Some(port)) = (addr_at(entry, p), be16_at(entry, p + 4)) {
                o.fullnat = Some((a, port));
            }
            fullnat_seen = true;
            p += data_len;
            continue;
        }
        match ptype & !OPT_F_PARAM {
            OPT_SEQ_DATA => {
                // ip_vs_proc_seqopt: exactly 24 bytes, once.
                if data_len != SEQ_OPTIONS || o.seq.is_some() {
                    return Err(EntrySkip::SeqOption);
                }
                let (Some(i), Some(out)) =
                    (seq_at(entry, p, be32_at), seq_at(entry, p + 12, be32_at))
                else {
                    return Err(EntrySkip::SeqOption);
                };
                o.seq = Some((i, out));
            }
            OPT_PE_DATA => {
                // ip_vs_proc_str(IP_VS_PEDATA_MAXLEN = 255): a u8 length
                // never exceeds it, so only "found twice" fails.
                if o.pe_data {
                    return Err(EntrySkip::PeOption);
                }
                o.pe_data = true;
            }
            OPT_PE_NAME => {
                if data_len > PE_NAME_MAXLEN || pe_name_seen {
                    return Err(EntrySkip::PeOption);
                }
                pe_name_seen = true;
            }
            _ => {
                // "Param data mandatory ?": unknown without the optional bit
                // skips the entry (retc 20), and the kernel reads no further.
                if ptype & OPT_F_PARAM == 0 {
                    o.skip = Some(EntrySkip::UnknownMandatoryOption(ptype));
                    return Ok(o);
                }
            }
        }
        p += data_len;
    }
    Ok(o)
}
