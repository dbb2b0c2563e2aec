//! `fvsadm -L --health`: ferrovs's own listing (ipvsadm has none), one line
//! per health check of every real: its state, since when, and what the last
//! probe found.
use crate::proto::{HealthEntry, ServiceKey};

fn service(k: &ServiceKey) -> String {
    if k.fwmark != 0 {
        return format!("FWM  {}", k.fwmark);
    }
    let proto = crate::ipvsadm_fmt::protocol_name(k.protocol);
    format!("{proto}  {}:{}", k.vip, k.port)
}

/// `12.3s`: listings' "since" column (also `-L --vrrp`).
pub(super) fn seconds(ms: u64) -> String {
    format!("{}.{}s", ms / 1000, (ms % 1000) / 100)
}

fn millis(us: u64) -> String {
    format!("{}.{}ms", us / 1000, (us % 1000) / 100)
}

/// The listing, header first; entries in the order given.
pub fn table(entries: &[HealthEntry]) -> String {
    let mut out = format!(
        "{:<28} {:<21} {:<5} {:>8} {:>9} {:>6}  {}\n",
        "Prot LocalAddress:Port",
        "RemoteAddress:Port",
        "State",
        "Since",
        "Latency",
        "Lag",
        "Check: last result"
    );
    for e in entries {
        out.push_str(&format!(
            "{:<28} {:<21} {:<5} {:>8} {:>9} {:>6}  {}: {}\n",
            service(&e.service),
            format!("{}:{}", e.real, e.real_port),
            if e.up { "UP" } else { "DOWN" },
            seconds(e.since_ms),
            millis(e.latency_us),
            format!("{}ms", e.lag_ms),
            e.check,
            if e.last.is_empty() {
                "(not run yet)"
            } else {
                &e.last
            },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Protocol;

    #[test]
    fn one_line_per_check_with_its_verdict() {
        let e = HealthEntry {
            service: ServiceKey::addr(Protocol::Tcp, "10.0.0.100".parse().unwrap(), 80),
            real: "10.0.1.11".parse().unwrap(),
            real_port: 8080,
            check: "HTTP_GET 10.0.1.11:8080/".into(),
            up: false,
            since_ms: 12_345,
            last: "status 500 not in [200]".into(),
            latency_us: 1_234,
            lag_ms: 3,
        };
        let t = table(&[e]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("Prot LocalAddress:Port"));
        assert!(lines[1].starts_with("TCP  10.0.0.100:80"), "{t}");
        for part in [
            "10.0.1.11:8080",
            "DOWN",
            "12.3s",
            "1.2ms",
            "3ms",
            "HTTP_GET 10.0.1.11:8080/: status 500 not in [200]",
        ] {
            assert!(lines[1].contains(part), "{part} in {t}");
        }
    }
}
