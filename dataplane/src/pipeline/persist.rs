//! Choosing the real server for a new connection: the service's persistence
//! template when one covers the client, else the scheduler (and, for a
//! persistent service, a new template remembering its choice).
use conntrack::{InsertError, Millis, TemplateId, TemplateKey};
use sched::PacketKey;

use super::Pipeline;
use crate::frame::Frame;
use crate::snapshot::PortMatch;
use crate::stats::DropReason;

/// Templates store the service next to the real's id in one word.
#[inline]
pub(super) fn pack_dest(service: usize, dest: u32) -> u32 {
    ((service as u32) << 16) | (dest & 0xffff)
}

#[inline]
pub(super) fn unpack_dest(packed: u32) -> (usize, u32) {
    ((packed >> 16) as usize, packed & 0xffff)
}

impl<F: Frame> Pipeline<F> {
    /// The real (by id) for a new connection of service `svc`, and the
    /// persistence template the connection will be attached to.
    pub(super) fn pick_dest(
        &mut self,
        svc: usize,
        key: &PacketKey,
        now: Millis,
    ) -> Result<(u32, Option<TemplateId>), DropReason> {
        let Some(state) = self.services.get_mut(svc).and_then(Option::as_mut) else {
            return Err(DropReason::NoService);
        };
        let spec = &state.spec;
        let Some(p) = spec.persistence.as_ref() else {
            let pos = state.schedule(key, now).ok_or(DropReason::NoDestination)?;
            return Ok((state.dests[pos].id, None));
        };
        // Multi-port and all-port services share one template per client, as
        // IPVS's port-0 and firewall-mark services do.
        let vport = match spec.ports {
            PortMatch::One(port) => port,
            _ => 0,
        };
        let tkey = TemplateKey::new(spec.proto, key.src, p.netmask, key.dst, vport);
        let timeout = p.timeout_s;
        if let Some(tid) = self.templates.lookup(&tkey) {
            let packed = self.templates.get(tid).map(|t| t.dest);
            match packed.map(unpack_dest) {
                // Reused while its real is still in the service, even quiescent.
                Some((s, d)) if s == svc && state.dest_by_id(d).is_some() => {
                    return Ok((d, Some(tid)))
                }
                _ => self.templates.invalidate(tid, now),
            }
        }
        let pos = state.schedule(key, now).ok_or(DropReason::NoDestination)?;
        let dest = state.dests[pos].id;
        let tid = self
            .templates
            .create(tkey, pack_dest(svc, dest), timeout, now)
            .map_err(|e| match e {
                InsertError::Full => DropReason::ConnTableFull,
                InsertError::Exists => DropReason::TupleCollision,
            })?;
        state.template_changed(dest, true);
        Ok((dest, Some(tid)))
    }
}
