//! keepalived's checkers (`HTTP_GET`, `SSL_GET`, `TCP_CHECK`,
//! `MISC_CHECK`, `DNS_CHECK`) into ferrovs checks.

use super::map::Mapper;
use super::tree::Node;
use super::values::{flag, port, positive_timer, timer, u32_in, unsigned};
use super::vs::{connect_timeout, script};
use crate::config::health::{
    parse_digest, Check, DnsCheck, DnsType, HttpCheck, HttpProtocol, MiscCheck, Seconds,
    StatusCodes, TcpCheck, Timing, Url,
};

/// The options every connecting checker has.
#[derive(Default)]
struct Common {
    timing: Timing,
    conn: crate::config::health::Connect,
}

pub fn map(m: &mut Mapper, n: &Node) -> Option<Check> {
    let connects = n.keyword() != "MISC_CHECK";
    let mut common = Common::default();
    let mut http = HttpCheck::default();
    let mut misc: Option<MiscCheck> = None;
    let mut misc_timeout = None;
    let mut misc_dynamic = false;
    let mut dns = DnsCheck::default();
    for c in n.children() {
        if self::common(m, c, &mut common, connects) {
            continue;
        }
        match (n.keyword(), c.keyword()) {
            ("MISC_CHECK", "misc_path") => {
                misc = script(m, c).map(|p| MiscCheck {
                    misc_path: p,
                    ..MiscCheck::default()
                })
            }
            // Whole seconds in keepalived; 0 means the default.
            ("MISC_CHECK", "misc_timeout") => {
                misc_timeout = m
                    .value(c, |a| unsigned(a, 0, u64::from(u32::MAX) / 1_000_000))
                    .map(|s| (s != 0).then(|| Seconds::from_secs(s)))
                    .unwrap_or(misc_timeout)
            }
            ("MISC_CHECK", "misc_dynamic") => misc_dynamic = true,
            ("MISC_CHECK", "user") => m.unmapped(c, "scripts run as ferrovs's own user"),
            ("DNS_CHECK", "type") => {
                if let Some(t) = m.value(c, |a| {
                    DnsType::parse(a).ok_or_else(|| format!("unknown DNS type {a:?}"))
                }) {
                    dns.qtype = Some(t);
                }
            }
            ("DNS_CHECK", "name") => {
                if let Some(name) = m.value(c, dns_name) {
                    dns.name = Some(name);
                }
            }
            (_, "bind_if") if connects => m.unmapped(
                c,
                "the source interface follows bindto or the real's subnet",
            ),
            (_, "fwmark") if connects => m.unmapped(c, "probes carry no socket mark"),
            (_, "log_all_failures") => m.unmapped(c, "ferrovs logs every check failure"),
            ("HTTP_GET" | "SSL_GET", k) => http_keyword(m, n, c, k, &mut http, &mut common),
            _ => m.unmapped(
                c,
                &format!("not a {} keyword; keepalived ignores it", n.keyword()),
            ),
        }
    }
    let t = common.timing;
    let cn = common.conn;
    let check = match n.keyword() {
        "HTTP_GET" | "SSL_GET" => {
            if http.urls.is_empty() {
                m.unmapped(n, "no url with a path; keepalived ignores the checker");
                return None;
            }
            let h = HttpCheck {
                connect_ip: cn.connect_ip,
                connect_port: cn.connect_port,
                bindto: cn.bindto,
                bind_port: cn.bind_port,
                connect_timeout: t.connect_timeout,
                retry: t.retry,
                delay_before_retry: t.delay_before_retry,
                delay_loop: t.delay_loop,
                warmup: t.warmup,
                alpha: t.alpha,
                ..http
            };
            if n.keyword() == "HTTP_GET" {
                Check::HttpGet(h)
            } else {
                Check::SslGet(h)
            }
        }
        "TCP_CHECK" => Check::TcpCheck(TcpCheck {
            connect_ip: cn.connect_ip,
            connect_port: cn.connect_port,
            bindto: cn.bindto,
            bind_port: cn.bind_port,
            connect_timeout: t.connect_timeout,
            retry: t.retry,
            delay_before_retry: t.delay_before_retry,
            delay_loop: t.delay_loop,
            warmup: t.warmup,
            alpha: t.alpha,
        }),
        "MISC_CHECK" => {
            let Some(mc) = misc else {
                m.unmapped(n, "no misc_path; keepalived ignores the checker");
                return None;
            };
            Check::MiscCheck(MiscCheck {
                misc_timeout,
                misc_dynamic,
                retry: t.retry,
                delay_before_retry: t.delay_before_retry,
                delay_loop: t.delay_loop,
                warmup: t.warmup,
                alpha: t.alpha,
                ..mc
            })
        }
        _ => Check::DnsCheck(DnsCheck {
            connect_ip: cn.connect_ip,
            connect_port: cn.connect_port,
            bindto: cn.bindto,
            bind_port: cn.bind_port,
            connect_timeout: t.connect_timeout,
            retry: t.retry,
            delay_before_retry: t.delay_before_retry,
            delay_loop: t.delay_loop,
            warmup: t.warmup,
            alpha: t.alpha,
            ..dns
        }),
    };
    Some(check)
}

/// The options of `install_checker_common_keywords`; true when `c` was one.
fn common(m: &mut Mapper, c: &Node, o: &mut Common, connects: bool) -> bool {
    let t = &mut o.timing;
    match c.keyword() {
        "retry" => t.retry = m.value(c, |a| u32_in(a, 0, u32::MAX)).or(t.retry),
        "delay_before_retry" => t.delay_before_retry = m.value(c, timer).or(t.delay_before_retry),
        "warmup" => t.warmup = m.value(c, timer).or(t.warmup),
        "delay_loop" => t.delay_loop = m.value(c, positive_timer).or(t.delay_loop),
        "alpha" => match flag(c.arg(0)) {
            Ok(v) => t.alpha = Some(v),
            Err(e) => m.invalid(c, &e),
        },
        "connect_timeout" if connects => {
            t.connect_timeout = m.value(c, connect_timeout).or(t.connect_timeout)
        }
        "connect_ip" if connects => {
            o.conn.connect_ip = m.value(c, super::values::ipv4).or(o.conn.connect_ip)
        }
        "connect_port" if connects => {
            o.conn.connect_port = m.value(c, port).or(o.conn.connect_port)
        }
        "bindto" if connects => o.conn.bindto = m.value(c, super::values::ipv4).or(o.conn.bindto),
        "bind_port" if connects => o.conn.bind_port = m.value(c, port).or(o.conn.bind_port),
        _ => return false,
    }
    true
}

fn http_keyword(
    m: &mut Mapper,
    n: &Node,
    c: &Node,
    k: &str,
    h: &mut HttpCheck,
    common: &mut Common,
) {
    let tls = n.keyword() == "SSL_GET";
    match k {
        // keepalived's deprecated name of retry.
        "nb_get_retry" => {
            common.timing.retry = m
                .value(c, |a| u32_in(a, 0, u32::MAX))
                .or(common.timing.retry)
        }
        "virtualhost" => h.virtualhost = m.value(c, |a| Ok(a.to_string())),
        "http_protocol" => {
            if let Some(p) = m.value(c, |a| {
                HttpProtocol::parse(a).ok_or_else(|| format!("invalid version {a:?}"))
            }) {
                h.http_protocol = Some(p);
            }
        }
        "fast_recovery" => match flag(c.arg(0)) {
            Ok(v) => h.fast_recovery = v,
            Err(e) => m.invalid(c, &e),
        },
        "enable_sni" | "sni_name" if !tls => {
            m.unmapped(c, "SNI is a TLS extension: it means nothing on HTTP_GET")
        }
        "enable_sni" => match flag(c.arg(0)) {
            Ok(v) => h.enable_sni = v,
            Err(e) => m.invalid(c, &e),
        },
        "sni_name" => {
            h.enable_sni = true;
            if let Some(name) = c.arg(0) {
                h.sni_name = Some(name.to_string());
            }
        }
        "tls_compliant" if tls => m.unmapped(c, "TLS shutdown details are rustls's"),
        "url" => {
            if let Some(u) = url(m, c) {
                h.urls.push(u);
            }
        }
        _ => m.unmapped(
            c,
            &format!("not a {} keyword; keepalived ignores it", n.keyword()),
        ),
    }
}

/// `url { path P; digest D; status_code C [C-C ...]; virtualhost H }`.
fn url(m: &mut Mapper, n: &Node) -> Option<Url> {
    let mut u = Url {
        path: String::new(),
        status_code: Vec::new(),
        digest: None,
        virtualhost: None,
    };
    for c in n.children() {
        match c.keyword() {
            "path" => u.path = m.value(c, |a| Ok(a.to_string())).unwrap_or_default(),
            "digest" => {
                if u.digest.is_some() {
                    m.invalid(c, "a second digest");
                } else {
                    u.digest = m.value(c, |a| match parse_digest(a) {
                        Some(_) => Ok(a.to_ascii_lowercase()),
                        None => Err(format!("digest {a:?} is not 32 hex digits")),
                    });
                }
            }
            "status_code" => {
                for code in &c.words[1..] {
                    match status(code) {
                        Some(s) => u.status_code.push(s),
                        None => m.invalid(c, &format!("invalid status code {code:?}")),
                    }
                }
            }
            "virtualhost" => u.virtualhost = m.value(c, |a| Ok(a.to_string())),
            "regex" | "regex_no_match" | "regex_options" | "regex_min_offset"
            | "regex_max_offset" | "regex_stack" => {
                m.unmapped(c, "body regular expressions are not supported")
            }
            "tls_compliant" => m.unmapped(c, "TLS shutdown details are rustls's"),
            _ => m.unmapped(c, "not a url keyword; keepalived ignores it"),
        }
    }
    if u.path.is_empty() {
        m.unmapped(n, "url without path; keepalived ignores it");
        return None;
    }
    if !u.path.starts_with('/') {
        m.unmapped(n, &format!("path {:?} does not start with '/'", u.path));
        return None;
    }
    Some(u)
}

/// `200` or `200-299`, within 100..=599.
fn status(s: &str) -> Option<StatusCodes> {
    let c: StatusCodes = s.parse().ok()?;
    let ok = |v: u32| (100..=599).contains(&v);
    (ok(c.first) && ok(c.last) && c.first <= c.last).then_some(c)
}

/// keepalived refuses names with an empty label.
fn dns_name(a: &str) -> Result<String, String> {
    let empty_label = (a.starts_with('.') && a != ".") || a.contains("..");
    if empty_label {
        return Err(format!("name {a:?} has an empty label"));
    }
    Ok(a.to_string())
}
