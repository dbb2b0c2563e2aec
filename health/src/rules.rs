//! The timing rules of one checker and keepalived's defaults for them.
//!
//! keepalived resolves every option by inheritance (virtual_server ->
//! real_server -> checker, `validate_check_config()` in check_data.c); a
//! [`Rules`] value is the *result* of that resolution for one checker. Where
//! keepalived's default depends on another option (`warmup` and, for
//! DNS_CHECK, `delay_before_retry` both default to the checker's
//! `delay_loop`) the field is an `Option` and `None` means "keepalived's
//! default", resolved by the accessor of the same name. That keeps the
//! dependency right when the configuration layer changes `delay_loop` after
//! taking [`CheckKind::defaults`].

use crate::error::HealthError;

/// keepalived's `KEEPALIVED_DEFAULT_DELAY` (check_data.h): 60 s.
pub const DEFAULT_DELAY_LOOP_MS: u64 = 60_000;

/// keepalived's default `connect_timeout`: `alloc_vs()` sets the virtual
/// server's `connection_to` to 5 s, and real servers and checkers inherit it.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 5_000;

/// keepalived's `BOOTSTRAP_DELAY` (lib/scheduler.h, one `TIMER_HZ`): every
/// checker's first run is scheduled this long after start, plus the warmup
/// jitter (`register_checkers_thread()` in check_api.c).
pub const BOOTSTRAP_DELAY_MS: u64 = 1_000;

/// The checker types whose rules this crate models.
///
/// The probe itself (what "pass" means) is the live side's job; the kind only
/// selects the rule variations keepalived has per checker type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckKind {
    /// `TCP_CHECK` (check_tcp.c).
    TcpCheck,
    /// `HTTP_GET` (check_http.c).
    HttpGet,
    /// `SSL_GET` (check_http.c with TLS; same rules as `HTTP_GET`).
    SslGet,
    /// `MISC_CHECK` (check_misc.c): an external script.
    MiscCheck,
    /// `DNS_CHECK` (check_dns.c).
    DnsCheck,
}

impl CheckKind {
    /// keepalived's configuration keyword for the kind.
    pub fn keyword(self) -> &'static str {
        match self {
            CheckKind::TcpCheck => "TCP_CHECK",
            CheckKind::HttpGet => "HTTP_GET",
            CheckKind::SslGet => "SSL_GET",
            CheckKind::MiscCheck => "MISC_CHECK",
            CheckKind::DnsCheck => "DNS_CHECK",
        }
    }

    /// The rules a checker of this kind gets when nothing is configured on
    /// it, its real server or its virtual server.
    ///
    /// Verified against keepalived 2.2.8:
    /// - `delay_loop` 60 s: `alloc_vs()` sets `KEEPALIVED_DEFAULT_DELAY`.
    /// - `connect_timeout` 5 s: `alloc_vs()`.
    /// - `retry` 1: `queue_checker()` sets `default_retry = 1`;
    ///   `misc_check_handler()` lowers it to 0 and `dns_check_handler()`
    ///   raises it to `DNS_DEFAULT_RETRY` (3).
    /// - `delay_before_retry` 1 s: `queue_checker()`;
    ///   `http_get_handler()` (shared by HTTP_GET and SSL_GET) sets 3 s;
    ///   `dns_check_handler()` sets 0, which `validate_check_config()` turns
    ///   into the checker's `delay_loop` (the reference summary's "1 s" is
    ///   wrong for DNS_CHECK).
    /// - `warmup` = the checker's `delay_loop` (`validate_check_config()`).
    /// - `alpha` off: `alloc_vs()`.
    /// - the clean-round rule applies to HTTP_GET/SSL_GET only (it lives in
    ///   check_http.c's `epilog()`), `fast_recovery` off.
    pub fn defaults(self) -> Rules {
        let (retry, delay_before_retry_ms) = match self {
            CheckKind::TcpCheck => (1, Some(1_000)),
            CheckKind::HttpGet | CheckKind::SslGet => (1, Some(3_000)),
            CheckKind::MiscCheck => (0, Some(1_000)),
            CheckKind::DnsCheck => (3, None),
        };
        Rules {
            kind: self,
            delay_loop_ms: DEFAULT_DELAY_LOOP_MS,
            connect_timeout_ms: DEFAULT_CONNECT_TIMEOUT_MS,
            retry,
            delay_before_retry_ms,
            warmup_ms: None,
            alpha: false,
            needs_clean_round: matches!(self, CheckKind::HttpGet | CheckKind::SslGet),
            fast_recovery: false,
        }
    }
}

/// The resolved rules of one checker (one check on one real, or one shared
/// probe; see [`crate::Health`]).
///
/// Build it with [`CheckKind::defaults`] and override fields; times are in
/// milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rules {
    /// Which keepalived checker this is.
    pub kind: CheckKind,
    /// `delay_loop`: the period between checks while nothing is being
    /// retried. keepalived refuses 0; [`Rules::validate`] does too.
    pub delay_loop_ms: u64,
    /// `connect_timeout`: not used by the rules, carried so the live side and
    /// the listing have it. keepalived gives each phase of a probe (connect,
    /// send, receive) its own timeout. For MISC_CHECK the live side uses
    /// `misc_timeout` instead, whose keepalived default is the *virtual
    /// server's* `delay_loop` (`misc_check_thread()`).
    pub connect_timeout_ms: u64,
    /// `retry` (old name `nb_get_retry`): how many re-checks a failure gets,
    /// `delay_before_retry` apart, before the check goes down.
    pub retry: u32,
    /// `delay_before_retry`; `None` = the checker's `delay_loop`.
    pub delay_before_retry_ms: Option<u64>,
    /// `warmup`: the first check runs after a random delay in `[0, warmup]`
    /// (plus [`BOOTSTRAP_DELAY_MS`]); `None` = the checker's `delay_loop`,
    /// `Some(0)` = no jitter.
    pub warmup_ms: Option<u64>,
    /// `alpha`: start with the check failed, so the real is only installed
    /// after a success.
    pub alpha: bool,
    /// The HTTP_GET/SSL_GET rule: once a round has failed (the check went
    /// down), a passing round only clears the failure; the check comes up at
    /// the next passing round, `delay_loop` later.
    pub needs_clean_round: bool,
    /// `fast_recovery` (HTTP_GET/SSL_GET). keepalived does *not* skip the
    /// clean round with it: `epilog()` schedules the confirming round at once
    /// (`thread_add_event`) instead of `delay_loop` later. So with
    /// `fast_recovery` the check still needs two passing rounds, back to back.
    /// Ignored unless `needs_clean_round`.
    pub fast_recovery: bool,
}

impl Rules {
    /// `delay_loop`, never below 1 ms so a bad value cannot spin a scheduler.
    pub fn delay_loop(&self) -> u64 {
        self.delay_loop_ms.max(1)
    }

    /// `delay_before_retry` with keepalived's fallback to `delay_loop`.
    pub fn delay_before_retry(&self) -> u64 {
        self.delay_before_retry_ms
            .unwrap_or_else(|| self.delay_loop())
    }

    /// `warmup` with keepalived's fallback to `delay_loop`.
    pub fn warmup(&self) -> u64 {
        self.warmup_ms.unwrap_or_else(|| self.delay_loop())
    }

    /// The delay from start to a checker's first run: keepalived computes
    /// `BOOTSTRAP_DELAY + warmup * random() / RAND_MAX`
    /// (`register_checkers_thread()`), so the jitter covers `[0, warmup]`
    /// inclusive. `jitter` is the caller's random number: 0 maps to no
    /// jitter, `u64::MAX` to the full warmup, linearly in between.
    pub fn first_delay(&self, jitter: u64) -> u64 {
        let scaled = u128::from(self.warmup()) * u128::from(jitter) / u128::from(u64::MAX);
        // scaled <= warmup, which fits in u64.
        BOOTSTRAP_DELAY_MS.saturating_add(u64::try_from(scaled).unwrap_or(u64::MAX))
    }

    /// Refuse what keepalived's parser refuses and what would make the
    /// scheduler spin: `delay_loop` must be at least 1 ms (keepalived's
    /// `delay_handler()` rejects 0).
    pub fn validate(&self) -> Result<(), HealthError> {
        if self.delay_loop_ms == 0 {
            return Err(HealthError::InvalidRules(
                "delay_loop must be at least 1 ms".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_per_kind() {
        let tcp = CheckKind::TcpCheck.defaults();
        assert_eq!(tcp.delay_loop(), 60_000);
        assert_eq!(tcp.connect_timeout_ms, 5_000);
        assert_eq!(tcp.retry, 1);
        assert_eq!(tcp.delay_before_retry(), 1_000);
        assert_eq!(tcp.warmup(), 60_000);
        assert!(!tcp.alpha && !tcp.needs_clean_round && !tcp.fast_recovery);

        for k in [CheckKind::HttpGet, CheckKind::SslGet] {
            let r = k.defaults();
            assert_eq!((r.retry, r.delay_before_retry()), (1, 3_000));
            assert!(r.needs_clean_round);
        }
        let misc = CheckKind::MiscCheck.defaults();
        assert_eq!((misc.retry, misc.delay_before_retry()), (0, 1_000));
        let dns = CheckKind::DnsCheck.defaults();
        assert_eq!(dns.retry, 3);
        assert_eq!(dns.delay_before_retry(), 60_000);
    }

    #[test]
    fn dependent_defaults_follow_delay_loop() {
        let mut dns = CheckKind::DnsCheck.defaults();
        dns.delay_loop_ms = 6_000;
        assert_eq!(dns.delay_before_retry(), 6_000);
        assert_eq!(dns.warmup(), 6_000);
    }

    #[test]
    fn first_delay_bounds() {
        let mut r = CheckKind::TcpCheck.defaults();
        r.warmup_ms = Some(10_000);
        assert_eq!(r.first_delay(0), 1_000);
        assert_eq!(r.first_delay(u64::MAX), 11_000);
        assert_eq!(r.first_delay(u64::MAX / 2), 5_999);
        r.warmup_ms = Some(0);
        assert_eq!(r.first_delay(u64::MAX), 1_000);
        r.warmup_ms = Some(u64::MAX);
        assert_eq!(r.first_delay(u64::MAX), u64::MAX);
    }

    #[test]
    fn zero_delay_loop_is_refused_and_clamped() {
        let mut r = CheckKind::TcpCheck.defaults();
        r.delay_loop_ms = 0;
        assert!(r.validate().is_err());
        assert_eq!(r.delay_loop(), 1);
    }
}
