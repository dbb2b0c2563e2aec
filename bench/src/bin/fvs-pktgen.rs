//! fvs-pktgen: a DPDK traffic generator + sink, and a reflector ("bounce"),
//! for the memif packet-rate harness (scripts/bench.sh).
//!
//!   fvs-pktgen gen --dev DEVARGS [--core 0] [--modes nat,fullnat,dr,tun|bounce]
//!                  [--flows 4096] [--seconds 5] [--warmup 1] [--json PATH]
//!       memif client: per mode opens `flows` connections through the director
//!       (SYN, and for NAT/FullNAT the real server's SYN-ACK), then sends
//!       64-byte ACKs of those established flows as fast as the ring takes
//!       them and counts what comes back, for a fixed time. Mode `bounce`
//!       skips the handshake (the reflector returns every frame). Frames
//!       longer than the generator's own (a host-path twin's kernel traffic
//!       leaving the same port) are counted apart, as `rx_other_packets`.
//!   fvs-pktgen bounce --dev DEVARGS [--core 1] [--seconds 60]
//!       memif server that swaps the MAC addresses of every frame and sends it
//!       back: the I/O ceiling of this path.
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use dataplane::Frame;
use ferrovs::dpdk::ethdev::QueuePair;
use ferrovs::dpdk::{Eal, EthPort, Mbuf, Mempool};
use fvs_bench::frames::{self, Flow, ACK, SYN, SYN_ACK};
use serde::Serialize;

const DIRECTOR_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const GATEWAY_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xfe];
const BURST: usize = 32;
/// Longest frame of the generator's own traffic coming back (64-byte frames,
/// 84 once IPIP-, GUE- or GRE-encapsulated). Longer ones are someone else's:
/// the kernel's, sent out of the director's port through its host-path twin.
const OWN_MAX_LEN: usize = 256;
/// IEEE local experimental ethertype: the generator's "stop" frame, on which
/// the reflector exits (before the client disconnects; the director drops it).
const STOP_ETHERTYPE: [u8; 2] = [0x88, 0xb5];

use fvs_bench::args::{arg, num};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("gen") => gen(&args[1..]),
        Some("bounce") => bounce(&args[1..]),
        _ => {
            eprintln!(
                "usage: fvs-pktgen gen --dev DEVARGS [--core 0] [--modes nat,fullnat,dr,tun|bounce] [--flows N] [--seconds S] [--warmup S] [--json PATH]\n       fvs-pktgen bounce --dev DEVARGS [--core 1] [--seconds S]"
            );
            std::process::exit(2)
        }
    }
}

/// EAL + pool + the single memif port, polled from the main lcore.
struct Port {
    // Field order is drop order: queue, port and pool before the EAL.
    q: QueuePair,
    port: EthPort,
    pool: Arc<Mempool>,
    _eal: Eal,
}

fn open(dev: &str, core: u64, pool_name: &str) -> Result<Port> {
    let args: Vec<String> = [
        "-l",
        &core.to_string(),
        "--in-memory",
        "--no-pci",
        "--no-telemetry",
        "--log-level",
        "*:warning",
        "--vdev",
        dev,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let eal = Eal::init(&args).context("EAL init")?;
    let pool = Arc::new(Mempool::new(&eal, pool_name, 32767, 256, eal.socket_id())?);
    let name = dev.split(',').next().unwrap_or(dev);
    let port = EthPort::open(&eal, name, 1, pool.clone()).context("opening the memif port")?;
    let q = port.queue_pair(0).ok_or_else(|| anyhow!("no queue 0"))?;
    Ok(Port {
        q,
        port,
        pool,
        _eal: eal,
    })
}

impl Port {
    fn mbuf(&self, bytes: &[u8]) -> Option<Mbuf> {
        let mut m = self.pool.alloc()?;
        if !m.append(bytes.len()) {
            return None;
        }
        m.data_mut().copy_from_slice(bytes);
        Some(m)
    }
}

#[derive(Serialize, Default, Clone)]
struct ModeResult {
    mode: String,
    flows: u64,
    /// Flows whose handshake came back through the director during setup.
    opened: u64,
    seconds: f64,
    /// Frames the memif ring accepted from the generator.
    tx_packets: u64,
    /// Frames that came back (forwarded by the director / reflected).
    rx_packets: u64,
    /// Frames longer than `OWN_MAX_LEN` received meanwhile (not in `rx_packets`).
    rx_other_packets: u64,
    tx_mpps: f64,
    rx_mpps: f64,
    frame_bytes: usize,
}

#[derive(Serialize)]
struct GenReport {
    dev: String,
    core: u64,
    burst: usize,
    results: Vec<ModeResult>,
}

/// The VIP and client range of each mode (distinct, so modes don't share flows).
fn mode_params(mode: &str) -> Result<(Ipv4Addr, u32, bool)> {
    Ok(match mode {
        "nat" | "bounce" => (Ipv4Addr::new(10, 0, 0, 100), 0xac10_0000, true),
        "fullnat" => (Ipv4Addr::new(10, 0, 0, 101), 0xac11_0000, true),
        "dr" => (Ipv4Addr::new(10, 0, 0, 102), 0xac12_0000, false),
        "tun" => (Ipv4Addr::new(10, 0, 0, 103), 0xac13_0000, false),
        m => bail!("unknown mode {m:?}"),
    })
}

fn client_flow(base: u32, vip: Ipv4Addr, i: u32) -> Flow {
    Flow {
        src: Ipv4Addr::from(base | (i >> 10)),
        sport: 20_000 + (i & 0x3ff) as u16,
        dst: vip,
        dport: 80,
    }
}

fn gen(args: &[String]) -> Result<()> {
    let dev = arg(args, "--dev").context("--dev DEVARGS is required")?;
    let core = num(args, "--core", 0)?;
    let flows = num(args, "--flows", 4096)?.clamp(1, 1 << 20) as u32;
    let seconds = num(args, "--seconds", 5)?;
    let warmup = num(args, "--warmup", 1)?;
    let modes: Vec<&str> = arg(args, "--modes")
        .unwrap_or("nat,fullnat,dr,tun")
        .split(',')
        .collect();
    let mut p = open(dev, core, "fvs_pktgen")?;
    wait_link(&mut p, Duration::from_secs(15))?;
    let mut results = Vec::new();
    for mode in modes {
        let (vip, base, two_way) = mode_params(mode)?;
        let opened = if mode == "bounce" {
            flows as u64
        } else {
            handshake(&mut p, vip, base, two_way, flows)?
        };
        eprintln!("fvs-pktgen: {mode}: {opened}/{flows} flows opened");
        let templates: Vec<Vec<u8>> = (0..flows)
            .map(|i| {
                frames::tcp_frame(
                    DIRECTOR_MAC,
                    GATEWAY_MAC,
                    client_flow(base, vip, i),
                    ACK,
                    1001,
                )
            })
            .collect();
        let r = blast(&mut p, mode, &templates, warmup, seconds)?;
        let r = ModeResult { opened, ..r };
        println!(
            "fvs-pktgen mode={} flows={} opened={} seconds={:.2} tx_mpps={:.3} rx_mpps={:.3} rx_other={}",
            r.mode, r.flows, r.opened, r.seconds, r.tx_mpps, r.rx_mpps, r.rx_other_packets
        );
        results.push(r);
    }
    send_stop(&mut p);
    let report = GenReport {
        dev: dev.into(),
        core,
        burst: BURST,
        results,
    };
    if let Some(path) = arg(args, "--json") {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("writing {path}"))?;
    }
    drop(p);
    Ok(())
}

/// Tells a reflector to exit, then gives it time to do so before this
/// process (the memif client) disconnects.
fn send_stop(p: &mut Port) {
    let mut f = vec![0u8; frames::MIN_FRAME];
    f[..6].copy_from_slice(&DIRECTOR_MAC);
    f[6..12].copy_from_slice(&GATEWAY_MAC);
    f[12..14].copy_from_slice(&STOP_ETHERTYPE);
    if let Some(m) = p.mbuf(&f) {
        p.q.tx(&mut vec![m]);
    }
    std::thread::sleep(Duration::from_millis(500));
}

/// Sends one probe frame until the ring takes it (memif connected).
fn wait_link(p: &mut Port, within: Duration) -> Result<()> {
    let start = Instant::now();
    let probe = frames::tcp_frame(
        [2, 0, 0, 0, 0, 0xee],
        GATEWAY_MAC,
        client_flow(0xac1f_0000, Ipv4Addr::new(10, 0, 0, 99), 0),
        ACK,
        1,
    );
    let mut rx = Vec::with_capacity(BURST);
    while start.elapsed() < within {
        if let Some(m) = p.mbuf(&probe) {
            let mut v = vec![m];
            if p.q.tx(&mut v) == 0 {
                std::thread::sleep(Duration::from_millis(200));
                p.q.rx(&mut rx, BURST);
                rx.clear();
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("memif did not connect within {within:?} (is the server running?)")
}

/// Opens `flows` connections: client SYNs; for two-way modes the real
/// server's SYN-ACK is built from each forwarded SYN and sent back. Returns
/// how many handshakes were seen through the director.
fn handshake(p: &mut Port, vip: Ipv4Addr, base: u32, two_way: bool, flows: u32) -> Result<u64> {
    let mut opened = 0u64;
    let mut next = 0u32;
    let mut rx: Vec<Mbuf> = Vec::with_capacity(BURST);
    let mut tx: Vec<Mbuf> = Vec::with_capacity(BURST * 2);
    let start = Instant::now();
    let mut idle_since = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        // Pace the SYNs so the director's rings never overflow during setup.
        let inflight = u64::from(next) - opened;
        if next < flows && inflight < 256 {
            for _ in 0..BURST.min((flows - next) as usize) {
                let f = frames::tcp_frame(
                    DIRECTOR_MAC,
                    GATEWAY_MAC,
                    client_flow(base, vip, next),
                    SYN,
                    1000,
                );
                if let Some(m) = p.mbuf(&f) {
                    tx.push(m);
                }
                next += 1;
            }
        }
        p.q.rx(&mut rx, BURST);
        if !rx.is_empty() {
            idle_since = Instant::now();
        }
        for m in rx.drain(..) {
            let d = m.data();
            let Some(flow) = frames::tcp_flow(d) else {
                continue;
            };
            match frames::tcp_flags(d) {
                Some(f) if f == SYN && two_way => {
                    let rs_mac = frames::mac_dst(d);
                    let back = flow.reversed();
                    let synack = frames::tcp_frame(DIRECTOR_MAC, rs_mac, back, SYN_ACK, 5000);
                    if let Some(m) = p.mbuf(&synack) {
                        tx.push(m);
                    }
                }
                Some(f) if f == SYN || f == SYN_ACK => opened += 1,
                _ => {}
            }
        }
        if !tx.is_empty() {
            p.q.tx(&mut tx);
        }
        if next == flows
            && (opened >= u64::from(flows) || idle_since.elapsed() > Duration::from_millis(500))
        {
            break;
        }
    }
    Ok(opened)
}

/// Sends the templates round-robin for `warmup + seconds`; counts during
/// the last `seconds` only.
fn blast(
    p: &mut Port,
    mode: &str,
    templates: &[Vec<u8>],
    warmup: u64,
    seconds: u64,
) -> Result<ModeResult> {
    let mut rx: Vec<Mbuf> = Vec::with_capacity(BURST);
    let mut tx: Vec<Mbuf> = Vec::with_capacity(BURST);
    let n = templates.len();
    let mut k = 0usize;
    let start = Instant::now();
    let warm = Duration::from_secs(warmup);
    let end = warm + Duration::from_secs(seconds);
    let (mut sent, mut got, mut other) = (0u64, 0u64, 0u64);
    let mut measuring = false;
    let mut t0 = start;
    let mut iter = 0u32;
    loop {
        iter = iter.wrapping_add(1);
        if iter & 63 == 0 {
            let e = start.elapsed();
            if !measuring && e >= warm {
                measuring = true;
                sent = 0;
                got = 0;
                other = 0;
                t0 = Instant::now();
            }
            if e >= end {
                break;
            }
        }
        for _ in 0..BURST {
            match p.mbuf(&templates[k]) {
                Some(m) => tx.push(m),
                None => break,
            }
            k += 1;
            if k == n {
                k = 0;
            }
        }
        let offered = tx.len();
        let refused = p.q.tx(&mut tx);
        sent += (offered - refused) as u64;
        p.q.rx(&mut rx, BURST);
        // Reads the mbuf header only (its length), not the frame.
        let long = rx.iter().filter(|m| m.len() > OWN_MAX_LEN).count();
        got += (rx.len() - long) as u64;
        other += long as u64;
        rx.clear();
    }
    let secs = t0.elapsed().as_secs_f64();
    // Drain what is still in flight so the next mode starts clean.
    let drain = Instant::now();
    while drain.elapsed() < Duration::from_millis(200) {
        p.q.rx(&mut rx, BURST);
        rx.clear();
    }
    Ok(ModeResult {
        mode: mode.into(),
        flows: n as u64,
        opened: 0,
        seconds: secs,
        tx_packets: sent,
        rx_packets: got,
        rx_other_packets: other,
        tx_mpps: sent as f64 / secs / 1e6,
        rx_mpps: got as f64 / secs / 1e6,
        frame_bytes: templates.first().map_or(0, Vec::len) + 4,
    })
}

fn bounce(args: &[String]) -> Result<()> {
    let dev = arg(args, "--dev").context("--dev DEVARGS is required")?;
    let core = num(args, "--core", 1)?;
    let seconds = num(args, "--seconds", 60)?;
    let mut p = open(dev, core, "fvs_bounce")?;
    let mut rx: Vec<Mbuf> = Vec::with_capacity(BURST);
    let start = Instant::now();
    let limit = Duration::from_secs(seconds);
    let (mut bounced, mut refused) = (0u64, 0u64);
    let mut iter = 0u32;
    eprintln!("fvs-pktgen bounce: reflecting on {dev} for at most {seconds} s");
    loop {
        iter = iter.wrapping_add(1);
        if iter & 1023 == 0 && start.elapsed() >= limit {
            break;
        }
        p.q.rx(&mut rx, BURST);
        if rx.is_empty() {
            continue;
        }
        if rx
            .iter()
            .any(|m| m.data().get(12..14) == Some(&STOP_ETHERTYPE[..]))
        {
            break;
        }
        for m in rx.iter_mut() {
            let d = m.data_mut();
            if d.len() >= 12 {
                let mut dst = [0u8; 6];
                dst.copy_from_slice(&d[..6]);
                d.copy_within(6..12, 0);
                d[6..12].copy_from_slice(&dst);
            }
        }
        let n = rx.len() as u64;
        let r = p.q.tx(&mut rx) as u64;
        bounced += n - r;
        refused += r;
    }
    println!("fvs-pktgen bounce: bounced={bounced} refused={refused}");
    p.port.stop();
    Ok(())
}
