//! Live NAT on the lab: kernel TCP clients and servers in network namespaces,
//! the director on a DPDK af_packet port. Needs root (CI runs as root).
mod lab_common;
use std::time::Duration;

use lab_common::*;

const URL: &str = "http://10.99.0.100/";

#[test]
fn three_hundred_http_requests_spread_over_three_servers_then_clean_exit() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    let mut director = lab.director(&repo().join("configs/lab.yaml"));
    lab.wait_for_service(URL, Duration::from_secs(30));
    let r = lab.http_requests(URL, 300);
    assert_eq!(
        r["ok"],
        300,
        "all requests succeed: {r}\n{}",
        director.log_text()
    );
    assert_eq!(r["failed"], 0);
    // rr cycles over three servers; 300 is a multiple of 3, so wherever the
    // readiness probe left the cursor, each server serves exactly 100.
    for rs in ["rs1", "rs2", "rs3"] {
        assert_eq!(r["by_server"][rs], 100, "{rs}: {r}");
    }
    let st = director.terminate(Duration::from_secs(15));
    assert!(
        st.success(),
        "director exits 0 on SIGTERM: {st:?}\n{}",
        director.log_text()
    );
    assert!(director.log_text().contains("ferrovs stopped"));
}
