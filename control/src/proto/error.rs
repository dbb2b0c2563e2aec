//! The typed error of a control request, with ipvsadm's wording.

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// What went wrong, in ipvsadm's terms where ipvsadm has one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// `-E`, `-D`, `-Z`, `-L -t`: "No such service".
    NoService,
    /// `-a`, `-e`, `-d` on a missing service: "Service not defined".
    ServiceNotDefined,
    /// `-A` of an existing service: "Service already exists".
    ServiceExists,
    /// `-e`, `-d` of a missing real: "No such destination".
    NoDest,
    /// `-a` of an existing real: "Destination already exists".
    DestExists,
    /// `-P` of a local address the service already has.
    LocalAddrExists,
    /// `-Q` of a local address the service does not have.
    NoLocalAddr,
    /// The resulting configuration is refused; `field` names the field
    /// (`services[2].reals[0].weight`). ipvsadm prints the kernel's EINVAL.
    Invalid { field: String },
    /// A value out of the range the kernel takes (a lower threshold above
    /// the upper one): ipvsadm prints ERANGE, "Numerical result out of
    /// range".
    OutOfRange { field: String },
    /// A table or limit is full: ipvsadm prints ENOMEM, "Memory
    /// allocation problem".
    NoMemory { field: String },
    /// `--start-daemon` of a role whose daemon runs: the kernel's EEXIST,
    /// "Daemon has already run".
    DaemonRunning,
    /// `--stop-daemon` of a role whose daemon does not run: the kernel's
    /// ESRCH, "No daemon is running".
    NoDaemon,
    /// `--start-daemon` on an interface there is none of (no such port,
    /// or a port without a kernel twin): the kernel's ENODEV, which
    /// ipvsadm prints as `strerror`, "No such device".
    NoDevice,
    /// Connection sync is not available in this daemon: the kernel's
    /// ENOPROTOOPT (start_sync_thread's refusal when IPVS cannot run a
    /// sync thread), "Protocol not available".
    SyncUnavailable,
    /// The request cannot be applied to this service (e.g. one port of a
    /// multi-port service defined in the YAML file).
    Unsupported,
    /// The request could not be read (bad frame, bad JSON).
    BadRequest,
    /// The peer speaks another protocol version.
    Version,
    /// Too many clients are connected.
    Busy,
    /// The daemon failed to carry out a valid request.
    Internal,
}

/// A refused request: a kind and a human message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", self.display())]
pub struct ControlError {
    pub code: ErrorKind,
    pub message: String,
}

impl ControlError {
    pub fn new(code: ErrorKind, message: impl Into<String>) -> ControlError {
        ControlError {
            code,
            message: message.into(),
        }
    }

    /// An error of a kind whose message is ipvsadm's fixed text.
    pub fn of(code: ErrorKind) -> ControlError {
        let message = match &code {
            ErrorKind::NoService => "No such service",
            ErrorKind::ServiceNotDefined => "Service not defined",
            ErrorKind::ServiceExists => "Service already exists",
            ErrorKind::NoDest => "No such destination",
            ErrorKind::DestExists => "Destination already exists",
            ErrorKind::LocalAddrExists => "Local address already exists",
            ErrorKind::NoLocalAddr => "No such local address",
            ErrorKind::Invalid { .. } => "Invalid operation",
            ErrorKind::OutOfRange { .. } => ERANGE_TEXT,
            ErrorKind::NoMemory { .. } => ENOMEM_TEXT,
            ErrorKind::DaemonRunning => DAEMON_RUNNING_TEXT,
            ErrorKind::NoDaemon => NO_DAEMON_TEXT,
            ErrorKind::NoDevice => ENODEV_TEXT,
            ErrorKind::SyncUnavailable => ENOPROTOOPT_TEXT,
            ErrorKind::Unsupported => "Operation not supported",
            ErrorKind::BadRequest => "Bad request",
            ErrorKind::Version => "Protocol version mismatch",
            ErrorKind::Busy => "Too many clients",
            ErrorKind::Internal => "Internal error",
        };
        ControlError::new(code, message)
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ControlError {
        ControlError::new(
            ErrorKind::Invalid {
                field: field.into(),
            },
            message,
        )
    }

    /// A value the kernel would refuse with ERANGE.
    pub fn out_of_range(field: impl Into<String>, message: impl Into<String>) -> ControlError {
        ControlError::new(
            ErrorKind::OutOfRange {
                field: field.into(),
            },
            message,
        )
    }

    /// A limit the kernel would report as ENOMEM.
    pub fn no_memory(field: impl Into<String>, message: impl Into<String>) -> ControlError {
        ControlError::new(
            ErrorKind::NoMemory {
                field: field.into(),
            },
            message,
        )
    }

    /// The refusal of the `Backend` sync methods that a daemon without
    /// connection sync leaves as they are.
    pub fn sync_unavailable() -> ControlError {
        ControlError::new(
            ErrorKind::SyncUnavailable,
            "connection sync is not available in this daemon",
        )
    }

    pub fn internal(message: impl Into<String>) -> ControlError {
        ControlError::new(ErrorKind::Internal, message)
    }

    /// The field a refused configuration names, if any.
    pub fn field(&self) -> Option<&str> {
        match &self.code {
            ErrorKind::Invalid { field }
            | ErrorKind::OutOfRange { field }
            | ErrorKind::NoMemory { field } => {
                Some(field).filter(|f| !f.is_empty()).map(|f| f.as_str())
            }
            _ => None,
        }
    }

    /// The full text, for logs and for `--reload`: the message, after the
    /// field it names (once).
    pub fn display(&self) -> String {
        match self.field() {
            Some(field) => format!("{field}: {}", self.message),
            None => self.message.clone(),
        }
    }

    /// What ipvsadm prints for this refusal: the kernel's errno text
    /// (`ipvs_strerror`) for a refused configuration, else the message.
    pub fn ipvsadm_message(&self) -> &str {
        match &self.code {
            ErrorKind::Invalid { .. } => EINVAL_TEXT,
            ErrorKind::OutOfRange { .. } => ERANGE_TEXT,
            ErrorKind::NoMemory { .. } => ENOMEM_TEXT,
            ErrorKind::DaemonRunning => DAEMON_RUNNING_TEXT,
            ErrorKind::NoDaemon => NO_DAEMON_TEXT,
            ErrorKind::NoDevice => ENODEV_TEXT,
            ErrorKind::SyncUnavailable => ENOPROTOOPT_TEXT,
            _ => &self.message,
        }
    }
}

/// ipvsadm's `ipvs_strerror` for EINVAL (any operation).
pub const EINVAL_TEXT: &str =
    "Invalid operation.  Possibly wrong module version, address not unicast, ...";
/// `strerror(ERANGE)`: ipvsadm has no text of its own for it.
pub const ERANGE_TEXT: &str = "Numerical result out of range";
/// ipvsadm's `ipvs_strerror` for ENOMEM.
pub const ENOMEM_TEXT: &str = "Memory allocation problem";
/// ipvsadm's `ipvs_strerror` for `ipvs_start_daemon`'s EEXIST.
pub const DAEMON_RUNNING_TEXT: &str = "Daemon has already run";
/// ipvsadm's `ipvs_strerror` for `ipvs_stop_daemon`'s ESRCH.
pub const NO_DAEMON_TEXT: &str = "No daemon is running";
/// `strerror(ENODEV)`: ipvsadm has no text of its own for it.
pub const ENODEV_TEXT: &str = "No such device";
/// ipvsadm's `ipvs_strerror` for ENOPROTOOPT.
pub const ENOPROTOOPT_TEXT: &str = "Protocol not available";

impl From<ConfigError> for ControlError {
    fn from(e: ConfigError) -> ControlError {
        ControlError::invalid(e.path, e.message)
    }
}
