//! `MISC_CHECK`.
//!
//! keepalived (check/check_misc.c `misc_check_thread`, `misc_check_child_thread`;
//! core/notify.c `system_call_script`; lib/parser.c `alloc_strvec_quoted_escaped`):
//! - `misc_path` is split into words (quotes and backslash escapes, no shell expansion) and
//!   the program is `execve`d directly, not run by `/bin/sh -c`; a bare name is looked up in
//!   `PATH`. The child gets its own process group, `/dev/null` for stdin/stdout/stderr (as a
//!   daemonised keepalived has), and an environment without `IFS`, `LD_PRELOAD` and
//!   `LD_LIBRARY_PATH`.
//! - Exit 0 is up, with the weight left alone. With `misc_dynamic`, exit 2..=255 is up with
//!   weight `code - 2`. Any other exit (1, or 2..=255 without `misc_dynamic`) is down, and so
//!   is death by a signal.
//! - At `misc_timeout` the process group gets SIGTERM; 2 s later, if the script is still
//!   there, SIGKILL; a script that dies of the SIGTERM has its group SIGKILLed too, so that
//!   nothing it started lingers. A timed-out script is down.
//!
//! Deliberate differences: a script that traps the SIGTERM and then exits 0 is still down
//! here (keepalived would judge that exit code); a program that cannot be started is
//! [`Outcome::NotRun`] (keepalived drops such a checker when it loads the configuration, and
//! a child whose `execve` fails exits 0, i.e. up); the script runs as our user (keepalived's
//! `user` / `keepalived_script` user is not applied); keepalived's repeated SIGKILL every 10 s
//! is one more 2 s wait here, after which the probe gives up waiting.

use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

use crate::{describe_io, Human, Outcome};

/// How long the script gets after each signal (keepalived's `timeout = 2`).
const GRACE: Duration = Duration::from_secs(2);

/// Runs the script once and judges its exit.
pub(crate) async fn probe(argv: &[String], timeout: Duration, dynamic: bool) -> Outcome {
    let Some((program, args)) = argv.split_first() else {
        return Outcome::not_run("misc: empty misc_path");
    };
    let what = format!("misc {program}");
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env_remove("IFS")
        .env_remove("LD_PRELOAD")
        .env_remove("LD_LIBRARY_PATH")
        // Its own group, so a timeout reaches whatever the script started.
        .process_group(0)
        // If this future is dropped the script must not outlive it.
        .kill_on_drop(true);
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return Outcome::not_run(format!("{what}: cannot start: {}", describe_io(&e))),
    };
    let mut run = Running::new(child);
    match tokio::time::timeout(timeout, run.wait()).await {
        Ok(Ok(status)) => judge(&what, status, dynamic),
        Ok(Err(e)) => Outcome::not_run(format!("{what}: wait: {}", describe_io(&e))),
        Err(_) => {
            let how = run.terminate().await;
            Outcome::down(format!(
                "{what}: timed out after {} ({how})",
                Human(timeout)
            ))
        }
    }
}

/// keepalived's reading of an exit status.
fn judge(what: &str, status: ExitStatus, dynamic: bool) -> Outcome {
    match (status.code(), status.signal()) {
        (Some(0), _) => Outcome::Up { weight: None },
        (Some(code @ 2..=255), _) if dynamic => Outcome::Up {
            weight: Some(code as u32 - 2),
        },
        (Some(code), _) => Outcome::down(format!("{what}: exit {code}")),
        (None, Some(signal)) => Outcome::down(format!(
            "{what}: killed by signal {signal}{}",
            signal_name(signal)
        )),
        (None, None) => Outcome::down(format!("{what}: ended with {status}")),
    }
}

fn signal_name(signal: i32) -> String {
    match Signal::try_from(signal) {
        Ok(s) => format!(" ({})", s.as_str()),
        Err(_) => String::new(),
    }
}

/// A running script and its process group.
struct Running {
    child: Child,
    /// The group id (= the child's pid). Signals go to the group only while the child is not
    /// yet reaped, so the id cannot have been reused; `None` once reaped.
    group: Option<Pid>,
}

impl Running {
    fn new(child: Child) -> Self {
        let group = child
            .id()
            .and_then(|pid| i32::try_from(pid).ok())
            .map(Pid::from_raw);
        Running { child, group }
    }

    async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        let status = self.child.wait().await;
        if status.is_ok() {
            self.reaped();
        }
        status
    }

    fn reaped(&mut self) {
        self.group = None;
    }

    fn signal_group(&self, signal: Signal) {
        if let Some(group) = self.group {
            // ESRCH (the group is gone) is fine: there is nothing left to stop.
            let _ = killpg(group, signal);
        }
    }

    /// keepalived's termination: SIGTERM to the group, then SIGKILL. Says how it ended.
    async fn terminate(&mut self) -> &'static str {
        let group = self.group;
        self.signal_group(Signal::SIGTERM);
        if let Ok(Ok(status)) = tokio::time::timeout(GRACE, self.wait()).await {
            if status.signal() == Some(Signal::SIGTERM as i32) {
                // As keepalived: the leader died of our SIGTERM; its children may not have.
                // The leader was only just reaped, so the group id is still that group's.
                if let Some(group) = group {
                    let _ = killpg(group, Signal::SIGKILL);
                }
            }
            return "terminated with SIGTERM";
        }
        self.signal_group(Signal::SIGKILL);
        match tokio::time::timeout(GRACE, self.wait()).await {
            Ok(_) => "killed with SIGKILL",
            Err(_) => "killed with SIGKILL, not yet reaped",
        }
    }
}

impl Drop for Running {
    /// A probe dropped mid-run (its caller gave up) takes the whole group down with it;
    /// `kill_on_drop` alone would reach only the leader.
    fn drop(&mut self) {
        self.signal_group(Signal::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        let st = |code: i32| ExitStatus::from_raw(code << 8);
        assert_eq!(judge("m", st(0), false), Outcome::Up { weight: None });
        assert_eq!(judge("m", st(0), true), Outcome::Up { weight: None });
        assert_eq!(judge("m", st(1), true), Outcome::down("m: exit 1"));
        assert_eq!(judge("m", st(2), true), Outcome::Up { weight: Some(0) });
        assert_eq!(judge("m", st(255), true), Outcome::Up { weight: Some(253) });
        assert_eq!(judge("m", st(7), false), Outcome::down("m: exit 7"));
        assert_eq!(
            judge("m", ExitStatus::from_raw(9), false),
            Outcome::down("m: killed by signal 9 (SIGKILL)")
        );
    }
}
