//! The two-director VRRP pair the live tests start, elect and inspect.
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::*;
use crate::lab_common::{Director, Lab, LabConfig};

pub const A: Side = Side::A;
pub const B: Side = Side::B;

/// A director of the pair with its config (the config must outlive it).
pub struct Running {
    pub side: Side,
    pub cfg: LabConfig,
    pub d: Director,
}

pub fn start(lab: &Lab, side: Side, v: &Vrrp, hooks: bool) -> Running {
    let cfg = director_config(side, v);
    let env: &[(&str, &str)] = if hooks {
        &[("FERROVS_TEST_HOOKS", "1")]
    } else {
        &[]
    };
    let d = lab.director_in_env(side.ns(), &cfg.path, env);
    Running { side, cfg, d }
}

pub fn logs(rs: &[&Running]) -> String {
    rs.iter()
        .map(|r| {
            format!(
                "--- director {} metrics:\n{}\n--- log:\n{}",
                r.side.name(),
                vrrp_metrics_text(r.side.ns()),
                r.d.log_text()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Waits (bounded) until A reports `sa` and B `sb`: how long it took.
/// Gives up at once when a director exits.
pub fn settle(a: &mut Running, b: &mut Running, sa: u8, sb: u8, within: Duration) -> Duration {
    let mut exited = false;
    let took = wait_until(within, Duration::from_millis(50), || {
        exited = !a.d.running() || !b.d.running();
        exited || (state_of_ns(A) == Some(sa) && state_of_ns(B) == Some(sb))
    });
    match took {
        Some(t) if !exited => t,
        _ => panic!(
            "states A {:?} B {:?}, wanted {sa} {sb} within {within:?} (a director exited: {exited})\n{}",
            state_of_ns(A),
            state_of_ns(B),
            logs(&[a, b])
        ),
    }
}

pub fn state_of_ns(side: Side) -> Option<u8> {
    metric_in(
        &metrics_text(side.ns())?,
        "ferrovs_vrrp_state",
        &[("instance", INSTANCE)],
    )
    .map(|v| v as u8)
}

/// The pair elected with A (150) MASTER and B (100) BACKUP. A starts first.
pub fn elected_pair(lab: &Lab, va: &Vrrp, vb: &Vrrp, hooks_a: bool) -> (Running, Running) {
    let started = Instant::now();
    let mut a = start(lab, A, va, hooks_a);
    let mut b = start(lab, B, vb, false);
    // DPDK start-up, then at most one master-down interval (B may win
    // first while A starts: A preempts).
    settle(&mut a, &mut b, MASTER, BACKUP, Duration::from_secs(40));
    eprintln!(
        "A MASTER and B BACKUP {:.3} s after start (DPDK start-up included)",
        started.elapsed().as_secs_f64()
    );
    (a, b)
}

pub fn request_log_path(r: &Running) -> PathBuf {
    r.cfg.dir.join("requests.jsonl")
}

/// The adverts of a master director: what RFC 3768 and keepalived expect.
pub fn check_adverts(adverts: &[Advert], side: Side, v: &Vrrp) {
    assert!(!adverts.is_empty());
    for a in adverts {
        assert_eq!(
            (a.dst.as_str(), a.ttl, a.version, a.kind, a.vrid, a.priority),
            (MCAST, 255, v.version, 1, v.vrid, v.priority),
            "{a:?}"
        );
        assert_eq!(a.src_mac, side.mac(), "{a:?}");
        assert_eq!(a.addrs, v.advert_addrs(), "{a:?}");
        assert!((a.interval_secs() - v.advert_int).abs() < 1e-9, "{a:?}");
        if v.version == 2 {
            assert!(a.checksum_plain_ok, "{a:?}");
            match &v.auth_pass {
                Some(p) => {
                    let mut want = p.as_bytes().to_vec();
                    want.resize(8, 0);
                    let hex: String = want.iter().map(|b| format!("{b:02x}")).collect();
                    assert_eq!((a.auth_type, a.auth_data.as_str()), (Some(1), hex.as_str()));
                }
                None => assert_eq!(
                    (a.auth_type, a.auth_data.as_str()),
                    (Some(0), "0000000000000000")
                ),
            }
        } else if v.v3_checksum_as_v2 {
            assert!(a.checksum_plain_ok, "{a:?}");
        } else {
            assert!(a.checksum_pseudo_ok, "{a:?}");
        }
    }
    let g = gaps(adverts);
    assert!(
        g.iter()
            .all(|g| (v.advert_int * 0.8..=v.advert_int * 1.2 + 0.02).contains(g)),
        "advert gaps {g:?}"
    );
}
