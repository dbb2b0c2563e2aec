//! The tunnel of a TUN real (`tun_type`, `tun_port`, `tun_flags`): how a
//! real's value is found (its own, else its service's, else the default)
//! and which combinations are refused, as ipvsadm 1.31's table of tunnel
//! types and options refuses them (a GUE port is compulsory for gue and
//! illegal otherwise; ipip takes no checksum option; remcsum is gue only).
//! Linux's ip_vs_ctl.c itself only refuses a gue real without a port
//! (EINVAL); the rest is ipvsadm's.

use serde::{Deserialize, Serialize};

use super::error::ConfigError;
use super::kinds::{Forward, TunFlags, TunType};
use super::model::{Real, Service};

/// The tunnel a TUN real uses, with every inherited value resolved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tunnel {
    #[serde(rename = "type")]
    pub kind: TunType,
    /// GUE destination port; 0 for ipip and gre.
    pub port: u16,
    /// Always nocsum for ipip.
    pub flags: TunFlags,
}

impl Service {
    /// The tunnel of `real` if it forwards by tun: each field its own, else
    /// the service's, else the default; a port only for gue, a checksum
    /// choice only for gue and gre.
    pub fn tunnel_of(&self, real: &Real) -> Option<Tunnel> {
        if self.forward_of(real) != Forward::Tun {
            return None;
        }
        let kind = real.tun_type.or(self.tun_type).unwrap_or_default();
        let port = match kind {
            TunType::Gue => real.tun_port.or(self.tun_port).unwrap_or(0),
            TunType::Ipip | TunType::Gre => 0,
        };
        let flags = match kind {
            TunType::Ipip => TunFlags::Nocsum,
            TunType::Gue | TunType::Gre => real.tun_flags.or(self.tun_flags).unwrap_or_default(),
        };
        Some(Tunnel { kind, port, flags })
    }
}

type Result = std::result::Result<(), ConfigError>;

fn err(path: String, message: impl Into<String>) -> Result {
    Err(ConfigError::new(path, message))
}

/// The tunnel fields set at one level (a service or a real).
struct Fields {
    kind: Option<TunType>,
    port: Option<u16>,
    flags: Option<TunFlags>,
}

impl Fields {
    /// The first field that is set, by name.
    fn first_set(&self) -> Option<&'static str> {
        [
            (self.kind.is_some(), "tun_type"),
            (self.port.is_some(), "tun_port"),
            (self.flags.is_some(), "tun_flags"),
        ]
        .into_iter()
        .find_map(|(set, name)| set.then_some(name))
    }
}

/// Fields given explicitly must suit the tunnel type in force at their
/// level.
fn explicit(at: &dyn Fn(&str) -> String, kind: TunType, f: &Fields) -> Result {
    if f.port.is_some() && kind != TunType::Gue {
        return err(
            at("tun_port"),
            format!("only valid with tun_type gue (not {kind})"),
        );
    }
    match (kind, f.flags) {
        (TunType::Ipip, Some(flags)) => err(
            at("tun_flags"),
            format!("{flags}: tun_type ipip takes no checksum option"),
        ),
        (TunType::Gre, Some(TunFlags::Remcsum)) => {
            err(at("tun_flags"), "remcsum is only valid with tun_type gue")
        }
        _ => Ok(()),
    }
}

/// The service-level defaults: only with `forward: tun`.
pub(super) fn service(i: usize, s: &Service) -> Result {
    let at = |field: &str| format!("services[{i}].{field}");
    let f = Fields {
        kind: s.tun_type,
        port: s.tun_port,
        flags: s.tun_flags,
    };
    let Some(first) = f.first_set() else {
        return Ok(());
    };
    if s.forward != Forward::Tun {
        return err(
            at(first),
            format!(
                "only valid with forward tun (this service forwards by {})",
                s.forward
            ),
        );
    }
    explicit(&at, s.tun_type.unwrap_or_default(), &f)
}

/// A real's own fields and the tunnel they resolve to.
pub(super) fn real(i: usize, j: usize, s: &Service, r: &Real) -> Result {
    let at = |field: &str| format!("services[{i}].reals[{j}].{field}");
    let f = Fields {
        kind: r.tun_type,
        port: r.tun_port,
        flags: r.tun_flags,
    };
    let Some(t) = s.tunnel_of(r) else {
        return match f.first_set() {
            Some(first) => err(
                at(first),
                format!(
                    "only valid with forward tun (this real forwards by {})",
                    s.forward_of(r)
                ),
            ),
            None => Ok(()),
        };
    };
    explicit(&at, t.kind, &f)?;
    if t.kind == TunType::Gue && t.port == 0 {
        return err(at("tun_port"), "required with tun_type gue");
    }
    if t.kind == TunType::Gre && t.flags == TunFlags::Remcsum {
        return err(
            at("tun_type"),
            format!("gre does not take tun_flags remcsum (from services[{i}].tun_flags)"),
        );
    }
    Ok(())
}
