//! When the master sends a connection: ip_vs_sync_conn_needed with the
//! kernel's defaults (sync_refresh_period 0, sync_retries 0,
//! sync_persist_mode 0), and the one-packet rule of ip_vs_sync_conn.

use crate::states::{sctp_state, tcp_state, PROTO_SCTP, PROTO_TCP};
use crate::{F_ONE_PACKET, F_TEMPLATE};

/// `net.ipv4.vs.sync_threshold` = "threshold period" (default "3 50").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncPolicy {
    /// Packets before the first sync (`sysctl_sync_threshold`).
    pub threshold: u32,
    /// Then every `period` packets (`sysctl_sync_period`); 0: only once, at
    /// `threshold`, and on state changes.
    pub period: u32,
}

impl Default for SyncPolicy {
    /// `DEFAULT_SYNC_THRESHOLD` 3, `DEFAULT_SYNC_PERIOD` 50.
    fn default() -> Self {
        SyncPolicy {
            threshold: 3,
            period: 50,
        }
    }
}

/// TCP states in which a connection is synced at all (ip_vs_sync_conn_needed).
const TCP_SYNCED: [u16; 5] = [
    tcp_state::ESTABLISHED,
    tcp_state::FIN_WAIT,
    tcp_state::CLOSE,
    tcp_state::CLOSE_WAIT,
    tcp_state::TIME_WAIT,
];

/// The same for SCTP.
const SCTP_SYNCED: [u16; 5] = [
    sctp_state::ESTABLISHED,
    sctp_state::SHUTDOWN_SENT,
    sctp_state::SHUTDOWN_RECEIVED,
    sctp_state::SHUTDOWN_ACK_SENT,
    sctp_state::CLOSED,
];

impl SyncPolicy {
    /// The values proc_do_sync_threshold accepts: with a period, the
    /// threshold must be below it (otherwise `pkts % period` never equals it).
    pub fn new(threshold: u32, period: u32) -> Option<SyncPolicy> {
        if period != 0 && threshold >= period {
            return None;
        }
        Some(SyncPolicy { threshold, period })
    }

    /// Whether to send this connection now. Call it for each packet from the
    /// client side (ip_vs_in; replies do not count) after the state
    /// transition, with:
    /// - `old_state`: the state when this connection last passed this check
    ///   (the kernel's `cp->old_state`, which ip_vs_sync_conn_needed updates
    ///   only when it returns true; a new connection starts at 0, a synced
    ///   one at the received state);
    /// - `new_state`: the state now;
    /// - `packets`: the connection's incoming packet count including this one
    ///   (`atomic_inc_return(&cp->in_pkts)`); a backup that takes over
    ///   starts its synced connections at `threshold` (ip_vs_proc_conn).
    ///
    /// Rules, in the kernel's order:
    /// - a template: no state rule, and with a period no packet rule either,
    ///   so it goes out on every call. The caller asks for the template on
    ///   every packet of a connection it controls, whether or not that
    ///   connection was sent (ip_vs_sync_conn's `control:` path) and even
    ///   for one-packet ones, with the template's own incremented counter;
    /// - one-packet connections never (ip_vs_sync_conn, "Do not sync ONE
    ///   PACKET");
    /// - TCP only in ESTABLISHED, FIN_WAIT, CLOSE, CLOSE_WAIT, TIME_WAIT; a
    ///   change into one of them other than ESTABLISHED always sends; else
    ///   the packet rule (SCTP alike with its own five states);
    /// - UDP and others: the packet rule alone;
    /// - packet rule: `packets % period == threshold`, or with period 0
    ///   `packets == threshold`: the 3rd packet and every 50th after it.
    pub fn needed(
        &self,
        protocol: u8,
        flags: u32,
        old_state: u16,
        new_state: u16,
        packets: u32,
    ) -> bool {
        let template = flags & F_TEMPLATE != 0;
        if !template {
            if flags & F_ONE_PACKET != 0 {
                return false;
            }
            let synced: &[u16] = match protocol {
                PROTO_TCP => &TCP_SYNCED,
                PROTO_SCTP => &SCTP_SYNCED,
                _ => &[],
            };
            if !synced.is_empty() {
                if !synced.contains(&new_state) {
                    return false;
                }
                let established = match protocol {
                    PROTO_TCP => tcp_state::ESTABLISHED,
                    _ => sctp_state::ESTABLISHED,
                };
                // "force = cp->state != cp->old_state; if (force && cp->state
                // != ESTABLISHED) goto set;"
                if new_state != old_state && new_state != established {
                    return true;
                }
            }
        }
        if self.period > 0 {
            // Templates skip the packet rule when there is a period.
            template || packets % self.period == self.threshold
        } else {
            // sync_refresh_period is 0 too: "only once when pkts matches".
            packets == self.threshold
        }
    }
}
