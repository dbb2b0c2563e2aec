//! The two hash functions the kernel schedulers use.

/// Kernel `hash_32(val, bits)`: multiply by the 32-bit golden ratio and
/// keep the top `bits` bits. `bits` must be in 1..=32.
pub(crate) fn hash_32(val: u32, bits: u32) -> u32 {
    let h = val.wrapping_mul(0x61C8_8647);
    h >> (32 - bits.clamp(1, 32))
}

/// Kernel `hsiphash()` of one native-endian u32 as built on 64-bit
/// machines: there the "half" SipHash is full SipHash-1-3 with 64-bit key
/// words, truncated to 32 bits. The data is the 4 bytes of `v` in
/// little-endian order (the byte order of every target ferrovs runs on).
pub(crate) fn hsiphash_u32(v: u32, k0: u64, k1: u64) -> u32 {
    let mut s = [
        0x736f_6d65_7073_6575u64 ^ k0,
        0x646f_7261_6e64_6f6du64 ^ k1,
        0x6c79_6765_6e65_7261u64 ^ k0,
        0x7465_6462_7974_6573u64 ^ k1,
    ];
    // A 4-byte message has no full 8-byte block: only the final block,
    // which carries the length in its top byte.
    let b = (4u64 << 56) | v as u64;
    s[3] ^= b;
    sip_round(&mut s);
    s[0] ^= b;
    s[2] ^= 0xff;
    sip_round(&mut s);
    sip_round(&mut s);
    sip_round(&mut s);
    (s[0] ^ s[1] ^ s[2] ^ s[3]) as u32
}

fn sip_round(s: &mut [u64; 4]) {
    s[0] = s[0].wrapping_add(s[1]);
    s[1] = s[1].rotate_left(13);
    s[1] ^= s[0];
    s[0] = s[0].rotate_left(32);
    s[2] = s[2].wrapping_add(s[3]);
    s[3] = s[3].rotate_left(16);
    s[3] ^= s[2];
    s[0] = s[0].wrapping_add(s[3]);
    s[3] = s[3].rotate_left(21);
    s[3] ^= s[0];
    s[2] = s[2].wrapping_add(s[1]);
    s[1] = s[1].rotate_left(17);
    s[1] ^= s[2];
    s[2] = s[2].rotate_left(32);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hasher;

    #[test]
    fn hash_32_matches_definition() {
        assert_eq!(hash_32(0, 8), 0);
        assert_eq!(hash_32(1, 8), 0x61);
        assert_eq!(
            hash_32(0x0a00_0001, 8),
            (0x0a00_0001u32.wrapping_mul(0x61C88647)) >> 24
        );
        assert_eq!(hash_32(1, 10), 0x61C88647 >> 22);
    }

    #[test]
    fn siphash13_agrees_with_reference_crate() {
        for (v, k0, k1) in [
            (0u32, 0u64, 0u64),
            (0x0a00_0001 + 80, 2_654_435_761, 2_654_435_761),
            (0xdead_beef, 2_654_446_892, 2_654_446_892),
            (u32::MAX, u64::MAX, 1),
        ] {
            let mut h = siphasher::sip::SipHasher13::new_with_keys(k0, k1);
            h.write(&v.to_le_bytes());
            assert_eq!(hsiphash_u32(v, k0, k1), h.finish() as u32, "{v:#x}");
        }
    }
}
