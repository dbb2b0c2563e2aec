//! The fvsadm executable itself: socket selection, exit statuses, and
//! `fvsadm -S | fvsadm -R` through real processes.

mod common;

use std::process::Command;

use common::{FakeBackend, Running, EMPTY};
use control::server::ServerOptions;

fn fvsadm(sock: &std::path::Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let o = common::run_process(
        Command::new(env!("CARGO_BIN_EXE_fvsadm"))
            .args(args)
            .env("FERROVS_SOCKET", sock),
        stdin,
    );
    (o.code, o.stdout, o.stderr)
}

#[test]
fn save_pipe_restore_between_two_daemons() {
    let a = Running::start(FakeBackend::new(EMPTY), ServerOptions::default());
    let b = Running::start(FakeBackend::new(EMPTY), ServerOptions::default());
    for args in [
        &["-A", "-t", "10.0.0.1:80", "-s", "wrr", "-p", "120"][..],
        &[
            "-a",
            "-t",
            "10.0.0.1:80",
            "-r",
            "10.1.0.1:8080",
            "-m",
            "-w",
            "4",
        ],
        &["-a", "-t", "10.0.0.1:80", "-r", "10.1.0.2", "-g"],
        &["-A", "-u", "10.0.0.1:53"],
    ] {
        let (code, _, err) = fvsadm(&a.path, args, "");
        assert_eq!((code, err.as_str()), (0, ""), "{args:?}");
    }
    let (code, dump, _) = fvsadm(&a.path, &["-S", "-n"], "");
    assert_eq!(code, 0);
    assert_eq!(
        dump,
        "-A -t 10.0.0.1:80 -s wrr -p 120\n-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m -w 4\n-a -t 10.0.0.1:80 -r 10.1.0.2:80 -g -w 1\n-A -u 10.0.0.1:53 -s wlc\n"
    );
    // --socket wins over the environment.
    let bpath = b.path.to_str().unwrap();
    let (code, _, err) = fvsadm(&a.path, &["--socket", bpath, "-R"], &dump);
    assert_eq!((code, err.as_str()), (0, ""));
    let (_, dump_b, _) = fvsadm(&b.path, &["-S", "-n"], "");
    assert_eq!(dump_b, dump);
    let (_, la, _) = fvsadm(&a.path, &["-L", "-n"], "");
    let (_, lb, _) = fvsadm(&b.path, &["-L", "-n"], "");
    assert_eq!(la, lb);
}

#[test]
fn exit_statuses() {
    let a = Running::start(FakeBackend::new(EMPTY), ServerOptions::default());
    assert_eq!(fvsadm(&a.path, &["-A", "-t", "10.0.0.1:80"], "").0, 0);
    let (code, _, err) = fvsadm(&a.path, &["-A", "-t", "10.0.0.1:80"], "");
    assert_eq!((code, err.as_str()), (255, "Service already exists\n"));
    let (code, _, err) = fvsadm(&a.path, &["-A"], "");
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "You need to supply the 'service-address' option for the 'add-service' command\n"
    );
    let (code, _, err) = fvsadm(&a.path, &["--bogus"], "");
    assert_eq!(
        (code, err.as_str()),
        (
            255,
            "Try `fvsadm -h' or 'fvsadm --help' for more information.\n"
        )
    );
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = fvsadm(&dir.path().join("nope.sock"), &["-L", "-n"], "");
    assert_eq!(code, 2);
    assert!(err.starts_with("Can't initialize ipvs: "), "{err}");
    let (code, out, _) = fvsadm(&dir.path().join("nope.sock"), &["--version"], "");
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!(
            "fvsadm (ferrovs {}) follows ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}
