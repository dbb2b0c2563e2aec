//! Issue 13 live, the other checkers and scale: TCP_CHECK and MISC_CHECK
//! (with dynamic weights), SSL_GET and DNS_CHECK against TLS and DNS servers
//! on the real servers, and 1 000 reals checked every second.
mod lab_common;
use std::time::Duration;

use lab_common::health::*;
use lab_common::*;

#[test]
fn tcp_and_misc_checks_decide_membership_and_weight() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("fvs-misc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // misc_dynamic: exit 7 = up with weight 5; the script's exit code is
    // read from a file so the test can change it.
    let code = dir.join("code");
    std::fs::write(&code, "7").unwrap();
    let script = dir.join("check.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nexit $(cat {})\n", code.display()),
    )
    .unwrap();
    let _ = std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status();
    let reals = format!(
        "      - address: 10.99.1.11\n        port: 8080\n        checks: [{{tcp_check: {{connect_port: 9, connect_timeout: 1, retry: 0}}}}]\n      \
         - address: 10.99.1.12\n        port: 8080\n        weight: 2\n        checks: [{{misc_check: {{misc_path: \"{}\", misc_dynamic: true}}}}]\n      \
         - address: 10.99.1.13\n        port: 8080\n        checks: [{{tcp_check: {{connect_timeout: 1}}}}]\n",
        script.display()
    );
    let cfg = LabConfig::new("health-tcp-misc", Some(&services("", &reals)));
    let sock = &cfg.sock;
    let mut director = lab.director(&cfg.path);
    lab.wait_for_service(URL, Duration::from_secs(30));
    let weight_of = |l: &str, real: &str| {
        l.lines()
            .find(|x| x.contains(real))
            .and_then(|x| x.split_whitespace().nth(3).map(str::to_owned))
    };
    let settled = until_listed(sock, Duration::from_secs(10), |l| {
        !l.contains("10.99.1.11:8080")
            && weight_of(l, "10.99.1.12:8080").as_deref() == Some("5")
            && weight_of(l, "10.99.1.13:8080").as_deref() == Some("1")
    });
    assert!(
        settled.is_some(),
        "{}\n{}",
        listed(sock),
        director.log_text()
    );
    // Exit 1: down; exit 0: up at its configured weight.
    std::fs::write(&code, "1").unwrap();
    assert!(
        until_listed(sock, Duration::from_secs(10), |l| !l
            .contains("10.99.1.12:8080"))
        .is_some(),
        "{}",
        listed(sock)
    );
    std::fs::write(&code, "0").unwrap();
    assert!(
        until_listed(sock, Duration::from_secs(10), |l| {
            weight_of(l, "10.99.1.12:8080").as_deref() == Some("2")
        })
        .is_some(),
        "{}",
        listed(sock)
    );
    let (_, health, _) = fvsadm(sock, &["-L", "--health"]);
    assert!(
        health
            .lines()
            .any(|l| l.contains("TCP_CHECK 10.99.1.11:9") && l.contains("DOWN")),
        "{health}"
    );
    assert!(director.terminate(Duration::from_secs(15)).success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// 1 000 reals checked every second from one thread: checks run on time
/// (the checker's lag under 100 ms) while the VIP keeps serving.
#[test]
fn a_thousand_reals_at_delay_loop_1_run_on_time() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    const PER_SERVER: u16 = 334;
    const BASE: u16 = 20_000;
    let listener = format!(
        "import asyncio\nasync def main():\n    async def h(r, w):\n        w.close()\n    \
         for p in range({BASE}, {BASE} + {PER_SERVER}):\n        await asyncio.start_server(h, '0.0.0.0', p)\n    \
         await asyncio.sleep(120)\nasyncio.run(main())\n"
    );
    let _listeners: Vec<Background> = (1..=3)
        .map(|n| lab.spawn(&format!("rs{n}"), &["python3", "-c", &listener]))
        .collect();
    let mut reals = String::new();
    let mut n = 0;
    'outer: for p in BASE..BASE + PER_SERVER {
        for rs in 1..=3 {
            reals.push_str(&format!("      - {{address: 10.99.1.1{rs}, port: {p}}}\n"));
            n += 1;
            if n == 1000 {
                break 'outer;
            }
        }
    }
    let text = format!(
        "{}  - name: scale\n    vip: 10.99.0.100\n    port: 81\n    protocol: tcp\n    scheduler: rr\n    \
         forward: nat\n    delay_loop: 1\n    checks: [{{tcp_check: {{connect_timeout: 1, retry: 1, delay_before_retry: 1}}}}]\n    reals:\n{reals}",
        services("", THREE_REALS)
    );
    let cfg = LabConfig::new("health-scale", Some(&text));
    let sock = &cfg.sock;
    let mut director = lab.director(&cfg.path);
    lab.wait_for_service(URL, Duration::from_secs(30));
    // Every probe has run at least once (first runs spread over warmup).
    wait_all_checks_pass(sock, 1000, Duration::from_secs(20));
    let r = lab.http_requests(URL, 300);
    assert_eq!(
        r["ok"], 300,
        "VIP traffic beside 1 000 checks a second: {r}"
    );
    // Several samples of the lag while everything runs.
    let mut worst = 0.0f64;
    for _ in 0..5 {
        let m = lab.metrics();
        let lag = m
            .lines()
            .find_map(|l| l.strip_prefix("ferrovs_health_checker_lag_seconds "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .expect("lag metric");
        worst = worst.max(lag);
        let up = m
            .lines()
            .filter(|l| l.starts_with("ferrovs_real_up{") && l.ends_with(" 1"))
            .count();
        assert_eq!(up, 1000, "every real up");
        std::thread::sleep(Duration::from_millis(500));
    }
    eprintln!("checker lag with 1 000 reals at delay_loop 1: worst sample {worst} s");
    assert!(worst < 0.1, "lag {worst} s");
    assert!(director.terminate(Duration::from_secs(20)).success());
}

/// SSL_GET against a TLS server and DNS_CHECK against a DNS responder, on
/// the real servers, through the director's checker: up while they answer,
/// out when the DNS answer turns SERVFAIL or the TLS server stops.
#[test]
fn ssl_get_and_dns_check_against_real_fixtures() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("fvs-fixtures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let o = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=rs1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rcode = dir.join("rcode");
    std::fs::write(&rcode, "0").unwrap();
    let fixtures = repo().join("tests/lab/check_fixtures.py");
    let fx = fixtures.to_str().unwrap();
    let tls = lab.spawn(
        "rs1",
        &[
            "python3",
            fx,
            "tls",
            "--port",
            "8443",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    let _dns = lab.spawn(
        "rs2",
        &[
            "python3",
            fx,
            "dns",
            "--port",
            "53",
            "--rcode-file",
            rcode.to_str().unwrap(),
        ],
    );
    let reals = "      - address: 10.99.1.11\n        port: 8080\n        checks: [{ssl_get: {urls: [{path: /}], connect_port: 8443, connect_timeout: 1, retry: 0}}]\n      \
         - address: 10.99.1.12\n        port: 8080\n        checks: [{dns_check: {type: SOA, name: example.org, connect_port: 53, connect_timeout: 1, retry: 0}}]\n      \
         - {address: 10.99.1.13, port: 8080}\n";
    let cfg = LabConfig::new("health-fixtures", Some(&services("", reals)));
    let sock = &cfg.sock;
    let mut director = lab.director(&cfg.path);
    lab.wait_for_service(URL, Duration::from_secs(30));
    wait_all_checks_pass(sock, 2, Duration::from_secs(15));
    let l = listed(sock);
    assert!(
        l.contains("10.99.1.11:8080") && l.contains("10.99.1.12:8080"),
        "{l}"
    );

    std::fs::write(&rcode, "2").unwrap();
    assert!(
        until_listed(sock, Duration::from_secs(10), |l| !l
            .contains("10.99.1.12:8080"))
        .is_some(),
        "SERVFAIL takes rs2 out: {}",
        listed(sock)
    );
    drop(tls);
    assert!(
        until_listed(sock, Duration::from_secs(10), |l| !l
            .contains("10.99.1.11:8080"))
        .is_some(),
        "a stopped TLS server takes rs1 out: {}",
        listed(sock)
    );
    let (_, health, _) = fvsadm(sock, &["-L", "--health"]);
    assert!(health.contains("SERVFAIL"), "{health}");
    std::fs::write(&rcode, "0").unwrap();
    assert!(
        until_listed(sock, Duration::from_secs(10), |l| l
            .contains("10.99.1.12:8080"))
        .is_some(),
        "NOERROR brings rs2 back"
    );
    assert!(director.terminate(Duration::from_secs(15)).success());
    let _ = std::fs::remove_dir_all(&dir);
}
