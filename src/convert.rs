//! Turns the validated YAML model (control crate) into the dataplane's
//! runtime snapshot: names resolved to port indices, MACs filled in.
use std::collections::HashMap;

use anyhow::{anyhow, Result};
use control::config::{self as cfg, Config};
use dataplane::mastership::VrrpSpec;
use dataplane::snapshot::{
    Encap, Forward, HostSpec, Ipv4Prefix, MarkSpec, NeighborSpec, Persistence, PortMatch, PortSpec,
    RealSpec, RouteSpec, ServiceSpec, Snapshot,
};
use dataplane::wire::MacAddr;

use crate::daemon::ids::Ids;

/// `macs[i]` is the MAC of port i when the config does not give one (live: read
/// from the device). Replay passes none, so every port must name its MAC.
pub fn snapshot(config: &Config, macs: &[Option<[u8; 6]>], cores: usize) -> Result<Snapshot> {
    snapshot_with_ids(config, macs, cores, &mut Ids::default())
}

/// As `snapshot`, with service and real ids kept stable by `ids` across calls.
pub fn snapshot_with_ids(
    config: &Config,
    macs: &[Option<[u8; 6]>],
    cores: usize,
    ids: &mut Ids,
) -> Result<Snapshot> {
    let port_index: HashMap<&str, usize> = config
        .ports
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    let idx = |name: &str, field: String| {
        port_index
            .get(name)
            .copied()
            .ok_or_else(|| anyhow!("{field}: unknown port {name:?}"))
    };
    let mut ports = Vec::new();
    for (i, p) in config.ports.iter().enumerate() {
        let mac = match (p.mac, macs.get(i).copied().flatten()) {
            (Some(m), _) => m.octets(),
            (None, Some(m)) => m,
            (None, None) => {
                return Err(anyhow!(
                    "ports[{i}].mac: required when the MAC cannot be read from a device (replay)"
                ))
            }
        };
        ports.push(PortSpec {
            name: p.name.clone(),
            mac: MacAddr(mac),
            addresses: config
                .port_addresses_with_virtual(i)
                .iter()
                .map(|a| Ipv4Prefix {
                    addr: a.addr,
                    len: a.len,
                })
                .collect(),
            mtu: p.mtu,
            host: p.host_iface.as_ref().map(|iface| HostSpec {
                iface: iface.clone(),
                rate_pps: p.host_rate_pps,
            }),
        });
    }
    let mut routes = Vec::new();
    for (i, r) in config.routes.iter().enumerate() {
        routes.push(RouteSpec {
            prefix: Ipv4Prefix {
                addr: r.prefix.addr,
                len: r.prefix.len,
            },
            via: r.via,
            port: idx(&r.port, format!("routes[{i}].port"))?,
        });
    }
    let mut neighbors = Vec::new();
    for (i, n) in config.neighbors.iter().enumerate() {
        neighbors.push(NeighborSpec {
            ip: n.ip,
            mac: MacAddr(n.mac.octets()),
            port: idx(&n.port, format!("neighbors[{i}].port"))?,
        });
    }
    let services = config.services.iter().map(|s| service(s, ids)).collect();
    let marks = config.marks.iter().map(mark).collect();
    let mut timeouts = dataplane::conntrack::Timeouts::default();
    timeouts.set_tcp_tcpfin_udp(
        config.timeouts.tcp,
        config.timeouts.tcpfin,
        config.timeouts.udp,
    );
    let mut vrrp = Vec::new();
    for (i, v) in config.vrrp.iter().enumerate() {
        vrrp.push(VrrpSpec {
            port: idx(&v.port, format!("vrrp[{i}].port"))?,
            addresses: v.virtual_ipaddress.iter().map(|a| a.addr()).collect(),
            garp_repeat: u32::from(v.garp_master_repeat),
        });
    }
    let mut snap = Snapshot {
        generation: 0,
        ports,
        routes,
        neighbors,
        marks,
        services,
        timeouts,
        conns_per_core: cfg::conns_per_worker(config.conn_max_or_default(), cores),
        expire_nodest_conn: config.control.expire_nodest_conn,
        vrrp,
        owned: Vec::new(),
    };
    snap.index_owned();
    Ok(snap)
}

fn service(s: &cfg::Service, ids: &mut Ids) -> ServiceSpec {
    let id = ids.service(s);
    // A firewall-mark service takes whatever port its mark covers.
    let ports = if s.fwmark.is_some() || s.all_ports() {
        PortMatch::All
    } else if let Some(p) = s.single_port() {
        PortMatch::One(p)
    } else {
        let ranges = s.port_ranges();
        match ranges.as_slice() {
            [r] => PortMatch::Range(r.first, r.last),
            _ => PortMatch::List(ranges.iter().flat_map(|r| r.first..=r.last).collect()),
        }
    };
    ServiceSpec {
        id,
        name: s.name.clone(),
        fwmark: s.fwmark,
        proto: proto(s.protocol()),
        vip: s.vip(),
        ports,
        scheduler: s.scheduler.as_str().to_owned(),
        flags: dataplane::sched::SchedFlags {
            sh_fallback: s.has_flag(cfg::SchedFlag::ShFallback),
            sh_port: s.has_flag(cfg::SchedFlag::ShPort),
            mh_fallback: s.has_flag(cfg::SchedFlag::MhFallback),
            mh_port: s.has_flag(cfg::SchedFlag::MhPort),
        },
        persistence: s.persistence.as_ref().map(|p| Persistence {
            timeout_s: p.timeout,
            netmask: p.netmask,
        }),
        ops: s.ops,
        local_addresses: s.local_addresses.clone(),
        toa: s.toa,
        reals: s
            .reals
            .iter()
            .map(|r| RealSpec {
                id: ids.real(id, r.address, s.real_port(r)),
                addr: r.address,
                port: s.real_port(r),
                weight: r.weight,
                upper_threshold: r.upper_threshold,
                lower_threshold: r.lower_threshold,
                forward: forward(s.forward_of(r)),
                encap: s.tunnel_of(r).map_or(Encap::Ipip, encap),
            })
            .collect(),
    }
}

/// The dataplane's tunnel for a real's resolved tunnel. `remcsum` needs
/// a checksum still to be completed (IPVS uses it only for CHECKSUM_PARTIAL
/// packets); every forwarded packet's is complete, so it sends GUE with a
/// filled UDP checksum, exactly like `csum`.
fn encap(t: cfg::Tunnel) -> Encap {
    let csum = t.flags != cfg::TunFlags::Nocsum;
    match t.kind {
        cfg::TunType::Ipip => Encap::Ipip,
        cfg::TunType::Gue => Encap::Gue { port: t.port, csum },
        cfg::TunType::Gre => Encap::Gre {
            csum: t.flags == cfg::TunFlags::Csum,
        },
    }
}

fn proto(p: cfg::Protocol) -> dataplane::conntrack::Proto {
    match p {
        cfg::Protocol::Tcp => dataplane::conntrack::Proto::Tcp,
        cfg::Protocol::Udp => dataplane::conntrack::Proto::Udp,
    }
}

fn mark(m: &cfg::MarkRule) -> MarkSpec {
    MarkSpec {
        mark: m.mark,
        dst: Ipv4Prefix {
            addr: m.vip.0.addr,
            len: m.vip.0.len,
        },
        proto: proto(m.protocol),
        ports: m.ports.iter().map(|p| (p.0.first, p.0.last)).collect(),
    }
}

fn forward(f: cfg::Forward) -> Forward {
    match f {
        cfg::Forward::Nat => Forward::Nat,
        cfg::Forward::FullNat => Forward::FullNat,
        cfg::Forward::Dr => Forward::Dr,
        cfg::Forward::Tun => Forward::Tun,
    }
}
