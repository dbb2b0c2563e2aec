//! Two workers on two queue pairs: af_packet fans flows out by hash, so the
//! RS's replies often land on the core that does not own the connection and
//! must travel through the redirect ring. Needs root.
mod lab_common;
use std::time::Duration;

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
