//! The machine check (`Config::validate_machine`): online CPUs for
//! `workers.cores` and memory for `conn_max`, driven by made-up facts, and
//! once against this machine's /proc and /sys.

use super::{assert_error, base};
use crate::config::machine::mem_available;
use crate::config::{CpuList, MachineFacts};

const GIB: u64 = 1 << 30;

fn facts(cpus: &str, mem_available: u64) -> MachineFacts {
    MachineFacts {
        mem_available,
        online_cpus: cpus.parse().unwrap(),
    }
}

#[test]
fn cpu_lists_parse_as_the_kernel_writes_them() {
    let l: CpuList = "0-1,4\n".parse().unwrap();
    assert!(l.contains(0) && l.contains(1) && l.contains(4));
    assert!(!l.contains(2) && !l.contains(3) && !l.contains(5));
    assert_eq!(l.to_string(), "0-1,4");
    let l: CpuList = "0".parse().unwrap();
    assert!(l.contains(0) && !l.contains(1));
    assert_eq!("".parse::<CpuList>().unwrap().to_string(), "none");
    for bad in ["a", "1-", "3-1", "0,,1"] {
        assert!(bad.parse::<CpuList>().is_err(), "{bad:?}");
    }
}

#[test]
fn meminfo_mem_available_in_bytes() {
    let text = "MemTotal:       32768 kB\nMemFree:         1000 kB\nMemAvailable:   23156372 kB\n";
    assert_eq!(mem_available(text), Some(23_156_372 * 1024));
    assert_eq!(mem_available("MemTotal: 5 kB\n"), None);
    assert_eq!(mem_available("MemAvailable: x kB\n"), None);
}

#[test]
fn workers_cores_must_be_online() {
    let mut cfg = base();
    cfg.workers.cores = vec![1, 4];
    assert!(cfg.validate_machine(&facts("0-1,4", 8 * GIB)).is_ok());
    cfg.workers.cores.push(2);
    let e = cfg
        .validate_machine(&facts("0-1,3-4", 8 * GIB))
        .unwrap_err();
    assert_error(
        &e,
        "workers.cores[2]",
        "CPU 2 is not online (online CPUs: 0-1,3-4)",
    );
    let e = cfg.validate_machine(&facts("0", 8 * GIB)).unwrap_err();
    assert_error(
        &e,
        "workers.cores[0]",
        "CPU 1 is not online (online CPUs: 0)",
    );
}

#[test]
fn host_core_must_be_online() {
    let mut cfg = base();
    cfg.workers.host_core = Some(0);
    assert!(cfg.validate_machine(&facts("0-1", 8 * GIB)).is_ok());
    cfg.workers.host_core = Some(3);
    let e = cfg.validate_machine(&facts("0-1", 8 * GIB)).unwrap_err();
    assert_error(
        &e,
        "workers.host_core",
        "CPU 3 is not online (online CPUs: 0-1)",
    );
}

#[test]
fn conn_max_must_fit_the_memory_available() {
    let mut cfg = base();
    cfg.workers.cores = vec![0, 1];
    cfg.conn_max = Some(10_000_000);
    let per_worker = 5_000_000;
    let needed = 2 * conntrack::worker_memory_bytes_for(per_worker) as u64;
    assert!(cfg.validate_machine(&facts("0-1", needed)).is_ok());
    let e = cfg.validate_machine(&facts("0-1", needed - 1)).unwrap_err();
    assert_error(
        &e,
        "conn_max",
        &format!(
            "10000000 connections (5000000 on each of 2 worker(s)) need {needed} bytes of \
             connection and template tables, but the machine has {} bytes available \
             (MemAvailable in /proc/meminfo)",
            needed - 1
        ),
    );
    // About 150 bytes a connection, templates included: 10 M fit in 2 GiB.
    assert!(needed < 2 * GIB, "{needed}");
}

#[test]
fn the_default_conn_max_is_checked_too() {
    let cfg = base();
    assert_eq!(cfg.conn_max, None);
    let e = cfg.validate_machine(&facts("0-1", 1 << 20)).unwrap_err();
    assert_eq!(e.path, "conn_max");
    assert!(
        e.message.starts_with(
            "1048576 connections (the default) (1048576 on each of 1 worker(s)) need "
        ),
        "{e}"
    );
}

#[test]
fn conn_max_above_what_a_worker_table_indexes_is_refused_by_validate() {
    let mut cfg = base();
    cfg.conn_max = Some((1 << 30) + 1);
    super::check(
        &cfg,
        "conn_max",
        "must be at most 1073741824 with 1 worker(s) (1073741824 connections per worker)",
    );
    cfg.conn_max = Some(1 << 30);
    super::check_ok(&cfg);
}

/// This machine: the facts read, and a configuration on its first online
/// CPU with a small table passes.
#[test]
fn this_machines_facts() {
    let f = MachineFacts::read().unwrap();
    assert!(f.mem_available > 0);
    let first = (0..4096)
        .find(|&c| f.online_cpus.contains(c))
        .expect("an online CPU");
    let mut cfg = base();
    cfg.workers.cores = vec![first];
    cfg.conn_max = Some(1000);
    cfg.validate_machine(&f).unwrap();
    // No machine holds this many connection tables.
    cfg.conn_max = Some(1 << 30);
    let e = cfg.validate_machine(&f).unwrap_err();
    assert_eq!(e.path, "conn_max");
}
