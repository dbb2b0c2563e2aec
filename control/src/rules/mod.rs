//! Pure functions applying a control request to a configuration, with
//! ipvsadm's semantics. Each returns a new validated `Config` or the error
//! (the input is never modified).
//!
//! How ipvsadm's service model maps onto the YAML:
//! - a service is found by protocol, VIP and port; port 0 (all ports) is a
//!   service of its own; a port of a multi-port YAML service finds that
//!   service, and `-E`, `-a`, `-e`, `-d`, `-P`, `-Q` then act on the whole
//!   YAML service, while `-D` of one of its ports is refused (edit the file);
//! - `-A` creates a single-port service named `tcp-10.0.0.1-80`;
//! - `-a` appends the real to `reals` (file order is the order of addition).

#[cfg(test)]
mod fwmark_tests;
#[cfg(test)]
mod tests;

use std::net::Ipv4Addr;

use crate::config::{Config, Forward, Persistence, Real, Scheduler, Service, TunType};
use crate::proto::{
    ControlError, DestOpts, ErrorKind, PersistOpts, RequestBody, ServiceKey, ServiceOpts,
};

/// `-p` without a value.
pub const DEFAULT_PERSISTENCE_TIMEOUT: u32 = 360;
/// `-w` omitted.
pub const DEFAULT_WEIGHT: u32 = 1;
/// `-s` omitted.
pub const DEFAULT_SCHEDULER: Scheduler = Scheduler::Wlc;
/// No `-g`, `-i`, `-m` or `-j`: gatewaying, as ipvsadm.
pub const DEFAULT_FORWARD: Forward = Forward::Dr;

type Result<T> = std::result::Result<T, ControlError>;

/// Applies a configuration-changing request. `Ok(None)` for requests that
/// do not change the configuration (listings, `Zero`, `Reload`).
pub fn apply(cfg: &Config, req: &RequestBody) -> Result<Option<Config>> {
    let new = match req {
        RequestBody::AddService(o) => add_service(cfg, o)?,
        RequestBody::EditService(o) => edit_service(cfg, o)?,
        RequestBody::DelService(k) => del_service(cfg, k)?,
        RequestBody::Clear => clear(cfg)?,
        RequestBody::AddDest(o) => add_dest(cfg, o)?,
        RequestBody::EditDest(o) => edit_dest(cfg, o)?,
        RequestBody::DelDest(o) => del_dest(cfg, o)?,
        RequestBody::SetTimeouts { tcp, tcpfin, udp } => set_timeouts(cfg, *tcp, *tcpfin, *udp)?,
        RequestBody::AddLocalAddr { service, addr } => add_local_addr(cfg, service, *addr)?,
        RequestBody::DelLocalAddr { service, addr } => del_local_addr(cfg, service, *addr)?,
        RequestBody::List
        | RequestBody::ListConns { .. }
        | RequestBody::Zero(_)
        | RequestBody::GetTimeouts
        | RequestBody::ListLocalAddr(_)
        | RequestBody::Reload
        | RequestBody::GetConfig
        | RequestBody::ListHealth
        | RequestBody::ListVrrp
        | RequestBody::StartDaemon(_)
        | RequestBody::StopDaemon(_)
        | RequestBody::ListDaemons => return Ok(None),
    };
    Ok(Some(new))
}

/// The index of the YAML service that serves `key`.
pub fn find_service(cfg: &Config, key: &ServiceKey) -> Option<usize> {
    cfg.services.iter().position(|s| serves(s, key))
}

/// True when `s` is the IPVS service `key` (or has `key.port` among its
/// ports).
pub fn serves(s: &Service, key: &ServiceKey) -> bool {
    if key.fwmark != 0 || s.fwmark.is_some() {
        return s.fwmark == Some(key.fwmark);
    }
    if s.protocol != Some(key.protocol) || s.vip != Some(key.vip) {
        return false;
    }
    if key.port == 0 {
        s.all_ports()
    } else {
        !s.all_ports() && s.matches_port(key.port)
    }
}

/// The key of a YAML service (its first port for a multi-port one).
pub fn key_of(s: &Service) -> ServiceKey {
    match s.fwmark {
        Some(m) => ServiceKey::fwmark(m),
        None => ServiceKey::addr(
            s.protocol(),
            s.vip(),
            s.port_ranges().first().map_or(0, |r| r.first),
        ),
    }
}

/// The name `-A` gives a new service: `tcp-10.0.0.1-80` (`fwm-7` for a
/// firewall mark), with `-2`, `-3` ... appended if a YAML service already
/// has that name.
pub fn generated_name(cfg: &Config, key: &ServiceKey) -> String {
    let base = match key.fwmark {
        0 => format!("{}-{}-{}", key.protocol, key.vip, key.port),
        m => format!("fwm-{m}"),
    };
    if cfg.service(&base).is_none() {
        return base;
    }
    (2u32..)
        .map(|n| format!("{base}-{n}"))
        .find(|n| cfg.service(n).is_none())
        .unwrap_or(base)
}

fn validated(cfg: Config) -> Result<Config> {
    cfg.validate()?;
    Ok(cfg)
}

fn persistence(p: &Option<PersistOpts>) -> Option<Persistence> {
    p.map(|p| Persistence {
        timeout: p.timeout.unwrap_or(DEFAULT_PERSISTENCE_TIMEOUT),
        netmask: p.netmask.unwrap_or(Ipv4Addr::BROADCAST),
    })
}

/// `-A`
pub fn add_service(cfg: &Config, o: &ServiceOpts) -> Result<Config> {
    if find_service(cfg, &o.key).is_some() {
        return Err(ControlError::of(ErrorKind::ServiceExists));
    }
    let mut new = cfg.clone();
    let mark = (o.key.fwmark != 0).then_some(o.key.fwmark);
    new.services.push(Service {
        name: generated_name(cfg, &o.key),
        fwmark: mark,
        vip: mark.is_none().then_some(o.key.vip),
        port: mark.is_none().then_some(o.key.port),
        ports: None,
        protocol: mark.is_none().then_some(o.key.protocol),
        scheduler: o.scheduler.unwrap_or(DEFAULT_SCHEDULER),
        flags: o.flags.clone(),
        persistence: persistence(&o.persistence),
        ops: o.ops,
        ..Service::named("")
    });
    validated(new)
}

/// `-E`: scheduler, flags and persistence are replaced; omitted ones go
/// back to their defaults. Reals and local addresses are kept.
pub fn edit_service(cfg: &Config, o: &ServiceOpts) -> Result<Config> {
    let i = find_service(cfg, &o.key).ok_or_else(|| ControlError::of(ErrorKind::NoService))?;
    let mut new = cfg.clone();
    let s = &mut new.services[i];
    s.scheduler = o.scheduler.unwrap_or(DEFAULT_SCHEDULER);
    s.flags = o.flags.clone();
    s.persistence = persistence(&o.persistence);
    s.ops = o.ops;
    validated(new)
}

/// `-D`
pub fn del_service(cfg: &Config, key: &ServiceKey) -> Result<Config> {
    let i = find_service(cfg, key).ok_or_else(|| ControlError::of(ErrorKind::NoService))?;
    let s = &cfg.services[i];
    if s.fwmark.is_none() && s.single_port().is_none() {
        return Err(multi_port(cfg, i, key));
    }
    let mut new = cfg.clone();
    new.services.remove(i);
    validated(new)
}

fn multi_port(cfg: &Config, i: usize, key: &ServiceKey) -> ControlError {
    ControlError::new(
        ErrorKind::Unsupported,
        format!(
            "{key} is one port of the multi-port service {:?} (services[{i}]); edit the configuration file",
            cfg.services[i].name
        ),
    )
}

/// `-C`
pub fn clear(cfg: &Config) -> Result<Config> {
    let mut new = cfg.clone();
    new.services.clear();
    validated(new)
}

/// The IPVS destination port of `real` under virtual port `vport`. A
/// firewall-mark service's real has the port it was given, whatever its
/// forwarding (0: the packet's port), as ipvsadm leaves it for `-f`.
fn dest_port(s: &Service, real: &Real, vport: u16) -> u16 {
    if s.fwmark.is_some() {
        return real.port.unwrap_or(0);
    }
    match s.forward_of(real) {
        Forward::Dr | Forward::Tun => vport,
        Forward::Nat | Forward::FullNat => real.port.unwrap_or(vport),
    }
}

/// The destination port a request names: `-g` and `-i` force the virtual
/// port, a missing port copies it (0 for a firewall-mark service, where
/// ipvsadm keeps the given port whatever the forwarding).
fn requested_port(o: &DestOpts, forward: Option<Forward>) -> u16 {
    if o.service.fwmark != 0 {
        return o.port.unwrap_or(0);
    }
    match forward {
        Some(Forward::Dr | Forward::Tun) => o.service.port,
        _ => o.port.unwrap_or(o.service.port),
    }
}

fn find_dest(s: &Service, addr: Ipv4Addr, port: u16, vport: u16) -> Option<usize> {
    s.reals
        .iter()
        .position(|r| r.address == addr && dest_port(s, r, vport) == port)
}

/// The real a `-a`/`-e` request describes, with omitted options at their
/// defaults.
fn real_of(s: &Service, o: &DestOpts) -> Real {
    let forward = o.forward.unwrap_or(DEFAULT_FORWARD);
    let port = requested_port(o, Some(forward));
    let port = match forward {
        _ if o.service.fwmark != 0 => (port != 0).then_some(port),
        Forward::Dr | Forward::Tun => None,
        Forward::Nat | Forward::FullNat => (port != o.service.port).then_some(port),
    };
    let mut real = Real {
        port,
        weight: o.weight.unwrap_or(DEFAULT_WEIGHT),
        forward: (forward != s.forward).then_some(forward),
        upper_threshold: o.upper_threshold.unwrap_or(0),
        lower_threshold: o.lower_threshold.unwrap_or(0),
        ..Real::at(o.addr)
    };
    if forward == Forward::Tun {
        set_tunnel(s, &mut real, o);
    }
    real
}

/// Gives a tun real the tunnel a request names, writing only what it does
/// not inherit from its service (as `forward` is written).
fn set_tunnel(s: &Service, real: &mut Real, o: &DestOpts) {
    let kind = o.tun_type.unwrap_or_default();
    if s.tun_type.unwrap_or_default() != kind {
        real.tun_type = Some(kind);
    }
    let inherited = s.tunnel_of(real).unwrap_or_default();
    if kind == TunType::Gue && o.tun_port != Some(inherited.port) {
        real.tun_port = o.tun_port;
    }
    let flags = o.tun_flags.unwrap_or_default();
    if kind != TunType::Ipip && flags != inherited.flags {
        real.tun_flags = Some(flags);
    }
}

fn service_for_dest(cfg: &Config, key: &ServiceKey) -> Result<usize> {
    find_service(cfg, key).ok_or_else(|| ControlError::of(ErrorKind::ServiceNotDefined))
}

/// The kernel's check of `-a`/`-e` before it looks for the real: a lower
/// threshold above the upper one (omitted ones are 0) is ERANGE. `j` is
/// where the real is or would go, for the field name.
fn thresholds(o: &DestOpts, i: usize, j: usize) -> Result<()> {
    let upper = o.upper_threshold.unwrap_or(0);
    let lower = o.lower_threshold.unwrap_or(0);
    if lower > upper {
        return Err(ControlError::out_of_range(
            format!("services[{i}].reals[{j}].lower_threshold"),
            format!("{lower} is above upper_threshold ({upper})"),
        ));
    }
    Ok(())
}

/// `-a`: appends the real.
pub fn add_dest(cfg: &Config, o: &DestOpts) -> Result<Config> {
    let i = service_for_dest(cfg, &o.service)?;
    let s = &cfg.services[i];
    let forward = o.forward.unwrap_or(DEFAULT_FORWARD);
    let port = requested_port(o, Some(forward));
    let found = find_dest(s, o.addr, port, o.service.port);
    thresholds(o, i, found.unwrap_or(s.reals.len()))?;
    if found.is_some() {
        return Err(ControlError::of(ErrorKind::DestExists));
    }
    let real = real_of(s, o);
    let mut new = cfg.clone();
    new.services[i].reals.push(real);
    validated(new)
}

/// `-e`: the real keeps its place; omitted options go back to defaults.
pub fn edit_dest(cfg: &Config, o: &DestOpts) -> Result<Config> {
    let i = service_for_dest(cfg, &o.service)?;
    let s = &cfg.services[i];
    let forward = o.forward.unwrap_or(DEFAULT_FORWARD);
    let port = requested_port(o, Some(forward));
    let found = find_dest(s, o.addr, port, o.service.port);
    thresholds(o, i, found.unwrap_or(s.reals.len()))?;
    let j = found.ok_or_else(|| ControlError::of(ErrorKind::NoDest))?;
    let mut real = real_of(s, o);
    real.keep_health_of(&s.reals[j]);
    // A NAT real keeps the port it was found under.
    if real.port.is_none() && !matches!(forward, Forward::Dr | Forward::Tun) {
        real.port = s.reals[j].port;
    }
    let mut new = cfg.clone();
    new.services[i].reals[j] = real;
    validated(new)
}

/// `-d`
pub fn del_dest(cfg: &Config, o: &DestOpts) -> Result<Config> {
    let i = service_for_dest(cfg, &o.service)?;
    let s = &cfg.services[i];
    let port = requested_port(o, o.forward);
    let j = find_dest(s, o.addr, port, o.service.port)
        .ok_or_else(|| ControlError::of(ErrorKind::NoDest))?;
    let mut new = cfg.clone();
    new.services[i].reals.remove(j);
    validated(new)
}

/// `--set tcp tcpfin udp`; 0 leaves a value unchanged.
pub fn set_timeouts(cfg: &Config, tcp: u32, tcpfin: u32, udp: u32) -> Result<Config> {
    let mut new = cfg.clone();
    let t = &mut new.timeouts;
    for (slot, v) in [
        (&mut t.tcp, tcp),
        (&mut t.tcpfin, tcpfin),
        (&mut t.udp, udp),
    ] {
        if v != 0 {
            *slot = v;
        }
    }
    validated(new)
}

/// `-P -z addr`
pub fn add_local_addr(cfg: &Config, key: &ServiceKey, addr: Ipv4Addr) -> Result<Config> {
    let i = find_service(cfg, key).ok_or_else(|| ControlError::of(ErrorKind::NoService))?;
    if cfg.services[i].local_addresses.contains(&addr) {
        return Err(ControlError::of(ErrorKind::LocalAddrExists));
    }
    let mut new = cfg.clone();
    new.services[i].local_addresses.push(addr);
    validated(new)
}

/// `-Q -z addr`
pub fn del_local_addr(cfg: &Config, key: &ServiceKey, addr: Ipv4Addr) -> Result<Config> {
    let i = find_service(cfg, key).ok_or_else(|| ControlError::of(ErrorKind::NoService))?;
    let k = cfg.services[i]
        .local_addresses
        .iter()
        .position(|a| *a == addr)
        .ok_or_else(|| ControlError::of(ErrorKind::NoLocalAddr))?;
    let mut new = cfg.clone();
    new.services[i].local_addresses.remove(k);
    validated(new)
}
