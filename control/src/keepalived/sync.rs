//! keepalived's sync daemon into `sync:`: `global_defs { lvs_sync_daemon
//! IF [[inst] NAME] [id N] [maxlen N] [port P] [ttl T] [group A] }` and the
//! deprecated `vrrp_instance { lvs_sync_daemon_interface IF }`, read as
//! keepalived 2.2.7 reads them (global_parser.c `lvs_syncd_handler`,
//! vrrp_parser.c `vrrp_lvs_syncd_handler`) and completed once the
//! instances are known (vrrp.c: the instance's `virtual_router_id` is the
//! default syncid of `inst NAME`).

use std::net::Ipv4Addr;

use super::map::Mapper;
use super::tree::Node;
use super::values::unsigned;
use crate::config::sync::SYNC_MAXLEN_MAX;
use crate::config::{SyncConfig, SyncRoles};

/// keepalived refuses an interface name of `IP_VS_IFNAME_MAXLEN` (16)
/// bytes or more.
use crate::config::host::IFNAME_MAX;

/// The sync daemon as written, before the instances are known.
pub struct Draft {
    node: Node,
    iface: String,
    /// The instance the daemons follow.
    inst: Option<String>,
    /// Without `id`: the named instance's virtual_router_id (`inst NAME`,
    /// or the old `IF NAME` form), else 0.
    vrid_default: bool,
    syncid: Option<u8>,
    maxlen: Option<u16>,
    port: Option<u16>,
    ttl: Option<u8>,
    group: Option<Ipv4Addr>,
}

impl Draft {
    fn new(node: &Node, iface: &str) -> Draft {
        Draft {
            node: node.clone(),
            iface: iface.to_string(),
            inst: None,
            vrid_default: false,
            syncid: None,
            maxlen: None,
            port: None,
            ttl: None,
            group: None,
        }
    }
}

/// keepalived keeps the first sync daemon it reads.
fn already(m: &mut Mapper, n: &Node) -> bool {
    let Some(first) = &m.sync else {
        return false;
    };
    let why = format!(
        "the sync daemon is already given at {}:{}",
        first.node.file, first.node.line
    );
    m.invalid(n, &why);
    true
}

/// `global_defs { lvs_sync_daemon ... }`.
pub fn read(m: &mut Mapper, n: &Node) {
    if already(m, n) {
        return;
    }
    let Some(iface) = n.arg(0) else {
        m.invalid(n, "no interface");
        return;
    };
    if iface.len() > IFNAME_MAX {
        m.invalid(
            n,
            &format!("interface name {iface:?} longer than {IFNAME_MAX} characters"),
        );
        return;
    }
    let mut d = Draft::new(n, iface);
    let words = &n.words;
    // Words after the interface: index 2 on, as keepalived counts.
    let mut i = 2;
    while i < words.len() {
        let word = words[i].as_str();
        let value = words.get(i + 1).map(String::as_str);
        let option = |m: &mut Mapper, why: String| {
            m.diag(
                n,
                format!("{word} not mapped ({why}; keepalived ignores it)"),
            )
        };
        match (word, value) {
            ("inst" | "id" | "maxlen" | "port" | "ttl" | "group", None) => {
                option(m, "no value".into());
                i += 1;
                continue;
            }
            ("inst", Some(v)) => match &d.inst {
                Some(first) => option(m, format!("instance already given as {first}")),
                None => {
                    d.inst = Some(v.to_string());
                    d.vrid_default = true;
                }
            },
            ("id", Some(v)) => match unsigned(v, 0, 255) {
                Ok(id) => d.syncid = Some(id as u8),
                Err(e) => option(m, e),
            },
            ("maxlen", Some(v)) => match unsigned(v, 1, u64::from(SYNC_MAXLEN_MAX)) {
                Ok(l) => d.maxlen = Some(l as u16),
                Err(e) => option(m, e),
            },
            ("port", Some(v)) => match unsigned(v, 1, 65535) {
                Ok(p) => d.port = Some(p as u16),
                Err(e) => option(m, e),
            },
            ("ttl", Some(v)) => match unsigned(v, 1, 255) {
                Ok(t) => d.ttl = Some(t as u8),
                Err(e) => option(m, e),
            },
            ("group", Some(v)) => match group(v) {
                Ok(g) => d.group = Some(g),
                Err(e) if v.contains(':') => {
                    m.diag(n, format!("{word} not mapped ({e})"));
                }
                Err(e) => option(m, e),
            },
            // keepalived's older `lvs_sync_daemon IF INSTANCE [SYNCID]`.
            _ if i == 2 => {
                d.inst = Some(word.to_string());
                d.vrid_default = true;
                i += 1;
                continue;
            }
            _ if i == 3 => {
                match unsigned(word, 0, 255) {
                    Ok(id) => d.syncid = Some(id as u8),
                    Err(e) => option(m, format!("syncid: {e}")),
                }
                i += 1;
                continue;
            }
            _ => {
                option(m, "unknown option".into());
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    m.sync = Some(d);
}

/// `group A`: an IPv4 multicast address.
fn group(v: &str) -> Result<Ipv4Addr, String> {
    let a = super::values::ipv4(v)?;
    if !a.is_multicast() {
        return Err(format!("{a} is not a multicast address"));
    }
    Ok(a)
}

/// `vrrp_instance NAME { lvs_sync_daemon_interface IF }`: keepalived's
/// deprecated form of `lvs_sync_daemon IF inst NAME`, whose syncid
/// defaults to 0.
pub fn read_interface(m: &mut Mapper, c: &Node, instance: &str) {
    if already(m, c) {
        return;
    }
    let Some(iface) = c.arg(0) else {
        m.unmapped(c, "missing value");
        return;
    };
    let mut d = Draft::new(c, iface);
    d.inst = Some(instance.to_string());
    m.sync = Some(d);
}

/// Resolves the interface to a port and the instance to a mapped one.
pub fn finish(m: &mut Mapper) {
    let Some(d) = m.sync.take() else {
        return;
    };
    let n = &d.node;
    let (instance, role, vrid) = match &d.inst {
        Some(name) => match m.vrrp.iter().find(|v| v.name == *name) {
            Some(v) => (Some(name.clone()), None, v.virtual_router_id),
            None => {
                m.unmapped(
                    n,
                    &format!("the sync daemon follows vrrp_instance {name}, which is not mapped"),
                );
                return;
            }
        },
        // keepalived's checker runs both daemons.
        None => (None, Some(SyncRoles::Both), 0),
    };
    let port = super::vrrp::port_of(m, n, &d.iface);
    let mut s = SyncConfig::new(port);
    s.instance = instance;
    s.role = role;
    s.syncid = match d.syncid {
        Some(id) => id,
        None if d.vrid_default => vrid,
        None => 0,
    };
    if let Some(g) = d.group {
        s.mcast_group = g;
    }
    if let Some(p) = d.port {
        s.mcast_port = p;
    }
    if let Some(t) = d.ttl {
        s.mcast_ttl = t;
    }
    if let Some(l) = d.maxlen {
        s.maxlen = l;
    }
    m.sync_config = Some(s);
    m.sync_origin = Some((n.file.to_string(), n.line, n.keyword().to_string()));
}
