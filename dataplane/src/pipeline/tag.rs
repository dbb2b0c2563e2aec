//! The byte a connection carries for the pipeline: its forwarding method and
//! whether the FullNAT TOA option still has to reach the real server.
use crate::snapshot::Forward;

const FORWARD_MASK: u8 = 0b11;
const TOA_PENDING: u8 = 0x80;

pub(super) fn new(forward: Forward, toa: bool) -> u8 {
    let f = match forward {
        Forward::Nat => 0,
        Forward::FullNat => 1,
        Forward::Dr => 2,
        Forward::Tun => 3,
    };
    if toa {
        f | TOA_PENDING
    } else {
        f
    }
}

pub(super) fn forward(tag: u8) -> Forward {
    match tag & FORWARD_MASK {
        0 => Forward::Nat,
        1 => Forward::FullNat,
        2 => Forward::Dr,
        _ => Forward::Tun,
    }
}

pub(super) fn toa_pending(tag: u8) -> bool {
    tag & TOA_PENDING != 0
}

pub(super) fn toa_done(tag: u8) -> u8 {
    tag & !TOA_PENDING
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for f in [Forward::Nat, Forward::FullNat, Forward::Dr, Forward::Tun] {
            for toa in [false, true] {
                let t = new(f, toa);
                assert_eq!(forward(t), f);
                assert_eq!(toa_pending(t), toa);
                assert!(!toa_pending(toa_done(t)));
                assert_eq!(forward(toa_done(t)), f);
            }
        }
    }
}
