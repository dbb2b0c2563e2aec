//! Issue 5 lab acceptance: FullNAT (1 and 2 workers, TOA seen on the RS), DR
//! and TUN (IPIP, GUE, GRE), each with real kernel TCP on both ends and 300 HTTP requests
//! spread by rr over three real servers. Needs root.
mod lab_common;
use std::time::Duration;

use lab_common::*;

const URL: &str = "http://10.99.0.100/";

/// Runs the director with `config` on a lab in `mode`, sends 300 requests,
/// checks they all succeed and rr spread them evenly, and stops it cleanly.
fn three_hundred(lab: &Lab, config: &str) -> String {
    let director = lab.director(&repo().join(config));
    lab.wait_for_service(URL, Duration::from_secs(30));
    three_hundred_on(lab, director, config)
}

/// As `three_hundred`, with a director already serving.
fn three_hundred_on(lab: &Lab, mut director: Director, config: &str) -> String {
    let r = lab.http_requests(URL, 300);
    assert_eq!(
        r["ok"],
        300,
        "{config}: all requests succeed: {r}\n{}",
        director.log_text()
    );
    for rs in ["rs1", "rs2", "rs3"] {
        assert_eq!(r["by_server"][rs], 100, "{config}: {rs}: {r}");
    }
    let st = director.terminate(Duration::from_secs(15));
    assert!(st.success(), "{config}: clean exit: {st:?}");
    director.log_text()
}

#[test]
fn fullnat_one_worker_with_toa_on_the_real_server() {
    let Some(lab) = Lab::try_up(3, "fullnat") else {
        return;
    };
    // The servers cannot reach the client's subnet: direct access fails.
    let direct = lab.exec(
        "rs1",
        &[
            "python3",
            "-c",
            "import socket; socket.create_connection(('10.99.0.2', 9), 1)",
        ],
    );
    assert!(
        !direct.status.success(),
        "real servers must have no route back to the clients"
    );
    let mut director = lab.director(&repo().join("configs/lab-fullnat.yaml"));
    lab.wait_for_service(URL, Duration::from_secs(30));
    // Capture the next SYN on every server; rr sends it to one of them.
    let sniff = repo().join("tests/lab/sniff_syn.py");
    let sniffers: Vec<_> = ["rs1", "rs2", "rs3"]
        .iter()
        .map(|rs| {
            lab.spawn(
                rs,
                &[
                    "python3",
                    sniff.to_str().unwrap(),
                    "--port",
                    "8080",
                    "--timeout",
                    "8",
                ],
            )
        })
        .collect();
    std::thread::sleep(Duration::from_millis(700));
    let r = lab.http_requests(URL, 1);
    assert_eq!(r["ok"], 1, "{r}");
    let seen: Vec<serde_json::Value> = sniffers
        .into_iter()
        .filter_map(|s| serde_json::from_str(s.output(Duration::from_secs(10)).trim()).ok())
        .collect();
    assert_eq!(seen.len(), 1, "exactly one server saw the SYN: {seen:?}");
    let syn = &seen[0];
    assert_eq!(
        syn["src"], "10.99.1.100",
        "FullNAT source is the local address"
    );
    let toa = syn["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == 254)
        .expect("TOA option present");
    let data = toa["data"].as_str().unwrap();
    assert_eq!(data.len(), 12, "TOA carries 6 bytes: {data}");
    assert_eq!(
        &data[4..],
        "0a630002",
        "TOA carries the client address 10.99.0.2"
    );
    assert_ne!(&data[..4], "0000", "TOA carries the client port");
    let st = director.terminate(Duration::from_secs(15));
    assert!(st.success());
    drop(director);
    three_hundred(&lab, "configs/lab-fullnat.yaml");
}

/// The value of one series (`name{labels}`) in a Prometheus text.
fn series(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
}

#[test]
fn fullnat_two_workers() {
    let Some(lab) = Lab::try_up(3, "fullnat") else {
        return;
    };
    let config = "configs/lab-fullnat-2workers.yaml";
    let director = lab.director(&repo().join(config));
    lab.wait_for_service(URL, Duration::from_secs(30));
    // af_packet has no rte_flow: the port falls back to the redirect rings,
    // says so once, and /metrics shows it.
    let m = lab.metrics();
    assert_eq!(
        series(&m, r#"ferrovs_port_flow_steering{port="eth0"}"#),
        Some(0.0),
        "{m}"
    );
    assert_eq!(
        series(&m, r#"ferrovs_port_flow_rules{port="eth0"}"#),
        Some(0.0),
        "{m}"
    );
    let log = three_hundred_on(&lab, director, config);
    assert_eq!(log.matches("worker totals").count(), 2, "{log}");
    let fallback: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("go through the redirect rings"))
        .collect();
    assert_eq!(fallback.len(), 1, "said once: {log}");
    assert!(
        fallback[0].contains("port=eth0") && fallback[0].contains("rte_flow_validate failed"),
        "{}",
        fallback[0]
    );

    // `flow_steering: required` on the same device: the start fails, naming the port.
    let text = std::fs::read_to_string(repo().join(config)).unwrap();
    let required = text.replacen(
        "    mtu: 1500\n",
        "    mtu: 1500\n    flow_steering: required\n",
        1,
    );
    assert_ne!(required, text);
    let path =
        std::env::temp_dir().join(format!("ferrovs-lab-required-{}.yaml", std::process::id()));
    std::fs::write(&path, required).unwrap();
    let mut director = lab.director(&path);
    let st = director.wait_exit(Duration::from_secs(30));
    let log = director.log_text();
    let _ = std::fs::remove_file(&path);
    assert!(!st.success(), "required on af_packet must not start: {log}");
    assert!(
        log.contains("ports[0] (eth0): flow_steering is required"),
        "{log}"
    );
}

#[test]
fn direct_routing() {
    let Some(lab) = Lab::try_up(3, "dr") else {
        return;
    };
    three_hundred(&lab, "configs/lab-dr.yaml");
}

/// The decapsulator's counts on real server `rs`: (total, gue, gre).
fn decapsulated(rs: &str) -> (u64, u64, u64) {
    let line = std::fs::read_to_string(format!("/tmp/ferrovs-lab/{rs}.decap")).unwrap_or_default();
    let field = |key: &str| -> u64 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let total = line
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (total, field("gue="), field("gre="))
}

/// `decapsulated` once it stops moving (the fixture writes its counts at
/// most every 0.5 s, and the last segments of closing connections trail
/// the requests); bounded to 10 s.
fn settled(rs: &str) -> (u64, u64, u64) {
    let mut last = decapsulated(rs);
    for _ in 0..10 {
        std::thread::sleep(Duration::from_secs(1));
        let now = decapsulated(rs);
        if now == last {
            break;
        }
        last = now;
    }
    last
}

#[test]
fn ipip_tunnel() {
    let Some(lab) = Lab::try_up(3, "tun") else {
        return;
    };
    three_hundred(&lab, "configs/lab-tun.yaml");
    for rs in ["rs1", "rs2", "rs3"] {
        let (n, _, _) = decapsulated(rs);
        assert!(n > 0, "{rs}: the decapsulator handed packets to the kernel");
    }
}

/// GUE reals (csum, nocsum, remcsum) and then GRE reals (csum, nocsum,
/// csum): real kernel HTTP clients served through each, every packet
/// decapsulated by the servers' userspace fixture (GUE on UDP 6080, whose
/// checksums the kernel verifies; GRE, whose checksums the fixture checks).
#[test]
fn gue_and_gre_tunnels() {
    let Some(lab) = Lab::try_up(3, "tun") else {
        return;
    };
    let rss = ["rs1", "rs2", "rs3"];
    three_hundred(&lab, "configs/lab-tun-gue.yaml");
    let after_gue: Vec<_> = rss.iter().map(|rs| settled(rs)).collect();
    for (rs, (_, gue, gre)) in rss.iter().zip(&after_gue) {
        assert!(*gue > 0, "{rs}: GUE packets decapsulated");
        assert_eq!(*gre, 0, "{rs}: no GRE yet");
    }
    three_hundred(&lab, "configs/lab-tun-gre.yaml");
    for (rs, before) in rss.iter().zip(&after_gue) {
        let (_, gue, gre) = settled(rs);
        assert!(gre > 0, "{rs}: GRE packets decapsulated");
        assert_eq!(gue, before.1, "{rs}: no more GUE");
    }
}
