//! `DNS_CHECK`.
//!
//! keepalived (check/check_dns.c `dns_connect_thread`, `dns_make_query`, `dns_send`,
//! `dns_recv_thread`): a UDP socket bound to `bindto`/`bind_port` when set and connected to
//! the server; one query with a random id, RD set, one question (`type`, class IN, `name`),
//! no EDNS. Then, until `connect_timeout` after the send, datagrams are read: one shorter than
//! a DNS header, with another id, or without the QR bit is ignored and the wait goes on; the
//! first real answer decides: rcode 0 (NOERROR) is up, anything else down. Only the header is
//! looked at, never the answer records. A read error (an ICMP port unreachable shows as
//! "connection refused" on a connected socket) is down. No resend within a probe: keepalived's
//! `retry` (3 by default for DNS_CHECK) is the caller's.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Instant;

use hickory_proto::op::{Header, Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use tokio::net::UdpSocket;

use crate::{describe_io, tcp, Human, Outcome, Target};

/// keepalived's accepted `type` names (`DNS_TYPE[]`).
const TYPES: [(&str, RecordType); 9] = [
    ("A", RecordType::A),
    ("NS", RecordType::NS),
    ("CNAME", RecordType::CNAME),
    ("SOA", RecordType::SOA),
    ("MX", RecordType::MX),
    ("TXT", RecordType::TXT),
    ("AAAA", RecordType::AAAA),
    ("RRSIG", RecordType::RRSIG),
    ("DNSKEY", RecordType::DNSKEY),
];

/// Room for any datagram: only the 12-byte header is read from it.
const RECV_BUFFER: usize = 4096;

/// The DNS header's size: shorter datagrams are ignored.
const HEADER_LEN: usize = 12;

pub(crate) async fn probe(target: &Target, qtype: &str, name: &str) -> Outcome {
    let shown_name = if name.is_empty() { "." } else { name };
    let what = format!("dns {} {qtype} {shown_name}", target.connect);
    let query = match build_query(qtype, name) {
        Ok(query) => query,
        Err(reason) => return Outcome::not_run(format!("{what}: {reason}")),
    };
    match exchange(target, &query).await {
        Ok(()) => Outcome::Up { weight: None },
        Err(Failure::Down(reason)) => Outcome::down(format!("{what}: {reason}")),
        Err(Failure::NotRun(reason)) => Outcome::not_run(format!("{what}: {reason}")),
    }
}

enum Failure {
    Down(String),
    NotRun(String),
}

/// The query datagram and its id.
struct Prepared {
    id: u16,
    bytes: Vec<u8>,
}

fn build_query(qtype: &str, name: &str) -> Result<Prepared, String> {
    let record_type = TYPES
        .iter()
        .find(|(label, _)| label.eq_ignore_ascii_case(qtype))
        .map(|(_, t)| *t)
        .ok_or_else(|| format!("unknown query type {qtype:?}"))?;
    let name = if name.is_empty() || name == "." {
        Name::root()
    } else {
        Name::from_ascii(name).map_err(|e| format!("invalid name {name:?}: {e}"))?
    };
    let id = random_id();
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name, record_type));
    let bytes = message
        .to_vec()
        .map_err(|e| format!("cannot encode query: {e}"))?;
    Ok(Prepared { id, bytes })
}

/// A fresh, unpredictable id per query (keepalived uses `random()`). std's hasher keys are
/// random per process and change with every `RandomState`, which is all this needs.
fn random_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (hasher.finish() & 0xffff) as u16
}

async fn exchange(target: &Target, query: &Prepared) -> Result<(), Failure> {
    let local = target.bind.unwrap_or(if target.connect.is_ipv4() {
        SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))
    } else {
        SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0))
    });
    // Socket and bind failures are keepalived's "UDP socket bind failed. Rescheduling.".
    let socket = UdpSocket::bind(local)
        .await
        .map_err(|e| Failure::NotRun(format!("bind {local}: {}", describe_io(&e))))?;
    // A UDP connect only sets the peer; it fails at once or not at all, and keepalived
    // sorts its errors as for TCP ("network unreachable" is a failure).
    socket.connect(target.connect).await.map_err(|e| {
        let reason = format!("connect {}: {}", target.connect, describe_io(&e));
        if tcp::is_failure_errno(&e) {
            Failure::Down(reason)
        } else {
            Failure::NotRun(reason)
        }
    })?;
    // The whole read phase has one deadline, counted from the send (`dns_send`).
    let deadline = Instant::now() + target.timeout;
    let sent = tokio::time::timeout_at(deadline.into(), socket.send(&query.bytes)).await;
    match sent {
        Ok(Ok(n)) if n == query.bytes.len() => {}
        Ok(Ok(n)) => {
            return Err(Failure::Down(format!(
                "sent {n} of {} bytes",
                query.bytes.len()
            )))
        }
        Ok(Err(e)) => return Err(Failure::Down(format!("send: {}", describe_io(&e)))),
        Err(_) => {
            return Err(Failure::Down(format!(
                "send timed out after {}",
                Human(target.timeout)
            )))
        }
    }
    let mut buffer = vec![0u8; RECV_BUFFER];
    loop {
        let received = tokio::time::timeout_at(deadline.into(), socket.recv(&mut buffer)).await;
        let len = match received {
            Ok(Ok(len)) => len,
            Ok(Err(e)) => return Err(Failure::Down(format!("read: {}", describe_io(&e)))),
            Err(_) => {
                return Err(Failure::Down(format!(
                    "no answer within {}",
                    Human(target.timeout)
                )))
            }
        };
        let Some(datagram) = buffer.get(..len) else {
            continue;
        };
        match judge(query.id, datagram) {
            Verdict::Ignore => continue,
            Verdict::Up => return Ok(()),
            Verdict::Down(reason) => return Err(Failure::Down(reason)),
        }
    }
}

enum Verdict {
    Ignore,
    Up,
    Down(String),
}

/// `dns_recv_thread`'s reading of one datagram.
fn judge(id: u16, datagram: &[u8]) -> Verdict {
    if datagram.len() < HEADER_LEN {
        return Verdict::Ignore;
    }
    let mut decoder = BinDecoder::new(datagram);
    let Ok(header) = Header::read(&mut decoder) else {
        return Verdict::Ignore;
    };
    if header.id != id || header.message_type != MessageType::Response {
        return Verdict::Ignore;
    }
    // The header's 4-bit rcode, as keepalived reads it (no EDNS extension).
    let rcode = u16::from(header.response_code.low());
    if rcode == 0 {
        Verdict::Up
    } else {
        Verdict::Down(format!("rcode {}", rcode_name(rcode)))
    }
}

/// RFC 1035 / 2136 names of the 4-bit rcodes.
fn rcode_name(rcode: u16) -> String {
    let name = match rcode {
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        other => return format!("{other}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_bytes_match_keepalived() {
        let q = build_query("soa", "").map_err(|e| e.to_string());
        let Ok(q) = q else {
            panic!("{q:?}", q = q.err());
        };
        let id = q.id.to_be_bytes();
        // id, flags RD, qd=1, an=ns=ar=0, root name, type SOA (6), class IN (1).
        let expected = [
            id[0], id[1], 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1,
        ];
        assert_eq!(q.bytes, expected);
        let Ok(q) = build_query("A", "example.com") else {
            panic!("build");
        };
        assert_eq!(&q.bytes[12..], b"\x07example\x03com\x00\x00\x01\x00\x01");
        assert!(build_query("SRV", ".").is_err());
        assert!(build_query("A", "a..b").is_err());
    }

    #[test]
    fn datagrams_judged_by_header() {
        let reply = |id: u16, flags: u16| {
            let mut d = Vec::new();
            d.extend_from_slice(&id.to_be_bytes());
            d.extend_from_slice(&flags.to_be_bytes());
            d.extend_from_slice(&[0; 8]);
            d
        };
        assert!(matches!(judge(7, &reply(7, 0x8180)), Verdict::Up));
        assert!(matches!(judge(7, &reply(8, 0x8180)), Verdict::Ignore));
        assert!(matches!(judge(7, &reply(7, 0x0100)), Verdict::Ignore));
        assert!(matches!(judge(7, &[0; 11]), Verdict::Ignore));
        match judge(7, &reply(7, 0x8182)) {
            Verdict::Down(r) => assert_eq!(r, "rcode SERVFAIL"),
            _ => panic!("SERVFAIL is down"),
        }
        match judge(7, &reply(7, 0x818f)) {
            Verdict::Down(r) => assert_eq!(r, "rcode 15"),
            _ => panic!("rcode 15 is down"),
        }
    }
}
