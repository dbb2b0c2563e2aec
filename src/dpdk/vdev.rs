//! A virtual device created at run time (`rte_vdev_init`), removed when the
//! handle drops. The host path's TAP twins are made this way, after the data
//! ports are open, because a twin takes its port's MAC.
use std::ffi::CString;

use super::error::DpdkError;
use super::ffi;
use super::Eal;

pub struct Vdev {
    name: CString,
}

impl Vdev {
    /// Probes the vdev `name` (its driver is the name's prefix, e.g. `net_tap`)
    /// with the devargs `args`.
    pub fn create(_eal: &Eal, name: &str, args: &str) -> Result<Vdev, DpdkError> {
        let invalid = |what: &str| DpdkError::Invalid {
            call: "rte_vdev_init",
            reason: format!("{what} contains a NUL byte"),
        };
        let cname = CString::new(name).map_err(|_| invalid("vdev name"))?;
        let cargs = CString::new(args).map_err(|_| invalid("vdev arguments"))?;
        // SAFETY: both are valid NUL-terminated strings for the duration of
        // the call; the EAL is up (we hold `&Eal`).
        let ret = unsafe { ffi::rte_vdev_init(cname.as_ptr(), cargs.as_ptr()) };
        if ret != 0 {
            return Err(DpdkError::from_ret("rte_vdev_init", ret));
        }
        Ok(Vdev { name: cname })
    }

    pub fn name(&self) -> &str {
        self.name.to_str().unwrap_or("")
    }
}

impl Drop for Vdev {
    fn drop(&mut self) {
        // SAFETY: the name was probed by `create`; any port of the device has
        // been closed by then (the owner drops its EthPort first).
        let ret = unsafe { ffi::rte_vdev_uninit(self.name.as_ptr()) };
        if ret != 0 && ret != -libc::ENOENT {
            tracing::debug!(vdev = self.name(), ret, "rte_vdev_uninit");
        }
    }
}
