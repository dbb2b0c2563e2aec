//! A real server must not be one of the director's own addresses: a port
//! address, a VIP, a FullNAT local address or a VRRP virtual address. The director answers those
//! itself, so packets forwarded there would never reach a server.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::error::ConfigError;
use super::model::Config;

/// Every address the director owns, with the field that makes it so (the
/// first one, in the order port addresses, VIPs, local addresses, VRRP
/// virtual addresses).
pub(crate) fn owned(cfg: &Config) -> HashMap<Ipv4Addr, String> {
    let mut owned = HashMap::new();
    for (i, p) in cfg.ports.iter().enumerate() {
        for (k, a) in p.addresses.iter().enumerate() {
            owned.entry(a.addr).or_insert_with(|| {
                format!("the director's own address (ports[{i}].addresses[{k}])")
            });
        }
    }
    for (i, s) in cfg.services.iter().enumerate() {
        if let Some(vip) = s.vip {
            owned
                .entry(vip)
                .or_insert_with(|| format!("a VIP (services[{i}].vip)"));
        }
    }
    // A mark rule's single address is a VIP as well (the director answers ARP for it).
    for (i, m) in cfg
        .marks
        .iter()
        .enumerate()
        .filter(|(_, m)| m.vip.0.len == 32)
    {
        owned
            .entry(m.vip.0.addr)
            .or_insert_with(|| format!("a VIP (marks[{i}].vip)"));
    }
    for (i, s) in cfg.services.iter().enumerate() {
        for (k, a) in s.local_addresses.iter().enumerate() {
            owned.entry(*a).or_insert_with(|| {
                format!("a FullNAT local address (services[{i}].local_addresses[{k}])")
            });
        }
    }
    // An address a VRRP instance owns is the director's while it is MASTER.
    for (i, v) in cfg.vrrp.iter().enumerate() {
        for (k, a) in v.virtual_ipaddress.iter().enumerate() {
            owned.entry(a.addr()).or_insert_with(|| {
                format!("a VRRP virtual address (vrrp[{i}].virtual_ipaddress[{k}])")
            });
        }
    }
    owned
}

/// The first real whose address the director owns.
pub(crate) fn reals_not_owned(cfg: &Config) -> Result<(), ConfigError> {
    let owned = owned(cfg);
    for (i, s) in cfg.services.iter().enumerate() {
        for (j, r) in s.reals.iter().enumerate() {
            if let Some(what) = owned.get(&r.address) {
                return Err(ConfigError::new(
                    format!("services[{i}].reals[{j}].address"),
                    format!("{} is {what}", r.address),
                ));
            }
        }
    }
    Ok(())
}
