//! Shared pieces of the ferrovs benchmarks: frame builders, an mbuf-like
//! frame that can be refilled without allocating, an `Output` that recycles
//! what the pipeline sends, fixtures that open connections in each
//! forwarding mode so that the steady-state (established) path can be timed,
//! and whole short connections (`connection`).
pub mod args;
pub mod callgrind;
pub mod charts;
pub mod connection;
pub mod connection_report;
pub mod failover_report;
pub mod frames;
pub mod hostpath_report;
pub mod peers_report;
pub mod report;

use std::net::Ipv4Addr;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use control::config::Config;
use dataplane::{CoreStats, Frame, Output, Pipeline};

use frames::{Flow, ACK, SYN, SYN_ACK};

pub const DIRECTOR_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
pub const CLIENT_MAC: [u8; 6] = [2, 0, 0, 0, 0, 0xc2];
pub const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// First client source port of the fixtures' flows.
pub const FIRST_PORT: u16 = 10_000;

/// The replay fixtures of the repository, compiled in so that the benchmarks
/// do not depend on the working directory.
pub const REPLAY_NAT_YAML: &str = include_str!("../../configs/replay-nat.yaml");
pub const REPLAY_MODES_YAML: &str = include_str!("../../configs/replay-modes.yaml");

/// The 14 IPVS schedulers, by their ipvsadm names.
pub const SCHEDULERS: [&str; 14] = [
    "rr", "wrr", "lc", "wlc", "sed", "nq", "lblc", "lblcr", "sh", "dh", "mh", "fo", "ovf", "twos",
];

/// Headroom in front of a `BenchFrame`, as in a DPDK mbuf.
pub const HEADROOM: usize = 128;
const BUF: usize = 2048 + HEADROOM;

/// A fixed buffer with mbuf-like headroom/tailroom that can be refilled in
/// place (`reset`), so a packet loop allocates nothing per packet.
pub struct BenchFrame {
    buf: Box<[u8; BUF]>,
    start: usize,
    end: usize,
}

impl Default for BenchFrame {
    fn default() -> Self {
        BenchFrame {
            buf: Box::new([0u8; BUF]),
            start: HEADROOM,
            end: HEADROOM,
        }
    }
}

impl BenchFrame {
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut f = BenchFrame::default();
        f.reset(bytes);
        f
    }

    /// Makes the frame hold exactly `bytes` after the standard headroom.
    #[inline]
    pub fn reset(&mut self, bytes: &[u8]) {
        self.start = HEADROOM;
        self.end = HEADROOM + bytes.len();
        self.buf[HEADROOM..self.end].copy_from_slice(bytes);
    }
}

impl Frame for BenchFrame {
    #[inline]
    fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }
    #[inline]
    fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.end]
    }
    #[inline]
    fn prepend(&mut self, n: usize) -> bool {
        if n > self.start {
            return false;
        }
        self.start -= n;
        true
    }
    #[inline]
    fn adj(&mut self, n: usize) -> bool {
        if n > self.end - self.start {
            return false;
        }
        self.start += n;
        true
    }
    #[inline]
    fn append(&mut self, n: usize) -> bool {
        if n > BUF - self.end {
            return false;
        }
        self.end += n;
        true
    }
    #[inline]
    fn trim(&mut self, n: usize) -> bool {
        if n > self.end - self.start {
            return false;
        }
        self.end -= n;
        true
    }
}

/// An `Output` that counts what is sent and keeps the frames for reuse
/// (or, while `capture` is on, copies their bytes for inspection).
#[derive(Default)]
pub struct Recycle {
    pub pool: Vec<BenchFrame>,
    pub sent: u64,
    pub capture: bool,
    pub captured: Vec<Vec<u8>>,
}

impl Recycle {
    pub fn with_frames(n: usize) -> Self {
        Recycle {
            pool: (0..n).map(|_| BenchFrame::default()).collect(),
            ..Recycle::default()
        }
    }

    /// A frame holding `bytes`, taken from the pool (allocated only when the
    /// pool is empty, i.e. when the pipeline kept or dropped frames).
    #[inline]
    pub fn frame(&mut self, bytes: &[u8]) -> BenchFrame {
        let mut f = self.pool.pop().unwrap_or_default();
        f.reset(bytes);
        f
    }
}

impl Output<BenchFrame> for Recycle {
    #[inline]
    fn send(&mut self, _port: usize, frame: BenchFrame) {
        self.sent += 1;
        if self.capture {
            self.captured.push(frame.data().to_vec());
        }
        self.pool.push(frame);
    }
    fn alloc(&mut self) -> Option<BenchFrame> {
        Some(self.pool.pop().unwrap_or_default())
    }
    fn redirect(
        &mut self,
        _core: usize,
        _port: usize,
        frame: BenchFrame,
    ) -> Result<(), BenchFrame> {
        Err(frame)
    }
    /// The benchmarks' ports have no kernel twin: never called.
    fn to_host(&mut self, _port: usize, frame: BenchFrame) -> Result<(), BenchFrame> {
        Err(frame)
    }
}

/// Which direction and forwarding method the steady-state frames exercise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// NAT, client -> VIP (rewritten to a real server).
    Nat,
    /// NAT, real server -> client (source rewritten back to the VIP).
    NatReply,
    /// FullNAT, client -> VIP (both addresses rewritten).
    FullNat,
    /// FullNAT, real server -> local address.
    FullNatReply,
    /// Direct routing: only the MAC changes.
    Dr,
    /// IPIP tunnel: an outer IPv4 header is prepended.
    Tun,
}

impl Mode {
    pub const ALL: [Mode; 6] = [
        Mode::Nat,
        Mode::NatReply,
        Mode::FullNat,
        Mode::FullNatReply,
        Mode::Dr,
        Mode::Tun,
    ];

    /// The forwarding methods a whole connection runs in (`connection`): the
    /// client's side of each; the reply modes are part of the two-way ones.
    pub const CONNECTION: [Mode; 4] = [Mode::Nat, Mode::FullNat, Mode::Dr, Mode::Tun];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Nat => "nat",
            Mode::NatReply => "nat-reply",
            Mode::FullNat => "fullnat",
            Mode::FullNatReply => "fullnat-reply",
            Mode::Dr => "dr",
            Mode::Tun => "tun",
        }
    }

    pub fn parse(s: &str) -> Result<Mode> {
        Mode::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                anyhow!("unknown mode {s:?} (nat nat-reply fullnat fullnat-reply dr tun)")
            })
    }

    /// A comma-separated list of modes, or `default` without one.
    pub fn parse_list(list: Option<&str>, default: &[Mode]) -> Result<Vec<Mode>> {
        match list {
            Some(l) => l.split(',').map(Mode::parse).collect(),
            None => Ok(default.to_vec()),
        }
    }

    /// The fixture config and the VIP of the service for this mode.
    fn fixture(self) -> (&'static str, Ipv4Addr) {
        match self {
            Mode::Nat | Mode::NatReply => (REPLAY_NAT_YAML, Ipv4Addr::new(10, 0, 0, 100)),
            Mode::FullNat | Mode::FullNatReply => (REPLAY_MODES_YAML, Ipv4Addr::new(10, 0, 0, 101)),
            Mode::Dr => (REPLAY_MODES_YAML, Ipv4Addr::new(10, 0, 0, 102)),
            Mode::Tun => (REPLAY_MODES_YAML, Ipv4Addr::new(10, 0, 0, 103)),
        }
    }

    /// Whether the real server's replies pass through the director.
    pub fn two_way(self) -> bool {
        matches!(
            self,
            Mode::Nat | Mode::NatReply | Mode::FullNat | Mode::FullNatReply
        )
    }

    fn reply_side(self) -> bool {
        matches!(self, Mode::NatReply | Mode::FullNatReply)
    }
}

/// A single-core pipeline built from a YAML document (as `ferrovs replay` does).
pub fn pipeline_from_yaml(yaml: &str) -> Result<Pipeline<BenchFrame>> {
    let cfg = Config::from_yaml_str(yaml).map_err(|e| anyhow!("bench config: {e}"))?;
    let snap = ferrovs::convert::snapshot(&cfg, &[], 1)?;
    Pipeline::new(0, 1, Arc::new(snap), Arc::new(CoreStats::default()))
        .map_err(|e| anyhow!("pipeline: {e}"))
}

/// A pipeline with `flows` connections opened in `mode`, and for each of them
/// the frame of its steady state (an ACK of the established connection, in
/// the direction `mode` names).
pub struct Established {
    pub pipeline: Pipeline<BenchFrame>,
    pub out: Recycle,
    pub frames: Vec<Vec<u8>>,
    pub mode: Mode,
}

/// Pushes one frame through and returns what the pipeline sent.
fn exchange(
    p: &mut Pipeline<BenchFrame>,
    out: &mut Recycle,
    bytes: &[u8],
    now: u64,
) -> Vec<Vec<u8>> {
    out.capture = true;
    let f = out.frame(bytes);
    p.process(f, 0, now, out);
    out.capture = false;
    std::mem::take(&mut out.captured)
}

impl Established {
    pub fn new(mode: Mode, flows: usize) -> Result<Self> {
        let (yaml, vip) = mode.fixture();
        let mut pipeline = pipeline_from_yaml(yaml)?;
        let mut out = Recycle::with_frames(64);
        let mut frames = Vec::with_capacity(flows);
        if flows > usize::from(u16::MAX - FIRST_PORT) {
            bail!("at most {} flows", u16::MAX - FIRST_PORT);
        }
        for i in 0..flows {
            let client = Flow {
                src: CLIENT,
                sport: FIRST_PORT + i as u16,
                dst: vip,
                dport: 80,
            };
            let syn = frames::tcp_frame(DIRECTOR_MAC, CLIENT_MAC, client, SYN, 1000);
            let sent = exchange(&mut pipeline, &mut out, &syn, 1);
            let fwd = sent.first().with_context(|| {
                format!("{}: the SYN of flow {i} was not forwarded", mode.name())
            })?;
            let mut reply = None;
            if mode.two_way() {
                let inner = frames::tcp_flow(fwd).context("forwarded SYN is not TCP")?;
                let rs_mac = frames::mac_dst(fwd);
                let back = inner.reversed();
                let synack = frames::tcp_frame(DIRECTOR_MAC, rs_mac, back, SYN_ACK, 5000);
                let sent = exchange(&mut pipeline, &mut out, &synack, 1);
                let got = sent.first().with_context(|| {
                    format!("{}: the SYN-ACK of flow {i} was not forwarded", mode.name())
                })?;
                if frames::tcp_flow(got).map(|f| f.dst) != Some(CLIENT) {
                    bail!("{}: SYN-ACK forwarded to the wrong place", mode.name());
                }
                reply = Some(frames::tcp_frame(DIRECTOR_MAC, rs_mac, back, ACK, 5001));
            }
            let ack = frames::tcp_frame(DIRECTOR_MAC, CLIENT_MAC, client, ACK, 1001);
            if exchange(&mut pipeline, &mut out, &ack, 1).is_empty() {
                bail!("{}: the ACK of flow {i} was not forwarded", mode.name());
            }
            frames.push(if mode.reply_side() {
                reply.expect("two-way modes build a reply")
            } else {
                ack
            });
        }
        out.sent = 0;
        Ok(Established {
            pipeline,
            out,
            frames,
            mode,
        })
    }

    /// Sends `n` steady-state frames (cycling over the flows); returns how many
    /// the pipeline transmitted.
    #[inline(never)]
    pub fn run(&mut self, n: u64, now: u64) -> u64 {
        let before = self.out.sent;
        let mut k = 0;
        let mut burst = Vec::with_capacity(RX_BURST);
        let mut left = n;
        while left > 0 {
            self.fill_burst(&mut burst, &mut k, &mut left);
            // What the worker does with an rx burst: prefetch, then process.
            self.pipeline.prefetch_burst(&burst);
            for f in burst.drain(..) {
                self.pipeline.process(f, 0, now, &mut self.out);
            }
        }
        self.out.sent - before
    }

    /// The same loop without the pipeline: frame refill and recycling only,
    /// to subtract the harness's own cost from instruction counts.
    #[inline(never)]
    pub fn run_baseline(&mut self, n: u64) -> u64 {
        let mut k = 0;
        let mut burst = Vec::with_capacity(RX_BURST);
        let mut left = n;
        while left > 0 {
            self.fill_burst(&mut burst, &mut k, &mut left);
            for f in burst.drain(..) {
                self.out.send(0, std::hint::black_box(f));
            }
        }
        self.out.sent
    }

    /// Up to `RX_BURST` frames of the next flows (cycling), as an rx burst.
    #[inline]
    fn fill_burst(&mut self, burst: &mut Vec<BenchFrame>, k: &mut usize, left: &mut u64) {
        let take = (*left).min(RX_BURST as u64);
        for _ in 0..take {
            burst.push(self.out.frame(&self.frames[*k]));
            *k += 1;
            if *k == self.frames.len() {
                *k = 0;
            }
        }
        *left -= take;
    }
}

/// Frames per rx burst in the in-memory loops (the live default `burst: 32`).
pub const RX_BURST: usize = 32;

/// A NAT service on 10.0.0.100:80 with `scheduler` over eight weighted reals,
/// for the new-connection benchmark. `conn_max` bounds the table. The weights
/// are large (50000..60000, ratio 10:11:12) so that `ovf`, which stops sending
/// to a real once its connections reach its weight, never runs out of reals
/// within the benchmark's 200 000 connections.
pub fn scheduler_yaml(scheduler: &str, conn_max: u64) -> String {
    let mut reals = String::new();
    let mut neighbors = String::new();
    for i in 0..8u32 {
        reals.push_str(&format!(
            "      - {{address: 10.1.0.{}, port: 8080, weight: {}}}\n",
            11 + i,
            50_000 + 5_000 * (i % 3)
        ));
        neighbors.push_str(&format!(
            "  - {{ip: 10.1.0.{}, mac: \"02:00:00:00:01:{:02x}\", port: eth0}}\n",
            11 + i,
            0x11 + i
        ));
    }
    format!(
        r#"workers: {{cores: [1]}}
conn_max: {conn_max}
ports:
  - name: eth0
    device: "net_null0"
    mac: "02:00:00:00:00:01"
    addresses: [10.0.0.1/24, 10.1.0.1/24]
routes:
  - {{prefix: 0.0.0.0/0, via: 10.0.0.254, port: eth0}}
neighbors:
  - {{ip: 10.0.0.254, mac: "02:00:00:00:00:fe", port: eth0}}
{neighbors}services:
  - name: web
    vip: 10.0.0.100
    port: 80
    protocol: tcp
    scheduler: {scheduler}
    forward: nat
    reals:
{reals}"#
    )
}

/// The SYN of new connection number `i` (distinct client address and port).
pub fn new_conn_syn(i: u32) -> Vec<u8> {
    let f = Flow {
        src: Ipv4Addr::from(0xac10_0000 | (i >> 12)),
        sport: 1024 + (i & 0xfff) as u16,
        dst: Ipv4Addr::new(10, 0, 0, 100),
        dport: 80,
    };
    frames::tcp_frame(DIRECTOR_MAC, CLIENT_MAC, f, SYN, 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_forwards_every_steady_frame() {
        for mode in Mode::ALL {
            let mut e = Established::new(mode, 16).unwrap();
            assert_eq!(e.run(1000, 2), 1000, "{}", mode.name());
            assert_eq!(e.pipeline.conns().len(), 16, "{}", mode.name());
        }
    }

    #[test]
    fn nat_steady_frames_go_to_a_real_server() {
        let mut e = Established::new(Mode::Nat, 3).unwrap();
        e.out.capture = true;
        e.run(3, 2);
        let mut dsts: Vec<_> = e
            .out
            .captured
            .iter()
            .map(|f| frames::tcp_flow(f).unwrap().dst)
            .collect();
        dsts.sort();
        assert_eq!(
            dsts,
            [
                Ipv4Addr::new(10, 1, 0, 11),
                Ipv4Addr::new(10, 1, 0, 12),
                Ipv4Addr::new(10, 1, 0, 13)
            ]
        );
    }

    #[test]
    fn every_scheduler_opens_connections() {
        for s in SCHEDULERS {
            let mut p = pipeline_from_yaml(&scheduler_yaml(s, 4096)).unwrap();
            let mut out = Recycle::with_frames(4);
            for i in 0..100 {
                let f = out.frame(&new_conn_syn(i));
                p.process(f, 0, 1, &mut out);
            }
            assert_eq!(out.sent, 100, "{s}");
            assert_eq!(p.conns().len(), 100, "{s}");
        }
    }
}
