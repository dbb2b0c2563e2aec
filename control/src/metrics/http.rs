//! A tiny HTTP/1.1 responder for `GET /metrics` on a std `TcpListener`:
//! one thread per connection, a bounded number of them, bounded request
//! heads and read timeouts. Each response closes its connection.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Produces the exposition text on each scrape.
pub trait MetricsSource: Send + Sync + 'static {
    fn render(&self) -> String;
}

impl<F: Fn() -> String + Send + Sync + 'static> MetricsSource for F {
    fn render(&self) -> String {
        self()
    }
}

/// Largest request head read.
const MAX_HEAD: usize = 8192;
/// Connections served at once; more get 503.
const MAX_CONNS: usize = 16;
const TIMEOUT: Duration = Duration::from_secs(5);

/// A bound metrics listener.
pub struct MetricsServer {
    listener: TcpListener,
}

impl MetricsServer {
    pub fn bind(addr: SocketAddr) -> io::Result<MetricsServer> {
        Ok(MetricsServer {
            listener: TcpListener::bind(addr)?,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `stop` is set.
    pub fn serve<S: MetricsSource>(self, source: Arc<S>, stop: Arc<AtomicBool>) -> io::Result<()> {
        self.listener.set_nonblocking(true)?;
        let active = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    threads.retain(|h: &std::thread::JoinHandle<()>| !h.is_finished());
                    let _ = stream.set_nonblocking(false);
                    let _ = stream.set_read_timeout(Some(TIMEOUT));
                    let _ = stream.set_write_timeout(Some(TIMEOUT));
                    if active.fetch_add(1, Ordering::SeqCst) >= MAX_CONNS {
                        active.fetch_sub(1, Ordering::SeqCst);
                        let mut s = stream;
                        let _ = respond(
                            &mut s,
                            "503 Service Unavailable",
                            "text/plain",
                            b"busy\n",
                            true,
                        );
                        continue;
                    }
                    let source = Arc::clone(&source);
                    let active2 = Arc::clone(&active);
                    let spawned = std::thread::Builder::new()
                        .name("ferrovs-metrics".into())
                        .spawn(move || {
                            handle(stream, &*source);
                            active2.fetch_sub(1, Ordering::SeqCst);
                        });
                    match spawned {
                        Ok(h) => threads.push(h),
                        Err(_) => {
                            active.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::warn!("metrics accept: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        for h in threads {
            let _ = h.join();
        }
        Ok(())
    }
}

fn respond(
    s: &mut TcpStream,
    status: &str,
    ctype: &str,
    body: &[u8],
    with_body: bool,
) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if status.starts_with("405") {
        out.push_str("Allow: GET, HEAD\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if with_body {
        bytes.extend_from_slice(body);
    }
    s.write_all(&bytes)?;
    s.flush()
}

/// Reads the request head (up to the blank line).
fn read_head(s: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        if head.len() >= MAX_HEAD {
            return None;
        }
        let n = s.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(head).ok()
}

/// Reads and discards what the client still sends (bounded), so that
/// closing does not reset the connection before it reads the response.
fn drain(s: &mut TcpStream) {
    let _ = s.shutdown(std::net::Shutdown::Write);
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 4096];
    let mut total = 0;
    while total < 256 * 1024 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => total += n,
        }
    }
}

fn handle<S: MetricsSource + ?Sized>(mut s: TcpStream, source: &S) {
    let Some(head) = read_head(&mut s) else {
        let _ = respond(
            &mut s,
            "400 Bad Request",
            "text/plain",
            b"bad request\n",
            true,
        );
        drain(&mut s);
        return;
    };
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let head_only = method == "HEAD";
    let _ = match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            let body = source.render();
            respond(
                &mut s,
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                body.as_bytes(),
                !head_only,
            )
        }
        ("GET" | "HEAD", _) => respond(
            &mut s,
            "404 Not Found",
            "text/plain",
            b"see /metrics\n",
            !head_only,
        ),
        ("", _) => respond(
            &mut s,
            "400 Bad Request",
            "text/plain",
            b"bad request\n",
            true,
        ),
        _ => respond(
            &mut s,
            "405 Method Not Allowed",
            "text/plain",
            b"method not allowed\n",
            true,
        ),
    };
}
