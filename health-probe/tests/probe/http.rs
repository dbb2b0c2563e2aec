//! HTTP_GET: the request keepalived sends, and how answers are judged.

use health_probe::{run, HttpProtocol, Outcome, Probe, Target, UrlCheck};

use crate::fixtures::{bounded, target, Answer, HttpServer, LONG, SHORT};

const HELLO_MD5: &str = "5d41402abc4b2a76b9719d911017c592";

pub fn url(path: &str) -> UrlCheck {
    UrlCheck {
        path: path.to_owned(),
        status_codes: Vec::new(),
        digest: None,
        virtualhost: None,
    }
}

pub fn http(urls: Vec<UrlCheck>) -> Probe {
    Probe::Http {
        urls,
        tls: None,
        protocol: HttpProtocol::Http10,
        virtualhost: None,
    }
}

fn down(reason: String) -> Outcome {
    Outcome::Down { reason }
}

const UP: Outcome = Outcome::Up { weight: None };

#[tokio::test]
async fn sends_keepalived_s_http_1_0_request() {
    bounded(async {
        let server = HttpServer::start(Answer::status("200 OK", "hello")).await;
        let report = run(&target(server.addr, LONG), &http(vec![url("/health")])).await;
        assert_eq!(report.outcome, UP);
        let seen = server.seen();
        assert_eq!(seen.len(), 1);
        assert_eq!(
            seen[0].request,
            format!(
                "GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: {}\r\n\r\n",
                server.addr
            )
        );
    })
    .await;
}

#[tokio::test]
async fn http_protocol_1_0c_and_1_1_ask_to_close() {
    bounded(async {
        let server = HttpServer::start(Answer::status("200 OK", "")).await;
        for (protocol, version) in [
            (HttpProtocol::Http10Close, "1.0"),
            (HttpProtocol::Http11, "1.1"),
        ] {
            let probe = Probe::Http {
                urls: vec![url("/x?y=1")],
                tls: None,
                protocol,
                virtualhost: None,
            };
            let report = run(&target(server.addr, LONG), &probe).await;
            assert_eq!(report.outcome, UP);
            let seen = server.seen();
            let last = seen.last().map(|s| s.request.clone()).unwrap_or_default();
            assert_eq!(
                last,
                format!(
                    "GET /x?y=1 HTTP/{version}\r\nUser-Agent: KeepAliveClient\r\n\
                     Connection: close\r\nHost: {}\r\n\r\n",
                    server.addr
                )
            );
        }
    })
    .await;
}

#[tokio::test]
async fn virtualhost_is_the_host_header() {
    bounded(async {
        let server = HttpServer::start(Answer::status("200 OK", "")).await;
        let mut own = url("/b");
        own.virtualhost = Some("url.example".to_owned());
        let probe = Probe::Http {
            urls: vec![url("/a"), own],
            tls: None,
            protocol: HttpProtocol::Http10,
            virtualhost: Some("checker.example".to_owned()),
        };
        let report = run(&target(server.addr, LONG), &probe).await;
        assert_eq!(report.outcome, UP);
        let seen = server.seen();
        assert_eq!(seen.len(), 2, "one connection per URL");
        assert!(seen[0].request.contains("\r\nHost: checker.example\r\n"));
        assert!(seen[1].request.contains("\r\nHost: url.example\r\n"));
    })
    .await;
}

#[tokio::test]
async fn status_outside_2xx_is_down() {
    bounded(async {
        let server = HttpServer::start(Answer::status("500 Internal Server Error", "")).await;
        let report = run(&target(server.addr, LONG), &http(vec![url("/health")])).await;
        assert_eq!(
            report.outcome,
            down(format!(
                "GET http://{}/health: status 500 not in [200-299]",
                server.addr
            ))
        );
        let server = HttpServer::start(Answer::status("204 No Content", "")).await;
        let report = run(&target(server.addr, LONG), &http(vec![url("/")])).await;
        assert_eq!(report.outcome, UP, "any 2xx passes by default");
    })
    .await;
}

#[tokio::test]
async fn custom_status_codes() {
    bounded(async {
        let server = HttpServer::start(Answer::status("500 Internal Server Error", "")).await;
        let mut u = url("/");
        u.status_codes = vec![500, 503];
        let report = run(&target(server.addr, LONG), &http(vec![u])).await;
        assert_eq!(report.outcome, UP);

        let server = HttpServer::start(Answer::status("204 No Content", "")).await;
        let mut u = url("/");
        u.status_codes = vec![200, 301, 302];
        let report = run(&target(server.addr, LONG), &http(vec![u])).await;
        assert_eq!(
            report.outcome,
            down(format!(
                "GET http://{}/: status 204 not in [200, 301-302]",
                server.addr
            ))
        );
    })
    .await;
}

#[tokio::test]
async fn digest_of_the_body() {
    bounded(async {
        let server = HttpServer::start(Answer::status("200 OK", "hello")).await;
        let mut good = url("/");
        good.digest = Some(HELLO_MD5.to_uppercase());
        let report = run(&target(server.addr, LONG), &http(vec![good])).await;
        assert_eq!(report.outcome, UP);

        let server = HttpServer::start(Answer::status("200 OK", "wrong body")).await;
        let mut bad = url("/");
        bad.digest = Some(HELLO_MD5.to_owned());
        let report = run(&target(server.addr, LONG), &http(vec![bad])).await;
        assert_eq!(
            report.outcome,
            down(format!(
                "GET http://{}/: digest 50cc1677ec07338dc11e226f9719d197 != expected {HELLO_MD5}",
                server.addr
            ))
        );
    })
    .await;
}

#[tokio::test]
async fn status_is_judged_before_the_digest() {
    bounded(async {
        let server = HttpServer::start(Answer::status("503 Busy", "hello")).await;
        let mut u = url("/");
        u.digest = Some(HELLO_MD5.to_owned());
        let report = run(&target(server.addr, LONG), &http(vec![u])).await;
        assert_eq!(
            report.outcome,
            down(format!(
                "GET http://{}/: status 503 not in [200-299]",
                server.addr
            ))
        );
    })
    .await;
}

#[tokio::test]
async fn close_delimited_and_short_bodies_are_read_to_their_end() {
    bounded(async {
        // HTTP/1.0 without Content-Length: the body ends when the server closes.
        let server = HttpServer::start(Answer::Raw(b"HTTP/1.0 200 OK\r\n\r\nhello".to_vec())).await;
        let mut u = url("/");
        u.digest = Some(HELLO_MD5.to_owned());
        let report = run(&target(server.addr, LONG), &http(vec![u.clone()])).await;
        assert_eq!(report.outcome, UP);

        // Content-Length promises more than comes: keepalived only logs that, and hashes
        // what it got.
        let server = HttpServer::start(Answer::Raw(
            b"HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nhello".to_vec(),
        ))
        .await;
        let report = run(&target(server.addr, LONG), &http(vec![u])).await;
        assert_eq!(report.outcome, UP);
    })
    .await;
}

#[tokio::test]
async fn chunked_http_1_1_body_is_hashed_decoded() {
    bounded(async {
        let server = HttpServer::start(Answer::Raw(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"
                .to_vec(),
        ))
        .await;
        let mut u = url("/");
        u.digest = Some(HELLO_MD5.to_owned());
        let probe = Probe::Http {
            urls: vec![u],
            tls: None,
            protocol: HttpProtocol::Http11,
            virtualhost: None,
        };
        let report = run(&target(server.addr, LONG), &probe).await;
        assert_eq!(report.outcome, UP);
    })
    .await;
}

#[tokio::test]
async fn no_answer_times_out() {
    bounded(async {
        let server = HttpServer::start(Answer::Silent).await;
        let report = run(&target(server.addr, SHORT), &http(vec![url("/slow")])).await;
        assert_eq!(
            report.outcome,
            down(format!(
                "GET http://{}/slow: no response within 300ms",
                server.addr
            ))
        );
    })
    .await;
}

#[tokio::test]
async fn a_stalled_body_times_out() {
    bounded(async {
        let server = HttpServer::start(Answer::Stall(
            b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nhel".to_vec(),
        ))
        .await;
        let report = run(&target(server.addr, SHORT), &http(vec![url("/")])).await;
        assert_eq!(
            report.outcome,
            down(format!(
                "GET http://{}/: status 200: body read timed out after 300ms",
                server.addr
            ))
        );
    })
    .await;
}

#[tokio::test]
async fn garbage_and_silence_are_down_with_a_reason() {
    bounded(async {
        let server =
            HttpServer::start(Answer::Raw(b"\x00\xffnot http at all\r\n\r\n".to_vec())).await;
        let report = run(&target(server.addr, LONG), &http(vec![url("/")])).await;
        match &report.outcome {
            Outcome::Down { reason } => assert!(
                reason.starts_with(&format!("GET http://{}/: invalid response: ", server.addr)),
                "{reason}"
            ),
            other => panic!("garbage must be down: {other:?}"),
        }

        let server = HttpServer::start(Answer::Close).await;
        let report = run(&target(server.addr, LONG), &http(vec![url("/")])).await;
        assert_eq!(
            report.outcome,
            down(format!(
                "GET http://{}/: connection closed before a response",
                server.addr
            ))
        );
    })
    .await;
}

#[tokio::test]
async fn the_first_failing_url_decides() {
    bounded(async {
        let server = HttpServer::start(Answer::status("200 OK", "hello")).await;
        let mut second = url("/second");
        second.status_codes = vec![404];
        let report = run(
            &target(server.addr, LONG),
            &http(vec![url("/first"), second, url("/third")]),
        )
        .await;
        assert_eq!(
            report.outcome,
            down(format!(
                "GET http://{}/second: status 200 not in [404]",
                server.addr
            ))
        );
        assert_eq!(server.seen().len(), 2, "the third URL is not fetched");

        let report = run(&target(server.addr, LONG), &http(Vec::new())).await;
        assert_eq!(
            report.outcome, UP,
            "no URL: up without a probe, as keepalived"
        );
    })
    .await;
}

#[tokio::test]
async fn refused_connect_is_down_and_bad_settings_are_not_run() {
    bounded(async {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind("127.0.0.1:0".parse().expect("addr"))
            .expect("bind");
        let addr = socket.local_addr().expect("addr");
        let report = run(&target(addr, LONG), &http(vec![url("/")])).await;
        assert_eq!(
            report.outcome,
            down(format!(
                "GET http://{addr}/: connect {addr}: connection refused"
            ))
        );

        let mut bad = url("/");
        bad.digest = Some("xyz".to_owned());
        let report = run(&target(addr, LONG), &http(vec![bad])).await;
        assert_eq!(
            report.outcome,
            Outcome::NotRun {
                reason: format!(
                    "GET http://{addr}/: invalid digest \"xyz\" (expected 32 hex digits)"
                )
            }
        );
    })
    .await;
}

#[tokio::test]
async fn binds_the_source_address() {
    bounded(async {
        let server = HttpServer::start(Answer::status("200 OK", "")).await;
        let probe = Target {
            connect: server.addr,
            bind: Some("127.0.0.2:0".parse().expect("addr")),
            timeout: LONG,
        };
        let report = run(&probe, &http(vec![url("/")])).await;
        assert_eq!(report.outcome, UP);
        let seen = server.seen();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].peer.ip().to_string(), "127.0.0.2");
    })
    .await;
}
