//! Instance configuration, its validation, and the clamping `Instance::new`
//! applies so that no configuration can make the machine spin or misbehave.

use std::net::Ipv4Addr;

use crate::codec::MAX_ADDRESSES;
use crate::{ChecksumForm, InitialState, Version};

/// Largest v3 interval: the field has 12 bits.
pub(crate) const V3_MAX_INTERVAL_CS: u16 = 0x0fff;

/// One VRRP instance's configuration (keepalived `vrrp_instance`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    pub version: Version,
    /// 1..=255.
    pub vrid: u8,
    /// 1..=255 (255 = address owner).
    pub priority: u8,
    /// Centiseconds; v2 always a multiple of 100 (whole seconds).
    pub advert_int_cs: u16,
    pub initial: InitialState,
    /// false = keepalived `nopreempt`.
    pub preempt: bool,
    pub preempt_delay_ms: u64,
    /// Our advert source address (tie-break on equal priority).
    pub primary: Ipv4Addr,
    /// The virtual addresses, in configured order (sent in this order).
    pub addresses: Vec<Ipv4Addr>,
    /// v2 auth type 1 (simple text password, zero padded); None = auth type 0.
    pub auth_pass: Option<[u8; 8]>,
    /// Unicast peers: no TTL check on receive.
    pub unicast: bool,
    pub send_checksum: ChecksumForm,
    /// Second gratuitous-ARP round this long after becoming master; 0 = none.
    pub garp_delay_ms: u64,
}

/// A configuration the runtime should refuse before building an instance.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    #[error("virtual_router_id must be 1..255, got 0")]
    Vrid,
    #[error("priority must be 1..255, got 0 (0 is reserved for a master that stops)")]
    Priority,
    #[error("advert_int must be at least one centisecond")]
    IntervalZero,
    #[error("VRRPv2 advert_int must be whole seconds from 1 to 255, got {0} cs")]
    IntervalV2(u16),
    #[error("VRRPv3 advert_int must be at most 4095 cs, got {0} cs")]
    IntervalV3(u16),
    #[error("an instance needs at least one virtual address")]
    NoAddresses,
    #[error("at most 255 virtual addresses fit in an advertisement, got {0}")]
    TooManyAddresses(usize),
    #[error("VRRPv3 has no authentication; auth_pass is only for version 2")]
    AuthOnV3,
}

impl Params {
    /// Checks what `Instance::new` would otherwise silently clamp.
    pub fn validate(&self) -> Result<(), ParamsError> {
        if self.vrid == 0 {
            return Err(ParamsError::Vrid);
        }
        if self.priority == 0 {
            return Err(ParamsError::Priority);
        }
        if self.advert_int_cs == 0 {
            return Err(ParamsError::IntervalZero);
        }
        match self.version {
            Version::V2
                if !self.advert_int_cs.is_multiple_of(100) || self.advert_int_cs > 25500 =>
            {
                return Err(ParamsError::IntervalV2(self.advert_int_cs))
            }
            Version::V3 if self.advert_int_cs > V3_MAX_INTERVAL_CS => {
                return Err(ParamsError::IntervalV3(self.advert_int_cs))
            }
            Version::V3 if self.auth_pass.is_some() => return Err(ParamsError::AuthOnV3),
            _ => {}
        }
        if self.addresses.is_empty() {
            return Err(ParamsError::NoAddresses);
        }
        if self.addresses.len() > MAX_ADDRESSES {
            return Err(ParamsError::TooManyAddresses(self.addresses.len()));
        }
        Ok(())
    }

    /// What the instance runs with: priority at least 1 (0 would mean
    /// "stopping" on the wire), an interval the wire can carry and that is
    /// never 0 (a 0 interval would make the adver timer due forever), at most
    /// 255 addresses (what the count field carries, so our own set and the
    /// set we send agree).
    pub(crate) fn sanitized(mut self) -> Params {
        self.priority = self.priority.max(1);
        self.advert_int_cs = match self.version {
            Version::V2 => (self.advert_int_cs / 100).clamp(1, 255) * 100,
            Version::V3 => self.advert_int_cs.clamp(1, V3_MAX_INTERVAL_CS),
        };
        self.addresses.truncate(MAX_ADDRESSES);
        self
    }
}

#[cfg(test)]
#[path = "params_tests.rs"]
mod tests;
