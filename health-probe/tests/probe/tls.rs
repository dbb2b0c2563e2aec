//! SSL_GET: a self-signed certificate made at test time is accepted; SNI only when asked.

use health_probe::{run, HttpProtocol, Outcome, Probe, Tls, UrlCheck};

use crate::fixtures::{bounded, target, Answer, HttpServer, LONG, SHORT};
use crate::http::url;

const HELLO_MD5: &str = "5d41402abc4b2a76b9719d911017c592";
const UP: Outcome = Outcome::Up { weight: None };

fn ssl(urls: Vec<UrlCheck>, tls: Tls, virtualhost: Option<&str>) -> Probe {
    Probe::Http {
        urls,
        tls: Some(tls),
        protocol: HttpProtocol::Http10,
        virtualhost: virtualhost.map(str::to_owned),
    }
}

#[tokio::test]
async fn self_signed_certificate_is_accepted() {
    bounded(async {
        let server = HttpServer::start_tls(Answer::status("200 OK", "hello")).await;
        let mut u = url("/health");
        u.digest = Some(HELLO_MD5.to_owned());
        let report = run(
            &target(server.addr, LONG),
            &ssl(vec![u], Tls::default(), None),
        )
        .await;
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
        assert_eq!(seen[0].sni, None, "no SNI unless enable_sni");
    })
    .await;
}

#[tokio::test]
async fn status_and_reason_over_tls() {
    bounded(async {
        let server = HttpServer::start_tls(Answer::status("404 Not Found", "")).await;
        let report = run(
            &target(server.addr, LONG),
            &ssl(vec![url("/x")], Tls::default(), None),
        )
        .await;
        assert_eq!(
            report.outcome,
            Outcome::Down {
                reason: format!("GET https://{}/x: status 404 not in [200-299]", server.addr)
            }
        );
    })
    .await;
}

#[tokio::test]
async fn sni_follows_keepalived_s_precedence() {
    bounded(async {
        let server = HttpServer::start_tls(Answer::status("200 OK", "")).await;
        let t = target(server.addr, LONG);
        let with_vhost = {
            let mut u = url("/");
            u.virtualhost = Some("url.example".to_owned());
            u
        };

        // sni_name wins.
        let tls = Tls {
            enable_sni: true,
            sni_name: Some("sni.example".to_owned()),
        };
        let report = run(
            &t,
            &ssl(vec![with_vhost.clone()], tls, Some("checker.example")),
        )
        .await;
        assert_eq!(report.outcome, UP);
        // Then the URL's virtualhost, then the checker's.
        let on = Tls {
            enable_sni: true,
            sni_name: None,
        };
        let report = run(
            &t,
            &ssl(
                vec![with_vhost.clone()],
                on.clone(),
                Some("checker.example"),
            ),
        )
        .await;
        assert_eq!(report.outcome, UP);
        let report = run(
            &t,
            &ssl(vec![url("/")], on.clone(), Some("checker.example")),
        )
        .await;
        assert_eq!(report.outcome, UP);
        // Enabled with no name at all: nothing is sent.
        let report = run(&t, &ssl(vec![url("/")], on, None)).await;
        assert_eq!(report.outcome, UP);
        // Off: nothing is sent, whatever the virtual hosts.
        let report = run(
            &t,
            &ssl(vec![with_vhost], Tls::default(), Some("checker.example")),
        )
        .await;
        assert_eq!(report.outcome, UP);

        let sni: Vec<Option<String>> = server.seen().into_iter().map(|s| s.sni).collect();
        assert_eq!(
            sni,
            [
                Some("sni.example".to_owned()),
                Some("url.example".to_owned()),
                Some("checker.example".to_owned()),
                None,
                None
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn close_without_close_notify_is_an_end_of_body() {
    bounded(async {
        let server = HttpServer::start_tls(Answer::RawNoCloseNotify(
            b"HTTP/1.0 200 OK\r\n\r\nhello".to_vec(),
        ))
        .await;
        let mut u = url("/");
        u.digest = Some(HELLO_MD5.to_owned());
        let report = run(
            &target(server.addr, LONG),
            &ssl(vec![u], Tls::default(), None),
        )
        .await;
        assert_eq!(report.outcome, UP);
    })
    .await;
}

#[tokio::test]
async fn tls_to_a_plain_server_fails_the_handshake() {
    bounded(async {
        let server = HttpServer::start(Answer::status("200 OK", "")).await;
        let report = run(
            &target(server.addr, LONG),
            &ssl(vec![url("/")], Tls::default(), None),
        )
        .await;
        match report.outcome {
            Outcome::Down { reason } => assert!(
                reason.starts_with(&format!("GET https://{}/: TLS handshake: ", server.addr)),
                "{reason}"
            ),
            other => panic!("a plain server must fail the handshake: {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn a_silent_server_times_out_the_handshake() {
    bounded(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let report = run(
            &target(addr, SHORT),
            &ssl(vec![url("/")], Tls::default(), None),
        )
        .await;
        assert_eq!(
            report.outcome,
            Outcome::Down {
                reason: format!("GET https://{addr}/: TLS handshake: timed out after 300ms")
            }
        );
        drop(listener);
    })
    .await;
}
