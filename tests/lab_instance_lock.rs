//! Issue 11 §5 live: a second ferrovs on an interface a running ferrovs uses
//! is refused before DPDK starts, naming the port and the holder's pid, and
//! the first keeps serving every request. Before that, the running daemon
//! refuses a real on its own VIP with ipvsadm's message.
mod lab_common;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lab_common::*;

const URL: &str = "http://10.99.0.100/";

/// configs/lab.yaml with its own control socket and metrics port, and
/// `device` for the port.
fn config(dir: &Path, name: &str, device: &str, metrics: &str) -> (PathBuf, PathBuf) {
    let base = std::fs::read_to_string(repo().join("configs/lab.yaml")).unwrap();
    let sock = dir.join(format!("{name}.sock"));
    let text = base
        .replace("/run/ferrovs/ferrovs.sock", sock.to_str().unwrap())
        .replace("127.0.0.1:9180", metrics)
        .replace("net_af_packet0,iface=fvs-lb0,qpairs=1", device);
    assert!(text.contains(device) && text.contains(metrics));
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).unwrap();
    (path, sock)
}

#[test]
fn a_second_director_on_the_same_interface_is_refused_and_the_first_serves_on() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (first_cfg, sock) = config(
        dir.path(),
        "first",
        "net_af_packet0,iface=fvs-lb0,qpairs=1",
        "127.0.0.1:9180",
    );
    let mut first = lab.director(&first_cfg);
    lab.wait_for_service(URL, Duration::from_secs(30));

    // A real on the VIP: ipvsadm's EINVAL text; the daemon's log names the field.
    let (rc, out, err) = fvsadm(
        &sock,
        &["-a", "-t", "10.99.0.100:80", "-r", "10.99.0.100:8080", "-m"],
    );
    assert_eq!(
        (rc, out.as_str(), err.as_str()),
        (
            255,
            "",
            "Invalid operation.  Possibly wrong module version, address not unicast, ...\n"
        )
    );
    let (rc, listing, _) = fvsadm(&sock, &["-Ln"]);
    assert_eq!(rc, 0);
    assert!(!listing.contains("10.99.0.100:8080"), "{listing}");
    assert!(
        first
            .log_text()
            .contains("services[0].reals[3].address: 10.99.0.100 is a VIP (services[0].vip)"),
        "{}",
        first.log_text()
    );

    // Another vdev string, the same interface; its own socket and metrics
    // port, so only the lock can refuse it.
    let (second_cfg, _) = config(
        dir.path(),
        "second",
        "net_af_packet1,iface=fvs-lb0",
        "127.0.0.1:9181",
    );
    let start = Instant::now();
    let mut second = lab.director(&second_cfg);
    let st = second.wait_exit(Duration::from_secs(10));
    let log = second.log_text();
    assert!(!st.success(), "second director exited 0: {log}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    let pid = first.pid().unwrap();
    assert!(
        log.contains(&format!(
            "ports[0].device: interface fvs-lb0 is in use by another ferrovs (pid {pid}; lock /run/ferrovs/lock/iface-net"
        )),
        "{log}"
    );
    assert!(!log.contains("initialising DPDK EAL"), "{log}");

    let r = lab.http_requests(URL, 300);
    assert_eq!(r["ok"], 300, "{r}\n{}", first.log_text());
    assert_eq!(r["failed"], 0, "{r}");
    let st = first.terminate(Duration::from_secs(15));
    assert!(st.success(), "{st:?}\n{}", first.log_text());

    // The lock died with its holder: the second config starts now.
    let mut second = lab.director(&second_cfg);
    lab.wait_for_service(URL, Duration::from_secs(30));
    assert!(second.terminate(Duration::from_secs(15)).success());
}
