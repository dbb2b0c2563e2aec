//! The receive checks that depend on the instance (RFC 3768 7.1, RFC 9568
//! 7.1, and keepalived's stricter ones), applied after `codec::decode`.

use std::collections::BTreeSet;

use crate::codec::{Received, VRRP_TTL};
use crate::{Params, RxDrop, Version};

/// v2 auth type 1: simple text password.
pub(crate) const AUTH_PASS: u8 = 1;
/// The priority of the address owner, whose address list is trusted.
pub(crate) const OWNER_PRIORITY: u8 = 255;

/// `cfg` must be the sanitized configuration (its interval is the one sent).
pub(crate) fn check(cfg: &Params, rx: &Received) -> Result<(), RxDrop> {
    let a = &rx.advert;
    // Multicast adverts must not have crossed a router. Unicast ones may
    // legitimately be routed, so keepalived skips the check for them.
    if !cfg.unicast && rx.ttl != VRRP_TTL {
        return Err(RxDrop::Ttl);
    }
    if a.version != cfg.version {
        return Err(RxDrop::Version);
    }
    if a.vrid != cfg.vrid {
        return Err(RxDrop::Vrid);
    }
    // Our own advert looped back: acting on it would make us answer ourselves.
    if rx.src == cfg.primary {
        return Err(RxDrop::Own);
    }
    match cfg.version {
        Version::V2 => {
            let (our_type, our_data) = match cfg.auth_pass {
                Some(pw) => (AUTH_PASS, pw),
                None => (0, [0; 8]),
            };
            if a.auth_type != our_type || (our_type == AUTH_PASS && a.auth_data != our_data) {
                return Err(RxDrop::Auth);
            }
            // keepalived drops these "to prevent concurrent VRID running":
            // peers that disagree on the interval would disagree on timers.
            if a.interval_cs != cfg.advert_int_cs {
                return Err(RxDrop::Interval);
            }
        }
        Version::V3 => {
            // Learned as Master_Adver_Interval; 0 would collapse the
            // Master_Down_Interval to the skew (RFC 9568 erratum 8301: verify
            // Max Advertise Interval is non-zero).
            if a.interval_cs == 0 {
                return Err(RxDrop::Interval);
            }
        }
    }
    // RFC 9568 7.1: a mismatch from a non-owner MUST be dropped; keepalived
    // drops it too. Compared as sets: order and duplicates do not matter.
    if a.priority != OWNER_PRIORITY {
        let theirs: BTreeSet<_> = a.addresses.iter().collect();
        let ours: BTreeSet<_> = cfg.addresses.iter().collect();
        if theirs != ours {
            return Err(RxDrop::Addresses);
        }
    }
    Ok(())
}
