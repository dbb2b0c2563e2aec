//! A fake in-memory backend, a server on a temporary socket, and a way to
//! run fvsadm in-process.
#![allow(dead_code)]

pub mod oracle;

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use control::cli::{self, Io, Transport};
use control::config::{Config, SyncRole};
use control::proto::{
    ConnEntry, ControlError, Counters, ErrorKind, ServiceKey, SyncDaemonSpec, SyncDaemonStatus,
};
use control::server::{Backend, Client, ClientError, Server, ServerOptions, Session};

#[derive(Default)]
pub struct State {
    pub cfg: Option<Config>,
    pub counters: Counters,
    pub conns: Vec<ConnEntry>,
    pub zeroed: Vec<Option<ServiceKey>>,
    pub applied: usize,
    /// What `reload` reads.
    pub file: Option<String>,
    /// Every `start_daemon` request, in order.
    pub started: Vec<SyncDaemonSpec>,
    /// The running sync daemons.
    pub daemons: Vec<SyncDaemonStatus>,
    /// The interfaces a sync daemon may use (`None`: any, as the ipvsadm
    /// oracle's kernel stand-in).
    pub sync_ifaces: Option<Vec<String>>,
}

/// Keeps everything in memory; `apply` checks the config again.
#[derive(Default)]
pub struct FakeBackend {
    pub state: Mutex<State>,
}

pub const EMPTY: &str = "workers: {cores: [1]}\n";

impl FakeBackend {
    pub fn new(yaml: &str) -> Arc<FakeBackend> {
        let b = FakeBackend::default();
        b.state.lock().unwrap().cfg = Some(Config::from_yaml_str(yaml).unwrap());
        Arc::new(b)
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }
}

impl Backend for FakeBackend {
    fn apply(&self, new: Config) -> Result<(), ControlError> {
        new.validate()?;
        self.with(|s| {
            s.cfg = Some(new);
            s.applied += 1;
        });
        Ok(())
    }
    fn config(&self) -> Config {
        self.with(|s| s.cfg.clone().unwrap())
    }
    fn counters(&self) -> Counters {
        self.with(|s| s.counters.clone())
    }
    fn connections(&self) -> Vec<ConnEntry> {
        self.with(|s| s.conns.clone())
    }
    fn reload(&self) -> Result<(), ControlError> {
        let text = self
            .with(|s| s.file.clone())
            .unwrap_or_else(|| EMPTY.to_string());
        let cfg = Config::from_yaml_str(&text)?;
        self.with(|s| s.cfg = Some(cfg));
        Ok(())
    }
    fn zero(&self, service: Option<ServiceKey>) {
        self.with(|s| s.zeroed.push(service));
    }
    /// As the kernel: one daemon per role, defaults for an MTU of 1500.
    fn start_daemon(&self, spec: SyncDaemonSpec) -> Result<(), ControlError> {
        self.with(|s| {
            s.started.push(spec.clone());
            if s.daemons.iter().any(|d| d.role == spec.role) {
                return Err(ControlError::of(ErrorKind::DaemonRunning));
            }
            if let Some(known) = &s.sync_ifaces {
                if !known.contains(&spec.interface) {
                    return Err(ControlError::new(
                        ErrorKind::NoDevice,
                        format!("no port {:?}", spec.interface),
                    ));
                }
            }
            s.daemons.push(spec.status(1500));
            Ok(())
        })
    }
    fn stop_daemon(&self, role: SyncRole) -> Result<(), ControlError> {
        self.with(|s| {
            let before = s.daemons.len();
            s.daemons.retain(|d| d.role != role);
            if s.daemons.len() == before {
                return Err(ControlError::of(ErrorKind::NoDaemon));
            }
            Ok(())
        })
    }
    fn daemons(&self) -> Vec<SyncDaemonStatus> {
        self.with(|s| s.daemons.clone())
    }
}

/// A running server on a socket in a temporary directory.
pub struct Running {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub stop: Arc<AtomicBool>,
    pub handle: Option<JoinHandle<()>>,
    pub stats: Arc<control::server::ServerStats>,
}

impl Running {
    pub fn start(backend: Arc<FakeBackend>, options: ServerOptions) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run/ferrovs.sock");
        let server = Server::bind(&path, 0o600, None)
            .unwrap()
            .with_options(options);
        let stats = server.stats();
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = Arc::clone(&stop);
        let handle = std::thread::spawn(move || server.serve(backend, s2).unwrap());
        Running {
            dir,
            path,
            stop,
            handle: Some(handle),
            stats,
        }
    }

    pub fn fvsadm(&self, args: &str, stdin: &str) -> Output {
        fvsadm_socket(&self.path, args, stdin)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

fn words(args: &str) -> Vec<String> {
    args.split_whitespace().map(str::to_string).collect()
}

fn run_with(args: &str, stdin: &str, connect: &mut cli::Connector<'_>) -> Output {
    let mut input = Cursor::new(stdin.as_bytes().to_vec());
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = {
        let mut io = Io {
            stdin: &mut input,
            stdout: &mut out,
            stderr: &mut err,
        };
        cli::run(&words(args), &mut io, connect)
    };
    Output {
        code,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
    }
}

/// fvsadm over the control socket.
pub fn fvsadm_socket(path: &Path, args: &str, stdin: &str) -> Output {
    let mut connect =
        || -> Result<Box<dyn Transport>, ClientError> { Ok(Box::new(Client::connect(path)?)) };
    run_with(args, stdin, &mut connect)
}

/// fvsadm in-process on a backend (no socket).
pub fn fvsadm_local(backend: &Arc<FakeBackend>, args: &str, stdin: &str) -> Output {
    let b = Arc::clone(backend);
    let mut connect = move || -> Result<Box<dyn Transport>, ClientError> {
        Ok(Box::new(Session::standalone(Arc::clone(&b))))
    };
    run_with(args, stdin, &mut connect)
}

/// Runs a prepared command with `stdin` as its input.
pub fn run_process(cmd: &mut std::process::Command, stdin: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Asserts success and returns stdout.
pub fn ok(o: Output) -> String {
    assert_eq!((o.code, o.stderr.as_str()), (0, ""), "stdout: {}", o.stdout);
    o.stdout
}
