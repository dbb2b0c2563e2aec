//! keepalived's `ha_suspend` across a failover: a service's health checks
//! run on the director that is MASTER for its VIP, and not on the backup,
//! until the backup takes over.
mod lab_common;

use std::time::Duration;

use lab_common::vrrp::*;
use lab_common::*;

/// Health probes the director in `fvs-{ns}` has run (0 before any).
fn probes(lab: &Lab, ns: &str) -> f64 {
    metric(lab, ns, "ferrovs_health_checks_total", &[]).unwrap_or(0.0)
}

#[test]
fn ha_suspend_runs_the_checks_on_the_master_only() {
    let Some(lab) = Lab::try_up_vrrp(3, "nat", 2, 0) else {
        return;
    };
    let config = |side: Side, priority: u8| {
        let cfg = director_config(side, &Vrrp::with_priority(priority));
        cfg.edit(|t| {
            t.replacen(
                "    forward: nat\n",
                "    forward: nat\n    ha_suspend: true\n    delay_loop: 1\n    checks: [{tcp_check: {connect_timeout: 1}}]\n",
                1,
            )
        });
        cfg
    };
    let (ca, cb) = (config(Side::A, 150), config(Side::B, 100));
    let mut a = lab.director_in(Side::A.ns(), &ca.path);
    let mut b = lab.director_in(Side::B.ns(), &cb.path);
    let within = Duration::from_secs(40);
    wait_elected(&mut a, &mut b, within);
    // Three reals checked every second on the master; none on the backup.
    std::thread::sleep(Duration::from_secs(4));
    let (pa, pb) = (probes(&lab, Side::A.ns()), probes(&lab, Side::B.ns()));
    eprintln!("probes after 4 s: master {pa}, backup {pb}");
    assert!(pa >= 6.0, "the master ran {pa} probes\n{}", a.log_text());
    assert_eq!(pb, 0.0, "the backup probed while suspended");
    let r = lab.http_requests(URL, 30);
    assert_eq!(r["ok"], 30, "{r}");

    // The master dies: the backup takes over and starts checking.
    a.kill9();
    assert!(
        wait_director_state(&mut b, Side::B.ns(), 2, within).is_some(),
        "B not MASTER\n{}",
        b.log_text()
    );
    std::thread::sleep(Duration::from_secs(4));
    let pb = probes(&lab, Side::B.ns());
    eprintln!("probes on the new master 4 s after its takeover: {pb}");
    assert!(
        pb >= 6.0,
        "the new master ran {pb} probes\n{}",
        b.log_text()
    );
    let r = lab.http_requests(URL, 30);
    assert_eq!(r["ok"], 30, "{r}");
    let st = b.terminate(Duration::from_secs(15));
    assert!(st.success(), "{st:?}\n{}", b.log_text());
}
