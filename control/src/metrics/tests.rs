use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::*;
use crate::proto::{RealCounters, ServiceCounters};

/// Parses the exposition: every non-comment line is `name{labels} value`.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            assert!(
                line.is_empty()
                    || line.starts_with("# HELP ferrovs_")
                    || line.starts_with("# TYPE ferrovs_"),
                "{line}"
            );
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("name and value");
        let name = series.split('{').next().unwrap();
        assert!(name.starts_with("ferrovs_"), "{line}");
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        if let Some(labels) = series.strip_prefix(name) {
            if !labels.is_empty() {
                assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
                for pair in labels[1..labels.len() - 1].split("\",") {
                    let (k, v) = pair.split_once('=').expect("label=value");
                    assert!(!k.is_empty() && v.starts_with('"'), "{line}");
                }
            }
        }
        let v: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
        assert!(
            out.insert(series.to_string(), v).is_none(),
            "duplicate {line}"
        );
    }
    out
}

fn sample() -> (Config, Counters, DaemonMetrics) {
    let cfg = Config::from_yaml_str(
        "workers: {cores: [1, 2]}\nservices:\n  - name: web\n    vip: 10.0.0.100\n    port: 80\n    protocol: tcp\n    reals:\n      - {address: 10.20.0.2, port: 8080, weight: 3}\n  - {name: m, vip: 10.0.0.7, ports: \"8000-8010\", protocol: udp}\n",
    )
    .unwrap();
    let counters = Counters {
        services: vec![ServiceCounters {
            name: "web".into(),
            stats: Stats {
                conns: 10,
                inpkts: 100,
                outpkts: 90,
                inbytes: 10_000,
                outbytes: 9_000,
                cps: 2,
                ..Stats::default()
            },
            reals: vec![RealCounters {
                address: "10.20.0.2".parse().unwrap(),
                port: 8080,
                active: 4,
                inactive: 5,
                persistent: 1,
                stats: Stats {
                    conns: 10,
                    ..Stats::default()
                },
            }],
        }],
    };
    let daemon = DaemonMetrics {
        cores: vec![CoreMetrics {
            core: 1,
            rx_packets: 1000,
            rx_bytes: 64000,
            tx_packets: 990,
            tx_bytes: 63000,
            redirects: 7,
            full_path: 9,
            drops: vec![("no_service".into(), 3), ("bad_checksum".into(), 1)],
            conns: 12,
            conn_capacity: 1 << 20,
        }],
        ports: vec![
            PortMetrics {
                port: "eth0".into(),
                flow_steering: true,
                flow_rules: 4,
                host: Some(HostMetrics {
                    to_kernel_frames: 30,
                    to_kernel_bytes: 3000,
                    from_kernel_frames: 20,
                    from_kernel_bytes: 1500,
                    drops: vec![("rate_limited".into(), 9), ("ring_full".into(), 0)],
                }),
            },
            PortMetrics {
                port: "lab".into(),
                flow_steering: false,
                flow_rules: 0,
                host: None,
            },
        ],
        mbufs_in_use: 512,
        mbufs_total: 8191,
        control_served: 40,
        control_refused: 2,
        build: BuildInfo {
            version: "0.1.0".into(),
            dpdk: "22.11".into(),
        },
        health: Some(HealthMetrics {
            reals: vec![
                RealUpMetric {
                    service: "web".into(),
                    real: "10.0.1.11:8080".into(),
                    up: true,
                },
                RealUpMetric {
                    service: "web".into(),
                    real: "10.0.1.12:8080".into(),
                    up: false,
                },
            ],
            checks: vec![CheckMetrics {
                check: "HTTP_GET 10.0.1.11:8080/q".into(),
                ok: 7,
                failed: 2,
                buckets: vec![(0.001, 1), (0.01, 8), (1.0, 9)],
                sum_seconds: 0.05,
            }],
            quorum: vec![("web".into(), true)],
            lag_seconds: 0.012,
            pass_age_seconds: 0.05,
        }),
        vrrp: vec![crate::proto::VrrpEntry {
            name: "VI_1".into(),
            state: "MASTER".into(),
            priority: 150,
            adverts_sent: 12,
            adverts_received: 3,
            transitions: 1,
            dropped: vec![("auth".into(), 4), ("ttl".into(), 0)],
            ..Default::default()
        }],
        garps_sent: 10,
        sync: Some(SyncMetrics {
            messages_sent: 4,
            conns_sent: 120,
            conns_installed: 7,
            refused: vec![("size_mismatch".into(), 2)],
            install_refused: vec![("no_real".into(), 1)],
            ring_dropped: (3, 0),
            ..Default::default()
        }),
    };
    (cfg, counters, daemon)
}

#[test]
fn exposition_parses_and_has_the_values() {
    let (cfg, counters, daemon) = sample();
    let text = render(&cfg, &counters, &daemon).unwrap();
    let m = parse(&text);
    let get = |k: &str| *m.get(k).unwrap_or_else(|| panic!("{k} missing in\n{text}"));
    assert_eq!(
        get(
            r#"ferrovs_service_connections_total{port="80",protocol="tcp",service="web",vip="10.0.0.100"}"#
        ),
        10.0
    );
    assert_eq!(
        get(
            r#"ferrovs_service_packets_total{direction="out",port="80",protocol="tcp",service="web",vip="10.0.0.100"}"#
        ),
        90.0
    );
    assert_eq!(
        get(
            r#"ferrovs_service_connections_total{port="8000-8010",protocol="udp",service="m",vip="10.0.0.7"}"#
        ),
        0.0
    );
    assert_eq!(
        get(r#"ferrovs_real_active_connections{real="10.20.0.2:8080",service="web"}"#),
        4.0
    );
    assert_eq!(
        get(r#"ferrovs_real_weight{real="10.20.0.2:8080",service="web"}"#),
        3.0
    );
    assert_eq!(
        get(r#"ferrovs_core_drops_total{core="1",reason="no_service"}"#),
        3.0
    );
    assert_eq!(get(r#"ferrovs_core_redirects_total{core="1"}"#), 7.0);
    assert_eq!(
        get(r#"ferrovs_core_full_path_packets_total{core="1"}"#),
        9.0
    );
    assert_eq!(get(r#"ferrovs_conn_table_entries{core="1"}"#), 12.0);
    assert_eq!(get("ferrovs_mbufs_in_use"), 512.0);
    assert_eq!(get(r#"ferrovs_port_flow_steering{port="eth0"}"#), 1.0);
    assert_eq!(get(r#"ferrovs_port_flow_rules{port="eth0"}"#), 4.0);
    assert_eq!(get(r#"ferrovs_port_flow_steering{port="lab"}"#), 0.0);
    assert_eq!(get(r#"ferrovs_port_flow_rules{port="lab"}"#), 0.0);
    assert_eq!(
        get(r#"ferrovs_real_up{real="10.0.1.11:8080",service="web"}"#),
        1.0
    );
    assert_eq!(
        get(r#"ferrovs_real_up{real="10.0.1.12:8080",service="web"}"#),
        0.0
    );
    let check = r#"check="HTTP_GET 10.0.1.11:8080/q""#;
    let h = |s: String| get(&s);
    assert_eq!(
        h(format!(
            r#"ferrovs_health_checks_total{{{check},result="ok"}}"#
        )),
        7.0
    );
    assert_eq!(
        h(format!(
            r#"ferrovs_health_checks_total{{{check},result="failed"}}"#
        )),
        2.0
    );
    assert_eq!(
        h(format!(
            r#"ferrovs_health_check_duration_seconds_bucket{{{check},le="0.01"}}"#
        )),
        8.0
    );
    assert_eq!(
        h(format!(
            r#"ferrovs_health_check_duration_seconds_bucket{{{check},le="+Inf"}}"#
        )),
        9.0
    );
    assert_eq!(
        h(format!(
            "ferrovs_health_check_duration_seconds_count{{{check}}}"
        )),
        9.0
    );
    assert_eq!(get(r#"ferrovs_service_quorum_up{service="web"}"#), 1.0);
    assert_eq!(get("ferrovs_health_checker_lag_seconds"), 0.012);
    assert_eq!(get(r#"ferrovs_vrrp_state{instance="VI_1"}"#), 2.0);
    assert_eq!(get(r#"ferrovs_vrrp_priority{instance="VI_1"}"#), 150.0);
    assert_eq!(
        get(r#"ferrovs_vrrp_adverts_sent_total{instance="VI_1"}"#),
        12.0
    );
    assert_eq!(
        get(r#"ferrovs_vrrp_adverts_received_total{instance="VI_1"}"#),
        3.0
    );
    assert_eq!(
        get(r#"ferrovs_vrrp_transitions_total{instance="VI_1"}"#),
        1.0
    );
    assert_eq!(
        get(r#"ferrovs_vrrp_adverts_dropped_total{instance="VI_1",reason="auth"}"#),
        4.0
    );
    assert_eq!(get("ferrovs_vrrp_garps_sent_total"), 10.0);
    assert_eq!(get(r#"ferrovs_sync_messages_total{direction="sent"}"#), 4.0);
    assert_eq!(get(r#"ferrovs_sync_conns_total{step="sent"}"#), 120.0);
    assert_eq!(get(r#"ferrovs_sync_conns_total{step="installed"}"#), 7.0);
    assert_eq!(
        get(r#"ferrovs_sync_refused_total{reason="size_mismatch"}"#),
        2.0
    );
    assert_eq!(
        get(r#"ferrovs_sync_install_refused_total{reason="no_real"}"#),
        1.0
    );
    assert_eq!(get(r#"ferrovs_sync_ring_dropped_total{ring="send"}"#), 3.0);
    let host = |dir: &str, what: &str| {
        get(&format!(
            r#"ferrovs_port_host_{what}_total{{direction="{dir}",port="eth0"}}"#
        ))
    };
    assert_eq!(host("to_kernel", "frames"), 30.0);
    assert_eq!(host("to_kernel", "bytes"), 3000.0);
    assert_eq!(host("from_kernel", "frames"), 20.0);
    assert_eq!(host("from_kernel", "bytes"), 1500.0);
    assert_eq!(
        get(r#"ferrovs_port_host_drops_total{port="eth0",reason="rate_limited"}"#),
        9.0
    );
    assert!(
        !m.keys()
            .any(|k| k.starts_with("ferrovs_port_host") && k.contains("\"lab\"")),
        "a port without a twin has no host-path series"
    );
    assert_eq!(
        get(r#"ferrovs_control_requests_total{result="refused"}"#),
        2.0
    );
    assert_eq!(
        get(r#"ferrovs_build_info{dpdk="22.11",version="0.1.0"}"#),
        1.0
    );
}

#[test]
fn http_serves_metrics() {
    let (cfg, counters, daemon) = sample();
    let text = render(&cfg, &counters, &daemon).unwrap();
    let server = MetricsServer::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = server.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = Arc::clone(&stop);
    let t2 = text.clone();
    let h = std::thread::spawn(move || server.serve(Arc::new(move || t2.clone()), s2).unwrap());
    let get = |req: &str| {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(req.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let resp = get("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("Content-Type: text/plain; version=0.0.4"));
    assert!(head.contains(&format!("Content-Length: {}", body.len())));
    assert_eq!(body, text);
    assert!(get("GET / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 404"));
    assert!(get("POST /metrics HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 405"));
    assert!(get("\r\n\r\n").starts_with("HTTP/1.1 400"));
    let huge = "GET /metrics HTTP/1.1\r\nX: ".to_string() + &"a".repeat(20_000);
    let mut s = TcpStream::connect(addr).unwrap();
    let _ = s.write_all(huge.as_bytes());
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    let head_resp = get("HEAD /metrics HTTP/1.1\r\n\r\n");
    assert!(head_resp.ends_with("\r\n\r\n"));
    stop.store(true, Ordering::Relaxed);
    h.join().unwrap();
}
