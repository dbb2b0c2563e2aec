//! From the configuration to what the checker runs: the `health` machine
//! with every service, real and check, and for each distinct probe how to run
//! it. A real shared by several services, with the same check, is probed once.
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};

use control::config::health::{EffectiveCheck, Probe as CfgProbe, Target as CfgTarget};
use control::config::{Config, Real, Script};
use control::proto::ServiceKey;
use control::rules::key_of;
use health::{
    CheckKind, Health, ProbeKey, RealConfig, RealId, Rules, ServiceConfig, ServiceId, SorryServer,
};
use health_probe::{Probe, Target, Tls, UrlCheck};

use super::overlay::RealKey;

/// How to run one distinct probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub target: Target,
    pub probe: Probe,
    /// Rules shared by every check this probe feeds.
    pub rules: Rules,
}

#[derive(Clone, Debug)]
pub struct PlanReal {
    pub key: RealKey,
    /// The port probes and listings name (the service's when the real has none).
    pub port: u16,
    pub weight: u32,
    pub inhibit: bool,
    pub notify_up: Option<Script>,
    pub notify_down: Option<Script>,
}

#[derive(Clone, Debug)]
pub struct PlanService {
    pub key: ServiceKey,
    pub name: String,
    pub quorum_up: Option<Script>,
    pub quorum_down: Option<Script>,
    /// The sorry server as a real of the service, and `sorry_server_inhibit`.
    pub sorry: Option<(Real, bool)>,
    pub reals: BTreeMap<RealId, PlanReal>,
}

pub struct Plan {
    pub health: Health,
    pub jobs: HashMap<ProbeKey, Job>,
    pub services: BTreeMap<ServiceId, PlanService>,
    /// What the plan was built from, to tell whether a new configuration
    /// changes anything the checker does (weights aside).
    pub layout: String,
}

impl Plan {
    /// Whether there is anything to check.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }
}

/// A service takes part when it checks a real, or has a quorum or sorry
/// server (which the weights of its reals alone can already decide).
fn checked(cfg: &Config, i: usize) -> bool {
    let s = &cfg.services[i];
    s.reals.iter().any(|r| !s.real_health(r).checks.is_empty())
        || s.quorum.is_some()
        || s.sorry_server.is_some()
}

pub fn build(cfg: &Config) -> Result<Plan, String> {
    let mut health = Health::new();
    let mut jobs: HashMap<ProbeKey, Job> = HashMap::new();
    let mut services = BTreeMap::new();
    let mut layout = String::new();
    for (i, s) in cfg.services.iter().enumerate() {
        if !checked(cfg, i) {
            continue;
        }
        let sid = ServiceId(i as u32);
        let sh = s.health();
        let key = key_of(s);
        let sorry = sh.sorry_server.map(|so| {
            let mut real = s.reals[0].clone();
            real.address = so.address;
            real.port = (so.port != 0).then_some(so.port);
            real.forward = Some(so.forward);
            real.weight = 1;
            (real, so.inhibit)
        });
        health
            .add_service(
                sid,
                ServiceConfig {
                    quorum: sh.quorum,
                    hysteresis: sh.hysteresis,
                    sorry_server: sorry
                        .as_ref()
                        .map(|(_, inhibit)| SorryServer { inhibit: *inhibit }),
                    omega: sh.omega,
                },
            )
            .map_err(|e| format!("services[{i}]: {e}"))?;
        let mut reals = BTreeMap::new();
        for (j, r) in s.reals.iter().enumerate() {
            let rid = RealId(j as u32);
            let rh = s.real_health(r);
            let port = r.port.or(s.single_port()).unwrap_or(0);
            health
                .add_real(
                    sid,
                    rid,
                    RealConfig {
                        weight: r.weight,
                        inhibit_on_failure: rh.inhibit_on_failure,
                    },
                )
                .map_err(|e| format!("services[{i}].reals[{j}]: {e}"))?;
            for c in &rh.checks {
                let job = job(c);
                let pk = probe_key(&mut jobs, c, &job);
                layout.push_str(&format!("{i}/{j}/{}|", pk.as_str()));
                health
                    .add_check(sid, rid, pk.clone(), job.rules.clone())
                    .map_err(|e| format!("services[{i}].reals[{j}]: {e}"))?;
                jobs.insert(pk, job);
            }
            reals.insert(
                rid,
                PlanReal {
                    key: RealKey::of(key, r),
                    port,
                    weight: r.weight,
                    inhibit: rh.inhibit_on_failure,
                    notify_up: rh.notify_up.cloned(),
                    notify_down: rh.notify_down.cloned(),
                },
            );
        }
        layout.push_str(&format!("{i}:{:?}:{sh:?}|", key));
        services.insert(
            sid,
            PlanService {
                key,
                name: s.name.clone(),
                quorum_up: sh.quorum_up.cloned(),
                quorum_down: sh.quorum_down.cloned(),
                sorry,
                reals,
            },
        );
    }
    Ok(Plan {
        health,
        jobs,
        services,
        layout,
    })
}

/// The key of a probe: what it does, readable (it names the check in
/// listings and logs); probes that read the same but differ in an option or
/// in their rules get a `#n` suffix so they are not merged.
fn probe_key(jobs: &mut HashMap<ProbeKey, Job>, c: &EffectiveCheck<'_>, job: &Job) -> ProbeKey {
    let base = describe(c);
    let mut n = 1;
    loop {
        let key = if n == 1 {
            ProbeKey::new(base.clone())
        } else {
            ProbeKey::new(format!("{base} #{n}"))
        };
        match jobs.get(&key) {
            Some(j) if j != job => n += 1,
            _ => return key,
        }
    }
}

fn describe(c: &EffectiveCheck<'_>) -> String {
    match &c.probe {
        CfgProbe::Tcp(t) => format!("TCP_CHECK {}", t.connect),
        CfgProbe::Http {
            target, tls, urls, ..
        } => {
            let paths: Vec<&str> = urls.iter().map(|u| u.path).collect();
            let kind = if *tls { "SSL_GET" } else { "HTTP_GET" };
            format!("{kind} {}{}", target.connect, paths.join(","))
        }
        CfgProbe::Misc { script, .. } => format!("MISC_CHECK {}", script.0),
        CfgProbe::Dns {
            target,
            qtype,
            name,
        } => {
            format!("DNS_CHECK {} {qtype:?} {name}", target.connect)
        }
    }
}

fn target(t: &CfgTarget) -> Target {
    Target {
        connect: SocketAddr::V4(t.connect),
        bind: (t.bindto.is_some() || t.bind_port.is_some()).then(|| {
            SocketAddr::new(
                IpAddr::V4(t.bindto.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED)),
                t.bind_port.unwrap_or(0),
            )
        }),
        timeout: t.connect_timeout,
    }
}

fn job(c: &EffectiveCheck<'_>) -> Job {
    let ms = |d: std::time::Duration| d.as_millis() as u64;
    let (kind, target, probe, connect_ms, fast_recovery) = match &c.probe {
        CfgProbe::Tcp(t) => (
            CheckKind::TcpCheck,
            target(t),
            Probe::Tcp,
            ms(t.connect_timeout),
            false,
        ),
        CfgProbe::Http {
            target: t,
            tls,
            protocol,
            fast_recovery,
            urls,
        } => (
            if *tls {
                CheckKind::SslGet
            } else {
                CheckKind::HttpGet
            },
            target(t),
            Probe::Http {
                urls: urls
                    .iter()
                    .map(|u| UrlCheck {
                        path: u.path.to_owned(),
                        status_codes: u
                            .status_code
                            .iter()
                            .flat_map(|r| r.first..=r.last)
                            .filter_map(|c| u16::try_from(c).ok())
                            .collect(),
                        digest: u
                            .digest
                            .map(|d| d.iter().map(|b| format!("{b:02x}")).collect()),
                        virtualhost: u.virtualhost.map(str::to_owned),
                    })
                    .collect(),
                tls: tls.then(|| Tls {
                    enable_sni: urls.iter().any(|u| u.sni.is_some()),
                    sni_name: urls.iter().find_map(|u| u.sni.map(str::to_owned)),
                }),
                // Both sides spell it as keepalived's `http_protocol` does.
                protocol: protocol.as_str().parse().unwrap_or_default(),
                virtualhost: None,
            },
            ms(t.connect_timeout),
            *fast_recovery,
        ),
        CfgProbe::Misc {
            script,
            timeout,
            dynamic,
        } => (
            CheckKind::MiscCheck,
            Target {
                connect: SocketAddr::from(([0, 0, 0, 0], 0)),
                bind: None,
                timeout: *timeout,
            },
            Probe::Misc {
                argv: script.argv().unwrap_or_default(),
                timeout: *timeout,
                dynamic: *dynamic,
            },
            ms(*timeout),
            false,
        ),
        CfgProbe::Dns {
            target: t,
            qtype,
            name,
        } => (
            CheckKind::DnsCheck,
            target(t),
            Probe::Dns {
                qtype: format!("{qtype:?}").to_uppercase(),
                name: (*name).to_owned(),
            },
            ms(t.connect_timeout),
            false,
        ),
    };
    let rules = Rules {
        kind,
        delay_loop_ms: ms(c.delay_loop),
        connect_timeout_ms: connect_ms,
        retry: c.retry,
        delay_before_retry_ms: Some(ms(c.delay_before_retry)),
        warmup_ms: Some(ms(c.warmup)),
        alpha: c.alpha,
        needs_clean_round: matches!(kind, CheckKind::HttpGet | CheckKind::SslGet),
        fast_recovery,
    };
    Job {
        target,
        probe,
        rules,
    }
}
