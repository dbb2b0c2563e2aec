//! fvsadm: ipvsadm 1.31's command line for the ferrovs daemon.
//!
//! The control socket is `--socket PATH`, else `$FERROVS_SOCKET`, else
//! /run/ferrovs/ferrovs.sock. See `control::cli` for the commands.

use std::io::Write;

use anyhow::Context;
use control::cli::{self, Io, Transport};
use control::server::{Client, ClientError};

fn main() {
    let code = match real_main() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}: {e:#}", cli::PROGRAM);
            1
        }
    };
    std::process::exit(code);
}

fn real_main() -> anyhow::Result<i32> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let path = match cli::socket_path(&mut args) {
        Ok(p) => p,
        Err(exit) => {
            eprint!("{}", exit.message);
            return Ok(exit.code);
        }
    };
    let stdin = std::io::stdin();
    let mut stdin = stdin.lock();
    let stdout = std::io::stdout();
    let mut stdout = std::io::BufWriter::new(stdout.lock());
    let stderr = std::io::stderr();
    let mut stderr = stderr.lock();
    let mut connect =
        || -> Result<Box<dyn Transport>, ClientError> { Ok(Box::new(Client::connect(&path)?)) };
    let code = {
        let mut io = Io {
            stdin: &mut stdin,
            stdout: &mut stdout,
            stderr: &mut stderr,
        };
        cli::run(&args, &mut io, &mut connect)
    };
    match stdout.flush() {
        Ok(()) => {}
        // `fvsadm -L | head`: a closed pipe is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(e).context("writing the output"),
    }
    Ok(code)
}
