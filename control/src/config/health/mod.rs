//! Health checks with keepalived's semantics: the configuration (checkers,
//! quorum, sorry server, scripts), its validation, and the settings in
//! force after keepalived's inheritance (service -> real -> checker) and
//! defaults. Nothing here runs a check.

mod checks;
mod effective;
mod script;
mod seconds;
mod sorry;
mod validate;

pub use checks::{
    Check, Connect, DnsCheck, DnsType, HttpCheck, HttpProtocol, MiscCheck, StatusCodes, TcpCheck,
    Timing, Url,
};
pub use effective::{
    parse_digest, CheckOrigin, EffectiveCheck, EffectiveSorry, EffectiveUrl, Probe, RealHealth,
    ServiceHealth, Target, DEFAULT_CONNECT_TIMEOUT, DEFAULT_DELAY_LOOP, DEFAULT_DNS_NAME,
    DEFAULT_STATUS_CODES,
};
pub use script::Script;
pub use seconds::Seconds;
pub use sorry::SorryServer;
pub use validate::{CONNECT_TIMEOUT_MAX, TIMER_MAX};

pub(crate) use validate::check;
