//! Issue 11 §2 at the pipeline: a client's SYN on the tuple of a closing
//! entry is a new connection, so a reused source port never reaches a real
//! that was removed; with expire_nodest_conn, a SYN on an entry whose real is
//! quiesced (weight 0) is rescheduled too, as ip_vs_in does.
mod common;

use std::net::Ipv4Addr;
use std::sync::Arc;

use common::{real, segment, snapshot, Sink};
use dataplane::{CoreStats, Pipeline, VecFrame};

const SYN: u8 = 0x02;
const FIN: u8 = 0x01;
const ACK: u8 = 0x10;

fn dst_of(f: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(f[30], f[31], f[32], f[33])
}

struct Lab {
    p: Pipeline<VecFrame>,
    out: Sink,
    stats: Arc<CoreStats>,
    expire_nodest_conn: bool,
}

impl Lab {
    fn new(expire_nodest_conn: bool) -> Self {
        let stats = Arc::new(CoreStats::default());
        let snap = Arc::new(snapshot(vec![real(0, 11), real(1, 12)], expire_nodest_conn));
        Lab {
            p: Pipeline::new(0, 1, snap, stats.clone()).unwrap(),
            out: Sink::default(),
            stats,
            expire_nodest_conn,
        }
    }

    /// Sends a client segment; returns the real it reached, if any.
    fn send(&mut self, sport: u16, flags: u8, now: u64) -> Option<Ipv4Addr> {
        let before = self.out.sent.len();
        self.p.process(segment(sport, flags), 0, now, &mut self.out);
        (self.out.sent.len() > before).then(|| dst_of(self.out.sent.last().unwrap()))
    }

    fn state(&self) -> &'static str {
        self.p.last_conn().map_or("-", |c| c.state_name())
    }

    fn apply(&mut self, reals: Vec<dataplane::snapshot::RealSpec>) {
        let snap = Arc::new(snapshot(reals, self.expire_nodest_conn));
        self.p.apply(snap).unwrap();
    }
}

fn other(rs: Ipv4Addr) -> (dataplane::snapshot::RealSpec, Ipv4Addr) {
    if rs == Ipv4Addr::new(10, 1, 0, 11) {
        (real(1, 12), Ipv4Addr::new(10, 1, 0, 12))
    } else {
        (real(0, 11), Ipv4Addr::new(10, 1, 0, 11))
    }
}

#[test]
fn a_reused_port_never_reaches_a_removed_real() {
    let mut lab = Lab::new(false);
    let rs = lab.send(40000, SYN, 1).unwrap();
    // A client FIN in SYN_RECV leads to TIME_WAIT (INPUT table).
    lab.send(40000, FIN | ACK, 2).unwrap();
    assert_eq!(lab.state(), "TIME_WAIT");
    // `fvsadm -d` of that real.
    let (keep, keep_addr) = other(rs);
    lab.apply(vec![keep]);
    // The client reuses its port within TIME_WAIT's 120 s.
    let to = lab.send(40000, SYN, 3_000).unwrap();
    assert_eq!(to, keep_addr, "the reused tuple is scheduled anew");
    assert_eq!(lab.state(), "SYN_RECV");
    assert_eq!(lab.stats.conns_reused.get(), 1);
    assert_eq!(lab.p.conns().len(), 1, "the old entry is gone");
}

#[test]
fn a_syn_on_an_established_entry_of_a_removed_real_follows_the_kernel() {
    // Without expire_nodest_conn the kernel keeps an ESTABLISHED entry of a
    // removed real: the SYN goes where the entry says.
    let mut lab = Lab::new(false);
    let rs = lab.send(40001, SYN, 1).unwrap();
    lab.send(40001, ACK, 2).unwrap();
    assert_eq!(lab.state(), "ESTABLISHED");
    let (keep, _) = other(rs);
    lab.apply(vec![keep]);
    assert_eq!(lab.send(40001, SYN, 3).unwrap(), rs);
    assert_eq!(lab.stats.conns_reused.get(), 0);
}

#[test]
fn expire_nodest_conn_reschedules_a_syn_on_a_quiesced_real() {
    for on in [false, true] {
        let mut lab = Lab::new(on);
        let rs = lab.send(40002, SYN, 1).unwrap();
        lab.send(40002, ACK, 2).unwrap();
        assert_eq!(lab.state(), "ESTABLISHED");
        // `fvsadm -e ... -w 0` of that real.
        let (keep, keep_addr) = other(rs);
        let mut quiesced = if keep.id == 0 {
            real(1, 12)
        } else {
            real(0, 11)
        };
        quiesced.weight = 0;
        lab.apply(
            vec![real(0, 11), real(1, 12)]
                .into_iter()
                .map(|r| {
                    if r.id == quiesced.id {
                        quiesced.clone()
                    } else {
                        r
                    }
                })
                .collect(),
        );
        let to = lab.send(40002, SYN, 3).unwrap();
        if on {
            assert_eq!(to, keep_addr, "expire_nodest_conn: rescheduled");
            assert_eq!(lab.stats.conns_reused.get(), 1);
        } else {
            assert_eq!(to, rs, "default: the entry keeps its quiesced real");
            assert_eq!(lab.stats.conns_reused.get(), 0);
        }
    }
}

#[test]
fn only_a_pure_syn_reuses_a_closing_entry() {
    let mut lab = Lab::new(false);
    let rs = lab.send(40003, SYN, 1).unwrap();
    lab.send(40003, FIN | ACK, 2).unwrap();
    assert_eq!(lab.state(), "TIME_WAIT");
    // SYN+ACK, SYN+FIN, SYN+RST are not new connections (is_new_conn).
    for flags in [SYN | ACK, SYN | FIN] {
        assert_eq!(lab.send(40003, flags, 3), Some(rs), "flags {flags:#x}");
        assert_eq!(lab.stats.conns_reused.get(), 0);
    }
}
