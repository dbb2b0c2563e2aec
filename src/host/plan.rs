//! What a port's kernel twin is given, read from the config: its name, the
//! port's MAC and MTU, the port's addresses and the config's routes through
//! that port. Pure, so what the kernel will be told is tested without it.
use std::net::Ipv4Addr;

use control::config::{Config, Ipv4Net};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwinPlan {
    /// Index of the port in the config.
    pub port: usize,
    /// `ports[].name`, for logs and metrics.
    pub port_name: String,
    /// `ports[].host_iface`.
    pub iface: String,
    pub mac: [u8; 6],
    pub mtu: u16,
    pub addresses: Vec<Ipv4Net>,
    pub routes: Vec<TwinRoute>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TwinRoute {
    pub prefix: Ipv4Net,
    /// `None`: directly connected through the twin.
    pub via: Option<Ipv4Addr>,
}

/// One plan per port with a `host_iface`; `macs[i]` is port `i`'s MAC as the
/// device reports it (the config's `mac` where the device has none).
pub fn plans(cfg: &Config, macs: &[Option<[u8; 6]>]) -> Vec<TwinPlan> {
    cfg.ports
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let iface = p.host_iface.clone()?;
            let mac = macs
                .get(i)
                .copied()
                .flatten()
                .or(p.mac.map(|m| m.0))
                .unwrap_or_default();
            let routes = cfg
                .routes
                .iter()
                .filter(|r| r.port == p.name)
                // A connected prefix of an address is the kernel's own route.
                .filter(|r| r.via.is_some() || !p.addresses.iter().any(|a| same_net(a, &r.prefix)))
                .map(|r| TwinRoute {
                    prefix: r.prefix,
                    via: r.via,
                })
                .collect();
            Some(TwinPlan {
                port: i,
                port_name: p.name.clone(),
                iface,
                mac,
                mtu: p.mtu,
                addresses: p.addresses.clone(),
                routes,
            })
        })
        .collect()
}

fn same_net(addr: &Ipv4Net, prefix: &Ipv4Net) -> bool {
    addr.len == prefix.len && addr.network() == prefix.network()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
workers: {cores: [1]}
ports:
  - name: wan
    device: net_af_packet0,iface=lb0
    mac: "02:00:00:00:00:01"
    addresses: [10.0.0.1/24, 10.1.0.1/24]
    mtu: 9000
    host_iface: fvs-wan
  - name: lan
    device: net_af_packet1,iface=lb1
    mac: "02:00:00:00:00:02"
    addresses: [10.2.0.1/24]
routes:
  - {prefix: 0.0.0.0/0, via: 10.0.0.254, port: wan}
  - {prefix: 10.0.0.0/24, port: wan}
  - {prefix: 10.9.0.0/16, port: wan}
  - {prefix: 10.3.0.0/16, via: 10.2.0.254, port: lan}
services: []
"#;

    #[test]
    fn a_twin_gets_its_ports_addresses_and_routes_only() {
        let cfg = control::config::Config::from_yaml_str(CONFIG).unwrap();
        let p = plans(&cfg, &[Some([2, 0, 0, 0, 0, 9]), None]);
        assert_eq!(p.len(), 1, "only ports with host_iface");
        let t = &p[0];
        assert_eq!((t.port, t.iface.as_str(), t.mtu), (0, "fvs-wan", 9000));
        assert_eq!(t.mac, [2, 0, 0, 0, 0, 9], "the device's MAC wins");
        assert_eq!(t.addresses, cfg.ports[0].addresses);
        let routes: Vec<String> = t
            .routes
            .iter()
            .map(|r| format!("{} {:?}", r.prefix, r.via))
            .collect();
        assert_eq!(
            routes,
            ["0.0.0.0/0 Some(10.0.0.254)", "10.9.0.0/16 None"],
            "the connected 10.0.0.0/24 is the kernel's own; lan's routes are not wan's"
        );
        let p = plans(&cfg, &[None, None]);
        assert_eq!(
            p[0].mac,
            [2, 0, 0, 0, 0, 1],
            "the config's MAC without a device one"
        );
    }
}
