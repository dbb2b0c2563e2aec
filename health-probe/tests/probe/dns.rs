//! DNS_CHECK: the query keepalived sends, and the header-only verdict.

use health_probe::{run, Outcome, Probe, Target};
use hickory_proto::op::{MessageType, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RecordType};

use crate::fixtures::{bounded, target, DnsAnswer, DnsServer, LONG, SHORT};

fn soa_root() -> Probe {
    Probe::Dns {
        qtype: "SOA".to_owned(),
        name: String::new(),
    }
}

#[tokio::test]
async fn noerror_is_up_and_the_query_is_keepalived_s() {
    bounded(async {
        let server = DnsServer::start(DnsAnswer::Rcode(ResponseCode::NoError)).await;
        let report = run(&target(server.addr, LONG), &soa_root()).await;
        assert_eq!(report.outcome, Outcome::Up { weight: None });
        let seen = server.seen();
        assert_eq!(seen.len(), 1, "one datagram, no resend");
        let query = &seen[0].1;
        assert_eq!(query.metadata.message_type, MessageType::Query);
        assert!(query.metadata.recursion_desired);
        assert_eq!(query.queries.len(), 1);
        assert_eq!(query.queries[0].name(), &Name::root());
        assert_eq!(query.queries[0].query_type(), RecordType::SOA);
        assert_eq!(query.queries[0].query_class(), DNSClass::IN);
        assert!(query.edns.is_none(), "no EDNS");
        assert!(query.additionals.is_empty());

        let probe = Probe::Dns {
            qtype: "aaaa".to_owned(),
            name: "www.example.com".to_owned(),
        };
        let report = run(&target(server.addr, LONG), &probe).await;
        assert_eq!(report.outcome, Outcome::Up { weight: None });
        let seen = server.seen();
        assert_eq!(seen[1].1.queries[0].query_type(), RecordType::AAAA);
        assert_eq!(seen[1].1.queries[0].name().to_ascii(), "www.example.com.");
    })
    .await;
}

#[tokio::test]
async fn servfail_is_down() {
    bounded(async {
        let server = DnsServer::start(DnsAnswer::Rcode(ResponseCode::ServFail)).await;
        let report = run(&target(server.addr, LONG), &soa_root()).await;
        assert_eq!(
            report.outcome,
            Outcome::Down {
                reason: format!("dns {} SOA .: rcode SERVFAIL", server.addr)
            }
        );
        let server = DnsServer::start(DnsAnswer::Rcode(ResponseCode::NXDomain)).await;
        let probe = Probe::Dns {
            qtype: "A".to_owned(),
            name: "missing.example.".to_owned(),
        };
        let report = run(&target(server.addr, LONG), &probe).await;
        assert_eq!(
            report.outcome,
            Outcome::Down {
                reason: format!("dns {} A missing.example.: rcode NXDOMAIN", server.addr)
            }
        );
    })
    .await;
}

#[tokio::test]
async fn wrong_id_or_no_qr_is_ignored_until_the_timeout() {
    bounded(async {
        for answer in [DnsAnswer::WrongId, DnsAnswer::NoQr, DnsAnswer::Silent] {
            let server = DnsServer::start(answer).await;
            let report = run(&target(server.addr, SHORT), &soa_root()).await;
            assert_eq!(
                report.outcome,
                Outcome::Down {
                    reason: format!("dns {} SOA .: no answer within 300ms", server.addr)
                },
                "{answer:?}"
            );
            assert!(report.latency >= SHORT);
        }
        // An answer with a wrong id does not end the wait: the right one that follows counts.
        let server = DnsServer::start(DnsAnswer::WrongIdThenRight).await;
        let report = run(&target(server.addr, LONG), &soa_root()).await;
        assert_eq!(report.outcome, Outcome::Up { weight: None });
    })
    .await;
}

#[tokio::test]
async fn port_unreachable_is_down() {
    bounded(async {
        let closed = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = closed.local_addr().expect("addr");
        drop(closed);
        let report = run(&target(addr, LONG), &soa_root()).await;
        assert_eq!(
            report.outcome,
            Outcome::Down {
                reason: format!("dns {addr} SOA .: read: connection refused")
            }
        );
    })
    .await;
}

#[tokio::test]
async fn binds_the_source_address_and_rejects_unknown_types() {
    bounded(async {
        let server = DnsServer::start(DnsAnswer::Rcode(ResponseCode::NoError)).await;
        let probe = Target {
            connect: server.addr,
            bind: Some("127.0.0.2:0".parse().expect("addr")),
            timeout: LONG,
        };
        let report = run(&probe, &soa_root()).await;
        assert_eq!(report.outcome, Outcome::Up { weight: None });
        assert_eq!(server.seen()[0].0.ip().to_string(), "127.0.0.2");

        let srv = Probe::Dns {
            qtype: "SRV".to_owned(),
            name: ".".to_owned(),
        };
        let report = run(&target(server.addr, LONG), &srv).await;
        assert_eq!(
            report.outcome,
            Outcome::NotRun {
                reason: format!("dns {} SRV .: unknown query type \"SRV\"", server.addr)
            }
        );
    })
    .await;
}
