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

/// Why a `misc_path` could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("misc_path {0:?}: missing terminating {1}")]
    UnmatchedQuote(String, char),
    #[error("misc_path {0:?}: missing escaped character at end")]
    TrailingBackslash(String),
    #[error("misc_path is empty")]
    Empty,
}

/// Splits a `misc_path` value into words as keepalived does (`set_script_params_array`).
/// The value is the keyword's argument once the configuration reader has removed its own
/// quotes: keepalived takes only that one argument, so `misc_path "/bin/x -a 'b c'"` gives
/// `["/bin/x", "-a", "b c"]` while an unquoted `misc_path /bin/x -a` gives just `/bin/x`.
///
/// Words are separated by blanks; `"..."`
/// and `'...'` group (both let `\` escape inside them); `\` escapes `\a \b \E \f \n \r \t
/// \v`, `\xHH`, `\cX` (control character), `\NNN` (octal), and anything else stands for
/// itself. There is no variable, glob or tilde expansion: the words go to `execve` as they
/// are.
pub fn split_misc_path(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| is_blank(*c)) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            match (c, quote) {
                ('\\', _) => {
                    chars.next();
                    let Some(escaped) = chars.next() else {
                        return Err(SplitError::TrailingBackslash(line.to_owned()));
                    };
                    word.push(unescape(escaped, &mut chars));
                }
                (q, None) if q == '"' || q == '\'' => {
                    quote = Some(q);
                    chars.next();
                }
                (q, Some(open)) if q == open => {
                    quote = None;
                    chars.next();
                }
                (c, None) if is_blank(c) => break,
                (c, _) => {
                    word.push(c);
                    chars.next();
                }
            }
        }
        if let Some(open) = quote {
            return Err(SplitError::UnmatchedQuote(line.to_owned(), open));
        }
        words.push(word);
    }
    if words.is_empty() {
        return Err(SplitError::Empty);
    }
    Ok(words)
}

/// keepalived's `WHITE_SPACE`: blanks and the line ends its reader may leave.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// The character a backslash sequence stands for; `first` is the character after the `\`.
fn unescape(first: char, rest: &mut std::iter::Peekable<std::str::Chars<'_>>) -> char {
    match first {
        'x' if rest.peek().is_some_and(|c| c.is_ascii_hexdigit()) => {
            let mut value = 0u32;
            for _ in 0..2 {
                match rest.peek().and_then(|c| c.to_digit(16)) {
                    Some(d) => {
                        value = value * 16 + d;
                        rest.next();
                    }
                    None => break,
                }
            }
            char::from_u32(value).unwrap_or('\u{fffd}')
        }
        'c' if rest.peek().is_some() => {
            let c = rest.next().map_or(0, |c| c as u32);
            char::from_u32(c & 0x1f).unwrap_or('\u{fffd}')
        }
        '0'..='7' => {
            let mut value = first as u32 - '0' as u32;
            for _ in 0..2 {
                match rest.peek().and_then(|c| c.to_digit(8)) {
                    Some(d) => {
                        value = value * 8 + d;
                        rest.next();
                    }
                    None => break,
                }
            }
            // keepalived keeps the low byte (it stores into a char).
            char::from_u32(value & 0xff).unwrap_or('\u{fffd}')
        }
        'a' => '\x07',
        'b' => '\x08',
        'E' => '\x1b',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        split_misc_path(s).unwrap_or_else(|e| vec![format!("ERR {e}")])
    }

    #[test]
    fn words_quotes_and_escapes() {
        assert_eq!(split("/bin/check  -a b"), ["/bin/check", "-a", "b"]);
        assert_eq!(split("  x \"a b\" 'c d'e"), ["x", "a b", "c de"]);
        assert_eq!(split(r#"x "say \"hi\"""#), ["x", "say \"hi\""]);
        assert_eq!(
            split(r"x a\ b \t \x41\x4a \101 \cA \q"),
            ["x", "a b", "\t", "AJ", "A", "\x01", "q"]
        );
        assert_eq!(split("x 'a\"b'"), ["x", "a\"b"]);
        assert_eq!(split("x $HOME *"), ["x", "$HOME", "*"]);
    }

    #[test]
    fn bad_lines() {
        assert_eq!(
            split_misc_path("x \"open"),
            Err(SplitError::UnmatchedQuote("x \"open".into(), '"'))
        );
        assert_eq!(
            split_misc_path("x \\"),
            Err(SplitError::TrailingBackslash("x \\".into()))
        );
        assert_eq!(split_misc_path("   "), Err(SplitError::Empty));
    }

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
