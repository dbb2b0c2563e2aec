//! TCP_CHECK: up, refused, timed out, and the source address.

use std::time::Duration;

use health_probe::{run, Outcome, Probe, Target};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::fixtures::{bounded, target, LONG, SHORT};

#[tokio::test]
async fn up_when_the_connect_completes() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let report = run(&target(addr, LONG), &Probe::Tcp).await;
        assert_eq!(report.outcome, Outcome::Up { weight: None });
        assert!(report.latency < LONG);
    })
    .await;
}

#[tokio::test]
async fn down_when_refused() {
    bounded(async {
        // Bound but not listening: the port stays ours, and a SYN to it gets a RST.
        let socket = TcpSocket::new_v4().expect("socket");
        socket
            .bind("127.0.0.1:0".parse().expect("addr"))
            .expect("bind");
        let addr = socket.local_addr().expect("addr");
        let report = run(&target(addr, LONG), &Probe::Tcp).await;
        assert_eq!(
            report.outcome,
            Outcome::Down {
                reason: format!("connect {addr}: connection refused")
            }
        );
    })
    .await;
}

#[tokio::test]
async fn down_when_the_connect_times_out() {
    bounded(async {
        // A listener that never accepts, with the smallest backlog: once its accept queue is
        // full the kernel drops further SYNs, so a connect hangs until its timeout.
        let socket = TcpSocket::new_v4().expect("socket");
        socket
            .bind("127.0.0.1:0".parse().expect("addr"))
            .expect("bind");
        let addr = socket.local_addr().expect("addr");
        let _listener = socket.listen(0).expect("listen");
        let mut fillers = Vec::new();
        for _ in 0..8 {
            match tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => fillers.push(stream),
                _ => break,
            }
        }
        let report = run(&target(addr, SHORT), &Probe::Tcp).await;
        assert_eq!(
            report.outcome,
            Outcome::Down {
                reason: format!("connect {addr}: timed out after 300ms")
            }
        );
        assert!(report.latency >= SHORT);
    })
    .await;
}

#[tokio::test]
async fn binds_the_source_address() {
    bounded(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let probe = Target {
            connect: addr,
            bind: Some("127.0.0.2:0".parse().expect("addr")),
            timeout: LONG,
        };
        let (report, accepted) = tokio::join!(run(&probe, &Probe::Tcp), listener.accept());
        assert_eq!(report.outcome, Outcome::Up { weight: None });
        let (_, peer) = accepted.expect("accept");
        assert_eq!(peer.ip().to_string(), "127.0.0.2");
    })
    .await;
}

#[tokio::test]
async fn not_run_when_the_bind_fails() {
    bounded(async {
        // The bind address is taken (no SO_REUSEADDR, as keepalived): a local problem,
        // which keepalived only logs and reschedules.
        let taken = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let taken_addr = taken.local_addr().expect("addr");
        let server = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let probe = Target {
            connect: server.local_addr().expect("addr"),
            bind: Some(taken_addr),
            timeout: LONG,
        };
        let report = run(&probe, &Probe::Tcp).await;
        assert_eq!(
            report.outcome,
            Outcome::NotRun {
                reason: format!("bind {taken_addr}: address already in use")
            }
        );
    })
    .await;
}
