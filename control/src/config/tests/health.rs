//! Health-check settings: the issue's YAML contract parses, round-trips and
//! resolves with keepalived's inheritance and defaults; every invalid value
//! is refused whole with its field named.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use super::{assert_error, check_ok, yaml_err, BASE};
use crate::config::health::{CheckOrigin, DnsType, HttpProtocol, Probe, Seconds};
use crate::config::Config;

/// The issue's `services:` example, on BASE's ports.
const WEB: &str = r#"
  - name: hc
    vip: 10.0.0.101
    port: 80
    protocol: tcp
    scheduler: rr
    delay_loop: 6
    alpha: false
    omega: false
    inhibit_on_failure: false
    quorum: 1
    hysteresis: 0
    quorum_up: "/usr/local/bin/vip-up"
    quorum_down: "/usr/local/bin/vip-down"
    sorry_server: {address: 10.20.0.9, port: 8080}
    checks:
      - http_get:
          urls: [{path: /, status_code: [200]}]
          connect_timeout: 3
          retry: 3
          delay_before_retry: 3
    reals:
      - {address: 10.20.0.2, port: 8080, weight: 1}
      - address: 10.20.0.3
        port: 8080
        inhibit_on_failure: true
        notify_up: "/usr/local/bin/rs-up"
        notify_down: "/usr/local/bin/rs-down"
        checks: [{tcp_check: {connect_timeout: 1, connect_port: 8080}}]
"#;

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

fn web() -> Config {
    match Config::from_yaml_str(&with(WEB)) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

/// WEB with one text replacement (which must apply), then its error.
fn web_err(from: &str, to: &str) -> crate::config::ConfigError {
    assert!(WEB.contains(from), "WEB has no {from:?}");
    yaml_err(&with(&WEB.replacen(from, to, 1)))
}

#[test]
fn the_issue_example_parses_round_trips_and_resolves() {
    let cfg = web();
    check_ok(&cfg);
    let s = &cfg.services[2];
    assert_eq!(s.delay_loop, Some(Seconds::from_secs(6)));
    let h = s.health();
    assert_eq!((h.quorum, h.hysteresis, h.omega), (1, 0, false));
    let sorry = h.sorry_server.unwrap();
    assert_eq!(
        (sorry.address, sorry.port),
        (Ipv4Addr::new(10, 20, 0, 9), 8080)
    );
    assert!(!sorry.inhibit);

    // Real 0 inherits the service's http_get.
    let r0 = s.real_health(&s.reals[0]);
    assert!(!r0.inhibit_on_failure);
    assert_eq!(r0.checks.len(), 1);
    let c = &r0.checks[0];
    assert_eq!(c.origin, CheckOrigin::Service(0));
    assert_eq!(
        (
            c.retry,
            c.delay_loop,
            c.delay_before_retry,
            c.warmup,
            c.alpha
        ),
        (
            3,
            Duration::from_secs(6),
            Duration::from_secs(3),
            Duration::from_secs(6),
            false
        )
    );
    let Probe::Http {
        target,
        tls,
        protocol,
        urls,
        fast_recovery,
    } = &c.probe
    else {
        panic!("{:?}", c.probe)
    };
    assert_eq!(
        target.connect,
        SocketAddrV4::new(Ipv4Addr::new(10, 20, 0, 2), 8080)
    );
    assert_eq!(target.connect_timeout, Duration::from_secs(3));
    assert!(!tls && !fast_recovery);
    assert_eq!(*protocol, HttpProtocol::Http10);
    assert!(urls[0].accepts(200) && !urls[0].accepts(204));
    assert_eq!(urls[0].virtualhost, None);

    // Real 1 has its own tcp_check and scripts.
    let r1 = s.real_health(&s.reals[1]);
    assert!(r1.inhibit_on_failure);
    assert_eq!(r1.notify_up.unwrap().0, "/usr/local/bin/rs-up");
    assert_eq!(r1.checks.len(), 1);
    let c = &r1.checks[0];
    assert_eq!(c.origin, CheckOrigin::Real(0));
    assert_eq!((c.retry, c.delay_before_retry), (1, Duration::from_secs(1)));
    let Probe::Tcp(t) = &c.probe else {
        panic!("{:?}", c.probe)
    };
    assert_eq!(t.connect_timeout, Duration::from_secs(1));
    assert_eq!(t.connect.port(), 8080);
}

#[test]
fn checks_are_written_as_one_key_maps() {
    let text = web().to_yaml();
    assert!(text.contains("- http_get:\n"), "{text}");
    assert!(text.contains("- tcp_check:\n"), "{text}");
    assert!(!text.contains('!'), "no YAML tags: {text}");
}

#[test]
fn keepalived_defaults_apply_per_checker() {
    let yaml = with(
        r#"
  - name: d
    vip: 10.0.0.102
    port: 80
    protocol: tcp
    checks:
      - http_get: {urls: [{path: /}]}
      - ssl_get: {urls: [{path: /x}]}
      - tcp_check: {}
      - misc_check: {misc_path: "/bin/check 'a b'"}
      - dns_check: {}
    reals: [{address: 10.20.0.5}]
"#,
    );
    let cfg = Config::from_yaml_str(&yaml).unwrap();
    check_ok(&cfg);
    let s = &cfg.services[2];
    let h = s.real_health(&s.reals[0]);
    let got: Vec<(u32, u64, u64, u64)> = h
        .checks
        .iter()
        .map(|c| {
            (
                c.retry,
                c.delay_loop.as_secs(),
                c.delay_before_retry.as_secs(),
                c.warmup.as_secs(),
            )
        })
        .collect();
    // retry: 1, MISC 0, DNS 3; delay_before_retry: HTTP/SSL 3, TCP/MISC 1,
    // DNS = delay_loop; warmup = delay_loop (60).
    assert_eq!(
        got,
        [
            (1, 60, 3, 60),
            (1, 60, 3, 60),
            (1, 60, 1, 60),
            (0, 60, 1, 60),
            (3, 60, 60, 60)
        ]
    );
    let Probe::Http { urls, tls, .. } = &h.checks[1].probe else {
        panic!()
    };
    assert!(*tls);
    assert!(urls[0].accepts(200) && urls[0].accepts(299) && !urls[0].accepts(300));
    let Probe::Tcp(t) = &h.checks[2].probe else {
        panic!()
    };
    assert_eq!(t.connect, "10.20.0.5:80".parse().unwrap());
    assert_eq!(t.connect_timeout, Duration::from_secs(5));
    let Probe::Misc {
        script,
        timeout,
        dynamic,
    } = &h.checks[3].probe
    else {
        panic!()
    };
    assert_eq!(script.argv().unwrap(), ["/bin/check", "a b"]);
    assert_eq!((*timeout, *dynamic), (Duration::from_secs(60), false));
    let Probe::Dns { qtype, name, .. } = &h.checks[4].probe else {
        panic!()
    };
    assert_eq!((*qtype, *name), (DnsType::Soa, "."));
}

#[test]
fn settings_inherit_service_then_real_then_checker() {
    let yaml = with(
        r#"
  - name: inh
    vip: 10.0.0.102
    port: 80
    protocol: tcp
    delay_loop: 10
    connect_timeout: 2
    retry: 4
    delay_before_retry: 0.5
    warmup: 0
    alpha: true
    inhibit_on_failure: true
    virtualhost: svc.example
    checks:
      - http_get: {urls: [{path: /a}, {path: /b, virtualhost: url.example}]}
      - ssl_get: {urls: [{path: /}], enable_sni: true}
      - misc_check: {misc_path: /bin/true}
    reals:
      - {address: 10.20.0.5}
      - address: 10.20.0.6
        delay_loop: 2.5
        retry: 0
        alpha: false
        inhibit_on_failure: false
        virtualhost: real.example
      - address: 10.20.0.7
        checks:
          - tcp_check: {delay_loop: 1, retry: 7, connect_timeout: 0.25, warmup: 3}
      - address: 10.20.0.8
        checks: []
"#,
    );
    let cfg = Config::from_yaml_str(&yaml).unwrap();
    check_ok(&cfg);
    let s = &cfg.services[2];
    let h: Vec<_> = s.reals.iter().map(|r| s.real_health(r)).collect();
    let c = &h[0].checks[0];
    assert_eq!(
        (
            c.retry,
            c.delay_loop,
            c.delay_before_retry,
            c.warmup,
            c.alpha
        ),
        (
            4,
            Duration::from_secs(10),
            Duration::from_millis(500),
            Duration::ZERO,
            true
        )
    );
    assert!(h[0].inhibit_on_failure);
    let Probe::Http { urls, target, .. } = &c.probe else {
        panic!()
    };
    assert_eq!(target.connect_timeout, Duration::from_secs(2));
    assert_eq!(urls[0].virtualhost, Some("svc.example"));
    assert_eq!(urls[1].virtualhost, Some("url.example"));
    // The misc timeout follows the service's delay_loop, as keepalived's.
    let Probe::Misc { timeout, .. } = &h[1].checks[2].probe else {
        panic!()
    };
    assert_eq!(*timeout, Duration::from_secs(10));

    let c = &h[1].checks[0];
    assert_eq!(
        (c.retry, c.delay_loop, c.alpha),
        (0, Duration::from_millis(2500), false)
    );
    assert!(!h[1].inhibit_on_failure);
    let Probe::Http { urls, .. } = &c.probe else {
        panic!()
    };
    assert_eq!(urls[0].virtualhost, Some("real.example"));
    // SNI skips the real's virtualhost (keepalived's check_ssl.c order).
    let Probe::Http { urls, .. } = &h[1].checks[1].probe else {
        panic!()
    };
    assert_eq!(
        (urls[0].virtualhost, urls[0].sni),
        (Some("real.example"), Some("svc.example"))
    );

    assert_eq!(h[2].checks.len(), 1);
    let c = &h[2].checks[0];
    assert_eq!(
        (c.retry, c.delay_loop, c.warmup, c.delay_before_retry),
        (
            7,
            Duration::from_secs(1),
            Duration::from_secs(3),
            Duration::from_millis(500)
        )
    );
    let Probe::Tcp(t) = &c.probe else { panic!() };
    assert_eq!(t.connect_timeout, Duration::from_millis(250));
    assert!(h[3].checks.is_empty(), "checks: [] means none");
}

#[test]
fn seconds_keep_microseconds_and_write_back_as_given() {
    let cfg = Config::from_yaml_str(&with(
        "  - {name: t, vip: 10.0.0.102, port: 80, protocol: tcp, delay_loop: 0.000001, warmup: 1.5}\n",
    ))
    .unwrap();
    check_ok(&cfg);
    assert_eq!(cfg.services[2].delay_loop, Some(Seconds::from_micros(1)));
    let text = cfg.to_yaml();
    assert!(text.contains("warmup: 1.5\n"), "{text}");
    assert_eq!(
        Seconds::parse("1.25"),
        Some(Seconds::from_micros(1_250_000))
    );
    assert_eq!(Seconds::parse("1.2345678"), None);
    assert_eq!(Seconds::parse("-1"), None);
    assert_eq!(Seconds::from_micros(1_250_000).to_string(), "1.25");
}

#[test]
fn a_check_entry_names_exactly_one_checker() {
    let one_of = "give exactly one checker: http_get, ssl_get, tcp_check, misc_check or dns_check";
    let e = web_err(
        "checks: [{tcp_check: {connect_timeout: 1, connect_port: 8080}}]",
        "checks: [{tcp_check: {}, dns_check: {}}]",
    );
    assert_error(&e, "services[2].reals[1].checks[0]", one_of);
    let e = web_err(
        "checks: [{tcp_check: {connect_timeout: 1, connect_port: 8080}}]",
        "checks: [{}]",
    );
    assert_error(&e, "services[2].reals[1].checks[0]", one_of);
    let e = web_err(
        "checks: [{tcp_check: {connect_timeout: 1, connect_port: 8080}}]",
        "checks: [{ping_check: {}}]",
    );
    assert_eq!(e.path, "services[2].reals[1].checks[0].ping_check");
    assert!(e.message.starts_with("unknown field"), "{e}");
    let e = web_err("connect_port: 8080", "connect_port: 8080, urls: []");
    assert_eq!(e.path, "services[2].reals[1].checks[0].tcp_check.urls");
}

#[test]
fn an_ipvsadm_edit_of_a_real_keeps_its_health_settings() {
    use crate::config::Protocol;
    use crate::proto::{DestOpts, ServiceKey};
    let cfg = web();
    let key = ServiceKey::addr(Protocol::Tcp, Ipv4Addr::new(10, 0, 0, 101), 80);
    let mut o = DestOpts::new(key, Ipv4Addr::new(10, 20, 0, 3), Some(8080));
    o.weight = Some(5);
    o.forward = Some(crate::config::Forward::Nat);
    let new = crate::rules::edit_dest(&cfg, &o).unwrap();
    let (before, after) = (&cfg.services[2].reals[1], &new.services[2].reals[1]);
    assert_eq!(after.weight, 5);
    assert!(after.checks.is_some());
    assert_eq!(
        (
            &after.checks,
            &after.notify_up,
            &after.notify_down,
            after.inhibit_on_failure
        ),
        (
            &before.checks,
            &before.notify_up,
            &before.notify_down,
            before.inhibit_on_failure
        )
    );
}
