//! EAL lifetime: initialised once per process from arguments built out of the
//! config, cleaned up when the `Eal` handle drops (after every port is closed).
use std::ffi::{c_char, CStr, CString};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::sched::{sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;

use super::error::DpdkError;
use super::ffi;

static INITIALISED: AtomicBool = AtomicBool::new(false);

/// Proof that the EAL is up. Dropping it runs `rte_eal_cleanup`, so it must
/// outlive every port, mempool and worker thread.
pub struct Eal {
    _private: (),
}

impl Eal {
    /// Initialises the EAL with `args` (without the program name).
    pub fn init(args: &[String]) -> Result<Eal, DpdkError> {
        if INITIALISED.swap(true, Ordering::SeqCst) {
            return Err(DpdkError::Invalid {
                call: "rte_eal_init",
                reason: "the EAL can be initialised once per process".into(),
            });
        }
        let mut owned = Vec::with_capacity(args.len() + 1);
        owned.push(CString::new("ferrovs").expect("static name has no NUL"));
        for a in args {
            owned.push(CString::new(a.as_str()).map_err(|_| DpdkError::Invalid {
                call: "rte_eal_init",
                reason: format!("argument {a:?} contains a NUL byte"),
            })?);
        }
        // rte_eal_init may permute argv, so hand it a private array of pointers;
        // the CStrings stay alive (and unmodified) for the whole process via leak.
        let owned: &'static [CString] = Box::leak(owned.into_boxed_slice());
        let mut argv: Vec<*mut c_char> = owned.iter().map(|c| c.as_ptr() as *mut c_char).collect();
        let argc = argv.len() as i32;
        // SAFETY: argv holds `argc` valid NUL-terminated strings that live for the
        // rest of the process (leaked above); the EAL is initialised once (flag above).
        let ret = unsafe { ffi::rte_eal_init(argc, argv.as_mut_ptr()) };
        if ret < 0 {
            return Err(DpdkError::from_errno("rte_eal_init"));
        }
        Ok(Eal { _private: () })
    }

    /// As `init`, then gives the calling thread back the CPUs it had before:
    /// the EAL pins it to the main lcore (`-l 0`: CPU 0), and every thread
    /// spawned from it afterwards would inherit that. `ferrovs run` spawns
    /// its control threads (control socket, metrics, health checks, sync, the
    /// host path without `workers.host_core`) from it; they stay where the
    /// operator put the process (taskset, cpuset), not on CPU 0, which may be
    /// a load generator's or another service's. Workers pin themselves.
    pub fn init_keeping_cpus(args: &[String]) -> Result<Eal, DpdkError> {
        // Pid 0: the calling thread.
        let cpus = sched_getaffinity(Pid::from_raw(0)).ok();
        let eal = Self::init(args)?;
        if let Some(cpus) = cpus {
            if let Err(e) = sched_setaffinity(Pid::from_raw(0), &cpus) {
                tracing::warn!(error = %e, "could not give the main thread its CPUs back after EAL init");
            }
        }
        Ok(eal)
    }

    /// Registers the calling (non-EAL) thread with DPDK so it gets an lcore id
    /// and the mempool per-core cache works for it.
    pub fn register_thread(&self) -> Result<(), DpdkError> {
        // SAFETY: the EAL is initialised (we hold `&Eal`); registering a thread
        // only touches DPDK's lcore table.
        let ret = unsafe { ffi::rte_thread_register() };
        if ret < 0 {
            return Err(DpdkError::from_errno("rte_thread_register"));
        }
        Ok(())
    }

    /// Counterpart of `register_thread`, called by a worker before it exits.
    pub fn unregister_thread(&self) {
        // SAFETY: called from a thread that registered itself; EAL still up.
        unsafe { ffi::rte_thread_unregister() }
    }

    /// The NUMA socket of the calling thread (for pools and queues).
    pub fn socket_id(&self) -> i32 {
        // SAFETY: plain query of the calling thread's lcore state.
        unsafe { ffi::rte_socket_id() as i32 }
    }
}

impl Drop for Eal {
    fn drop(&mut self) {
        // SAFETY: every port and pool user holds a borrow of `Eal` or has been
        // joined before this drop (enforced by the runner's ordering).
        let ret = unsafe { ffi::rte_eal_cleanup() };
        if ret < 0 {
            tracing::warn!(errno = -ret, "rte_eal_cleanup failed");
        }
    }
}

/// The calling thread's `rte_errno`.
pub fn last_errno() -> i32 {
    // SAFETY: the shim only reads the calling thread's TLS errno variable.
    unsafe { ffi::ferrovs_rte_errno() }
}

/// DPDK's text for an errno (covers DPDK-specific codes beyond libc's).
pub fn strerror(errno: i32) -> String {
    // SAFETY: rte_strerror returns a pointer to a static or thread-local
    // NUL-terminated buffer, valid until the next call on this thread.
    unsafe {
        let p = ffi::rte_strerror(errno);
        if p.is_null() {
            return format!("errno {errno}");
        }
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}
