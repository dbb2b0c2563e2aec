//! Snapshot, frame and output helpers shared by the pipeline-level tests.
#![allow(dead_code)] // each test file uses a different part
use std::net::Ipv4Addr;

use conntrack::{Proto, Timeouts};
use dataplane::snapshot::{
    Encap, Forward, Ipv4Prefix, NeighborSpec, PortMatch, PortSpec, RealSpec, ServiceSpec, Snapshot,
};
use dataplane::wire::MacAddr;
use dataplane::{Frame, Output, VecFrame};

pub const US: [u8; 6] = [2, 0, 0, 0, 0, 1];
pub const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

pub fn real(id: u32, last: u8) -> RealSpec {
    RealSpec {
        id,
        addr: Ipv4Addr::new(10, 1, 0, last),
        port: 8080,
        weight: 1,
        upper_threshold: 0,
        lower_threshold: 0,
        forward: Forward::Nat,
        encap: Encap::Ipip,
    }
}

pub fn snapshot(reals: Vec<RealSpec>, expire_nodest_conn: bool) -> Snapshot {
    let neighbors = [2u8, 11, 12]
        .iter()
        .map(|&l| NeighborSpec {
            ip: if l == 2 {
                CLIENT
            } else {
                Ipv4Addr::new(10, 1, 0, l)
            },
            mac: MacAddr([2, 0, 0, 0, 1, l]),
            port: 0,
        })
        .collect();
    Snapshot {
        generation: 0,
        ports: vec![PortSpec {
            name: "eth0".into(),
            mac: MacAddr(US),
            addresses: vec![
                Ipv4Prefix {
                    addr: Ipv4Addr::new(10, 0, 0, 1),
                    len: 24,
                },
                Ipv4Prefix {
                    addr: Ipv4Addr::new(10, 1, 0, 1),
                    len: 24,
                },
            ],
            mtu: 1500,
            host: None,
        }],
        routes: vec![],
        neighbors,
        marks: vec![],
        services: vec![ServiceSpec {
            id: 0,
            name: "web".into(),
            fwmark: None,
            proto: Proto::Tcp,
            vip: VIP,
            ports: PortMatch::One(80),
            scheduler: "rr".into(),
            flags: Default::default(),
            persistence: None,
            ops: false,
            local_addresses: vec![],
            toa: false,
            reals,
        }],
        timeouts: Timeouts::default(),
        conns_per_core: 1024,
        expire_nodest_conn,
        vrrp: Vec::new(),
        owned: Vec::new(),
    }
}

/// A TCP segment client -> VIP:80 (checksums are irrelevant to the pipeline's decisions).
pub fn segment(sport: u16, flags: u8) -> VecFrame {
    segment_to(VIP, sport, 80, flags)
}

/// A TCP segment from the client to `dst:dport`.
pub fn segment_to(dst: Ipv4Addr, sport: u16, dport: u16, flags: u8) -> VecFrame {
    let mut f = vec![0u8; 54];
    f[0..6].copy_from_slice(&US);
    f[6..12].copy_from_slice(&[2, 0, 0, 0, 1, 2]);
    f[12..14].copy_from_slice(&[8, 0]);
    f[14] = 0x45;
    f[16..18].copy_from_slice(&40u16.to_be_bytes());
    f[22] = 64;
    f[23] = 6;
    f[26..30].copy_from_slice(&CLIENT.octets());
    f[30..34].copy_from_slice(&dst.octets());
    f[34..36].copy_from_slice(&sport.to_be_bytes());
    f[36..38].copy_from_slice(&dport.to_be_bytes());
    f[46] = 0x50;
    f[47] = flags;
    VecFrame::from_bytes(&f)
}

/// Collects what the pipeline sends, and the cores it redirects to (refusing
/// the frames, as a full ring would).
#[derive(Default)]
pub struct Sink {
    pub sent: Vec<Vec<u8>>,
    pub redirected_to: Vec<usize>,
    /// Frames handed to a kernel twin, with the port.
    pub to_host: Vec<(usize, Vec<u8>)>,
}

impl Output<VecFrame> for Sink {
    fn send(&mut self, _port: usize, frame: VecFrame) {
        self.sent.push(frame.data().to_vec());
    }
    fn alloc(&mut self) -> Option<VecFrame> {
        Some(VecFrame::empty())
    }
    fn redirect(&mut self, core: usize, _port: usize, frame: VecFrame) -> Result<(), VecFrame> {
        self.redirected_to.push(core);
        Err(frame)
    }
    fn to_host(&mut self, port: usize, frame: VecFrame) -> Result<(), VecFrame> {
        self.to_host.push((port, frame.data().to_vec()));
        Ok(())
    }
}
