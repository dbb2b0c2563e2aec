//! Per-probe warmup jitter from one seed.
//!
//! keepalived draws `random()` per checker; a seed mixed with the probe key
//! gives the same spread while keeping a run reproducible (same seed, same
//! schedule) and independent of the order probes were added.

/// The jitter for the probe `key`: feed it to [`crate::Rules::first_delay`].
pub(crate) fn for_key(seed: u64, key: &str) -> u64 {
    mix(seed ^ fnv1a(key))
}

/// FNV-1a, to spread the seed over probe keys.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// splitmix64's finaliser, so neighbouring seeds give unrelated jitters.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
