//! What a port's device string uses on the machine, and two ports that
//! share it.

use super::{base, check, check_ok};
use crate::config::{device_resources, DeviceResource};

fn iface(n: &str) -> DeviceResource {
    DeviceResource::Iface(n.into())
}

#[test]
fn resources_of_device_strings() {
    assert_eq!(
        device_resources("net_af_packet0,iface=lb0,qpairs=2"),
        [iface("lb0")]
    );
    assert_eq!(device_resources("net_af_xdp1,iface=lb0"), [iface("lb0")]);
    assert_eq!(
        device_resources("net_pcap0,rx_iface=a,tx_iface=b"),
        [iface("a"), iface("b")]
    );
    assert_eq!(device_resources("net_pcap0,iface=a"), [iface("a")]);
    assert_eq!(
        device_resources("net_memif0,role=server,socket=/run/m.sock"),
        [DeviceResource::MemifSocket("/run/m.sock".into())]
    );
    assert_eq!(
        device_resources("0000:01:00.0"),
        [DeviceResource::Pci("0000:01:00.0".into())]
    );
    assert_eq!(
        device_resources("01:00.0,rxq_pkt_pad_en=1"),
        [DeviceResource::Pci("0000:01:00.0".into())]
    );
    assert_eq!(
        device_resources("0000:AF:00.1"),
        [DeviceResource::Pci("0000:af:00.1".into())]
    );
    assert!(device_resources("net_null0").is_empty());
    assert_eq!(iface("lb0").to_string(), "interface lb0");
}

#[test]
fn two_ports_on_one_interface() {
    let mut cfg = base();
    // Another vdev driver, the same interface.
    cfg.ports[1].device = "net_af_xdp0,iface=lb0".into();
    check(
        &cfg,
        "ports[1].device",
        "interface lb0 is already used by ports[0].device",
    );
    cfg.ports[1].device = "net_null0".into();
    check_ok(&cfg);
    cfg.ports[0].device = "01:00.0".into();
    cfg.ports[1].device = "0000:01:00.0".into();
    check(
        &cfg,
        "ports[1].device",
        "PCI device 0000:01:00.0 is already used by ports[0].device",
    );
}
