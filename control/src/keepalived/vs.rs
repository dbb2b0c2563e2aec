//! `virtual_server IP PORT | fwmark N | group NAME { ... }` into ferrovs
//! services: the block is read once into a template, then one service is
//! made per address (or mark) it covers, with keepalived's end-of-block
//! corrections applied the way keepalived applies them.

use std::net::Ipv4Addr;

use super::map::{GroupEntry, Mapper, DPVS};
use super::real::{self, RealDraft};
use super::tree::Node;
use super::values::{port, positive_timer, timer, u32_in, unsigned};
use crate::config::health::{Script, Seconds, SorryServer, CONNECT_TIMEOUT_MAX};
use crate::config::{
    mask_to_prefix_len, Forward, Persistence, Protocol, SchedFlag, Scheduler, Service, TunFlags,
    TunType, WEIGHT_MAX,
};

/// keepalived's `IPVS_SVC_PERSISTENT_TIMEOUT`.
const DEFAULT_PERSISTENCE: u32 = 360;

/// What the block says, before it is applied to each address.
struct Draft {
    service: Service,
    protocol_given: Option<Protocol>,
    protocol_node: Option<Node>,
    ops_node: Option<Node>,
    /// `ha_suspend`, kept once a vrrp instance is known to own the VIP.
    ha_node: Option<Node>,
    /// `weight` of the virtual server: the weight of reals without one.
    weight: u32,
    reals: Vec<RealDraft>,
}

/// Where one service of the block listens.
enum Target {
    Addr(Ipv4Addr, u16),
    Fwmark(u32),
}

pub fn map(m: &mut Mapper, n: &Node) {
    let Some((targets, group)) = targets(m, n) else {
        return;
    };
    let Some(draft) = read_block(m, n) else {
        return;
    };
    if draft.reals.is_empty() {
        m.unmapped(
            n,
            "no usable real_server; keepalived ignores such a virtual server",
        );
        return;
    }
    let many = targets.len() > 1;
    for t in targets {
        let mut s = finish(m, n, &draft, &t);
        s.name = match (&group, many) {
            (Some(g), false) => g.clone(),
            (Some(g), true) => format!("{g}-{}", s.name),
            (None, _) => s.name,
        };
        if let Some(h) = &draft.ha_node {
            m.ha_suspend.push((m.services.len(), h.clone()));
        }
        m.services.push(s);
        m.origins.push((n.file.to_string(), n.line));
    }
}

/// The addresses or marks the block covers, and its group name.
fn targets(m: &mut Mapper, n: &Node) -> Option<(Vec<Target>, Option<String>)> {
    match (n.arg(0), n.arg(1)) {
        (Some("group"), Some(name)) => {
            let Some(entries) = m.vs_groups.get(name) else {
                m.invalid(n, &format!("no virtual_server_group {name:?}"));
                return None;
            };
            let list = entries
                .iter()
                .map(|e| match e {
                    GroupEntry::Addr(a, p) => Target::Addr(*a, *p),
                    GroupEntry::Fwmark(f) => Target::Fwmark(*f),
                })
                .collect::<Vec<_>>();
            if list.is_empty() {
                return None;
            }
            Some((list, Some(name.to_string())))
        }
        (Some("fwmark"), Some(mark)) => match unsigned(mark, 1, u64::from(u32::MAX)) {
            Ok(v) => Some((vec![Target::Fwmark(v as u32)], None)),
            Err(e) => {
                m.invalid(n, &e);
                None
            }
        },
        (Some(addr), p) => {
            let vip = match super::values::ipv4(addr) {
                Ok(a) => a,
                Err(e) => {
                    m.unmapped(n, &e);
                    return None;
                }
            };
            let port = match p.map(|p| unsigned(p, 0, 65535)) {
                None => 0,
                Some(Ok(p)) => p as u16,
                Some(Err(e)) => {
                    m.invalid(n, &e);
                    return None;
                }
            };
            Some((vec![Target::Addr(vip, port)], None))
        }
        (None, _) => {
            m.unmapped(n, "missing address");
            None
        }
    }
}

fn empty_service() -> Service {
    Service::named(String::new())
}

/// Reads the keywords of the block in order, as keepalived does.
fn read_block(m: &mut Mapper, n: &Node) -> Option<Draft> {
    let mut d = Draft {
        service: empty_service(),
        protocol_given: None,
        protocol_node: None,
        ops_node: None,
        ha_node: None,
        weight: 1,
        reals: Vec::new(),
    };
    let s = &mut d.service;
    for c in n.children() {
        match c.keyword() {
            "lb_algo" | "lvs_sched" => {
                if let Some(v) = m.value(c, |a| a.parse::<Scheduler>()) {
                    s.scheduler = v;
                }
            }
            "lb_kind" | "lvs_method" => {
                if let Some(f) = method(m, c) {
                    s.forward = f.forward;
                    s.tun_type = f.tun_type;
                    s.tun_port = f.tun_port;
                    s.tun_flags = f.tun_flags;
                }
            }
            "protocol" => match c.arg(0).map(str::to_ascii_uppercase).as_deref() {
                Some("TCP") => {
                    d.protocol_given = Some(Protocol::Tcp);
                    d.protocol_node = Some(c.clone());
                }
                Some("UDP") => {
                    d.protocol_given = Some(Protocol::Udp);
                    d.protocol_node = Some(c.clone());
                }
                Some("SCTP") => {
                    m.unmapped(n, "SCTP: ferrovs balances TCP and UDP only");
                    return None;
                }
                _ => m.invalid(c, "unknown protocol"),
            },
            "persistence_timeout" => match c.arg(0) {
                None => persistence(s).timeout = DEFAULT_PERSISTENCE,
                // 0 is refused by keepalived, which keeps the service
                // without persistence: the same service as not writing it.
                Some("0") => {}
                Some(v) => match u32_in(v, 1, 86400 * 31) {
                    Ok(t) => persistence(s).timeout = t,
                    Err(e) => m.invalid(c, &e),
                },
            },
            "persistence_granularity" => {
                if let Some(mask) = m.value(c, super::values::ipv4) {
                    if mask_to_prefix_len(mask).is_some() {
                        // keepalived turns persistence on with it.
                        persistence(s).netmask = mask;
                    } else {
                        m.unmapped(
                            c,
                            &format!("{mask} is not a contiguous netmask, which ferrovs requires"),
                        );
                    }
                }
            }
            "ops" => {
                s.ops = true;
                d.ops_node = Some(c.clone());
            }
            "sh-port" | "sh-fallback" | "mh-port" | "mh-fallback" | "flag-1" | "flag-2"
            | "flag-3" => sched_flag(m, c, s),
            "delay_loop" => s.delay_loop = m.value(c, positive_timer).or(s.delay_loop),
            "connect_timeout" => {
                s.connect_timeout = m.value(c, connect_timeout).or(s.connect_timeout)
            }
            "delay_before_retry" => {
                s.delay_before_retry = m.value(c, timer).or(s.delay_before_retry)
            }
            "warmup" => s.warmup = m.value(c, timer).or(s.warmup),
            // keepalived's virtual-server retry is 1.. (its checkers' 0..).
            "retry" => s.retry = m.value(c, |a| u32_in(a, 1, u32::MAX)).or(s.retry),
            // Flags without a value at this level in keepalived.
            "alpha" => s.alpha = Some(true),
            "omega" => s.omega = Some(true),
            "inhibit_on_failure" => s.inhibit_on_failure = Some(true),
            "virtualhost" => s.virtualhost = m.value(c, |a| Ok(a.to_string())),
            "quorum" => s.quorum = m.value(c, |a| u32_in(a, 1, u32::MAX)).or(s.quorum),
            "hysteresis" => s.hysteresis = m.value(c, |a| u32_in(a, 0, u32::MAX)).or(s.hysteresis),
            "quorum_up" => s.quorum_up = script(m, c).or(s.quorum_up.take()),
            "quorum_down" => s.quorum_down = script(m, c).or(s.quorum_down.take()),
            "weight" => {
                if let Some(w) = m.value(c, |a| u32_in(a, 1, WEIGHT_MAX)) {
                    d.weight = w;
                }
            }
            "sorry_server" => sorry_server(m, c, s),
            "sorry_server_inhibit" => match &s.sorry_server {
                Some(_) => s.sorry_server_inhibit = Some(true),
                None => m.invalid(c, "sorry_server_inhibit before or without sorry_server"),
            },
            "sorry_server_lvs_method" => match s.sorry_server.is_some() {
                true => {
                    if let Some(f) = method(m, c) {
                        if f.tun_type.is_some() || f.tun_port.is_some() || f.tun_flags.is_some() {
                            m.unmapped(c, "a tunnel type for the sorry server is not supported");
                        }
                        if let Some(sorry) = s.sorry_server.as_mut() {
                            sorry.forward = Some(f.forward);
                        }
                    }
                }
                false => m.invalid(c, "sorry_server_lvs_method without sorry_server"),
            },
            "laddr_group_name" => match c.arg(0).map(|g| m.laddr_groups.get(g).cloned()) {
                Some(Some(addrs)) => s.local_addresses = addrs,
                Some(None) => m.invalid(c, "no such local_address_group"),
                None => m.unmapped(c, "missing value"),
            },
            "ip_family" => match c.arg(0) {
                Some("inet") => {}
                Some("inet6") => {
                    m.unmapped(n, "IPv6: ferrovs is IPv4-only");
                    return None;
                }
                _ => m.invalid(c, "unknown address family"),
            },
            "real_server" => {
                if let Some(r) = real::map(m, c) {
                    d.reals.push(r);
                }
            }
            "ha_suspend" => {
                s.ha_suspend = true;
                d.ha_node = Some(c.clone());
            }
            "smtp_alert" => m.unmapped(c, "ferrovs sends no mail; transitions are logged"),
            "snmp_name" => m.unmapped(c, "ferrovs has no SNMP agent; see /metrics"),
            "persistence_engine" => m.unmapped(c, "ferrovs has no persistence engines"),
            "hashed" => m.invalid(c, "not a service flag"),
            "establish_timeout"
            | "proxy_protocol"
            | "bps"
            | "limit_proportion"
            | "src-range"
            | "dst-range"
            | "oif"
            | "iif"
            | "hash_target"
            | "daddr_group_name"
            | "waddr_group_name"
            | "syn_proxy"
            | "expire_quiescent_conn"
            | "quic"
            | "vip_bind_dev" => m.unmapped(c, DPVS),
            _ => m.unmapped(
                c,
                "not a keepalived virtual_server keyword; keepalived ignores it",
            ),
        }
    }
    Some(d)
}

fn persistence(s: &mut Service) -> &mut Persistence {
    s.persistence.get_or_insert(Persistence {
        timeout: DEFAULT_PERSISTENCE,
        netmask: Ipv4Addr::BROADCAST,
    })
}

pub fn connect_timeout(a: &str) -> Result<Seconds, String> {
    let t = positive_timer(a)?;
    if t > CONNECT_TIMEOUT_MAX {
        return Err(format!(
            "invalid value {a:?} (at most {CONNECT_TIMEOUT_MAX} s)"
        ));
    }
    Ok(t)
}

/// A flag is kept only under the scheduler it belongs to at that point
/// of the block (keepalived's `lbflags_handler`).
fn sched_flag(m: &mut Mapper, c: &Node, s: &mut Service) {
    let Ok(flag) = c.keyword().parse::<SchedFlag>() else {
        return;
    };
    match flag.scheduler() {
        Some(owner) if owner != s.scheduler => m.invalid(
            c,
            &format!(
                "{flag} applies to scheduler {owner} only (lb_algo is {})",
                s.scheduler
            ),
        ),
        _ => {
            // Written with the one name the bit has under this scheduler.
            let flag = SchedFlag::canonical(s.scheduler, flag.bit()).unwrap_or(flag);
            if !s.flags.contains(&flag) {
                s.flags.push(flag);
            }
        }
    }
}

/// A forwarding method with keepalived's tunnel options.
pub struct Method {
    pub forward: Forward,
    pub tun_type: Option<TunType>,
    pub tun_port: Option<u16>,
    pub tun_flags: Option<TunFlags>,
}

/// `NAT | DR | TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum] | FNAT`.
pub fn method(m: &mut Mapper, c: &Node) -> Option<Method> {
    let forward = match c.arg(0) {
        Some("NAT") => Forward::Nat,
        Some("DR") => Forward::Dr,
        Some("TUN") => Forward::Tun,
        Some("FNAT") => Forward::FullNat,
        Some("SNAT") => {
            m.unmapped(c, "DPVS's SNAT forwarding has no ferrovs equivalent");
            return None;
        }
        Some(other) => {
            m.invalid(c, &format!("unknown forwarding method {other:?}"));
            return None;
        }
        None => {
            m.unmapped(c, "missing value");
            return None;
        }
    };
    let mut f = Method {
        forward,
        tun_type: None,
        tun_port: None,
        tun_flags: None,
    };
    let words = &c.words[2..];
    let mut i = 0;
    while i < words.len() {
        let next = words.get(i + 1).map(String::as_str);
        match (words[i].as_str(), next) {
            ("type", Some(t)) if forward == Forward::Tun => match t.parse::<TunType>() {
                Ok(t) => {
                    f.tun_type = Some(t);
                    i += 1;
                }
                Err(e) => {
                    m.invalid(c, &e);
                    return None;
                }
            },
            ("port", Some(p)) if forward == Forward::Tun => match port(p) {
                Ok(p) => {
                    f.tun_port = Some(p);
                    i += 1;
                }
                Err(e) => {
                    m.invalid(c, &e);
                    return None;
                }
            },
            (w @ ("nocsum" | "csum" | "remcsum"), _) if forward == Forward::Tun => {
                f.tun_flags = w.parse().ok();
            }
            (other, _) => {
                m.invalid(c, &format!("unknown tunnel option {other:?}"));
                return None;
            }
        }
        i += 1;
    }
    Some(f)
}

/// A script keyword: the command line (keepalived re-reads the statement
/// with its own quoting), then optionally a user and group.
pub fn script(m: &mut Mapper, c: &Node) -> Option<Script> {
    let words = match health::split_command(&c.raw) {
        Ok(w) => w,
        Err(e) => {
            m.invalid(c, &format!("the command line {e}"));
            return None;
        }
    };
    let Some(command) = words.get(1) else {
        m.unmapped(c, "missing value");
        return None;
    };
    if words.len() > 2 {
        m.diag(
            c,
            format!(
                "script user {:?} not mapped (scripts run as ferrovs's own user)",
                words[2..].join(" ")
            ),
        );
    }
    Some(Script(command.clone()))
}

/// `sorry_server IP [PORT]`.
fn sorry_server(m: &mut Mapper, c: &Node, s: &mut Service) {
    let Some(addr) = m.value(c, super::values::ipv4) else {
        return;
    };
    let port = match c.arg(1).map(|p| unsigned(p, 0, 65535)) {
        None | Some(Ok(0)) => None,
        Some(Ok(p)) => Some(p as u16),
        Some(Err(e)) => {
            m.invalid(c, &e);
            return;
        }
    };
    s.sorry_server = Some(SorryServer {
        address: addr,
        port,
        forward: None,
    });
}

/// The service for one target, with keepalived's end-of-block rules.
fn finish(m: &mut Mapper, n: &Node, d: &Draft, t: &Target) -> Service {
    let mut s = d.service.clone();
    match *t {
        Target::Addr(vip, vport) => {
            s.vip = Some(vip);
            s.port = Some(vport);
            s.protocol = Some(d.protocol_given.unwrap_or_else(|| {
                m.diag(n, "protocol missing: mapped as udp (keepalived's default)");
                Protocol::Udp
            }));
            s.name = format!("{}-{vip}-{vport}", s.protocol());
            if s.ops && s.protocol == Some(Protocol::Tcp) {
                if let Some(o) = &d.ops_node {
                    m.invalid(o, "one-packet scheduling needs UDP");
                }
                s.ops = false;
            }
            if vport == 0 && s.persistence.is_none() {
                m.diag(
                    n,
                    "port 0 without persistence_timeout: mapped with persistence 360 s (keepalived's correction)",
                );
                persistence(&mut s);
            }
        }
        Target::Fwmark(mark) => {
            s.fwmark = Some(mark);
            s.name = format!("fwm-{mark}");
            if let Some(p) = &d.protocol_node {
                m.unmapped(
                    p,
                    "a firewall-mark service takes every protocol; keepalived ignores it",
                );
            }
        }
    }
    reals(m, d, &mut s);
    quorum(m, n, &mut s);
    sorry_port(m, n, &mut s);
    hoist_checks(&mut s);
    s
}

/// The reals with keepalived's port rules and duplicate removal.
fn reals(m: &mut Mapper, d: &Draft, s: &mut Service) {
    for r in &d.reals {
        let mut real = r.real.clone();
        if !r.weight_given {
            real.weight = d.weight;
        }
        let forward = real.forward.unwrap_or(s.forward);
        if real.forward == Some(s.forward) {
            real.forward = None;
        }
        let vport = s.port.unwrap_or(0);
        real.port = match (forward, r.port) {
            (_, None | Some(0)) => None,
            (Forward::Nat | Forward::FullNat, Some(p)) => Some(p),
            (Forward::Dr | Forward::Tun, Some(p)) if s.fwmark.is_none() && p == vport => None,
            (Forward::Dr | Forward::Tun, Some(p)) => {
                m.diag(
                    &r.node,
                    format!(
                        "port {p} mapped as the virtual port (keepalived resets the port of a {} real)",
                        forward.as_str().to_uppercase()
                    ),
                );
                None
            }
        };
        let key = (real.address, s.real_port(&real));
        if s.reals.iter().any(|x| (x.address, s.real_port(x)) == key) {
            m.unmapped(&r.node, "duplicate real server; keepalived removes it");
            continue;
        }
        s.reals.push(real);
    }
}

/// keepalived lowers a quorum above the reals' total weight, and a
/// hysteresis not below the quorum.
fn quorum(m: &mut Mapper, n: &Node, s: &mut Service) {
    let total: u64 = s.reals.iter().map(|r| u64::from(r.weight)).sum();
    if let Some(q) = s.quorum {
        if u64::from(q) > total {
            if total == 0 {
                m.diag(n, "quorum not mapped (the reals' total weight is 0)");
                s.quorum = None;
            } else {
                m.diag(
                    n,
                    format!("quorum {q} mapped as {total}, the reals' total weight (keepalived's correction)"),
                );
                s.quorum = Some(total as u32);
            }
        }
    }
    let q = s.quorum.unwrap_or(1);
    if let Some(h) = s.hysteresis {
        if h >= q {
            m.diag(
                n,
                format!(
                    "hysteresis {h} mapped as {} (keepalived keeps it below quorum {q})",
                    q - 1
                ),
            );
            s.hysteresis = Some(q - 1);
        }
    }
}

/// A DR/TUN sorry server takes the virtual port, as a real does.
fn sorry_port(m: &mut Mapper, n: &Node, s: &mut Service) {
    let vport = s.port.unwrap_or(0);
    let forward = s.forward;
    let fwmark = s.fwmark.is_some();
    if let Some(sorry) = s.sorry_server.as_mut() {
        let f = sorry.forward.unwrap_or(forward);
        if matches!(f, Forward::Dr | Forward::Tun) {
            if let Some(p) = sorry.port {
                if fwmark || p != vport {
                    m.diag(
                        n,
                        format!("sorry_server port {p} mapped as the virtual port (keepalived resets it)"),
                    );
                }
                sorry.port = None;
            }
        }
        if sorry.forward == Some(forward) {
            sorry.forward = None;
        }
    }
}

/// Checks every real has alike are written once, on the service.
fn hoist_checks(s: &mut Service) {
    let Some(first) = s.reals.first().and_then(|r| r.checks.clone()) else {
        return;
    };
    if first.is_empty() || s.reals.iter().any(|r| r.checks.as_ref() != Some(&first)) {
        return;
    }
    s.checks = first;
    for r in &mut s.reals {
        r.checks = None;
    }
}
