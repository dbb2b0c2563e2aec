//! Offline runs: frames from a pcap go through the same worker and pipeline
//! as live traffic, the clock is the capture's timestamps, and every frame the
//! pipeline transmits is written to the output pcap, and every frame it hands
//! to a port's kernel twin to the optional host pcap. No DPDK, no root.
use std::io::{Read, Write};
use std::sync::Arc;

use serde::Serialize;

use crate::frame::{Frame, VecFrame};
use crate::host::HostDrop;
use crate::pcap::{PcapError, PcapReader, PcapWriter};
use crate::pipeline::Pipeline;
use crate::service::ServiceBuildError;
use crate::snapshot::Snapshot;
use crate::stats::{CoreStats, DropReason};
use crate::worker::{PortIo, Worker};

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("pcap: {0}")]
    Pcap(#[from] PcapError),
    #[error("config: {0}")]
    Config(#[from] ServiceBuildError),
}

/// Feeds one record at a time on port 0 and records what is sent.
struct ReplayIo<W: Write> {
    next: Option<VecFrame>,
    writer: PcapWriter<W>,
    /// Where frames for the kernel twins go (counted either way).
    host: Option<PcapWriter<Box<dyn Write>>>,
    now_ns: u64,
    error: Option<PcapError>,
    sent: Vec<SentFrame>,
    to_host: Vec<SentFrame>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SentFrame {
    pub port: usize,
    pub len: usize,
}

impl<W: Write> PortIo for ReplayIo<W> {
    type F = VecFrame;
    fn rx(&mut self, port: usize, out: &mut Vec<VecFrame>, _max: usize) {
        if port == 0 {
            out.extend(self.next.take());
        }
    }
    fn tx(&mut self, port: usize, frames: &mut Vec<VecFrame>) -> usize {
        for f in frames.drain(..) {
            self.sent.push(SentFrame { port, len: f.len() });
            if let Err(e) = self.writer.write(self.now_ns, f.data()) {
                self.error.get_or_insert(e);
            }
        }
        0
    }
    fn alloc(&mut self) -> Option<VecFrame> {
        Some(VecFrame::empty())
    }
    fn to_host(&mut self, port: usize, frame: VecFrame) -> Result<(), VecFrame> {
        self.to_host.push(SentFrame {
            port,
            len: frame.len(),
        });
        if let Some(w) = &mut self.host {
            if let Err(e) = w.write(self.now_ns, frame.data()) {
                self.error.get_or_insert(e);
            }
        }
        Ok(())
    }
}

/// What one port's kernel twin got (and what was dropped on the way).
#[derive(Debug, Clone, Serialize, Default)]
pub struct HostReport {
    pub port: String,
    pub frames: u64,
    pub bytes: u64,
    pub drops: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct RealReport {
    pub address: String,
    pub port: u16,
    pub weight: u32,
    pub conns: u64,
    pub active: u32,
    pub inactive: u32,
    pub in_packets: u64,
    pub out_packets: u64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct ServiceReport {
    pub name: String,
    pub conns: u64,
    pub in_packets: u64,
    pub out_packets: u64,
    pub reals: Vec<RealReport>,
}

/// What one input frame did to the connection table.
#[derive(Debug, Clone, Serialize)]
pub struct TraceEntry {
    pub ts_ms: u64,
    /// IPVS state of the frame's connection after it (None: no connection).
    pub state: Option<&'static str>,
    pub expires_ms: Option<u64>,
    /// Connections tracked after the frame (and the expiry it triggered).
    pub conns: usize,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct ReplayReport {
    pub frames_in: u64,
    pub frames_out: u64,
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub conns_created: u64,
    pub conns_reused: u64,
    pub conns_tracked: usize,
    pub arp_replies: u64,
    pub arp_requests_sent: u64,
    pub icmp_echo_replies: u64,
    pub icmp_frag_needed_sent: u64,
    pub drops: std::collections::BTreeMap<String, u64>,
    pub services: Vec<ServiceReport>,
    pub sent: Vec<SentFrame>,
    /// Frames handed to the kernel twins (all ports).
    pub frames_to_host: u64,
    /// Per port with a kernel twin.
    pub host: Vec<HostReport>,
    pub to_host: Vec<SentFrame>,
    pub trace: Vec<TraceEntry>,
}

/// Runs `input` through a single-core pipeline configured by `snap`; frames
/// for the kernel twins go to `host_out` when given.
pub fn replay<R: Read, W: Write>(
    snap: Snapshot,
    input: R,
    output: W,
    host_out: Option<Box<dyn Write>>,
) -> Result<ReplayReport, ReplayError> {
    let stats = Arc::new(CoreStats::default());
    let pipeline = Pipeline::new(0, 1, Arc::new(snap), stats.clone())?;
    let io = ReplayIo {
        next: None,
        writer: PcapWriter::new(output)?,
        host: host_out.map(PcapWriter::new).transpose()?,
        now_ns: 0,
        error: None,
        sent: Vec::new(),
        to_host: Vec::new(),
    };
    let mut worker = Worker::new(pipeline, io, 32);
    let mut reader = PcapReader::new(input)?;
    let mut frames_in = 0;
    let mut trace = Vec::new();
    while let Some(rec) = reader.next_record()? {
        frames_in += 1;
        let io = worker.io_mut();
        io.now_ns = rec.ts_nanos;
        io.next = Some(VecFrame::from_bytes(&rec.data));
        let now = rec.ts_nanos / 1_000_000;
        worker.poll_once(now);
        let c = worker.pipeline.last_conn();
        trace.push(TraceEntry {
            ts_ms: now,
            state: c.map(|c| c.state_name()),
            expires_ms: c.map(|c| c.expires),
            conns: worker.pipeline.conns().len(),
        });
    }
    let io = worker.io_mut();
    if let Some(e) = io.error.take() {
        return Err(e.into());
    }
    io.writer.flush()?;
    if let Some(w) = &mut io.host {
        w.flush()?;
    }
    let sent = std::mem::take(&mut io.sent);
    let to_host = std::mem::take(&mut io.to_host);
    let mut r = report(&worker.pipeline, &stats, frames_in, sent);
    r.frames_to_host = to_host.len() as u64;
    r.to_host = to_host;
    r.host = host_report(&worker.pipeline);
    r.trace = trace;
    Ok(r)
}

fn host_report(p: &Pipeline<VecFrame>) -> Vec<HostReport> {
    p.snapshot()
        .ports
        .iter()
        .zip(p.host_counters())
        .filter(|(spec, _)| spec.host.is_some())
        .map(|(spec, c)| HostReport {
            port: spec.name.clone(),
            frames: c.to_kernel_frames.get(),
            bytes: c.to_kernel_bytes.get(),
            drops: HostDrop::ALL
                .iter()
                .map(|r| (r.name().to_owned(), c.drops_of(*r)))
                .collect(),
        })
        .collect()
}

fn report(
    p: &Pipeline<VecFrame>,
    stats: &CoreStats,
    frames_in: u64,
    sent: Vec<SentFrame>,
) -> ReplayReport {
    let drops = DropReason::ALL
        .iter()
        .filter(|r| stats.drops_of(**r) > 0)
        .map(|r| (r.name().to_owned(), stats.drops_of(*r)))
        .collect();
    let services = p
        .services()
        .map(|st| ServiceReport {
            name: st.spec.name.clone(),
            conns: st.counters.service.conns.get(),
            in_packets: st.counters.service.in_packets.get(),
            out_packets: st.counters.service.out_packets.get(),
            reals: st
                .spec
                .reals
                .iter()
                .map(|r| {
                    let d = st.dests.iter().find(|d| d.id == r.id);
                    let c = st.counters.reals.get(r.id as usize).map(|c| &c.traffic);
                    RealReport {
                        address: r.addr.to_string(),
                        port: r.port,
                        weight: r.weight,
                        conns: c.map_or(0, |c| c.conns.get()),
                        active: d.map_or(0, |d| d.active),
                        inactive: d.map_or(0, |d| d.inactive),
                        in_packets: c.map_or(0, |c| c.in_packets.get()),
                        out_packets: c.map_or(0, |c| c.out_packets.get()),
                    }
                })
                .collect(),
        })
        .collect();
    ReplayReport {
        frames_in,
        frames_out: sent.len() as u64,
        rx_packets: stats.rx_packets.get(),
        tx_packets: stats.tx_packets.get(),
        conns_created: stats.conns_created.get(),
        conns_reused: stats.conns_reused.get(),
        conns_tracked: p.conns().len(),
        arp_replies: stats.arp_replies.get(),
        arp_requests_sent: stats.arp_requests_sent.get(),
        icmp_echo_replies: stats.icmp_echo_replies.get(),
        icmp_frag_needed_sent: stats.icmp_frag_needed_sent.get(),
        drops,
        services,
        sent,
        frames_to_host: 0,
        host: Vec::new(),
        to_host: Vec::new(),
        trace: Vec::new(),
    }
}
