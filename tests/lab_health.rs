//! Issue 13 live: ferrovs checks its real servers with keepalived's rules,
//! over the host path (probes are kernel sockets from the director's own
//! address), and takes a failed real out of the running service and back.
//! Tested the way an operator meets it: a real server's process is stopped
//! under a steady stream of client requests, and what fvsadm lists, what
//! /metrics says and which requests failed are compared with the time the
//! rules allow.
mod lab_common;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use lab_common::health::*;
use lab_common::*;

#[test]
fn a_failed_real_leaves_the_service_within_the_rules_and_comes_back() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    let cfg = LabConfig::new(
        "health-http",
        Some(&services(&http_check("/", ""), THREE_REALS)),
    );
    let sock = &cfg.sock;
    let mut director = lab.director(&cfg.path);
    lab.wait_for_service(URL, Duration::from_secs(30));
    wait_all_checks_pass(sock, 3, Duration::from_secs(10));

    // A steady stream: 10 requests a second, each logged with its time.
    let log: PathBuf = cfg.dir.join("requests.jsonl");
    let stream = lab.http_client_background(
        URL,
        200,
        &[
            "--rate",
            "10",
            "--timeout",
            "1",
            "--deadline",
            "60",
            "--log",
            log.to_str().unwrap(),
        ],
    );
    std::thread::sleep(Duration::from_secs(3));

    // rs1's HTTP process stops. keepalived's rules: the next check comes
    // within delay_loop (1 s), fails, is retried after delay_before_retry
    // (1 s) and fails again (refused: no connect timeout to wait out), so the
    // real is out within 2 s; the issue allows 1 s more.
    let killed = wall();
    kill_pidfile(&format!("{RUN}/rs1-8080.pid"));
    let out = until_listed(sock, Duration::from_secs(10), |l| {
        !l.contains("10.99.1.11:8080")
    })
    .unwrap_or_else(|| {
        panic!(
            "rs1 still listed:\n{}\n{}",
            listed(sock),
            director.log_text()
        )
    });
    let removed = wall();
    assert!(
        out <= Duration::from_millis(3_000),
        "rs1 out after {out:?} (rules: 2 s, + 1 s allowed)"
    );
    let m = lab.metrics();
    assert!(
        m.contains(r#"ferrovs_real_up{real="10.99.1.11:8080",service="web"} 0"#),
        "{m}"
    );
    let (_, health, _) = fvsadm(sock, &["-L", "--health"]);
    assert!(
        health
            .lines()
            .any(|l| l.contains("10.99.1.11:8080") && l.contains("DOWN") && l.contains("refused")),
        "{health}"
    );

    // Back: the HTTP rule wants a clean round delay_loop after the failed
    // one, so it is back within 2 x delay_loop (+ 1 s allowed).
    std::thread::sleep(Duration::from_secs(2));
    let _server = restart_server(&lab, 1);
    let restarted = wall();
    let back = until_listed(sock, Duration::from_secs(10), |l| {
        l.contains("10.99.1.11:8080")
    })
    .unwrap_or_else(|| panic!("rs1 not back:\n{}", director.log_text()));
    assert!(
        back <= Duration::from_millis(3_000),
        "rs1 back after {back:?} (rules: 2 s, + 1 s allowed)"
    );
    let returned = wall();

    let summary: serde_json::Value =
        serde_json::from_str(&stream.output(Duration::from_secs(60))).expect("client JSON");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 200, "{summary}");
    let failed = lines.iter().filter(|l| l.get("failure").is_some()).count();
    eprintln!(
        "rs1 out after {out:?}, back after {back:?}; {failed} of 200 requests failed: {summary}"
    );
    for l in &lines {
        if l.get("failure").is_some() {
            let t = l["t"].as_f64().unwrap();
            assert!(
                t >= killed - 0.1 && t <= removed + 0.2,
                "a request failed outside the detection window [{killed}, {removed}]: {l}"
            );
        }
    }
    // While rs1 was out, nothing went to it; once back it serves its share.
    let served = |from: f64, to: f64, rs: &str| {
        lines
            .iter()
            .filter(|l| {
                let t = l["t"].as_f64().unwrap();
                t > from && t < to && l["server"] == rs
            })
            .count()
    };
    assert_eq!(served(removed + 0.2, restarted, "rs1"), 0, "{summary}");
    let after = returned + 0.5;
    let total_after = ["rs1", "rs2", "rs3"]
        .iter()
        .map(|rs| served(after, f64::MAX, rs))
        .sum::<usize>();
    assert!(total_after >= 30, "{summary}");
    assert!(
        served(after, f64::MAX, "rs1") * 4 >= total_after,
        "rs1 serves its share again: {summary}"
    );
    let st = director.terminate(Duration::from_secs(15));
    assert!(st.success(), "{}", director.log_text());
    let log = director.log_text();
    assert!(log.contains("real server down"), "{log}");
    assert!(log.contains("real server up"), "{log}");
}

#[test]
fn a_bad_status_or_digest_takes_a_real_down() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    // rs1: its check path answers 500; rs2: the body's digest is wrong;
    // rs3: a good check.
    let reals = "      - address: 10.99.1.11\n        port: 8080\n        checks: [{http_get: {urls: [{path: /status/500}], connect_timeout: 1, retry: 0}}]\n      \
         - address: 10.99.1.12\n        port: 8080\n        checks: [{http_get: {urls: [{path: /, digest: 00000000000000000000000000000000}], connect_timeout: 1, retry: 0}}]\n      \
         - address: 10.99.1.13\n        port: 8080\n        checks: [{http_get: {urls: [{path: /}], connect_timeout: 1, retry: 0}}]\n";
    let cfg = LabConfig::new("health-status", Some(&services("", reals)));
    let sock = &cfg.sock;
    let mut director = lab.director(&cfg.path);
    lab.wait_for_service(URL, Duration::from_secs(30));
    let gone = until_listed(sock, Duration::from_secs(10), |l| {
        !l.contains("10.99.1.11:8080")
            && !l.contains("10.99.1.12:8080")
            && l.contains("10.99.1.13:8080")
    });
    assert!(gone.is_some(), "{}\n{}", listed(sock), director.log_text());
    let (_, health, _) = fvsadm(sock, &["-L", "--health"]);
    assert!(health.contains("500"), "{health}");
    assert!(health.to_lowercase().contains("digest"), "{health}");
    let r = lab.http_requests(URL, 30);
    assert_eq!(r["ok"], 30, "{r}");
    assert_eq!(r["by_server"]["rs3"], 30, "{r}");
    // An operator's weight edit changes the configured weight and keeps the
    // health state: the failed real stays out, the live one takes the weight.
    for real in ["10.99.1.11:8080", "10.99.1.13:8080"] {
        let (rc, _, err) = fvsadm(
            sock,
            &["-e", "-t", "10.99.0.100:80", "-r", real, "-m", "-w", "3"],
        );
        assert_eq!(rc, 0, "{err}");
    }
    std::thread::sleep(Duration::from_secs(2));
    let l = listed(sock);
    assert!(
        !l.contains("10.99.1.11:8080"),
        "still down after the edit: {l}"
    );
    assert!(
        l.lines()
            .any(|x| x.contains("10.99.1.13:8080") && x.split_whitespace().nth(3) == Some("3")),
        "{l}"
    );
    // A reload that changes one real's check re-plans in place: the failed
    // reals stay out the whole time (their probes are unchanged), the
    // changed check starts afresh and passes.
    cfg.edit(|t| {
        t.replace(
            "urls: [{path: /}], connect_timeout: 1, retry: 0",
            "urls: [{path: /index.html}], connect_timeout: 1, retry: 0",
        )
    });
    let (rc, _, err) = fvsadm(sock, &["--reload"]);
    assert_eq!(rc, 0, "{err}");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        let l = listed(sock);
        assert!(
            !l.contains("10.99.1.11:8080") && !l.contains("10.99.1.12:8080"),
            "a reload brought a failed real back: {l}"
        );
        assert!(l.contains("10.99.1.13:8080"), "{l}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, health, _) = fvsadm(sock, &["-L", "--health"]);
    assert!(
        health.contains("HTTP_GET 10.99.1.13:8080/index.html"),
        "{health}"
    );
    assert!(director.terminate(Duration::from_secs(15)).success());
}

#[test]
fn inhibit_on_failure_keeps_a_transfer_going_at_weight_zero() {
    let Some(lab) = Lab::try_up(2, "nat") else {
        return;
    };
    // A 40 MiB file, read slowly, from the real whose check then fails.
    let big = format!("{RUN}/www1/big.bin");
    let o = lab.exec(
        "rs1",
        &[
            "dd",
            "if=/dev/urandom",
            &format!("of={big}"),
            "bs=1M",
            "count=40",
            "status=none",
        ],
    );
    assert!(o.status.success());
    std::fs::write(format!("{RUN}/www1/health"), "ok").unwrap();
    std::fs::write(format!("{RUN}/www2/health"), "ok").unwrap();
    let reals =
        "      - {address: 10.99.1.11, port: 8080, weight: 1, inhibit_on_failure: true}\n      \
                 - {address: 10.99.1.12, port: 8080, weight: 1}\n";
    let cfg = LabConfig::new(
        "health-inhibit",
        Some(&services(&http_check("/health", ""), reals)),
    );
    let sock = &cfg.sock;
    let mut director = lab.director(&cfg.path);
    lab.wait_for_service(URL, Duration::from_secs(30));
    wait_all_checks_pass(sock, 2, Duration::from_secs(10));
    // rr: the first new connection goes to rs1 or rs2; ask until rs1 serves
    // the transfer (bounded), reading at 4 MiB/s so it outlasts the check.
    let expected = lab.exec("rs1", &["sha256sum", &big]);
    let expected = String::from_utf8_lossy(&expected.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let transfer = lab.spawn(
        "c",
        &[
            "sh",
            "-c",
            "for i in 1 2 3 4; do curl -s --limit-rate 4M -o /tmp/fvs-big.bin -w '%{http_code}' http://10.99.0.100/big.bin | grep -q 200 && sha256sum /tmp/fvs-big.bin && exit 0; done; exit 1",
        ],
    );
    std::thread::sleep(Duration::from_secs(2));
    std::fs::remove_file(format!("{RUN}/www1/health")).unwrap();
    let zero = until_listed(sock, Duration::from_secs(10), |l| {
        l.lines()
            .any(|x| x.contains("10.99.1.11:8080") && x.split_whitespace().nth(3) == Some("0"))
    });
    assert!(zero.is_some(), "rs1 at weight 0:\n{}", listed(sock));
    let r = lab.http_requests("http://10.99.0.100/health", 10);
    assert_eq!(
        r["by_server"].get("ok").map(|v| v.as_u64().unwrap()),
        Some(10),
        "{r}"
    );
    let conns = fvsadm(sock, &["-Lnc"]).1;
    let out = transfer.output(Duration::from_secs(60));
    assert!(
        out.contains(&expected),
        "the transfer completed intact: {out} vs {expected}\n{conns}"
    );
    let _ = std::fs::remove_file("/tmp/fvs-big.bin");
    assert!(director.terminate(Duration::from_secs(15)).success());
}

#[test]
fn the_sorry_server_serves_while_the_quorum_is_lost() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    for n in [1, 2] {
        std::fs::write(format!("{RUN}/www{n}/health"), "ok").unwrap();
    }
    let marks = std::env::temp_dir().join(format!("fvs-quorum-{}", std::process::id()));
    std::fs::create_dir_all(&marks).unwrap();
    let script = |name: &str| {
        let p = marks.join(format!("{name}.sh"));
        std::fs::write(
            &p,
            format!("#!/bin/sh\ndate +%s.%N >> {}/{name}.ran\n", marks.display()),
        )
        .unwrap();
        let _ = std::process::Command::new("chmod")
            .arg("+x")
            .arg(&p)
            .status();
        p
    };
    let (up, down) = (script("quorum_up"), script("quorum_down"));
    let checks = format!(
        "    quorum_up: \"{}\"\n    quorum_down: \"{}\"\n    sorry_server: {{address: 10.99.1.13, port: 8080}}\n{}",
        up.display(),
        down.display(),
        http_check("/health", "")
    );
    let reals = "      - {address: 10.99.1.11, port: 8080, weight: 1}\n      \
                 - {address: 10.99.1.12, port: 8080, weight: 1}\n";
    let cfg = LabConfig::new("health-sorry", Some(&services(&checks, reals)));
    let sock = &cfg.sock;
    let mut director = lab.director(&cfg.path);
    lab.wait_for_service(URL, Duration::from_secs(30));
    wait_all_checks_pass(sock, 2, Duration::from_secs(10));
    let r = lab.http_requests(URL, 10);
    assert_eq!(
        r["by_server"].get("rs3"),
        None,
        "no sorry server while the quorum holds: {r}"
    );

    for n in [1, 2] {
        std::fs::remove_file(format!("{RUN}/www{n}/health")).unwrap();
    }
    let sorry = until_listed(sock, Duration::from_secs(10), |l| {
        l.contains("10.99.1.13:8080")
            && !l.contains("10.99.1.11:8080")
            && !l.contains("10.99.1.12:8080")
    });
    assert!(sorry.is_some(), "{}\n{}", listed(sock), director.log_text());
    let r = lab.http_requests(URL, 10);
    assert_eq!(r["by_server"]["rs3"], 10, "the sorry server serves: {r}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(marks.join("quorum_down.ran").exists(), "quorum_down ran");

    std::fs::write(format!("{RUN}/www1/health"), "ok").unwrap();
    let back = until_listed(sock, Duration::from_secs(10), |l| {
        l.contains("10.99.1.11:8080") && !l.contains("10.99.1.13:8080")
    });
    assert!(back.is_some(), "{}\n{}", listed(sock), director.log_text());
    let r = lab.http_requests(URL, 10);
    assert_eq!(r["by_server"]["rs1"], 10, "{r}");
    std::thread::sleep(Duration::from_millis(500));
    assert!(marks.join("quorum_up.ran").exists(), "quorum_up ran");
    let m = lab.metrics();
    assert!(
        m.contains(r#"ferrovs_service_quorum_up{service="web"} 1"#),
        "{m}"
    );
    assert!(director.terminate(Duration::from_secs(15)).success());
    let _ = std::fs::remove_dir_all(&marks);
}
