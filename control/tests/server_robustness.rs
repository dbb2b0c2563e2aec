//! The server under bad input: random bytes, truncated frames, oversized
//! length prefixes, stalled and surplus clients, while a well-behaved
//! client keeps getting answers.

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{FakeBackend, Running, EMPTY};
use control::proto::{
    read_frame, read_message, write_frame, ErrorKind, RequestBody, Response, ResponseBody,
    MAX_FRAME,
};
use control::server::{Client, Server, ServerError, ServerOptions};

fn xorshift(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    x
}

fn response(stream: &mut UnixStream) -> Response {
    read_message(stream).expect("a response")
}

fn error_kind(r: &Response) -> ErrorKind {
    r.result.clone().expect_err("an error").code
}

fn quick() -> ServerOptions {
    ServerOptions {
        read_timeout: Duration::from_millis(500),
        ..ServerOptions::default()
    }
}

#[test]
fn bad_clients_do_not_disturb_a_good_one() {
    let b = FakeBackend::new(EMPTY);
    let r = Running::start(b, quick());
    let path = r.path.clone();
    let done = Arc::new(AtomicBool::new(false));
    let d2 = Arc::clone(&done);
    let good = std::thread::spawn(move || {
        let mut c = Client::connect(&path).unwrap();
        let mut n = 0u32;
        let mut reconnect_at = 20;
        while !d2.load(Ordering::Relaxed) {
            // A fresh connection now and then too.
            if n >= reconnect_at {
                c = Client::connect(&path).unwrap();
                reconnect_at = n + 20;
            }
            match c.call(RequestBody::GetTimeouts).unwrap() {
                ResponseBody::Timeouts(t) => assert_eq!(t.tcp, 900),
                other => panic!("{other:?}"),
            }
            n += 1;
        }
        n
    });

    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..50 {
        let mut s = UnixStream::connect(&r.path).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        match round % 5 {
            // Random body with a valid length: an error reply, and the
            // connection still answers.
            0 => {
                let len = (xorshift(&mut seed) % 512) as usize + 1;
                let body: Vec<u8> = (0..len).map(|_| xorshift(&mut seed) as u8).collect();
                write_frame(&mut s, &body, MAX_FRAME).unwrap();
                assert_eq!(error_kind(&response(&mut s)), ErrorKind::BadRequest);
                write_frame(&mut s, br#"{"version":1,"body":"GetTimeouts"}"#, MAX_FRAME).unwrap();
                assert!(response(&mut s).result.is_ok());
            }
            // Raw random bytes (random length prefix): an error reply or a
            // closed connection, never a hang of others.
            1 => {
                let body: Vec<u8> = (0..64).map(|_| xorshift(&mut seed) as u8).collect();
                let _ = s.write_all(&body);
                let _ = s.shutdown(std::net::Shutdown::Write);
                let mut rest = Vec::new();
                let _ = s.read_to_end(&mut rest);
            }
            // Oversized length prefix: an error reply, then closed.
            2 => {
                s.write_all(&u32::MAX.to_be_bytes()).unwrap();
                assert_eq!(error_kind(&response(&mut s)), ErrorKind::BadRequest);
                let mut rest = Vec::new();
                assert_eq!(s.read_to_end(&mut rest).unwrap(), 0);
            }
            // Truncated frame, then the client leaves.
            3 => {
                s.write_all(&100u32.to_be_bytes()).unwrap();
                s.write_all(b"{\"version\":1").unwrap();
                drop(s);
            }
            // Wrong version, bad JSON shape: errors, connection goes on.
            _ => {
                write_frame(&mut s, br#"{"version":99,"body":"List"}"#, MAX_FRAME).unwrap();
                assert_eq!(error_kind(&response(&mut s)), ErrorKind::Version);
                write_frame(&mut s, br#"{"version":1,"body":{"Nope":1}}"#, MAX_FRAME).unwrap();
                assert_eq!(error_kind(&response(&mut s)), ErrorKind::BadRequest);
                write_frame(&mut s, b"", MAX_FRAME).unwrap();
                assert_eq!(error_kind(&response(&mut s)), ErrorKind::BadRequest);
            }
        }
    }
    // A client stuck in the middle of a frame is dropped after the read
    // timeout, without blocking anyone meanwhile.
    let mut stuck = UnixStream::connect(&r.path).unwrap();
    stuck.write_all(&50u32.to_be_bytes()).unwrap();
    stuck.write_all(b"{").unwrap();
    let t0 = Instant::now();
    let mut rest = Vec::new();
    let _ = stuck.read_to_end(&mut rest);
    assert!(t0.elapsed() < Duration::from_secs(5));

    done.store(true, Ordering::Relaxed);
    let served = good.join().unwrap();
    assert!(served > 0);
    assert!(r.stats.refused.load(Ordering::Relaxed) >= 30);
}

#[test]
fn surplus_clients_are_turned_away() {
    let b = FakeBackend::new(EMPTY);
    let r = Running::start(
        b,
        ServerOptions {
            max_clients: 2,
            ..ServerOptions::default()
        },
    );
    let mut c1 = Client::connect(&r.path).unwrap();
    let mut c2 = Client::connect(&r.path).unwrap();
    c1.call(RequestBody::List).unwrap();
    c2.call(RequestBody::List).unwrap();
    let mut s3 = UnixStream::connect(&r.path).unwrap();
    s3.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(error_kind(&response(&mut s3)), ErrorKind::Busy);
    let mut rest = Vec::new();
    assert_eq!(s3.read_to_end(&mut rest).unwrap(), 0);
    // Once a client leaves, there is room again.
    drop(c1);
    let t0 = Instant::now();
    loop {
        let mut c = Client::connect(&r.path).unwrap();
        match c.call(RequestBody::List) {
            Ok(_) => break,
            Err(_) if t0.elapsed() < Duration::from_secs(5) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("{e}"),
        }
    }
    c2.call(RequestBody::List).unwrap();
}

#[test]
fn socket_file_mode_stale_socket_and_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/ctl.sock");
    let server = Server::bind(&path, 0o600, None).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // A second bind while the first listens is refused.
    assert!(matches!(
        Server::bind(&path, 0o600, None),
        Err(ServerError::InUse { .. })
    ));
    // Dropped without serving: the socket file stays, stale; a new bind
    // replaces it.
    drop(server);
    assert!(path.exists());
    let server = Server::bind(&path, 0o660, None).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    drop(server);
    assert!(matches!(
        Server::bind(&path, 0o600, Some("no-such-group-ferrovs")),
        Err(ServerError::UnknownGroup(_))
    ));
}

#[test]
fn serve_stops_and_removes_the_socket() {
    let b = FakeBackend::new(EMPTY);
    let mut r = Running::start(b, ServerOptions::default());
    let mut idle = UnixStream::connect(&r.path).unwrap();
    let mut c = Client::connect(&r.path).unwrap();
    c.call(RequestBody::List).unwrap();
    r.stop.store(true, Ordering::Relaxed);
    r.handle.take().unwrap().join().unwrap();
    assert!(!r.path.exists());
    let mut buf = Vec::new();
    assert_eq!(idle.read_to_end(&mut buf).unwrap_or(0), 0);
}

#[test]
fn frames_reject_oversize_and_truncation() {
    let mut big = Vec::new();
    big.extend_from_slice(&((MAX_FRAME as u32) + 1).to_be_bytes());
    assert!(read_frame(&mut big.as_slice(), MAX_FRAME).is_err());
    let mut trunc = Vec::new();
    trunc.extend_from_slice(&10u32.to_be_bytes());
    trunc.extend_from_slice(b"abc");
    assert!(read_frame(&mut trunc.as_slice(), MAX_FRAME).is_err());
    assert!(read_frame(&mut [0u8, 0].as_slice(), MAX_FRAME).is_err());
    let mut out = Vec::new();
    assert!(write_frame(&mut out, &vec![0u8; MAX_FRAME + 1], MAX_FRAME).is_err());
}
