//! The wire: VRRP adverts and ARP seen by tests/lab/vrrp_sniff.py.
use super::*;

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
