//! Why one entry was not installed, with the kernel's reaction to each.

/// Why one entry was not installed. Two kinds, as in the kernel:
/// [`EntrySkip::ends_datagram`] ones stop the reading (ip_vs_process_message
/// logs "Dropping buffer" and returns; entries before stay installed), the
/// others skip only this entry (ip_vs_proc_sync_conn returns a positive code,
/// ip_vs_process_message_v0 `continue`s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EntrySkip {
    /// Fewer bytes left than the fixed part (36 bytes v1, 24 v0)
    /// ("BACKUP, Dropping buffer, too small" / "BACKUP v0, bogus conn").
    #[error("entry truncated")]
    Truncated,
    /// v1 entry length reaches past the datagram ("msg > buffer").
    #[error("entry length past the end of the datagram")]
    PastEnd,
    /// v1 entry version (top 4 bits of ver_size) not 0 ("Unknown version").
    #[error("unknown entry version {0}")]
    EntryVersion(u8),
    /// v1 type with bits other than IPv6 (ip_vs_proc_sync_conn -10).
    #[error("unknown entry type {0:#x}")]
    BadType(u8),
    /// v1 entry length shorter than its fixed part (-20).
    #[error("entry length {0} shorter than its fixed part")]
    EntryTooShort(u16),
    /// Fewer than 2 bytes for an option's type and length (-30).
    #[error("option header truncated")]
    OptionTruncated,
    /// Option length 0 or past the entry (-40).
    #[error("option {ptype:#x} length {plen} zero or past the entry")]
    OptionLength { ptype: u8, plen: u8 },
    /// Sequence option not 24 bytes, or twice (ip_vs_proc_seqopt, -50).
    #[error("bad sequence option")]
    SeqOption,
    /// Persistence-engine data twice, or name twice or over 16 bytes
    /// (ip_vs_proc_str, -60/-70).
    #[error("bad persistence-engine option")]
    PeOption,
    /// v0 entry with sequence flags but not the 24 bytes of options
    /// ("BACKUP v0, Dropping buffer bogus conn options").
    #[error("v0 sequence options truncated")]
    V0OptionsTruncated,
    /// IPv6 entry: a Linux backup with IPv6 installs it; ferrovs syncs IPv4.
    #[error("IPv6 entry")]
    Ipv6,
    /// Option type unknown and without the optional bit 0x40 ("Unknown
    /// mandatory param", retc 20).
    #[error("unknown mandatory option {0:#x}")]
    UnknownMandatoryOption(u8),
    /// Protocol IPVS has no handler for, in a connection (retc 30).
    #[error("unsupported protocol {0}")]
    UnsupportedProtocol(u8),
    /// State number past the protocol's states, in a connection (retc 40).
    #[error("invalid state {state} for protocol {protocol}")]
    InvalidState { protocol: u8, state: u16 },
    /// Persistence-engine data: the kernel installs it only with the named
    /// engine loaded (ip_vs_conn_fill_param_sync, retc 50); ferrovs has none,
    /// so it skips as a kernel without the engine does.
    #[error("persistence-engine data")]
    PersistenceEngine,
    /// ferrovs's FullNAT option not 6 bytes, or twice: without a usable
    /// local address the connection cannot be forwarded.
    #[error("bad FullNAT option")]
    BadFullnatOption,
}

impl EntrySkip {
    /// Whether the kernel stops reading the datagram here.
    pub fn ends_datagram(&self) -> bool {
        !matches!(
            self,
            EntrySkip::Ipv6
                | EntrySkip::UnknownMandatoryOption(_)
                | EntrySkip::UnsupportedProtocol(_)
                | EntrySkip::InvalidState { .. }
                | EntrySkip::PersistenceEngine
                | EntrySkip::BadFullnatOption
        )
    }

    /// Metrics label.
    pub fn name(&self) -> &'static str {
        match self {
            EntrySkip::Truncated => "truncated",
            EntrySkip::PastEnd => "past_end",
            EntrySkip::EntryVersion(_) => "entry_version",
            EntrySkip::BadType(_) => "bad_type",
            EntrySkip::EntryTooShort(_) => "entry_too_short",
            EntrySkip::OptionTruncated => "option_truncated",
            EntrySkip::OptionLength { .. } => "option_length",
            EntrySkip::SeqOption => "seq_option",
            EntrySkip::PeOption => "pe_option",
            EntrySkip::V0OptionsTruncated => "v0_options_truncated",
            EntrySkip::Ipv6 => "ipv6",
            EntrySkip::UnknownMandatoryOption(_) => "unknown_mandatory_option",
            EntrySkip::UnsupportedProtocol(_) => "unsupported_protocol",
            EntrySkip::InvalidState { .. } => "invalid_state",
            EntrySkip::PersistenceEngine => "persistence_engine",
            EntrySkip::BadFullnatOption => "bad_fullnat_option",
        }
    }
}
