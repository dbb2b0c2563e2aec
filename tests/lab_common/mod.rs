//! Lab harness for live tests: network namespaces from tests/lab/lab.sh, the
//! director started inside `fvs-lb`, and teardown that always runs (Drop),
//! also when an assertion fails.
#![allow(dead_code)]
pub mod health;
pub mod vrrp;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Lab tests share namespace names, so they run one at a time.
static LAB_LOCK: Mutex<()> = Mutex::new(());

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn lab_sh() -> PathBuf {
    repo().join("tests/lab/lab.sh")
}

/// Runs fvsadm (built beside ferrovs: `cargo test --workspace` builds every
/// binary) against `socket`: (exit code, stdout, stderr).
pub fn fvsadm(socket: &Path, args: &[&str]) -> (i32, String, String) {
    let bin = Path::new(env!("CARGO_BIN_EXE_ferrovs")).with_file_name("fvsadm");
    let o = Command::new(bin)
        .arg("--socket")
        .arg(socket)
        .args(args)
        .output()
        .expect("running fvsadm");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

pub struct Lab {
    _guard: MutexGuard<'static, ()>,
}

impl Lab {
    /// The lab in `mode`, or None (with a note) when not root: lab tests need
    /// namespaces and DPDK; CI runs as root.
    pub fn try_up(servers: usize, mode: &str) -> Option<Lab> {
        if !is_root() {
            eprintln!("lab tests need root; skipped");
            return None;
        }
        Some(Lab::up_mode(servers, mode))
    }

    /// Builds the lab with the real servers set up for `mode` (nat, fullnat,
    /// dr, tun: see tests/lab/lab.sh).
    pub fn up_mode(servers: usize, mode: &str) -> Lab {
        Lab::up_env(servers, mode, &[])
    }

    /// As `up_mode`, with more of lab.sh's variables (`LAB_DIRECTORS`,
    /// `LAB_KEEPALIVED`: see tests/lab/lab.sh).
    pub fn up_env(servers: usize, mode: &str, env: &[(&str, &str)]) -> Lab {
        let guard = LAB_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let lab = Lab { _guard: guard };
        let st = Command::new("bash")
            .arg(lab_sh())
            .args(["up", &servers.to_string()])
            .env("LAB_MODE", mode)
            .envs(env.iter().copied())
            .status()
            .expect("lab.sh");
        assert!(st.success(), "lab.sh up failed");
        lab
    }

    pub fn exec(&self, ns: &str, args: &[&str]) -> std::process::Output {
        Command::new("ip")
            .args(["netns", "exec", &format!("fvs-{ns}")])
            .args(args)
            .output()
            .expect("ip netns exec")
    }

    /// Runs the lab HTTP client in the client namespace; returns its JSON summary.
    pub fn http_requests(&self, url: &str, n: usize) -> serde_json::Value {
        self.http_client(url, n, &[])
    }

    /// As `http_requests`, with more of the client's options (`--sport` ...).
    pub fn http_client(&self, url: &str, n: usize, extra: &[&str]) -> serde_json::Value {
        let client = repo().join("tests/lab/http_client.py");
        let n = n.to_string();
        let mut args = vec!["python3", client.to_str().unwrap(), "--url", url, "-n", &n];
        args.extend_from_slice(extra);
        let o = self.exec("c", &args);
        assert!(
            o.status.success(),
            "client failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).expect("client JSON")
    }

    /// The lab HTTP client in the client namespace, in the background while
    /// the test goes on (`output` gives its JSON summary).
    pub fn http_client_background(&self, url: &str, n: usize, extra: &[&str]) -> Background {
        let client = repo().join("tests/lab/http_client.py");
        let n = n.to_string();
        let mut args = vec!["python3", client.to_str().unwrap(), "--url", url, "-n", &n];
        args.extend_from_slice(extra);
        self.spawn("c", &args)
    }

    /// Starts `cmd` in namespace `ns` in the background (killed on drop).
    pub fn spawn(&self, ns: &str, args: &[&str]) -> Background {
        let child = Command::new("ip")
            .args(["netns", "exec", &format!("fvs-{ns}")])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn in namespace");
        Background { child: Some(child) }
    }

    /// Starts ferrovs live in the director namespace.
    pub fn director(&self, config: &Path) -> Director {
        self.director_in("lb", config)
    }

    /// Starts ferrovs live in director namespace `fvs-{ns}` (`lb`, `lb2`).
    pub fn director_in(&self, ns: &str, config: &Path) -> Director {
        self.director_in_env(ns, config, &[])
    }

    /// As `director_in`, with environment variables (`FERROVS_TEST_HOOKS`).
    pub fn director_in_env(&self, ns: &str, config: &Path, env: &[(&str, &str)]) -> Director {
        // One log per director: a test may run two.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log = std::env::temp_dir().join(format!("ferrovs-lab-{}-{n}.log", std::process::id()));
        let child = Command::new("ip")
            .args(["netns", "exec", &format!("fvs-{ns}")])
            .args([env!("CARGO_BIN_EXE_ferrovs"), "run", "--config"])
            .arg(config)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("starting ferrovs");
        Director {
            child: Some(child),
            log,
        }
    }

    /// The director's Prometheus text (`metrics.listen` 127.0.0.1:9180 of the lab configs).
    pub fn metrics(&self) -> String {
        let scrape = || {
            self.exec(
                "lb",
                &[
                    "python3",
                    "-c",
                    "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:9180/metrics',timeout=5).read().decode())",
                ],
            )
        };
        // One retry, as a scraper would at its next interval: a single
        // "400 Bad Request" was seen once under the 1 000-real load (the
        // server found no request head); it is reported, not hidden.
        let mut o = scrape();
        if !o.status.success() {
            eprintln!(
                "metrics scrape failed once, retrying: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
            o = scrape();
        }
        assert!(
            o.status.success(),
            "metrics: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Waits (bounded) until one request through the VIP succeeds.
    pub fn wait_for_service(&self, url: &str, within: Duration) {
        let start = Instant::now();
        while start.elapsed() < within {
            let r = self.http_requests(url, 1);
            if r["ok"] == 1 {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("service {url} not reachable within {within:?}");
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(lab_sh()).arg("down").status();
    }
}

pub struct Director {
    child: Option<Child>,
    pub log: PathBuf,
}

impl Director {
    /// Sends a signal (e.g. "HUP") to the director.
    pub fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .args([&format!("-{sig}"), &c.id().to_string()])
                .status();
        }
    }

    /// Sends SIGTERM and waits (bounded) for the exit status.
    pub fn terminate(&mut self, within: Duration) -> ExitStatus {
        let pid = self.child.as_ref().expect("director running").id();
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        self.wait_exit(within)
    }

    /// Waits (bounded) for a director that is expected to stop by itself.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("director running");
        let start = Instant::now();
        loop {
            if let Some(st) = child.try_wait().expect("wait") {
                return st;
            }
            if start.elapsed() > within {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "director still running after {within:?}; log: {}",
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL (a crash: nothing is sent on the way out) and waits for the
    /// process to be gone; the log stays readable.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        match &mut self.child {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The director's pid (`ip netns exec` execs ferrovs in place).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Director {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A helper process inside a namespace; killed if still running on drop.
pub struct Background {
    child: Option<Child>,
}

impl Background {
    /// Waits (bounded) for the process to end and returns its stdout.
    pub fn output(mut self, within: Duration) -> String {
        let mut child = self.child.take().expect("running");
        let start = Instant::now();
        while start.elapsed() < within {
            if child.try_wait().expect("wait").is_some() {
                let o = child.wait_with_output().expect("output");
                return String::from_utf8_lossy(&o.stdout).into_owned();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let o = child.wait_with_output().expect("output");
        String::from_utf8_lossy(&o.stdout).into_owned()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// configs/lab.yaml in a private directory, with its own control socket and,
/// when `services` is given, that YAML in place of the file's `services:`
/// section (it may add top-level keys such as `marks:`). Removed on drop.
pub struct LabConfig {
    pub dir: PathBuf,
    pub path: PathBuf,
    pub sock: PathBuf,
}

impl LabConfig {
    pub fn new(name: &str, services: Option<&str>) -> LabConfig {
        let dir = std::env::temp_dir().join(format!("ferrovs-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sock = dir.join("ctl.sock");
        let base = std::fs::read_to_string(repo().join("configs/lab.yaml")).unwrap();
        let text = match services {
            Some(s) => {
                let head = &base[..base.find("services:").unwrap()];
                let tail = &base[base.find("timeouts:").unwrap()..];
                format!("{head}{s}\n{tail}")
            }
            None => base,
        };
        let text = text.replace("/run/ferrovs/ferrovs.sock", sock.to_str().unwrap());
        let path = dir.join("ferrovs.yaml");
        std::fs::write(&path, text).unwrap();
        LabConfig { dir, path, sock }
    }
}

impl LabConfig {
    /// Rewrites the config file with `f` (e.g. to give the port a twin).
    pub fn edit(&self, f: impl FnOnce(String) -> String) {
        let text = std::fs::read_to_string(&self.path).unwrap();
        std::fs::write(&self.path, f(text)).unwrap();
    }
}

impl Drop for LabConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
