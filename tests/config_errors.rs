//! A wrong config is refused whole by `ferrovs config check` (and `run`),
//! with an error that names the field.
use std::process::Command;

fn check(yaml: &str) -> (bool, String) {
    let path = std::env::temp_dir().join(format!(
        "ferrovs-cfg-{}-{}.yaml",
        std::process::id(),
        fastrand()
    ));
    std::fs::write(&path, yaml).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ferrovs"))
        .args(["config", "check"])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn fastrand() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

const BASE: &str = r#"
workers: {cores: [1]}
ports:
  - {name: eth0, device: "net_null0", mac: "02:00:00:00:00:01", addresses: [10.0.0.1/24]}
routes: [{prefix: 0.0.0.0/0, via: 10.0.0.254, port: eth0}]
services:
  - name: web
    vip: 10.0.0.100
    port: 80
    protocol: tcp
    scheduler: rr
    reals:
      - {address: 10.1.0.11, port: 8080}
      - {address: 10.1.0.12, port: 8080, weight: 1}
"#;

fn refused(yaml: &str, expected: &str) {
    let (ok, err) = check(yaml);
    assert!(!ok, "config should be refused: {yaml}");
    assert!(
        err.contains(expected),
        "error should contain {expected:?}, got: {err}"
    );
}

#[test]
fn the_base_config_is_accepted() {
    let (ok, err) = check(BASE);
    assert!(ok, "{err}");
}

#[test]
fn unknown_scheduler_is_refused_naming_the_field() {
    refused(
        &BASE.replace("scheduler: rr", "scheduler: fastest"),
        "services[0].scheduler",
    );
}

#[test]
fn weight_out_of_range_is_refused_naming_the_field() {
    refused(
        &BASE.replace("weight: 1}", "weight: 70000}"),
        "services[0].reals[1].weight: must be 0..=65535",
    );
}

#[test]
fn missing_vip_is_refused_naming_the_field() {
    refused(
        &BASE.replace("    vip: 10.0.0.100\n", ""),
        "services[0].vip: missing",
    );
}

#[test]
fn route_to_an_unknown_port_is_refused_naming_the_field() {
    refused(
        &BASE.replace("port: eth0}]", "port: eth9}]"),
        "routes[0].port: unknown port \"eth9\"",
    );
}

#[test]
fn duplicate_service_is_refused_naming_the_field() {
    let dup = format!(
        "{BASE}  - name: web2\n    vip: 10.0.0.100\n    port: 80\n    protocol: tcp\n    reals: [{{address: 10.1.0.13, port: 8080}}]\n"
    );
    refused(&dup, "services[1]: duplicate of services[0]");
}

#[test]
fn replay_refuses_a_port_without_mac() {
    let yaml = BASE.replace(", mac: \"02:00:00:00:00:01\"", "");
    let dir = std::env::temp_dir().join(format!("ferrovs-nomac-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("c.yaml");
    std::fs::write(&cfg, yaml).unwrap();
    std::fs::write(
        dir.join("in.pcap"),
        [
            0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0,
            0,
        ],
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ferrovs"))
        .args(["replay", "--config"])
        .arg(&cfg)
        .arg("--in")
        .arg(dir.join("in.pcap"))
        .arg("--out")
        .arg(dir.join("out.pcap"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("ports[0].mac"));
}
