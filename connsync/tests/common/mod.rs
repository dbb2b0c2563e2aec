//! Shared by the integration tests: the independent Python decoder and
//! sample connections.
#![allow(dead_code)]

pub mod json;

use connsync::*;
use json::Json;
use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

/// Runs tests/kernel_format.py on `d`; `Err` carries its complaint.
pub fn kernel_decode(d: &[u8]) -> Result<Json, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/kernel_format.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(hex.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(Json::parse(&String::from_utf8(out.stdout).unwrap()))
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// An established TCP connection through DR.
pub fn tcp(n: u8) -> SyncConn {
    SyncConn {
        protocol: PROTO_TCP,
        flags: FWD_DROUTE,
        state: tcp_state::ESTABLISHED,
        cport: 40000 + u16::from(n),
        vport: 80,
        dport: 8080,
        fwmark: 0,
        timeout_s: 900,
        caddr: Ipv4Addr::new(198, 51, 100, n),
        vaddr: Ipv4Addr::new(192, 0, 2, 10),
        daddr: Ipv4Addr::new(10, 0, 0, 2),
        in_seq: None,
        out_seq: None,
        fullnat: None,
    }
}

/// A NAT connection with sequence adjustments (an FTP control connection).
pub fn with_seq(n: u8) -> SyncConn {
    SyncConn {
        flags: FWD_MASQ | F_IN_SEQ | F_OUT_SEQ,
        dport: 21,
        vport: 21,
        in_seq: Some(SeqOpt {
            init_seq: 0x1122_3344,
            delta: 5,
            previous_delta: 0xffff_fffe,
        }),
        out_seq: Some(SeqOpt {
            init_seq: 0xa0b0_c0d0,
            delta: 0x8000_0000,
            previous_delta: 7,
        }),
        ..tcp(n)
    }
}

/// A persistence template as ip_vs_sched_persist makes one: cport 0, the
/// masked client network, flags TEMPLATE plus what the real server adds
/// (its forwarding method and INACTIVE, ip_vs_bind_dest), state ASSURED,
/// timeout the service's persistence timeout.
pub fn template() -> SyncConn {
    SyncConn {
        protocol: PROTO_TCP,
        flags: F_TEMPLATE | F_INACTIVE | FWD_DROUTE,
        state: tpl_state::ASSURED,
        cport: 0,
        vport: 443,
        dport: 443,
        fwmark: 0,
        timeout_s: 360,
        caddr: Ipv4Addr::new(198, 51, 100, 0),
        vaddr: Ipv4Addr::new(192, 0, 2, 10),
        daddr: Ipv4Addr::new(10, 0, 0, 3),
        in_seq: None,
        out_seq: None,
        fullnat: None,
    }
}

/// A ferrovs FullNAT connection.
pub fn fullnat(n: u8) -> SyncConn {
    SyncConn {
        flags: FWD_FULLNAT,
        fullnat: Some((Ipv4Addr::new(10, 0, 0, 250), 61000 + u16::from(n))),
        ..tcp(n)
    }
}

/// Compares one Python-decoded v1 entry with the connection that went in.
pub fn assert_entry_eq(e: &Json, c: &SyncConn) {
    assert_eq!(e.get("type").u64(), 0, "type");
    assert_eq!(e.get("ver").u64(), 0, "entry version");
    assert_eq!(e.get("protocol").u64(), u64::from(c.protocol), "protocol");
    assert_eq!(
        e.get("flags").u64(),
        u64::from(c.flags & !F_HASHED),
        "flags"
    );
    assert_eq!(e.get("state").u64(), u64::from(c.state), "state");
    assert_eq!(e.get("cport").u64(), u64::from(c.cport), "cport");
    assert_eq!(e.get("vport").u64(), u64::from(c.vport), "vport");
    assert_eq!(e.get("dport").u64(), u64::from(c.dport), "dport");
    assert_eq!(e.get("fwmark").u64(), u64::from(c.fwmark), "fwmark");
    assert_eq!(e.get("timeout").u64(), u64::from(c.timeout_s), "timeout");
    assert_eq!(e.get("caddr").str(), c.caddr.to_string(), "caddr");
    assert_eq!(e.get("vaddr").str(), c.vaddr.to_string(), "vaddr");
    assert_eq!(e.get("daddr").str(), c.daddr.to_string(), "daddr");
    let mut size = 36;
    match (c.in_seq, c.out_seq) {
        (None, None) => assert!(e.get("seq").is_null(), "no seq option"),
        (i, o) => {
            let s = e.get("seq");
            assert_seq(s.get("in"), i.unwrap_or_default());
            assert_seq(s.get("out"), o.unwrap_or_default());
            size += 26;
        }
    }
    match c.fullnat {
        None => assert!(e.get("fullnat").is_null(), "no fullnat option"),
        Some((a, p)) => {
            let f = e.get("fullnat");
            assert_eq!(f.get("laddr").str(), a.to_string());
            assert_eq!(f.get("lport").u64(), u64::from(p));
            size += 8;
        }
    }
    assert_eq!(e.get("size").u64(), size, "entry size");
}

fn assert_seq(j: &Json, s: SeqOpt) {
    assert_eq!(j.get("init_seq").u64(), u64::from(s.init_seq));
    assert_eq!(j.get("delta").u64(), u64::from(s.delta));
    assert_eq!(j.get("previous_delta").u64(), u64::from(s.previous_delta));
}
