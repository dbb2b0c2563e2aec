//! An LVS user brings rules over: `ferrovs config to-ipvsadm` and
//! `from-ipvsadm` convert between the YAML and an `ipvsadm -S -n` dump, and
//! the round trip is lossless.
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn ferrovs(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ferrovs"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let o = c.wait_with_output().unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn config(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("configs")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn yaml_to_ipvsadm_and_back_is_lossless() {
    for name in [
        "lab.yaml",
        "lab-fullnat.yaml",
        "lab-tun.yaml",
        "lab-tun-gue.yaml",
        "lab-tun-gre.yaml",
        "replay-tunnels.yaml",
        "replay-modes.yaml",
        "example.yaml",
    ] {
        let (ok, dump, err) = ferrovs(&["config", "to-ipvsadm", &config(name)], "");
        assert!(ok, "{name}: {err}");
        assert!(dump.starts_with("-A -t "), "{name}: {dump}");
        let (ok, yaml, err) = ferrovs(&["config", "from-ipvsadm", "--base", &config(name)], &dump);
        assert!(ok, "{name}: {err}");
        let path = std::env::temp_dir().join(format!("ferrovs-conv-{}-{name}", std::process::id()));
        std::fs::write(&path, &yaml).unwrap();
        let (ok, again, err) = ferrovs(&["config", "to-ipvsadm", path.to_str().unwrap()], "");
        let _ = std::fs::remove_file(&path);
        assert!(ok, "{name}: {err}");
        assert_eq!(again, dump, "{name}: the round trip keeps every rule");
    }
}

#[test]
fn a_bad_dump_is_refused_naming_the_line() {
    let (ok, _, err) = ferrovs(
        &["config", "from-ipvsadm"],
        "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.0.1 -w 99999\n",
    );
    assert!(!ok);
    assert!(err.contains('2'), "names line 2: {err}");
}

#[test]
fn scheduler_flags_round_trip_and_an_unshowable_flag_is_refused() {
    let yaml = "workers: {cores: [1]}\nservices:\n  - {name: a, vip: 10.0.0.1, port: 80, protocol: tcp, scheduler: rr, flags: [flag-3, flag-1]}\n  - {name: b, vip: 10.0.0.2, port: 80, protocol: tcp, scheduler: sh, flags: [sh-port, sh-fallback]}\n";
    let path = std::env::temp_dir().join(format!("ferrovs-flags-{}.yaml", std::process::id()));
    std::fs::write(&path, yaml).unwrap();
    let (ok, dump, err) = ferrovs(&["config", "to-ipvsadm", path.to_str().unwrap()], "");
    assert!(ok, "{err}");
    assert_eq!(
        dump,
        "-A -t 10.0.0.1:80 -s rr -b flag-1,flag-3\n-A -t 10.0.0.2:80 -s sh -b sh-fallback,sh-port\n"
    );
    let (ok, back, err) = ferrovs(
        &["config", "from-ipvsadm", "--base", path.to_str().unwrap()],
        &dump,
    );
    assert!(ok, "{err}");
    std::fs::write(&path, &back).unwrap();
    let (ok, again, err) = ferrovs(&["config", "to-ipvsadm", path.to_str().unwrap()], "");
    assert!(ok, "{err}");
    assert_eq!(again, dump);
    // flag-3 of sh is kept by the daemon but an ipvsadm dump cannot show it.
    std::fs::write(
        &path,
        yaml.replace("[sh-port, sh-fallback]", "[sh-port, flag-3]"),
    )
    .unwrap();
    let (ok, _, err) = ferrovs(&["config", "to-ipvsadm", path.to_str().unwrap()], "");
    let _ = std::fs::remove_file(&path);
    assert!(!ok);
    assert!(
        err.contains("services[1].flags[1]: flag-3 with scheduler sh"),
        "{err}"
    );
}

#[test]
fn mark_services_convert_and_marks_stay_in_the_yaml() {
    let yaml = "workers: {cores: [1]}\nmarks:\n  - {mark: 7, vip: 10.0.0.0/24, protocol: tcp, ports: [80, \"8000-8010\"]}\nservices:\n  - name: fwm7\n    fwmark: 7\n    scheduler: wrr\n    persistence: {timeout: 60}\n    reals:\n      - {address: 10.20.0.5, forward: dr}\n      - {address: 10.20.0.6, port: 8443}\n  - {name: dns, vip: 10.0.0.53, port: 53, protocol: udp, ops: true}\n";
    let path = std::env::temp_dir().join(format!("ferrovs-fwm-{}.yaml", std::process::id()));
    std::fs::write(&path, yaml).unwrap();
    let (ok, dump, err) = ferrovs(&["config", "to-ipvsadm", path.to_str().unwrap()], "");
    assert!(ok, "{err}");
    // The classifier has no ipvsadm form: it is given as comments (the
    // iptables rule that marks the same packets), which -R skips.
    assert!(dump.starts_with("# marks: has no ipvsadm form"), "{dump}");
    assert!(dump.contains("\n-A -f 7 -s wrr -p 60\n-a -f 7 -r 10.20.0.5:0 -g -w 1\n-a -f 7 -r 10.20.0.6:8443 -m -w 1\n"), "{dump}");
    assert!(dump.contains("\n-A -u 10.0.0.53:53 -s wlc -o\n"), "{dump}");
    // --base keeps the base's marks: the round trip is lossless.
    let (ok, back, err) = ferrovs(
        &["config", "from-ipvsadm", "--base", path.to_str().unwrap()],
        &dump,
    );
    assert!(ok, "{err}");
    assert!(back.contains("fwmark: 7"), "{back}");
    std::fs::write(&path, &back).unwrap();
    let (ok, again, err) = ferrovs(&["config", "to-ipvsadm", path.to_str().unwrap()], "");
    let _ = std::fs::remove_file(&path);
    assert!(ok, "{err}");
    assert_eq!(again, dump);
}
