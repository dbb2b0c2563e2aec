//! keepalived 2.2.7 as the other router: its config and its process.
use super::*;

/// One keepalived `vrrp_instance` on eth0 and its global_defs.
#[derive(Debug, Clone)]
pub struct KaInstance {
    pub name: String,
    pub state: String,
    pub vrid: u8,
    pub priority: u8,
    pub advert_int: f64,
    /// `vrrp_version` in global_defs.
    pub version: u8,
    pub auth_pass: Option<String>,
    pub unicast_src_ip: Option<String>,
    pub unicast_peer: Vec<String>,
    pub virtual_ipaddress: Vec<String>,
    pub nopreempt: bool,
    /// `vrrp_notify_fifo` in global_defs (keepalived has no per-instance fifo).
    pub notify_fifo: Option<PathBuf>,
}

impl Default for KaInstance {
    fn default() -> KaInstance {
        KaInstance {
            name: INSTANCE.to_owned(),
            state: "BACKUP".to_owned(),
            vrid: VRID,
            priority: 100,
            advert_int: 1.0,
            version: 2,
            auth_pass: None,
            unicast_src_ip: None,
            unicast_peer: Vec::new(),
            virtual_ipaddress: vec![VIP.to_owned()],
            nopreempt: false,
            notify_fifo: None,
        }
    }
}

impl KaInstance {
    pub fn conf(&self) -> String {
        let mut c = String::from("global_defs {\n");
        let _ = writeln!(c, "  router_id ferrovs_lab");
        let _ = writeln!(c, "  vrrp_version {}", self.version);
        if let Some(f) = &self.notify_fifo {
            let _ = writeln!(c, "  vrrp_notify_fifo {}", f.display());
        }
        c.push_str("}\n\n");
        let _ = writeln!(c, "vrrp_instance {} {{", self.name);
        let _ = writeln!(c, "  interface eth0");
        let _ = writeln!(c, "  state {}", self.state);
        let _ = writeln!(c, "  virtual_router_id {}", self.vrid);
        let _ = writeln!(c, "  priority {}", self.priority);
        let _ = writeln!(c, "  advert_int {}", self.advert_int);
        if self.nopreempt {
            let _ = writeln!(c, "  nopreempt");
        }
        if let Some(p) = &self.auth_pass {
            let _ = writeln!(
                c,
                "  authentication {{\n    auth_type PASS\n    auth_pass {p}\n  }}"
            );
        }
        if let Some(s) = &self.unicast_src_ip {
            let _ = writeln!(c, "  unicast_src_ip {s}");
        }
        if !self.unicast_peer.is_empty() {
            let _ = writeln!(c, "  unicast_peer {{");
            for p in &self.unicast_peer {
                let _ = writeln!(c, "    {p}");
            }
            let _ = writeln!(c, "  }}");
        }
        let _ = writeln!(c, "  virtual_ipaddress {{");
        for a in &self.virtual_ipaddress {
            let _ = writeln!(c, "    {a}");
        }
        c.push_str("  }\n}\n");
        c
    }
}

/// keepalived (VRRP only, foreground) in `fvs-{ns}`. Drop: SIGTERM by PID,
/// SIGKILL after a bounded wait.
pub struct Keepalived {
    child: Option<Child>,
    pub ns: String,
    pub dir: PathBuf,
    pub conf: PathBuf,
    pub log: PathBuf,
    pub pid_file: PathBuf,
    pub vrrp_pid_file: PathBuf,
}

impl Keepalived {
    /// Writes `conf_text` and runs `keepalived -P -n -l -D -G -R -f FILE -p
    /// PIDFILE -r VRRPPIDFILE` in `fvs-{ns}` (`ka1`...), stderr and stdout to
    /// a log. `-R`: a killed VRRP child is not respawned (a crash stays one).
    pub fn start(_lab: &Lab, ns: &str, conf_text: &str) -> Keepalived {
        let dir = unique(&format!("ferrovs-ka-{ns}"));
        let conf = dir.join("keepalived.conf");
        std::fs::write(&conf, conf_text).unwrap();
        let log = dir.join("keepalived.log");
        let pid_file = dir.join("keepalived.pid");
        let vrrp_pid_file = dir.join("vrrp.pid");
        let logf = std::fs::File::create(&log).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &format!("fvs-{ns}"), "keepalived"])
            .args(["-P", "-n", "-l", "-D", "-G", "-R", "-f"])
            .arg(&conf)
            .arg("-p")
            .arg(&pid_file)
            .arg("-r")
            .arg(&vrrp_pid_file)
            .stdin(Stdio::null())
            .stdout(logf.try_clone().unwrap())
            .stderr(logf)
            .spawn()
            .expect("starting keepalived");
        let mut ka = Keepalived {
            child: Some(child),
            ns: ns.to_owned(),
            dir,
            conf,
            log,
            pid_file,
            vrrp_pid_file,
        };
        // Up once its VRRP child wrote its pid file (bounded).
        let up = wait_until(Duration::from_secs(10), Duration::from_millis(20), || {
            ka.vrrp_pid().is_some()
        });
        if up.is_none() || !ka.running() {
            panic!("keepalived in {ns} did not start:\n{}", ka.log_text());
        }
        ka
    }

    /// The keepalived parent's pid (`ip netns exec` execs it).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// The VRRP child's pid, while it is one of this keepalived's processes.
    pub fn vrrp_pid(&self) -> Option<u32> {
        let pid: u32 = std::fs::read_to_string(&self.vrrp_pid_file)
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let conf = self.conf.to_str()?.as_bytes();
        cmdline
            .windows(conf.len())
            .any(|w| w == conf)
            .then_some(pid)
    }

    pub fn running(&mut self) -> bool {
        match &mut self.child {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// A crash: SIGKILL to the VRRP child (it sends nothing more; the VIPs
    /// stay on its interface, as after a real crash), then to the parent.
    pub fn kill9(&mut self) {
        if let Some(vp) = self.vrrp_pid() {
            kill_pid(vp, libc::SIGKILL);
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM (a master sends priority 0 and removes its VIPs) and a
    /// bounded wait for the exit.
    pub fn terminate(&mut self, within: Duration) -> bool {
        let Some(mut c) = self.child.take() else {
            return true;
        };
        kill_pid(c.id(), libc::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < within {
            if let Ok(Some(_)) = c.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
        false
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Keepalived {
    fn drop(&mut self) {
        let vrrp = self.vrrp_pid();
        self.terminate(Duration::from_secs(5));
        // A VRRP child left behind (its parent killed) is still ours.
        if let Some(vp) = vrrp {
            if self.vrrp_pid() == Some(vp) {
                kill_pid(vp, libc::SIGKILL);
            }
        }
        if std::thread::panicking() {
            eprintln!("keepalived {} log kept: {}", self.ns, self.log.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
