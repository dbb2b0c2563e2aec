//! keepalived's keywords and its end-of-block corrections, mapped as
//! keepalived applies them, with every deviation reported.

use std::net::Ipv4Addr;

use super::{diags, mapped};
use crate::config::health::{Check, DnsType, HttpProtocol, Script, Seconds};
use crate::config::{Forward, Protocol, SchedFlag, Scheduler, TunFlags, TunType};

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

#[test]
fn groups_expand_to_one_service_per_address_and_mark() {
    let m = mapped(
        "virtual_server_group G {\n  10.0.0.1 80\n  10.0.0.3-4 8080\n  fwmark 7\n}\n\
         virtual_server group G {\n  protocol TCP\n  real_server 10.9.0.1 80 {\n  }\n}\n",
    );
    let names: Vec<&str> = m.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "G-tcp-10.0.0.1-80",
            "G-tcp-10.0.0.3-8080",
            "G-tcp-10.0.0.4-8080",
            "G-fwm-7"
        ]
    );
    assert_eq!(m.services[3].fwmark, Some(7));
    assert_eq!(m.services[3].protocol, None);
    assert!(m.services.iter().all(|s| s.reals.len() == 1));
    assert_eq!(m.origins[0], ("k.conf".to_string(), 6));
    assert_eq!(
        diags(&m),
        ["k.conf:7: protocol: not mapped (a firewall-mark service takes every protocol; keepalived ignores it)"]
    );
    m.into_config(None).unwrap();
}

#[test]
fn dr_ports_protocol_and_empty_services_follow_keepalived() {
    let m = mapped(
        "virtual_server 10.0.0.1 80 {\n  lb_kind DR\n\
           real_server 10.9.0.1 8080 {\n  }\n  real_server 10.9.0.2 80 {\n  }\n  real_server 10.9.0.2 80\n}\n\
         virtual_server 10.0.0.2 80 {\n  protocol TCP\n}\n",
    );
    assert_eq!(m.services.len(), 1);
    let s = &m.services[0];
    assert_eq!(s.protocol, Some(Protocol::Udp));
    assert_eq!((s.reals[0].port, s.reals[1].port), (None, None));
    assert_eq!(s.reals.len(), 2);
    assert_eq!(
        diags(&m),
        [
            "k.conf:1: virtual_server: protocol missing: mapped as udp (keepalived's default)",
            "k.conf:3: real_server: port 8080 mapped as the virtual port (keepalived resets the port of a DR real)",
            "k.conf:7: real_server: not mapped (duplicate real server; keepalived removes it)",
            "k.conf:9: virtual_server: not mapped (no usable real_server; keepalived ignores such a virtual server)",
        ]
    );
}

#[test]
fn quorum_hysteresis_sorry_server_and_scripts() {
    let m = mapped(
        r#"virtual_server 10.0.0.1 80 {
  protocol TCP
  lb_kind NAT
  weight 3
  quorum 10
  hysteresis 9
  quorum_up "/usr/bin/up 'a b'" alice
  quorum_down /usr/bin/down
  sorry_server_inhibit
  sorry_server 10.9.0.9 8080
  sorry_server_inhibit
  sorry_server_lvs_method DR
  omega
  alpha
  inhibit_on_failure
  real_server 10.9.0.1 80 {
    weight 2
  }
  real_server 10.9.0.2 80 {
  }
}
"#,
    );
    let s = &m.services[0];
    assert_eq!(s.reals.iter().map(|r| r.weight).collect::<Vec<_>>(), [2, 3]);
    assert_eq!((s.quorum, s.hysteresis), (Some(5), Some(4)));
    assert_eq!(s.quorum_up, Some(Script("/usr/bin/up 'a b'".into())));
    assert_eq!(s.quorum_down, Some(Script("/usr/bin/down".into())));
    let sorry = s.sorry_server.as_ref().unwrap();
    assert_eq!(
        (sorry.address, sorry.port, sorry.forward),
        (ip("10.9.0.9"), None, Some(Forward::Dr))
    );
    assert_eq!(
        (
            s.sorry_server_inhibit,
            s.omega,
            s.alpha,
            s.inhibit_on_failure
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    assert_eq!(
        diags(&m),
        [
            "k.conf:1: virtual_server: quorum 10 mapped as 5, the reals' total weight (keepalived's correction)",
            "k.conf:1: virtual_server: hysteresis 9 mapped as 4 (keepalived keeps it below quorum 5)",
            "k.conf:1: virtual_server: sorry_server port 8080 mapped as the virtual port (keepalived resets it)",
            "k.conf:7: quorum_up: script user \"alice\" not mapped (scripts run as ferrovs's own user)",
            "k.conf:9: sorry_server_inhibit: not mapped (sorry_server_inhibit before or without sorry_server; keepalived ignores it)",
        ]
    );
    m.into_config(None).unwrap();
}

#[test]
fn scheduler_flags_persistence_and_tunnels() {
    let m = mapped(
        "virtual_server 10.0.0.1 0 {\n  protocol UDP\n  sh-port\n  lvs_sched sh\n  sh-fallback\n  flag-2\n\
           lvs_method TUN type gue port 6080 csum\n  persistence_granularity 255.255.255.0\n  ops\n\
           real_server 10.9.0.1 {\n    lvs_method NAT\n    uthreshold 10\n    lthreshold 5\n  }\n}\n\
         virtual_server 10.0.0.2 80 {\n  protocol TCP\n  persistence_timeout\n  persistence_granularity 255.0.255.0\n  ops\n  real_server 10.9.0.1 80\n}\n",
    );
    let s = &m.services[0];
    assert_eq!(s.scheduler, Scheduler::Sh);
    assert_eq!(s.flags, [SchedFlag::ShFallback, SchedFlag::ShPort]);
    assert_eq!(
        (s.forward, s.tun_type, s.tun_port, s.tun_flags),
        (
            Forward::Tun,
            Some(TunType::Gue),
            Some(6080),
            Some(TunFlags::Csum)
        )
    );
    let p = s.persistence.as_ref().unwrap();
    assert_eq!((p.timeout, p.netmask), (360, ip("255.255.255.0")));
    assert!(s.ops);
    let r = &s.reals[0];
    assert_eq!(
        (r.forward, r.upper_threshold, r.lower_threshold),
        (Some(Forward::Nat), 10, 5)
    );
    let t = &m.services[1];
    assert_eq!(t.persistence.as_ref().unwrap().timeout, 360);
    assert!(!t.ops);
    assert_eq!(
        diags(&m),
        [
            "k.conf:3: sh-port: not mapped (sh-port applies to scheduler sh only (lb_algo is wlc); keepalived ignores it)",
            "k.conf:19: persistence_granularity: not mapped (255.0.255.0 is not a contiguous netmask, which ferrovs requires)",
            "k.conf:20: ops: not mapped (one-packet scheduling needs UDP; keepalived ignores it)",
        ]
    );
}

#[test]
fn every_checker_and_its_options() {
    let m = mapped(
        r#"virtual_server 10.0.0.1 443 {
  protocol TCP
  delay_loop 2.5
  virtualhost vs.example
  real_server 10.9.0.1 443 {
    delay_before_retry 0
    retry 2
    notify_down "/bin/down now"
    SSL_GET {
      url {
        path /a
        status_code 200 301-302 700
        digest FF20AD2481F97B1754EF3E12ECD3A9CC
        virtualhost u.example
        regex "ok"
      }
      url {
        digest 00
      }
      http_protocol 1.0C
      sni_name tls.example
      fast_recovery
      connect_ip 10.9.0.11
      connect_port 8443
      bindto 10.0.0.5
      bind_port 4000
      bind_if eth0
      connect_timeout 0.5
      nb_get_retry 4
      warmup 0
      alpha no
      log_all_failures
    }
    HTTP_GET {
      url {
        path /h
      }
      enable_sni
      http_protocol 2
    }
    DNS_CHECK {
      type aaaa
      name example.com
      connect_port 53
    }
    MISC_CHECK {
      misc_path "/bin/check 'x y'" nobody
      misc_timeout 4
      misc_dynamic
      user nobody
      connect_timeout 3
    }
    MISC_CHECK {
    }
    SMTP_CHECK {
    }
  }
}
"#,
    );
    let s = &m.services[0];
    assert_eq!(s.delay_loop, Some(Seconds::from_micros(2_500_000)));
    assert_eq!(s.virtualhost.as_deref(), Some("vs.example"));
    let r = &s.reals[0];
    assert_eq!(
        (r.delay_before_retry, r.retry),
        (Some(Seconds::ZERO), Some(2))
    );
    assert_eq!(r.notify_down, Some(Script("/bin/down now".into())));
    // One real: its checks are written on the service.
    let checks = &s.checks;
    assert_eq!(checks.len(), 4);
    let Check::SslGet(h) = &checks[0] else {
        panic!("{checks:?}")
    };
    assert_eq!(h.urls.len(), 1);
    let u = &h.urls[0];
    assert_eq!(u.path, "/a");
    assert_eq!(
        u.status_code
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>(),
        ["200", "301-302"]
    );
    assert_eq!(
        u.digest.as_deref(),
        Some("ff20ad2481f97b1754ef3e12ecd3a9cc")
    );
    assert_eq!(u.virtualhost.as_deref(), Some("u.example"));
    assert_eq!(h.http_protocol, Some(HttpProtocol::Http10C));
    assert!(h.enable_sni && h.fast_recovery);
    assert_eq!(h.sni_name.as_deref(), Some("tls.example"));
    assert_eq!(
        (h.connect_ip, h.connect_port, h.bindto, h.bind_port),
        (
            Some(ip("10.9.0.11")),
            Some(8443),
            Some(ip("10.0.0.5")),
            Some(4000)
        )
    );
    assert_eq!(
        (h.connect_timeout, h.retry, h.warmup, h.alpha),
        (
            Some(Seconds::from_micros(500_000)),
            Some(4),
            Some(Seconds::ZERO),
            Some(false)
        )
    );
    let Check::HttpGet(h) = &checks[1] else {
        panic!()
    };
    assert!(!h.enable_sni && h.http_protocol.is_none());
    let Check::DnsCheck(d) = &checks[2] else {
        panic!()
    };
    assert_eq!(
        (d.qtype, d.name.as_deref(), d.connect_port),
        (Some(DnsType::Aaaa), Some("example.com"), Some(53))
    );
    let Check::MiscCheck(mc) = &checks[3] else {
        panic!()
    };
    assert_eq!(mc.misc_path, Script("/bin/check 'x y'".into()));
    assert_eq!(
        (mc.misc_timeout, mc.misc_dynamic),
        (Some(Seconds::from_secs(4)), true)
    );
    assert_eq!(
        diags(&m),
        [
            "k.conf:12: status_code: not mapped (invalid status code \"700\"; keepalived ignores it)",
            "k.conf:15: regex: not mapped (body regular expressions are not supported)",
            "k.conf:17: url: not mapped (url without path; keepalived ignores it)",
            "k.conf:18: digest: not mapped (digest \"00\" is not 32 hex digits; keepalived ignores it)",
            "k.conf:27: bind_if: not mapped (the source interface follows bindto or the real's subnet)",
            "k.conf:32: log_all_failures: not mapped (ferrovs logs every check failure)",
            "k.conf:38: enable_sni: not mapped (SNI is a TLS extension: it means nothing on HTTP_GET)",
            "k.conf:39: http_protocol: not mapped (invalid version \"2\"; keepalived ignores it)",
            "k.conf:47: misc_path: script user \"nobody\" not mapped (scripts run as ferrovs's own user)",
            "k.conf:50: user: not mapped (scripts run as ferrovs's own user)",
            "k.conf:51: connect_timeout: not mapped (not a MISC_CHECK keyword; keepalived ignores it)",
            "k.conf:53: MISC_CHECK: not mapped (no misc_path; keepalived ignores the checker)",
            "k.conf:55: SMTP_CHECK: not mapped (ferrovs has no such checker yet; the real is not checked by it)",
        ]
    );
}

#[test]
fn identical_checks_are_written_once_on_the_service() {
    let m = mapped(
        "virtual_server 10.0.0.1 80 {\n  protocol TCP\n\
           real_server 10.9.0.1 80 {\n    TCP_CHECK {\n      connect_timeout 2\n    }\n  }\n\
           real_server 10.9.0.2 80 {\n    TCP_CHECK {\n      connect_timeout 2\n    }\n  }\n}\n\
         virtual_server 10.0.0.2 80 {\n  protocol TCP\n\
           real_server 10.9.0.1 80 {\n    TCP_CHECK {\n    }\n  }\n  real_server 10.9.0.2 80\n}\n",
    );
    assert_eq!(m.services[0].checks.len(), 1);
    assert!(m.services[0].reals.iter().all(|r| r.checks.is_none()));
    // A real without checkers stays unchecked: nothing is hoisted.
    assert!(m.services[1].checks.is_empty());
    assert!(m.services[1].reals[0].checks.is_some());
    assert!(m.services[1].reals[1].checks.is_none());
    let cfg = m.into_config(None).unwrap();
    let s = &cfg.services[1];
    assert!(s.real_health(&s.reals[1]).checks.is_empty());
}

#[test]
fn global_defs_lvs_timeouts_and_unmapped_roots() {
    let m = mapped(
        "global_defs {\n  router_id X\n  lvs_timeouts tcp 7200 tcpfin 0 udp 60\n  lvs_sync_daemon eth0 VI_1\n}\n\
         vrrp_sync_group G {\n  group {\n    VI_1\n  }\n}\n\
         virtual_server fe80::1 80 {\n}\nvirtual_server 10.0.0.1 80 {\n  protocol SCTP\n}\nstatic_routes {\n}\nsomething_else\n",
    );
    assert_eq!(m.timeouts, [Some(7200), None, Some(60)]);
    let cfg = m.into_config(None).unwrap();
    assert_eq!(
        (cfg.timeouts.tcp, cfg.timeouts.tcpfin, cfg.timeouts.udp),
        (7200, 120, 60)
    );
    assert_eq!(
        diags(&m),
        [
            "k.conf:2: router_id: not mapped (global_defs: only lvs_timeouts, lvs_sync_daemon and the vrrp defaults have a ferrovs equivalent)",
            "k.conf:4: lvs_sync_daemon: not mapped (the sync daemon follows vrrp_instance VI_1, which is not mapped)",
            "k.conf:6: vrrp_sync_group: not mapped (sync groups are not supported: each vrrp instance fails over on its own)",
            "k.conf:11: virtual_server: not mapped (fe80::1 is IPv6 (ferrovs is IPv4-only))",
            "k.conf:13: virtual_server: not mapped (SCTP: ferrovs balances TCP and UDP only)",
            "k.conf:16: static_routes: not mapped (the director's addresses and routes are ports[] and routes[] in the YAML)",
            "k.conf:18: something_else: not mapped (not a virtual-server keyword)",
        ]
    );
    let yaml = super::super::fragment_yaml(&cfg, &m);
    assert!(yaml.contains("timeouts:\n  tcp: 7200\n"), "{yaml}");
}

#[test]
fn invalid_values_are_reported_not_guessed() {
    let m = mapped(
        "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lb_algo fastest\n  delay_loop 0\n  quorum 0\n  lb_kind SNAT\n\
           real_server 10.9.0.1 80 {\n    weight 70000\n    inhibit_on_failure maybe\n    retry 0\n  }\n}\n",
    );
    let s = &m.services[0];
    assert_eq!(
        (s.scheduler, s.delay_loop, s.quorum),
        (Scheduler::Wlc, None, None)
    );
    assert_eq!(s.reals[0].weight, 1);
    assert_eq!(
        diags(&m),
        [
            "k.conf:3: lb_algo: not mapped (unknown scheduler \"fastest\" (expected one of rr wrr lc wlc sed nq lblc lblcr sh dh mh fo ovf twos); keepalived ignores it)",
            "k.conf:4: delay_loop: not mapped (invalid value \"0\" (must be above 0); keepalived ignores it)",
            "k.conf:5: quorum: not mapped (invalid value \"0\" (expected 1..=4294967295); keepalived ignores it)",
            "k.conf:6: lb_kind: not mapped (DPVS's SNAT forwarding has no ferrovs equivalent)",
            "k.conf:8: weight: not mapped (invalid value \"70000\" (expected 0..=65535); keepalived ignores it)",
            "k.conf:9: inhibit_on_failure: not mapped (invalid value \"maybe\" (expected true or false); keepalived ignores it)",
            "k.conf:10: retry: not mapped (invalid value \"0\" (expected 1..=4294967295); keepalived ignores it)",
        ]
    );
}
