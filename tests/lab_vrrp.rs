//! Native VRRP live: two ferrovs directors on one segment, A (`fvs-lb`,
//! 10.99.0.3, MAC 02:00:00:00:00:01) and B (`fvs-lb2`, 10.99.0.4, MAC
//! 02:00:00:00:00:02), one instance VI_1 (VRID 51) holding the VIP
//! 10.99.0.100 and the real servers' gateway 10.99.1.1/24 (NAT mode).
//!
//! What is measured, as an operator would: who answers ARP for the shared
//! addresses (`vrrp_sniff.py --arp-probe`), what goes on the wire (a capture
//! on the bridge: adverts, gratuitous ARP), what each director reports
//! (`ferrovs_vrrp_state`), and whether client requests through the VIP
//! succeed while the master is killed, stopped, wedged and comes back.
//! Bounds are the RFC's: Master_Down_Interval = 3 x advert_int + skew,
//! skew = (256 - priority)/256 s (v2), plus 0.5 s allowed.
mod lab_common;
use std::time::{Duration, Instant};

use lab_common::vrrp::*;
use lab_common::*;

#[test]
fn the_higher_priority_director_is_master_and_alone_answers_for_the_addresses() {
    let Some(lab) = Lab::try_up_vrrp(3, "nat", 2, 0) else {
        return;
    };
    let cap = Capture::start(&lab, "br", "br0");
    let (va, vb) = (Vrrp::with_priority(150), Vrrp::with_priority(100));
    let begin = Instant::now();
    let (mut a, mut b) = elected_pair(&lab, &va, &vb, false);
    let settled = Instant::now();

    // Who answers ARP: the master for the VIP (clients) and the gateway
    // (real servers); each director for its own primary address.
    let vip = lab.arp_probe("c", "c0", VIP, 3);
    assert!(vip.only(A.mac()), "VIP {vip:?}\n{}", logs(&[&a, &b]));
    let gw = lab.arp_probe("rs1", "eth0", GW, 3);
    assert!(gw.only(A.mac()), "gateway {gw:?}\n{}", logs(&[&a, &b]));
    for side in [A, B] {
        let own = lab.arp_probe("c", "c0", side.primary(), 2);
        assert!(own.only(side.mac()), "{} {own:?}", side.name());
    }

    // The service through the master: every request, spread over the reals.
    let r = lab.http_requests(URL, 300);
    assert_eq!(r["ok"], 300, "{r}\n{}", logs(&[&a, &b]));
    for rs in ["rs1", "rs2", "rs3"] {
        assert!(r["by_server"][rs].as_u64().unwrap_or(0) >= 50, "{r}");
    }

    // The wire: A advertises every second; B, a backup, says nothing.
    let adv = cap.wait_adverts_from(A.primary(), settled, 4, Duration::from_secs(8));
    assert!(adv.len() >= 4, "{}", cap.summary());
    check_adverts(&adv, A, &va);
    let quiet_from = settled + Duration::from_millis(200);
    assert!(
        cap.first_advert_from(B.primary(), quiet_from, 0).is_none(),
        "a backup advertised:\n{}",
        cap.summary()
    );
    // Becoming master: garp_master_repeat (5) gratuitous ARPs per address.
    for ip in [VIP, GW] {
        let n = cap.garps(ip, A.mac(), begin).len();
        assert!(n >= 5, "{n} gratuitous ARP for {ip}: {:?}", cap.arps());
        eprintln!("A's gratuitous ARP for {ip}: {n}");
    }
    assert!(
        cap.garps(VIP, B.mac(), settled).is_empty(),
        "{:?}",
        cap.arps()
    );

    // The backup does not serve the VIP even when a client sends it there
    // (a stale neighbour entry): the frames are counted and dropped.
    let standby_drops = || {
        metric(
            &lab,
            B.ns(),
            "ferrovs_core_drops_total",
            &[("reason", "vrrp_standby")],
        )
        .unwrap_or(0.0)
    };
    let before = standby_drops();
    let pin = |mac: &str| {
        let o = lab.exec(
            "c",
            &[
                "ip",
                "neigh",
                "replace",
                "10.99.0.100",
                "lladdr",
                mac,
                "dev",
                "c0",
            ],
        );
        assert!(o.status.success(), "{o:?}");
    };
    pin(B.mac());
    let r = lab.http_client(URL, 2, &["--timeout", "1"]);
    assert_eq!(r["ok"], 0, "the backup served the VIP: {r}");
    assert!(standby_drops() >= before + 2.0, "{}", logs(&[&a, &b]));
    pin(A.mac());

    // fvsadm's listing on each.
    for (r, state, prio) in [(&a, "MASTER", "150"), (&b, "BACKUP", "100")] {
        let (rc, out, err) = fvsadm(&r.cfg.sock, &["-L", "--vrrp"]);
        assert_eq!(rc, 0, "{err}");
        let line: Vec<&str> = out
            .lines()
            .nth(1)
            .unwrap_or("")
            .split_whitespace()
            .collect();
        assert_eq!(
            line.get(..6),
            Some(&["VI_1", "eth0", "51", "2", state, prio][..]),
            "{out}"
        );
        assert_eq!(line.get(7), Some(&"10.99.0.3"), "the master as seen: {out}");
    }

    // What each reports.
    let m = |side: Side, name: &str| vrrp_metric(&lab, side.ns(), name).unwrap_or(-1.0);
    assert_eq!(m(A, "ferrovs_vrrp_priority"), 150.0);
    assert_eq!(m(B, "ferrovs_vrrp_priority"), 100.0);
    assert!(m(A, "ferrovs_vrrp_adverts_sent_total") >= 4.0);
    assert!(m(B, "ferrovs_vrrp_adverts_received_total") >= 4.0);
    assert!(m(A, "ferrovs_vrrp_transitions_total") >= 1.0);
    assert!(m(B, "ferrovs_vrrp_transitions_total") >= 1.0);
    assert_eq!(
        metric(
            &lab,
            B.ns(),
            "ferrovs_vrrp_adverts_dropped_total",
            &[("instance", INSTANCE)]
        )
        .unwrap_or(0.0),
        0.0,
        "{}",
        vrrp_metrics_text(B.ns())
    );
    eprintln!(
        "A: {}\nB: {}",
        vrrp_metrics_text(A.ns()),
        vrrp_metrics_text(B.ns())
    );
    for r in [&mut a, &mut b] {
        let st = r.d.terminate(Duration::from_secs(15));
        assert!(st.success(), "{st:?}\n{}", r.d.log_text());
    }
}

#[test]
fn a_killed_master_is_replaced_within_the_rules_and_preempts_on_return() {
    let Some(lab) = Lab::try_up_vrrp(3, "nat", 2, 0) else {
        return;
    };
    let cap = Capture::start(&lab, "br", "br0");
    let (va, vb) = (Vrrp::with_priority(150), Vrrp::with_priority(100));
    let (mut a, mut b) = elected_pair(&lab, &va, &vb, false);
    lab.wait_for_service(URL, Duration::from_secs(10));

    // A steady stream: 20 requests a second, each logged with its time.
    let log = request_log_path(&b);
    let stream = lab.http_client_background(
        URL,
        800,
        &[
            "--rate",
            "20",
            "--timeout",
            "1",
            "--deadline",
            "90",
            "--log",
            log.to_str().unwrap(),
        ],
    );
    std::thread::sleep(Duration::from_secs(3));

    // A crashes: nothing more from it. B takes over after its
    // Master_Down_Interval from A's last advert.
    let killed = Instant::now();
    a.d.kill9();
    let bound = 3.0 * vb.advert_int + vb.skew() + 0.5;
    let first_b = cap
        .wait_advert_from(B.primary(), killed, 1, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("no advert from B\n{}\n{}", cap.summary(), logs(&[&b])));
    let b_master = wait_vrrp_state(B.ns(), MASTER, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("B not MASTER\n{}", logs(&[&b])));
    let last_a = cap
        .last_advert_from(A.primary(), killed, 1)
        .expect("A advertised");
    let to_advert = secs(killed, first_b.at());
    let to_master = secs(killed, b_master);
    let silence = first_b.t - last_a.t;
    eprintln!(
        "A killed: B's first advert after {to_advert:.3} s, B reports MASTER after {to_master:.3} s; \
         A's last advert -> B's first {silence:.3} s (Master_Down_Interval {:.3} s, bound {bound:.3} s)",
        vb.master_down()
    );
    assert!(to_advert <= bound, "{to_advert:.3} s > {bound:.3} s");
    assert!(to_master <= bound, "{to_master:.3} s > {bound:.3} s");
    assert!(
        silence >= vb.master_down() - 0.1,
        "B took over before its Master_Down_Interval: {silence:.3} s"
    );
    check_adverts(std::slice::from_ref(&first_b), B, &vb);
    let takeover = first_b.at();
    for ip in [VIP, GW] {
        let n = cap.garps(ip, B.mac(), killed).len();
        assert!(n >= 5, "B's gratuitous ARP for {ip}: {n}\n{:?}", cap.arps());
    }
    let vip = lab.arp_probe("c", "c0", VIP, 3);
    assert!(vip.only(B.mac()), "{vip:?}");
    let gw = lab.arp_probe("rs2", "eth0", GW, 3);
    assert!(gw.only(B.mac()), "{gw:?}");

    // A comes back: it starts BACKUP, hears B's lower priority, and
    // preempts after its own Master_Down_Interval.
    std::thread::sleep(Duration::from_secs(3));
    let restarted = Instant::now();
    let a2 = lab.director_in(A.ns(), &a.cfg.path);
    a.d = a2;
    settle(&mut a, &mut b, MASTER, BACKUP, Duration::from_secs(40));
    let first_a = cap
        .first_advert_from(A.primary(), restarted, 1)
        .unwrap_or_else(|| panic!("{}", cap.summary()));
    let preempted = first_a.at();
    eprintln!(
        "A restarted: its first advert {:.3} s later (DPDK start-up + Master_Down_Interval {:.3} s)",
        secs(restarted, preempted),
        va.master_down()
    );
    // B stops advertising at once on A's higher priority.
    let b_late = cap.first_advert_from(
        B.primary(),
        preempted + Duration::from_secs_f64(vb.advert_int),
        1,
    );
    assert!(b_late.is_none(), "B still advertising: {b_late:?}");
    let vip = lab.arp_probe("c", "c0", VIP, 3);
    assert!(vip.only(A.mac()), "{vip:?}");
    std::thread::sleep(Duration::from_secs(4));
    let done = Instant::now();

    let summary = stream.output(Duration::from_secs(90));
    let reqs = request_log(&log);
    assert!(reqs.len() >= 200, "{summary}");
    let (w_kill, w_take, w_restart, w_pre, w_done) = (
        wall_at(killed),
        wall_at(takeover),
        wall_at(restarted),
        wall_at(preempted),
        wall_at(done),
    );
    let failed_in = |from: f64, to: f64| {
        reqs.iter()
            .filter(|(t, f)| *t >= from && *t < to && f.is_some())
            .count()
    };
    let served_in = |from: f64, to: f64| {
        reqs.iter()
            .filter(|(t, f)| *t >= from && *t < to && f.is_none())
            .count()
    };
    eprintln!(
        "requests: {} failed around the takeover (started 1 s before the kill .. 1 s after it), \
         {} around the preemption; {summary}",
        failed_in(w_kill - 1.0, w_take + 1.0),
        failed_in(w_restart, w_pre + 1.0),
    );
    assert_eq!(
        failed_in(0.0, w_kill - 1.0),
        0,
        "before the kill: {summary}"
    );
    assert_eq!(
        failed_in(w_take + 1.0, w_restart),
        0,
        "every request started 1 s after the takeover succeeds: {summary}"
    );
    assert!(served_in(w_take + 1.0, w_restart) >= 20, "{summary}");
    assert_eq!(
        failed_in(w_pre + 1.0, w_done),
        0,
        "every request started 1 s after the preemption succeeds: {summary}"
    );
    assert!(served_in(w_pre + 1.0, w_done) >= 20, "{summary}");

    for r in [&mut a, &mut b] {
        let st = r.d.terminate(Duration::from_secs(15));
        assert!(st.success(), "{st:?}\n{}", r.d.log_text());
    }
}

#[test]
fn with_nopreempt_a_restarted_director_stays_backup() {
    let Some(lab) = Lab::try_up_vrrp(3, "nat", 2, 0) else {
        return;
    };
    let cap = Capture::start(&lab, "br", "br0");
    let nopreempt = |p: u8| Vrrp {
        nopreempt: true,
        state: "BACKUP".into(),
        ..Vrrp::with_priority(p)
    };
    let (va, vb) = (nopreempt(150), nopreempt(100));
    // nopreempt: whoever is master stays master, so A is master first.
    let mut a = start(&lab, A, &va, false);
    if wait_director_state(&mut a.d, A.ns(), MASTER, Duration::from_secs(30)).is_none() {
        panic!("A not MASTER\n{}", logs(&[&a]));
    }
    let mut b = start(&lab, B, &vb, false);
    settle(&mut a, &mut b, MASTER, BACKUP, Duration::from_secs(30));

    let killed = Instant::now();
    a.d.kill9();
    let b_master = wait_vrrp_state(B.ns(), MASTER, Duration::from_secs(10))
        .unwrap_or_else(|| panic!("B not MASTER\n{}", logs(&[&b])));
    let to_master = secs(killed, b_master);
    assert!(
        to_master <= 3.0 * vb.advert_int + vb.skew() + 0.5,
        "{to_master:.3} s"
    );

    // A returns with the higher priority, and stays BACKUP.
    let restarted = Instant::now();
    a.d = lab.director_in(A.ns(), &a.cfg.path);
    let Some(backup) = wait_director_state(&mut a.d, A.ns(), BACKUP, Duration::from_secs(30))
    else {
        panic!("A not BACKUP\n{}", logs(&[&a, &b]));
    };
    // Well past the Master_Down_Interval it would preempt after.
    let hold = Duration::from_secs_f64(2.0 * va.master_down() + 2.0);
    if let Err((t, s)) = hold_vrrp_state(A.ns(), BACKUP, hold) {
        panic!(
            "A left BACKUP ({s:?}) {:.3} s after reporting it\n{}",
            secs(backup, t),
            logs(&[&a, &b])
        );
    }
    assert_eq!(state_of_ns(B), Some(MASTER), "{}", logs(&[&a, &b]));
    assert!(
        cap.first_advert_from(A.primary(), restarted, 1).is_none(),
        "a nopreempt backup advertised:\n{}",
        cap.summary()
    );
    let vip = lab.arp_probe("c", "c0", VIP, 3);
    assert!(vip.only(B.mac()), "{vip:?}");
    eprintln!(
        "nopreempt: B MASTER {to_master:.3} s after A's kill; restarted A BACKUP for {:.1} s",
        hold.as_secs_f64()
    );
    let r = lab.http_requests(URL, 30);
    assert_eq!(r["ok"], 30, "{r}");
    for r in [&mut a, &mut b] {
        assert!(r.d.terminate(Duration::from_secs(15)).success());
    }
}

#[test]
fn a_clean_stop_hands_over_after_the_skew_only() {
    let Some(lab) = Lab::try_up_vrrp(3, "nat", 2, 0) else {
        return;
    };
    let cap = Capture::start(&lab, "br", "br0");
    let (va, vb) = (Vrrp::with_priority(150), Vrrp::with_priority(100));
    let (mut a, mut b) = elected_pair(&lab, &va, &vb, false);
    std::thread::sleep(Duration::from_secs(2));

    // SIGTERM: A says priority 0 on its way out; B takes over after its
    // skew time alone.
    let stopping = Instant::now();
    let st = a.d.terminate(Duration::from_secs(15));
    assert!(st.success(), "{st:?}\n{}", a.d.log_text());
    let zero = cap
        .wait_priority_from(A.primary(), stopping, 0, Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no priority-0 advert from A\n{}", cap.summary()));
    assert_eq!(
        (zero.ttl, zero.dst.as_str(), zero.addrs.clone()),
        (255, MCAST, va.advert_addrs())
    );
    let first_b = cap
        .wait_advert_from(B.primary(), stopping, 1, Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no advert from B\n{}\n{}", cap.summary(), logs(&[&b])));
    let after_zero = first_b.t - zero.t;
    eprintln!(
        "SIGTERM: A's priority-0 advert {:.3} s after the signal, B's first advert {after_zero:.3} s \
         after that (skew {:.3} s)",
        secs(stopping, zero.at()),
        vb.skew()
    );
    assert!(
        after_zero >= 0.0 && after_zero <= vb.skew() + 0.3,
        "{after_zero:.3} s\n{}",
        cap.summary()
    );
    wait_vrrp_state(B.ns(), MASTER, Duration::from_secs(2))
        .unwrap_or_else(|| panic!("{}", logs(&[&b])));
    let vip = lab.arp_probe("c", "c0", VIP, 3);
    assert!(vip.only(B.mac()), "{vip:?}");
    let r = lab.http_requests(URL, 30);
    assert_eq!(r["ok"], 30, "{r}");
    assert!(b.d.terminate(Duration::from_secs(15)).success());
}

#[test]
fn a_wedged_master_stops_advertising_and_the_backup_takes_over() {
    let Some(lab) = Lab::try_up_vrrp(3, "nat", 2, 0) else {
        return;
    };
    let cap = Capture::start(&lab, "br", "br0");
    let (va, vb) = (Vrrp::with_priority(150), Vrrp::with_priority(100));
    let (mut a, mut b) = elected_pair(&lab, &va, &vb, true);
    let mut sampler = StateSampler::start(
        &[A.ns(), B.ns()],
        Duration::from_millis(50),
        Duration::from_secs(120),
    );
    std::thread::sleep(Duration::from_secs(2));

    // Every worker of A stops polling: adverts are bound to worker
    // liveness, so they stop within 3 intervals and B takes over.
    let wedged = Instant::now();
    a.d.signal("USR2");
    let within = 3.0 * va.advert_int + vb.master_down() + 2.0;
    let first_b = cap
        .wait_advert_from(B.primary(), wedged, 1, Duration::from_secs_f64(within))
        .unwrap_or_else(|| panic!("no advert from B\n{}\n{}", cap.summary(), logs(&[&a, &b])));
    let last_a = cap
        .last_advert_from(A.primary(), first_b.at(), 1)
        .expect("A advertised");
    let a_stopped = last_a.t - mono(wedged);
    let silence = first_b.t - last_a.t;
    eprintln!(
        "wedged: A's last advert {a_stopped:.3} s after SIGUSR2, B's first {silence:.3} s after that \
         ({:.3} s after SIGUSR2)",
        secs(wedged, first_b.at())
    );
    assert!(
        a_stopped <= 3.0 * va.advert_int + 0.1,
        "A advertised {a_stopped:.3} s into the wedge"
    );
    assert!(
        silence >= vb.master_down() - 0.1 && silence <= vb.master_down() + 0.5,
        "{silence:.3} s"
    );
    wait_vrrp_state(B.ns(), MASTER, Duration::from_secs(2))
        .unwrap_or_else(|| panic!("{}", logs(&[&a, &b])));
    let vip = lab.arp_probe("c", "c0", VIP, 3);
    assert!(vip.only(B.mac()), "{vip:?}");
    std::thread::sleep(Duration::from_secs(3));

    // Still wedged: A has said nothing since B took over.
    let unwedged = Instant::now();
    let late = cap
        .adverts_from(A.primary())
        .into_iter()
        .find(|x| x.t > first_b.t && x.t < mono(unwedged) && x.priority > 0);
    assert!(
        late.is_none(),
        "A advertised while wedged after B's takeover: {late:?}"
    );
    let during: Vec<Option<u8>> = sampler
        .samples()
        .iter()
        .filter(|(i, t, _)| *i == 0 && *t > wedged && *t < unwedged)
        .map(|s| s.2)
        .collect();
    eprintln!(
        "A's ferrovs_vrrp_state while wedged (50 ms samples): {:?}",
        dedup(&during)
    );

    // Unwedged: A recovers and, with the higher priority, preempts.
    a.d.signal("USR2");
    let took = settle(&mut a, &mut b, MASTER, BACKUP, Duration::from_secs(15));
    let first_a = cap
        .first_advert_from(A.primary(), unwedged, 1)
        .unwrap_or_else(|| panic!("{}", cap.summary()));
    eprintln!(
        "unwedged: A's first advert {:.3} s later, A MASTER and B BACKUP after {:.3} s",
        secs(unwedged, first_a.at()),
        took.as_secs_f64()
    );
    assert!(took.as_secs_f64() <= va.master_down() + 1.0, "{took:?}");
    let b_late = cap.first_advert_from(
        B.primary(),
        first_a.at() + Duration::from_secs_f64(vb.advert_int),
        1,
    );
    assert!(b_late.is_none(), "B still advertising: {b_late:?}");
    let vip = lab.arp_probe("c", "c0", VIP, 3);
    assert!(vip.only(A.mac()), "{vip:?}");
    std::thread::sleep(Duration::from_secs(1));

    // Never both MASTER for longer than one advert interval, outside the
    // wedge (a wedged A cannot act on what its state says).
    sampler.stop();
    let runs = sampler.all_master_runs(&[(wedged, unwedged)]);
    let longest = runs.iter().map(|(s, e)| secs(*s, *e)).fold(0.0, f64::max);
    eprintln!(
        "both MASTER outside the wedge: {} time(s), longest {longest:.3} s",
        runs.len()
    );
    assert!(
        longest <= va.advert_int + 0.15,
        "both MASTER for {longest:.3} s"
    );
    for r in [&mut a, &mut b] {
        let st = r.d.terminate(Duration::from_secs(15));
        assert!(st.success(), "{st:?}\n{}", r.d.log_text());
    }
}

fn dedup(v: &[Option<u8>]) -> Vec<(Option<u8>, usize)> {
    let mut out: Vec<(Option<u8>, usize)> = Vec::new();
    for s in v {
        match out.last_mut() {
            Some((x, n)) if x == s => *n += 1,
            _ => out.push((*s, 1)),
        }
    }
    out
}
