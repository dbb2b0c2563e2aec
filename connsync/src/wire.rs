//! Sizes and type numbers of the wire layout (net/netfilter/ipvs/ip_vs_sync.c
//! structs), and reads that return `None` instead of panicking past the end.

/// `struct ip_vs_sync_mesg` (v1 header): reserved, syncid, size, nr_conns,
/// version, spare.
pub const V1_HEADER: usize = 8;
/// `struct ip_vs_sync_mesg_v0`: nr_conns, syncid, size.
pub const V0_HEADER: usize = 4;
/// `SYNC_PROTO_VER`.
pub const V1_VERSION: u8 = 1;
/// `struct ip_vs_sync_v4`: the fixed part of a v1 IPv4 entry.
pub const V1_ENTRY_V4: usize = 36;
/// `struct ip_vs_sync_v6`: three 16-byte addresses instead of 4-byte ones.
pub const V1_ENTRY_V6: usize = 72;
/// `SIMPLE_CONN_SIZE`, `struct ip_vs_sync_conn_v0`.
pub const V0_ENTRY: usize = 24;
/// `struct ip_vs_sync_conn_options`: two `struct ip_vs_seq` of three u32.
pub const SEQ_OPTIONS: usize = 24;
/// Entry type bit 0: IPv6 (`STYPE_F_INET6`).
pub const STYPE_F_INET6: u8 = 1;
/// `ver_size`: entry version in the top 4 bits (`SVER_SHIFT`), length in
/// the low 12 (`SVER_MASK`).
pub const SVER_SHIFT: u16 = 12;
pub const SVER_MASK: u16 = 0x0fff;

/// `IPVS_OPT_SEQ_DATA`.
pub const OPT_SEQ_DATA: u8 = 1;
/// `IPVS_OPT_PE_DATA`: persistence-engine data.
pub const OPT_PE_DATA: u8 = 2;
/// `IPVS_OPT_PE_NAME`: persistence-engine name.
pub const OPT_PE_NAME: u8 = 3;
/// `IPVS_OPT_F_PARAM` = 1 << (`IPVS_OPT_PARAM` - 1): the optional bit. The
/// kernel switches on `ptype & ~IPVS_OPT_F_PARAM`, so 0x41 is still sequence
/// data; the bit only matters for a type it does not know.
pub const OPT_F_PARAM: u8 = 0x40;
/// `IP_VS_PENAME_MAXLEN`.
pub const PE_NAME_MAXLEN: usize = 16;

/// ferrovs FullNAT option: local address (4 bytes) and local port (2 bytes),
/// big-endian, after the kernel's options.
///
/// 0x70 = `IPVS_OPT_F_PARAM` (0x40) | 0x30. In ip_vs_proc_sync_conn the kernel
/// switches on `0x70 & ~0x40` = 0x30, which is none of its types 1
/// (`IPVS_OPT_SEQ_DATA`), 2 (`IPVS_OPT_PE_DATA`), 3 (`IPVS_OPT_PE_NAME`), so
/// it reaches the default branch, sees the optional bit and steps over the
/// option: a Linux backup installs the entry without it. The kernel numbers
/// its types upwards from 1 (7 names the flag bit itself), so 0x30 stays
/// clear of types it may add next.
pub const OPT_FULLNAT: u8 = OPT_F_PARAM | 0x30;
/// Data length of [`OPT_FULLNAT`].
pub const FULLNAT_LEN: usize = 6;

/// Default `sync_maxlen` of a master: 1500 - 20 (IPv4) - 8 (UDP)
/// (start_sync_thread).
pub const DEFAULT_MAXLEN: usize = 1472;
/// Largest `sync_maxlen`: 65535 - 28 (start_sync_thread's clamp).
pub const MAX_MAXLEN: usize = 65535 - 28;
/// `IPVS_SYNC_FLUSH_TIME` (2 s): a buffer older than this is sent even if not
/// full (next_sync_buff -> get_curr_sync_buff).
pub const FLUSH_AGE_MS: u64 = 2000;

/// `N` bytes at `off`, or `None` when the buffer ends first.
fn bytes<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    b.get(off..off.checked_add(N)?)?.try_into().ok()
}

pub(crate) fn u8_at(b: &[u8], off: usize) -> Option<u8> {
    b.get(off).copied()
}

pub(crate) fn be16_at(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes(b, off)?))
}

pub(crate) fn be32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes(b, off)?))
}

/// v0 copies `struct ip_vs_seq` with memcpy (ip_vs_sync_conn_v0): the
/// sender's host order, little-endian on the x86 and arm64 directors it runs on.
pub(crate) fn le32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes(b, off)?))
}

/// Three u32 of one `struct ip_vs_seq`, read with `read`.
pub(crate) fn seq_at(
    b: &[u8],
    off: usize,
    read: fn(&[u8], usize) -> Option<u32>,
) -> Option<crate::SeqOpt> {
    Some(crate::SeqOpt {
        init_seq: read(b, off)?,
        delta: read(b, off.checked_add(4)?)?,
        previous_delta: read(b, off.checked_add(8)?)?,
    })
}

/// An IPv4 address stored in network order.
pub(crate) fn addr_at(b: &[u8], off: usize) -> Option<std::net::Ipv4Addr> {
    Some(std::net::Ipv4Addr::from(bytes::<4>(b, off)?))
}
