//! ipvsadm 1.31's output formats, byte for byte: `-L` (with `-n`,
//! `--stats`, `--rate`, `--exact`, `--thresholds`, `--persistent-conn`,
//! `--tun-info`, `--nosort`), `-L -c`, `-L --timeout`, `-L --daemon` and the
//! `-S` rule dump.
//!
//! A multi-port YAML service is shown as one IPVS service per virtual port
//! (each line carries the counters of the whole YAML service). Sorting is
//! ipvsadm's own (`sort`); `--nosort` keeps the file order of services and
//! the IPVS list order of reals (newest first), which are also what the
//! sort starts from.

pub mod names;
mod sort;

#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4};

use crate::config::{
    Forward, Protocol, SchedFlag, Scheduler, SyncRole, Timeouts, TunFlags, TunType, Tunnel,
};
use crate::proto::{
    ConnEntry, ConnKind, DestEntry, LocalAddrEntry, ServiceEntry, ServiceKey, ServiceList, Stats,
    SyncDaemonStatus,
};

/// The IPVS version and table size ipvsadm reports.
pub const HEADER: &str = "IP Virtual Server version 1.2.1 (size=4096)\n";

/// Output options (ipvsadm's FMT_* flags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Format {
    pub numeric: bool,
    pub stats: bool,
    pub rate: bool,
    pub thresholds: bool,
    pub persistent_conn: bool,
    pub nosort: bool,
    pub exact: bool,
    /// `--tun-info`: a TunnelInfo column.
    pub tun_info: bool,
    /// `-S`: rules instead of a table.
    pub rule: bool,
}

impl Format {
    pub fn numeric() -> Format {
        Format {
            numeric: true,
            ..Format::default()
        }
    }
}

/// One IPVS service: a YAML service at one of its virtual ports.
#[derive(Clone, Copy, Debug)]
pub struct Row<'a> {
    pub entry: &'a ServiceEntry,
    pub port: u16,
}

impl Row<'_> {
    pub fn key(&self) -> ServiceKey {
        match self.entry.fwmark {
            Some(m) => ServiceKey::fwmark(m),
            None => ServiceKey::addr(self.entry.protocol, self.entry.vip, self.port),
        }
    }
}

/// Every IPVS service of the listing, sorted unless `nosort`.
pub fn rows(list: &ServiceList, nosort: bool) -> Vec<Row<'_>> {
    let mut rows: Vec<Row<'_>> = list
        .services
        .iter()
        .flat_map(|entry| {
            // A firewall-mark service is one IPVS service, port 0.
            let ports: Vec<u16> = match entry.fwmark {
                Some(_) => vec![0],
                None => entry.ports.iter().flat_map(|r| r.first..=r.last).collect(),
            };
            ports.into_iter().map(move |port| Row { entry, port })
        })
        .collect();
    if !nosort {
        sort::qsort(&mut rows, &|a: &Row<'_>, b: &Row<'_>| {
            sort::cmp_services(&a.key(), &b.key())
        });
    }
    rows
}

/// The row of `key`, if the listing has it.
pub fn find_row<'a>(list: &'a ServiceList, key: &ServiceKey) -> Option<Row<'a>> {
    rows(list, true).into_iter().find(|r| r.key() == *key)
}

/// ipvsadm's `print_largenum`: 9 columns, K/M/G/T beyond 10^8 unless
/// `exact`.
pub fn largenum(out: &mut String, i: u64, exact: bool) {
    if exact {
        let len = i.to_string().len();
        let width = if len <= 8 { 9 } else { len + 1 };
        let _ = write!(out, "{i:>width$}");
        return;
    }
    let _ = match i {
        0..=99_999_999 => write!(out, "{i:>9}"),
        100_000_000..=999_999_999 => write!(out, "{:>8}K", i / 1_000),
        1_000_000_000..=99_999_999_999 => write!(out, "{:>8}M", i / 1_000_000),
        100_000_000_000..=99_999_999_999_999 => write!(out, "{:>8}G", i / 1_000_000_000),
        _ => write!(out, "{:>8}T", i / 1_000_000_000_000),
    };
}

/// `addr:port`, names unless numeric (ipvsadm's `addrport_to_anyname`).
pub fn addrport(addr: Ipv4Addr, port: u16, proto: Protocol, fmt: &Format) -> String {
    addrport_of(addr, port, Some(proto), fmt)
}

/// `addr:port` with the host name of the address and the service name of
/// the port for `proto` (a number without one, or without a protocol),
/// cut to 59 bytes as in ipvsadm's 60-byte buffer; numbers with `-n`.
fn addrport_of(addr: Ipv4Addr, port: u16, proto: Option<Protocol>, fmt: &Format) -> String {
    if fmt.numeric {
        return format!("{addr}:{port}");
    }
    let host = names::host_name(addr).unwrap_or_else(|| addr.to_string());
    let port = proto
        .and_then(|p| names::port_name(port, p))
        .unwrap_or_else(|| port.to_string());
    truncate(format!("{host}:{port}"), ADDRPORT_MAX)
}

/// ipvsadm's `addrport_to_anyname` writes into 60 bytes.
const ADDRPORT_MAX: usize = 59;

fn truncate(mut s: String, n: usize) -> String {
    if s.len() > n {
        let mut cut = n;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

pub(crate) fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
    }
}

/// The `-t`/`-u` option of a protocol.
pub fn protocol_option(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "-t",
        Protocol::Udp => "-u",
    }
}

/// The `-g`/`-m`/`-i`/`-j` switch of a forwarding method.
pub fn forward_switch(f: Forward) -> &'static str {
    match f {
        Forward::Nat => "-m",
        Forward::Tun => "-i",
        Forward::Dr => "-g",
        Forward::FullNat => "-j",
    }
}

/// ipvsadm's `print_sched_flags`: the flags it names for the scheduler,
/// in bit order, comma-separated. `None` when no flag bit is set; a set
/// bit the scheduler does not name (flag-3 of sh) gives `Some("")`, as
/// ipvsadm prints `sh ()` and `-b ` for it.
fn sched_flags(sched: Scheduler, flags: &[SchedFlag]) -> Option<String> {
    if flags.is_empty() {
        return None;
    }
    let mut listed: Vec<SchedFlag> = flags
        .iter()
        .copied()
        .filter(|f| f.listed_with(sched))
        .collect();
    listed.sort_by_key(|f| f.bit());
    listed.dedup();
    let names: Vec<&str> = listed.iter().map(|f| f.as_str()).collect();
    Some(names.join(","))
}

/// The title lines of a table.
pub fn title(fmt: &Format) -> String {
    let cols = |a: &str, b: &str, c: &str, d: &str, e: &str| {
        format!(
            "{:<33} {a:>8} {b:>8} {c:>8} {d:>8} {e:>8}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port"
        )
    };
    if fmt.stats {
        cols("Conns", "InPkts", "OutPkts", "InBytes", "OutBytes")
    } else if fmt.rate {
        cols("CPS", "InPPS", "OutPPS", "InBPS", "OutBPS")
    } else if fmt.thresholds {
        format!(
            "{:<33} {:<10} {:<10} {:<10} {:<10}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        )
    } else if fmt.persistent_conn {
        format!(
            "{:<33} {:<9} {:<11} {:<10} {:<10}\n  -> RemoteAddress:Port\n",
            "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn"
        )
    } else if fmt.tun_info {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n".to_string()
    } else if fmt.rule {
        String::new()
    } else {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n".to_string()
    }
}

fn stats5(out: &mut String, v: [u64; 5], exact: bool) {
    for x in v {
        largenum(out, x, exact);
    }
}

fn counters(s: &Stats) -> [u64; 5] {
    [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
}

fn rates(s: &Stats) -> [u64; 5] {
    [s.cps, s.inpps, s.outpps, s.inbps, s.outbps]
}

/// The port ipvsadm shows for real `d` of `row`: a firewall-mark
/// service's real has its own port whatever the forwarding (0 when none).
fn dest_port(row: &Row<'_>, d: &DestEntry) -> u16 {
    match row.entry.fwmark {
        Some(_) => d.port.unwrap_or(0),
        None => d.port_for(row.port),
    }
}

/// The service name of a row: `TCP  10.0.0.1:80` (cut to 33 bytes),
/// `-t 10.0.0.1:80` with `fmt.rule`; a firewall mark is `FWM  7` or
/// `-f 7`, printed with `%d` as ipvsadm does (a mark above 2^31 - 1 is
/// negative).
fn service_name(row: &Row<'_>, fmt: &Format) -> String {
    let e = row.entry;
    if let Some(mark) = e.fwmark {
        let mark = mark as i32;
        return if fmt.rule {
            format!("-f {mark}")
        } else {
            format!("FWM  {mark}")
        };
    }
    let vname = addrport(e.vip, row.port, e.protocol, fmt);
    if fmt.rule {
        format!("{} {vname}", protocol_option(e.protocol))
    } else {
        truncate(format!("{:<4} {vname}", protocol_name(e.protocol)), 33)
    }
}

/// The reals of a row in listing order.
fn dests<'a>(row: &Row<'a>, fmt: &Format) -> Vec<&'a DestEntry> {
    let mut d: Vec<&DestEntry> = row.entry.dests.iter().rev().collect();
    if !fmt.nosort {
        let at = |e: &DestEntry| (e.addr, dest_port(row, e));
        sort::qsort(&mut d, &|a: &&DestEntry, b: &&DestEntry| {
            sort::cmp_dests(at(a), at(b))
        });
    }
    d
}

/// One service with its reals (ipvsadm's `print_service_entry`).
pub fn service_entry(out: &mut String, row: &Row<'_>, fmt: &Format) {
    let e = row.entry;
    // The kernel lists a mark service without a protocol, so its reals'
    // ports are never named.
    let proto = e.fwmark.is_none().then_some(e.protocol);
    let svc_name = service_name(row, fmt);
    let flags = sched_flags(e.scheduler, &e.flags);
    if fmt.rule {
        let _ = write!(out, "-A {svc_name} -s {}", e.scheduler);
        if let Some(p) = &e.persistence {
            let _ = write!(out, " -p {}", p.timeout);
            if p.netmask != Ipv4Addr::BROADCAST {
                let _ = write!(out, " -M {}", p.netmask);
            }
        }
        if e.ops {
            out.push_str(" -o");
        }
        if let Some(flags) = &flags {
            let _ = write!(out, " -b {flags}");
        }
    } else if fmt.stats {
        let _ = write!(out, "{svc_name:<33}");
        stats5(out, counters(&e.stats), fmt.exact);
    } else if fmt.rate {
        let _ = write!(out, "{svc_name:<33}");
        stats5(out, rates(&e.stats), fmt.exact);
    } else {
        let _ = write!(out, "{svc_name} {}", e.scheduler);
        if let Some(flags) = &flags {
            let _ = write!(out, " ({flags})");
        }
        if let Some(p) = &e.persistence {
            let _ = write!(out, " persistent {}", p.timeout);
            if p.netmask != Ipv4Addr::BROADCAST {
                let _ = write!(out, " mask {}", p.netmask);
            }
        }
        if e.ops {
            out.push_str(" ops");
        }
    }
    out.push('\n');
    if fmt.rule {
        for a in &e.local_addresses {
            let _ = writeln!(out, "-P {svc_name} -z {a}");
        }
    }
    for d in dests(row, fmt) {
        let dname = addrport_of(d.addr, dest_port(row, d), proto, fmt);
        if fmt.rule {
            let _ = write!(
                out,
                "-a {svc_name} -r {dname} {} -w {}",
                forward_switch(d.forward),
                d.weight
            );
            if d.forward == Forward::Tun {
                tunnel_rule(out, &d.tunnel.unwrap_or_default());
            }
            out.push('\n');
            continue;
        }
        let dname = truncate(dname, 28);
        if fmt.stats {
            let _ = write!(out, "  -> {dname:<28}");
            stats5(out, counters(&d.stats), fmt.exact);
            out.push('\n');
        } else if fmt.rate {
            let s = &d.stats;
            let _ = write!(
                out,
                "  -> {dname:<28} {:>8} {:>8} {:>8}",
                s.cps, s.inpps, s.outpps
            );
            largenum(out, s.inbps, fmt.exact);
            largenum(out, s.outbps, fmt.exact);
            out.push('\n');
        } else if fmt.thresholds {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<10} {:<10} {:<10} {:<10}",
                d.upper_threshold, d.lower_threshold, d.active, d.inactive
            );
        } else if fmt.persistent_conn {
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<9} {:<11} {:<10} {:<10}",
                d.weight, d.persistent, d.active, d.inactive
            );
        } else {
            // `--tun-info` adds the TunnelInfo column after Forward.
            let info = match (fmt.tun_info, d.forward) {
                (false, _) => String::new(),
                (true, Forward::Tun) => {
                    format!("{:<13} ", tunnel_info(&d.tunnel.unwrap_or_default()))
                }
                (true, _) => format!("{:<13} ", "n/a"),
            };
            let _ = writeln!(
                out,
                "  -> {dname:<28} {:<7} {info}{:<6} {:<10} {:<10}",
                d.forward.ipvsadm_name(),
                d.weight,
                d.active,
                d.inactive
            );
        }
    }
}

/// The `-S` options of a tun real: `--tun-type`, then `--tun-port` (gue)
/// and the checksum option (gue, gre).
fn tunnel_rule(out: &mut String, t: &Tunnel) {
    let _ = write!(out, " --tun-type {}", t.kind);
    if t.kind == TunType::Gue {
        let _ = write!(out, " --tun-port {}", t.port);
    }
    if t.kind != TunType::Ipip {
        let _ = write!(out, " --tun-{}", t.flags);
    }
}

/// The TunnelInfo column: `ipip`, `gue:PORT:FLAGS`, `gre:FLAGS`, with
/// FLAGS `-c` (nocsum), `+c` (csum) or `r+c` (remcsum).
fn tunnel_info(t: &Tunnel) -> String {
    let flags = match t.flags {
        TunFlags::Nocsum => "-c",
        TunFlags::Csum => "+c",
        TunFlags::Remcsum => "r+c",
    };
    match t.kind {
        TunType::Ipip => "ipip".to_string(),
        TunType::Gue => format!("gue:{}:{flags}", t.port),
        TunType::Gre => format!("gre:{flags}"),
    }
}

/// `-L` of everything (or `-S` with `fmt.rule`).
pub fn list_all(list: &ServiceList, fmt: &Format) -> String {
    let mut out = String::new();
    if !fmt.rule {
        out.push_str(HEADER);
    }
    out.push_str(&title(fmt));
    for row in rows(list, fmt.nosort) {
        service_entry(&mut out, &row, fmt);
    }
    out
}

/// `-L -t vip:port`: the title and that service; `None` when there is no
/// such service.
pub fn list_service(list: &ServiceList, key: &ServiceKey, fmt: &Format) -> Option<String> {
    let row = find_row(list, key)?;
    let mut out = title(fmt);
    service_entry(&mut out, &row, fmt);
    Some(out)
}

/// `-S`: the rules that rebuild the table.
pub fn save(list: &ServiceList, numeric: bool) -> String {
    let fmt = Format {
        numeric,
        rule: true,
        ..Format::default()
    };
    list_all(list, &fmt)
}

/// `-L --timeout`
pub fn timeouts(t: &Timeouts) -> String {
    format!(
        "Timeout (tcp tcpfin udp): {} {} {}\n",
        t.tcp, t.tcpfin, t.udp
    )
}

/// `-L --daemon`: a line per running sync daemon, the master's first (the
/// kernel's dump order); nothing when none runs. Like ipvsadm, a zero
/// maxlen, port or TTL is left out.
pub fn daemons(list: &[SyncDaemonStatus]) -> String {
    let mut out = String::new();
    for role in [SyncRole::Master, SyncRole::Backup] {
        for d in list.iter().filter(|d| d.role == role) {
            let _ = write!(
                out,
                "{role} sync daemon (mcast={}, syncid={}",
                d.interface, d.syncid
            );
            if d.maxlen != 0 {
                let _ = write!(out, ", maxlen={}", d.maxlen);
            }
            let _ = write!(out, ", group={}", d.group);
            if d.port != 0 {
                let _ = write!(out, ", port={}", d.port);
            }
            if d.ttl != 0 {
                let _ = write!(out, ", ttl={}", d.ttl);
            }
            out.push_str(")\n");
        }
    }
    out
}

/// The title of `-L -c` (`--persistent-conn` adds the persistence
/// engine columns).
pub fn conn_title(fmt: &Format) -> String {
    let mut out = String::from("IPVS connection entries\n");
    let _ = write!(
        out,
        "pro expire {:<11} {:<18} {:<18} ",
        "state", "source", "virtual"
    );
    if fmt.persistent_conn {
        let _ = writeln!(out, "{:<18} {:<16} pe_data", "destination", "pe name");
    } else {
        out.push_str("destination\n");
    }
    out
}

/// One line of `-L -c` (ipvsadm's `print_conn`). ferrovs has no
/// persistence engine, so no entry has pe columns, and `--persistent-conn`
/// lines are the plain ones, as ipvsadm prints an entry without pe data.
pub fn conn_line(out: &mut String, c: &ConnEntry, fmt: &Format) {
    // A mark template is IPPROTO_IP: no service names for its ports.
    let (proto, proto_name) = match c.kind {
        ConnKind::MarkTemplate => (None, "IP"),
        ConnKind::Conn | ConnKind::Template => (Some(c.protocol), protocol_name(c.protocol)),
    };
    let state = match c.kind {
        ConnKind::Conn => c.state.as_str(),
        ConnKind::Template | ConnKind::MarkTemplate => "NONE",
    };
    let name = |a: &SocketAddrV4| addrport_of(*a.ip(), a.port(), proto, fmt);
    let secs = c.expire_ms / 1000;
    let expire = format!("{:02}:{:02}", secs / 60, secs % 60);
    let _ = writeln!(
        out,
        "{proto_name:<3} {expire:<6} {state:<11} {:<18} {:<18} {}",
        name(&c.client),
        name(&c.virt),
        name(&c.dest),
    );
}

/// `-L -c` of a whole table.
pub fn conns(list: &[ConnEntry], fmt: &Format) -> String {
    let mut out = conn_title(fmt);
    for c in list {
        conn_line(&mut out, c, fmt);
    }
    out
}

/// `-G`: the FullNAT local addresses (a ferrovs extension; DPVS-like).
pub fn local_addrs(list: &[LocalAddrEntry], fmt: &Format) -> String {
    let mut out = format!(
        "{:<4} {:<22} {}\n",
        "Prot", "VirtualAddress:Port", "LocalAddress"
    );
    for e in list {
        let k = &e.service;
        let (prot, v) = match k.fwmark {
            0 => (
                protocol_name(k.protocol),
                addrport(k.vip, k.port, k.protocol, fmt),
            ),
            m => ("FWM", (m as i32).to_string()),
        };
        for a in &e.addrs {
            let _ = writeln!(out, "{prot:<4} {v:<22} {a}");
        }
    }
    out
}
