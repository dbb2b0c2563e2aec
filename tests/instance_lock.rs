//! Issue 11 §5: one ferrovs per interface, PCI function or memif socket.
//! flock locks belong to an open file, so a second `lock_ports` in this
//! process is refused exactly as a second ferrovs would be.
use control::config::{Config, DeviceResource, Port};
use ferrovs::instance_lock::{current_netns, lock_file_name, lock_ports, LockError};

fn ports(devices: &[&str]) -> Vec<Port> {
    let mut yaml = String::from("workers: {cores: [1]}\nports:\n");
    for (i, d) in devices.iter().enumerate() {
        yaml.push_str(&format!("  - {{name: eth{i}, device: \"{d}\"}}\n"));
    }
    Config::from_yaml_str(&yaml).unwrap().ports
}

#[test]
fn a_second_holder_of_an_interface_is_refused_naming_the_port_and_pid() {
    let dir = tempfile::tempdir().unwrap();
    let first = lock_ports(
        dir.path(),
        "net1",
        &ports(&["net_null0", "net_af_packet0,iface=lb0"]),
    )
    .unwrap();
    assert_eq!(first.paths().count(), 1);
    let pid = std::fs::read_to_string(first.paths().next().unwrap()).unwrap();
    assert_eq!(pid, format!("{}\n", std::process::id()));
    // Another vdev driver on the same interface.
    let e = lock_ports(dir.path(), "net1", &ports(&["net_af_xdp3,iface=lb0"])).unwrap_err();
    assert!(
        matches!(&e, LockError::InUse { port: 0, holder: Some(p), .. } if *p == std::process::id()),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.starts_with(&format!(
            "ports[0].device: interface lb0 is in use by another ferrovs (pid {}; lock ",
            std::process::id()
        )),
        "{text}"
    );
    // The same name in another network namespace is another interface.
    lock_ports(dir.path(), "net2", &ports(&["net_af_xdp3,iface=lb0"])).unwrap();
    // Released with its holder.
    drop(first);
    lock_ports(dir.path(), "net1", &ports(&["net_af_xdp3,iface=lb0"])).unwrap();
}

#[test]
fn pci_functions_and_the_second_port_of_a_config() {
    let dir = tempfile::tempdir().unwrap();
    let _held = lock_ports(dir.path(), "net1", &ports(&["0000:01:00.0"])).unwrap();
    let e = lock_ports(
        dir.path(),
        "net1",
        &ports(&["net_af_packet0,iface=lb1", "01:00.0"]),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("ports[1].device: PCI device 0000:01:00.0 is in use by another ferrovs"),
        "{e}"
    );
    // What the refused attempt had taken is released again.
    lock_ports(dir.path(), "net1", &ports(&["net_af_packet0,iface=lb1"])).unwrap();
}

#[test]
fn lock_file_names_keep_names_apart() {
    let n = |r: DeviceResource| lock_file_name(&r, "net7");
    assert_eq!(
        n(DeviceResource::Iface("lb0".into())),
        "iface-net7-lb0.lock"
    );
    assert_ne!(
        n(DeviceResource::Iface("a/b".into())),
        n(DeviceResource::Iface("a_b".into()))
    );
    assert_eq!(
        n(DeviceResource::Pci("0000:01:00.0".into())),
        "pci-0000%3A01%3A00.0.lock"
    );
    assert!(current_netns().starts_with("net"));
}
