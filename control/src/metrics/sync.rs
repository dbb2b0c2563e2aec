//! Connection-sync families: messages and connections by direction, what
//! was refused by reason, and connections lost to full rings.
use super::{Families, Result};

/// What the sync daemons and the workers did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncMetrics {
    pub messages_sent: u64,
    pub messages_received: u64,
    /// Connections the workers queued for sending, sent in messages,
    /// received in messages, and installed by the owning worker.
    pub conns_queued: u64,
    pub conns_sent: u64,
    pub conns_received: u64,
    pub conns_installed: u64,
    /// Received messages refused whole or entries skipped, by reason.
    pub refused: Vec<(String, u64)>,
    /// Received connections a worker did not install, by reason.
    pub install_refused: Vec<(String, u64)>,
    /// Connections lost to a full ring: to send, to install.
    pub ring_dropped: (u64, u64),
}

pub(super) fn families(f: &Families, m: &SyncMetrics) -> Result<()> {
    let messages = f.counter(
        "ferrovs_sync_messages_total",
        "IPVS sync messages, by direction (sent, received)",
        &["direction"],
    )?;
    messages
        .with_label_values(&["sent"])
        .inc_by(m.messages_sent);
    messages
        .with_label_values(&["received"])
        .inc_by(m.messages_received);
    let conns = f.counter(
        "ferrovs_sync_conns_total",
        "Synced connections, by step (queued by the workers, sent, received, installed)",
        &["step"],
    )?;
    for (step, n) in [
        ("queued", m.conns_queued),
        ("sent", m.conns_sent),
        ("received", m.conns_received),
        ("installed", m.conns_installed),
    ] {
        conns.with_label_values(&[step]).inc_by(n);
    }
    let refused = f.counter(
        "ferrovs_sync_refused_total",
        "Received sync messages refused or entries skipped, by reason",
        &["reason"],
    )?;
    for (reason, n) in &m.refused {
        refused.with_label_values(&[reason.as_str()]).inc_by(*n);
    }
    let install = f.counter(
        "ferrovs_sync_install_refused_total",
        "Received connections not installed, by reason",
        &["reason"],
    )?;
    for (reason, n) in &m.install_refused {
        install.with_label_values(&[reason.as_str()]).inc_by(*n);
    }
    let dropped = f.counter(
        "ferrovs_sync_ring_dropped_total",
        "Connections lost to a full ring between the workers and the sync thread",
        &["ring"],
    )?;
    dropped
        .with_label_values(&["send"])
        .inc_by(m.ring_dropped.0);
    dropped
        .with_label_values(&["install"])
        .inc_by(m.ring_dropped.1);
    Ok(())
}
