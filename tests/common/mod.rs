//! Shared pieces of the replay tests: frame builders, an independent
//! checksum check, and a runner for `ferrovs replay`.
#![allow(dead_code)]
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use dataplane::pcap::{PcapReader, PcapWriter};

pub const DIRECTOR_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
pub const CLIENT_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xc2];
pub const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
pub const DIRECTOR_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const RS: [Ipv4Addr; 3] = [
    Ipv4Addr::new(10, 1, 0, 11),
    Ipv4Addr::new(10, 1, 0, 12),
    Ipv4Addr::new(10, 1, 0, 13),
];
pub const RS_MAC: [[u8; 6]; 3] = [
    [2, 0, 0, 0, 1, 0x11],
    [2, 0, 0, 0, 1, 0x12],
    [2, 0, 0, 0, 1, 0x13],
];

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const RST: u8 = 0x04;
pub const FIN: u8 = 0x01;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One's-complement sum, written here independently of the dataplane's code.
pub fn csum(data: &[u8], initial: u32) -> u16 {
    let mut sum = initial;
    for chunk in data.chunks(2) {
        let w = if chunk.len() == 2 {
            u16::from_be_bytes([chunk[0], chunk[1]])
        } else {
            u16::from(chunk[0]) << 8
        };
        sum += u32::from(w);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn pseudo(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let s = src.octets();
    let d = dst.octets();
    u32::from(u16::from_be_bytes([s[0], s[1]]))
        + u32::from(u16::from_be_bytes([s[2], s[3]]))
        + u32::from(u16::from_be_bytes([d[0], d[1]]))
        + u32::from(u16::from_be_bytes([d[2], d[3]]))
        + u32::from(proto)
        + len as u32
}

pub fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut h = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0x12,
        0x34,
        0x40,
        0,
        64,
        proto,
        0,
        0,
    ];
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    let c = csum(&h, 0);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

pub fn tcp(
    src: Ipv4Addr,
    sport: u16,
    dst: Ipv4Addr,
    dport: u16,
    flags: u8,
    seq: u32,
    payload: &[u8],
) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    // Data offset 6: one MSS option, as real SYNs carry.
    t.extend_from_slice(&[0x60, flags, 0xfa, 0xf0, 0, 0, 0, 0]);
    t.extend_from_slice(&[2, 4, 0x05, 0xb4]);
    t.extend_from_slice(payload);
    let c = csum(&t, pseudo(src, dst, 6, t.len()));
    t[16..18].copy_from_slice(&c.to_be_bytes());
    t
}

pub fn tcp_frame(
    src_mac: [u8; 6],
    src: Ipv4Addr,
    sport: u16,
    dst: Ipv4Addr,
    dport: u16,
    flags: u8,
) -> Vec<u8> {
    eth(
        DIRECTOR_MAC,
        src_mac,
        0x0800,
        &ipv4(src, dst, 6, &tcp(src, sport, dst, dport, flags, 1000, &[])),
    )
}

/// The client's ACK to `dst:80` from `sport` carrying `len` bytes of data
/// (DF set, as `ipv4` builds it).
pub fn tcp_data_frame(dst: Ipv4Addr, sport: u16, len: usize) -> Vec<u8> {
    let seg = tcp(CLIENT, sport, dst, 80, ACK, 1001, &vec![0x55; len]);
    eth(
        DIRECTOR_MAC,
        CLIENT_MAC,
        0x0800,
        &ipv4(CLIENT, dst, 6, &seg),
    )
}

pub fn arp_request(sender_mac: [u8; 6], sender: Ipv4Addr, target: Ipv4Addr) -> Vec<u8> {
    let mut a = vec![0, 1, 8, 0, 6, 4, 0, 1];
    a.extend_from_slice(&sender_mac);
    a.extend_from_slice(&sender.octets());
    a.extend_from_slice(&[0; 6]);
    a.extend_from_slice(&target.octets());
    a.resize(46, 0);
    eth([0xff; 6], sender_mac, 0x0806, &a)
}

pub fn icmp_echo(src: Ipv4Addr, dst: Ipv4Addr, id: u16, seq: u16) -> Vec<u8> {
    let mut m = vec![8, 0, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(b"ferrovs-ping-payload");
    let c = csum(&m, 0);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    eth(DIRECTOR_MAC, CLIENT_MAC, 0x0800, &ipv4(src, dst, 1, &m))
}

/// A parsed IPv4/TCP frame as the tests check it.
#[derive(Debug)]
pub struct Seen {
    pub dst_mac: [u8; 6],
    pub src_mac: [u8; 6],
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub sport: u16,
    pub dport: u16,
    pub flags: u8,
    pub ttl: u8,
    pub ip_csum_ok: bool,
    pub l4_csum_ok: bool,
}

pub fn parse_tcp(f: &[u8]) -> Seen {
    assert_eq!(&f[12..14], &[8, 0], "not IPv4");
    let ip = &f[14..];
    let ihl = usize::from(ip[0] & 0xf) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]);
    let l4 = &ip[ihl..total];
    Seen {
        dst_mac: f[0..6].try_into().unwrap(),
        src_mac: f[6..12].try_into().unwrap(),
        src,
        dst,
        sport: u16::from_be_bytes([l4[0], l4[1]]),
        dport: u16::from_be_bytes([l4[2], l4[3]]),
        flags: l4[13],
        ttl: ip[8],
        ip_csum_ok: csum(&ip[..ihl], 0) == 0,
        l4_csum_ok: csum(l4, pseudo(src, dst, ip[9], l4.len())) == 0,
    }
}

pub struct Replay {
    pub out: Vec<(u64, Vec<u8>)>,
    /// What went to the kernel twins (`--host-out`).
    pub host: Vec<(u64, Vec<u8>)>,
    pub report: serde_json::Value,
    pub stdout: String,
}

/// Writes `frames` (timestamp ns, bytes) to a pcap, runs `ferrovs replay`
/// with `config`, and returns the output frames, the frames for the kernel
/// twins and the JSON report.
pub fn replay(config: &Path, frames: &[(u64, Vec<u8>)]) -> Replay {
    let dir = tempdir();
    let input = dir.join("in.pcap");
    let output = dir.join("out.pcap");
    let report = dir.join("report.json");
    let host = dir.join("host.pcap");
    let mut w = PcapWriter::new(std::fs::File::create(&input).unwrap()).unwrap();
    for (ts, f) in frames {
        w.write(*ts, f).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let o = Command::new(env!("CARGO_BIN_EXE_ferrovs"))
        .args(["replay", "--config"])
        .arg(config)
        .arg("--in")
        .arg(&input)
        .arg("--out")
        .arg(&output)
        .arg("--report")
        .arg(&report)
        .arg("--host-out")
        .arg(&host)
        .output()
        .expect("running ferrovs replay");
    assert!(
        o.status.success(),
        "replay failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = read_pcap(&output);
    let host = read_pcap(&host);
    let report = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    Replay {
        out,
        host,
        report,
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
    }
}

pub fn tempdir() -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "ferrovs-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn read_pcap(path: &Path) -> Vec<(u64, Vec<u8>)> {
    let mut r = PcapReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        out.push((rec.ts_nanos, rec.data));
    }
    out
}

pub fn nat_config() -> PathBuf {
    repo().join("configs/replay-nat.yaml")
}

pub fn drops(r: &serde_json::Value, reason: &str) -> u64 {
    r["drops"][reason].as_u64().unwrap_or(0)
}

/// A UDP datagram (payload "ping", UDP checksum 0) from `src:sport` to `dst:dport`.
pub fn udp_frame(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&12u16.to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(b"ping");
    eth(DIRECTOR_MAC, CLIENT_MAC, 0x0800, &ipv4(src, dst, 17, &u))
}
