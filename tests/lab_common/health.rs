//! Shared by the health-check lab tests: the service YAML they start from,
//! and polling what fvsadm lists.
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{fvsadm, repo, Background, Lab};

pub const URL: &str = "http://10.99.0.100/";
pub const RUN: &str = "/tmp/ferrovs-lab";

pub fn services(checks: &str, reals: &str) -> String {
    format!(
        "services:\n  - name: web\n    vip: 10.99.0.100\n    port: 80\n    protocol: tcp\n    \
         scheduler: rr\n    forward: nat\n    delay_loop: 1\n{checks}    reals:\n{reals}"
    )
}

pub const THREE_REALS: &str = "      - {address: 10.99.1.11, port: 8080, weight: 1}\n      \
     - {address: 10.99.1.12, port: 8080, weight: 1}\n      \
     - {address: 10.99.1.13, port: 8080, weight: 1}\n";

pub fn http_check(path: &str, extra: &str) -> String {
    format!(
        "    checks:\n      - http_get:\n          urls: [{{path: \"{path}\", status_code: [200]{extra}}}]\n          \
         connect_timeout: 1\n          retry: 1\n          delay_before_retry: 1\n"
    )
}

pub fn wall() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The reals `fvsadm -Ln` lists for the VIP.
pub fn listed(sock: &Path) -> String {
    let (rc, out, err) = fvsadm(sock, &["-Ln"]);
    assert_eq!(rc, 0, "{err}");
    out
}

/// Polls (bounded) until `cond` holds on `fvsadm -Ln`; the time it took.
pub fn until_listed(
    sock: &Path,
    within: Duration,
    cond: impl Fn(&str) -> bool,
) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < within {
        if cond(&listed(sock)) {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Every check listed by `fvsadm -L --health` has run and passed.
pub fn wait_all_checks_pass(sock: &Path, n: usize, within: Duration) {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < within {
        let (_, out, _) = fvsadm(sock, &["-L", "--health"]);
        let ok = out
            .lines()
            .filter(|l| l.contains(" UP ") && l.ends_with(": ok"))
            .count();
        if ok == n {
            return;
        }
        last = out;
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("checks not all passing within {within:?}:\n{last}");
}

pub fn kill_pidfile(path: &str) {
    let pid = std::fs::read_to_string(path).unwrap();
    let st = std::process::Command::new("kill")
        .arg(pid.trim())
        .status()
        .unwrap();
    assert!(st.success(), "kill {path}");
}

/// Starts the lab's HTTP server again for real server `n` on 8080.
pub fn restart_server(lab: &Lab, n: usize) -> Background {
    let server = repo().join("tests/lab/http_server.py");
    lab.spawn(
        &format!("rs{n}"),
        &[
            "python3",
            server.to_str().unwrap(),
            "--port",
            "8080",
            "--dir",
            &format!("{RUN}/www{n}"),
            "--lifetime",
            "120",
        ],
    )
}
