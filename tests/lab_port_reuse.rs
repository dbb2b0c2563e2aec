//! Issue 11 §2 live: a client that reuses its source port (load generators,
//! NAT gateways) starts a new connection each time, as Linux IPVS does with
//! conn_reuse_mode 1: the director's entry for the port is in TIME_WAIT, the
//! client's SYN expires it and is scheduled anew, so rr spreads the reused
//! port over every real and a real removed with `fvsadm -d` is never reached.
mod lab_common;
use std::time::Duration;

use lab_common::*;

const URL: &str = "http://10.99.0.100/";
const SPORT: &str = "45123";

/// Requests from the client namespace, every one from source port `SPORT`.
fn requests_from_one_port(lab: &Lab, n: usize) -> serde_json::Value {
    lab.http_client(URL, n, &["--sport", SPORT, "--deadline", "60"])
}

#[test]
fn a_client_reusing_its_port_is_rescheduled_and_never_reaches_a_removed_real() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    let cfg = LabConfig::new("reuse", None);
    let sock = &cfg.sock;
    assert!(
        std::fs::read_to_string(&cfg.path)
            .unwrap()
            .contains("scheduler: rr"),
        "the lab service is rr"
    );
    let mut director = lab.director(&cfg.path);
    lab.wait_for_service(URL, Duration::from_secs(30));

    // Every connection from the one port: each finds the last one's entry in
    // TIME_WAIT and is scheduled anew, so rr spreads them evenly.
    let r = requests_from_one_port(&lab, 9);
    assert_eq!(r["ok"], 9, "{r}");
    for rs in ["rs1", "rs2", "rs3"] {
        assert_eq!(r["by_server"][rs], 3, "rr over every real: {r}");
    }
    let (_, conns, _) = fvsadm(sock, &["-Lnc"]);
    assert!(
        conns.contains(&format!("TIME_WAIT   10.99.0.2:{SPORT}")),
        "the port's entry waits in TIME_WAIT: {conns}"
    );

    // The operator removes a real; the client keeps reusing its port.
    let (rc, out, err) = fvsadm(
        sock,
        &["-d", "-t", "10.99.0.100:80", "-r", "10.99.1.11:8080"],
    );
    assert_eq!(rc, 0, "{out}{err}");
    let r = requests_from_one_port(&lab, 8);
    assert_eq!(r["ok"], 8, "{r}");
    assert!(
        r["by_server"].get("rs1").is_none(),
        "never the removed real: {r}"
    );
    assert_eq!(r["by_server"]["rs2"], 4, "{r}");
    assert_eq!(r["by_server"]["rs3"], 4, "{r}");
    assert!(director.terminate(Duration::from_secs(10)).success());
}
