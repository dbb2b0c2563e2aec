//! The master's send buffer: entries packed into datagrams the way
//! ip_vs_sync_conn and ip_vs_sync_buff_create fill `struct ip_vs_sync_buff`.

use super::entry::{entry_len, put_entry};
use crate::wire::{DEFAULT_MAXLEN, MAX_MAXLEN, V1_HEADER, V1_VERSION};
use crate::{Millis, SyncConn};

/// nr_conns is one byte. The kernel never checks it (at 1472 bytes at most 40
/// entries fit), but with a large sync_maxlen it would wrap; close the
/// datagram at 255 entries instead.
const MAX_CONNS: u8 = u8::MAX;

/// Builds v1 datagrams of at most `maxlen` bytes.
#[derive(Debug)]
pub struct Builder {
    syncid: u8,
    maxlen: usize,
    pending: Option<Pending>,
}

/// The datagram being filled (the kernel's `ms->sync_buff`).
#[derive(Debug)]
struct Pending {
    buf: Vec<u8>,
    /// `sb->end - sb->mesg`: the larger of maxlen and header + first entry.
    capacity: usize,
    nr_conns: u8,
    /// `sb->firstuse`: when the first entry went in.
    first_use: Millis,
}

impl Builder {
    /// `maxlen` as ipvsadm's --sync-maxlen: 0 means the default 1472, others
    /// are clamped to 1..=65507 as start_sync_thread clamps a master's value.
    pub fn new(syncid: u8, maxlen: usize) -> Builder {
        let maxlen = if maxlen == 0 {
            DEFAULT_MAXLEN
        } else {
            maxlen.clamp(1, MAX_MAXLEN)
        };
        Builder {
            syncid,
            maxlen,
            pending: None,
        }
    }

    /// The effective (clamped) maxlen.
    pub fn maxlen(&self) -> usize {
        self.maxlen
    }

    /// The syncid written in every header.
    pub fn syncid(&self) -> u8 {
        self.syncid
    }

    /// Entries in the pending datagram.
    pub fn pending_conns(&self) -> usize {
        self.pending.as_ref().map_or(0, |p| usize::from(p.nr_conns))
    }

    /// Adds one entry. Returns the finished datagram when this entry did not
    /// fit in it; the entry then starts the next one. An entry never fits a
    /// datagram smaller than itself: like ip_vs_sync_buff_create, a datagram
    /// is `max(maxlen, 8 + entry)` long at most, so only a maxlen below 80
    /// lets one exceed it.
    pub fn push(&mut self, c: &SyncConn, now: Millis) -> Option<Vec<u8>> {
        let len = entry_len(c);
        let mut done = None;
        if let Some(p) = &self.pending {
            // ip_vs_sync_conn pads the previous entry to 4 bytes before this
            // one (`pad = (4 - head) & 3`), never after the last.
            let pad = pad_before(p.buf.len());
            if p.buf.len() + pad + len > p.capacity || p.nr_conns == MAX_CONNS {
                done = self.take();
            }
        }
        let p = self
            .pending
            .get_or_insert_with(|| Pending::new(self.syncid, self.maxlen, len, now));
        let pad = pad_before(p.buf.len());
        p.buf.resize(p.buf.len() + pad, 0);
        put_entry(&mut p.buf, c);
        p.nr_conns += 1;
        p.set_header();
        done
    }

    /// The pending datagram if `force`, or if its first entry went in at
    /// least `max_age_ms` ago (the kernel sends a buffer once it is
    /// `IPVS_SYNC_FLUSH_TIME`, 2 s, old: get_curr_sync_buff's
    /// `time_after_eq(jiffies - firstuse, time)`).
    pub fn flush(&mut self, now: Millis, max_age_ms: u64, force: bool) -> Option<Vec<u8>> {
        let p = self.pending.as_ref()?;
        if force || now.saturating_sub(p.first_use) >= max_age_ms {
            self.take()
        } else {
            None
        }
    }

    fn take(&mut self) -> Option<Vec<u8>> {
        self.pending.take().map(|p| p.buf)
    }
}

impl Pending {
    /// ip_vs_sync_buff_create: header with reserved 0, syncid, size 8,
    /// nr_conns 0, version 1, spare 0; room for `max(len + 8, maxlen)`.
    fn new(syncid: u8, maxlen: usize, first_len: usize, now: Millis) -> Pending {
        let capacity = maxlen.max(first_len + V1_HEADER);
        let mut buf = Vec::with_capacity(capacity);
        buf.extend_from_slice(&[0, syncid, 0, V1_HEADER as u8, 0, V1_VERSION, 0, 0]);
        Pending {
            buf,
            capacity,
            nr_conns: 0,
            first_use: now,
        }
    }

    /// Size (whole datagram, big-endian) and count, kept current per entry.
    fn set_header(&mut self) {
        // capacity <= 65507, so the length fits the 16-bit size field.
        let size = u16::try_from(self.buf.len()).unwrap_or(u16::MAX);
        if let Some(f) = self.buf.get_mut(2..4) {
            f.copy_from_slice(&size.to_be_bytes());
        }
        if let Some(n) = self.buf.get_mut(4) {
            *n = self.nr_conns;
        }
    }
}

/// Zero bytes that bring `len` to a multiple of 4.
fn pad_before(len: usize) -> usize {
    (4 - (len & 3)) & 3
}
