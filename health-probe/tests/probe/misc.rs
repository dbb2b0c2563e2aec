//! MISC_CHECK: exit codes, misc_dynamic, and the timeout that kills the script's group.

use std::path::{Path, PathBuf};
use std::time::Duration;

use health::split_command;
use health_probe::{run, Outcome, Probe, Target};

use crate::fixtures::{bounded, LONG};

/// MISC_CHECK uses no socket; any target will do.
fn nowhere() -> Target {
    Target {
        connect: "127.0.0.1:9".parse().expect("addr"),
        bind: None,
        timeout: LONG,
    }
}

/// Writes a shell script. Tests run it as `/bin/sh <script>`: executing a file just written
/// can fail with ETXTBSY while another test thread forks.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    path
}

fn misc(path: &Path, args: &[&str], timeout: Duration, dynamic: bool) -> Probe {
    let mut argv = vec!["/bin/sh".to_owned(), path.display().to_string()];
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    Probe::Misc {
        argv,
        timeout,
        dynamic,
    }
}

#[tokio::test]
async fn exit_codes_with_and_without_dynamic() {
    bounded(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let exit = script(dir.path(), "exit.sh", "exit \"$1\"");
        let cases: [(&str, bool, Outcome); 8] = [
            ("0", false, Outcome::Up { weight: None }),
            ("0", true, Outcome::Up { weight: None }),
            (
                "1",
                false,
                Outcome::Down {
                    reason: "misc /bin/sh: exit 1".into(),
                },
            ),
            (
                "1",
                true,
                Outcome::Down {
                    reason: "misc /bin/sh: exit 1".into(),
                },
            ),
            ("2", true, Outcome::Up { weight: Some(0) }),
            ("102", true, Outcome::Up { weight: Some(100) }),
            ("255", true, Outcome::Up { weight: Some(253) }),
            (
                "102",
                false,
                Outcome::Down {
                    reason: "misc /bin/sh: exit 102".into(),
                },
            ),
        ];
        for (code, dynamic, expected) in cases {
            let report = run(&nowhere(), &misc(&exit, &[code], LONG, dynamic)).await;
            assert_eq!(report.outcome, expected, "exit {code}, dynamic {dynamic}");
        }
    })
    .await;
}

#[tokio::test]
async fn a_signal_is_down() {
    bounded(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = script(dir.path(), "die.sh", "kill -KILL $$");
        let report = run(&nowhere(), &misc(&path, &[], LONG, false)).await;
        assert_eq!(
            report.outcome,
            Outcome::Down {
                reason: "misc /bin/sh: killed by signal 9 (SIGKILL)".into()
            }
        );
    })
    .await;
}

/// Whether a process is gone (or only a zombie awaiting its reaper).
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

async fn wait_gone(pid: &str) -> bool {
    for _ in 0..50 {
        if gone(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn timeout_terminates_the_whole_group() {
    bounded(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let pidfile = dir.path().join("child.pid");
        // The script starts a child of its own, then hangs.
        let path = script(
            dir.path(),
            "hang.sh",
            &format!("sleep 30 &\necho $! > {}\nsleep 30", pidfile.display()),
        );
        let report = run(
            &nowhere(),
            &misc(&path, &[], Duration::from_millis(500), false),
        )
        .await;
        assert_eq!(
            report.outcome,
            Outcome::Down {
                reason: "misc /bin/sh: timed out after 500ms (terminated with SIGTERM)".into()
            }
        );
        assert!(report.latency >= Duration::from_millis(500));
        assert!(report.latency < Duration::from_secs(3));
        let child = std::fs::read_to_string(&pidfile).expect("child pid");
        assert!(
            wait_gone(child.trim()).await,
            "the script's own child was killed too"
        );
    })
    .await;
}

#[tokio::test]
async fn a_script_ignoring_sigterm_gets_sigkill() {
    bounded(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = script(dir.path(), "stubborn.sh", "trap '' TERM\nsleep 30");
        let report = run(
            &nowhere(),
            &misc(&path, &[], Duration::from_millis(300), false),
        )
        .await;
        assert_eq!(
            report.outcome,
            Outcome::Down {
                reason: "misc /bin/sh: timed out after 300ms (killed with SIGKILL)".into()
            }
        );
        // keepalived's 2 s grace after SIGTERM.
        assert!(report.latency >= Duration::from_millis(2300));
        assert!(report.latency < Duration::from_secs(6));
    })
    .await;
}

#[tokio::test]
async fn executed_directly_with_its_words() {
    bounded(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("args");
        let path = script(
            dir.path(),
            "args.sh",
            &format!("printf '%s|' \"$@\" > {}", out.display()),
        );
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let line = format!("{} 'a b' c\\ d \"$HOME\"", path.display());
        let argv = split_command(&line).expect("split");
        let probe = Probe::Misc {
            argv,
            timeout: LONG,
            dynamic: false,
        };
        // A file just written may be busy for exec while another test thread forks.
        let mut report = run(&nowhere(), &probe).await;
        for _ in 0..20 {
            match &report.outcome {
                Outcome::NotRun { reason } if reason.contains("busy") => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    report = run(&nowhere(), &probe).await;
                }
                _ => break,
            }
        }
        assert_eq!(report.outcome, Outcome::Up { weight: None });
        let args = std::fs::read_to_string(&out).expect("args");
        assert_eq!(
            args, "a b|c d|$HOME|",
            "no shell between keepalived and the script"
        );
    })
    .await;
}

#[tokio::test]
async fn a_missing_program_is_not_run() {
    bounded(async {
        let probe = Probe::Misc {
            argv: vec!["/nonexistent/health-probe-check".to_owned()],
            timeout: LONG,
            dynamic: false,
        };
        let report = run(&nowhere(), &probe).await;
        assert_eq!(
            report.outcome,
            Outcome::NotRun {
                reason:
                    "misc /nonexistent/health-probe-check: cannot start: no such file or directory"
                        .into()
            }
        );
    })
    .await;
}
