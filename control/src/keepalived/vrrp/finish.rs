//! keepalived's end-of-configuration corrections for every instance read,
//! with the `global_defs` defaults, each one reported.
use super::*;

/// Applies the `global_defs` defaults and keepalived's corrections to
/// every instance read, in file order.
pub fn finish(m: &mut Mapper) {
    let drafts = std::mem::take(&mut m.vrrp_drafts);
    let fifo = fifo(m, !drafts.is_empty());
    for d in drafts {
        let node = d.node.clone();
        let Some(mut v) = instance(m, d) else {
            continue;
        };
        if v.virtual_ipaddress.is_empty() {
            m.unmapped(
                &node,
                "no virtual_ipaddress: a ferrovs instance owns at least one address",
            );
            continue;
        }
        if v.notify_fifo.is_none() {
            v.notify_fifo = fifo.clone();
        }
        m.vrrp.push(v);
        m.vrrp_origins.push((node.file.to_string(), node.line));
    }
}

/// The global FIFO every instance reports to, if any.
fn fifo(m: &mut Mapper, any: bool) -> Option<PathBuf> {
    let vrrp_fifo = m.globals.vrrp_notify_fifo.take();
    let all_fifo = m.globals.notify_fifo.take();
    if !any {
        for (_, n) in vrrp_fifo.iter().chain(all_fifo.iter()) {
            m.unmapped(
                n,
                "no vrrp_instance reports to it; ferrovs writes no virtual or real server lines",
            );
        }
        return None;
    }
    match (vrrp_fifo, all_fifo) {
        (Some((p, _)), Some((_, n))) => {
            m.unmapped(&n, "vrrp_notify_fifo takes the instances' lines; ferrovs writes no virtual or real server lines");
            Some(p)
        }
        (Some((p, _)), None) => Some(p),
        (None, Some((p, n))) => {
            m.diag(
                &n,
                "mapped as every vrrp instance's notify_fifo (ferrovs writes only the INSTANCE lines there, not keepalived's virtual and real server lines)",
            );
            Some(p)
        }
        (None, None) => None,
    }
}

/// One instance with keepalived's end-of-configuration rules.
fn instance(m: &mut Mapper, d: Draft) -> Option<VrrpInstance> {
    let n = &d.node;
    let mut v = d.inst;
    if !d.vrid_given {
        m.unmapped(n, "no virtual_router_id (keepalived refuses the instance)");
        return None;
    }
    let port = match &d.interface {
        Some((c, iface)) => port_of(m, c, iface),
        None => match m.base_ports.as_deref() {
            Some([only]) => {
                let name = only.name.clone();
                m.diag(
                    n,
                    format!("no interface: mapped on port {name:?} (the base's only port)"),
                );
                name
            }
            _ => {
                m.unmapped(n, "no interface");
                return None;
            }
        },
    };
    v.port = port;
    if !d.version_given {
        if let Some(ver) = m.globals.version {
            v.version = ver;
        }
    }
    if !d.garp_delay_given {
        if let Some(g) = m.globals.garp_master_delay {
            v.garp_master_delay = g;
        }
    }
    if !d.garp_repeat_given {
        if let Some(g) = m.globals.garp_master_repeat {
            v.garp_master_repeat = g;
        }
    }
    // Without a state, the address owner starts as MASTER.
    if !d.state_given && v.priority == 255 {
        v.state = VrrpState::Master;
    }
    if let Some((c, kind, pass)) = &d.auth {
        match (kind, pass) {
            _ if v.version == 3 => m.unmapped(
                c,
                "VRRP version 3 has no authentication; keepalived ignores it",
            ),
            (Some(AuthType::Pass), Some(p)) if !p.is_empty() => {
                v.authentication = Some(VrrpAuth {
                    auth_type: AuthType::Pass,
                    auth_pass: p.clone(),
                })
            }
            // AH was reported where it is written.
            (Some(AuthType::Ah), _) => {}
            (Some(_), _) => m.invalid(c, "no auth_pass"),
            (None, _) => m.invalid(c, "no auth_type"),
        }
    }
    if let Some(c) = &d.advert_node {
        advert_correction(m, c, &mut v);
    }
    if let Some(c) = &d.nopreempt_node {
        if v.nopreempt && v.priority == 255 {
            m.invalid(
                c,
                "nopreempt with priority 255 (the address owner always takes over)",
            );
            v.nopreempt = false;
        } else if v.nopreempt && v.state == VrrpState::Master {
            m.invalid(c, "nopreempt with state MASTER");
            v.nopreempt = false;
        }
    }
    if let Some(c) = &d.preempt_delay_node {
        if !v.preempt_delay.is_zero() {
            if v.state == VrrpState::Master {
                m.invalid(c, "preempt_delay with state MASTER");
                v.preempt_delay = Seconds::ZERO;
            } else if v.nopreempt {
                m.invalid(c, "preempt_delay with nopreempt");
                v.preempt_delay = Seconds::ZERO;
            }
        }
    }
    if let Some(c) = &d.v3_checksum_node {
        if v.v3_checksum_as_v2 && v.version == 2 {
            m.invalid(c, "version 3 only");
            v.v3_checksum_as_v2 = false;
        }
    }
    Some(v)
}

/// keepalived rounds a version 2 interval to whole seconds (at most
/// 255) and a version 3 one to centiseconds (at most 40.95 s).
fn advert_correction(m: &mut Mapper, c: &Node, v: &mut VrrpInstance) {
    let us = v.advert_int.as_micros();
    let (unit, max) = if v.version == 2 {
        (1_000_000, 255 * 1_000_000)
    } else {
        (10_000, 4095 * 10_000)
    };
    let mut fixed = (us + unit / 2) / unit * unit;
    if fixed == 0 {
        fixed = unit;
    }
    fixed = fixed.min(max);
    if fixed != us {
        let to = Seconds::from_micros(fixed);
        m.diag(
            c,
            format!(
                "{} mapped as {to} (keepalived's correction for version {})",
                v.advert_int, v.version
            ),
        );
        v.advert_int = to;
    }
}
