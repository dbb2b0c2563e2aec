//! fvsadm's sync daemon commands against the control server: the request
//! the daemon gets, the refusals it answers (the default `Backend`'s
//! included) and what fvsadm prints for them. Byte-for-byte comparisons
//! with ipvsadm are in fvsadm_oracle.rs.

mod common;

use std::sync::Arc;

use common::{fvsadm_local, ok, FakeBackend, Running, EMPTY};
use control::config::{Config, SyncRole};
use control::proto::{ConnEntry, ControlError, Counters, ServiceKey, SyncDaemonSpec};
use control::server::{Backend, ServerOptions};

/// A daemon without connection sync: the `Backend` sync methods keep
/// their defaults.
struct NoSync(Config);

impl Backend for NoSync {
    fn apply(&self, _: Config) -> Result<(), ControlError> {
        Ok(())
    }
    fn config(&self) -> Config {
        self.0.clone()
    }
    fn counters(&self) -> Counters {
        Counters::default()
    }
    fn connections(&self) -> Vec<ConnEntry> {
        Vec::new()
    }
    fn reload(&self) -> Result<(), ControlError> {
        Ok(())
    }
    fn zero(&self, _: Option<ServiceKey>) {}
}

fn run_on<B: Backend>(b: Arc<B>, args: &str) -> common::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ctl.sock");
    let server = control::server::Server::bind(&path, 0o600, None).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s2 = Arc::clone(&stop);
    let h = std::thread::spawn(move || server.serve(b, s2).unwrap());
    let o = common::fvsadm_socket(&path, args, "");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    h.join().unwrap();
    o
}

#[test]
fn a_daemon_without_sync_refuses_as_a_kernel_without_it() {
    let b = Arc::new(NoSync(Config::from_yaml_str(EMPTY).unwrap()));
    for args in [
        "--start-daemon master",
        "--start-daemon backup --mcast-interface eth1 --syncid 3",
        "--stop-daemon master",
    ] {
        let o = run_on(b.clone(), args);
        assert_eq!(
            (o.code, o.stdout.as_str(), o.stderr.as_str()),
            (255, "", "Protocol not available\n"),
            "{args}"
        );
    }
    // Nothing runs: ipvsadm prints nothing.
    assert_eq!(ok(run_on(b, "-L --daemon")), "");
}

#[test]
fn the_daemon_gets_what_was_typed_and_the_defaults_as_ipvsadm_sends_them() {
    let b = FakeBackend::new(EMPTY);
    let r = Running::start(b.clone(), ServerOptions::default());
    ok(r.fvsadm("--start-daemon master", ""));
    ok(r.fvsadm(
        "--start-daemon backup --mcast-interface eth1 --syncid 51 --sync-maxlen 900 --mcast-group 239.0.0.9 --mcast-port 9000 --mcast-ttl 2",
        "",
    ));
    let mut backup = SyncDaemonSpec::new(SyncRole::Backup, "eth1");
    backup.syncid = 51;
    backup.maxlen = Some(900);
    backup.group = Some("239.0.0.9".parse().unwrap());
    backup.port = Some(9000);
    backup.ttl = Some(2);
    assert_eq!(
        b.with(|s| s.started.clone()),
        [SyncDaemonSpec::new(SyncRole::Master, "eth0"), backup]
    );
    // The listing is the daemon's answer (the backup's maxlen clamped as
    // the kernel clamps it), the master's first.
    assert_eq!(
        ok(r.fvsadm("-L --daemon", "")),
        "master sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n\
         backup sync daemon (mcast=eth1, syncid=51, maxlen=1024, group=239.0.0.9, port=9000, ttl=2)\n"
    );
    let o = r.fvsadm("--start-daemon backup", "");
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (255, "Daemon has already run\n")
    );
    ok(r.fvsadm("--stop-daemon backup", ""));
    let o = r.fvsadm("--stop-daemon backup", "");
    assert_eq!((o.code, o.stderr.as_str()), (255, "No daemon is running\n"));
    // The master's line only, whatever order the backend keeps.
    b.with(|s| s.daemons.reverse());
    assert_eq!(
        ok(r.fvsadm("-L --daemon", "")),
        "master sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n"
    );
}

#[test]
fn an_interface_that_is_no_port_is_no_device() {
    let b = FakeBackend::new(EMPTY);
    b.with(|s| s.sync_ifaces = Some(vec!["eth1".into()]));
    // ipvsadm's default interface, eth0, is no port here.
    let o = fvsadm_local(&b, "--start-daemon master", "");
    assert_eq!((o.code, o.stderr.as_str()), (255, "No such device\n"));
    let o = fvsadm_local(&b, "--start-daemon master --mcast-interface eth9", "");
    assert_eq!((o.code, o.stderr.as_str()), (255, "No such device\n"));
    ok(fvsadm_local(
        &b,
        "--start-daemon master --mcast-interface eth1",
        "",
    ));
}

#[test]
fn an_ipv6_group_is_refused_before_the_daemon_is_asked() {
    let b = FakeBackend::new(EMPTY);
    let o = fvsadm_local(&b, "--start-daemon master --mcast-group ff02::1", "");
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (2, "IPv6 is not supported by ferrovs\n")
    );
    assert!(b.with(|s| s.started.is_empty()));
}
