//! Issue 11 §5: what the machine cannot give is refused by `ferrovs config
//! check` and by `ferrovs run` before DPDK starts, with the field named: a
//! `workers.cores` entry that is not an online CPU, a `conn_max` whose tables
//! do not fit the memory available. And a real on the director's own address.
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BASE: &str = r#"
workers: {cores: [CORE]}
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
control: {socket: SOCKET}
"#;

struct Yaml {
    dir: PathBuf,
    path: PathBuf,
}

impl Drop for Yaml {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `BASE` on the first online CPU, with `edit` applied, written to a file.
fn yaml(name: &str, edit: impl Fn(String) -> String) -> Yaml {
    let online = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    let first = online.trim().split([',', '-']).next().unwrap().to_string();
    let dir = std::env::temp_dir().join(format!("ferrovs-machine-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = edit(
        BASE.replace("CORE", &first)
            .replace("SOCKET", dir.join("ctl.sock").to_str().unwrap()),
    );
    let path = dir.join("c.yaml");
    std::fs::write(&path, text).unwrap();
    Yaml { dir, path }
}

fn ferrovs(args: &[&str], y: &Yaml) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrovs"))
        .args(args)
        .arg(&y.path)
        .output()
        .unwrap()
}

fn refused_by_check(y: &Yaml, expected: &str) {
    let o = ferrovs(&["config", "check"], y);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "accepted");
    assert!(err.contains(expected), "want {expected:?} in: {err}");
}

/// `ferrovs run` must exit non-zero with `expected` well before DPDK could
/// have started (no EAL log line).
fn refused_by_run(y: &Yaml, expected: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrovs"))
        .args(["run", "--config"])
        .arg(&y.path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ferrovs run still running: {expected} was not refused");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "run exited 0: {err}");
    assert!(err.contains(expected), "want {expected:?} in: {err}");
    assert!(!err.contains("EAL"), "DPDK was started: {err}");
}

#[test]
fn the_base_passes_the_machine_check() {
    let y = yaml("ok", |s| s);
    let o = ferrovs(&["config", "check"], &y);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_core_that_is_not_online_is_refused() {
    let y = yaml("core", |s| s.replace("cores: [", "cores: [4095, "));
    refused_by_check(
        &y,
        "workers.cores[0]: CPU 4095 is not online (online CPUs: ",
    );
    refused_by_run(&y, "workers.cores[0]: CPU 4095 is not online");
}

#[test]
fn a_conn_max_the_memory_cannot_hold_is_refused() {
    // 2^30 connections on one worker: about 160 GB of tables.
    let y = yaml("mem", |s| format!("{s}conn_max: 1073741824\n"));
    refused_by_check(
        &y,
        "conn_max: 1073741824 connections (1073741824 on each of 1 worker(s)) need ",
    );
    refused_by_check(&y, "bytes available (MemAvailable in /proc/meminfo)");
    refused_by_run(&y, "conn_max: 1073741824 connections");
}

#[test]
fn a_real_on_the_directors_own_address_is_refused() {
    let y = yaml("real", |s| {
        s.replace("address: 10.1.0.11", "address: 10.0.0.1")
    });
    refused_by_check(
        &y,
        "services[0].reals[0].address: 10.0.0.1 is the director's own address (ports[0].addresses[0])",
    );
}
