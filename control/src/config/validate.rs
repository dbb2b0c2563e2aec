//! Semantic checks of a parsed configuration. The first problem found is
//! returned, with the path of the offending field.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::error::ConfigError;
use super::kinds::{Forward, Protocol, SchedFlag, ServicePorts};
use super::model::{
    Config, Neighbor, Persistence, Port, Real, Route, Service, Timeouts, Workers, BURST_MAX,
    MTU_MAX, MTU_MIN, WEIGHT_MAX,
};
use super::net::{mask_to_prefix_len, MacAddr};
use super::{capacity, device, owned, tunnel};

type Result<T = ()> = std::result::Result<T, ConfigError>;

fn err<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T> {
    Err(ConfigError::new(path, message))
}

/// Checks the whole configuration.
pub(crate) fn validate(cfg: &Config) -> Result {
    workers(&cfg.workers)?;
    let ports = ports(&cfg.ports)?;
    device::distinct(&cfg.ports)?;
    super::host::check(cfg)?;
    for (i, r) in cfg.routes.iter().enumerate() {
        route(i, r, &cfg.ports, &ports)?;
    }
    duplicates(
        cfg.routes.iter().map(|r| r.prefix),
        |i| format!("routes[{i}].prefix"),
        |i| format!("routes[{i}]"),
    )?;
    for (i, n) in cfg.neighbors.iter().enumerate() {
        neighbor(i, n, &ports)?;
    }
    duplicates(
        cfg.neighbors.iter().map(|n| (n.port.as_str(), n.ip)),
        |i| format!("neighbors[{i}].ip"),
        |i| format!("neighbors[{i}]"),
    )?;
    for (i, s) in cfg.services.iter().enumerate() {
        service(i, s)?;
    }
    duplicates(
        cfg.services.iter().map(|s| s.name.as_str()),
        |i| format!("services[{i}].name"),
        |i| format!("services[{i}]"),
    )?;
    duplicate_services(&cfg.services)?;
    for (i, m) in cfg.marks.iter().enumerate() {
        super::marks::rule(i, m)?;
    }
    super::vrrp::check(cfg)?;
    super::sync::check(cfg)?;
    owned::reals_not_owned(cfg)?;
    super::health::check(cfg)?;
    timeouts(&cfg.timeouts)?;
    capacity::check(cfg)?;
    if cfg.control.socket.as_os_str().is_empty() {
        return err("control.socket", "must not be empty");
    }
    if cfg.control.group.as_deref() == Some("") {
        return err(
            "control.group",
            "must not be empty (omit it to keep the daemon's group)",
        );
    }
    Ok(())
}

/// Replay needs every port's MAC (there is no device to read it from).
pub(crate) fn validate_replay(cfg: &Config) -> Result {
    validate(cfg)?;
    for (i, p) in cfg.ports.iter().enumerate() {
        if p.mac.is_none() {
            return err(format!("ports[{i}].mac"), "required in replay mode");
        }
    }
    Ok(())
}

/// Reports the first value equal to an earlier one as
/// `<path(j)>: duplicate of <what(i)> (<value>)`.
fn duplicates<K, I>(
    items: I,
    path: impl Fn(usize) -> String,
    what: impl Fn(usize) -> String,
) -> Result
where
    I: IntoIterator<Item = K>,
    K: Eq + std::hash::Hash + DupDisplay,
{
    let mut seen: HashMap<K, usize> = HashMap::new();
    for (j, key) in items.into_iter().enumerate() {
        if let Some(&i) = seen.get(&key) {
            return err(
                path(j),
                format!("duplicate of {} ({})", what(i), key.show()),
            );
        }
        seen.insert(key, j);
    }
    Ok(())
}

/// How a duplicated value is shown in the message.
trait DupDisplay {
    fn show(&self) -> String;
}
impl DupDisplay for &str {
    fn show(&self) -> String {
        format!("{self:?}")
    }
}
impl DupDisplay for u32 {
    fn show(&self) -> String {
        self.to_string()
    }
}
impl DupDisplay for Ipv4Addr {
    fn show(&self) -> String {
        self.to_string()
    }
}
impl DupDisplay for super::net::Ipv4Net {
    fn show(&self) -> String {
        self.to_string()
    }
}
impl DupDisplay for (&str, Ipv4Addr) {
    fn show(&self) -> String {
        format!("{} on {}", self.1, self.0)
    }
}
impl DupDisplay for SchedFlag {
    fn show(&self) -> String {
        self.to_string()
    }
}
impl DupDisplay for u16 {
    fn show(&self) -> String {
        self.to_string()
    }
}

fn workers(w: &Workers) -> Result {
    if w.cores.is_empty() {
        return err("workers.cores", "must not be empty");
    }
    duplicates(
        w.cores.iter().copied(),
        |i| format!("workers.cores[{i}]"),
        |i| format!("workers.cores[{i}]"),
    )?;
    if w.mbufs == 0 {
        return err("workers.mbufs", "must be > 0");
    }
    if !(1..=BURST_MAX).contains(&w.burst) {
        return err("workers.burst", format!("must be 1..={BURST_MAX}"));
    }
    for (i, a) in w.eal_args.iter().enumerate() {
        if a.is_empty() {
            return err(format!("workers.eal_args[{i}]"), "must not be empty");
        }
    }
    Ok(())
}

/// A unicast host address: not 0.0.0.0, broadcast, multicast or loopback.
pub(crate) fn unicast(path: impl Into<String>, ip: Ipv4Addr) -> Result {
    if ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() || ip.is_loopback() {
        return err(path, format!("{ip} is not a unicast address"));
    }
    Ok(())
}

fn unicast_mac(path: String, mac: MacAddr) -> Result {
    if mac.is_multicast() {
        return err(path, format!("must not be a multicast address ({mac})"));
    }
    if mac.is_zero() {
        return err(path, format!("must not be {mac}"));
    }
    Ok(())
}

/// Checks the ports; returns name -> index.
fn ports(ports: &[Port]) -> Result<HashMap<&str, usize>> {
    let mut by_name = HashMap::new();
    let mut addrs: HashMap<Ipv4Addr, (usize, usize)> = HashMap::new();
    for (i, p) in ports.iter().enumerate() {
        if p.name.is_empty() {
            return err(format!("ports[{i}].name"), "must not be empty");
        }
        if let Some(j) = by_name.insert(p.name.as_str(), i) {
            return err(
                format!("ports[{i}].name"),
                format!("duplicate of ports[{j}] ({:?})", p.name),
            );
        }
        if p.device.is_empty() {
            return err(format!("ports[{i}].device"), "must not be empty");
        }
        if let Some(mac) = p.mac {
            unicast_mac(format!("ports[{i}].mac"), mac)?;
        }
        if !(MTU_MIN..=MTU_MAX).contains(&p.mtu) {
            return err(
                format!("ports[{i}].mtu"),
                format!("must be {MTU_MIN}..={MTU_MAX}"),
            );
        }
        for (k, a) in p.addresses.iter().enumerate() {
            let path = format!("ports[{i}].addresses[{k}]");
            if a.len == 0 || a.len > 32 {
                return err(path, "prefix length must be 1..=32");
            }
            unicast(path.clone(), a.addr)?;
            if a.len < 31 && (a.addr == a.network() || a.addr == broadcast(a)) {
                return err(path, format!("{a} is a network or broadcast address"));
            }
            if let Some((pi, ak)) = addrs.insert(a.addr, (i, k)) {
                return err(
                    path,
                    format!("duplicate of ports[{pi}].addresses[{ak}] ({})", a.addr),
                );
            }
        }
    }
    Ok(by_name)
}

fn broadcast(net: &super::net::Ipv4Net) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(net.addr) | !net.mask_bits())
}

fn known_port(path: String, name: &str, ports: &HashMap<&str, usize>) -> Result<usize> {
    match ports.get(name) {
        Some(&i) => Ok(i),
        None => err(path, format!("unknown port {name:?}")),
    }
}

fn route(i: usize, r: &Route, all: &[Port], ports: &HashMap<&str, usize>) -> Result {
    if r.prefix.len > 32 {
        return err(
            format!("routes[{i}].prefix"),
            "prefix length must be 0..=32",
        );
    }
    if !r.prefix.is_network() {
        return err(
            format!("routes[{i}].prefix"),
            format!("host bits set (did you mean {}?)", r.prefix.trunc()),
        );
    }
    let p = known_port(format!("routes[{i}].port"), &r.port, ports)?;
    if let Some(via) = r.via {
        unicast(format!("routes[{i}].via"), via)?;
        if !all[p].addresses.iter().any(|a| a.contains(via)) {
            return err(
                format!("routes[{i}].via"),
                format!("{via} is not on a network of port {:?}", r.port),
            );
        }
    }
    Ok(())
}

fn neighbor(i: usize, n: &Neighbor, ports: &HashMap<&str, usize>) -> Result {
    known_port(format!("neighbors[{i}].port"), &n.port, ports)?;
    unicast(format!("neighbors[{i}].ip"), n.ip)?;
    unicast_mac(format!("neighbors[{i}].mac"), n.mac)
}

fn timeouts(t: &Timeouts) -> Result {
    for (name, v) in [("tcp", t.tcp), ("tcpfin", t.tcpfin), ("udp", t.udp)] {
        if v == 0 {
            return err(format!("timeouts.{name}"), "must be > 0");
        }
    }
    Ok(())
}

fn service(i: usize, s: &Service) -> Result {
    let at = |field: &str| format!("services[{i}].{field}");
    if s.name.is_empty() {
        return err(at("name"), "must not be empty");
    }
    match s.fwmark {
        Some(_) => super::marks::fwmark_service(i, s)?,
        None => {
            let Some(vip) = s.vip else {
                return err(at("vip"), "missing (or give fwmark)");
            };
            unicast(at("vip"), vip)?;
            if s.protocol.is_none() {
                return err(at("protocol"), "missing (tcp or udp)");
            }
            service_ports(i, s)?;
        }
    }
    if s.all_ports() && s.persistence.is_none() {
        return err(at("port"), "port 0 (all ports) requires persistence");
    }
    for (k, f) in s.flags.iter().enumerate() {
        sched_flag(s, *f).or_else(|m| err(format!("services[{i}].flags[{k}]"), m))?;
    }
    duplicates(
        s.flags.iter().copied(),
        |k| format!("services[{i}].flags[{k}]"),
        |k| format!("services[{i}].flags[{k}]"),
    )?;
    if s.ops && s.protocol == Some(Protocol::Tcp) {
        return err(
            at("ops"),
            "One-Packet Scheduling is only for UDP virtual services",
        );
    }
    if let Some(p) = &s.persistence {
        persistence(i, p)?;
    }
    if s.uses_fullnat() && s.local_addresses.is_empty() {
        return err(
            at("local_addresses"),
            "must not be empty with fullnat forwarding",
        );
    }
    for (k, a) in s.local_addresses.iter().enumerate() {
        unicast(format!("services[{i}].local_addresses[{k}]"), *a)?;
    }
    duplicates(
        s.local_addresses.iter().copied(),
        |k| format!("services[{i}].local_addresses[{k}]"),
        |k| format!("services[{i}].local_addresses[{k}]"),
    )?;
    tunnel::service(i, s)?;
    let mut seen: HashMap<(Ipv4Addr, u16), usize> = HashMap::new();
    for (j, r) in s.reals.iter().enumerate() {
        real(i, j, s, r)?;
        tunnel::real(i, j, s, r)?;
        let key = (r.address, s.real_port(r));
        if let Some(k) = seen.insert(key, j) {
            return err(
                format!("services[{i}].reals[{j}]"),
                format!(
                    "duplicate of services[{i}].reals[{k}] ({}:{})",
                    key.0, key.1
                ),
            );
        }
    }
    // The workers' limits, from the one place they live, so no worker can
    // refuse what was accepted here.
    if let Err(e) = sched::check(s.scheduler.as_str(), s.reals.len()) {
        return err(at("reals"), e.to_string());
    }
    Ok(())
}

fn service_ports(i: usize, s: &Service) -> Result {
    let at = |field: &str| format!("services[{i}].{field}");
    match (&s.port, &s.ports) {
        (None, None) => err(at("port"), "missing"),
        (Some(_), Some(_)) => err(at("ports"), "conflicts with port (give one of them)"),
        (Some(_), None) => Ok(()),
        (None, Some(ServicePorts::Range(r))) => {
            if r.first == 0 {
                return err(
                    at("ports"),
                    "port 0 (all ports) must be given alone as `port: 0`",
                );
            }
            if r.first > r.last {
                return err(
                    at("ports"),
                    format!("invalid port range {r} (first port above last)"),
                );
            }
            Ok(())
        }
        (None, Some(ServicePorts::List(list))) => {
            if list.is_empty() {
                return err(at("ports"), "must not be empty");
            }
            for (k, p) in list.iter().enumerate() {
                if *p == 0 {
                    return err(
                        format!("services[{i}].ports[{k}]"),
                        "port 0 (all ports) must be given alone as `port: 0`",
                    );
                }
            }
            duplicates(
                list.iter().copied(),
                |k| format!("services[{i}].ports[{k}]"),
                |k| format!("services[{i}].ports[{k}]"),
            )
        }
    }
}

/// A flag is written with the one name its bit has under the service's
/// scheduler (ipvsadm's): sh-fallback, not flag-1, with sh.
fn sched_flag(s: &Service, f: SchedFlag) -> std::result::Result<(), String> {
    if let Some(owner) = f.scheduler().filter(|o| *o != s.scheduler) {
        return Err(format!(
            "{f} requires scheduler {owner} (this service uses {})",
            s.scheduler
        ));
    }
    match SchedFlag::canonical(s.scheduler, f.bit()) {
        Some(c) if c != f => Err(format!(
            "with scheduler {}, {f} is written {c}",
            s.scheduler
        )),
        _ => Ok(()),
    }
}

fn persistence(i: usize, p: &Persistence) -> Result {
    if p.timeout == 0 {
        return err(format!("services[{i}].persistence.timeout"), "must be > 0");
    }
    if mask_to_prefix_len(p.netmask).is_none() {
        return err(
            format!("services[{i}].persistence.netmask"),
            format!("must be a contiguous netmask ({})", p.netmask),
        );
    }
    Ok(())
}

fn real(i: usize, j: usize, s: &Service, r: &Real) -> Result {
    let at = |field: &str| format!("services[{i}].reals[{j}].{field}");
    unicast(at("address"), r.address)?;
    if r.weight > WEIGHT_MAX {
        return err(at("weight"), format!("must be 0..={WEIGHT_MAX}"));
    }
    if r.lower_threshold > r.upper_threshold {
        return err(at("lower_threshold"), lower_threshold_message(r));
    }
    real_port_rule(&at, s, s.forward_of(r), r.port)
}

/// The port a real (or the sorry server) may have under its service and
/// forwarding method; `at` names the fields.
pub(crate) fn real_port_rule(
    at: &dyn Fn(&str) -> String,
    s: &Service,
    forward: Forward,
    port: Option<u16>,
) -> Result {
    if s.fwmark.is_some() {
        // Any port, 0 or none keeping the packet's: IPVS keeps the port
        // of a mark service's real whatever its forwarding (dr and tun
        // forward the packet unchanged; the port is only listed).
        return Ok(());
    }
    match (forward, port) {
        (Forward::Dr | Forward::Tun, Some(rp)) => match s.single_port() {
            Some(vp) if vp != 0 && rp != vp => err(
                at("port"),
                format!(
                    "dr/tun forwarding requires the real port to equal the virtual port ({vp})"
                ),
            ),
            None | Some(0) if rp != 0 => err(
                at("port"),
                "dr/tun forwarding on a multi-port or port-0 service requires the real port to be omitted",
            ),
            _ => Ok(()),
        },
        (Forward::Nat | Forward::FullNat, Some(0)) => match s.single_port() {
            Some(vp) if vp != 0 => {
                err(at("port"), "must not be 0 (omit it to use the virtual port)")
            }
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// IPVS refuses a lower threshold above the upper one, 0 (no upper
/// threshold) included.
fn lower_threshold_message(r: &Real) -> String {
    if r.upper_threshold == 0 {
        "must be <= upper_threshold (0): a lower threshold needs an upper threshold".to_string()
    } else {
        format!("must be <= upper_threshold ({})", r.upper_threshold)
    }
}

/// Two services with the same protocol and VIP whose virtual ports
/// overlap, or with the same firewall mark.
fn duplicate_services(services: &[Service]) -> Result {
    for (j, b) in services.iter().enumerate() {
        for (i, a) in services[..j].iter().enumerate() {
            if let (Some(ma), Some(mb)) = (a.fwmark, b.fwmark) {
                if ma == mb {
                    return err(
                        format!("services[{j}].fwmark"),
                        format!("duplicate of services[{i}] (fwmark {ma})"),
                    );
                }
                continue;
            }
            if a.fwmark.is_some() || b.fwmark.is_some() {
                continue;
            }
            if a.protocol != b.protocol || a.vip != b.vip {
                continue;
            }
            let overlap = a
                .port_ranges()
                .iter()
                .flat_map(|ra| {
                    b.port_ranges()
                        .into_iter()
                        .filter_map(move |rb| ra.overlap(&rb))
                })
                .min();
            if let Some(port) = overlap {
                return err(
                    format!("services[{j}]"),
                    format!(
                        "duplicate of services[{i}] ({} {}:{port})",
                        a.protocol(),
                        a.vip()
                    ),
                );
            }
        }
    }
    Ok(())
}
