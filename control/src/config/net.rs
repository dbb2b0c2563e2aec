//! Small network value types used by the configuration: an IPv4 prefix
//! (`10.0.0.1/24`) and an Ethernet MAC address (`02:00:00:00:00:01`).

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IPv4 address with a prefix length, written `a.b.c.d/n`.
///
/// Host bits are kept: `10.10.0.1/24` is an interface address on the
/// `10.10.0.0/24` network. The prefix length is mandatory when parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv4Net {
    pub addr: Ipv4Addr,
    pub len: u8,
}

impl Ipv4Net {
    /// Builds a prefix; `None` when `len > 32`.
    pub fn new(addr: Ipv4Addr, len: u8) -> Option<Ipv4Net> {
        (len <= 32).then_some(Ipv4Net { addr, len })
    }

    /// The netmask as a host-order integer (`/24` -> `0xffff_ff00`).
    pub fn mask_bits(&self) -> u32 {
        prefix_len_to_mask(self.len)
    }

    /// The netmask (`/24` -> `255.255.255.0`).
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.mask_bits())
    }

    /// The network address (host bits cleared).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.addr) & self.mask_bits())
    }

    /// The same prefix with the host bits cleared.
    pub fn trunc(&self) -> Ipv4Net {
        Ipv4Net {
            addr: self.network(),
            len: self.len,
        }
    }

    /// True when the host bits of `addr` are all zero.
    pub fn is_network(&self) -> bool {
        self.addr == self.network()
    }

    /// True when `ip` lies inside this prefix.
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        (u32::from(ip) & self.mask_bits()) == u32::from(self.network())
    }
}

/// `/n` to a host-order mask; `n` above 32 saturates to `/32`.
pub fn prefix_len_to_mask(len: u8) -> u32 {
    match len {
        0 => 0,
        n if n >= 32 => u32::MAX,
        n => u32::MAX << (32 - u32::from(n)),
    }
}

/// The prefix length of a contiguous netmask (`255.255.255.0` -> `Some(24)`),
/// `None` when the ones are not contiguous.
pub fn mask_to_prefix_len(mask: Ipv4Addr) -> Option<u8> {
    let bits = u32::from(mask);
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones as u8)
}

/// Why an `a.b.c.d/n` string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv4NetParseError(pub String);

impl fmt::Display for Ipv4NetParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Ipv4NetParseError {}

impl FromStr for Ipv4Net {
    type Err = Ipv4NetParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((addr, len)) = s.split_once('/') else {
            return Err(Ipv4NetParseError(format!(
                "{s:?} has no prefix length (expected a.b.c.d/n)"
            )));
        };
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| Ipv4NetParseError(format!("invalid IPv4 address in {s:?}")))?;
        let len =
            len.parse::<u8>().ok().filter(|l| *l <= 32).ok_or_else(|| {
                Ipv4NetParseError(format!("invalid prefix length in {s:?} (0..=32)"))
            })?;
        Ok(Ipv4Net { addr, len })
    }
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// A 48-bit Ethernet address, written `02:00:00:00:00:01`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);
    pub const ZERO: MacAddr = MacAddr([0; 6]);

    /// Group bit set (multicast or broadcast).
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    pub fn is_zero(&self) -> bool {
        *self == MacAddr::ZERO
    }

    pub fn octets(&self) -> [u8; 6] {
        self.0
    }
}

/// Why a MAC string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacParseError(pub String);

impl fmt::Display for MacParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MacParseError {}

impl FromStr for MacAddr {
    type Err = MacParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            MacParseError(format!(
                "invalid MAC address {s:?} (expected xx:xx:xx:xx:xx:xx)"
            ))
        };
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for byte in out.iter_mut() {
            let part = parts.next().ok_or_else(bad)?;
            if part.len() != 2 {
                return Err(bad());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| bad())?;
        }
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(MacAddr(out))
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// Serde support for types that are written as a string and parsed with
/// `FromStr` (the parse error becomes the field's error message).
macro_rules! serde_via_str {
    ($ty:ty, $expecting:expr) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}
pub(crate) use serde_via_str;

serde_via_str!(Ipv4Net, "an IPv4 prefix a.b.c.d/n");
serde_via_str!(MacAddr, "a MAC address xx:xx:xx:xx:xx:xx");
