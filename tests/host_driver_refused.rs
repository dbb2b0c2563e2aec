//! `ports[].host_driver: virtio_user` needs /dev/vhost-net; without it
//! `ferrovs run` refuses before touching DPDK, naming the field, instead of
//! failing somewhere inside the EAL.
mod common;
use std::process::Command;

use common::*;

#[test]
fn virtio_user_without_vhost_net_is_refused_naming_the_field() {
    let text = std::fs::read_to_string(repo().join("configs/replay-host.yaml")).unwrap();
    // Core 0 is online on every machine.
    let text = text
        .replace("workers: {cores: [1]}", "workers: {cores: [0]}")
        .replace(
            "host_iface: fvs-host0",
            "host_iface: fvs-host0\n    host_driver: virtio_user",
        );
    assert!(text.contains("host_driver: virtio_user"));
    let dir = tempdir();
    let cfg = dir.join("host.yaml");
    std::fs::write(&cfg, text).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ferrovs"))
        .args(["run", "--config"])
        .arg(&cfg)
        .output()
        .expect("running ferrovs run");
    let stderr = String::from_utf8_lossy(&o.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    let refusal = "ports[0].host_driver: virtio_user needs /dev/vhost-net";
    if std::path::Path::new("/dev/vhost-net").exists() {
        // The device is there: whatever else stops this run, it is not that.
        assert!(!stderr.contains(refusal), "{stderr}");
    } else {
        assert!(!o.status.success());
        assert!(stderr.contains(refusal), "{stderr}");
    }
}
