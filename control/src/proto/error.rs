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
    /// (`services[2].reals[0].weight`).
    Invalid { field: String },
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

    pub fn internal(message: impl Into<String>) -> ControlError {
        ControlError::new(ErrorKind::Internal, message)
    }

    /// The text fvsadm prints: the message, prefixed by the field for
    /// `Invalid`.
    pub fn display(&self) -> String {
        match &self.code {
            ErrorKind::Invalid { field } if !field.is_empty() => {
                format!("{field}: {}", self.message)
            }
            _ => self.message.clone(),
        }
    }
}

impl From<ConfigError> for ControlError {
    fn from(e: ConfigError) -> ControlError {
        ControlError::invalid(e.path, e.message)
    }
}
