//! The shipped YAML files load, validate and round-trip.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use super::check_ok;
use crate::config::{Config, Forward, Protocol, Scheduler};

fn configs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("configs")
}

fn load(name: &str) -> Config {
    let path = configs_dir().join(name);
    match Config::load(&path) {
        Ok(cfg) => cfg,
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

#[test]
fn lab_yaml_loads() {
    let cfg = load("lab.yaml");
    check_ok(&cfg);
    cfg.validate_replay().unwrap();
    assert_eq!(cfg.ports.len(), 1);
    assert_eq!(cfg.ports[0].device, "net_af_packet0,iface=fvs-lb0,qpairs=1");
    assert_eq!(cfg.ports[0].mac.unwrap().to_string(), "02:00:00:00:00:01");
    let addrs: Vec<String> = cfg.ports[0]
        .addresses
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert_eq!(addrs, ["10.99.0.1/24", "10.99.1.1/24"]);
    let web = &cfg.services[0];
    assert_eq!(
        (web.vip, web.port, web.protocol),
        (
            Some(Ipv4Addr::new(10, 99, 0, 100)),
            Some(80),
            Some(Protocol::Tcp)
        )
    );
    assert_eq!(web.scheduler, Scheduler::Rr);
    let reals: Vec<(Ipv4Addr, u16, Forward)> = web
        .reals
        .iter()
        .map(|r| (r.address, web.real_port(r), web.forward_of(r)))
        .collect();
    assert_eq!(
        reals,
        [11, 12, 13].map(|h| (Ipv4Addr::new(10, 99, 1, h), 8080, Forward::Nat))
    );
}

#[test]
fn example_yaml_loads_and_uses_every_section() {
    let cfg = load("example.yaml");
    check_ok(&cfg);
    assert!(!cfg.workers.eal_args.is_empty());
    assert!(!cfg.routes.is_empty() && !cfg.neighbors.is_empty());
    assert!(cfg.conn_max.is_some() && cfg.metrics.is_some());
    assert!(!cfg.vrrp.is_empty() && cfg.services.iter().any(|s| s.ha_suspend));
    assert!(cfg.sync.as_ref().is_some_and(|s| s.instance.is_some()));
    let forwards: Vec<Forward> = cfg
        .services
        .iter()
        .flat_map(|s| s.reals.iter().map(move |r| s.forward_of(r)))
        .collect();
    for f in Forward::ALL {
        assert!(forwards.contains(f), "example.yaml never uses {f}");
    }
    assert!(cfg.services.iter().any(|s| s.ports.is_some()));
    assert!(cfg.services.iter().any(|s| s.all_ports()));
    assert!(cfg.services.iter().any(|s| !s.flags.is_empty()));
    assert!(cfg.services.iter().any(|s| s.persistence.is_some()));
    assert!(cfg
        .services
        .iter()
        .flat_map(|s| &s.reals)
        .any(|r| r.upper_threshold > 0));
}

#[test]
fn load_missing_file_names_the_file() {
    let path = configs_dir().join("no-such-file.yaml");
    let e = Config::load(&path).unwrap_err();
    assert_eq!(e.path, path.display().to_string());
}

#[test]
fn the_readme_configuration_reference_is_a_valid_config() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let text = std::fs::read_to_string(&path).unwrap();
    let from = text
        .find("## Configuration reference")
        .expect("README has its configuration reference");
    let start = from + text[from..].find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = start + text[start..].find("```").expect("the block ends");
    match Config::from_yaml_str(&text[start..end]) {
        Ok(cfg) => check_ok(&cfg),
        Err(e) => panic!("README's configuration reference: {e}"),
    }
}
