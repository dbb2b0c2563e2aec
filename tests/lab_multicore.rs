//! Two workers on two queue pairs: af_packet fans flows out by hash, so the
//! RS's replies often land on the core that does not own the connection and
//! must travel through the redirect ring. A local address added at run time
//! reaches the reply steering, which af_packet refuses. Needs root.
mod lab_common;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use lab_common::*;

const URL: &str = "http://10.99.0.100/";

/// The `redirected=N` figures of the director's exit summary, one per worker.
fn redirected(log: &str) -> Vec<u64> {
    log.lines()
        .filter(|l| l.contains("worker totals"))
        .filter_map(|l| {
            let at = l.find("redirected=")? + "redirected=".len();
            let digits: String = l[at..].chars().take_while(|c| c.is_ascii_digit()).collect();
            digits.parse().ok()
        })
        .collect()
}

#[test]
fn five_hundred_requests_through_two_workers_use_the_redirect_path() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    let mut director = lab.director(&repo().join("configs/lab-2workers.yaml"));
    lab.wait_for_service(URL, Duration::from_secs(30));
    let r = lab.http_requests(URL, 500);
    assert_eq!(
        r["ok"],
        500,
        "all requests succeed: {r}\n{}",
        director.log_text()
    );
    steering_follows_a_new_local_address(&director);
    let st = director.terminate(Duration::from_secs(15));
    assert!(st.success(), "clean exit: {st:?}");
    let log = director.log_text();
    let per_worker = redirected(&log);
    assert_eq!(per_worker.len(), 2, "two workers reported: {log}");
    assert!(
        per_worker.iter().sum::<u64>() > 0,
        "the redirect path was used: {per_worker:?}\n{log}"
    );
}

/// No local address at start: nothing to steer, nothing said. Adding one with
/// `fvsadm -P` makes the daemon try rte_flow, which af_packet refuses: the
/// fallback to the rings is then said once (the runtime path of steering).
fn steering_follows_a_new_local_address(director: &Director) {
    let says = |log: &str| log.matches("go through the redirect rings").count();
    assert_eq!(says(&director.log_text()), 0, "{}", director.log_text());
    let fvsadm = Path::new(env!("CARGO_BIN_EXE_ferrovs")).with_file_name("fvsadm");
    let o = Command::new(fvsadm)
        .args(["--socket", "/run/ferrovs/ferrovs.sock"])
        .args(["-P", "-t", "10.99.0.100:80", "-z", "10.99.1.100"])
        .output()
        .expect("running fvsadm");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let start = Instant::now();
    while says(&director.log_text()) == 0 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = director.log_text();
    assert_eq!(says(&log), 1, "the change reached the steering: {log}");
    assert!(log.contains("rte_flow_validate failed"), "{log}");
}
