//! Connection sync through the packet path, as a client meets it: the master
//! queues an established connection on its 3rd client packet; a backup that
//! installs it forwards the connection's next packet to the same real,
//! counts it on that real, and a second installation updates rather than
//! duplicates.
mod common;

use std::net::Ipv4Addr;
use std::sync::Arc;

use common::{real, segment, snapshot, Sink, CLIENT, VIP};
use connsync::{SyncConn, SyncPolicy, FWD_MASQ};
use dataplane::sync_rings::SyncRings;
use dataplane::{CoreStats, DropReason, Frame, Pipeline, VecFrame};

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const SYNACK: u8 = 0x12;
const PSHACK: u8 = 0x18;

/// The real's reply `rs:8080 -> client:cport`.
fn reply(rs: Ipv4Addr, cport: u16, flags: u8) -> VecFrame {
    let mut f = segment(cport, flags).data().to_vec();
    f[26..30].copy_from_slice(&rs.octets());
    f[30..34].copy_from_slice(&CLIENT.octets());
    f[34..36].copy_from_slice(&8080u16.to_be_bytes());
    f[36..38].copy_from_slice(&cport.to_be_bytes());
    VecFrame::from_bytes(&f)
}

fn pipeline(rings: &Arc<SyncRings>) -> (Pipeline<VecFrame>, Arc<CoreStats>) {
    let snap = snapshot(vec![real(1, 11), real(2, 12)], false);
    let stats = Arc::new(CoreStats::default());
    let mut p = Pipeline::new(0, 1, Arc::new(snap), stats.clone()).unwrap();
    p.use_sync(rings.clone());
    (p, stats)
}

/// Destination address of a sent frame.
fn dst(f: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(f[30], f[31], f[32], f[33])
}

#[test]
fn an_established_connection_reaches_the_backup_and_keeps_its_real() {
    let master_rings = Arc::new(SyncRings::new(1, SyncPolicy::default()));
    master_rings.set_sending(true);
    let (mut master, mstats) = pipeline(&master_rings);
    let mut sink = Sink::default();
    // Handshake and one request: the 3rd client packet makes it due.
    master.process(segment(40000, SYN), 0, 1, &mut sink);
    let rs = dst(&sink.sent[0]);
    master.process(reply(rs, 40000, SYNACK), 0, 2, &mut sink);
    master.process(segment(40000, ACK), 0, 3, &mut sink);
    let mut out = Vec::new();
    master_rings.drain_out(0, |c| out.push(c));
    assert!(out.is_empty(), "not before the 3rd client packet");
    master.process(segment(40000, PSHACK), 0, 4, &mut sink);
    master_rings.drain_out(0, |c| out.push(c));
    assert_eq!(out.len(), 1);
    assert_eq!(mstats.sync_sent.get(), 1);
    let sc: SyncConn = out[0].clone();
    assert_eq!(
        (
            sc.protocol,
            sc.flags,
            sc.state,
            sc.caddr,
            sc.cport,
            sc.vaddr,
            sc.vport
        ),
        (6, FWD_MASQ, 1, CLIENT, 40000, VIP, 80)
    );
    assert_eq!((sc.daddr, sc.dport, sc.timeout_s), (rs, 8080, 900));
    // Further packets: not again until the kernel's period.
    master.process(segment(40000, ACK), 0, 5, &mut sink);
    master_rings.drain_out(0, |c| out.push(c));
    assert_eq!(out.len(), 1);

    // The backup installs it. Without the entry this mid-connection packet
    // would be dropped (no SYN, no connection): forwarding it to `rs`
    // proves the entry is used.
    let backup_rings = Arc::new(SyncRings::new(1, SyncPolicy::default()));
    let (mut backup, bstats) = pipeline(&backup_rings);
    assert!(backup_rings.install(0, sc.clone()));
    backup.sync_tick(10);
    assert_eq!(bstats.sync_installed.get(), 1);
    assert_eq!(backup.conns().len(), 1);
    let mut bsink = Sink::default();
    backup.process(segment(40000, PSHACK), 0, 11, &mut bsink);
    assert_eq!(bsink.sent.len(), 1, "forwarded, not dropped");
    assert_eq!(dst(&bsink.sent[0]), rs);
    assert_eq!(bstats.drops_of(DropReason::NoConnection), 0);
    // Counted as an active connection of that real, as IPVS counts synced ones.
    let svc = backup.services().next().unwrap();
    let id = svc.spec.reals.iter().find(|r| r.addr == rs).unwrap().id;
    let c = &svc.counters.reals[id as usize];
    let counts = (
        c.active.load(std::sync::atomic::Ordering::Relaxed),
        c.inactive.load(std::sync::atomic::Ordering::Relaxed),
    );
    assert_eq!(counts, (1, 0));
    // The same connection again (a later update): still one entry.
    assert!(backup_rings.install(0, sc));
    backup.sync_tick(12);
    assert_eq!(backup.conns().len(), 1);
}

#[test]
fn a_connection_to_a_real_the_backup_lacks_is_refused_and_counted() {
    let rings = Arc::new(SyncRings::new(1, SyncPolicy::default()));
    let (mut backup, stats) = pipeline(&rings);
    let sc = SyncConn {
        protocol: 6,
        flags: FWD_MASQ,
        state: 1,
        cport: 40001,
        vport: 80,
        dport: 8080,
        fwmark: 0,
        timeout_s: 900,
        caddr: CLIENT,
        vaddr: VIP,
        daddr: Ipv4Addr::new(10, 1, 0, 99),
        in_seq: None,
        out_seq: None,
        fullnat: None,
    };
    assert!(rings.install(0, sc));
    backup.sync_tick(1);
    assert_eq!(stats.sync_installed.get(), 0);
    assert_eq!(
        stats.sync_refused[dataplane::pipeline::SyncRefusal::NoReal as usize].get(),
        1
    );
    assert_eq!(backup.conns().len(), 0);
}

#[test]
fn a_fullnat_connection_from_a_master_with_other_workers_has_no_owner() {
    // Two workers here: a FullNAT connection's local port must map to the
    // worker its client maps to, as it does on a master with two workers.
    let snap = snapshot(vec![real(1, 11)], false);
    let mut sc = SyncConn {
        protocol: 6,
        flags: connsync::FWD_FULLNAT,
        state: 1,
        cport: 40001,
        vport: 80,
        dport: 8080,
        fwmark: 0,
        timeout_s: 900,
        caddr: CLIENT,
        vaddr: VIP,
        daddr: Ipv4Addr::new(10, 1, 0, 11),
        in_seq: None,
        out_seq: None,
        fullnat: None,
    };
    let by_client = dataplane::pipeline::sync_owner(&snap, 2, &sc).unwrap();
    for lport in [40000u16, 40001] {
        sc.fullnat = Some((Ipv4Addr::new(10, 1, 0, 100), lport));
        let owner = dataplane::pipeline::sync_owner(&snap, 2, &sc);
        if usize::from(lport & 1) == by_client {
            assert_eq!(owner, Some(by_client));
        } else {
            assert_eq!(owner, None, "port {lport} belongs to the other worker");
        }
    }
}

#[test]
fn a_persistence_template_reaches_the_backup_and_keeps_its_clients_real() {
    // Persistence 300 s on both directors. The master sends its first
    // client to the second real (another client took the first), so the
    // backup's own scheduler, fresh, would choose differently.
    let persistent = |rings: &Arc<SyncRings>| {
        let mut snap = snapshot(vec![real(1, 11), real(2, 12)], false);
        snap.services[0].persistence = Some(dataplane::snapshot::Persistence {
            timeout_s: 300,
            netmask: Ipv4Addr::BROADCAST,
        });
        let stats = Arc::new(CoreStats::default());
        let mut p = Pipeline::new(0, 1, Arc::new(snap), stats.clone()).unwrap();
        p.use_sync(rings.clone());
        (p, stats)
    };
    let master_rings = Arc::new(SyncRings::new(1, SyncPolicy::default()));
    master_rings.set_sending(true);
    let (mut master, _) = persistent(&master_rings);
    let mut sink = Sink::default();
    let other = {
        let mut f = segment(30000, SYN).data().to_vec();
        f[26..30].copy_from_slice(&[10, 0, 0, 3]);
        VecFrame::from_bytes(&f)
    };
    master.process(other, 0, 1, &mut sink);
    master.process(segment(40000, SYN), 0, 1, &mut sink);
    let rs = dst(sink.sent.last().unwrap());
    master.process(reply(rs, 40000, SYNACK), 0, 2, &mut sink);
    for t in 3..5 {
        master.process(segment(40000, ACK), 0, t, &mut sink);
    }
    let mut out = Vec::new();
    master_rings.drain_out(0, |c| out.push(c));
    let t: Vec<&SyncConn> = out.iter().filter(|c| c.is_template()).collect();
    assert_eq!(
        t.len(),
        1,
        "the template travels with its connection: {out:?}"
    );
    assert_eq!(
        (t[0].cport, t[0].caddr, t[0].daddr, t[0].timeout_s),
        (0, CLIENT, rs, 300)
    );

    let backup_rings = Arc::new(SyncRings::new(1, SyncPolicy::default()));
    let (mut backup, bstats) = persistent(&backup_rings);
    for c in out {
        assert!(backup_rings.install(0, c));
    }
    backup.sync_tick(10);
    assert_eq!(bstats.sync_installed.get(), 2);
    assert_eq!(backup.templates().len(), 1);
    // A new connection of that client after the takeover: the same real.
    let mut bsink = Sink::default();
    backup.process(segment(40001, SYN), 0, 11, &mut bsink);
    assert_eq!(dst(&bsink.sent[0]), rs);
}
