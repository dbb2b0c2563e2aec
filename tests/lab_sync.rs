//! Connection sync across a failover, as clients meet it: two ferrovs
//! directors, one VRRP instance, `sync:` following it. While a slow download
//! and 100 idle keep-alive connections run through the master, the master is
//! SIGKILLed; the download must complete intact and the keep-alive
//! connections answer their next request through the new master.
mod lab_common;

use std::path::Path;
use std::time::{Duration, Instant};

use lab_common::vrrp::*;
use lab_common::*;

const KEEPALIVE: usize = 100;
/// 12 MiB at 512 KiB/s: a download of about 24 s.
const FILE_BYTES: usize = 12 << 20;
const RATE: usize = 512 << 10;

/// The FullNAT local address: owned by the VRRP instance, as the reals
/// send their replies to it.
const LADDR: &str = "10.99.1.100";

fn sync_config(side: Side, priority: u8, fullnat: bool) -> LabConfig {
    let mut v = Vrrp::with_priority(priority);
    if fullnat {
        v.virtual_ipaddress.push(LADDR.to_string());
    }
    let cfg = director_config(side, &v);
    cfg.edit(|t| {
        let mut t =
            format!("{t}\nsync: {{interface: eth0, instance: VI_1, flush_interval: 0.2}}\n");
        if fullnat {
            // Two workers each: connections owned by their local port's core.
            t = t
                .replacen("  cores: [1]\n", "  cores: [0, 1]\n", 1)
                .replacen("qpairs=1", "qpairs=2", 1)
                .replacen(
                    "    forward: nat\n",
                    &format!("    forward: fullnat\n    local_addresses: [{LADDR}]\n"),
                    1,
                );
        }
        t
    });
    cfg
}

/// The same file on every real server; its sha256.
fn big_file() -> String {
    let mut data = Vec::with_capacity(FILE_BYTES);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while data.len() < FILE_BYTES {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data.extend_from_slice(&x.to_le_bytes());
    }
    data.truncate(FILE_BYTES);
    for i in 1..=3 {
        std::fs::write(format!("/tmp/ferrovs-lab/www{i}/big.bin"), &data).expect("big.bin");
    }
    let o = std::process::Command::new("sha256sum")
        .arg("/tmp/ferrovs-lab/www1/big.bin")
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn conns_listed(sock: &Path) -> usize {
    let (_, out, _) = fvsadm(sock, &["-Lnc"]);
    out.lines().filter(|l| l.contains("ESTABLISHED")).count()
}

#[test]
fn nat_connections_survive_the_masters_death() {
    connections_survive_the_masters_death("nat");
}

#[test]
fn fullnat_connections_on_two_workers_survive_the_masters_death() {
    connections_survive_the_masters_death("fullnat");
}

fn connections_survive_the_masters_death(mode: &str) {
    let Some(lab) = Lab::try_up_vrrp(3, mode, 2, 0) else {
        return;
    };
    let sha = big_file();
    let fullnat = mode == "fullnat";
    let (ca, cb) = (
        sync_config(Side::A, 150, fullnat),
        sync_config(Side::B, 100, fullnat),
    );
    let mut a = lab.director_in(Side::A.ns(), &ca.path);
    let mut b = lab.director_in(Side::B.ns(), &cb.path);
    let within = Duration::from_secs(40);
    wait_elected(&mut a, &mut b, within);
    let (_, out, _) = fvsadm(&ca.sock, &["-L", "--daemon"]);
    assert!(
        out.starts_with("master sync daemon (mcast=eth0, syncid=0"),
        "{out}"
    );
    let (_, out, _) = fvsadm(&cb.sock, &["-L", "--daemon"]);
    assert!(out.starts_with("backup sync daemon (mcast=eth0"), "{out}");

    let dir = ca.dir.clone();
    let (ready, go) = (dir.join("ready"), dir.join("go"));
    // Every message on the wire, for the independent decoder afterwards.
    let captured = dir.join("sync.hex");
    let sniffer = repo().join("tests/lab/sync_sniff.py");
    let _sniff = lab.spawn(
        "br",
        &[
            "python3",
            sniffer.to_str().unwrap(),
            "--iface",
            "br0",
            "--out",
            captured.to_str().unwrap(),
        ],
    );
    let script = |s: &str| repo().join("tests/lab").join(s);
    let keep = lab.spawn(
        "c",
        &[
            "python3",
            script("keepalive_clients.py").to_str().unwrap(),
            "--url",
            URL,
            "-n",
            &KEEPALIVE.to_string(),
            "--ready",
            ready.to_str().unwrap(),
            "--trigger",
            go.to_str().unwrap(),
        ],
    );
    let download = lab.spawn(
        "c",
        &[
            "python3",
            script("slow_download.py").to_str().unwrap(),
            "--url",
            "http://10.99.0.100/big.bin",
            "--rate",
            &RATE.to_string(),
        ],
    );
    let t0 = Instant::now();
    while !ready.exists() && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(ready.exists(), "keep-alive clients not ready");
    // Synced within the flush interval: the backup lists them.
    let synced = wait_until(Duration::from_secs(5), Duration::from_millis(100), || {
        conns_listed(&cb.sock) > KEEPALIVE
    });
    let on_b = conns_listed(&cb.sock);
    eprintln!(
        "backup lists {on_b} ESTABLISHED connections (master {}) after {synced:?}",
        conns_listed(&ca.sock)
    );
    assert!(on_b > KEEPALIVE, "{on_b} synced\n{}", b.log_text());
    let m = |side: Side, name: &str, labels: &[(&str, &str)]| {
        metric(&lab, side.ns(), name, labels).unwrap_or(0.0)
    };
    let sent = m(
        Side::A,
        "ferrovs_sync_messages_total",
        &[("direction", "sent")],
    );
    let received = m(
        Side::B,
        "ferrovs_sync_messages_total",
        &[("direction", "received")],
    );
    let installed = m(
        Side::B,
        "ferrovs_sync_conns_total",
        &[("step", "installed")],
    );
    eprintln!("sync: {sent} messages sent by A, {received} received by B, {installed} connections installed");
    assert!(sent >= 1.0 && received >= 1.0 && installed > KEEPALIVE as f64);
    assert_eq!(m(Side::B, "ferrovs_sync_refused_total", &[]), 0.0);
    assert_eq!(m(Side::B, "ferrovs_sync_install_refused_total", &[]), 0.0);
    assert_eq!(m(Side::A, "ferrovs_sync_ring_dropped_total", &[]), 0.0);

    // The master dies mid-download.
    std::thread::sleep(Duration::from_secs(3));
    a.kill9();
    let killed = Instant::now();
    assert!(
        wait_director_state(&mut b, Side::B.ns(), 2, within).is_some(),
        "B not MASTER\n{}",
        b.log_text()
    );
    eprintln!(
        "B MASTER {:.3} s after the kill",
        killed.elapsed().as_secs_f64()
    );
    std::fs::write(&go, "go\n").unwrap();
    let k: serde_json::Value =
        serde_json::from_str(&keep.output(Duration::from_secs(120))).expect("keep-alive JSON");
    let d: serde_json::Value =
        serde_json::from_str(&download.output(Duration::from_secs(120))).expect("download JSON");
    eprintln!("{mode} keep-alive: {k}\ndownload: {d}");
    assert_eq!(k["first"]["ok"], KEEPALIVE);
    assert_eq!(
        k["second"]["ok"],
        KEEPALIVE,
        "keep-alive connections lost across the failover: {k}\n{}",
        b.log_text()
    );
    assert_eq!(d["error"], serde_json::Value::Null, "{d}");
    assert_eq!(d["bytes"], FILE_BYTES);
    assert_eq!(d["sha256"], sha.as_str());
    decoded_independently(&captured);
    let st = b.terminate(Duration::from_secs(15));
    assert!(st.success(), "{st:?}\n{}", b.log_text());
}

/// Every sync message the master sent, decoded by a reading of the kernel's
/// layout written apart from ferrovs's codec (connsync/tests/kernel_format.py).
fn decoded_independently(captured: &Path) {
    let text = std::fs::read_to_string(captured).unwrap_or_default();
    let decoder = repo().join("connsync/tests/kernel_format.py");
    let mut conns = 0;
    for line in text.lines().filter(|l| !l.is_empty()) {
        let mut child = std::process::Command::new("python3")
            .arg(&decoder)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("decoder");
        use std::io::Write as _;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(line.as_bytes())
            .expect("hex");
        let o = child.wait_with_output().expect("decoder output");
        assert!(
            o.status.success(),
            "not the kernel's format: {line}\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("decoder JSON");
        conns += v["entries"].as_array().map_or(0, |c| c.len());
    }
    let n = text.lines().filter(|l| !l.is_empty()).count();
    eprintln!(
        "{n} sync messages on the wire, {conns} connections, all decoded by kernel_format.py"
    );
    assert!(
        n >= 1 && conns > KEEPALIVE,
        "{n} messages, {conns} connections"
    );
}

/// `fvsadm --start-daemon` / `--stop-daemon` / `-L --daemon` on a live
/// director without `sync:`, with ipvsadm's messages and exit codes.
#[test]
fn fvsadm_starts_and_stops_the_daemons_as_ipvsadm_does() {
    let Some(lab) = Lab::try_up(1, "nat") else {
        return;
    };
    let cfg = LabConfig::new("sync-cli", None);
    let mut d = lab.director(&cfg.path);
    lab.wait_for_service(URL, Duration::from_secs(30));
    let sock = cfg.sock.as_path();
    let list = || fvsadm(sock, &["-L", "--daemon"]).1;
    let wait_list = |want: &str| {
        wait_until(Duration::from_secs(3), Duration::from_millis(20), || {
            list() == want
        });
        list()
    };
    assert_eq!(list(), "");
    let (rc, _, err) = fvsadm(
        sock,
        &[
            "--start-daemon",
            "master",
            "--mcast-interface",
            "eth0",
            "--syncid",
            "7",
        ],
    );
    assert_eq!(rc, 0, "{err}");
    let want = "master sync daemon (mcast=eth0, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n";
    assert_eq!(wait_list(want), want);
    let (rc, _, err) = fvsadm(
        sock,
        &["--start-daemon", "master", "--mcast-interface", "eth0"],
    );
    assert_eq!((rc, err.as_str()), (255, "Daemon has already run\n"));
    let (rc, _, err) = fvsadm(
        sock,
        &["--start-daemon", "backup", "--mcast-interface", "nosuch"],
    );
    assert_eq!((rc, err.as_str()), (255, "No such device\n"));
    let (rc, _, err) = fvsadm(sock, &["--stop-daemon", "backup"]);
    assert_eq!((rc, err.as_str()), (255, "No daemon is running\n"));
    let (rc, _, err) = fvsadm(sock, &["--stop-daemon", "master"]);
    assert_eq!(rc, 0, "{err}");
    assert_eq!(wait_list(""), "");
    let st = d.terminate(Duration::from_secs(15));
    assert!(st.success(), "{st:?}\n{}", d.log_text());
}

/// Messages built from the kernel's layout by an independent sender
/// (tests/lab/sync_send.py) reach a backup director through the lab: it
/// installs or refuses each one as ip_vs_sync.c would.
#[test]
fn a_backup_takes_the_kernels_messages_as_the_kernel_does() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    let cfg = LabConfig::new("sync-conformance", None);
    // Persistent, so a template has a service to belong to.
    cfg.edit(|t| {
        let t = t.replacen(
            "    forward: nat\n",
            "    forward: nat\n    persistence: {timeout: 300}\n",
            1,
        );
        format!("{t}\nsync: {{interface: eth0, role: backup, syncid: 51}}\n")
    });
    let mut d = lab.director(&cfg.path);
    lab.wait_for_service(URL, Duration::from_secs(30));
    let sender = repo().join("tests/lab/sync_send.py");
    let send = |case: &str, syncid: u8, cport: u16| {
        let o = lab.exec(
            "c",
            &[
                "python3",
                sender.to_str().unwrap(),
                "--case",
                case,
                "--syncid",
                &syncid.to_string(),
                "--cport",
                &cport.to_string(),
            ],
        );
        assert!(o.status.success(), "{o:?}");
    };
    let listed = |cport: u16| {
        let (_, out, _) = fvsadm(&cfg.sock, &["-Lnc"]);
        out.lines()
            .any(|l| l.contains(&format!("10.99.0.2:{cport}")) && l.contains("ESTABLISHED"))
    };
    let refused = |reason: &str| {
        metric(
            &lab,
            "lb",
            "ferrovs_sync_refused_total",
            &[("reason", reason)],
        )
        .unwrap_or(0.0)
    };
    let wait = |f: &dyn Fn() -> bool| {
        wait_until(Duration::from_secs(3), Duration::from_millis(50), f).is_some()
    };
    // Installed: version 1, with the sequence option, version 0.
    for (case, cport) in [("v1", 51001), ("v1seq", 51002), ("v0", 51003)] {
        send(case, 51, cport);
        assert!(
            wait(&|| listed(cport)),
            "{case} not installed\n{}",
            d.log_text()
        );
    }
    // Another syncid (ours is 51, not 0): refused whole.
    send("v1", 52, 51004);
    assert!(wait(&|| refused("other_syncid") >= 1.0));
    assert!(!listed(51004));
    // A size field that disagrees: refused whole.
    send("badsize", 51, 51005);
    assert!(wait(&|| refused("size_mismatch") >= 1.0));
    assert!(!listed(51005));
    // An unknown option without the optional bit: that entry skipped.
    send("badopt", 51, 51006);
    assert!(wait(&|| refused("unknown_mandatory_option") >= 1.0));
    assert!(!listed(51006));
    // A persistence template is installed as a template (client port 0,
    // state NONE in the listing), not as a connection.
    send("template", 51, 0);
    assert!(wait(&|| {
        let (_, out, _) = fvsadm(&cfg.sock, &["-Lnc"]);
        out.lines().any(|l| {
            l.contains("NONE") && l.contains("10.99.0.2:0") && l.contains("10.99.1.11:8080")
        })
    }));
    // What was installed is a connection: its next packet is forwarded
    // to the real it names, by the ESTABLISHED entry (no SYN needed).
    let (_, out, _) = fvsadm(&cfg.sock, &["-Lnc"]);
    eprintln!("{out}");
    assert!(out.contains("10.99.0.2:51001") && out.contains("10.99.1.11:8080"));
    let st = d.terminate(Duration::from_secs(15));
    assert!(st.success(), "{st:?}\n{}", d.log_text());
}
