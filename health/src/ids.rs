//! Identifiers the caller chooses for services, reals and probes.

use std::fmt;

/// A virtual service, numbered by the caller (e.g. its dataplane index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceId(pub u32);

/// A real server within one service, numbered by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RealId(pub u32);

/// Names one probe: a distinct (address, port, check definition, rules).
///
/// The caller builds the key so that two checks which would send the same
/// packets on the same schedule get the same key, e.g.
/// `"HTTP_GET 10.0.0.2:8080 /health [200] dl=6000 r=1 dbr=3000"`. Every
/// check that uses the key shares one state machine and one probe; see
/// [`crate::Health`] for the fan-out.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProbeKey(pub String);

impl ProbeKey {
    pub fn new(key: impl Into<String>) -> Self {
        ProbeKey(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vs#{}", self.0)
    }
}

impl fmt::Display for RealId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rs#{}", self.0)
    }
}

impl fmt::Display for ProbeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
