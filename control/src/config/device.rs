//! What a port's `device` string holds on the machine: the network interface
//! a vdev attaches to (`net_af_packet0,iface=lb0` -> lb0), the PCI function
//! of a NIC (`01:00.0` -> 0000:01:00.0), a memif socket. Two ports, or two
//! ferrovs processes, must never share one: both would forward.

use std::collections::HashMap;
use std::fmt;

use super::error::ConfigError;
use super::model::Port;

/// One thing on the machine a port's device uses exclusively.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceResource {
    /// A kernel network interface (af_packet, af_xdp, pcap, tap, ...).
    Iface(String),
    /// A PCI function, `domain:bus:device.function`, lower case.
    Pci(String),
    /// A memif control socket path.
    MemifSocket(String),
}

impl DeviceResource {
    /// A short kind, for lock file names.
    pub fn kind(&self) -> &'static str {
        match self {
            DeviceResource::Iface(_) => "iface",
            DeviceResource::Pci(_) => "pci",
            DeviceResource::MemifSocket(_) => "memif",
        }
    }

    pub fn name(&self) -> &str {
        match self {
            DeviceResource::Iface(n) | DeviceResource::Pci(n) | DeviceResource::MemifSocket(n) => n,
        }
    }
}

impl fmt::Display for DeviceResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceResource::Iface(n) => write!(f, "interface {n}"),
            DeviceResource::Pci(n) => write!(f, "PCI device {n}"),
            DeviceResource::MemifSocket(n) => write!(f, "memif socket {n}"),
        }
    }
}

/// vdev arguments that name a kernel interface.
const IFACE_KEYS: [&str; 4] = ["iface", "rx_iface", "tx_iface", "rx_iface_in"];

/// What `device` (a PCI address or a DPDK vdev string) uses; empty for
/// vdevs that attach to nothing outside the process (net_null, net_ring).
pub fn device_resources(device: &str) -> Vec<DeviceResource> {
    let mut parts = device.split(',');
    let name = parts.next().unwrap_or_default().trim();
    if !name.starts_with("net_") {
        return vec![DeviceResource::Pci(pci_address(name))];
    }
    let mut out = Vec::new();
    for arg in parts {
        let Some((key, value)) = arg.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let r = if IFACE_KEYS.contains(&key) {
            DeviceResource::Iface(value.to_string())
        } else if key == "socket" && name.starts_with("net_memif") {
            DeviceResource::MemifSocket(value.to_string())
        } else {
            continue;
        };
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// `01:00.0` and `0000:01:00.0` (any case) are one function.
fn pci_address(a: &str) -> String {
    let a = a.to_ascii_lowercase();
    if a.matches(':').count() == 1 {
        format!("0000:{a}")
    } else {
        a
    }
}

/// No two ports use the same interface, PCI function or socket.
pub(crate) fn distinct(ports: &[Port]) -> Result<(), ConfigError> {
    let mut seen: HashMap<DeviceResource, usize> = HashMap::new();
    for (i, p) in ports.iter().enumerate() {
        for r in device_resources(&p.device) {
            if let Some(j) = seen.get(&r) {
                return Err(ConfigError::new(
                    format!("ports[{i}].device"),
                    format!("{r} is already used by ports[{j}].device"),
                ));
            }
            seen.insert(r, i);
        }
    }
    Ok(())
}
