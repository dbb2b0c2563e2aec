//! Choosing the real server for a new connection: the service's persistence
//! template when one covers the client, else the scheduler (and, for a
//! persistent service, a new template remembering its choice).
use conntrack::{InsertError, Millis, Template, TemplateDest, TemplateId, TemplateKey};
use sched::PacketKey;

use super::Pipeline;
use crate::frame::Frame;
use crate::service::ServiceState;
use crate::snapshot::PortMatch;
use crate::stats::DropReason;

/// A template went away: its real has one persistent entry less.
pub(super) fn template_gone(services: &mut [Option<ServiceState>], t: &Template) {
    if let Some(s) = services
        .get_mut(t.to.service as usize)
        .and_then(Option::as_mut)
    {
        s.template_changed(t.to.dest, false);
    }
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
        let Some(spec) = self
            .services
            .get(svc)
            .and_then(Option::as_ref)
            .map(|s| &s.spec)
        else {
            return Err(DropReason::NoService);
        };
        let Some(p) = spec.persistence.as_ref() else {
            let state = self.svc_mut(svc).ok_or(DropReason::NoService)?;
            let pos = state.schedule(key, now).ok_or(DropReason::NoDestination)?;
            return Ok((state.dests[pos].id, None));
        };
        // Multi-port and all-port services share one template per client, as
        // IPVS's port-0 and firewall-mark services do.
        let vport = match spec.ports {
            PortMatch::One(port) => port,
            _ => 0,
        };
        let tkey = match spec.fwmark {
            Some(mark) => TemplateKey::fwmark(key.src, p.netmask, mark),
            None => TemplateKey::new(spec.proto, key.src, p.netmask, key.dst, vport),
        };
        let timeout = p.timeout_s;
        // A template past its timeout is gone, as the kernel's timer would have it.
        let mut expired = None;
        let found = self.templates.lookup_at(&tkey, now, |t| expired = Some(*t));
        if let Some(t) = expired {
            template_gone(&mut self.services, &t);
        }
        let state = self
            .services
            .get_mut(svc)
            .and_then(Option::as_mut)
            .ok_or(DropReason::NoService)?;
        if let Some(tid) = found {
            match self.templates.get(tid).map(|t| (t.to.service, t.to.dest)) {
                // Reused while its real is still in the service, even quiescent.
                Some((s, d)) if s as usize == svc && state.dest_by_id(d).is_some() => {
                    return Ok((d, Some(tid)))
                }
                _ => self.templates.invalidate(tid, now),
            }
        }
        let pos = state.schedule(key, now).ok_or(DropReason::NoDestination)?;
        let d = &state.dests[pos];
        let (dest, addr, port) = (d.id, d.addr, d.port);
        let to = TemplateDest {
            service: svc as u32,
            dest,
            addr,
            port,
        };
        let tid = self
            .templates
            .create(tkey, to, timeout, now)
            .map_err(|e| match e {
                InsertError::Full => DropReason::ConnTableFull,
                InsertError::Exists => DropReason::TupleCollision,
            })?;
        state.template_changed(dest, true);
        Ok((dest, Some(tid)))
    }
}
