//! A new snapshot keeps the connections of what it does not touch; a removed
//! real's connections are kept until they end, or expired at their next
//! packet with expire_nodest_conn (as IPVS's sysctl of that name).
use std::net::Ipv4Addr;
use std::sync::Arc;

use conntrack::{Proto, Timeouts};
use dataplane::snapshot::{
    Forward, Ipv4Prefix, NeighborSpec, PortMatch, PortSpec, RealSpec, ServiceSpec, Snapshot,
};
use dataplane::wire::MacAddr;
use dataplane::{CoreStats, DropReason, Frame, Output, Pipeline, VecFrame};

const US: [u8; 6] = [2, 0, 0, 0, 0, 1];
const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

fn real(id: u32, last: u8) -> RealSpec {
    RealSpec {
        id,
        addr: Ipv4Addr::new(10, 1, 0, last),
        port: 8080,
        weight: 1,
        upper_threshold: 0,
        lower_threshold: 0,
        forward: Forward::Nat,
    }
}

fn snapshot(reals: Vec<RealSpec>, expire_nodest_conn: bool) -> Snapshot {
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
        }],
        routes: vec![],
        neighbors,
        services: vec![ServiceSpec {
            id: 0,
            name: "web".into(),
            proto: Proto::Tcp,
            vip: VIP,
            ports: PortMatch::One(80),
            scheduler: "rr".into(),
            flags: Default::default(),
            persistence: None,
            local_addresses: vec![],
            toa: false,
            reals,
        }],
        timeouts: Timeouts::default(),
        conns_per_core: 1024,
        expire_nodest_conn,
    }
}

/// A TCP segment client -> VIP:80 (checksums are irrelevant to the pipeline's decisions).
fn segment(sport: u16, flags: u8) -> VecFrame {
    let mut f = vec![0u8; 54];
    f[0..6].copy_from_slice(&US);
    f[6..12].copy_from_slice(&[2, 0, 0, 0, 1, 2]);
    f[12..14].copy_from_slice(&[8, 0]);
    f[14] = 0x45;
    f[16..18].copy_from_slice(&40u16.to_be_bytes());
    f[22] = 64;
    f[23] = 6;
    f[26..30].copy_from_slice(&CLIENT.octets());
    f[30..34].copy_from_slice(&VIP.octets());
    f[34..36].copy_from_slice(&sport.to_be_bytes());
    f[36..38].copy_from_slice(&80u16.to_be_bytes());
    f[46] = 0x50;
    f[47] = flags;
    VecFrame::from_bytes(&f)
}

#[derive(Default)]
struct Sink {
    sent: Vec<Vec<u8>>,
}

impl Output<VecFrame> for Sink {
    fn send(&mut self, _port: usize, frame: VecFrame) {
        self.sent.push(frame.data().to_vec());
    }
    fn alloc(&mut self) -> Option<VecFrame> {
        Some(VecFrame::empty())
    }
    fn redirect(&mut self, _core: usize, _port: usize, frame: VecFrame) -> Result<(), VecFrame> {
        Err(frame)
    }
}

fn dst_of(f: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(f[30], f[31], f[32], f[33])
}

fn run(expire_nodest_conn: bool) -> (Sink, Arc<CoreStats>, usize) {
    let stats = Arc::new(CoreStats::default());
    let first = Arc::new(snapshot(vec![real(0, 11), real(1, 12)], expire_nodest_conn));
    let mut p = Pipeline::new(0, 1, first, stats.clone()).unwrap();
    let mut out = Sink::default();
    p.process(segment(40000, 0x02), 0, 1, &mut out);
    let rs = dst_of(&out.sent[0]);
    let keep = if rs == Ipv4Addr::new(10, 1, 0, 11) {
        real(1, 12)
    } else {
        real(0, 11)
    };
    // The real that got the connection is removed.
    p.apply(Arc::new(snapshot(vec![keep], expire_nodest_conn)))
        .unwrap();
    p.process(segment(40000, 0x10), 0, 2, &mut out);
    p.process(segment(40001, 0x02), 0, 3, &mut out);
    let tracked = p.conns().len();
    (out, stats, tracked)
}

#[test]
fn connections_of_a_removed_real_are_kept_by_default() {
    let (out, stats, tracked) = run(false);
    assert_eq!(
        out.sent.len(),
        3,
        "the old connection still flows, the new one goes elsewhere"
    );
    assert_eq!(
        dst_of(&out.sent[1]),
        dst_of(&out.sent[0]),
        "to its original real"
    );
    assert_ne!(
        dst_of(&out.sent[2]),
        dst_of(&out.sent[0]),
        "new connections avoid the removed real"
    );
    assert_eq!(stats.total_drops(), 0);
    assert_eq!(tracked, 2);
}

#[test]
fn expire_nodest_conn_ends_them_at_their_next_packet() {
    let (out, stats, tracked) = run(true);
    assert_eq!(out.sent.len(), 2, "the old connection's packet is dropped");
    assert_eq!(stats.drops_of(DropReason::NoDestination), 1);
    assert_eq!(tracked, 1, "its entry is gone");
}
