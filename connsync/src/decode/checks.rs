//! The protocol and state check both versions make before installing.

use super::EntrySkip;
use crate::{num_states, F_TEMPLATE};

/// ip_vs_proc_sync_conn (retc 30/40) and ip_vs_process_message_v0: a
/// connection needs a protocol IPVS handles and a state below its
/// `num_states`. A template is exempt: its protocol may be 0 (fwmark
/// template), and a state past `IP_VS_CTPL_S_LAST` is only logged.
pub(crate) fn protocol_state(protocol: u8, flags: u32, state: u16) -> Result<(), EntrySkip> {
    if flags & F_TEMPLATE != 0 {
        return Ok(());
    }
    let states = num_states(protocol).ok_or(EntrySkip::UnsupportedProtocol(protocol))?;
    if state >= states {
        return Err(EntrySkip::InvalidState { protocol, state });
    }
    Ok(())
}
