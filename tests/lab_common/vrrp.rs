//! The VRRP lab: two ferrovs directors (`fvs-lb`, `fvs-lb2`) and keepalived
//! namespaces (`fvs-ka1..N`) on the lab bridge (tests/lab/lab.sh with
//! `LAB_DIRECTORS` and `LAB_KEEPALIVED`), and what the VRRP tests observe:
//! the wire (tests/lab/vrrp_sniff.py: adverts, ARP, who answers ARP), the
//! directors' /metrics, keepalived's notify FIFO.
//!
//! Times: the sniffer stamps frames with CLOCK_MONOTONIC, the clock of
//! `Instant`; `instant`/`mono` convert, so a frame's time and the moment a
//! test sent a signal compare directly. The lab HTTP client logs wall-clock
//! times: `wall_at` converts an `Instant`.
//!
//! Everything started here is stopped on drop (by PID), also when an
//! assertion fails; files are kept then and their paths printed.
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{is_root, repo, Lab, LabConfig};

pub const VIP: &str = "10.99.0.100";
/// The real servers' default gateway: a virtual address of the VRRP lab.
pub const GW: &str = "10.99.1.1";
pub const URL: &str = "http://10.99.0.100/";
pub const MCAST: &str = "224.0.0.18";
pub const INSTANCE: &str = "VI_1";
pub const VRID: u8 = 51;

// ---------------------------------------------------------------- clocks

fn clock_monotonic() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec for the kernel to fill.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// One (Instant, CLOCK_MONOTONIC seconds) pair taken together.
fn base() -> (Instant, f64) {
    static BASE: OnceLock<(Instant, f64)> = OnceLock::new();
    *BASE.get_or_init(|| (Instant::now(), clock_monotonic()))
}

/// CLOCK_MONOTONIC seconds (the sniffer's `t`) of an `Instant`.
pub fn mono(i: Instant) -> f64 {
    let (i0, m0) = base();
    if i >= i0 {
        m0 + (i - i0).as_secs_f64()
    } else {
        m0 - (i0 - i).as_secs_f64()
    }
}

/// The `Instant` of a CLOCK_MONOTONIC time (the sniffer's `t`).
pub fn instant(t: f64) -> Instant {
    let (i0, m0) = base();
    if t >= m0 {
        i0 + Duration::from_secs_f64(t - m0)
    } else {
        i0.checked_sub(Duration::from_secs_f64(m0 - t))
            .unwrap_or(i0)
    }
}

/// Wall-clock seconds (the lab HTTP client's `t`) of an `Instant`.
pub fn wall_at(i: Instant) -> f64 {
    let now_wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let now = Instant::now();
    if i >= now {
        now_wall + (i - now).as_secs_f64()
    } else {
        now_wall - (now - i).as_secs_f64()
    }
}

/// Seconds from `a` to `b`, negative when `b` is earlier.
pub fn secs(a: Instant, b: Instant) -> f64 {
    mono(b) - mono(a)
}

/// Polls `f` every `poll` until it holds, at most `timeout`: how long it took.
pub fn wait_until(
    timeout: Duration,
    poll: Duration,
    mut f: impl FnMut() -> bool,
) -> Option<Duration> {
    let start = Instant::now();
    loop {
        if f() {
            return Some(start.elapsed());
        }
        if start.elapsed() >= timeout {
            return None;
        }
        std::thread::sleep(poll);
    }
}

/// VRRP skew time: v2 (256 - priority)/256 s, v3 (256 - priority) * interval / 256.
pub fn skew(version: u8, priority: u8, advert_int: f64) -> f64 {
    let p = 256.0 - f64::from(priority);
    if version == 3 {
        p * advert_int / 256.0
    } else {
        p / 256.0
    }
}

/// Master_Down_Interval: 3 * interval + skew.
pub fn master_down(version: u8, priority: u8, advert_int: f64) -> f64 {
    3.0 * advert_int + skew(version, priority, advert_int)
}

fn unique(prefix: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("{prefix}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn kill_pid(pid: u32, sig: libc::c_int) -> bool {
    // SAFETY: kill(2) on a pid this test started.
    unsafe { libc::kill(pid as libc::pid_t, sig) == 0 }
}

// ------------------------------------------------------------------- lab

impl Lab {
    /// The VRRP lab, or None (with a note) when not root.
    pub fn try_up_vrrp(
        servers: usize,
        mode: &str,
        directors: usize,
        keepalived: usize,
    ) -> Option<Lab> {
        if !is_root() {
            eprintln!("lab tests need root; skipped");
            return None;
        }
        Some(Lab::up_vrrp(servers, mode, directors, keepalived))
    }

    /// `directors` (1 or 2) director namespaces and `keepalived` keepalived
    /// namespaces beside the usual client and real servers.
    pub fn up_vrrp(servers: usize, mode: &str, directors: usize, keepalived: usize) -> Lab {
        assert!((1..=2).contains(&directors) && keepalived <= 9);
        Lab::up_env(
            servers,
            mode,
            &[
                ("LAB_DIRECTORS", &directors.to_string()),
                ("LAB_KEEPALIVED", &keepalived.to_string()),
                ("LAB_GW", GW),
            ],
        )
    }

    /// The MAC address of `iface` in namespace `fvs-{ns}`.
    pub fn mac_of(&self, ns: &str, iface: &str) -> String {
        let path = format!("/sys/class/net/{iface}/address");
        let o = self.exec(ns, &["cat", &path]);
        assert!(o.status.success(), "{ns}: no {iface}");
        String::from_utf8_lossy(&o.stdout).trim().to_owned()
    }

    /// Sends `count` ARP who-has `ip` from `iface` in `fvs-{ns}` and lists
    /// the replies (who answers ARP for an address).
    pub fn arp_probe(&self, ns: &str, iface: &str, ip: &str, count: usize) -> ArpProbe {
        let sniff = repo().join("tests/lab/vrrp_sniff.py");
        let n = count.to_string();
        let o = self.exec(
            ns,
            &[
                "python3",
                sniff.to_str().unwrap(),
                "--arp-probe",
                ip,
                "--iface",
                iface,
                "--count",
                &n,
                "--wait",
                "0.5",
            ],
        );
        assert!(
            o.status.success(),
            "arp probe: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("arp probe JSON");
        ArpProbe {
            sent: v["sent"].as_u64().unwrap_or(0) as usize,
            macs: v["replies"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|r| r["mac"].as_str().unwrap_or("").to_owned())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

impl Lab {
    /// A scripted VRRP peer: `vrrp_sniff.py --send-advert` in `fvs-{ns}`
    /// from `iface` with `args` (`--version`, `--priority`, `--checksum`,
    /// `--count`, `--every`...), in the background.
    pub fn send_adverts(&self, ns: &str, iface: &str, args: &[&str]) -> super::Background {
        let sniff = repo().join("tests/lab/vrrp_sniff.py");
        let mut a = vec![
            "python3",
            sniff.to_str().unwrap(),
            "--send-advert",
            "--iface",
            iface,
        ];
        a.extend_from_slice(args);
        self.spawn(ns, &a)
    }
}

/// What an ARP probe got back: one MAC per reply, in arrival order.
#[derive(Debug, Clone)]
pub struct ArpProbe {
    pub sent: usize,
    pub macs: Vec<String>,
}

impl ArpProbe {
    /// The distinct MACs that answered.
    pub fn answered_by(&self) -> Vec<String> {
        let mut m = self.macs.clone();
        m.sort();
        m.dedup();
        m
    }

    /// Answered, and only by `mac`.
    pub fn only(&self, mac: &str) -> bool {
        !self.macs.is_empty() && self.macs.iter().all(|m| m.eq_ignore_ascii_case(mac))
    }
}

// ---------------------------------------------------------- directors

/// One of the two directors of the VRRP lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `fvs-lb`: 10.99.0.3/24, 10.99.1.3/24, MAC 02:00:00:00:00:01.
    A,
    /// `fvs-lb2`: 10.99.0.4/24, 10.99.1.4/24, MAC 02:00:00:00:00:02.
    B,
}

impl Side {
    pub fn ns(self) -> &'static str {
        match self {
            Side::A => "lb",
            Side::B => "lb2",
        }
    }
    pub fn mac(self) -> &'static str {
        match self {
            Side::A => "02:00:00:00:00:01",
            Side::B => "02:00:00:00:00:02",
        }
    }
    /// The port's addresses; the first is the instance's primary (advert source).
    pub fn addresses(self) -> [&'static str; 2] {
        match self {
            Side::A => ["10.99.0.3/24", "10.99.1.3/24"],
            Side::B => ["10.99.0.4/24", "10.99.1.4/24"],
        }
    }
    pub fn primary(self) -> &'static str {
        match self {
            Side::A => "10.99.0.3",
            Side::B => "10.99.0.4",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Side::A => "A",
            Side::B => "B",
        }
    }
}

/// The parameters of one `vrrp:` instance of a director's config.
#[derive(Debug, Clone)]
pub struct Vrrp {
    pub name: String,
    pub vrid: u8,
    pub priority: u8,
    pub version: u8,
    /// Seconds (fractions with version 3).
    pub advert_int: f64,
    pub state: String,
    pub nopreempt: bool,
    pub preempt_delay: f64,
    /// auth_type PASS with this password (v2).
    pub auth_pass: Option<String>,
    pub unicast_src_ip: Option<String>,
    pub unicast_peer: Vec<String>,
    pub v3_checksum_as_v2: bool,
    pub virtual_ipaddress: Vec<String>,
    pub garp_master_repeat: u32,
    pub garp_master_delay: u32,
    pub notify_fifo: Option<PathBuf>,
}

impl Default for Vrrp {
    fn default() -> Vrrp {
        Vrrp {
            name: INSTANCE.to_owned(),
            vrid: VRID,
            priority: 100,
            version: 2,
            advert_int: 1.0,
            state: "BACKUP".to_owned(),
            nopreempt: false,
            preempt_delay: 0.0,
            auth_pass: None,
            unicast_src_ip: None,
            unicast_peer: Vec::new(),
            v3_checksum_as_v2: false,
            virtual_ipaddress: vec![VIP.to_owned(), format!("{GW}/24")],
            garp_master_repeat: 5,
            garp_master_delay: 5,
            notify_fifo: None,
        }
    }
}

impl Vrrp {
    pub fn with_priority(priority: u8) -> Vrrp {
        Vrrp {
            priority,
            ..Vrrp::default()
        }
    }

    pub fn skew(&self) -> f64 {
        skew(self.version, self.priority, self.advert_int)
    }

    pub fn master_down(&self) -> f64 {
        master_down(self.version, self.priority, self.advert_int)
    }

    /// The addresses an advert carries (prefix lengths dropped).
    pub fn advert_addrs(&self) -> Vec<String> {
        self.virtual_ipaddress
            .iter()
            .map(|a| a.split('/').next().unwrap().to_owned())
            .collect()
    }

    /// The top-level `vrrp:` section with this one instance on port eth0.
    pub fn yaml(&self) -> String {
        let mut y = String::from("vrrp:\n");
        let _ = writeln!(y, "  - name: {}", self.name);
        let _ = writeln!(y, "    port: eth0");
        let _ = writeln!(y, "    virtual_router_id: {}", self.vrid);
        let _ = writeln!(y, "    priority: {}", self.priority);
        let _ = writeln!(y, "    advert_int: {}", self.advert_int);
        let _ = writeln!(y, "    version: {}", self.version);
        let _ = writeln!(y, "    state: {}", self.state);
        let _ = writeln!(y, "    nopreempt: {}", self.nopreempt);
        let _ = writeln!(y, "    preempt_delay: {}", self.preempt_delay);
        if let Some(p) = &self.auth_pass {
            let _ = writeln!(
                y,
                "    authentication: {{auth_type: PASS, auth_pass: \"{p}\"}}"
            );
        }
        if let Some(s) = &self.unicast_src_ip {
            let _ = writeln!(y, "    unicast_src_ip: {s}");
        }
        if !self.unicast_peer.is_empty() {
            let _ = writeln!(y, "    unicast_peer: [{}]", self.unicast_peer.join(", "));
        }
        let _ = writeln!(y, "    v3_checksum_as_v2: {}", self.v3_checksum_as_v2);
        let _ = writeln!(
            y,
            "    virtual_ipaddress: [{}]",
            self.virtual_ipaddress.join(", ")
        );
        let _ = writeln!(y, "    garp_master_repeat: {}", self.garp_master_repeat);
        let _ = writeln!(y, "    garp_master_delay: {}", self.garp_master_delay);
        if let Some(f) = &self.notify_fifo {
            let _ = writeln!(y, "    notify_fifo: {}", f.display());
        }
        y
    }
}

/// configs/lab.yaml for one director of the two-director lab: the side's
/// port MAC and addresses, `conn_max: 100000` (two directors share the
/// hugepages), its own control socket, the NAT service on 10.99.0.100:80
/// over the reals (lab.yaml's), and `vrrp`.
pub fn director_config(side: Side, vrrp: &Vrrp) -> LabConfig {
    let addrs = side.addresses();
    director_config_with(&format!("vrrp-lb{}", side.name()), side.mac(), &addrs, vrrp)
}

/// configs/lab.yaml with the port's `mac` and `addresses` replaced (as given:
/// lab.yaml's own for the director-vs-keepalived lab), `conn_max: 100000`
/// and the `vrrp:` section.
pub fn director_config_with(name: &str, mac: &str, addresses: &[&str], vrrp: &Vrrp) -> LabConfig {
    let cfg = director_config_base(name, mac, addresses);
    cfg.edit(|t| format!("{t}\n{}", vrrp.yaml()));
    cfg
}

/// `director_config_with` without the `vrrp:` section (what a director
/// without VRRP accepts: the fixture checks two of them side by side).
pub fn director_config_base(name: &str, mac: &str, addresses: &[&str]) -> LabConfig {
    // A private directory per config, even for two configs of one side.
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let cfg = LabConfig::new(&format!("{name}-{n}"), None);
    cfg.edit(|t| {
        let mac_line = "    mac: \"02:00:00:00:00:01\"\n";
        let addr_line = "    addresses: [10.99.0.1/24, 10.99.1.1/24]\n";
        assert!(
            t.contains(mac_line) && t.contains(addr_line),
            "configs/lab.yaml's port"
        );
        assert!(t.contains("host_iface:"), "VRRP needs the port's twin");
        let t = t
            .replacen(mac_line, &format!("    mac: \"{mac}\"\n"), 1)
            .replacen(
                addr_line,
                &format!("    addresses: [{}]\n", addresses.join(", ")),
                1,
            );
        format!("{t}\nconn_max: 100000\n")
    });
    cfg
}

// ------------------------------------------------------------- metrics

/// GET `path` from `addr` inside namespace `fvs-{ns}` (a thread that enters
/// the namespace: cheap enough to poll every 50 ms): the body of a 200.
pub fn http_get_in(ns: &str, addr: &str, path: &str, timeout: Duration) -> Option<String> {
    let ns_path = format!("/var/run/netns/fvs-{ns}");
    let addr: std::net::SocketAddr = addr.parse().ok()?;
    let path = path.to_owned();
    std::thread::spawn(move || -> Option<String> {
        let f = std::fs::File::open(&ns_path).ok()?;
        // SAFETY: setns on this thread only (network namespaces are per task).
        if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return None;
        }
        let mut s = std::net::TcpStream::connect_timeout(&addr, timeout).ok()?;
        s.set_read_timeout(Some(timeout)).ok()?;
        s.set_write_timeout(Some(timeout)).ok()?;
        s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
            .ok()?;
        let mut buf = Vec::new();
        s.take(16 << 20).read_to_end(&mut buf).ok()?;
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (head, body) = text.split_once("\r\n\r\n")?;
        head.split(' ')
            .nth(1)
            .filter(|c| *c == "200")
            .map(|_| body.to_owned())
    })
    .join()
    .ok()
    .flatten()
}

/// The director's /metrics in `fvs-{ns}` (lab configs: 127.0.0.1:9180), or
/// None when it does not answer (not started, dead, wedged).
pub fn metrics_text(ns: &str) -> Option<String> {
    http_get_in(ns, "127.0.0.1:9180", "/metrics", Duration::from_secs(1))
}

/// The sum of the series `name` whose labels include `labels` in
/// Prometheus text `text` (None when there is none).
pub fn metric_in(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut found = None;
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = match line.rsplit_once(' ') {
            Some(x) => x,
            None => continue,
        };
        let (n, l) = match series.split_once('{') {
            Some((n, l)) => (n, l.trim_end_matches('}')),
            None => (series, ""),
        };
        if n != name {
            continue;
        }
        let have: Vec<(&str, &str)> = l
            .split(',')
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                Some((k.trim(), v.trim().trim_matches('"')))
            })
            .collect();
        if labels.iter().all(|want| have.contains(want)) {
            if let Ok(v) = value.trim().parse::<f64>() {
                *found.get_or_insert(0.0) += v;
            }
        }
    }
    found
}

/// One metric of the director in `fvs-{ns}` (see `metric_in`).
pub fn metric(_lab: &Lab, ns: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    metric_in(&metrics_text(ns)?, name, labels)
}

/// One VRRP metric of instance VI_1.
pub fn vrrp_metric(lab: &Lab, ns: &str, name: &str) -> Option<f64> {
    metric(lab, ns, name, &[("instance", INSTANCE)])
}

/// `ferrovs_vrrp_state` of VI_1: 0 init, 1 backup, 2 master, 3 fault.
pub fn vrrp_state(_lab: &Lab, ns: &str) -> Option<u8> {
    state_of(ns)
}

fn state_of(ns: &str) -> Option<u8> {
    metric_in(
        &metrics_text(ns)?,
        "ferrovs_vrrp_state",
        &[("instance", INSTANCE)],
    )
    .map(|v| v as u8)
}

pub const INIT: u8 = 0;
pub const BACKUP: u8 = 1;
pub const MASTER: u8 = 2;
pub const FAULT: u8 = 3;

/// `ferrovs_vrrp_adverts_dropped_total` of VI_1 for `reason`.
pub fn dropped(lab: &Lab, ns: &str, reason: &str) -> f64 {
    metric(
        lab,
        ns,
        "ferrovs_vrrp_adverts_dropped_total",
        &[("instance", INSTANCE), ("reason", reason)],
    )
    .unwrap_or(0.0)
}

/// One state sample: (index into `StateSampler::namespaces`, when, state).
pub type Sample = (usize, Instant, Option<u8>);

/// Samples `ferrovs_vrrp_state` of several directors every `every`, each
/// from its own thread inside its namespace, until dropped or `lifetime`.
pub struct StateSampler {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    samples: Arc<Mutex<Vec<Sample>>>,
    pub namespaces: Vec<String>,
}

impl StateSampler {
    pub fn start(namespaces: &[&str], every: Duration, lifetime: Duration) -> StateSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let mut threads = Vec::new();
        for (i, ns) in namespaces.iter().enumerate() {
            let (stop, samples, ns) = (stop.clone(), samples.clone(), ns.to_string());
            threads.push(std::thread::spawn(move || {
                let f = match std::fs::File::open(format!("/var/run/netns/fvs-{ns}")) {
                    Ok(f) => f,
                    Err(_) => return,
                };
                // SAFETY: setns on this thread only.
                if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return;
                }
                let start = Instant::now();
                let addr: std::net::SocketAddr = "127.0.0.1:9180".parse().unwrap();
                while !stop.load(Ordering::Relaxed) && start.elapsed() < lifetime {
                    let t = Instant::now();
                    let s = fetch_state_here(&addr);
                    samples.lock().unwrap().push((i, t, s));
                    let spent = t.elapsed();
                    if spent < every {
                        std::thread::sleep(every - spent);
                    }
                }
            }));
        }
        StateSampler {
            stop,
            threads,
            samples,
            namespaces: namespaces.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Samples so far: (index into `namespaces`, when, state).
    pub fn samples(&self) -> Vec<Sample> {
        let mut v = self.samples.lock().unwrap().clone();
        v.sort_by_key(|s| s.1);
        v
    }

    /// The intervals in which every director's latest sample said MASTER,
    /// counting only samples taken outside `exclude` windows.
    pub fn all_master_runs(&self, exclude: &[(Instant, Instant)]) -> Vec<(Instant, Instant)> {
        let n = self.namespaces.len();
        let mut last: Vec<Option<u8>> = vec![None; n];
        let mut runs = Vec::new();
        let mut open: Option<Instant> = None;
        for (i, t, s) in self.samples() {
            let excluded = exclude.iter().any(|(a, b)| t >= *a && t <= *b);
            last[i] = s;
            let all = !excluded && last.iter().all(|x| *x == Some(MASTER));
            match (open, all) {
                (None, true) => open = Some(t),
                (Some(o), false) => {
                    runs.push((o, t));
                    open = None;
                }
                _ => {}
            }
        }
        if let Some(o) = open {
            runs.push((o, Instant::now()));
        }
        runs
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn fetch_state_here(addr: &std::net::SocketAddr) -> Option<u8> {
    let timeout = Duration::from_millis(500);
    let mut s = std::net::TcpStream::connect_timeout(addr, timeout).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .ok()?;
    let mut buf = Vec::new();
    s.take(16 << 20).read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let body = text.split_once("\r\n\r\n")?.1;
    metric_in(body, "ferrovs_vrrp_state", &[("instance", INSTANCE)]).map(|v| v as u8)
}

impl Drop for StateSampler {
    fn drop(&mut self) {
        self.stop();
    }
}

// ------------------------------------------------------------ the wire

/// One VRRP advertisement seen by the sniffer.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Advert {
    /// CLOCK_MONOTONIC seconds (see `instant`).
    pub t: f64,
    pub wall: f64,
    pub src_mac: String,
    pub src: String,
    pub dst: String,
    pub ttl: u8,
    #[serde(default)]
    pub version: u8,
    #[serde(default, rename = "type")]
    pub kind: u8,
    #[serde(default)]
    pub vrid: u8,
    #[serde(default)]
    pub priority: u8,
    #[serde(default)]
    pub count: u8,
    #[serde(default)]
    pub addrs: Vec<String>,
    /// Seconds (v2) or centiseconds (v3).
    #[serde(default)]
    pub interval: u32,
    #[serde(default)]
    pub auth_type: Option<u8>,
    #[serde(default)]
    pub auth_data: String,
    #[serde(default)]
    pub checksum_plain_ok: bool,
    #[serde(default)]
    pub checksum_pseudo_ok: bool,
    #[serde(default)]
    pub length: usize,
    /// 0 to us, 1 broadcast, 2 multicast, 3 other host, 4 outgoing.
    #[serde(default)]
    pub pkttype: u8,
}

impl Advert {
    pub fn at(&self) -> Instant {
        instant(self.t)
    }
    /// The advertised interval in seconds.
    pub fn interval_secs(&self) -> f64 {
        if self.version == 3 {
            f64::from(self.interval) / 100.0
        } else {
            f64::from(self.interval)
        }
    }
}

/// One ARP frame seen by the sniffer.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Arp {
    pub t: f64,
    pub wall: f64,
    pub op: u16,
    pub src_mac: String,
    pub sender_ip: String,
    pub sender_mac: String,
    pub target_ip: String,
    pub target_mac: String,
    #[serde(default)]
    pub pkttype: u8,
}

impl Arp {
    pub fn at(&self) -> Instant {
        instant(self.t)
    }
    /// A gratuitous ARP (request or reply) announcing `ip`.
    pub fn is_garp_for(&self, ip: &str) -> bool {
        self.sender_ip == ip && self.target_ip == ip
    }
}

/// tests/lab/vrrp_sniff.py capturing on `iface` in `fvs-{ns}` in the
/// background; killed (by PID) on drop.
pub struct Capture {
    child: Option<Child>,
    pub out: PathBuf,
    dir: PathBuf,
    pub label: String,
}

impl Capture {
    /// Captures on `iface` in `fvs-{ns}` for at most 300 s. `br0` in `br`
    /// sees every multicast and broadcast frame of the lab.
    pub fn start(_lab: &Lab, ns: &str, iface: &str) -> Capture {
        Capture::start_with(ns, iface, 300.0, false)
    }

    pub fn start_with(ns: &str, iface: &str, lifetime: f64, promisc: bool) -> Capture {
        let dir = unique("ferrovs-vrrp-cap");
        let out = dir.join(format!("{ns}-{iface}.jsonl"));
        let sniff = repo().join("tests/lab/vrrp_sniff.py");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &format!("fvs-{ns}"), "python3"])
            .arg(&sniff)
            .args(["--iface", iface, "--out"])
            .arg(&out)
            .args(["--lifetime", &lifetime.to_string()]);
        if promisc {
            cmd.arg("--promisc");
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("sniff.err")).unwrap())
            .spawn()
            .expect("starting vrrp_sniff.py");
        let cap = Capture {
            child: Some(child),
            out,
            dir,
            label: format!("{ns}/{iface}"),
        };
        // Ready once the socket is bound (bounded).
        let ready = wait_until(Duration::from_secs(10), Duration::from_millis(20), || {
            std::fs::read_to_string(&cap.out)
                .map(|t| t.contains("\"ready\""))
                .unwrap_or(false)
        });
        assert!(
            ready.is_some(),
            "sniffer on {ns}/{iface} not ready: {}",
            std::fs::read_to_string(cap.dir.join("sniff.err")).unwrap_or_default()
        );
        cap
    }

    fn records(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Every VRRP advert so far, in arrival order.
    pub fn adverts(&self) -> Vec<Advert> {
        self.records()
            .into_iter()
            .filter(|r| r["kind"] == "vrrp")
            .filter_map(|r| serde_json::from_value(r).ok())
            .collect()
    }

    /// Every ARP frame so far, in arrival order.
    pub fn arps(&self) -> Vec<Arp> {
        self.records()
            .into_iter()
            .filter(|r| r["kind"] == "arp")
            .filter_map(|r| serde_json::from_value(r).ok())
            .collect()
    }

    /// Adverts from `src` (any priority) of VRID 51.
    pub fn adverts_from(&self, src: &str) -> Vec<Advert> {
        self.adverts()
            .into_iter()
            .filter(|a| a.src == src && a.vrid == VRID)
            .collect()
    }

    /// The first advert from `src` after `after` with priority >= `min_priority`.
    pub fn first_advert_from(&self, src: &str, after: Instant, min_priority: u8) -> Option<Advert> {
        let after = mono(after);
        self.adverts_from(src)
            .into_iter()
            .find(|a| a.t >= after && a.priority >= min_priority)
    }

    /// The last advert from `src` before `before` with priority >= `min_priority`.
    pub fn last_advert_from(&self, src: &str, before: Instant, min_priority: u8) -> Option<Advert> {
        let before = mono(before);
        self.adverts_from(src)
            .into_iter()
            .rev()
            .find(|a| a.t <= before && a.priority >= min_priority)
    }

    /// Waits (bounded) for the first advert from `src` after `after` whose
    /// priority is at least `min_priority`.
    pub fn wait_advert_from(
        &self,
        src: &str,
        after: Instant,
        min_priority: u8,
        timeout: Duration,
    ) -> Option<Advert> {
        let mut found = None;
        wait_until(timeout, Duration::from_millis(20), || {
            found = self.first_advert_from(src, after, min_priority);
            found.is_some()
        });
        found
    }

    /// Waits (bounded) for the first advert from `src` after `after` with
    /// exactly priority `priority` (0: a master stopping).
    pub fn wait_priority_from(
        &self,
        src: &str,
        after: Instant,
        priority: u8,
        timeout: Duration,
    ) -> Option<Advert> {
        let t0 = mono(after);
        let mut found = None;
        wait_until(timeout, Duration::from_millis(20), || {
            found = self
                .adverts_from(src)
                .into_iter()
                .find(|a| a.t >= t0 && a.priority == priority);
            found.is_some()
        });
        found
    }

    /// Waits (bounded) until `n` adverts from `src` arrived after `after`.
    pub fn wait_adverts_from(
        &self,
        src: &str,
        after: Instant,
        n: usize,
        timeout: Duration,
    ) -> Vec<Advert> {
        let t0 = mono(after);
        let mut got = Vec::new();
        wait_until(timeout, Duration::from_millis(50), || {
            got = self
                .adverts_from(src)
                .into_iter()
                .filter(|a| a.t >= t0)
                .collect();
            got.len() >= n
        });
        got
    }

    /// Gratuitous ARPs for `ip` from `mac` after `after`.
    pub fn garps(&self, ip: &str, mac: &str, after: Instant) -> Vec<Arp> {
        let t0 = mono(after);
        self.arps()
            .into_iter()
            .filter(|a| a.t >= t0 && a.is_garp_for(ip) && a.sender_mac.eq_ignore_ascii_case(mac))
            .collect()
    }

    /// A readable summary of what was captured (for assertion messages).
    pub fn summary(&self) -> String {
        let mut s = format!("capture {} ({}):\n", self.label, self.out.display());
        let adverts = self.adverts();
        let skip = adverts.len().saturating_sub(40);
        for a in adverts.iter().skip(skip) {
            let _ = writeln!(
                s,
                "  {:.3} vrrp v{} {} -> {} ttl {} vrid {} prio {} int {} addrs {:?} auth {:?}/{} csum plain {} pseudo {}",
                a.t, a.version, a.src, a.dst, a.ttl, a.vrid, a.priority, a.interval, a.addrs,
                a.auth_type, a.auth_data, a.checksum_plain_ok, a.checksum_pseudo_ok
            );
        }
        s
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            eprintln!("capture kept: {}", self.out.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Gaps between consecutive adverts, in seconds.
pub fn gaps(adverts: &[Advert]) -> Vec<f64> {
    adverts.windows(2).map(|w| w[1].t - w[0].t).collect()
}

pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

// ------------------------------------------------------- notify FIFO

/// A notify FIFO (mkfifo) read by a thread that stamps every line.
/// Opened read-write, so writers never block and it never sees EOF.
pub struct Fifo {
    pub path: PathBuf,
    dir: PathBuf,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Fifo {
    /// A new FIFO named `name` in a private directory.
    pub fn create(name: &str) -> Fifo {
        let dir = unique("ferrovs-vrrp-fifo");
        let path = dir.join(name);
        let st = Command::new("mkfifo").arg(&path).status().expect("mkfifo");
        assert!(st.success(), "mkfifo {}", path.display());
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("opening the fifo");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (lines, stop) = (lines.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut file = file;
                let fd = file.as_raw_fd();
                let start = Instant::now();
                let mut pending = String::new();
                let mut buf = [0u8; 4096];
                // At most an hour, in 50 ms polls.
                while !stop.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(3600) {
                    let mut pfd = libc::pollfd {
                        fd,
                        events: libc::POLLIN,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd.
                    let n = unsafe { libc::poll(&mut pfd, 1, 50) };
                    if n <= 0 || pfd.revents & libc::POLLIN == 0 {
                        continue;
                    }
                    let got = match file.read(&mut buf) {
                        Ok(0) | Err(_) => continue,
                        Ok(g) => g,
                    };
                    let at = Instant::now();
                    pending.push_str(&String::from_utf8_lossy(&buf[..got]));
                    while let Some(i) = pending.find('\n') {
                        let line: String = pending.drain(..=i).collect();
                        lines.lock().unwrap().push((at, line.trim_end().to_owned()));
                    }
                }
            })
        };
        Fifo {
            path,
            dir,
            lines,
            stop,
            thread: Some(thread),
        }
    }

    pub fn lines(&self) -> Vec<(Instant, String)> {
        self.lines.lock().unwrap().clone()
    }

    pub fn text(&self) -> String {
        self.lines()
            .iter()
            .map(|(_, l)| l.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Waits (bounded) for a line containing `substr`: when it was read.
    pub fn wait_for(&self, substr: &str, timeout: Duration) -> Option<Instant> {
        self.wait_line(None, timeout, |l| l.contains(substr))
    }

    /// Waits (bounded) for keepalived's `INSTANCE "VI_1" <state> <prio>`
    /// line with exactly `state` (MASTER, BACKUP, FAULT, STOP), read after
    /// `after` when given.
    pub fn wait_state(
        &self,
        state: &str,
        after: Option<Instant>,
        timeout: Duration,
    ) -> Option<Instant> {
        self.wait_line(after, timeout, |l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.len() >= 3 && w[0] == "INSTANCE" && w[1] == format!("\"{INSTANCE}\"") && w[2] == state
        })
    }

    /// The state of the last `INSTANCE "VI_1" <state> <prio>` line.
    pub fn last_state(&self) -> Option<String> {
        self.lines().iter().rev().find_map(|(_, l)| {
            let w: Vec<&str> = l.split_whitespace().collect();
            (w.len() >= 3
                && w[0] == "INSTANCE"
                && ["MASTER", "BACKUP", "FAULT", "STOP"].contains(&w[2]))
            .then(|| w[2].to_owned())
        })
    }

    pub fn wait_line(
        &self,
        after: Option<Instant>,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Option<Instant> {
        let mut found = None;
        wait_until(timeout, Duration::from_millis(10), || {
            found = self
                .lines()
                .into_iter()
                .find(|(t, l)| after.is_none_or(|a| *t >= a) && pred(l))
                .map(|(t, _)| t);
            found.is_some()
        });
        found
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if std::thread::panicking() {
            eprintln!("fifo {} read:\n{}", self.path.display(), self.text());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ----------------------------------------------------------- keepalived

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

// ------------------------------------------------- director VRRP state

/// Waits (bounded, 20 ms polls) until the director in `fvs-{ns}` reports
/// `state`: when it was first seen.
pub fn wait_vrrp_state(ns: &str, state: u8, within: Duration) -> Option<Instant> {
    let mut seen = None;
    wait_until(within, Duration::from_millis(20), || {
        if state_of(ns) == Some(state) {
            seen = Some(Instant::now());
        }
        seen.is_some()
    });
    seen
}

/// Checks every 50 ms for `during` that the director in `fvs-{ns}` keeps
/// reporting `state`; the first other reading (when, what) otherwise.
pub fn hold_vrrp_state(ns: &str, state: u8, during: Duration) -> Result<(), (Instant, Option<u8>)> {
    let start = Instant::now();
    while start.elapsed() < during {
        let s = state_of(ns);
        if s != Some(state) {
            return Err((Instant::now(), s));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Every VRRP metric of VI_1 of the director in `fvs-{ns}` (for messages).
pub fn vrrp_metrics_text(ns: &str) -> String {
    metrics_text(ns)
        .map(|t| {
            t.lines()
                .filter(|l| l.starts_with("ferrovs_vrrp_"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_else(|| format!("(no /metrics in fvs-{ns})"))
}

/// Requests logged by the lab HTTP client (`--log`): (wall time, failure).
pub fn request_log(path: &std::path::Path) -> Vec<(f64, Option<String>)> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|v| {
            (
                v["t"].as_f64().unwrap_or(0.0),
                v["failure"].as_str().map(|s| s.to_owned()),
            )
        })
        .collect()
}

/// As `wait_vrrp_state`, giving up at once when the director exits (a
/// config it refuses, a crash): when `state` was first seen.
pub fn wait_director_state(
    d: &mut super::Director,
    ns: &str,
    state: u8,
    within: Duration,
) -> Option<Instant> {
    let mut seen = None;
    wait_until(within, Duration::from_millis(20), || {
        if state_of(ns) == Some(state) {
            seen = Some(Instant::now());
        }
        seen.is_some() || !d.running()
    });
    seen
}
