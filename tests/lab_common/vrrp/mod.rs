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

mod capture;
mod directors;
mod fifo;
mod keepalived;
mod metrics;
mod pair;
#[allow(unused_imports)] // each test file uses a different part
pub use capture::*;
#[allow(unused_imports)] // each test file uses a different part
pub use directors::*;
#[allow(unused_imports)] // each test file uses a different part
pub use fifo::*;
#[allow(unused_imports)] // each test file uses a different part
pub use keepalived::*;
#[allow(unused_imports)] // each test file uses a different part
pub use metrics::*;
#[allow(unused_imports)] // each test file uses a different part
pub use pair::*;

pub const VIP: &str = "10.99.0.100";
/// The real servers' default gateway: a virtual address of the VRRP lab.
pub const GW: &str = "10.99.1.1";
pub const URL: &str = "http://10.99.0.100/";
pub const MCAST: &str = "224.0.0.18";
pub const INSTANCE: &str = "VI_1";
pub const VRID: u8 = 51;

// ---------------------------------------------------------------- clocks

pub fn clock_monotonic() -> f64 {
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
pub fn base() -> (Instant, f64) {
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

pub fn unique(prefix: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("{prefix}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn kill_pid(pid: u32, sig: libc::c_int) -> bool {
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
