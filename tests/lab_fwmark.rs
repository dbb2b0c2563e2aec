//! Issue 11 §4 live: a firewall-mark service on the lab. The `marks:` rule
//! marks the client's TCP traffic to the VIP's port 80; the mark service
//! (persistent: one template per client for the whole mark) sends every
//! request to one real; `fvsadm -E -f 7 -s rr` without -p makes it spread;
//! fvsadm lists and saves it as ipvsadm does.
mod lab_common;
use std::time::Duration;

use lab_common::*;

const URL: &str = "http://10.99.0.100/";

#[test]
fn a_mark_service_serves_its_marked_traffic_live() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    let services = "services:
  - name: marked
    fwmark: 7
    scheduler: rr
    persistence: {timeout: 300}
    forward: nat
    reals:
      - {address: 10.99.1.11, port: 8080}
      - {address: 10.99.1.12, port: 8080}
      - {address: 10.99.1.13, port: 8080}
marks:
  - {mark: 7, vip: 10.99.0.100, protocol: tcp, ports: [80]}
";
    let cfg = LabConfig::new("fwmark", Some(services));
    let sock = &cfg.sock;
    let mut director = lab.director(&cfg.path);
    lab.wait_for_service(URL, Duration::from_secs(30));

    let (rc, out, _) = fvsadm(sock, &["-Ln"]);
    assert_eq!(rc, 0);
    assert!(out.contains("FWM  7 rr persistent 300\n"), "{out}");
    let (_, save, _) = fvsadm(sock, &["-S", "-n"]);
    assert!(save.contains("-A -f 7 -s rr -p 300\n"), "{save}");
    assert!(
        save.contains("-a -f 7 -r 10.99.1.11:8080 -m -w 1\n"),
        "{save}"
    );

    // Persistent: the one client stays on one real for the whole mark.
    let r = lab.http_requests(URL, 30);
    assert_eq!(r["ok"], 30, "{r}");
    assert_eq!(r["by_server"].as_object().unwrap().len(), 1, "{r}");
    let (_, conns, _) = fvsadm(sock, &["-Lnc"]);
    assert!(
        conns.lines().any(|l| l.starts_with("IP ")
            && l.contains(" NONE ")
            && l.contains("10.99.0.2:0 ")
            && l.contains("0.0.0.7:0 ")),
        "the mark's template is listed: {conns}"
    );

    // Without persistence, rr spreads the mark's traffic.
    let (rc, _, err) = fvsadm(sock, &["-E", "-f", "7", "-s", "rr"]);
    assert_eq!(rc, 0, "{err}");
    let r = lab.http_requests(URL, 300);
    assert_eq!(r["ok"], 300, "{r}");
    for rs in ["rs1", "rs2", "rs3"] {
        assert_eq!(r["by_server"][rs], 100, "{r}");
    }
    assert!(director.terminate(Duration::from_secs(10)).success());
}
