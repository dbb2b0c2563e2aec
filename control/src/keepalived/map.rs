//! The top level of a keepalived.conf: groups first (keepalived resolves
//! group names after reading everything), then `virtual_server`,
//! `vrrp_instance` and `global_defs` blocks, then what needs the whole
//! file (the instances' global defaults, `ha_suspend`'s owner); every
//! other block is listed as not mapped.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::tree::Node;
use super::values::{address_range, u32_in, unsigned};
use super::vrrp::{self, Globals};
use super::{sync, vs, Diagnostic, Mapped};
use crate::config::{Port, Service, SyncConfig, VrrpInstance};

/// keepalived's `LVS_MAX_TIMEOUT` (31 days), the bound of lvs_timeouts.
const LVS_MAX_TIMEOUT: u32 = 86400 * 31;
/// Most addresses one group entry may expand to (one service each).
pub const MAX_RANGE: usize = 256;

pub const DPVS: &str = "DPVS extension with no ferrovs equivalent";

/// One `virtual_server_group` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupEntry {
    Addr(Ipv4Addr, u16),
    Fwmark(u32),
}

/// The mapping's state and its diagnostics.
pub struct Mapper {
    pub diags: Vec<Diagnostic>,
    pub vs_groups: HashMap<String, Vec<GroupEntry>>,
    pub laddr_groups: HashMap<String, Vec<Ipv4Addr>>,
    pub services: Vec<Service>,
    pub origins: Vec<(String, usize)>,
    pub timeouts: [Option<u32>; 3],
    /// The base's ports (`None`: no base), to resolve VRRP interfaces.
    pub base_ports: Option<Vec<Port>>,
    pub globals: Globals,
    pub vrrp_drafts: Vec<vrrp::Draft>,
    pub vrrp: Vec<VrrpInstance>,
    pub vrrp_origins: Vec<(String, usize)>,
    /// `ha_suspend` lines: each service they set it on.
    pub ha_suspend: Vec<(usize, Node)>,
    /// The sync daemon as read (`lvs_sync_daemon`), then as mapped, with
    /// the file, line and keyword it comes from.
    pub sync: Option<sync::Draft>,
    pub sync_config: Option<SyncConfig>,
    pub sync_origin: Option<(String, usize, String)>,
}

impl Mapper {
    pub fn diag(&mut self, n: &Node, message: impl Into<String>) {
        self.diags
            .push(Diagnostic::new(&n.file, n.line, n.keyword(), message));
    }

    /// `keyword: not mapped (reason)`.
    pub fn unmapped(&mut self, n: &Node, reason: &str) {
        self.diag(n, format!("not mapped ({reason})"));
    }

    /// A value keepalived itself refuses (and ignores).
    pub fn invalid(&mut self, n: &Node, why: &str) {
        self.diag(n, format!("not mapped ({why}; keepalived ignores it)"));
    }

    /// The value of a one-word keyword read by `f`, or a diagnostic.
    pub fn value<T>(&mut self, n: &Node, f: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        match n.arg(0) {
            None => {
                self.unmapped(n, "missing value");
                None
            }
            Some(a) => match f(a) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.invalid(n, &e);
                    None
                }
            },
        }
    }
}

/// Maps the statement tree.
pub fn map(nodes: &[Node], diags: Vec<Diagnostic>, base_ports: Option<&[Port]>) -> Mapped {
    let mut m = Mapper {
        diags,
        vs_groups: HashMap::new(),
        laddr_groups: HashMap::new(),
        services: Vec::new(),
        origins: Vec::new(),
        timeouts: [None; 3],
        base_ports: base_ports.map(<[Port]>::to_vec),
        globals: Globals::default(),
        vrrp_drafts: Vec::new(),
        vrrp: Vec::new(),
        vrrp_origins: Vec::new(),
        ha_suspend: Vec::new(),
        sync: None,
        sync_config: None,
        sync_origin: None,
    };
    for n in nodes {
        match n.keyword() {
            "virtual_server_group" => vs_group(&mut m, n),
            "local_address_group" => laddr_group(&mut m, n),
            _ => {}
        }
    }
    for n in nodes {
        match n.keyword() {
            "virtual_server_group" | "local_address_group" => {}
            "virtual_server" => vs::map(&mut m, n),
            "global_defs" => global_defs(&mut m, n),
            "vrrp_instance" => vrrp::read(&mut m, n),
            "lvs_sync_daemon" => m.unmapped(
                n,
                "keepalived reads it only inside global_defs and ignores it here",
            ),
            "vrrp_sync_group" => m.unmapped(
                n,
                "sync groups are not supported: each vrrp instance fails over on its own",
            ),
            "vrrp_script" | "vrrp_track_file" | "vrrp_track_process" | "track_file"
            | "track_process" => m.unmapped(
                n,
                "tracking is not supported: the instances' priorities stay as written",
            ),
            k if k.starts_with("vrrp_") => m.unmapped(n, "VRRP block with no ferrovs equivalent"),
            "static_ipaddress" | "static_routes" | "static_rules" => m.unmapped(
                n,
                "the director's addresses and routes are ports[] and routes[] in the YAML",
            ),
            "deny_address_group" | "allow_address_group" | "tunnel_group" => m.unmapped(n, DPVS),
            "SSL" => m.unmapped(n, "SSL_GET client certificates are not supported"),
            _ => m.unmapped(n, "not a virtual-server keyword"),
        }
    }
    vrrp::finish(&mut m);
    sync::finish(&mut m);
    ha_suspend(&mut m);
    finish(m, nodes)
}

/// `ha_suspend` is kept where a vrrp instance owns the service's VIP
/// (keepalived suspends the checks while the VIP is not on the host).
fn ha_suspend(m: &mut Mapper) {
    for (i, n) in std::mem::take(&mut m.ha_suspend) {
        let vip = m.services[i].vip;
        let owned = vip.is_some_and(|a| m.vrrp.iter().any(|v| v.owns(a)));
        if owned {
            continue;
        }
        m.services[i].ha_suspend = false;
        match vip {
            None => m.unmapped(&n, "a firewall-mark service has no VIP to follow"),
            Some(a) => m.unmapped(
                &n,
                &format!("no vrrp_instance owns {a}: keepalived follows the address on the host, ferrovs the instance that owns it"),
            ),
        }
    }
}

/// Diagnostics in file order, each once (a group's services share them).
fn finish(m: Mapper, nodes: &[Node]) -> Mapped {
    let mut files: Vec<String> = Vec::new();
    fn walk(nodes: &[Node], files: &mut Vec<String>) {
        for n in nodes {
            if !files.iter().any(|f| **f == *n.file) {
                files.push(n.file.to_string());
            }
            walk(n.children(), files);
        }
    }
    walk(nodes, &mut files);
    let rank = |f: &str| files.iter().position(|x| x == f).unwrap_or(usize::MAX);
    let mut diags = m.diags;
    diags.sort_by_key(|d| (rank(&d.file), d.line));
    let mut seen = Vec::new();
    diags.retain(|d| {
        if seen.contains(d) {
            false
        } else {
            seen.push(d.clone());
            true
        }
    });
    Mapped {
        services: m.services,
        timeouts: m.timeouts,
        diagnostics: diags,
        origins: m.origins,
        vrrp: m.vrrp,
        vrrp_origins: m.vrrp_origins,
        sync: m.sync_config,
        sync_origin: m.sync_origin,
    }
}

fn global_defs(m: &mut Mapper, n: &Node) {
    for c in n.children() {
        match c.keyword() {
            "lvs_timeouts" => lvs_timeouts(m, c),
            "lvs_sync_daemon" => sync::read(m, c),
            "vrrp_version" => {
                if let Some(v) = m.value(c, |a| unsigned(a, 2, 3)) {
                    m.globals.version = Some(v as u8);
                }
            }
            "vrrp_garp_master_delay" => {
                if let Some(s) = m.value(c, |a| unsigned(a, 0, 4294)) {
                    m.globals.garp_master_delay = Some(crate::config::Seconds::from_secs(s));
                }
            }
            "vrrp_garp_master_repeat" => {
                if let Some(r) = m.value(c, |a| unsigned(a, 0, u64::from(u32::MAX))) {
                    m.globals.garp_master_repeat = Some(vrrp::garp_repeat(m, c, r));
                }
            }
            "notify_fifo" => m.globals.notify_fifo = fifo(m, c),
            "vrrp_notify_fifo" => m.globals.vrrp_notify_fifo = fifo(m, c),
            _ => m.unmapped(
                c,
                "global_defs: only lvs_timeouts, lvs_sync_daemon and the vrrp defaults have a ferrovs equivalent",
            ),
        }
    }
}

/// `notify_fifo PATH [USER [GROUP]]`: an absolute path.
fn fifo(m: &mut Mapper, c: &Node) -> Option<(std::path::PathBuf, Node)> {
    let path = m.value(c, |a| match a.starts_with('/') {
        true => Ok(std::path::PathBuf::from(a)),
        false => Err(format!(
            "{a:?} is not an absolute path, which ferrovs requires"
        )),
    })?;
    if c.words.len() > 2 {
        m.diag(
            c,
            format!(
                "fifo owner {:?} not mapped (ferrovs creates it as its own user)",
                c.words[2..].join(" ")
            ),
        );
    }
    Some((path, c.clone()))
}

/// `lvs_timeouts [tcp N] [tcpfin N] [udp N]`; 0 leaves a timeout as it
/// is (ipvsadm --set's rule), so it keeps the base's value.
fn lvs_timeouts(m: &mut Mapper, n: &Node) {
    let words = &n.words[1..];
    if words.is_empty() {
        m.unmapped(n, "missing value");
        return;
    }
    let mut i = 0;
    while i < words.len() {
        let slot = match words[i].as_str() {
            "tcp" => 0,
            "tcpfin" => 1,
            "udp" => 2,
            other => {
                m.invalid(n, &format!("unknown option {other:?}"));
                i += 1;
                continue;
            }
        };
        match words.get(i + 1).map(|v| u32_in(v, 0, LVS_MAX_TIMEOUT)) {
            Some(Ok(v)) => m.timeouts[slot] = (v != 0).then_some(v),
            Some(Err(e)) => m.invalid(n, &format!("{} {e}", words[i])),
            None => m.invalid(n, &format!("no value for {}", words[i])),
        }
        i += 2;
    }
}

/// `virtual_server_group NAME { ADDR[-range|/len] [PORT] | fwmark N }`.
fn vs_group(m: &mut Mapper, n: &Node) {
    let Some(name) = n.arg(0).map(str::to_string) else {
        m.unmapped(n, "missing group name");
        return;
    };
    let mut entries = Vec::new();
    for e in n.children() {
        match group_entry(e) {
            Ok(mut list) => entries.append(&mut list),
            Err(why) => m.invalid(e, &why),
        }
    }
    if entries.is_empty() {
        m.invalid(n, "group has no usable entry");
    }
    m.vs_groups.insert(name, entries);
}

fn group_entry(e: &Node) -> Result<Vec<GroupEntry>, String> {
    if e.keyword() == "fwmark" {
        if e.arg(1) == Some("inet6") {
            return Err("inet6 (ferrovs is IPv4-only)".into());
        }
        let mark = unsigned(e.arg(0).unwrap_or(""), 1, u64::from(u32::MAX))?;
        return Ok(vec![GroupEntry::Fwmark(mark as u32)]);
    }
    let port = match e.arg(0) {
        None => 0,
        Some(p) => unsigned(p, 0, 65535)? as u16,
    };
    let addrs = match e.keyword().split_once('/') {
        Some((a, len)) => prefix(a, len)?,
        None => address_range(e.keyword(), MAX_RANGE)?,
    };
    Ok(addrs
        .into_iter()
        .map(|a| GroupEntry::Addr(a, port))
        .collect())
}

/// `a.b.c.d/len`: every address of the prefix (host bits must be 0).
fn prefix(addr: &str, len: &str) -> Result<Vec<Ipv4Addr>, String> {
    let a = super::values::ipv4(addr)?;
    let len = unsigned(len, 1, 32)? as u32;
    let host = if len == 32 { 0 } else { u32::MAX >> len };
    if u32::from(a) & host != 0 {
        return Err(format!("{addr}/{len} has host bits set"));
    }
    let n = host as usize + 1;
    if n > MAX_RANGE {
        return Err(format!(
            "{addr}/{len} has {n} addresses; at most {MAX_RANGE} are mapped (one ferrovs service each)"
        ));
    }
    let first = u32::from(a);
    Ok((first..=first + host).map(Ipv4Addr::from).collect())
}

/// DPVS's `local_address_group NAME { ADDR[-range] IFNAME ... }`. The
/// interface name is not needed: ferrovs sends from the port its routes
/// choose.
fn laddr_group(m: &mut Mapper, n: &Node) {
    let Some(name) = n.arg(0).map(str::to_string) else {
        m.unmapped(n, "missing group name");
        return;
    };
    let mut addrs = Vec::new();
    for e in n.children() {
        match address_range(e.keyword(), MAX_RANGE) {
            Ok(mut list) => addrs.append(&mut list),
            Err(why) => m.invalid(e, &why),
        }
    }
    m.laddr_groups.insert(name, addrs);
}
