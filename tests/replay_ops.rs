//! Issue 11 §4: one-packet scheduling (`ipvsadm -o`, YAML `ops: true`): every
//! datagram of a UDP service is scheduled on its own and no connection is
//! kept, so rr spreads even one client's flow over every real.
mod common;
use std::net::Ipv4Addr;

use common::*;

const SEC: u64 = 1_000_000_000;

fn config(ops: bool) -> std::path::PathBuf {
    let base = std::fs::read_to_string(nat_config()).unwrap();
    let text = format!(
        "{base}  - name: dns
    vip: 10.0.0.100
    port: 53
    protocol: udp
    scheduler: rr
    ops: {ops}
    forward: nat
    reals:
      - {{address: 10.1.0.11, port: 53}}
      - {{address: 10.1.0.12, port: 53}}
      - {{address: 10.1.0.13, port: 53}}
"
    );
    let dir = std::env::temp_dir().join(format!("ferrovs-ops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("ops-{ops}.yaml"));
    std::fs::write(&p, text).unwrap();
    p
}

fn reals_of_one_flow(ops: bool) -> (Vec<Ipv4Addr>, Replay) {
    let frames: Vec<(u64, Vec<u8>)> = (1..=6)
        .map(|i| (i * SEC, udp_frame(CLIENT, 5353, VIP, 53)))
        .collect();
    let r = replay(&config(ops), &frames);
    assert_eq!(r.out.len(), 6);
    let reals = r
        .out
        .iter()
        .map(|(_, f)| Ipv4Addr::new(f[30], f[31], f[32], f[33]))
        .collect();
    (reals, r)
}

#[test]
fn every_datagram_is_scheduled_on_its_own_and_none_is_kept() {
    let (reals, r) = reals_of_one_flow(true);
    assert_eq!(
        reals[0..3],
        reals[3..6],
        "rr cycles through the three reals"
    );
    assert!(reals[0] != reals[1] && reals[1] != reals[2] && reals[0] != reals[2]);
    assert_eq!(r.report["conns_tracked"], 0, "no connection kept");
    assert_eq!(r.report["conns_created"], 6, "each datagram counts as one");
    // Without ops the flow is one connection on one real.
    let (reals, r) = reals_of_one_flow(false);
    assert!(reals.iter().all(|x| *x == reals[0]));
    assert_eq!(r.report["conns_tracked"], 1);
}

#[test]
fn ops_is_refused_for_a_tcp_service() {
    let base = std::fs::read_to_string(nat_config()).unwrap();
    let text = base.replace("    scheduler: rr\n", "    scheduler: rr\n    ops: true\n");
    let dir = std::env::temp_dir().join(format!("ferrovs-ops-tcp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("ops-tcp.yaml");
    std::fs::write(&p, text).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_ferrovs"))
        .args(["config", "check"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("services[0].ops: One-Packet Scheduling is only for UDP virtual services"),
        "{err}"
    );
}
