//! Validation of the `vrrp:` section and of `services[].ha_suspend`. A
//! value keepalived would correct or ignore (and log) is refused here with
//! its field named: the director must not run an instance other than the
//! one written.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::{AuthType, VrrpInstance, VrrpState};
use crate::config::error::ConfigError;
use crate::config::health::{Script, Seconds};
use crate::config::model::{Config, Port};
use crate::config::owned;
use crate::config::validate::unicast;

type Result<T = ()> = std::result::Result<T, ConfigError>;

/// Most instances: the dataplane keeps one mastership bit per instance in
/// a 64-bit word.
pub const VRRP_INSTANCES_MAX: usize = 64;
/// Longest `preempt_delay`: keepalived's `TIMER_MAX_SEC`.
pub const PREEMPT_DELAY_MAX: Seconds = Seconds::from_secs(1000);
/// Longest `garp_master_delay`: keepalived reads whole seconds up to
/// `UINT_MAX / TIMER_HZ`.
pub const GARP_DELAY_MAX: Seconds = Seconds::from_secs(4294);
/// The advert's address count is 8 bits wide.
const ADDRESSES_MAX: usize = 255;
/// VRRPv3's 12-bit interval: 40.95 s in centiseconds.
const V3_ADVERT_MAX_CS: u64 = 4095;

fn err<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T> {
    Err(ConfigError::new(path, message))
}

/// Every rule.
pub(crate) fn check(cfg: &Config) -> Result {
    run(cfg, true)
}

/// The rules that do not need the ports (the keepalived import without a
/// base configuration has none), and no real at a virtual address.
pub(crate) fn check_portless(cfg: &Config) -> Result {
    run(cfg, false)?;
    owned::reals_not_owned(cfg)
}

fn run(cfg: &Config, with_ports: bool) -> Result {
    if cfg.vrrp.len() > VRRP_INSTANCES_MAX {
        return err(
            format!("vrrp[{VRRP_INSTANCES_MAX}]"),
            format!(
                "at most {VRRP_INSTANCES_MAX} instances (the dataplane keeps one mastership bit per instance)"
            ),
        );
    }
    let owned = owned::owned(cfg);
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut vrids: HashMap<(&str, u8), usize> = HashMap::new();
    let mut vips: HashMap<Ipv4Addr, (usize, usize)> = HashMap::new();
    for (i, v) in cfg.vrrp.iter().enumerate() {
        let at = |f: &str| format!("vrrp[{i}].{f}");
        instance(i, v)?;
        if let Some(j) = names.insert(v.name.as_str(), i) {
            return err(at("name"), format!("duplicate of vrrp[{j}] ({:?})", v.name));
        }
        if let Some(j) = vrids.insert((v.port.as_str(), v.virtual_router_id), i) {
            return err(
                at("virtual_router_id"),
                format!(
                    "duplicate of vrrp[{j}] ({} on port {:?})",
                    v.virtual_router_id, v.port
                ),
            );
        }
        if with_ports {
            on_port(cfg, i, v)?;
        }
        for (k, va) in v.virtual_ipaddress.iter().enumerate() {
            if let Some((j, l)) = vips.insert(va.addr(), (i, k)) {
                if j != i {
                    return err(
                        at(&format!("virtual_ipaddress[{k}]")),
                        format!(
                            "{} is already vrrp[{j}].virtual_ipaddress[{l}] (an address belongs to one instance)",
                            va.addr()
                        ),
                    );
                }
            }
        }
        for (k, peer) in v.unicast_peer.iter().enumerate() {
            if let Some(what) = owned.get(peer) {
                return err(
                    at(&format!("unicast_peer[{k}]")),
                    format!("{peer} is {what}"),
                );
            }
        }
    }
    ha_suspend(cfg)
}

/// The rules of one instance on its own.
fn instance(i: usize, v: &VrrpInstance) -> Result {
    let at = |f: &str| format!("vrrp[{i}].{f}");
    if v.name.is_empty() {
        return err(at("name"), "must not be empty");
    }
    if v.name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return err(
            at("name"),
            "must not contain white space or control characters",
        );
    }
    if v.port.is_empty() {
        return err(at("port"), "must not be empty");
    }
    if v.virtual_router_id == 0 {
        return err(at("virtual_router_id"), "must be 1..=255");
    }
    if v.priority == 0 {
        return err(at("priority"), "must be 1..=255");
    }
    if v.version != 2 && v.version != 3 {
        return err(at("version"), "must be 2 or 3");
    }
    advert_int(&at("advert_int"), v)?;
    if v.nopreempt {
        if v.state == VrrpState::Master {
            return err(
                at("nopreempt"),
                "only with state BACKUP (keepalived ignores it with state MASTER)",
            );
        }
        if v.priority == 255 {
            return err(
                at("nopreempt"),
                "not with priority 255 (the address owner always takes over; keepalived ignores it)",
            );
        }
    }
    preempt_delay(&at("preempt_delay"), v)?;
    if let Some(a) = &v.authentication {
        if v.version != 2 {
            return err(
                at("authentication"),
                "version 2 only (VRRPv3 has no authentication)",
            );
        }
        if a.auth_type == AuthType::Ah {
            return err(
                at("authentication.auth_type"),
                "AH is not supported (use PASS)",
            );
        }
        let n = a.auth_pass.len();
        if !(1..=8).contains(&n) {
            return err(
                at("authentication.auth_pass"),
                format!("must be 1..=8 bytes (it is {n})"),
            );
        }
    }
    if let Some(ip) = v.unicast_src_ip {
        unicast(at("unicast_src_ip"), ip)?;
    }
    let mut peers: HashMap<Ipv4Addr, usize> = HashMap::new();
    for (k, p) in v.unicast_peer.iter().enumerate() {
        let path = at(&format!("unicast_peer[{k}]"));
        unicast(path.clone(), *p)?;
        if let Some(j) = peers.insert(*p, k) {
            return err(
                path,
                format!("duplicate of vrrp[{i}].unicast_peer[{j}] ({p})"),
            );
        }
    }
    if v.v3_checksum_as_v2 && v.version != 3 {
        return err(
            at("v3_checksum_as_v2"),
            "version 3 only (a version 2 checksum never covers a pseudo-header)",
        );
    }
    virtual_addresses(i, v, ADDRESSES_MAX)?;
    if v.garp_master_repeat == 0 {
        return err(at("garp_master_repeat"), "must be 1..=255");
    }
    let d = v.garp_master_delay;
    if !d.as_micros().is_multiple_of(1_000_000) || d > GARP_DELAY_MAX {
        return err(
            at("garp_master_delay"),
            format!("must be whole seconds 0..={GARP_DELAY_MAX}"),
        );
    }
    if v.use_vmac {
        return err(
            at("use_vmac"),
            "the RFC virtual MAC is not supported; adverts and ARP answers use the port's MAC, as keepalived does by default",
        );
    }
    for (name, s) in [
        ("notify_master", &v.notify_master),
        ("notify_backup", &v.notify_backup),
        ("notify_fault", &v.notify_fault),
        ("notify_stop", &v.notify_stop),
        ("notify", &v.notify),
    ] {
        if let Some(s) = s {
            script(at(name), s)?;
        }
    }
    if let Some(f) = &v.notify_fifo {
        if f.as_os_str().is_empty() {
            return err(at("notify_fifo"), "must not be empty");
        }
        if !f.is_absolute() {
            return err(
                at("notify_fifo"),
                format!(
                    "must be an absolute path ({:?} is not)",
                    f.display().to_string()
                ),
            );
        }
    }
    Ok(())
}

fn advert_int(path: &str, v: &VrrpInstance) -> Result {
    let us = v.advert_int.as_micros();
    if v.version == 2 {
        if !us.is_multiple_of(1_000_000) || !(1..=255).contains(&(us / 1_000_000)) {
            return err(path, "must be whole seconds 1..=255 with version 2");
        }
    } else if !us.is_multiple_of(10_000) || !(1..=V3_ADVERT_MAX_CS).contains(&(us / 10_000)) {
        return err(
            path,
            "must be 0.01..=40.95 seconds in steps of 0.01 with version 3",
        );
    }
    Ok(())
}

fn preempt_delay(path: &str, v: &VrrpInstance) -> Result {
    let d = v.preempt_delay;
    if d.is_zero() {
        return Ok(());
    }
    if d > PREEMPT_DELAY_MAX {
        return err(path, format!("must be at most {PREEMPT_DELAY_MAX} seconds"));
    }
    if !d.as_micros().is_multiple_of(1000) {
        return err(path, "must be a whole number of milliseconds");
    }
    if v.state == VrrpState::Master {
        return err(
            path,
            "only with state BACKUP (keepalived ignores it with state MASTER)",
        );
    }
    if v.nopreempt {
        return err(
            path,
            "not with nopreempt (keepalived ignores it with nopreempt)",
        );
    }
    Ok(())
}

fn script(path: String, s: &Script) -> Result {
    match s.problem() {
        Some(why) => err(path, why),
        None => Ok(()),
    }
}

/// The addresses on their own; `max`: how many one advert carries.
fn virtual_addresses(i: usize, v: &VrrpInstance, max: usize) -> Result {
    let at = |f: &str| format!("vrrp[{i}].{f}");
    let list = &v.virtual_ipaddress;
    if list.is_empty() {
        return err(at("virtual_ipaddress"), "must not be empty");
    }
    if list.len() > max {
        return err(
            at("virtual_ipaddress"),
            format!("{} addresses; at most {max} fit in one advert", list.len()),
        );
    }
    let mut seen: HashMap<Ipv4Addr, usize> = HashMap::new();
    for (k, va) in list.iter().enumerate() {
        let path = at(&format!("virtual_ipaddress[{k}]"));
        let a = va.0;
        if a.len == 0 || a.len > 32 {
            return err(path, "prefix length must be 1..=32");
        }
        unicast(path.clone(), a.addr)?;
        let broadcast = Ipv4Addr::from(u32::from(a.addr) | !a.mask_bits());
        if a.len < 31 && (a.addr == a.network() || a.addr == broadcast) {
            return err(path, format!("{a} is a network or broadcast address"));
        }
        if let Some(j) = seen.insert(a.addr, k) {
            return err(
                path,
                format!("duplicate of vrrp[{i}].virtual_ipaddress[{j}] ({})", a.addr),
            );
        }
    }
    Ok(())
}

/// The rules that involve the instance's port.
fn on_port(cfg: &Config, i: usize, v: &VrrpInstance) -> Result {
    let at = |f: &str| format!("vrrp[{i}].{f}");
    let Some(pi) = cfg.ports.iter().position(|p| p.name == v.port) else {
        return err(at("port"), format!("unknown port {:?}", v.port));
    };
    let port = &cfg.ports[pi];
    if port.host_iface.is_none() {
        return err(
            at("port"),
            format!(
                "port {:?} has no host_iface (the adverts travel through the port's kernel twin)",
                v.port
            ),
        );
    }
    match v.unicast_src_ip {
        Some(ip) if !port.addresses.iter().any(|a| a.addr == ip) => {
            return err(
                at("unicast_src_ip"),
                format!(
                    "{ip} is not an address of port {:?} (ports[{pi}].addresses)",
                    v.port
                ),
            );
        }
        None if port.addresses.is_empty() => {
            return err(
                at("port"),
                format!(
                    "port {:?} has no address (its first address is the instance's primary address, the adverts' source)",
                    v.port
                ),
            );
        }
        _ => {}
    }
    let auth = if v.version == 2 { 8 } else { 0 };
    // IPv4 header, VRRP header, the addresses, the version 2 auth data.
    let fit = (usize::from(port.mtu).saturating_sub(20 + 8 + auth) / 4).min(ADDRESSES_MAX);
    if v.virtual_ipaddress.len() > fit {
        return err(
            at("virtual_ipaddress"),
            format!(
                "{} addresses; at most {fit} fit in one advert on port {:?} (MTU {})",
                v.virtual_ipaddress.len(),
                v.port,
                port.mtu
            ),
        );
    }
    for (k, va) in v.virtual_ipaddress.iter().enumerate() {
        let path = at(&format!("virtual_ipaddress[{k}]"));
        let a = va.addr();
        if port.addresses.first().map(|f| f.addr) == Some(a) {
            return err(
                path,
                format!(
                    "{a} is the first address of port {:?} (ports[{pi}].addresses[0]), the instance's primary address",
                    v.port
                ),
            );
        }
        if v.unicast_src_ip == Some(a) {
            return err(path, format!("{a} is unicast_src_ip, the adverts' source"));
        }
        if let Some((pj, k2)) = other_port_address(&cfg.ports, pi, a) {
            return err(
                path,
                format!(
                    "{a} is an address of port {:?} (ports[{pj}].addresses[{k2}])",
                    cfg.ports[pj].name
                ),
            );
        }
    }
    Ok(())
}

/// The first address `a` of a port other than `ports[pi]`.
fn other_port_address(ports: &[Port], pi: usize, a: Ipv4Addr) -> Option<(usize, usize)> {
    ports
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != pi)
        .find_map(|(j, p)| p.addresses.iter().position(|x| x.addr == a).map(|k| (j, k)))
}

/// `ha_suspend` needs a VRRP instance that owns the service's VIP.
fn ha_suspend(cfg: &Config) -> Result {
    for (i, s) in cfg.services.iter().enumerate() {
        if !s.ha_suspend {
            continue;
        }
        let path = format!("services[{i}].ha_suspend");
        let Some(vip) = s.vip else {
            return err(
                path,
                "needs a VIP owned by a vrrp instance (a firewall-mark service has none)",
            );
        };
        if cfg.vrrp_owner_of(vip).is_none() {
            return err(
                path,
                format!("no vrrp instance owns {vip} (list it in a vrrp[].virtual_ipaddress)"),
            );
        }
    }
    Ok(())
}
