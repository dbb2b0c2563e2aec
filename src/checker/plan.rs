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
    /// With `ha_suspend`: the VRRP instance owning the VIP; its checks run
    /// only while that instance is MASTER.
    pub suspend_with: Option<usize>,
}

pub struct Plan {
    pub health: Health,
    pub jobs: HashMap<ProbeKey, Job>,
    pub services: BTreeMap<ServiceId, PlanService>,
    /// What the plan was built from, to tell whether a new configuration
    /// changes anything the checker does (then it is re-planned, keeping the
    /// state of every unchanged probe).
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
            // Weights feed the quorum: an fvsadm weight edit re-plans too.
            layout.push_str(&format!("{i}/{j}:{}:{}|", r.weight, rh.inhibit_on_failure));
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
                suspend_with: if s.ha_suspend {
                    cfg.vrrp_owner_of(s.vip())
                } else {
                    None
                },
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

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
workers: {cores: [1]}
ports:
  - {name: eth0, device: "net_af_packet0,iface=lb0", mac: "02:00:00:00:00:01", addresses: [10.0.0.1/24, 10.0.1.1/24]}
services:
  - name: web
    vip: 10.0.0.100
    port: 443
    protocol: tcp
    forward: nat
    delay_loop: 2
    checks:
      - ssl_get:
          urls: [{path: /h, status_code: [200, "300-301"], digest: 0123456789abcdef0123456789ABCDEF}]
          enable_sni: true
          sni_name: www.example
          connect_timeout: 1
    reals:
      - {address: 10.0.1.11, port: 8443}
      - address: 10.0.1.12
        port: 8443
        checks:
          - dns_check: {type: AAAA, name: example.org, connect_port: 53}
          - misc_check: {misc_path: "/bin/check --fast 'a b'", misc_dynamic: true}
          - tcp_check: {bindto: 10.0.1.1, bind_port: 4000}
"#;

    /// CONFIG with a second service, `web2`, whose rs1 has the same check as
    /// `web`'s: the probe is shared.
    fn config() -> Config {
        let mut cfg = Config::from_yaml_str(CONFIG).unwrap();
        let mut web2 = cfg.services[0].clone();
        web2.name = "web2".into();
        web2.vip = Some("10.0.0.101".parse().unwrap());
        web2.reals.truncate(1);
        cfg.services.push(web2);
        cfg.validate().unwrap();
        cfg
    }

    fn job_of<'a>(p: &'a Plan, prefix: &str) -> (&'a ProbeKey, &'a Job) {
        p.jobs
            .iter()
            .find(|(k, _)| k.as_str().starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix} in {:?}", p.jobs.keys().collect::<Vec<_>>()))
    }

    #[test]
    fn every_checker_becomes_its_probe_and_a_shared_real_is_probed_once() {
        let p = build(&config()).unwrap();
        // web's rs1 and web2's rs1 have the same check: one probe.
        let ssl: Vec<_> = p
            .jobs
            .keys()
            .filter(|k| k.as_str().starts_with("SSL_GET"))
            .collect();
        assert_eq!(ssl.len(), 1, "{ssl:?}");
        let (k, j) = job_of(&p, "SSL_GET");
        assert_eq!(k.as_str(), "SSL_GET 10.0.1.11:8443/h");
        assert_eq!(j.rules.kind, CheckKind::SslGet);
        assert_eq!(j.rules.delay_loop_ms, 2_000);
        assert!(j.rules.needs_clean_round);
        assert_eq!(j.target.timeout, std::time::Duration::from_secs(1));
        let Probe::Http { urls, tls, .. } = &j.probe else {
            panic!("{:?}", j.probe)
        };
        assert_eq!(urls[0].status_codes, vec![200, 300, 301]);
        assert_eq!(
            urls[0].digest.as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        let tls = tls.as_ref().unwrap();
        assert!(tls.enable_sni);
        assert_eq!(tls.sni_name.as_deref(), Some("www.example"));

        let (_, dns) = job_of(&p, "DNS_CHECK");
        assert_eq!(
            dns.probe,
            Probe::Dns {
                qtype: "AAAA".into(),
                name: "example.org".into()
            }
        );
        assert_eq!(dns.target.connect.to_string(), "10.0.1.12:53");
        assert_eq!(dns.rules.retry, 3, "DNS_CHECK's default retry");

        let (_, misc) = job_of(&p, "MISC_CHECK");
        let Probe::Misc { argv, dynamic, .. } = &misc.probe else {
            panic!()
        };
        assert_eq!(argv, &["/bin/check", "--fast", "a b"]);
        assert!(dynamic);
        assert_eq!(misc.rules.retry, 0, "MISC_CHECK's default retry");

        let (_, tcp) = job_of(&p, "TCP_CHECK");
        assert_eq!(tcp.target.connect.to_string(), "10.0.1.12:8443");
        assert_eq!(
            tcp.target.bind.map(|b| b.to_string()).as_deref(),
            Some("10.0.1.1:4000")
        );
        // Two services, three reals, five checks.
        assert_eq!(p.services.len(), 2);
        assert_eq!(p.jobs.len(), 4);
    }

    #[test]
    fn services_without_checks_are_left_alone() {
        let cfg = Config::from_yaml_str(&CONFIG.replace(
            "    checks:\n      - ssl_get:",
            "    xchecks:\n      - ssl_get:",
        ));
        assert!(cfg.is_err(), "sanity: unknown keys are refused");
        let mut cfg = config();
        for s in &mut cfg.services {
            s.checks.clear();
            for r in &mut s.reals {
                r.checks = None;
            }
        }
        assert!(build(&cfg).unwrap().is_empty());
    }
}
