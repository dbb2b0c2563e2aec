//! `vrrp_instance NAME { ... }` into a `vrrp:` entry: the block is read
//! as keepalived reads it, then, once the whole file (and its
//! `global_defs` defaults) is known, keepalived's end-of-configuration
//! corrections are applied the way keepalived applies them, each one
//! reported.

use std::path::PathBuf;

use super::map::Mapper;
use super::tree::Node;
use super::values::{flag, ipv4, timer, unsigned};
use super::vs::script;
use crate::config::{
    device_resources, AuthType, DeviceResource, Seconds, VirtualAddress, VrrpAuth, VrrpInstance,
    VrrpState,
};

const TRACKING: &str = "tracking is not supported: the instance's priority stays as written";
mod finish;
pub use finish::finish;

const NO_EQUIVALENT: &str = "vrrp_instance keyword with no ferrovs equivalent";

/// keepalived's `vrrp_instance` keywords that have no ferrovs meaning.
const KNOWN: &[&str] = &[
    "use_vmac_addr",
    "vmac_xmit_base",
    "use_ipvlan",
    "unicast_fault_no_peer",
    "check_unicast_src",
    "old_unicast_checksum",
    "native_ipv6",
    "vrf",
    "dont_track_primary",
    "mcast_dst_ip",
    "track_src_ip",
    "unicast_ttl",
    "no_virtual_ipaddress",
    "promote_secondaries",
    "linkbeat_use_polling",
    "virtual_routes",
    "virtual_rules",
    "accept",
    "no_accept",
    "skip_check_adv_addr",
    "strict_mode",
    "debug",
    "notify_deleted",
    "notify_master_rx_lower_pri",
    "notify_priority_changes",
    "garp_master_refresh",
    "garp_master_refresh_repeat",
    "garp_lower_prio_delay",
    "garp_lower_prio_repeat",
    "down_timer_adverts",
    "timer_expired_backup",
    "thread_timer_expired",
    "garp_extra_if",
    "vmac_garp_intvl",
    "lower_prio_no_advert",
    "higher_prio_send_advert",
    "owner_ignore_adverts",
    "kernel_rx_buf_size",
    "auth_hmac",
];

/// The `global_defs` keywords that give every instance a default.
#[derive(Default)]
pub struct Globals {
    pub version: Option<u8>,
    /// `notify_fifo` (every event of keepalived, VRRP ones included).
    pub notify_fifo: Option<(PathBuf, Node)>,
    /// `vrrp_notify_fifo` (VRRP events only).
    pub vrrp_notify_fifo: Option<(PathBuf, Node)>,
    pub garp_master_delay: Option<Seconds>,
    pub garp_master_repeat: Option<u8>,
}

/// One instance as written, before keepalived's corrections.
pub struct Draft {
    node: Node,
    inst: VrrpInstance,
    interface: Option<(Node, String)>,
    vrid_given: bool,
    version_given: bool,
    state_given: bool,
    advert_node: Option<Node>,
    nopreempt_node: Option<Node>,
    preempt_delay_node: Option<Node>,
    v3_checksum_node: Option<Node>,
    garp_delay_given: bool,
    garp_repeat_given: bool,
    /// The `authentication` block and what it said.
    auth: Option<(Node, Option<AuthType>, Option<String>)>,
}

/// Reads a `vrrp_instance` block.
pub fn read(m: &mut Mapper, n: &Node) {
    let Some(name) = n.arg(0) else {
        m.unmapped(n, "missing instance name");
        return;
    };
    let mut d = Draft {
        node: n.clone(),
        inst: blank(name),
        interface: None,
        vrid_given: false,
        version_given: false,
        state_given: false,
        advert_node: None,
        nopreempt_node: None,
        preempt_delay_node: None,
        v3_checksum_node: None,
        garp_delay_given: false,
        garp_repeat_given: false,
        auth: None,
    };
    for c in n.children() {
        keyword(m, &mut d, c);
    }
    m.vrrp_drafts.push(d);
}

fn blank(name: &str) -> VrrpInstance {
    VrrpInstance {
        name: name.to_string(),
        port: String::new(),
        virtual_router_id: 0,
        priority: 100,
        advert_int: Seconds::from_secs(1),
        version: 2,
        state: VrrpState::Backup,
        nopreempt: false,
        preempt_delay: Seconds::ZERO,
        authentication: None,
        unicast_src_ip: None,
        unicast_peer: Vec::new(),
        v3_checksum_as_v2: false,
        virtual_ipaddress: Vec::new(),
        garp_master_repeat: 5,
        garp_master_delay: Seconds::from_secs(5),
        use_vmac: false,
        notify_master: None,
        notify_backup: None,
        notify_fault: None,
        notify_stop: None,
        notify: None,
        notify_fifo: None,
    }
}

fn u8_in(s: &str, min: u64, max: u64) -> Result<u8, String> {
    unsigned(s, min, max).map(|v| v as u8)
}

fn keyword(m: &mut Mapper, d: &mut Draft, c: &Node) {
    let v = &mut d.inst;
    match c.keyword() {
        "state" => match c.arg(0) {
            Some("MASTER") => {
                v.state = VrrpState::Master;
                d.state_given = true;
            }
            Some("BACKUP") if v.state == VrrpState::Master => {
                m.invalid(c, "state already MASTER")
            }
            Some("BACKUP") => {
                v.state = VrrpState::Backup;
                d.state_given = true;
            }
            Some(other) => {
                m.diag(
                    c,
                    format!("unknown state {other:?} mapped as BACKUP (keepalived's correction)"),
                );
                v.state = VrrpState::Backup;
                d.state_given = true;
            }
            None => m.unmapped(c, "missing value"),
        },
        "interface" => {
            if let Some(i) = m.value(c, |a| Ok(a.to_string())) {
                d.interface = Some((c.clone(), i));
            }
        }
        "virtual_router_id" => {
            if let Some(id) = m.value(c, |a| u8_in(a, 1, 255)) {
                v.virtual_router_id = id;
                d.vrid_given = true;
            }
        }
        "priority" => v.priority = m.value(c, |a| u8_in(a, 1, 255)).unwrap_or(v.priority),
        "advert_int" => {
            if let Some(t) = m.value(c, advert_int) {
                v.advert_int = t;
                d.advert_node = Some(c.clone());
            }
        }
        "version" => {
            if let Some(ver) = m.value(c, |a| u8_in(a, 2, 3)) {
                v.version = ver;
                d.version_given = true;
            }
        }
        "nopreempt" => {
            v.nopreempt = true;
            d.nopreempt_node = Some(c.clone());
        }
        // Backwards compatibility in keepalived: clears nopreempt.
        "preempt" => v.nopreempt = false,
        "preempt_delay" => {
            if let Some(t) = m.value(c, preempt_delay) {
                v.preempt_delay = t;
                d.preempt_delay_node = Some(c.clone());
            }
        }
        "authentication" => authentication(m, d, c),
        "unicast_src_ip" | "mcast_src_ip" => {
            v.unicast_src_ip = m.value(c, ipv4).or(v.unicast_src_ip)
        }
        "unicast_peer" => {
            for p in c.children() {
                match ipv4(p.keyword()) {
                    Ok(a) if v.unicast_peer.contains(&a) => {
                        m.invalid(p, "duplicate unicast peer")
                    }
                    Ok(a) => {
                        v.unicast_peer.push(a);
                        if p.words.len() > 1 {
                            m.diag(
                                p,
                                format!(
                                    "mapped without {:?} (ferrovs sends its adverts with TTL 255 and checks none)",
                                    p.words[1..].join(" ")
                                ),
                            );
                        }
                    }
                    Err(e) => m.unmapped(p, &e),
                }
            }
        }
        "v3_checksum_as_v2" => match flag(c.arg(0)) {
            Ok(b) => {
                v.v3_checksum_as_v2 = b;
                d.v3_checksum_node = Some(c.clone());
            }
            Err(e) => m.invalid(c, &e),
        },
        "virtual_ipaddress" => virtual_ipaddress(m, &mut d.inst, c),
        "virtual_ipaddress_excluded" => m.unmapped(
            c,
            "addresses held but not advertised are not supported; list them in virtual_ipaddress",
        ),
        "garp_master_repeat" => {
            if let Some(r) = m.value(c, |a| unsigned(a, 0, u64::from(u32::MAX))) {
                d.garp_repeat_given = true;
                v.garp_master_repeat = garp_repeat(m, c, r);
            }
        }
        "garp_master_delay" => {
            if let Some(s) = m.value(c, |a| unsigned(a, 0, 4294)) {
                d.garp_delay_given = true;
                v.garp_master_delay = Seconds::from_secs(s);
            }
        }
        "use_vmac" => m.unmapped(
            c,
            "the RFC virtual MAC is not supported; adverts and ARP answers use the port's MAC, as keepalived does by default",
        ),
        "notify_master" => v.notify_master = script(m, c).or(v.notify_master.take()),
        "notify_backup" => v.notify_backup = script(m, c).or(v.notify_backup.take()),
        "notify_fault" => v.notify_fault = script(m, c).or(v.notify_fault.take()),
        "notify_stop" => v.notify_stop = script(m, c).or(v.notify_stop.take()),
        "notify" => v.notify = script(m, c).or(v.notify.take()),
        "track_interface" | "track_script" | "track_file" | "track_process" | "track_bfd" => {
            m.unmapped(c, TRACKING)
        }
        "smtp_alert" => m.unmapped(c, "ferrovs sends no mail; transitions are logged"),
        "dpdk_interface" => m.unmapped(c, super::map::DPVS),
        "lvs_sync_daemon_interface" => super::sync::read_interface(m, c, &d.inst.name),
        k if KNOWN.contains(&k) => m.unmapped(c, NO_EQUIVALENT),
        _ => m.unmapped(
            c,
            "not a keepalived vrrp_instance keyword; keepalived ignores it",
        ),
    }
}

/// keepalived reads 0.01..=255 s; the version decides the rest.
fn advert_int(a: &str) -> Result<Seconds, String> {
    match timer(a)? {
        t if t < Seconds::from_micros(10_000) || t > Seconds::from_secs(255) => {
            Err(format!("invalid value {a:?} (expected 0.01..=255 seconds)"))
        }
        t => Ok(t),
    }
}

fn preempt_delay(a: &str) -> Result<Seconds, String> {
    match timer(a)? {
        t if t > crate::config::vrrp::PREEMPT_DELAY_MAX => {
            Err(format!("invalid value {a:?} (expected 0..=1000 seconds)"))
        }
        t if !t.as_micros().is_multiple_of(1000) => Err(format!(
            "{a} has more than millisecond precision, which ferrovs does not keep"
        )),
        t => Ok(t),
    }
}

/// keepalived turns 0 into 1; ferrovs sends at most 255.
pub fn garp_repeat(m: &mut Mapper, c: &Node, r: u64) -> u8 {
    match r {
        0 => {
            m.diag(c, "0 mapped as 1 (keepalived's correction)");
            1
        }
        1..=255 => r as u8,
        _ => {
            m.diag(c, format!("{r} mapped as 255 (ferrovs's maximum)"));
            255
        }
    }
}

fn authentication(m: &mut Mapper, d: &mut Draft, c: &Node) {
    let mut kind = None;
    let mut pass = None;
    for a in c.children() {
        match a.keyword() {
            "auth_type" => match a.arg(0) {
                Some("PASS") => kind = Some(AuthType::Pass),
                Some("AH") => {
                    m.unmapped(a, "IPsec AH authentication is not supported");
                    kind = Some(AuthType::Ah);
                }
                Some(other) => m.invalid(a, &format!("unknown authentication type {other:?}")),
                None => m.unmapped(a, "missing value"),
            },
            "auth_pass" => {
                if let Some(p) = m.value(a, |v| Ok(v.to_string())) {
                    if p.len() > 8 {
                        let cut = truncate8(&p);
                        m.diag(
                            a,
                            format!(
                                "mapped as its first 8 bytes {cut:?} (keepalived truncates it)"
                            ),
                        );
                        pass = Some(cut);
                    } else {
                        pass = Some(p);
                    }
                }
            }
            _ => m.unmapped(a, "not an authentication keyword; keepalived ignores it"),
        }
    }
    d.auth = Some((c.clone(), kind, pass));
}

/// The first 8 bytes, cut back to a character boundary.
fn truncate8(p: &str) -> String {
    let mut n = 8;
    while !p.is_char_boundary(n) {
        n -= 1;
    }
    p[..n].to_string()
}

/// `ADDR[/LEN] [dev IF] [label L] [brd B] [scope S] ...`: the address and
/// its prefix; the rest is reported.
fn virtual_ipaddress(m: &mut Mapper, v: &mut VrrpInstance, c: &Node) {
    let earlier: Vec<(String, std::net::Ipv4Addr)> = m
        .vrrp_drafts
        .iter()
        .flat_map(|d| {
            d.inst
                .virtual_ipaddress
                .iter()
                .map(|a| (d.inst.name.clone(), a.addr()))
        })
        .collect();
    for e in c.children() {
        let word = e.keyword();
        let addr = word.split('/').next().unwrap_or(word);
        if addr.contains(':') {
            m.unmapped(e, &format!("{word} is IPv6 (ferrovs is IPv4-only)"));
            continue;
        }
        let va = match word.parse::<VirtualAddress>() {
            Ok(va) => va,
            Err(why) => {
                m.invalid(e, &why);
                continue;
            }
        };
        if v.virtual_ipaddress.iter().any(|x| x.addr() == va.addr()) {
            m.invalid(e, "duplicate virtual address");
            continue;
        }
        if let Some((other, _)) = earlier.iter().find(|(_, a)| *a == va.addr()) {
            m.invalid(e, &format!("already a virtual address of {other}"));
            continue;
        }
        if e.words.len() > 1 {
            m.diag(
                e,
                format!(
                    "mapped without {:?} (the address is held on the instance's port)",
                    e.words[1..].join(" ")
                ),
            );
        }
        v.virtual_ipaddress.push(va);
    }
}

/// The port an interface name stands for: a port of that name, the port
/// whose kernel twin or device has that interface, else the base's only
/// port; else the name as written (validation then names the problem).
pub(super) fn port_of(m: &mut Mapper, c: &Node, iface: &str) -> String {
    let Some(ports) = m.base_ports.as_ref() else {
        m.diag(
            c,
            format!("mapped as port {iface:?} (no --base to take the ports from: the config needs a port of that name)"),
        );
        return iface.to_string();
    };
    if let Some(p) = ports.iter().find(|p| p.name == iface) {
        return p.name.clone();
    }
    let dev = DeviceResource::Iface(iface.to_string());
    if let Some(p) = ports.iter().find(|p| {
        p.host_iface.as_deref() == Some(iface) || device_resources(&p.device).contains(&dev)
    }) {
        return p.name.clone();
    }
    if let [only] = ports.as_slice() {
        let name = only.name.clone();
        m.diag(
            c,
            format!("{iface} mapped as port {name:?} (the base's only port)"),
        );
        return name;
    }
    m.diag(
        c,
        format!("no port of the base is named {iface:?} or has it as its interface: written as port {iface:?}"),
    );
    iface.to_string()
}
