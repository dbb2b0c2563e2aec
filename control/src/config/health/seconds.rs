//! `Seconds`: a duration written as a number of seconds, whole or decimal
//! (`6`, `0.5`), kept to the microsecond as keepalived keeps its timers.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const MICROS: u64 = 1_000_000;

/// A duration in whole microseconds (keepalived's `TIMER_HZ`); the
/// default is zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seconds(u64);

impl Seconds {
    pub const ZERO: Seconds = Seconds(0);

    pub const fn from_secs(s: u64) -> Seconds {
        Seconds(s * MICROS)
    }

    pub const fn from_micros(us: u64) -> Seconds {
        Seconds(us)
    }

    pub fn as_micros(self) -> u64 {
        self.0
    }

    pub fn as_duration(self) -> Duration {
        Duration::from_micros(self.0)
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Reads `6`, `0.5`, `1.000001` (keepalived's timer syntax: decimal
    /// seconds, at most 6 decimals). `None` for anything else.
    pub fn parse(s: &str) -> Option<Seconds> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || !digits(frac) || frac.len() > 6 || (int.len() > 12) {
            return None;
        }
        let whole: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut micros: u64 = 0;
        if !frac.is_empty() {
            micros = format!("{frac:0<6}").parse().ok()?;
        }
        Some(Seconds(whole * MICROS + micros))
    }

    fn from_f64(v: f64) -> Option<Seconds> {
        // 1e12 s is far above any limit validation accepts, and far below
        // where u64 microseconds overflow.
        if !v.is_finite() || !(0.0..1e12).contains(&v) {
            return None;
        }
        Some(Seconds((v * MICROS as f64).round() as u64))
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, us) = (self.0 / MICROS, self.0 % MICROS);
        if us == 0 {
            write!(f, "{s}")
        } else {
            let frac = format!("{us:06}");
            write!(f, "{s}.{}", frac.trim_end_matches('0'))
        }
    }
}

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_multiple_of(MICROS) {
            s.serialize_u64(self.0 / MICROS)
        } else {
            s.serialize_f64(self.0 as f64 / MICROS as f64)
        }
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        fn bad<E: de::Error>() -> E {
            E::custom("must be a number of seconds >= 0 (e.g. 3 or 0.5)")
        }
        impl Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of seconds")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                v.checked_mul(MICROS).map(Seconds).ok_or_else(bad)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                u64::try_from(v)
                    .map_err(|_| bad())
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Seconds, E> {
                Seconds::from_f64(v).ok_or_else(bad)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Seconds, E> {
                Err(bad())
            }
        }
        d.deserialize_any(V)
    }
}
