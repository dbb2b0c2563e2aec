//! What a director says on /metrics, and its VRRP state over time.
use super::*;

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

pub fn state_of(ns: &str) -> Option<u8> {
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

pub fn fetch_state_here(addr: &std::net::SocketAddr) -> Option<u8> {
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
    d: &mut crate::lab_common::Director,
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

/// Waits (bounded) until director A (`fvs-lb`) reports MASTER and B
/// (`fvs-lb2`) BACKUP; fails with the director's log otherwise.
pub fn wait_elected(
    a: &mut crate::lab_common::Director,
    b: &mut crate::lab_common::Director,
    within: Duration,
) {
    assert!(
        wait_director_state(a, Side::A.ns(), 2, within).is_some(),
        "A not MASTER\n{}",
        a.log_text()
    );
    assert!(
        wait_director_state(b, Side::B.ns(), 1, within).is_some(),
        "B not BACKUP\n{}",
        b.log_text()
    );
}
