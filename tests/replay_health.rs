//! Health checks in a configuration: `config check` accepts them, and
//! `ferrovs replay` (no network to probe) ignores them and treats every real
//! as up; the live checker is tested on the lab (tests/lab_health.rs).
mod common;
use std::process::Command;

use common::*;

/// replay-nat.yaml with a service-level HTTP check and a notify script.
fn checked_config(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(nat_config()).unwrap();
    // Core 0 is online on every machine.
    let text = text
        .replace("workers: {cores: [1]}", "workers: {cores: [0]}")
        .replace(
            "    forward: nat\n",
            "    forward: nat\n    delay_loop: 2\n    checks:\n      - http_get: {urls: [{path: /health, status_code: [200]}], retry: 1}\n",
        )
        .replace(
            "      - {address: 10.1.0.13, port: 8080}",
            "      - {address: 10.1.0.13, port: 8080, notify_down: /usr/local/bin/rs-down}",
        );
    assert!(text.contains("http_get") && text.contains("notify_down"));
    let cfg = dir.join("checked.yaml");
    std::fs::write(&cfg, text).unwrap();
    cfg
}

#[test]
fn config_check_accepts_checks() {
    let dir = tempdir();
    let cfg = checked_config(&dir);
    let check = Command::new(env!("CARGO_BIN_EXE_ferrovs"))
        .args(["config", "check"])
        .arg(&cfg)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn replay_ignores_checks_every_real_is_up() {
    let dir = tempdir();
    let cfg = checked_config(&dir);
    let frames: Vec<(u64, Vec<u8>)> = (0..3u16)
        .map(|i| {
            (
                1_000_000_000,
                tcp_frame(CLIENT_MAC, CLIENT, 40000 + i, VIP, 80, SYN),
            )
        })
        .collect();
    let r = replay(&cfg, &frames);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(r.out.len(), 3, "{}", r.report);
    let mut reals: Vec<[u8; 4]> = r
        .out
        .iter()
        .map(|(_, f)| [f[30], f[31], f[32], f[33]])
        .collect();
    reals.sort();
    assert_eq!(reals, RS.map(|a| a.octets()), "rr over all three reals");
}
