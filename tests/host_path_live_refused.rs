//! Until the live twin exists, `ferrovs run` refuses a port with `host_iface`
//! before touching DPDK, naming the field (rather than dropping silently).
mod common;
use std::process::Command;

use common::*;

#[test]
fn run_refuses_host_iface_naming_the_field() {
    let text = std::fs::read_to_string(repo().join("configs/replay-host.yaml")).unwrap();
    // Core 0 is online on every machine.
    let text = text.replace("workers: {cores: [1]}", "workers: {cores: [0]}");
    let dir = tempdir();
    let cfg = dir.join("host.yaml");
    std::fs::write(&cfg, text).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ferrovs"))
        .args(["run", "--config"])
        .arg(&cfg)
        .output()
        .expect("running ferrovs run");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        stderr.contains("ports[0].host_iface: the live host path is not built yet"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
