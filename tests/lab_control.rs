//! Issue 6 live acceptance on the lab: fvsadm drives the running daemon;
//! changes to other services during a long transfer leave it intact; an
//! invalid YAML is refused and the old rules keep working; garbage on the
//! control socket harms nobody; /metrics agrees with `fvsadm -Ln --stats`.
mod lab_common;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use lab_common::*;

const URL: &str = "http://10.99.0.100/";

fn config(dir: &Path, extra_weight: u32) -> String {
    let base = std::fs::read_to_string(repo().join("configs/lab.yaml")).unwrap();
    let services = format!(
        "services:
  - name: web
    vip: 10.99.0.100
    port: 80
    protocol: tcp
    scheduler: rr
    reals:
      - {{address: 10.99.1.11, port: 8080}}
      - {{address: 10.99.1.12, port: 8080}}
      - {{address: 10.99.1.13, port: 8080}}
  - name: other
    vip: 10.99.0.100
    port: 81
    protocol: tcp
    scheduler: wrr
    reals:
      - {{address: 10.99.1.11, port: 8080, weight: 1}}
      - {{address: 10.99.1.12, port: 8080, weight: {extra_weight}}}
      - {{address: 10.99.1.13, port: 8080, weight: 1}}
"
    );
    let head = &base[..base.find("services:").unwrap()];
    let tail = &base[base.find("timeouts:").unwrap()..];
    let tail = tail.replace(
        "/run/ferrovs/ferrovs.sock",
        dir.join("ctl.sock").to_str().unwrap(),
    );
    format!("{head}{services}\n{tail}")
}

/// A private directory holding the test's YAML (two services) and control socket.
struct Setup {
    dir: PathBuf,
    cfg_path: PathBuf,
    sock: PathBuf,
}

fn setup(name: &str) -> Setup {
    let dir = std::env::temp_dir().join(format!("ferrovs-ctl-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg_path = dir.join("ferrovs.yaml");
    std::fs::write(&cfg_path, config(&dir, 1)).unwrap();
    let sock = dir.join("ctl.sock");
    Setup {
        dir,
        cfg_path,
        sock,
    }
}

/// Downloads `url` slowly (so it spans the reconfiguration) and prints size and sha256.
const SLOW_GET: &str = r#"
import hashlib, sys, time, urllib.request
h = hashlib.sha256(); n = 0
with urllib.request.urlopen(sys.argv[1], timeout=30) as r:
    while True:
        b = r.read(65536)
        if not b:
            break
        h.update(b); n += len(b); time.sleep(0.015)
print(n, h.hexdigest())
"#;

#[test]
fn fvsadm_reload_robustness_and_metrics_on_the_live_daemon() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    let Setup {
        dir,
        cfg_path,
        sock,
    } = setup("reload");
    // The same 16 MB file on every server, so any of them serves the same bytes.
    let big: Vec<u8> = (0..16u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let want = {
        let o = Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut o = o;
        o.stdin.take().unwrap().write_all(&big).unwrap();
        let out = o.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    };
    for i in 1..=3 {
        std::fs::write(format!("/tmp/ferrovs-lab/www{i}/big.bin"), &big).unwrap();
    }
    let mut director = lab.director(&cfg_path);
    lab.wait_for_service(URL, Duration::from_secs(30));

    // Listing formats come straight from the daemon.
    let (rc, out, _) = fvsadm(&sock, &["-Ln"]);
    assert_eq!(rc, 0);
    assert!(out.contains("TCP  10.99.0.100:80 rr\n"), "{out}");
    assert!(out.contains("TCP  10.99.0.100:81 wrr\n"), "{out}");

    // A long transfer through `web` while `other` is reconfigured.
    let get = lab.spawn(
        "c",
        &["python3", "-c", SLOW_GET, "http://10.99.0.100/big.bin"],
    );
    std::thread::sleep(Duration::from_millis(800));
    for args in [
        vec!["-A", "-t", "10.99.0.100:82", "-s", "wlc"],
        vec![
            "-a",
            "-t",
            "10.99.0.100:82",
            "-r",
            "10.99.1.13:8080",
            "-m",
            "-w",
            "2",
        ],
        vec![
            "-e",
            "-t",
            "10.99.0.100:81",
            "-r",
            "10.99.1.12:8080",
            "-m",
            "-w",
            "5",
        ],
        vec!["-d", "-t", "10.99.0.100:81", "-r", "10.99.1.13:8080"],
    ] {
        let (rc, _, err) = fvsadm(&sock, &args);
        assert_eq!(rc, 0, "fvsadm {args:?}: {err}");
    }
    let got = get.output(Duration::from_secs(60));
    assert_eq!(
        got.trim(),
        format!("{} {want}", big.len()),
        "the transfer completed intact"
    );
    let r = lab.http_requests("http://10.99.0.100:82/", 5);
    assert_eq!(r["by_server"]["rs3"], 5, "the new service works: {r}");
    let (_, out, _) = fvsadm(&sock, &["-Ln"]);
    let other = "TCP  10.99.0.100:81 wrr\n  -> 10.99.1.11:8080              Masq    1      0          0         \n  -> 10.99.1.12:8080              Masq    5      0          0         \nTCP  10.99.0.100:82 wlc\n  -> 10.99.1.13:8080              Masq    2      0          5         \n";
    assert!(
        out.ends_with(other),
        "weight edited, real removed, service added: {out}"
    );

    // An invalid YAML is refused whole, with the field named; the old rules stay.
    std::fs::write(&cfg_path, config(&dir, 70000)).unwrap();
    let (rc, _, err) = fvsadm(&sock, &["--reload"]);
    assert_ne!(rc, 0);
    assert_eq!(
        err.matches("services[1].reals[1].weight").count(),
        1,
        "names the field, once: {err}"
    );
    // A refused fvsadm change prints ipvsadm's text; the log names the field.
    let (rc, _, err) = fvsadm(
        &sock,
        &[
            "-a",
            "-t",
            "10.99.0.100:82",
            "-r",
            "10.99.1.11:8080",
            "-m",
            "-y",
            "3",
        ],
    );
    assert_eq!((rc, err.as_str()), (255, "Numerical result out of range\n"));
    director.signal("HUP");
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        director.log_text().contains("reload refused"),
        "{}",
        director.log_text()
    );
    assert!(
        director.log_text().contains("lower_threshold"),
        "the refused fvsadm change is logged with its field: {}",
        director.log_text()
    );
    let (_, after, _) = fvsadm(&sock, &["-Ln"]);
    assert_eq!(after, out, "running rules unchanged");
    let r = lab.http_requests(URL, 30);
    assert_eq!(r["ok"], 30, "old rules keep working: {r}");

    // Garbage on the control socket: other clients and the workers carry on.
    for junk in [
        vec![0xffu8, 0xff, 0xff, 0xff],
        b"\x00\x00\x00\x10{not json at all}".to_vec(),
        (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect(),
        vec![0, 0, 0],
    ] {
        let mut s = UnixStream::connect(&sock).expect("connect");
        let _ = s.write_all(&junk);
        let (rc, _, _) = fvsadm(&sock, &["-Ln"]);
        assert_eq!(rc, 0, "another client is still served");
        drop(s);
    }
    let r = lab.http_requests(URL, 30);
    assert_eq!(r["ok"], 30, "workers keep forwarding: {r}");

    // /metrics parses and agrees with `fvsadm -Ln --stats --exact`.
    let m = lab.exec("lb", &["python3", "-c", "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:9180/metrics',timeout=5).read().decode())"]);
    let text = String::from_utf8_lossy(&m.stdout).into_owned();
    let mut web_conns = None;
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (name, value) = line.rsplit_once(' ').expect("name value");
        value
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("bad sample: {line}"));
        assert!(name.starts_with("ferrovs_"), "{line}");
        if name.starts_with("ferrovs_service_connections_total{")
            && name.contains("service=\"web\"")
        {
            web_conns = Some(value.parse::<u64>().unwrap());
        }
    }
    let (_, stats, _) = fvsadm(&sock, &["-Ln", "--stats", "--exact"]);
    let line = stats
        .lines()
        .find(|l| l.starts_with("TCP  10.99.0.100:80 "))
        .expect("web stats row");
    let conns: u64 = line.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert_eq!(web_conns, Some(conns), "metrics agree with fvsadm: {line}");

    let st = director.terminate(Duration::from_secs(15));
    assert!(st.success(), "{st:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn run_ok(sock: &Path, args: &[&str]) -> String {
    let (rc, out, err) = fvsadm(sock, args);
    assert_eq!(rc, 0, "fvsadm {args:?}: {err}");
    out
}

#[test]
fn every_fvsadm_command_against_the_live_daemon() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    let Setup {
        dir,
        cfg_path,
        sock,
    } = setup("all");
    let mut director = lab.director(&cfg_path);
    lab.wait_for_service(URL, Duration::from_secs(30));
    let s = sock.as_path();

    run_ok(
        s,
        &[
            "-A",
            "-t",
            "10.99.0.100:90",
            "-s",
            "rr",
            "-p",
            "100",
            "-M",
            "255.255.255.0",
        ],
    );
    let out = run_ok(s, &["-L", "-n", "-t", "10.99.0.100:90"]);
    assert!(
        out.contains("TCP  10.99.0.100:90 rr persistent 100 mask 255.255.255.0"),
        "{out}"
    );
    run_ok(s, &["-E", "-t", "10.99.0.100:90", "-s", "wlc"]);
    let out = run_ok(s, &["-L", "-n", "-t", "10.99.0.100:90"]);
    assert!(
        out.contains("TCP  10.99.0.100:90 wlc\n"),
        "-E resets omitted options: {out}"
    );
    run_ok(
        s,
        &[
            "-a",
            "-t",
            "10.99.0.100:90",
            "-r",
            "10.99.1.11:8080",
            "-m",
            "-w",
            "2",
        ],
    );
    run_ok(
        s,
        &["-a", "-t", "10.99.0.100:90", "-r", "10.99.1.12:8080", "-m"],
    );
    run_ok(
        s,
        &[
            "-e",
            "-t",
            "10.99.0.100:90",
            "-r",
            "10.99.1.11:8080",
            "-m",
            "-w",
            "3",
            "-x",
            "100",
            "-y",
            "50",
        ],
    );
    let out = run_ok(s, &["-L", "-n", "--thresholds", "-t", "10.99.0.100:90"]);
    assert!(
        out.contains("10.99.1.11:8080") && out.contains("100") && out.contains("50"),
        "{out}"
    );
    let r = lab.http_requests("http://10.99.0.100:90/", 8);
    assert_eq!(r["ok"], 8, "{r}");

    // Listings in every format the daemon serves.
    let stats = run_ok(s, &["-L", "-n", "--stats"]);
    assert!(
        stats.contains("Conns   InPkts  OutPkts  InBytes OutBytes"),
        "{stats}"
    );
    let rate = run_ok(s, &["-L", "-n", "--rate"]);
    assert!(
        rate.contains("CPS    InPPS   OutPPS    InBPS   OutBPS"),
        "{rate}"
    );
    run_ok(s, &["-L", "-n", "--stats", "--exact"]);
    let conns = run_ok(s, &["-L", "-n", "-c"]);
    assert!(conns.starts_with("IPVS connection entries\npro expire state       source             virtual            destination\n"), "{conns}");
    assert!(conns.contains("10.99.0.100:90"), "{conns}");

    // Timeouts.
    run_ok(s, &["--set", "800", "100", "200"]);
    assert_eq!(
        run_ok(s, &["-L", "--timeout"]),
        "Timeout (tcp tcpfin udp): 800 100 200\n"
    );

    // Zero the counters.
    run_ok(s, &["-Z"]);
    let zeroed = run_ok(
        s,
        &["-L", "-n", "--stats", "--exact", "-t", "10.99.0.100:90"],
    );
    let row = zeroed.lines().find(|l| l.starts_with("TCP")).unwrap();
    assert_eq!(row.split_whitespace().nth(2), Some("0"), "{zeroed}");

    // Local addresses (FullNAT pools).
    run_ok(s, &["-P", "-t", "10.99.0.100:80", "-z", "10.99.1.100"]);
    assert!(run_ok(s, &["-G", "-t", "10.99.0.100:80"]).contains("10.99.1.100"));
    run_ok(s, &["-Q", "-t", "10.99.0.100:80", "-z", "10.99.1.100"]);
    assert!(!run_ok(s, &["-G", "-t", "10.99.0.100:80"]).contains("10.99.1.100"));

    // -S | -C | -R restores the same rules.
    let before = run_ok(s, &["-L", "-n"]);
    let dump = run_ok(s, &["-S", "-n"]);
    run_ok(s, &["-C"]);
    assert!(!run_ok(s, &["-L", "-n"]).contains("TCP"), "cleared");
    let mut child = Command::new(Path::new(env!("CARGO_BIN_EXE_ferrovs")).with_file_name("fvsadm"))
        .arg("--socket")
        .arg(s)
        .arg("-R")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dump.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let restored = run_ok(s, &["-L", "-n"]);
    let strip = |t: &str| {
        t.lines()
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        strip(&restored),
        strip(&before),
        "same services and reals after -S | -R"
    );
    let r = lab.http_requests(URL, 9);
    assert_eq!(r["ok"], 9, "restored rules forward: {r}");

    // Deleting.
    run_ok(s, &["-d", "-t", "10.99.0.100:90", "-r", "10.99.1.12:8080"]);
    run_ok(s, &["-D", "-t", "10.99.0.100:90"]);
    let (rc, _, err) = fvsadm(s, &["-D", "-t", "10.99.0.100:90"]);
    assert_ne!(rc, 0);
    assert!(err.contains("No such service"), "{err}");

    let st = director.terminate(Duration::from_secs(15));
    assert!(st.success());
    let _ = std::fs::remove_dir_all(&dir);
}
