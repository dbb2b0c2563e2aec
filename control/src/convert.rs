//! ipvsadm rule dumps (`ipvsadm -S` text) to YAML services and back, so
//! that LVS rules can be brought over to ferrovs.
//!
//! Each line is read as `fvsadm -R` reads it (`-A`, `-E`, `-D`, `-a`, `-e`,
//! `-d`, `-C`, `--set`, and ferrovs's `-P`/`-Q`) and applied with the
//! `rules` semantics, so the services come out exactly as a daemon fed the
//! same lines would hold them.

use crate::cli::{parse, restore_words, rule_request};
use crate::config::{Config, ConfigError, Service, Workers};
use crate::ipvsadm_fmt;
use crate::proto::{Counters, ServiceList};
use crate::rules;

/// A rule that could not be converted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ConvertError {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

/// An empty configuration to apply rules to (ports and workers come from
/// elsewhere: a base config, or nowhere when only services are wanted).
pub fn empty() -> Config {
    Config {
        workers: Workers {
            cores: vec![0],
            in_memory: true,
            eal_args: Vec::new(),
            mbufs: 8191,
            burst: 32,
            host_core: None,
        },
        ports: Vec::new(),
        routes: Vec::new(),
        neighbors: Vec::new(),
        marks: Vec::new(),
        services: Vec::new(),
        vrrp: Vec::new(),
        sync: None,
        timeouts: Default::default(),
        conn_max: None,
        control: Default::default(),
        metrics: None,
    }
}

/// Applies every rule of `text` to `cfg`.
pub fn apply_ipvsadm(cfg: &Config, text: &str) -> Result<Config, ConvertError> {
    let mut cfg = cfg.clone();
    for (i, line) in text.lines().enumerate() {
        let err = |message: String| ConvertError {
            line: i + 1,
            message,
        };
        let words = restore_words(line);
        if words.is_empty() {
            continue;
        }
        let parsed = parse(&words).map_err(|e| err(e.message.trim_end().to_string()))?;
        let body = rule_request(&parsed)
            .map_err(err)?
            .ok_or_else(|| err(format!("not a rule: {}", words.join(" "))))?;
        cfg = rules::apply(&cfg, &body)
            .map_err(|e| err(e.display()))?
            .ok_or_else(|| err(format!("not a rule: {}", words.join(" "))))?;
    }
    Ok(cfg)
}

/// The services an ipvsadm rule dump describes.
pub fn services_from_ipvsadm(text: &str) -> Result<Vec<Service>, ConvertError> {
    Ok(apply_ipvsadm(&empty(), text)?.services)
}

/// The rule dump (`ipvsadm -S -n`) of the services of `cfg`. Refused,
/// naming the field, when the dump would lose a flag: ipvsadm shows only
/// sh-fallback and sh-port for sh (mh-fallback and mh-port for mh), so a
/// flag-3 of those schedulers has no spelling in it.
pub fn ipvsadm_from_config(cfg: &Config) -> Result<String, ConfigError> {
    for (i, s) in cfg.services.iter().enumerate() {
        if let Some(k) = s.flags.iter().position(|f| !f.listed_with(s.scheduler)) {
            return Err(ConfigError::new(
                format!("services[{i}].flags[{k}]"),
                format!(
                    "{} with scheduler {} is kept but an ipvsadm dump cannot show it",
                    s.flags[k], s.scheduler
                ),
            ));
        }
    }
    let mut out = marks_comment(cfg);
    out.push_str(&ipvsadm_fmt::save(
        &ServiceList::build(cfg, &Counters::default()),
        true,
    ));
    Ok(out)
}

/// The `marks:` rules as comment lines (which `ipvsadm -R`, `fvsadm -R`
/// and `from-ipvsadm` skip): ipvsadm has no classifier, the kernel takes
/// its marks from netfilter, so each rule is given as the iptables rule
/// that marks the same packets. Empty without marks.
fn marks_comment(cfg: &Config) -> String {
    if cfg.marks.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "# marks: has no ipvsadm form; on Linux these netfilter rules mark the same packets:\n",
    );
    for (i, m) in cfg.marks.iter().enumerate() {
        out.push_str(&format!("# marks[{i}]: {}\n", m.iptables()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Forward, SchedFlag, Scheduler};

    const DUMP: &str = "\
-A -t 10.0.0.100:80 -s wrr -p 600 -M 255.255.255.0
-a -t 10.0.0.100:80 -r 10.20.0.2:8080 -m -w 1
-a -t 10.0.0.100:80 -r 10.20.0.3:8080 -m -w 2
-A -u 10.0.0.53:53 -s rr
-a -u 10.0.0.53:53 -r 10.20.0.4:53 -g -w 1
";

    #[test]
    fn dump_to_services_and_back() {
        let services = services_from_ipvsadm(DUMP).unwrap();
        assert_eq!(services.len(), 2);
        let web = &services[0];
        assert_eq!(web.name, "tcp-10.0.0.100-80");
        assert_eq!(web.scheduler, Scheduler::Wrr);
        assert_eq!(web.persistence.as_ref().unwrap().timeout, 600);
        assert_eq!(web.reals[1].weight, 2);
        assert_eq!(web.reals[1].port, Some(8080));
        assert_eq!(services[1].reals[0].forward, Some(Forward::Dr));
        let mut cfg = empty();
        cfg.services = services;
        cfg.validate().unwrap();
        // Sorted output: UDP after TCP, as ipvsadm sorts.
        assert_eq!(ipvsadm_from_config(&cfg).unwrap(), DUMP);
        // And through YAML.
        let again = Config::from_yaml_str(&cfg.to_yaml()).unwrap();
        assert_eq!(ipvsadm_from_config(&again).unwrap(), DUMP);
    }

    #[test]
    fn errors_name_the_line() {
        let e = services_from_ipvsadm("-A -t 10.0.0.1:80\n-a -t 10.0.0.2:80 -r 10.1.0.1\n")
            .unwrap_err();
        assert_eq!(e.to_string(), "line 2: Service not defined");
        let e = services_from_ipvsadm("\n-A -t 10.0.0.1:80 -w 2\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2: Illegal 'weight' option with the 'add-service' command"
        );
        let e = services_from_ipvsadm("-L -n\n").unwrap_err();
        assert_eq!(e.to_string(), "line 1: not a rule: -L -n");
    }

    #[test]
    fn scheduler_flags_round_trip() {
        let dump = "\
-A -t 10.0.0.1:80 -s rr -b flag-1,flag-2,flag-3
-A -t 10.0.0.2:80 -s sh -b sh-fallback,sh-port
-A -t 10.0.0.3:80 -s mh -b mh-port
-A -t 10.0.0.4:80 -s wlc -b flag-3
";
        let mut cfg = empty();
        cfg.services = services_from_ipvsadm(dump).unwrap();
        assert_eq!(
            cfg.services[1].flags,
            [SchedFlag::ShFallback, SchedFlag::ShPort]
        );
        let again = Config::from_yaml_str(&cfg.to_yaml()).unwrap();
        assert_eq!(again.services, cfg.services);
        assert_eq!(ipvsadm_from_config(&again).unwrap(), dump);
        // flag-3 of sh is kept (as by the kernel) but has no spelling in a
        // dump: converting it is refused rather than losing it.
        cfg.services[1].flags.push(SchedFlag::Flag3);
        cfg.validate().unwrap();
        let e = ipvsadm_from_config(&cfg).unwrap_err();
        assert_eq!(
            e.to_string(),
            "services[1].flags[2]: flag-3 with scheduler sh is kept but an ipvsadm dump cannot show it"
        );
    }

    #[test]
    fn mark_services_and_ops_round_trip_and_marks_become_comments() {
        let yaml = "workers: {cores: [1]}\nmarks:\n  - {mark: 7, vip: 10.0.0.100, protocol: tcp, ports: [443, \"8000-8010\"]}\n  - {mark: 7, vip: 10.0.2.0/24, protocol: udp, ports: [53]}\nservices:\n  - name: fwm7\n    fwmark: 7\n    scheduler: wrr\n    persistence: {timeout: 60}\n    ops: true\n    reals:\n      - {address: 10.20.0.5, forward: dr}\n      - {address: 10.20.0.6, port: 8443, forward: nat}\n  - {name: dns, vip: 10.0.0.53, port: 53, protocol: udp, ops: true}\n";
        let cfg = Config::from_yaml_str(yaml).unwrap();
        let dump = ipvsadm_from_config(&cfg).unwrap();
        assert_eq!(
            dump,
            "# marks: has no ipvsadm form; on Linux these netfilter rules mark the same packets:\n\
             # marks[0]: iptables -t mangle -A PREROUTING -p tcp -d 10.0.0.100 -m multiport --dports 443,8000:8010 -j MARK --set-mark 7\n\
             # marks[1]: iptables -t mangle -A PREROUTING -p udp -d 10.0.2.0/24 -m multiport --dports 53 -j MARK --set-mark 7\n\
             -A -u 10.0.0.53:53 -s wlc -o\n\
             -A -f 7 -s wrr -p 60 -o\n\
             -a -f 7 -r 10.20.0.5:0 -g -w 1\n\
             -a -f 7 -r 10.20.0.6:8443 -m -w 1\n"
        );
        // Back: the comments are skipped; the services come out whole.
        let mut back = cfg.clone();
        back.services = services_from_ipvsadm(&dump).unwrap();
        back.validate().unwrap();
        assert_eq!(back.services[1].fwmark, Some(7));
        assert!(back.services[0].ops && back.services[1].ops);
        assert_eq!(back.services[1].reals[0].port, None);
        assert_eq!(back.services[1].reals[1].port, Some(8443));
        assert_eq!(ipvsadm_from_config(&back).unwrap(), dump);
    }

    #[test]
    fn yaml_example_round_trips() {
        let yaml = "workers: {cores: [1]}\nservices:\n  - name: web\n    vip: 10.0.0.100\n    port: 80\n    protocol: tcp\n    forward: fullnat\n    local_addresses: [10.20.0.10]\n    reals:\n      - {address: 10.20.0.2, port: 8080}\n      - {address: 10.20.0.3, port: 8080, weight: 2, forward: nat}\n";
        let cfg = Config::from_yaml_str(yaml).unwrap();
        let dump = ipvsadm_from_config(&cfg).unwrap();
        assert_eq!(
            dump,
            "-A -t 10.0.0.100:80 -s wlc\n-P -t 10.0.0.100:80 -z 10.20.0.10\n-a -t 10.0.0.100:80 -r 10.20.0.2:8080 -j -w 1\n-a -t 10.0.0.100:80 -r 10.20.0.3:8080 -m -w 2\n"
        );
        let back = services_from_ipvsadm(&dump).unwrap();
        let mut cfg2 = empty();
        cfg2.services = back;
        assert_eq!(ipvsadm_from_config(&cfg2).unwrap(), dump);
    }
}
