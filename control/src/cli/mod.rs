//! fvsadm: ipvsadm 1.31's command line, talking to the daemon's control
//! socket. The binary (`src/bin/fvsadm.rs`) only wires real stdio and the
//! socket to `run`, so every command can be driven in-process.
//!
//! Exit statuses follow ipvsadm: 0 on success, 2 for a refused command
//! line (`fail`), 255 for a refused operation (ipvsadm's `return -1`), 1
//! for a failed listing.

mod args;
mod exec;
mod health;
mod parse;
mod usage;
mod values;
mod vrrp;

#[cfg(test)]
mod tests;

use std::io::{BufRead, Write};
use std::path::PathBuf;

use crate::proto::{RequestBody, ResponseBody};
use crate::server::{Backend, Client, ClientError, Session};

pub use exec::{restore_words, rule_request};
pub use parse::{parse, Command, Parsed};
pub use values::{inet_aton, service_addr, MAX_TIMEOUT};

/// The program name used in messages.
pub const PROGRAM: &str = "fvsadm";
/// The default control socket.
pub const DEFAULT_SOCKET: &str = "/run/ferrovs/ferrovs.sock";
/// The environment variable naming the control socket.
pub const SOCKET_ENV: &str = "FERROVS_SOCKET";

/// Something that answers control requests: the socket `Client`, or an
/// in-process `Session`.
pub trait Transport {
    fn call(&mut self, body: RequestBody) -> Result<ResponseBody, ClientError>;
}

impl Transport for Client {
    fn call(&mut self, body: RequestBody) -> Result<ResponseBody, ClientError> {
        Client::call(self, body)
    }
}

impl<B: Backend> Transport for Session<B> {
    fn call(&mut self, body: RequestBody) -> Result<ResponseBody, ClientError> {
        self.handle_body(body).map_err(ClientError::Control)
    }
}

/// How a run ends early: a status and what goes to stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    pub code: i32,
    pub message: String,
    /// ipvsadm exits at once (`fail`, `tryhelp_exit`); a non-fatal one
    /// (a popt error) only fails the current `-R` line.
    pub fatal: bool,
}

impl Exit {
    /// ipvsadm's `fail(code, msg)`: the message and a newline.
    pub fn fail(code: i32, msg: impl Into<String>) -> Exit {
        let mut message = msg.into();
        message.push('\n');
        Exit {
            code,
            message,
            fatal: true,
        }
    }

    /// An error that ends this command but not a `-R` run.
    pub fn soft(code: i32, msg: impl Into<String>) -> Exit {
        Exit {
            fatal: false,
            ..Exit::fail(code, msg)
        }
    }

    /// ipvsadm's `tryhelp_exit(-1)`.
    pub fn tryhelp() -> Exit {
        Exit {
            code: 255,
            message: format!("Try `{PROGRAM} -h' or '{PROGRAM} --help' for more information.\n"),
            fatal: true,
        }
    }
}

/// Standard streams of a run.
pub struct Io<'a> {
    pub stdin: &'a mut dyn BufRead,
    pub stdout: &'a mut dyn Write,
    pub stderr: &'a mut dyn Write,
}

/// A lazily opened transport.
pub type Connector<'a> = dyn FnMut() -> Result<Box<dyn Transport>, ClientError> + 'a;

/// Runs one fvsadm invocation (`args` without the program name) and
/// returns its exit status.
pub fn run(args: &[String], io: &mut Io<'_>, connect: &mut Connector<'_>) -> i32 {
    let mut conn = exec::Conn::new(connect);
    let result = if args.is_empty() {
        exec::list_default(&mut conn, io)
    } else {
        parse(args).and_then(|p| exec::execute(&p, &mut conn, io, false))
    };
    match result {
        Ok(code) => code,
        Err(exit) => {
            let _ = io.stderr.write_all(exit.message.as_bytes());
            exit.code
        }
    }
}

/// Takes `--socket PATH` / `--socket=PATH` out of `args`; else
/// `$FERROVS_SOCKET`, else the default path.
pub fn socket_path(args: &mut Vec<String>) -> Result<PathBuf, Exit> {
    let mut found = None;
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--" {
            break;
        }
        if let Some(v) = args[i].strip_prefix("--socket=") {
            found = Some(v.to_string());
            args.remove(i);
        } else if args[i] == "--socket" {
            if i + 1 >= args.len() {
                return Err(Exit::fail(255, "--socket: missing argument"));
            }
            found = Some(args.remove(i + 1));
            args.remove(i);
        } else {
            i += 1;
        }
    }
    Ok(PathBuf::from(
        found
            .or_else(|| std::env::var(SOCKET_ENV).ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| DEFAULT_SOCKET.to_string()),
    ))
}
