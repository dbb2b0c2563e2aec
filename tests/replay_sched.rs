//! Issue 3 replay acceptance: for every scheduler, a capture of new
//! connections leaves towards the real servers in exactly the order the
//! `sched` crate's model predicts; persistence keeps a client on one real
//! inside its timeout and lets it move after the template expired.
mod common;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use common::*;
use dataplane::sched::{self, Dest, DestChange, PacketKey, SchedFlags};

const SEC: u64 = 1_000_000_000;
const REALS: [(Ipv4Addr, u32); 4] = [
    (Ipv4Addr::new(10, 1, 0, 11), 3),
    (Ipv4Addr::new(10, 1, 0, 12), 1),
    (Ipv4Addr::new(10, 1, 0, 13), 2),
    (Ipv4Addr::new(10, 1, 0, 14), 0),
];

fn config(scheduler: &str, flags: &[&str], persistence: Option<u32>) -> PathBuf {
    let mut y = String::from(
        "workers: {cores: [1]}\nports:\n  - {name: eth0, device: net_null0, mac: \"02:00:00:00:00:01\", addresses: [10.0.0.1/16, 10.1.0.1/24]}\nneighbors:\n",
    );
    for (i, (ip, _)) in REALS.iter().enumerate() {
        y += &format!(
            "  - {{ip: {ip}, mac: \"02:00:00:00:01:{:02x}\", port: eth0}}\n",
            0x11 + i
        );
    }
    y += &format!(
        "services:\n  - name: s\n    vip: 10.0.0.100\n    port: 80\n    protocol: tcp\n    scheduler: {scheduler}\n    flags: [{}]\n",
        flags.join(", ")
    );
    if let Some(t) = persistence {
        y += &format!("    persistence: {{timeout: {t}}}\n");
    }
    y += "    reals:\n";
    for (ip, w) in REALS {
        y += &format!("      - {{address: {ip}, port: 8080, weight: {w}}}\n");
    }
    let path = std::env::temp_dir().join(format!(
        "ferrovs-sched-{}-{scheduler}-{}.yaml",
        std::process::id(),
        flags.join("_")
    ));
    std::fs::write(&path, y).unwrap();
    path
}

/// The clients: varied addresses in 10.0.0.0/16 and varied ports.
fn client(i: u32) -> (Ipv4Addr, u16) {
    let x = i.wrapping_mul(2_654_435_761);
    (
        Ipv4Addr::new(10, 0, (x >> 24) as u8 % 200, 2 + (x >> 16) as u8 % 250),
        20_000 + (x % 40_000) as u16,
    )
}

/// What the dataplane does, modelled with the sched crate alone: the list is
/// built by adding the reals in file order (each to the front), every
/// scheduled SYN makes one more active connection on its real.
fn model(name: &str, flags: SchedFlags, n: u32) -> Vec<Option<Ipv4Addr>> {
    let mut s = sched::new_scheduler(name, flags, &[], 0).unwrap();
    let mut dests: Vec<Dest> = Vec::new();
    for (id, (ip, w)) in REALS.iter().enumerate() {
        dests.insert(0, Dest::new(id as u32, *ip, 8080, *w));
        s.dests_changed(&dests, DestChange::Added(0));
    }
    (0..n)
        .map(|i| {
            let (src, sport) = client(i);
            let key = PacketKey {
                src,
                sport,
                dst: VIP,
                dport: 80,
                proto: 6,
            };
            let pos = s.schedule(&dests, &key, 1000 + u64::from(i))?;
            dests[pos].active += 1;
            dests[pos].refresh_overload();
            Some(dests[pos].addr)
        })
        .collect()
}

fn flag_set(flags: &[&str]) -> SchedFlags {
    SchedFlags {
        sh_fallback: flags.contains(&"sh-fallback"),
        sh_port: flags.contains(&"sh-port"),
        mh_fallback: flags.contains(&"mh-fallback"),
        mh_port: flags.contains(&"mh-port"),
    }
}

fn check_scheduler(name: &str, flags: &[&str]) {
    const N: u32 = 40;
    let frames: Vec<_> = (0..N)
        .map(|i| {
            let (src, sport) = client(i);
            (
                SEC + u64::from(i) * 1_000_000,
                tcp_frame(CLIENT_MAC, src, sport, VIP, 80, SYN),
            )
        })
        .collect();
    let r = replay(&config(name, flags, None), &frames);
    let expected: Vec<Ipv4Addr> = model(name, flag_set(flags), N)
        .into_iter()
        .flatten()
        .collect();
    let got: Vec<Ipv4Addr> = r.out.iter().map(|(_, f)| parse_tcp(f).dst).collect();
    assert_eq!(got, expected, "{name} {flags:?}: sequence of real servers");
    assert!(
        !got.contains(&REALS[3].0),
        "{name}: the weight-0 real is never picked"
    );
    let dropped = u64::from(N) - got.len() as u64;
    assert_eq!(
        drops(&r.report, "no_destination"),
        dropped,
        "{name}: unscheduled SYNs are counted"
    );
}

#[test]
fn every_scheduler_follows_its_model() {
    for name in sched::SCHEDULER_NAMES {
        check_scheduler(name, &[]);
    }
}

#[test]
fn hashing_schedulers_with_flags_follow_their_model() {
    check_scheduler("sh", &["sh-port"]);
    check_scheduler("sh", &["sh-fallback"]);
    check_scheduler("mh", &["mh-port"]);
    check_scheduler("mh", &["mh-fallback", "mh-port"]);
}

#[test]
fn persistence_keeps_a_client_on_one_real_until_the_template_expires() {
    let cfg = config("rr", &[], Some(10));
    let c = Ipv4Addr::new(10, 0, 5, 5);
    let other = Ipv4Addr::new(10, 0, 6, 6);
    let at = |s: f64| (s * SEC as f64) as u64;
    // SYN_RECV lasts 60 s (a client RST does not end it: IPVS's INPUT table
    // keeps SYN_RECV on RST), so each connection lives 60 s after its SYN and
    // the 10 s template is re-armed for as long as it controls one.
    let mut frames = vec![
        (at(1.0), tcp_frame(CLIENT_MAC, c, 30001, VIP, 80, SYN)),
        (at(1.1), tcp_frame(CLIENT_MAC, other, 30002, VIP, 80, SYN)),
        (at(2.0), tcp_frame(CLIENT_MAC, c, 30003, VIP, 80, SYN)),
        (at(5.0), tcp_frame(CLIENT_MAC, c, 30004, VIP, 80, SYN)),
        (at(6.0), tcp_frame(CLIENT_MAC, c, 30001, VIP, 80, RST | ACK)),
        // Past the template's own 10 s, but it still controls connections.
        (at(40.0), tcp_frame(CLIENT_MAC, c, 30005, VIP, 80, SYN)),
    ];
    // A frame per second drives the clock: connections expire by 100 s, the
    // template one timeout after it controls nothing.
    for s in 41..130 {
        frames.push((
            at(f64::from(s)),
            arp_request(CLIENT_MAC, CLIENT, Ipv4Addr::new(10, 0, 0, 77)),
        ));
    }
    frames.push((at(130.0), tcp_frame(CLIENT_MAC, c, 30006, VIP, 80, SYN)));
    let r = replay(&cfg, &frames);
    let syns: Vec<(Ipv4Addr, Ipv4Addr, u16)> = r
        .out
        .iter()
        .map(|(_, f)| parse_tcp(f))
        .filter(|s| s.flags == SYN)
        .map(|s| (s.src, s.dst, s.sport))
        .collect();
    let of = |port: u16| {
        syns.iter()
            .find(|s| s.2 == port)
            .map(|s| s.1)
            .expect("forwarded")
    };
    let first = of(30001);
    assert_eq!(of(30003), first, "same real inside the timeout");
    assert_eq!(of(30004), first, "same real inside the timeout");
    assert_eq!(
        of(30005),
        first,
        "template re-armed while it controlled connections"
    );
    assert_ne!(
        of(30002),
        first,
        "another client is scheduled normally (rr moves on)"
    );
    assert_ne!(
        of(30006),
        first,
        "after the template expired the client is scheduled anew"
    );
}
