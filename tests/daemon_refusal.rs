//! Issue 11 §3 at the daemon: a change is applied whole on every worker or
//! refused whole. Workers run as threads on the same `SnapshotCell` and
//! `CoreShared` the live daemon uses (no NIC needed); a worker that refuses a
//! snapshot keeps its state, the daemon puts every worker back on the previous
//! snapshot, and the operator gets the refusal with the state and listing unchanged.
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use control::config::{Config, Real, Scheduler};
use control::server::Backend;
use dataplane::shared::CoreShared;
use dataplane::{CoreStats, Pipeline, PortIo, SnapshotCell, VecFrame, Worker};
use ferrovs::convert::snapshot_with_ids;
use ferrovs::daemon::ids::Ids;
use ferrovs::daemon::Daemon;

/// No ports traffic: the worker loop only picks up snapshots.
struct Idle;

impl PortIo for Idle {
    type F = VecFrame;
    fn rx(&mut self, _port: usize, _out: &mut Vec<VecFrame>, _max: usize) {}
    fn tx(&mut self, _port: usize, frames: &mut Vec<VecFrame>) -> usize {
        frames.clear();
        0
    }
    fn alloc(&mut self) -> Option<VecFrame> {
        None
    }
    fn to_host(&mut self, _port: usize, frame: VecFrame) -> Result<(), VecFrame> {
        Err(frame)
    }
}

fn config_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs/replay-nat.yaml")
}

struct Running {
    daemon: Arc<Daemon>,
    cell: Arc<SnapshotCell>,
    shared: Vec<Arc<CoreShared>>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn start(cores: usize) -> Running {
    start_at(cores, config_path())
}

/// A daemon whose configuration file (what a reload reads) is `path`.
fn start_at(cores: usize, path: PathBuf) -> Running {
    let config = Config::load(&path).unwrap();
    let mut ids = Ids::default();
    let snap = snapshot_with_ids(&config, &[], cores, &mut ids).unwrap();
    let cell = Arc::new(SnapshotCell::new(snap));
    let shared: Vec<Arc<CoreShared>> = (0..cores)
        .map(|_| Arc::new(CoreShared::new(Arc::new(CoreStats::default()))))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let threads = (0..cores)
        .map(|k| {
            let (cell, sh, stop) = (cell.clone(), shared[k].clone(), stop.clone());
            std::thread::spawn(move || {
                let p = Pipeline::new(k as u16, cores, cell.load(), sh.stats.clone()).unwrap();
                let mut w = Worker::new(p, Idle, 32).with_shared(sh);
                let t0 = Instant::now();
                w.run(&stop, &cell, || {
                    // An idle worker need not spin a core flat out.
                    std::thread::sleep(Duration::from_micros(200));
                    t0.elapsed().as_millis() as u64
                });
            })
        })
        .collect();
    // Until every worker has shown its state.
    let t0 = Instant::now();
    while shared.iter().any(|c| c.services().is_empty()) {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "workers did not start"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let daemon = Arc::new(Daemon::new(
        path,
        config,
        ids,
        vec![],
        cell.clone(),
        shared.clone(),
    ));
    Running {
        daemon,
        cell,
        shared,
        stop,
        threads,
    }
}

/// (configuration, per core the (service id, real slots) it runs, listing).
type Observed = (Config, Vec<Vec<(u32, usize)>>, Vec<String>);

/// What an operator sees: the configuration, the services every core runs
/// (by id, with their reals' counters) and the listing's services.
fn observed(r: &Running) -> Observed {
    let per_core = r
        .shared
        .iter()
        .map(|c| {
            let mut v: Vec<(u32, usize)> = c
                .services()
                .iter()
                .map(|(id, s)| (*id, s.reals.len()))
                .collect();
            v.sort();
            v
        })
        .collect();
    let listing = r
        .daemon
        .counters()
        .services
        .iter()
        .map(|s| {
            format!(
                "{} {:?}",
                s.name,
                s.reals.iter().map(|x| x.address).collect::<Vec<_>>()
            )
        })
        .collect();
    (r.daemon.config(), per_core, listing)
}

/// A config every worker refuses: the web service changed (a real less) and
/// an mh service with more reals than its lookup table has slots.
fn refused_change(base: &Config) -> Config {
    let mut c = base.clone();
    c.services[0].reals.pop();
    let mut mh = c.services[0].clone();
    mh.name = "too-big".into();
    mh.port = Some(81);
    mh.scheduler = Scheduler::Mh;
    let model = mh.reals[0].clone();
    mh.reals = (0..5000u32)
        .map(|i| Real {
            address: Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 2, 0, 0)) + i + 1),
            ..model.clone()
        })
        .collect();
    c.services.push(mh);
    c
}

#[test]
fn a_change_a_worker_refuses_leaves_every_worker_and_the_listing_as_they_were() {
    let r = start(2);
    let before = observed(&r);
    assert_eq!(before.1, vec![vec![(0, 3)], vec![(0, 3)]]);
    let previous = r.cell.load();
    // The control layer refuses it first, naming the field ...
    let new = refused_change(&before.0);
    let e = r.daemon.apply(new.clone()).unwrap_err();
    assert!(e.to_string().contains("services[1].reals"), "{e}");
    assert_eq!(observed(&r), before);
    // ... and should a worker still refuse a snapshot, nothing changes either.
    let mut ids = Ids::default();
    let snap = snapshot_with_ids(&new, &[], 2, &mut ids).unwrap();
    let e = r.daemon.publish(snap).unwrap_err();
    assert!(e.to_string().contains("refused by worker"), "{e}");
    assert!(e.to_string().contains("mh"), "{e}");
    assert_eq!(observed(&r), before, "state and listing unchanged");
    // Every worker runs the previous configuration under a newer generation.
    let now = r.cell.load();
    assert!(now.generation > previous.generation + 1);
    assert_eq!(now.services, previous.services);
    for c in &r.shared {
        assert_eq!(c.applied.load(Ordering::Acquire), now.generation);
    }
    // And a good change still goes through afterwards.
    let mut good = before.0.clone();
    good.services[0].reals.pop();
    r.daemon.apply(good.clone()).unwrap();
    let after = observed(&r);
    assert_eq!(after.0, good);
    assert_eq!(
        after.1,
        vec![vec![(0, 3)], vec![(0, 3)]],
        "counter slots stay by id"
    );
    assert_eq!(after.2.len(), 1);
    assert!(!after.2[0].contains("10.1.0.13"), "{:?}", after.2);
}

#[test]
fn a_worker_that_accepted_goes_back_when_another_refuses() {
    // Core 1 is driven by hand: it takes every snapshot (as a worker with
    // room to spare would); core 0 is a real worker that refuses the mh one.
    let r = start(1);
    let before = observed(&r);
    let previous = r.cell.load();
    let accepting = Arc::new(CoreShared::new(Arc::new(CoreStats::default())));
    accepting
        .applied
        .store(previous.generation, Ordering::Release);
    let mut shared = r.shared.clone();
    shared.push(accepting.clone());
    let daemon = Daemon::new(
        config_path(),
        before.0.clone(),
        Ids::default(),
        vec![],
        r.cell.clone(),
        shared,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let hand = {
        let (cell, stop, seen) = (r.cell.clone(), stop.clone(), seen.clone());
        std::thread::spawn(move || {
            let mut g = cell.generation();
            while !stop.load(Ordering::Relaxed) {
                if cell.generation() != g {
                    let s = cell.load();
                    g = s.generation;
                    seen.lock().unwrap().push(s.services.len());
                    accepting.applied.store(g, Ordering::Release);
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        })
    };
    let mut ids = Ids::default();
    let snap = snapshot_with_ids(&refused_change(&before.0), &[], 2, &mut ids).unwrap();
    assert!(daemon.publish(snap).is_err());
    stop.store(true, Ordering::Relaxed);
    hand.join().unwrap();
    assert_eq!(
        *seen.lock().unwrap(),
        vec![2, 1],
        "the accepting core took the change, then the previous configuration back"
    );
    assert_eq!(r.cell.load().services, previous.services);
}

#[test]
fn a_real_on_the_vip_is_refused_naming_the_field_and_nothing_changes() {
    let r = start(1);
    let before = observed(&r);
    let mut new = before.0.clone();
    let mut real = new.services[0].reals[0].clone();
    real.address = new.services[0].vip();
    new.services[0].reals.push(real);
    let e = r.daemon.apply(new).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "services[0].reals[3].address: {} is a VIP (services[0].vip)",
            before.0.services[0].vip()
        )
    );
    assert_eq!(
        e.ipvsadm_message(),
        "Invalid operation.  Possibly wrong module version, address not unicast, ..."
    );
    assert_eq!(observed(&r), before, "state and listing unchanged");
}

#[test]
fn conn_max_changes_only_with_a_restart() {
    let r = start(1);
    let before = observed(&r);
    let mut new = before.0.clone();
    new.conn_max = Some(12345);
    let e = r.daemon.apply(new).unwrap_err();
    assert_eq!(e.to_string(), "conn_max: changes only with a restart");
    assert_eq!(observed(&r), before);
}

/// A reload with an invalid health check is refused whole, naming the
/// field, and the running configuration stays.
#[test]
fn a_reload_with_an_invalid_health_check_is_refused() {
    let dir = std::env::temp_dir().join(format!("ferrovs-reload-hc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cfg.yaml");
    std::fs::copy(config_path(), &path).unwrap();
    let r = start_at(1, path.clone());
    let before = observed(&r);
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "    forward: nat\n",
        "    forward: nat\n    checks: [{http_get: {urls: [{path: /, digest: xyz}]}}]\n",
    );
    std::fs::write(&path, text).unwrap();
    let e = r.daemon.reload().unwrap_err();
    assert!(
        e.to_string()
            .contains("services[0].checks[0].http_get.urls[0].digest"),
        "{e}"
    );
    assert_eq!(observed(&r), before);
    drop(r);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn vrrp_instances_change_only_with_a_restart() {
    // Each instance's thread, socket and mastership bit are set up at start.
    let r = start(1);
    let before = observed(&r);
    let mut new = before.0.clone();
    new.vrrp = vec![serde_yaml_ng::from_str(
        "{name: VI_1, port: eth0, virtual_router_id: 51, virtual_ipaddress: [10.0.0.200]}",
    )
    .unwrap()];
    let e = r.daemon.apply(new).unwrap_err();
    assert_eq!(
        e.to_string(),
        "vrrp: VRRP instances change only with a restart"
    );
    assert_eq!(observed(&r), before);
}
