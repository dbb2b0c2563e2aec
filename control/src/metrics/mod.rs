//! Prometheus text exposition of the director: per service and per real
//! counters (`Counters`), per-core dataplane counters and daemon facts
//! (`DaemonMetrics`). Every name starts with `ferrovs_`. `http` serves it.

mod http;
mod sync;
mod vrrp;

#[cfg(test)]
mod tests;

use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

use crate::config::Config;
use crate::proto::{Counters, Stats};

pub use http::{MetricsServer, MetricsSource};
pub use sync::SyncMetrics;

/// Counters of one worker core.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoreMetrics {
    pub core: u32,
    pub rx_packets: u64,
    pub rx_bytes: u64,
    pub tx_packets: u64,
    pub tx_bytes: u64,
    /// Packets handed to another core (reply to the owner of a connection).
    pub redirects: u64,
    /// Frames the established fast path left to the full path.
    pub full_path: u64,
    /// Drops by reason name.
    pub drops: Vec<(String, u64)>,
    /// Connection-table entries in use, and its capacity.
    pub conns: u64,
    pub conn_capacity: u64,
}

/// How one port delivers FullNAT replies to the core that owns them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortMetrics {
    pub port: String,
    /// rte_flow rules steer the replies (false: the redirect rings carry them).
    pub flow_steering: bool,
    /// rte_flow rules installed on the port.
    pub flow_rules: u64,
    /// The port's host path; `None` without a kernel twin.
    pub host: Option<HostMetrics>,
}

/// What one port's kernel twin received and sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostMetrics {
    /// Frames (and bytes) handed towards the kernel by the workers.
    pub to_kernel_frames: u64,
    pub to_kernel_bytes: u64,
    /// Frames (and bytes) the kernel sent, queued for the wire.
    pub from_kernel_frames: u64,
    pub from_kernel_bytes: u64,
    /// Drops by reason name (`rate_limited`, `ring_full`, `tx_refused`).
    pub drops: Vec<(String, u64)>,
}

/// One real's health (`ferrovs_real_up`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RealUpMetric {
    pub service: String,
    /// `address:port`.
    pub real: String,
    pub up: bool,
}

/// One distinct health check's results and probe durations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckMetrics {
    /// The check as listed (`HTTP_GET 10.0.1.11:8080/`).
    pub check: String,
    pub ok: u64,
    pub failed: u64,
    /// Cumulative counts of probes at most `le` seconds long.
    pub buckets: Vec<(f64, u64)>,
    pub sum_seconds: f64,
}

/// What the health checker reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HealthMetrics {
    pub reals: Vec<RealUpMetric>,
    pub checks: Vec<CheckMetrics>,
    /// Per service name: whether its quorum holds.
    pub quorum: Vec<(String, bool)>,
    /// How late the latest probes started after they were due.
    pub lag_seconds: f64,
    /// Since the checker's last pass: it passes at least every 100 ms, so a
    /// large value means it is stuck.
    pub pass_age_seconds: f64,
}

/// Build facts exported as `ferrovs_build_info`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildInfo {
    pub version: String,
    /// e.g. the DPDK version the binary runs with.
    pub dpdk: String,
}

/// What the daemon passes besides `Counters`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DaemonMetrics {
    pub cores: Vec<CoreMetrics>,
    pub ports: Vec<PortMetrics>,
    pub mbufs_in_use: u64,
    pub mbufs_total: u64,
    /// Control requests answered with a result / with an error (or turned
    /// away); see `server::ServerStats`.
    pub control_served: u64,
    pub control_refused: u64,
    pub build: BuildInfo,
    /// `None` while nothing is health-checked.
    pub health: Option<HealthMetrics>,
    /// Every VRRP instance (none without a `vrrp:` section).
    pub vrrp: Vec<crate::proto::VrrpEntry>,
    /// Gratuitous ARPs the workers sent for VRRP.
    pub garps_sent: u64,
    /// `None` without a `sync:` section.
    pub sync: Option<SyncMetrics>,
}

/// A failure of the exposition library (not expected with fixed names).
#[derive(Debug, thiserror::Error)]
#[error("metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

type Result<T> = std::result::Result<T, MetricsError>;

struct Families {
    reg: Registry,
}

impl Families {
    fn counter(&self, name: &str, help: &str, labels: &[&str]) -> Result<IntCounterVec> {
        let v = IntCounterVec::new(Opts::new(name, help), labels)?;
        self.reg.register(Box::new(v.clone()))?;
        Ok(v)
    }

    fn gauge(&self, name: &str, help: &str, labels: &[&str]) -> Result<IntGaugeVec> {
        let v = IntGaugeVec::new(Opts::new(name, help), labels)?;
        self.reg.register(Box::new(v.clone()))?;
        Ok(v)
    }
}

fn gauge_value(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Traffic families of one kind of object (service or real).
struct Traffic {
    conns: IntCounterVec,
    packets: IntCounterVec,
    bytes: IntCounterVec,
    cps: IntGaugeVec,
    pps: IntGaugeVec,
    bps: IntGaugeVec,
}

impl Traffic {
    fn new(f: &Families, what: &str, labels: &[&str]) -> Result<Traffic> {
        let mut dir: Vec<&str> = labels.to_vec();
        dir.push("direction");
        Ok(Traffic {
            conns: f.counter(
                &format!("ferrovs_{what}_connections_total"),
                &format!("Connections scheduled to the {what}"),
                labels,
            )?,
            packets: f.counter(
                &format!("ferrovs_{what}_packets_total"),
                &format!(
                    "Packets of the {what} by direction (in: client to real, out: real to client)"
                ),
                &dir,
            )?,
            bytes: f.counter(
                &format!("ferrovs_{what}_bytes_total"),
                &format!("Bytes of the {what} by direction"),
                &dir,
            )?,
            cps: f.gauge(
                &format!("ferrovs_{what}_connection_rate"),
                &format!("Connections per second of the {what} (IPVS rate estimator)"),
                labels,
            )?,
            pps: f.gauge(
                &format!("ferrovs_{what}_packet_rate"),
                &format!("Packets per second of the {what} by direction"),
                &dir,
            )?,
            bps: f.gauge(
                &format!("ferrovs_{what}_byte_rate"),
                &format!("Bytes per second of the {what} by direction"),
                &dir,
            )?,
        })
    }

    fn record(&self, labels: &[&str], s: &Stats) {
        self.conns.with_label_values(labels).inc_by(s.conns);
        self.cps.with_label_values(labels).set(gauge_value(s.cps));
        for (d, pkts, bytes, pps, bps) in [
            ("in", s.inpkts, s.inbytes, s.inpps, s.inbps),
            ("out", s.outpkts, s.outbytes, s.outpps, s.outbps),
        ] {
            let mut l = labels.to_vec();
            l.push(d);
            self.packets.with_label_values(&l).inc_by(pkts);
            self.bytes.with_label_values(&l).inc_by(bytes);
            self.pps.with_label_values(&l).set(gauge_value(pps));
            self.bps.with_label_values(&l).set(gauge_value(bps));
        }
    }
}

/// The `ports` label of a service: `80`, `0` (all ports), `8000-8010,443`.
fn ports_label(s: &crate::config::Service) -> String {
    let parts: Vec<String> = s
        .port_ranges()
        .iter()
        .map(|r| {
            if r.first == r.last {
                r.first.to_string()
            } else {
                r.to_string()
            }
        })
        .collect();
    parts.join(",")
}

/// The whole exposition in the Prometheus text format.
pub fn render(cfg: &Config, counters: &Counters, daemon: &DaemonMetrics) -> Result<String> {
    let f = Families {
        reg: Registry::new(),
    };
    let svc_labels = ["service", "protocol", "vip", "port"];
    let real_labels = ["service", "real"];
    let svc = Traffic::new(&f, "service", &svc_labels)?;
    let real = Traffic::new(&f, "real", &real_labels)?;
    let active = f.gauge(
        "ferrovs_real_active_connections",
        "Active connections of the real",
        &real_labels,
    )?;
    let inactive = f.gauge(
        "ferrovs_real_inactive_connections",
        "Inactive connections of the real",
        &real_labels,
    )?;
    let persistent = f.gauge(
        "ferrovs_real_persistent_connections",
        "Persistence templates pointing at the real",
        &real_labels,
    )?;
    let weight = f.gauge(
        "ferrovs_real_weight",
        "Configured weight of the real",
        &real_labels,
    )?;
    for s in &cfg.services {
        let sc = counters.service(&s.name);
        let ports = ports_label(s);
        let vip = match s.fwmark {
            Some(m) => format!("fwmark {m}"),
            None => s.vip().to_string(),
        };
        let protocol = match s.fwmark {
            Some(_) => "fwmark",
            None => s.protocol().as_str(),
        };
        let labels = [s.name.as_str(), protocol, vip.as_str(), ports.as_str()];
        svc.record(&labels, &sc.map_or_else(Stats::default, |c| c.stats));
        for r in &s.reals {
            let port = s.real_port(r);
            let name = format!("{}:{port}", r.address);
            let l = [s.name.as_str(), name.as_str()];
            let rc = sc.and_then(|c| {
                c.reals
                    .iter()
                    .find(|x| x.address == r.address && x.port == port)
            });
            real.record(&l, &rc.map_or_else(Stats::default, |c| c.stats));
            active
                .with_label_values(&l)
                .set(gauge_value(rc.map_or(0, |c| c.active)));
            inactive
                .with_label_values(&l)
                .set(gauge_value(rc.map_or(0, |c| c.inactive)));
            persistent
                .with_label_values(&l)
                .set(gauge_value(rc.map_or(0, |c| c.persistent)));
            weight.with_label_values(&l).set(i64::from(r.weight));
        }
    }
    let core = ["core"];
    let rx_p = f.counter(
        "ferrovs_core_rx_packets_total",
        "Packets received by the worker core",
        &core,
    )?;
    let rx_b = f.counter(
        "ferrovs_core_rx_bytes_total",
        "Bytes received by the worker core",
        &core,
    )?;
    let tx_p = f.counter(
        "ferrovs_core_tx_packets_total",
        "Packets sent by the worker core",
        &core,
    )?;
    let tx_b = f.counter(
        "ferrovs_core_tx_bytes_total",
        "Bytes sent by the worker core",
        &core,
    )?;
    let redir = f.counter(
        "ferrovs_core_redirects_total",
        "Packets handed to the core that owns their connection",
        &core,
    )?;
    let full = f.counter(
        "ferrovs_core_full_path_packets_total",
        "Frames the established fast path left to the full path (new connections, state changes, ARP, ICMP, next hops to resolve)",
        &core,
    )?;
    let drops = f.counter(
        "ferrovs_core_drops_total",
        "Packets dropped, by reason",
        &["core", "reason"],
    )?;
    let fill = f.gauge(
        "ferrovs_conn_table_entries",
        "Connection-table entries in use",
        &core,
    )?;
    let cap = f.gauge(
        "ferrovs_conn_table_capacity",
        "Connection-table capacity",
        &core,
    )?;
    for c in &daemon.cores {
        let id = c.core.to_string();
        let l = [id.as_str()];
        rx_p.with_label_values(&l).inc_by(c.rx_packets);
        rx_b.with_label_values(&l).inc_by(c.rx_bytes);
        tx_p.with_label_values(&l).inc_by(c.tx_packets);
        tx_b.with_label_values(&l).inc_by(c.tx_bytes);
        redir.with_label_values(&l).inc_by(c.redirects);
        full.with_label_values(&l).inc_by(c.full_path);
        for (reason, n) in &c.drops {
            drops
                .with_label_values(&[id.as_str(), reason.as_str()])
                .inc_by(*n);
        }
        fill.with_label_values(&l).set(gauge_value(c.conns));
        cap.with_label_values(&l).set(gauge_value(c.conn_capacity));
    }
    let steered = f.gauge(
        "ferrovs_port_flow_steering",
        "1 when rte_flow rules steer the port's FullNAT replies to their owner core, 0 when the redirect rings carry them",
        &["port"],
    )?;
    let rules = f.gauge(
        "ferrovs_port_flow_rules",
        "rte_flow rules installed on the port",
        &["port"],
    )?;
    for p in &daemon.ports {
        let l = [p.port.as_str()];
        steered
            .with_label_values(&l)
            .set(i64::from(p.flow_steering));
        rules.with_label_values(&l).set(gauge_value(p.flow_rules));
    }
    let host_frames = f.counter(
        "ferrovs_port_host_frames_total",
        "Frames between the port and its kernel twin, by direction (to_kernel, from_kernel)",
        &["port", "direction"],
    )?;
    let host_bytes = f.counter(
        "ferrovs_port_host_bytes_total",
        "Bytes between the port and its kernel twin, by direction (to_kernel, from_kernel)",
        &["port", "direction"],
    )?;
    let host_drops = f.counter(
        "ferrovs_port_host_drops_total",
        "Host-path frames dropped, by reason (rate_limited, ring_full, tx_refused)",
        &["port", "reason"],
    )?;
    for p in &daemon.ports {
        let Some(h) = &p.host else { continue };
        let port = p.port.as_str();
        for (dir, frames, bytes) in [
            ("to_kernel", h.to_kernel_frames, h.to_kernel_bytes),
            ("from_kernel", h.from_kernel_frames, h.from_kernel_bytes),
        ] {
            host_frames.with_label_values(&[port, dir]).inc_by(frames);
            host_bytes.with_label_values(&[port, dir]).inc_by(bytes);
        }
        for (reason, n) in &h.drops {
            host_drops
                .with_label_values(&[port, reason.as_str()])
                .inc_by(*n);
        }
    }
    let mbufs = f.gauge("ferrovs_mbufs_in_use", "Packet buffers in use", &[])?;
    mbufs
        .with_label_values::<&str>(&[])
        .set(gauge_value(daemon.mbufs_in_use));
    let mbufs_total = f.gauge("ferrovs_mbufs_total", "Packet buffers in the pool", &[])?;
    mbufs_total
        .with_label_values::<&str>(&[])
        .set(gauge_value(daemon.mbufs_total));
    let ctl = f.counter(
        "ferrovs_control_requests_total",
        "Control-socket requests by result (served, refused)",
        &["result"],
    )?;
    ctl.with_label_values(&["served"])
        .inc_by(daemon.control_served);
    ctl.with_label_values(&["refused"])
        .inc_by(daemon.control_refused);
    let build = f.gauge(
        "ferrovs_build_info",
        "Build information (value 1)",
        &["version", "dpdk"],
    )?;
    build
        .with_label_values(&[daemon.build.version.as_str(), daemon.build.dpdk.as_str()])
        .set(1);
    if let Some(h) = &daemon.health {
        health_families(&f, h)?;
    }
    if !daemon.vrrp.is_empty() {
        vrrp::families(&f, &daemon.vrrp, daemon.garps_sent)?;
    }
    if let Some(s) = &daemon.sync {
        sync::families(&f, s)?;
    }
    let mut text = TextEncoder::new().encode_to_string(&f.reg.gather())?;
    if let Some(h) = &daemon.health {
        text.push_str(&duration_histogram(h));
    }
    Ok(text)
}

fn health_families(f: &Families, h: &HealthMetrics) -> Result<()> {
    let up = f.gauge(
        "ferrovs_real_up",
        "1 while every health check of the real passes, 0 while one fails",
        &["service", "real"],
    )?;
    for r in &h.reals {
        up.with_label_values(&[r.service.as_str(), r.real.as_str()])
            .set(i64::from(r.up));
    }
    let checks = f.counter(
        "ferrovs_health_checks_total",
        "Health probes run, by check and result (ok, failed)",
        &["check", "result"],
    )?;
    for c in &h.checks {
        checks
            .with_label_values(&[c.check.as_str(), "ok"])
            .inc_by(c.ok);
        checks
            .with_label_values(&[c.check.as_str(), "failed"])
            .inc_by(c.failed);
    }
    let quorum = f.gauge(
        "ferrovs_service_quorum_up",
        "1 while the service's quorum holds (sum of live real weights), 0 while the sorry server serves",
        &["service"],
    )?;
    for (service, holds) in &h.quorum {
        quorum
            .with_label_values(&[service.as_str()])
            .set(i64::from(*holds));
    }
    let lag = prometheus::Gauge::with_opts(Opts::new(
        "ferrovs_health_checker_lag_seconds",
        "How late the latest health probes started after they were due",
    ))?;
    f.reg.register(Box::new(lag.clone()))?;
    lag.set(h.lag_seconds);
    let age = prometheus::Gauge::with_opts(Opts::new(
        "ferrovs_health_checker_pass_age_seconds",
        "Since the health checker's last pass (it passes at least every 0.1 s; more means stuck)",
    ))?;
    f.reg.register(Box::new(age.clone()))?;
    age.set(h.pass_age_seconds);
    Ok(())
}

/// A label value in the exposition format.
fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `ferrovs_health_check_duration_seconds`, from the checker's own buckets
/// (the probes are counted where they finish, not observed here).
fn duration_histogram(h: &HealthMetrics) -> String {
    const NAME: &str = "ferrovs_health_check_duration_seconds";
    let mut out =
        format!("# HELP {NAME} How long health probes took, by check\n# TYPE {NAME} histogram\n");
    for c in &h.checks {
        let check = label_value(&c.check);
        for (le, n) in &c.buckets {
            out.push_str(&format!(
                "{NAME}_bucket{{check=\"{check}\",le=\"{le}\"}} {n}\n"
            ));
        }
        let count = c.ok + c.failed;
        out.push_str(&format!(
            "{NAME}_bucket{{check=\"{check}\",le=\"+Inf\"}} {count}\n{NAME}_sum{{check=\"{check}\"}} {}\n{NAME}_count{{check=\"{check}\"}} {count}\n",
            c.sum_seconds
        ));
    }
    out
}
