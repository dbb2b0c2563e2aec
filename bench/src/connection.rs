//! Whole short TCP connections through `Pipeline::process` in memory: the
//! harness of `pktloop conn` / `pktloop ipc` and of the `connection/<mode>`
//! criterion bench.
//!
//! One connection, in order (C client, S real server; ISNs c = 1000, s = 5000):
//!
//! | step | segment | seq | ack | payload |
//! |---|---|---|---|---|
//! | 1 | C SYN (MSS 1460) | c | - | 0 |
//! | 2 | S SYN+ACK (MSS 1460) | s | c+1 | 0 |
//! | 3 | C ACK | c+1 | s+1 | 0 |
//! | 4 | C PSH+ACK, the request | c+1 | s+1 | 100 |
//! | 5 | S PSH+ACK, the response | s+1 | c+101 | 500 |
//! | 6 | C FIN+ACK (acknowledges the response) | c+101 | s+501 | 0 |
//! | 7 | S FIN+ACK (acknowledges the client's FIN) | s+501 | c+102 | 0 |
//! | 8 | C ACK, the last one | c+102 | s+502 | 0 |
//!
//! NAT and FullNAT: all eight go through the director (IPVS states after each:
//! SYN_RECV SYN_RECV ESTABLISHED ESTABLISHED ESTABLISHED CLOSE_WAIT TIME_WAIT
//! TIME_WAIT). DR and TUN: the real server answers the client directly, so only
//! the client's five (1 3 4 6 8) go through it (input-only table: SYN_RECV
//! ESTABLISHED ESTABLISHED FIN_WAIT FIN_WAIT). Each side acknowledges what it
//! received: the real server reads its segments from the frames the director
//! forwarded (addresses, ports, sequence numbers and the MAC it was sent to);
//! the client reads the director's replies, or in DR/TUN the server's
//! sequence directly. Every segment must come out of the director, exactly
//! once: anything else is an error naming the connection, the step and the
//! drop counters.
//!
//! Clock and table: connection i starts at `1 + i * ms_per_conn` ms and all its
//! segments share that time. Like the live worker (which calls housekeeping
//! once per millisecond tick), the harness calls `Pipeline::housekeeping(now)`
//! whenever the clock has moved, i.e. once per connection; the ticks in
//! between would have nothing to expire. Client 10.0.0.2 uses a fresh source
//! port per connection, cycling over 1024..=65535, and `ms_per_conn` must let
//! a port come back only after its previous connection expired (TIME_WAIT and
//! FIN_WAIT: 120 s): at the default 10 ms, ports return after 645 s and the
//! table settles after 120 s (12 000 connections) at 12 000 entries, each
//! connection expiring the one of 120 s before.
use std::hint::black_box;
use std::net::Ipv4Addr;

use anyhow::{anyhow, bail, Context, Result};
use conntrack::{Millis, TcpState};
use dataplane::stats::DropReason;
use dataplane::{Frame, Output, Pipeline};

use crate::frames::{self, Flow, Segment, ACK, FIN, PSH, SYN};
use crate::{pipeline_from_yaml, BenchFrame, Mode, Recycle, CLIENT, CLIENT_MAC, DIRECTOR_MAC};

pub const REQUEST_BYTES: usize = 100;
pub const RESPONSE_BYTES: usize = 500;
const CLIENT_ISN: u32 = 1_000;
const SERVER_ISN: u32 = 5_000;
/// The client's source ports: a fresh one per connection, cycling.
pub const FIRST_CLIENT_PORT: u16 = 1024;
pub const CLIENT_PORTS: u64 = 65_536 - FIRST_CLIENT_PORT as u64;
/// Default clock progression: 10 ms of simulated time per connection.
pub const MS_PER_CONN: u64 = 10;
/// The clock of connection 0.
pub const START_MS: Millis = 1;

/// The eight segments of a connection, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Syn,
    SynAck,
    Ack,
    Request,
    Response,
    Fin,
    ServerFin,
    LastAck,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Syn,
        Step::SynAck,
        Step::Ack,
        Step::Request,
        Step::Response,
        Step::Fin,
        Step::ServerFin,
        Step::LastAck,
    ];

    pub fn from_client(self) -> bool {
        !matches!(self, Step::SynAck | Step::Response | Step::ServerFin)
    }

    pub fn name(self) -> &'static str {
        match self {
            Step::Syn => "client SYN",
            Step::SynAck => "server SYN+ACK",
            Step::Ack => "client ACK",
            Step::Request => "client request",
            Step::Response => "server response",
            Step::Fin => "client FIN+ACK",
            Step::ServerFin => "server FIN+ACK",
            Step::LastAck => "client last ACK",
        }
    }

    pub fn flags(self) -> u8 {
        match self {
            Step::Syn => SYN,
            Step::SynAck => SYN | ACK,
            Step::Ack | Step::LastAck => ACK,
            Step::Request | Step::Response => PSH | ACK,
            Step::Fin | Step::ServerFin => FIN | ACK,
        }
    }

    pub fn payload(self) -> usize {
        match self {
            Step::Request => REQUEST_BYTES,
            Step::Response => RESPONSE_BYTES,
            _ => 0,
        }
    }

    /// Whether the director sees this segment in `mode`.
    pub fn through_director(self, mode: Mode) -> bool {
        self.from_client() || mode.two_way()
    }
}

/// Segments of one connection that go through the director in `mode`.
pub fn segments_per_conn(mode: Mode) -> u64 {
    Step::ALL
        .iter()
        .filter(|s| s.through_director(mode))
        .count() as u64
}

/// What the two ends know while a connection runs.
struct Ends {
    client: Flow,
    /// The real server's side, from the SYN the director forwarded: the flow
    /// back and its own MAC (the one the director sent to).
    rs: Flow,
    rs_mac: [u8; 6],
    /// Next sequence number each end sends, and what it acknowledges.
    c_seq: u32,
    c_ack: u32,
    s_seq: u32,
    s_ack: u32,
}

impl Ends {
    fn new(client: Flow) -> Self {
        Ends {
            client,
            rs: client.reversed(),
            rs_mac: DIRECTOR_MAC,
            c_seq: CLIENT_ISN,
            c_ack: 0,
            s_seq: SERVER_ISN,
            s_ack: 0,
        }
    }

    /// The segment `step` sends; advances its sender's sequence number.
    fn segment(&mut self, step: Step) -> Segment {
        let (flow, seq, ack) = if step.from_client() {
            (self.client, &mut self.c_seq, self.c_ack)
        } else {
            (self.rs, &mut self.s_seq, self.s_ack)
        };
        let flags = step.flags();
        let s = Segment {
            flow,
            flags,
            seq: *seq,
            ack: if flags & ACK != 0 { ack } else { 0 },
            payload: step.payload(),
        };
        *seq = seq.wrapping_add(s.seq_len());
        s
    }
}

/// A pipeline in one forwarding mode and the clock, client ports and frame
/// buffers of the connections run through it.
pub struct ConnLoop {
    pub pipeline: Pipeline<BenchFrame>,
    out: Recycle,
    mode: Mode,
    vip: Ipv4Addr,
    ms_per_conn: u64,
    /// Index of the next connection.
    next: u64,
    last_tick: Millis,
    buf: Vec<u8>,
}

impl ConnLoop {
    pub fn new(mode: Mode, ms_per_conn: u64) -> Result<Self> {
        if !Mode::CONNECTION.contains(&mode) {
            bail!(
                "{}: whole connections run in nat, fullnat, dr or tun",
                mode.name()
            );
        }
        let (yaml, vip) = mode.fixture();
        let pipeline = pipeline_from_yaml(yaml)?;
        let t = pipeline.conns().timeouts();
        let linger = u64::from(
            t.tcp_state(TcpState::TimeWait)
                .max(t.tcp_state(TcpState::FinWait)),
        ) * 1000;
        if CLIENT_PORTS * ms_per_conn <= linger {
            bail!(
                "{ms_per_conn} ms per connection: a client port would come back after {} ms, \
                 before its previous connection expires ({linger} ms)",
                CLIENT_PORTS * ms_per_conn
            );
        }
        Ok(ConnLoop {
            pipeline,
            out: Recycle::with_frames(8),
            mode,
            vip,
            ms_per_conn,
            next: 0,
            last_tick: 0,
            buf: Vec::with_capacity(2048),
        })
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Connections run so far.
    pub fn done(&self) -> u64 {
        self.next
    }

    /// The clock of connection `i`.
    pub fn clock(&self, i: u64) -> Millis {
        START_MS + i * self.ms_per_conn
    }

    /// Runs `n` more whole connections through the pipeline; returns the
    /// segments it forwarded (`n * segments_per_conn`).
    #[inline(never)]
    pub fn run(&mut self, n: u64) -> Result<u64> {
        self.drive(n, true, &mut |_, _, _| {})
    }

    /// The same frames without the pipeline (each segment "forwarded" as it
    /// is), to subtract the harness's own cost.
    #[inline(never)]
    pub fn run_baseline(&mut self, n: u64) -> Result<u64> {
        self.drive(n, false, &mut |_, _, _| {})
    }

    /// As `run`, showing `watch` each step, the frame the director sent for it
    /// and the pipeline right after.
    pub fn run_watched(
        &mut self,
        n: u64,
        watch: &mut impl FnMut(Step, &[u8], &Pipeline<BenchFrame>),
    ) -> Result<u64> {
        self.drive(n, true, watch)
    }

    #[inline]
    fn drive(
        &mut self,
        n: u64,
        through: bool,
        watch: &mut impl FnMut(Step, &[u8], &Pipeline<BenchFrame>),
    ) -> Result<u64> {
        let before = self.out.sent;
        for _ in 0..n {
            let now = self.clock(self.next);
            if through && now != self.last_tick {
                self.last_tick = now;
                self.pipeline.housekeeping(now);
            }
            self.connection(now, through, watch)?;
            self.next += 1;
        }
        Ok(self.out.sent - before)
    }

    #[inline]
    fn connection(
        &mut self,
        now: Millis,
        through: bool,
        watch: &mut impl FnMut(Step, &[u8], &Pipeline<BenchFrame>),
    ) -> Result<()> {
        let port = FIRST_CLIENT_PORT + (self.next % CLIENT_PORTS) as u16;
        let mut e = Ends::new(Flow {
            src: CLIENT,
            sport: port,
            dst: self.vip,
            dport: 80,
        });
        for step in Step::ALL {
            let seg = e.segment(step);
            if !step.through_director(self.mode) {
                // The real server's reply goes straight to the client.
                e.c_ack = seg.seq.wrapping_add(seg.seq_len());
                continue;
            }
            let src_mac = if step.from_client() {
                CLIENT_MAC
            } else {
                e.rs_mac
            };
            frames::tcp_segment_into(&mut self.buf, DIRECTOR_MAC, src_mac, &seg);
            let sent = self.out.sent;
            let f = self.out.frame(&self.buf);
            if through {
                self.pipeline.process(f, 0, now, &mut self.out);
            } else {
                self.out.send(0, black_box(f));
            }
            if self.out.sent != sent + 1 {
                return Err(self.not_forwarded(step, now, self.out.sent - sent));
            }
            // Recycle keeps what was sent on top of its pool.
            let fwd = self.out.pool.last().map(Frame::data).unwrap_or_default();
            let got = frames::tcp_segment(fwd)
                .with_context(|| format!("{}: forwarded {} is not TCP", self.tag(), step.name()))?;
            let next = got.seq.wrapping_add(got.seq_len());
            if step.from_client() {
                if step == Step::Syn {
                    e.rs = got.flow.reversed();
                    e.rs_mac = frames::mac_dst(fwd);
                }
                e.s_ack = next;
            } else {
                if got.flow.dst != CLIENT || got.flow.dport != port {
                    bail!(
                        "{}: {} forwarded to {}:{}, not to the client",
                        self.tag(),
                        step.name(),
                        got.flow.dst,
                        got.flow.dport
                    );
                }
                e.c_ack = next;
            }
            watch(step, fwd, &self.pipeline);
        }
        Ok(())
    }

    /// "nat connection 12 (client port 1036)", for errors.
    fn tag(&self) -> String {
        format!(
            "{} connection {} (client port {})",
            self.mode.name(),
            self.next,
            FIRST_CLIENT_PORT + (self.next % CLIENT_PORTS) as u16
        )
    }

    fn not_forwarded(&self, step: Step, now: Millis, sent: u64) -> anyhow::Error {
        let stats = self.pipeline.stats();
        let drops: Vec<String> = DropReason::ALL
            .iter()
            .filter(|r| stats.drops_of(**r) > 0)
            .map(|r| format!("{}={}", r.name(), stats.drops_of(*r)))
            .collect();
        anyhow!(
            "{} at {now} ms: the {} came out {sent} times instead of once \
             (table {} entries; drops so far: {})",
            self.tag(),
            step.name(),
            self.pipeline.conns().len(),
            if drops.is_empty() {
                "none".into()
            } else {
                drops.join(" ")
            }
        )
    }
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
