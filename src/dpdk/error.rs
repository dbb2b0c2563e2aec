//! Typed DPDK errors: which call failed and the errno it reported.
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DpdkError {
    #[error("{call} failed: {message} (errno {errno})")]
    Call {
        call: &'static str,
        errno: i32,
        message: String,
    },
    #[error("invalid argument for {call}: {reason}")]
    Invalid { call: &'static str, reason: String },
    /// An rte_flow call refused: `message` is the driver's own explanation
    /// (`rte_flow_error.message`), or DPDK's text for `errno` when it gave none.
    #[error("{call} failed: {message} (errno {errno})")]
    Flow {
        call: &'static str,
        errno: i32,
        message: String,
    },
}

impl DpdkError {
    /// Builds an error from a DPDK return code: negative codes are `-errno`,
    /// otherwise DPDK reported through `rte_errno`.
    pub fn from_ret(call: &'static str, ret: i32) -> Self {
        let errno = if ret < 0 {
            -ret
        } else {
            super::eal::last_errno()
        };
        DpdkError::Call {
            call,
            errno,
            message: super::eal::strerror(errno),
        }
    }

    pub fn from_errno(call: &'static str) -> Self {
        let errno = super::eal::last_errno();
        DpdkError::Call {
            call,
            errno,
            message: super::eal::strerror(errno),
        }
    }
}
