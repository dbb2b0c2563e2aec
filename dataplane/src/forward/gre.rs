//! TUN mode with `--tun-type gre`: the GRE header (RFC 2784, version 0)
//! that IPVS's `ipvs_gre_encap` puts between the outer IPv4 header
//! (protocol 47) and the client's packet (Linux 5.3+): protocol type
//! 0x0800 (IPv4), no key, no sequence number, and with `--tun-csum` the C
//! bit and the checksum field (the Internet checksum of the GRE header and
//! everything after it, as `gre_build_header` computes it) followed by the
//! 16 reserved bits.

/// IP protocol number of GRE.
pub const IPPROTO_GRE: u8 = 47;
/// GRE flags: checksum present.
const GRE_CSUM: u16 = 0x8000;
/// Protocol type of the payload: IPv4.
const ETH_P_IP: u16 = 0x0800;

/// Length of the GRE header, as `gre_calc_hlen`.
pub fn len(csum: bool) -> usize {
    if csum {
        8
    } else {
        4
    }
}

/// Writes the GRE header at the front of `seg`, which holds `len(csum)`
/// bytes for it followed by the inner IPv4 packet, then the checksum.
pub(super) fn write(seg: &mut [u8], csum: bool) {
    let Some(h) = seg.get_mut(..len(csum)) else {
        return;
    };
    let flags = if csum { GRE_CSUM } else { 0 };
    h[0..2].copy_from_slice(&flags.to_be_bytes());
    h[2..4].copy_from_slice(&ETH_P_IP.to_be_bytes());
    if csum {
        h[4..8].fill(0);
        let c = crate::wire::checksum::checksum(seg);
        seg[4..6].copy_from_slice(&c.to_be_bytes());
    }
}
