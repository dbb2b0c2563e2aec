//! Receive: the header checks and version choice of ip_vs_process_message.

mod checks;
mod options;
mod skip;
mod v0;
mod v1;

pub use skip::EntrySkip;

use crate::wire::{be16_at, u8_at, V1_HEADER, V1_VERSION};
use crate::SyncConn;

/// What one datagram carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// 1 or 0.
    pub version: u8,
    /// The sender's syncid.
    pub syncid: u8,
    /// Entries to install, in datagram order.
    pub conns: Vec<SyncConn>,
    /// Entries skipped while reading went on.
    pub skipped: Vec<EntrySkip>,
    /// The entry at which reading stopped, as the kernel stops ("Dropping
    /// buffer"): `conns` and `skipped` hold what came before it; the
    /// header's remaining entries were not read.
    pub stopped: Option<EntrySkip>,
}

/// Why a whole datagram is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Shorter than the 4-byte v0 header ("message header too short").
    #[error("datagram of {len} bytes is shorter than a header")]
    TooShort { len: usize },
    /// The size field disagrees with the datagram length ("bogus message size").
    #[error("size field {header} but {actual} bytes received")]
    SizeMismatch { header: u16, actual: usize },
    /// Our syncid is not 0 and theirs differs ("Ignoring syncid").
    #[error("syncid {theirs}, ours {ours}")]
    OtherSyncid { theirs: u8, ours: u8 },
    /// First byte 0 (v1's reserved byte, or a v0 count of 0) but not a v1
    /// header (version 1, spare 0). The kernel reads it as a v0 datagram
    /// with no entries; refusing says the same and names it.
    #[error("unknown version {version}")]
    UnknownVersion { version: u8 },
}

impl Refused {
    /// Metrics label.
    pub fn name(&self) -> &'static str {
        match self {
            Refused::TooShort { .. } => "too_short",
            Refused::SizeMismatch { .. } => "size_mismatch",
            Refused::OtherSyncid { .. } => "other_syncid",
            Refused::UnknownVersion { .. } => "unknown_version",
        }
    }
}

/// Reads one whole UDP payload, checking it in ip_vs_process_message's order:
/// length, size field, syncid, then version.
pub fn decode(datagram: &[u8], our_syncid: u8) -> Result<Decoded, Refused> {
    let len = datagram.len();
    let (Some(first), Some(syncid), Some(size)) =
        (u8_at(datagram, 0), u8_at(datagram, 1), be16_at(datagram, 2))
    else {
        return Err(Refused::TooShort { len });
    };
    if usize::from(size) != len {
        return Err(Refused::SizeMismatch {
            header: size,
            actual: len,
        });
    }
    if our_syncid != 0 && syncid != our_syncid {
        return Err(Refused::OtherSyncid {
            theirs: syncid,
            ours: our_syncid,
        });
    }
    let mut out = Decoded {
        version: 0,
        syncid,
        conns: Vec::new(),
        skipped: Vec::new(),
        stopped: None,
    };
    // A v1 header needs 8 bytes; the kernel reads version and spare from its
    // receive buffer even when the datagram is shorter, here a datagram
    // under 8 bytes is v0.
    let version = u8_at(datagram, 5);
    let spare = be16_at(datagram, 6);
    if first == 0 && len >= V1_HEADER {
        if version == Some(V1_VERSION) && spare == Some(0) {
            out.version = 1;
            v1::read(datagram, &mut out);
            return Ok(out);
        }
        return Err(Refused::UnknownVersion {
            version: version.unwrap_or(0),
        });
    }
    v0::read(datagram, first, &mut out);
    Ok(out)
}

/// Records one entry's outcome; `false` when reading must stop.
pub(crate) fn record(out: &mut Decoded, r: Result<SyncConn, EntrySkip>) -> bool {
    match r {
        Ok(c) => out.conns.push(c),
        Err(e) if e.ends_datagram() => {
            out.stopped = Some(e);
            return false;
        }
        Err(e) => out.skipped.push(e),
    }
    true
}
