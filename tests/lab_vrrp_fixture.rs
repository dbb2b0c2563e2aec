//! The VRRP lab fixture checked live with keepalived alone, before any
//! ferrovs VRRP exists: the lab's keepalived namespaces, the notify FIFO
//! reader, the sniffer (adverts, checksums, gratuitous ARP, who answers ARP),
//! and the figures the ferrovs tests are held to: keepalived against
//! keepalived, a master killed and the backup's takeover measured.
//!
//! Also pinned here, because the ferrovs side must interoperate with it:
//! what keepalived 2.2.7 does with a wrong password and with a v3 master
//! whose interval differs from its own.
mod lab_common;
use std::time::{Duration, Instant};

use lab_common::vrrp::*;
use lab_common::*;

const KA1: &str = "10.99.0.5";
const KA2: &str = "10.99.0.6";

fn ka(priority: u8, version: u8, advert_int: f64, fifo: &Fifo) -> KaInstance {
    KaInstance {
        priority,
        version,
        advert_int,
        notify_fifo: Some(fifo.path.clone()),
        ..KaInstance::default()
    }
}

/// ka1 (150) is master and ka2 (100) backup: FIFO lines, adverts.
fn elect(
    lab: &Lab,
    cap: &Capture,
    c1: &KaInstance,
    c2: &KaInstance,
    f1: &Fifo,
    f2: &Fifo,
) -> (Keepalived, Keepalived, Instant) {
    let started = Instant::now();
    let k1 = Keepalived::start(lab, "ka1", &c1.conf());
    let k2 = Keepalived::start(lab, "ka2", &c2.conf());
    // Both start BACKUP; ka1's master-down timer (3 intervals + its skew)
    // runs out first. Bounded: twice that, plus start-up.
    let bound = Duration::from_secs_f64(2.0 * c1.advert_int.max(1.0) * 4.0 + 5.0);
    let m1 = f1.wait_state("MASTER", None, bound).unwrap_or_else(|| {
        panic!(
            "ka1 not MASTER: {}\n{}\n{}",
            f1.text(),
            k1.log_text(),
            cap.summary()
        )
    });
    assert!(
        f2.wait_state("BACKUP", None, Duration::from_secs(5))
            .is_some(),
        "ka2: {}",
        f2.text()
    );
    eprintln!(
        "ka1 MASTER {:.3} s after start (3 x {} + skew {:.3} = {:.3})",
        secs(started, m1),
        c1.advert_int,
        skew(c1.version, c1.priority, c1.advert_int),
        master_down(c1.version, c1.priority, c1.advert_int)
    );
    (k1, k2, m1)
}

#[test]
fn keepalived_v2_pair_elects_answers_arp_and_fails_over_within_the_rules() {
    let Some(lab) = Lab::try_up_vrrp(1, "nat", 1, 2) else {
        return;
    };
    let cap = Capture::start(&lab, "br", "br0");
    let (f1, f2) = (Fifo::create("ka1.fifo"), Fifo::create("ka2.fifo"));
    let pass = |mut k: KaInstance| {
        k.auth_pass = Some("1111".into());
        k
    };
    let c1 = pass(ka(150, 2, 1.0, &f1));
    let c2 = pass(ka(100, 2, 1.0, &f2));
    let (mut k1, mut k2, m1) = elect(&lab, &cap, &c1, &c2, &f1, &f2);
    let mac1 = lab.mac_of("ka1", "eth0");
    let mac2 = lab.mac_of("ka2", "eth0");
    assert_eq!(
        f1.text(),
        "INSTANCE \"VI_1\" BACKUP 150\nINSTANCE \"VI_1\" MASTER 150"
    );
    assert_eq!(f2.text(), "INSTANCE \"VI_1\" BACKUP 100");

    // ka1's adverts: every second, TTL 255, to 224.0.0.18 from its primary
    // address and MAC, v2 PASS "1111" padded with zeros, plain checksum.
    let adv = cap.wait_adverts_from(KA1, m1, 4, Duration::from_secs(8));
    assert!(adv.len() >= 4, "{}", cap.summary());
    for a in &adv {
        assert_eq!(
            (a.dst.as_str(), a.ttl, a.version, a.kind, a.vrid, a.priority),
            (MCAST, 255, 2, 1, 51, 150),
            "{a:?}"
        );
        assert_eq!(a.src_mac, mac1);
        assert_eq!(a.addrs, vec![VIP.to_owned()]);
        assert_eq!(
            (a.auth_type, a.auth_data.as_str()),
            (Some(1), "3131313100000000")
        );
        assert_eq!(a.interval, 1);
        assert!(a.checksum_plain_ok && !a.checksum_pseudo_ok, "{a:?}");
    }
    let g = gaps(&adv);
    assert!(
        g.iter().all(|g| (0.8..=1.2).contains(g)),
        "advert gaps {g:?}"
    );
    eprintln!("ka1 advert gaps {g:.3?}");
    assert!(
        cap.adverts_from(KA2).is_empty(),
        "a backup sends nothing: {}",
        cap.summary()
    );
    // Becoming master: gratuitous ARPs (keepalived sends requests) with ka1's MAC.
    let garps = cap.garps(VIP, &mac1, m1 - Duration::from_millis(500));
    assert!(garps.len() >= 5, "{:?}", cap.arps());
    eprintln!(
        "ka1 gratuitous ARP for the VIP: {} (ops {:?})",
        garps.len(),
        garps.iter().map(|a| a.op).collect::<Vec<_>>()
    );
    let probe = lab.arp_probe("c", "c0", VIP, 3);
    assert!(probe.only(&mac1), "{probe:?} (ka1 {mac1}, ka2 {mac2})");
    assert_eq!(probe.macs.len(), 3, "{probe:?}");

    // ka1 crashes. ka2 takes over after Master_Down_Interval =
    // 3 x 1 + (256 - 100)/256 s from ka1's last advert.
    std::thread::sleep(Duration::from_millis(300));
    let killed = Instant::now();
    k1.kill9();
    let m2 = f2
        .wait_state("MASTER", Some(killed), Duration::from_secs(10))
        .unwrap_or_else(|| panic!("ka2 no MASTER: {}\n{}", f2.text(), cap.summary()));
    let first2 = cap
        .wait_advert_from(KA2, killed, 1, Duration::from_secs(2))
        .unwrap_or_else(|| panic!("{}", cap.summary()));
    let last1 = cap
        .last_advert_from(KA1, killed, 1)
        .expect("ka1 advertised");
    let down = master_down(2, 100, 1.0);
    let takeover = secs(killed, m2);
    let observed = first2.t - last1.t;
    eprintln!(
        "keepalived v2 takeover: kill -> ka2 MASTER (fifo) {takeover:.3} s, kill -> ka2's first advert {:.3} s, \
         ka1's last advert -> ka2's first {observed:.3} s (Master_Down_Interval {down:.3} s)",
        secs(killed, first2.at())
    );
    assert!(
        takeover <= 3.0 + 156.0 / 256.0 + 0.5,
        "takeover {takeover:.3} s"
    );
    assert!(
        observed >= 3.0 && observed <= down + 0.5,
        "ka1's last advert -> ka2's first: {observed:.3} s"
    );
    assert_eq!(first2.priority, 100);
    assert!(cap.garps(VIP, &mac2, killed).len() >= 5, "{:?}", cap.arps());
    // The classic split brain: a killed keepalived leaves the VIP on its
    // interface, so ka1's kernel still answers ARP for it beside ka2.
    let probe = lab.arp_probe("c", "c0", VIP, 3);
    let by = probe.answered_by();
    eprintln!("ARP for the VIP after ka1's crash answered by {by:?} (ka1 {mac1}, ka2 {mac2})");
    assert!(by.contains(&mac2) && by.contains(&mac1), "{probe:?}");

    // A clean stop: one advert with priority 0, a STOP line.
    let stopping = Instant::now();
    assert!(k2.terminate(Duration::from_secs(10)));
    let zero = cap
        .wait_priority_from(KA2, stopping, 0, Duration::from_secs(2))
        .unwrap_or_else(|| panic!("{}", cap.summary()));
    assert_eq!(zero.ttl, 255);
    assert!(
        f2.wait_state("STOP", Some(stopping), Duration::from_secs(2))
            .is_some(),
        "{}",
        f2.text()
    );
    assert_eq!(
        f2.text(),
        "INSTANCE \"VI_1\" BACKUP 100\nINSTANCE \"VI_1\" MASTER 100\nINSTANCE \"VI_1\" STOP 100"
    );
    eprintln!(
        "ka2 stop: priority-0 advert {:.3} s after SIGTERM",
        secs(stopping, zero.at())
    );
}

#[test]
fn keepalived_v3_fast_adverts_carry_the_pseudo_header_checksum() {
    let Some(lab) = Lab::try_up_vrrp(1, "nat", 1, 2) else {
        return;
    };
    let cap = Capture::start(&lab, "br", "br0");
    let (f1, f2) = (Fifo::create("ka1.fifo"), Fifo::create("ka2.fifo"));
    let c1 = ka(150, 3, 0.1, &f1);
    let c2 = ka(100, 3, 0.1, &f2);
    let (mut k1, _k2, m1) = elect(&lab, &cap, &c1, &c2, &f1, &f2);
    let adv = cap.wait_adverts_from(KA1, m1, 20, Duration::from_secs(5));
    assert!(adv.len() >= 20, "{}", cap.summary());
    for a in &adv {
        assert_eq!(
            (a.ttl, a.version, a.priority, a.interval, a.length),
            (255, 3, 150, 10, 12),
            "{a:?}"
        );
        assert!(
            a.checksum_pseudo_ok && !a.checksum_plain_ok,
            "keepalived 2.2.7's v3 checksum covers the pseudo-header: {a:?}"
        );
        assert_eq!(a.auth_type, None);
    }
    let g = gaps(&adv);
    let med = median(&g);
    assert!((0.08..=0.13).contains(&med), "median gap {med:.3} s: {g:?}");
    eprintln!(
        "ka1 v3 advert gaps: median {med:.3} s, max {:.3} s",
        g.iter().cloned().fold(0.0, f64::max)
    );

    std::thread::sleep(Duration::from_millis(200));
    let killed = Instant::now();
    k1.kill9();
    let m2 = f2
        .wait_state("MASTER", Some(killed), Duration::from_secs(5))
        .unwrap_or_else(|| panic!("ka2 no MASTER: {}\n{}", f2.text(), cap.summary()));
    let first2 = cap
        .wait_advert_from(KA2, killed, 1, Duration::from_secs(2))
        .unwrap_or_else(|| panic!("{}", cap.summary()));
    let last1 = cap.last_advert_from(KA1, killed, 1).unwrap();
    let down = master_down(3, 100, 0.1);
    let takeover = secs(killed, m2);
    let observed = first2.t - last1.t;
    eprintln!(
        "keepalived v3 (0.1 s) takeover: kill -> ka2 MASTER (fifo) {takeover:.3} s, kill -> first advert {:.3} s, \
         last ka1 advert -> first ka2 advert {observed:.3} s (Master_Down_Interval {down:.3} s)",
        secs(killed, first2.at())
    );
    assert!(takeover <= down + 0.5, "takeover {takeover:.3} s");
    assert!(observed >= 0.3 && observed <= down + 0.5, "{observed:.3} s");
    assert!(first2.checksum_pseudo_ok && first2.interval == 10);
}

/// What a ferrovs director meeting keepalived 2.2.7 will see.
#[test]
fn keepalived_behaviour_on_a_wrong_password_and_a_v3_interval_mismatch() {
    let Some(lab) = Lab::try_up_vrrp(1, "nat", 1, 2) else {
        return;
    };
    let cap = Capture::start(&lab, "br", "br0");

    // v2, passwords differ: each drops the other's adverts (logged per
    // packet) and both are MASTER.
    {
        let (f1, f2) = (Fifo::create("ka1.fifo"), Fifo::create("ka2.fifo"));
        let mut c1 = ka(150, 2, 1.0, &f1);
        c1.auth_pass = Some("1111".into());
        let mut c2 = ka(100, 2, 1.0, &f2);
        c2.auth_pass = Some("2222".into());
        let k1 = Keepalived::start(&lab, "ka1", &c1.conf());
        let k2 = Keepalived::start(&lab, "ka2", &c2.conf());
        let both = wait_until(Duration::from_secs(10), Duration::from_millis(50), || {
            f1.last_state().as_deref() == Some("MASTER")
                && f2.last_state().as_deref() == Some("MASTER")
        });
        assert!(both.is_some(), "{}\n{}", f1.text(), f2.text());
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(f1.last_state().as_deref(), Some("MASTER"));
        assert_eq!(f2.last_state().as_deref(), Some("MASTER"));
        // One log line per dropped advert: ka2 sends one a second.
        let invalid = |k: &Keepalived| {
            k.log_text()
                .matches("(VI_1) received an invalid passwd!")
                .count()
        };
        let logged = wait_until(Duration::from_secs(5), Duration::from_millis(100), || {
            invalid(&k1) >= 3 && invalid(&k2) >= 3
        });
        assert!(
            logged.is_some(),
            "{}
{}",
            k1.log_text(),
            k2.log_text()
        );
        let n = invalid(&k1);
        eprintln!(
            "wrong password: both MASTER; ka1 logged \"received an invalid passwd!\" {n} times; \
             ka2 sends auth_data {:?}",
            cap.adverts_from(KA2).last().map(|a| a.auth_data.clone())
        );
        drop((k1, k2));
    }

    // v3: ka2 (100, 0.1 s) starts beside a master ka1 (150, 1 s). Its own
    // 0.36 s master-down timer runs out between ka1's adverts: it becomes
    // MASTER, ka1 answers the lower priority at once (MASTER_RX_LOWER_PRI),
    // ka2 goes BACKUP and adopts the master's interval.
    let (f1, f2) = (Fifo::create("ka1.fifo"), Fifo::create("ka2.fifo"));
    let c1 = ka(150, 3, 1.0, &f1);
    let c2 = ka(100, 3, 0.1, &f2);
    let _k1 = Keepalived::start(&lab, "ka1", &c1.conf());
    let m1 = f1
        .wait_state("MASTER", None, Duration::from_secs(10))
        .expect("ka1 MASTER");
    let k2 = Keepalived::start(&lab, "ka2", &c2.conf());
    assert!(
        f2.wait_state("BACKUP", Some(m1), Duration::from_secs(5))
            .is_some(),
        "{}",
        f2.text()
    );
    std::thread::sleep(Duration::from_secs(3));
    // When ka2 went BACKUP for good (after its brief MASTER, if any).
    let b2 = f2
        .lines()
        .iter()
        .rev()
        .find(|(_, l)| l == "INSTANCE \"VI_1\" BACKUP 100")
        .map(|(t, _)| *t)
        .unwrap();
    eprintln!(
        "v3 interval mismatch, ka1 fifo: {:?}; ka2 fifo: {:?}",
        f1.text(),
        f2.text()
    );
    assert_eq!(f2.last_state().as_deref(), Some("BACKUP"), "{}", f2.text());
    assert_eq!(f1.last_state().as_deref(), Some("MASTER"), "{}", f1.text());
    let log2 = k2.log_text();
    assert!(
        log2.contains("(VI_1) advertisement interval updated from 100ms to 1000ms by master"),
        "{log2}"
    );
    if f2.text().contains("MASTER 100") {
        assert!(
            f1.text()
                .contains("INSTANCE \"VI_1\" MASTER_RX_LOWER_PRI 150"),
            "{}",
            f1.text()
        );
    }
    // Once BACKUP with the adopted 1 s interval, ka2 stays quiet.
    let after = b2 + Duration::from_millis(200);
    assert!(
        cap.first_advert_from(KA2, after, 1).is_none(),
        "{}",
        cap.summary()
    );
}

/// The v3 checksum trap, on keepalived itself: a scripted peer at priority
/// 200 keeps keepalived (100) BACKUP while its checksum covers the IPv4
/// pseudo-header; with RFC 9568's checksum (the VRRP message alone, what
/// `v3_checksum_as_v2` sends) keepalived 2.2.7 drops every advert and
/// becomes MASTER.
#[test]
fn keepalived_v3_accepts_only_the_pseudo_header_checksum() {
    let Some(lab) = Lab::try_up_vrrp(1, "nat", 1, 1) else {
        return;
    };
    let cap = Capture::start(&lab, "br", "br0");
    let f1 = Fifo::create("ka1.fifo");
    let peer = |checksum: &str| {
        lab.send_adverts(
            "c",
            "c0",
            &[
                "--version",
                "3",
                "--priority",
                "200",
                "--advert-int",
                "100",
                "--checksum",
                checksum,
                "--count",
                "14",
                "--every",
                "0.5",
            ],
        )
    };
    let pseudo = peer("pseudo");
    std::thread::sleep(Duration::from_millis(300));
    let k1 = Keepalived::start(&lab, "ka1", &ka(100, 3, 1.0, &f1).conf());
    // 6 s: well past its 3.6 s master-down interval.
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(
        f1.text(),
        "INSTANCE \"VI_1\" BACKUP 100",
        "{}",
        k1.log_text()
    );
    let _ = pseudo.output(Duration::from_secs(10));
    let sent = cap.adverts_from("10.99.0.2");
    assert!(
        !sent.is_empty()
            && sent
                .iter()
                .all(|a| a.checksum_pseudo_ok && !a.checksum_plain_ok),
        "{}",
        cap.summary()
    );

    let plain_from = Instant::now();
    let plain = peer("plain");
    let m = f1
        .wait_state("MASTER", Some(plain_from), Duration::from_secs(10))
        .unwrap_or_else(|| panic!("{}\n{}", f1.text(), k1.log_text()));
    let _ = plain.output(Duration::from_secs(10));
    let log = k1.log_text();
    let invalid = log.matches("(VI_1) Invalid VRRPv3 checksum").count();
    assert!(invalid >= 3, "{log}");
    let sent = cap.first_advert_from("10.99.0.2", plain_from, 1).unwrap();
    assert!(
        sent.checksum_plain_ok && !sent.checksum_pseudo_ok,
        "{sent:?}"
    );
    eprintln!(
        "keepalived 2.2.7 v3: pseudo-header checksum accepted (BACKUP under a 200 peer); \
         RFC 9568 checksum dropped (\"Invalid VRRPv3 checksum\" x{invalid}), MASTER {:.3} s later",
        secs(plain_from, m)
    );
}

/// The two-director lab without VRRP: both directors fit beside each other
/// (hugepages, conn_max 100000, their own control sockets), each owns its
/// port addresses with its own MAC, and /metrics answers in each namespace.
#[test]
fn two_directors_run_side_by_side_on_the_bridge() {
    let Some(lab) = Lab::try_up_vrrp(3, "nat", 2, 0) else {
        return;
    };
    let cfg_a = director_config_base("fixture-lbA", Side::A.mac(), &Side::A.addresses());
    let cfg_b = director_config_base("fixture-lbB", Side::B.mac(), &Side::B.addresses());
    assert_ne!(cfg_a.sock, cfg_b.sock);
    let text = std::fs::read_to_string(&cfg_b.path).unwrap();
    assert!(
        text.contains("conn_max: 100000")
            && text.contains("addresses: [10.99.0.4/24, 10.99.1.4/24]")
            && text.contains("mac: \"02:00:00:00:00:02\""),
        "{text}"
    );
    let mut a = lab.director_in("lb", &cfg_a.path);
    let mut b = lab.director_in("lb2", &cfg_b.path);
    for (side, d) in [(Side::A, &mut a), (Side::B, &mut b)] {
        let up = wait_until(Duration::from_secs(30), Duration::from_millis(200), || {
            metrics_text(side.ns()).is_some()
        });
        assert!(
            up.is_some() && d.running(),
            "director {} not up:\n{}",
            side.name(),
            d.log_text()
        );
        let probe = lab.arp_probe("c", "c0", side.primary(), 3);
        assert!(
            probe.only(side.mac()),
            "{} {probe:?}\n{}",
            side.name(),
            d.log_text()
        );
        let frames = metric(
            &lab,
            side.ns(),
            "ferrovs_port_host_frames_total",
            &[("port", "eth0")],
        );
        assert!(frames.is_some(), "{}", metrics_text(side.ns()).unwrap());
        eprintln!(
            "director {} up in fvs-{}; ARP for {} answered by {:?}; host frames {frames:?}",
            side.name(),
            side.ns(),
            side.primary(),
            probe.answered_by()
        );
    }
    // The state sampler's plumbing: no VRRP yet, so no state, but every
    // sample was taken.
    let mut sampler = StateSampler::start(
        &["lb", "lb2"],
        Duration::from_millis(50),
        Duration::from_secs(5),
    );
    std::thread::sleep(Duration::from_millis(600));
    sampler.stop();
    let samples = sampler.samples();
    assert!(samples.len() >= 12, "{}", samples.len());
    for (side, d, sock) in [
        (Side::A, &mut a, &cfg_a.sock),
        (Side::B, &mut b, &cfg_b.sock),
    ] {
        let (rc, out, err) = fvsadm(sock, &["-Ln"]);
        assert_eq!(rc, 0, "{err}");
        assert!(out.contains("10.99.0.100:80"), "{out}");
        let st = d.terminate(Duration::from_secs(15));
        assert!(st.success(), "{} {st:?}\n{}", side.name(), d.log_text());
    }
    // The service in this layout: A alone, holding the reals' gateway
    // 10.99.1.1 as a plain address (what VRRP will hold for the master).
    let cfg = director_config_base(
        "fixture-lbA-gw",
        Side::A.mac(),
        &["10.99.0.3/24", "10.99.1.3/24", "10.99.1.1/24"],
    );
    let mut a = lab.director_in("lb", &cfg.path);
    lab.wait_for_service(URL, Duration::from_secs(30));
    let r = lab.http_requests(URL, 30);
    assert_eq!(r["ok"], 30, "{r}\n{}", a.log_text());
    assert_eq!(r["by_server"]["rs1"], 10, "{r}");
    assert!(a.terminate(Duration::from_secs(15)).success());
}
