//! Loopback servers the probes are pointed at, recording what they received.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use health_probe::Target;
use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::rustls;

/// The timeout of probes that should succeed (never reached).
pub const LONG: Duration = Duration::from_secs(5);
/// The timeout of probes that are meant to time out.
pub const SHORT: Duration = Duration::from_millis(300);

pub fn target(connect: SocketAddr, timeout: Duration) -> Target {
    Target {
        connect,
        bind: None,
        timeout,
    }
}

/// Every test finishes in bounded time, whatever the code under test does.
pub async fn bounded<F: Future>(f: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(30), f).await {
        Ok(out) => out,
        Err(_) => panic!("test did not finish within 30s"),
    }
}

/// What the HTTP fixture does once it has read a request head.
#[derive(Clone, Debug)]
pub enum Answer {
    /// Writes these bytes, then closes (with close_notify over TLS).
    Raw(Vec<u8>),
    /// Writes these bytes, then drops the connection without close_notify (TLS) .
    RawNoCloseNotify(Vec<u8>),
    /// Writes these bytes, then holds the connection open without a word more.
    Stall(Vec<u8>),
    /// Never answers.
    Silent,
    /// Closes without answering.
    Close,
}

impl Answer {
    /// An HTTP/1.0 answer with this status line tail and body, with Content-Length.
    pub fn status(status: &str, body: &str) -> Answer {
        Answer::Raw(
            format!(
                "HTTP/1.0 {status}\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    }
}

/// One request as the fixture saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub request: String,
    pub peer: SocketAddr,
    pub sni: Option<String>,
}

/// A tiny HTTP/1 server (plain or TLS) on 127.0.0.1 that answers every connection alike.
pub struct HttpServer {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        // Dropping the accept task drops its JoinSet, which aborts every connection task.
        self.task.abort();
    }
}

impl HttpServer {
    pub async fn start(answer: Answer) -> HttpServer {
        Self::start_on(answer, None).await
    }

    pub async fn start_tls(answer: Answer) -> HttpServer {
        Self::start_on(answer, Some(tls_acceptor())).await
    }

    async fn start_on(answer: Answer, tls: Option<tokio_rustls::TlsAcceptor>) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fixture");
        let addr = listener.local_addr().expect("fixture address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            let mut connections = JoinSet::new();
            loop {
                let Ok((tcp, peer)) = listener.accept().await else {
                    return;
                };
                let answer = answer.clone();
                let log = log.clone();
                let tls = tls.clone();
                connections.spawn(async move {
                    match tls {
                        None => {
                            let (request, stream) = read_head(tcp).await;
                            record(&log, request, peer, None);
                            respond(stream, &answer).await;
                        }
                        Some(acceptor) => {
                            let Ok(stream) = acceptor.accept(tcp).await else {
                                return;
                            };
                            let sni = stream.get_ref().1.server_name().map(str::to_owned);
                            let (request, stream) = read_head(stream).await;
                            record(&log, request, peer, sni);
                            respond(stream, &answer).await;
                        }
                    }
                });
            }
        });
        HttpServer { addr, seen, task }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

fn record(log: &Mutex<Vec<Seen>>, request: Vec<u8>, peer: SocketAddr, sni: Option<String>) {
    if let Ok(mut log) = log.lock() {
        log.push(Seen {
            request: String::from_utf8_lossy(&request).into_owned(),
            peer,
            sni,
        });
    }
}

/// Reads up to the end of the request head (or EOF).
async fn read_head<S: AsyncRead + Unpin>(mut stream: S) -> (Vec<u8>, S) {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65536 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    (request, stream)
}

async fn respond<S: AsyncWrite + Unpin>(mut stream: S, answer: &Answer) {
    match answer {
        Answer::Raw(bytes) => {
            let _ = stream.write_all(bytes).await;
            let _ = stream.shutdown().await;
        }
        Answer::RawNoCloseNotify(bytes) => {
            let _ = stream.write_all(bytes).await;
            let _ = stream.flush().await;
            // Dropped without shutdown: TCP FIN, no TLS close_notify.
        }
        Answer::Stall(bytes) => {
            let _ = stream.write_all(bytes).await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Answer::Silent => tokio::time::sleep(Duration::from_secs(60)).await,
        Answer::Close => {}
    }
}

/// A TLS acceptor with a certificate made now, self-signed, for "localhost".
fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("rcgen");
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("server cert");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// What the DNS fixture answers.
#[derive(Clone, Copy, Debug)]
pub enum DnsAnswer {
    /// A response with this rcode.
    Rcode(ResponseCode),
    /// A NOERROR response with the id off by one.
    WrongId,
    /// The right id but the QR bit clear.
    NoQr,
    /// First a wrong id, then the right answer: the first must be ignored.
    WrongIdThenRight,
    /// Nothing.
    Silent,
}

/// A one-socket UDP DNS responder on 127.0.0.1 that records every query it gets.
pub struct DnsServer {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<(SocketAddr, Message)>>>,
    task: JoinHandle<()>,
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DnsServer {
    pub async fn start(answer: DnsAnswer) -> DnsServer {
        let socket = UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind dns fixture");
        let addr = socket.local_addr().expect("dns fixture address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            loop {
                let Ok((len, peer)) = socket.recv_from(&mut buf).await else {
                    return;
                };
                let Ok(query) = Message::from_vec(&buf[..len]) else {
                    continue;
                };
                if let Ok(mut log) = log.lock() {
                    log.push((peer, query.clone()));
                }
                let id = query.metadata.id;
                let reply = |id: u16, qr: bool, rcode: ResponseCode| {
                    let kind = if qr {
                        MessageType::Response
                    } else {
                        MessageType::Query
                    };
                    let mut m = Message::new(id, kind, OpCode::Query);
                    m.metadata.response_code = rcode;
                    m.metadata.recursion_desired = query.metadata.recursion_desired;
                    m.add_queries(query.queries.iter().cloned());
                    m.to_vec().expect("encode reply")
                };
                let datagrams = match answer {
                    DnsAnswer::Rcode(rcode) => vec![reply(id, true, rcode)],
                    DnsAnswer::WrongId => {
                        vec![reply(id.wrapping_add(1), true, ResponseCode::NoError)]
                    }
                    DnsAnswer::NoQr => vec![reply(id, false, ResponseCode::NoError)],
                    DnsAnswer::WrongIdThenRight => vec![
                        reply(id.wrapping_add(1), true, ResponseCode::ServFail),
                        reply(id, true, ResponseCode::NoError),
                    ],
                    DnsAnswer::Silent => vec![],
                };
                for d in datagrams {
                    let _ = socket.send_to(&d, peer).await;
                }
            }
        });
        DnsServer { addr, seen, task }
    }

    pub fn seen(&self) -> Vec<(SocketAddr, Message)> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}
