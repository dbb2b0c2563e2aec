//! VRRP families: per instance its state, priority and advert counters,
//! received adverts dropped by reason, and the director's gratuitous ARPs.
use super::{Families, Result};
use crate::proto::VrrpEntry;

/// `ferrovs_vrrp_state`'s values, as keepalived numbers its states.
pub fn state_value(state: &str) -> i64 {
    match state {
        "BACKUP" => 1,
        "MASTER" => 2,
        "FAULT" => 3,
        _ => 0,
    }
}

pub(super) fn families(f: &Families, entries: &[VrrpEntry], garps_sent: u64) -> Result<()> {
    let state = f.gauge(
        "ferrovs_vrrp_state",
        "VRRP instance state: 0 init, 1 backup, 2 master, 3 fault",
        &["instance"],
    )?;
    let priority = f.gauge(
        "ferrovs_vrrp_priority",
        "VRRP instance priority",
        &["instance"],
    )?;
    let sent = f.counter(
        "ferrovs_vrrp_adverts_sent_total",
        "VRRP advertisements sent (priority 0 included)",
        &["instance"],
    )?;
    let received = f.counter(
        "ferrovs_vrrp_adverts_received_total",
        "VRRP advertisements received and accepted",
        &["instance"],
    )?;
    let transitions = f.counter(
        "ferrovs_vrrp_transitions_total",
        "VRRP state transitions",
        &["instance"],
    )?;
    let dropped = f.counter(
        "ferrovs_vrrp_adverts_dropped_total",
        "VRRP advertisements received and dropped, by reason",
        &["instance", "reason"],
    )?;
    for e in entries {
        let i = [e.name.as_str()];
        state.with_label_values(&i).set(state_value(&e.state));
        priority.with_label_values(&i).set(i64::from(e.priority));
        sent.with_label_values(&i).inc_by(e.adverts_sent);
        received.with_label_values(&i).inc_by(e.adverts_received);
        transitions.with_label_values(&i).inc_by(e.transitions);
        for (reason, n) in &e.dropped {
            dropped
                .with_label_values(&[e.name.as_str(), reason.as_str()])
                .inc_by(*n);
        }
    }
    let garps = f.counter(
        "ferrovs_vrrp_garps_sent_total",
        "Gratuitous ARPs sent for instances becoming MASTER",
        &[],
    )?;
    garps.with_label_values::<&str>(&[]).inc_by(garps_sent);
    Ok(())
}
