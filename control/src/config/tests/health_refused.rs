//! Every invalid health setting is refused whole, naming the field (the
//! exact error text is asserted).

use super::{assert_error, check, yaml_err, BASE};
use crate::config::health::{
    Check, DnsCheck, HttpCheck, MiscCheck, Script, Seconds, SorryServer, StatusCodes, TcpCheck, Url,
};
use crate::config::{Config, Forward};

/// BASE plus a service with one real and no health settings.
fn cfg() -> Config {
    let extra = "  - {name: hc, vip: 10.0.0.101, port: 80, protocol: tcp, reals: [{address: 10.20.0.2, port: 8080}]}\n";
    Config::from_yaml_str(&format!("{BASE}{extra}")).unwrap()
}

fn http(path: &str) -> HttpCheck {
    HttpCheck {
        urls: vec![Url {
            path: path.into(),
            status_code: Vec::new(),
            digest: None,
            virtualhost: None,
        }],
        ..HttpCheck::default()
    }
}

/// `cfg()` whose service has `c` as its only check.
fn with_check(c: Check) -> Config {
    let mut cfg = cfg();
    cfg.services[2].checks = vec![c];
    cfg
}

const S: &str = "services[2]";

#[test]
fn timers_must_be_positive_and_bounded() {
    let mut c = cfg();
    c.services[2].delay_loop = Some(Seconds::ZERO);
    check(&c, &format!("{S}.delay_loop"), "must be > 0");
    c.services[2].delay_loop = Some(Seconds::from_secs(31 * 86400 + 1));
    check(
        &c,
        &format!("{S}.delay_loop"),
        "must be at most 2678400 seconds",
    );
    let mut c = cfg();
    c.services[2].reals[0].connect_timeout = Some(Seconds::ZERO);
    check(&c, &format!("{S}.reals[0].connect_timeout"), "must be > 0");
    c.services[2].reals[0].connect_timeout = Some(Seconds::from_secs(4295));
    check(
        &c,
        &format!("{S}.reals[0].connect_timeout"),
        "must be at most 4294.967295 seconds",
    );
    let mut c = cfg();
    c.services[2].warmup = Some(Seconds::from_secs(3_000_000));
    check(
        &c,
        &format!("{S}.warmup"),
        "must be at most 2678400 seconds",
    );
    let c = with_check(Check::TcpCheck(TcpCheck {
        delay_before_retry: Some(Seconds::from_secs(3_000_000)),
        ..TcpCheck::default()
    }));
    check(
        &c,
        &format!("{S}.checks[0].tcp_check.delay_before_retry"),
        "must be at most 2678400 seconds",
    );
    let c = with_check(Check::TcpCheck(TcpCheck {
        delay_loop: Some(Seconds::ZERO),
        ..TcpCheck::default()
    }));
    check(
        &c,
        &format!("{S}.checks[0].tcp_check.delay_loop"),
        "must be > 0",
    );
}

#[test]
fn seconds_must_be_non_negative_numbers() {
    for bad in ["-1", "\"3s\"", ".nan"] {
        let e = yaml_err(&format!(
            "{BASE}  - {{name: hc, vip: 10.0.0.101, port: 80, protocol: tcp, delay_loop: {bad}}}\n"
        ));
        assert_error(
            &e,
            &format!("{S}.delay_loop"),
            "must be a number of seconds >= 0 (e.g. 3 or 0.5)",
        );
    }
}

#[test]
fn quorum_and_hysteresis() {
    let mut c = cfg();
    c.services[2].quorum = Some(0);
    check(&c, &format!("{S}.quorum"), "must be >= 1");
    c.services[2].quorum = Some(3);
    c.services[2].hysteresis = Some(3);
    check(&c, &format!("{S}.hysteresis"), "must be below quorum (3)");
    c.services[2].quorum = None;
    c.services[2].hysteresis = Some(1);
    check(&c, &format!("{S}.hysteresis"), "must be below quorum (1)");
}

#[test]
fn scripts_are_absolute_command_lines() {
    let mut c = cfg();
    c.services[2].quorum_up = Some(Script("vip-up".into()));
    check(
        &c,
        &format!("{S}.quorum_up"),
        "the program must be an absolute path (\"vip-up\" is not)",
    );
    c.services[2].quorum_up = None;
    c.services[2].quorum_down = Some(Script("  ".into()));
    check(&c, &format!("{S}.quorum_down"), "must not be empty");
    c.services[2].quorum_down = None;
    c.services[2].reals[0].notify_up = Some(Script("/bin/x 'unterminated".into()));
    check(
        &c,
        &format!("{S}.reals[0].notify_up"),
        "\"/bin/x 'unterminated\" has an unterminated ' quote",
    );
    c.services[2].reals[0].notify_up = None;
    c.services[2].reals[0].notify_down = Some(Script("./down.sh".into()));
    check(
        &c,
        &format!("{S}.reals[0].notify_down"),
        "the program must be an absolute path (\"./down.sh\" is not)",
    );
    let c = with_check(Check::MiscCheck(MiscCheck {
        misc_path: Script(String::new()),
        ..MiscCheck::default()
    }));
    check(
        &c,
        &format!("{S}.checks[0].misc_check.misc_path"),
        "must not be empty",
    );
    let c = with_check(Check::MiscCheck(MiscCheck {
        misc_path: Script("/bin/check".into()),
        misc_timeout: Some(Seconds::ZERO),
        ..MiscCheck::default()
    }));
    check(
        &c,
        &format!("{S}.checks[0].misc_check.misc_timeout"),
        "must be > 0 (omit it for the service's delay_loop)",
    );
}

#[test]
fn the_sorry_server_is_a_valid_foreign_address() {
    let mut c = cfg();
    let sorry = |address: &str, port, forward| {
        Some(SorryServer {
            address: address.parse().unwrap(),
            port,
            forward,
        })
    };
    c.services[2].sorry_server = sorry("224.0.0.1", None, None);
    check(
        &c,
        &format!("{S}.sorry_server.address"),
        "224.0.0.1 is not a unicast address",
    );
    c.services[2].sorry_server = sorry("10.0.0.1", None, None);
    check(
        &c,
        &format!("{S}.sorry_server.address"),
        "10.0.0.1 is the director's own address (ports[0].addresses[0])",
    );
    c.services[2].sorry_server = sorry("10.0.0.100", None, None);
    check(
        &c,
        &format!("{S}.sorry_server.address"),
        "10.0.0.100 is a VIP (services[0].vip)",
    );
    c.services[2].sorry_server = sorry("10.20.0.9", Some(8080), Some(Forward::Dr));
    check(
        &c,
        &format!("{S}.sorry_server.port"),
        "dr/tun forwarding requires the real port to equal the virtual port (80)",
    );
    c.services[2].sorry_server = None;
    c.services[2].sorry_server_inhibit = Some(true);
    check(
        &c,
        &format!("{S}.sorry_server_inhibit"),
        "requires sorry_server",
    );
    let e = yaml_err(&format!(
        "{BASE}  - {{name: hc, vip: 10.0.0.101, port: 80, protocol: tcp, sorry_server: {{address: 10.20.0.9, port: 0}}}}\n"
    ));
    assert_error(&e, &format!("{S}.sorry_server.port"), "must be 1..=65535");
}

#[test]
fn http_urls_are_checked() {
    let c = with_check(Check::HttpGet(HttpCheck::default()));
    check(
        &c,
        &format!("{S}.checks[0].http_get.urls"),
        "must not be empty (give at least one url)",
    );
    let c = with_check(Check::HttpGet(http("index.html")));
    check(
        &c,
        &format!("{S}.checks[0].http_get.urls[0].path"),
        "must start with '/'",
    );
    let c = with_check(Check::SslGet(http("/a b")));
    check(
        &c,
        &format!("{S}.checks[0].ssl_get.urls[0].path"),
        "must not contain white space or control characters",
    );
    for (codes, msg) in [
        (
            StatusCodes {
                first: 99,
                last: 99,
            },
            "99 is not an HTTP status code (100..=599)",
        ),
        (
            StatusCodes {
                first: 200,
                last: 600,
            },
            "600 is not an HTTP status code (100..=599)",
        ),
        (
            StatusCodes {
                first: 300,
                last: 200,
            },
            "invalid range 300-200 (first above last)",
        ),
    ] {
        let mut h = http("/");
        h.urls[0].status_code = vec![
            StatusCodes {
                first: 200,
                last: 200,
            },
            codes,
        ];
        check(
            &with_check(Check::HttpGet(h)),
            &format!("{S}.checks[0].http_get.urls[0].status_code[1]"),
            msg,
        );
    }
    for digest in [
        "abc",
        "ff20ad2481f97b1754ef3e12ecd3a9cZ",
        "ff20ad2481f97b1754ef3e12ecd3a9cc0",
    ] {
        let mut h = http("/");
        h.urls[0].digest = Some(digest.into());
        check(
            &with_check(Check::HttpGet(h)),
            &format!("{S}.checks[0].http_get.urls[0].digest"),
            "must be 32 hex digits (the MD5 of the body)",
        );
    }
    let mut h = http("/");
    h.urls[0].virtualhost = Some(String::new());
    check(
        &with_check(Check::HttpGet(h)),
        &format!("{S}.checks[0].http_get.urls[0].virtualhost"),
        "must not be empty",
    );
    let mut h = http("/");
    h.virtualhost = Some("a b".into());
    check(
        &with_check(Check::HttpGet(h)),
        &format!("{S}.checks[0].http_get.virtualhost"),
        "must not contain white space or control characters",
    );
    let e = yaml_err(&format!(
        "{BASE}  - {{name: hc, vip: 10.0.0.101, port: 80, protocol: tcp, checks: [{{http_get: {{urls: [{{path: /, status_code: [\"2xx\"]}}]}}}}]}}\n"
    ));
    assert_error(
        &e,
        &format!("{S}.checks[0].http_get.urls[0].status_code[0]"),
        "invalid status code \"2xx\" (a code, or a range \"first-last\")",
    );
}

#[test]
fn http_protocol_and_sni() {
    let mut h = http("/");
    h.enable_sni = true;
    check(
        &with_check(Check::HttpGet(h)),
        &format!("{S}.checks[0].http_get.enable_sni"),
        "only for ssl_get (SNI is a TLS extension)",
    );
    let mut h = http("/");
    h.sni_name = Some("x.example".into());
    check(
        &with_check(Check::HttpGet(h)),
        &format!("{S}.checks[0].http_get.sni_name"),
        "only for ssl_get (SNI is a TLS extension)",
    );
    let mut h = http("/");
    h.sni_name = Some(String::new());
    check(
        &with_check(Check::SslGet(h)),
        &format!("{S}.checks[0].ssl_get.sni_name"),
        "must not be empty",
    );
    for bad in ["2.0", "\"1.0D\"", "1"] {
        let e = yaml_err(&format!(
            "{BASE}  - {{name: hc, vip: 10.0.0.101, port: 80, protocol: tcp, checks: [{{http_get: {{urls: [{{path: /}}], http_protocol: {bad}}}}}]}}\n"
        ));
        assert_error(
            &e,
            &format!("{S}.checks[0].http_get.http_protocol"),
            "must be \"1.0\", \"1.0C\" or \"1.1\"",
        );
    }
}

#[test]
fn connection_options_are_checked() {
    let c = with_check(Check::TcpCheck(TcpCheck {
        connect_ip: Some("0.0.0.0".parse().unwrap()),
        ..TcpCheck::default()
    }));
    check(
        &c,
        &format!("{S}.checks[0].tcp_check.connect_ip"),
        "0.0.0.0 is not a unicast address",
    );
    let c = with_check(Check::TcpCheck(TcpCheck {
        bindto: Some("10.20.0.77".parse().unwrap()),
        ..TcpCheck::default()
    }));
    check(
        &c,
        &format!("{S}.checks[0].tcp_check.bindto"),
        "10.20.0.77 is not one of the director's port addresses (ports[].addresses)",
    );
    // The director's own address on the real's subnet is fine.
    let mut ok = with_check(Check::TcpCheck(TcpCheck {
        bindto: Some("10.20.0.1".parse().unwrap()),
        bind_port: Some(4000),
        ..TcpCheck::default()
    }));
    super::check_ok(&ok);
    ok.services[2].checks[0] = Check::TcpCheck(TcpCheck::default());
    for (key, value) in [("connect_port", "0"), ("bind_port", "65536")] {
        let e = yaml_err(&format!(
            "{BASE}  - {{name: hc, vip: 10.0.0.101, port: 80, protocol: tcp, checks: [{{tcp_check: {{{key}: {value}}}}}]}}\n"
        ));
        assert_error(
            &e,
            &format!("{S}.checks[0].tcp_check.{key}"),
            "must be 1..=65535",
        );
    }
}

#[test]
fn a_real_without_a_port_needs_connect_port() {
    let mut c = with_check(Check::TcpCheck(TcpCheck::default()));
    c.services[2].port = None;
    c.services[2].ports = Some(crate::config::ServicePorts::List(vec![80, 443]));
    c.services[2].reals[0].port = None;
    check(
        &c,
        &format!("{S}.checks[0].tcp_check.connect_port"),
        "required: services[2].reals[0] has no port of its own (firewall-mark, multi-port or port-0 service)",
    );
    c.services[2].reals[0].checks = Some(vec![Check::DnsCheck(DnsCheck::default())]);
    check(
        &c,
        &format!("{S}.reals[0].checks[0].dns_check.connect_port"),
        "required: services[2].reals[0] has no port of its own (firewall-mark, multi-port or port-0 service)",
    );
    // misc_check connects nowhere.
    c.services[2].reals[0].checks = Some(vec![Check::MiscCheck(MiscCheck {
        misc_path: Script("/bin/true".into()),
        ..MiscCheck::default()
    })]);
    super::check_ok(&c);
}

#[test]
fn dns_names_and_types() {
    for (name, msg) in [
        ("", "must not be empty (\".\" is the root)"),
        ("a..b", "\"a..b\" has an empty label"),
        (".a", "\".a\" has an empty label"),
        ("a b", "must not contain white space or control characters"),
    ] {
        let c = with_check(Check::DnsCheck(DnsCheck {
            name: Some(name.into()),
            connect_port: Some(53),
            ..DnsCheck::default()
        }));
        check(&c, &format!("{S}.checks[0].dns_check.name"), msg);
    }
    let long = "a".repeat(64);
    let c = with_check(Check::DnsCheck(DnsCheck {
        name: Some(long.clone()),
        ..DnsCheck::default()
    }));
    check(
        &c,
        &format!("{S}.checks[0].dns_check.name"),
        &format!("{long:?} has a label longer than 63 bytes"),
    );
    let e = yaml_err(&format!(
        "{BASE}  - {{name: hc, vip: 10.0.0.101, port: 80, protocol: tcp, checks: [{{dns_check: {{type: PTR}}}}]}}\n"
    ));
    assert_error(
        &e,
        &format!("{S}.checks[0].dns_check.type"),
        "unknown DNS type \"PTR\" (expected one of A NS CNAME SOA MX TXT AAAA RRSIG DNSKEY)",
    );
    // keepalived's lookup ignores case; the YAML writes it back upper case.
    let ok = Config::from_yaml_str(&format!(
        "{BASE}  - {{name: hc, vip: 10.0.0.101, port: 80, protocol: tcp, checks: [{{dns_check: {{type: aaaa, name: example.com.}}}}]}}\n"
    ))
    .unwrap();
    assert!(ok.to_yaml().contains("type: AAAA"), "{}", ok.to_yaml());
}
