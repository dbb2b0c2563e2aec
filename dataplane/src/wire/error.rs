//! Parse errors shared by every wire view.

/// Why a buffer was rejected by a `new_checked` constructor.
///
/// Kept `Copy` and allocation-free because it is produced on the
/// per-packet path and turned into a drop-reason counter label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum WireError {
    /// The buffer is shorter than the fixed header it should hold.
    #[error("buffer truncated")]
    Truncated,
    /// IPv4 IHL below 5 words.
    #[error("IPv4 IHL below 5")]
    BadIhl,
    /// IPv4 total length beyond the frame or shorter than the header.
    #[error("bad IPv4 total length")]
    BadTotalLength,
    /// IPv4 fragment (MF set or non-zero offset).
    #[error("IPv4 fragment")]
    Fragment,
    /// TCP data offset below 5 words or beyond the segment.
    #[error("bad TCP data offset")]
    BadDataOffset,
    /// IP version field is not 4.
    #[error("bad IP version")]
    BadVersion,
    /// UDP length field or ARP address lengths are inconsistent.
    #[error("bad length field")]
    BadLength,
    /// Well formed but not something this data plane handles.
    #[error("unsupported")]
    Unsupported,
}

impl WireError {
    /// Every variant, for pre-registering drop counters.
    pub const ALL: [WireError; 8] = [
        WireError::Truncated,
        WireError::BadIhl,
        WireError::BadTotalLength,
        WireError::Fragment,
        WireError::BadDataOffset,
        WireError::BadVersion,
        WireError::BadLength,
        WireError::Unsupported,
    ];

    /// Short snake_case label, stable across releases (metric label).
    pub fn name(self) -> &'static str {
        match self {
            WireError::Truncated => "truncated",
            WireError::BadIhl => "bad_ihl",
            WireError::BadTotalLength => "bad_total_length",
            WireError::Fragment => "fragment",
            WireError::BadDataOffset => "bad_data_offset",
            WireError::BadVersion => "bad_version",
            WireError::BadLength => "bad_length",
            WireError::Unsupported => "unsupported",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for e in WireError::ALL {
            let n = e.name();
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!(seen.insert(n), "duplicate {n}");
            assert!(!e.to_string().is_empty());
        }
    }
}
