//! Golden outputs. Each expected text is written out by hand from
//! ipvsadm 1.31's printf formats (quoted next to it).

use std::net::{Ipv4Addr, SocketAddrV4};

use super::*;
use crate::config::{Persistence, PortRange};

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn dest(addr: &str, port: u16, fwd: Forward, weight: u32, act: u64, inact: u64) -> DestEntry {
    DestEntry {
        addr: ip(addr),
        port: Some(port),
        forward: fwd,
        weight,
        tunnel: None,
        upper_threshold: 0,
        lower_threshold: 0,
        active: act,
        inactive: inact,
        persistent: 0,
        stats: Stats::default(),
    }
}

fn entry(proto: Protocol, vip: &str, ports: Vec<PortRange>, sched: Scheduler) -> ServiceEntry {
    ServiceEntry {
        name: "s".into(),
        fwmark: None,
        protocol: proto,
        vip: ip(vip),
        ports,
        scheduler: sched,
        flags: vec![],
        persistence: None,
        ops: false,
        local_addresses: vec![],
        stats: Stats::default(),
        dests: vec![],
    }
}

/// Services in an unsorted file order: UDP first, then two TCP ones.
fn sample() -> ServiceList {
    let mut dns = entry(
        Protocol::Udp,
        "10.0.0.53",
        vec![PortRange::single(53)],
        Scheduler::Rr,
    );
    dns.dests = vec![dest("10.20.0.4", 53, Forward::Dr, 1, 0, 7)];
    let mut web = entry(
        Protocol::Tcp,
        "10.0.0.100",
        vec![PortRange::single(80)],
        Scheduler::Wlc,
    );
    web.persistence = Some(Persistence {
        timeout: 360,
        netmask: ip("255.255.255.0"),
    });
    // File order: .3 added before .2.
    web.dests = vec![
        dest("10.20.0.3", 8080, Forward::Nat, 2, 12, 3),
        dest("10.20.0.2", 8080, Forward::Nat, 1, 10, 0),
        dest("10.20.0.9", 8080, Forward::FullNat, 65535, 0, 0),
    ];
    let mut sh = entry(
        Protocol::Tcp,
        "10.0.0.1",
        vec![PortRange::single(443)],
        Scheduler::Sh,
    );
    sh.flags = vec![SchedFlag::ShPort, SchedFlag::ShFallback];
    sh.dests = vec![dest("10.20.0.5", 443, Forward::Tun, 0, 1, 2)];
    ServiceList {
        services: vec![dns, web, sh],
    }
}

#[test]
fn list_numeric() {
    let got = list_all(&sample(), &Format::numeric());
    // "%-4s %s" service name, then "%s %s" with the scheduler;
    // reals "  -> %-28s %-7s %-6d %-10u %-10u".
    let want = concat!(
        "IP Virtual Server version 1.2.1 (size=4096)\n",
        "Prot LocalAddress:Port Scheduler Flags\n",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
        "TCP  10.0.0.1:443 sh (sh-fallback,sh-port)\n",
        "  -> 10.20.0.5:443                Tunnel  0      1          2         \n",
        "TCP  10.0.0.100:80 wlc persistent 360 mask 255.255.255.0\n",
        "  -> 10.20.0.2:8080               Masq    1      10         0         \n",
        "  -> 10.20.0.3:8080               Masq    2      12         3         \n",
        "  -> 10.20.0.9:8080               FullNat 65535  0          0         \n",
        "UDP  10.0.0.53:53 rr\n",
        "  -> 10.20.0.4:53                 Route   1      0          7         \n",
    );
    assert_eq!(got, want);
}

#[test]
fn list_nosort_keeps_file_order_and_ipvs_list_order() {
    let fmt = Format {
        numeric: true,
        nosort: true,
        ..Format::default()
    };
    let got = list_all(&sample(), &fmt);
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines[3], "UDP  10.0.0.53:53 rr");
    assert_eq!(
        lines[5],
        "TCP  10.0.0.100:80 wlc persistent 360 mask 255.255.255.0"
    );
    // Newest real first.
    assert!(lines[6].starts_with("  -> 10.20.0.9:8080"));
    assert!(lines[8].starts_with("  -> 10.20.0.3:8080"));
}

#[test]
fn list_stats_and_largenum() {
    let mut list = sample();
    list.services.truncate(1);
    list.services[0].stats = Stats {
        conns: 5,
        inpkts: 123_456_789,
        outpkts: 99_999_999,
        inbytes: 12_345_678_901,
        outbytes: 123_456_789_012_345,
        ..Stats::default()
    };
    let fmt = Format {
        numeric: true,
        stats: true,
        ..Format::default()
    };
    // "%-33s %8s %8s %8s %8s %8s\n  -> RemoteAddress:Port\n"; values with
    // "%9llu", "%8lluK", "%8lluM", "%8lluT".
    let want = concat!(
        "IP Virtual Server version 1.2.1 (size=4096)\n",
        "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n",
        "  -> RemoteAddress:Port\n",
        "UDP  10.0.0.53:53                        5  123456K 99999999   12345M     123T\n",
        "  -> 10.20.0.4:53                        0        0        0        0        0\n",
    );
    assert_eq!(list_all(&list, &fmt), want);
    let exact = Format { exact: true, ..fmt };
    let got = list_all(&list, &exact);
    assert!(got.contains(
        "UDP  10.0.0.53:53                        5 123456789 99999999 12345678901 123456789012345\n"
    ));
}

#[test]
fn list_rate() {
    let mut list = sample();
    list.services.truncate(1);
    list.services[0].dests[0].stats = Stats {
        cps: 1,
        inpps: 2,
        outpps: 3,
        inbps: 400,
        outbps: 500,
        ..Stats::default()
    };
    let fmt = Format {
        numeric: true,
        rate: true,
        ..Format::default()
    };
    // Reals: "  -> %-28s %8llu %8llu %8llu" then two print_largenum.
    let want = concat!(
        "IP Virtual Server version 1.2.1 (size=4096)\n",
        "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n",
        "  -> RemoteAddress:Port\n",
        "UDP  10.0.0.53:53                        0        0        0        0        0\n",
        "  -> 10.20.0.4:53                        1        2        3      400      500\n",
    );
    assert_eq!(list_all(&list, &fmt), want);
}

#[test]
fn list_thresholds_and_persistent_conn() {
    let mut list = sample();
    list.services.truncate(1);
    list.services[0].dests[0].upper_threshold = 100;
    list.services[0].dests[0].lower_threshold = 50;
    list.services[0].dests[0].persistent = 4;
    let fmt = Format {
        numeric: true,
        thresholds: true,
        ..Format::default()
    };
    let want = concat!(
        "IP Virtual Server version 1.2.1 (size=4096)\n",
        "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n",
        "  -> RemoteAddress:Port\n",
        "UDP  10.0.0.53:53 rr\n",
        "  -> 10.20.0.4:53                 100        50         0          7         \n",
    );
    assert_eq!(list_all(&list, &fmt), want);
    let fmt = Format {
        numeric: true,
        persistent_conn: true,
        ..Format::default()
    };
    let want = concat!(
        "IP Virtual Server version 1.2.1 (size=4096)\n",
        "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n",
        "  -> RemoteAddress:Port\n",
        "UDP  10.0.0.53:53 rr\n",
        "  -> 10.20.0.4:53                 1         4           0          7         \n",
    );
    assert_eq!(list_all(&list, &fmt), want);
}

#[test]
fn save_rules() {
    let mut list = sample();
    list.services[1].local_addresses = vec![ip("10.20.0.1")];
    let want = concat!(
        "-A -t 10.0.0.1:443 -s sh -b sh-fallback,sh-port\n",
        "-a -t 10.0.0.1:443 -r 10.20.0.5:443 -i -w 0 --tun-type ipip\n",
        "-A -t 10.0.0.100:80 -s wlc -p 360 -M 255.255.255.0\n",
        "-P -t 10.0.0.100:80 -z 10.20.0.1\n",
        "-a -t 10.0.0.100:80 -r 10.20.0.2:8080 -m -w 1\n",
        "-a -t 10.0.0.100:80 -r 10.20.0.3:8080 -m -w 2\n",
        "-a -t 10.0.0.100:80 -r 10.20.0.9:8080 -j -w 65535\n",
        "-A -u 10.0.0.53:53 -s rr\n",
        "-a -u 10.0.0.53:53 -r 10.20.0.4:53 -g -w 1\n",
    );
    assert_eq!(save(&list, true), want);
}

#[test]
fn multi_port_lines_and_single_service() {
    let mut m = entry(
        Protocol::Tcp,
        "10.0.0.7",
        vec![
            PortRange {
                first: 8001,
                last: 8002,
            },
            PortRange::single(80),
        ],
        Scheduler::Rr,
    );
    let mut d = dest("10.20.0.8", 0, Forward::Nat, 1, 0, 0);
    d.port = None;
    m.dests = vec![d];
    let list = ServiceList { services: vec![m] };
    let got = list_all(&list, &Format::numeric());
    let lines: Vec<&str> = got.lines().skip(3).collect();
    assert_eq!(
        lines,
        [
            "TCP  10.0.0.7:80 rr",
            "  -> 10.20.0.8:80                 Masq    1      0          0         ",
            "TCP  10.0.0.7:8001 rr",
            "  -> 10.20.0.8:8001               Masq    1      0          0         ",
            "TCP  10.0.0.7:8002 rr",
            "  -> 10.20.0.8:8002               Masq    1      0          0         ",
        ]
    );
    let key = ServiceKey::addr(Protocol::Tcp, ip("10.0.0.7"), 8002);
    let one = list_service(&list, &key, &Format::numeric()).unwrap();
    assert_eq!(
        one,
        concat!(
            "Prot LocalAddress:Port Scheduler Flags\n",
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
            "TCP  10.0.0.7:8002 rr\n",
            "  -> 10.20.0.8:8002               Masq    1      0          0         \n",
        )
    );
    assert!(list_service(&list, &ServiceKey { port: 81, ..key }, &Format::numeric()).is_none());
}

#[test]
fn timeout_and_conns() {
    assert_eq!(
        timeouts(&Timeouts::default()),
        "Timeout (tcp tcpfin udp): 900 120 300\n"
    );
    let c = ConnEntry {
        protocol: Protocol::Tcp,
        expire_ms: 899_999,
        state: "ESTABLISHED".into(),
        client: SocketAddrV4::new(ip("192.168.1.10"), 40000),
        virt: SocketAddrV4::new(ip("10.0.0.100"), 80),
        dest: SocketAddrV4::new(ip("10.20.0.2"), 8080),
        kind: ConnKind::Conn,
    };
    let u = ConnEntry {
        protocol: Protocol::Udp,
        expire_ms: 5_000,
        state: "UDP".into(),
        ..c.clone()
    };
    // "pro expire %-11s %-18s %-18s %s" and "%-3s %-6s %-11s %-18s %-18s %s".
    let want = concat!(
        "IPVS connection entries\n",
        "pro expire state       source             virtual            destination\n",
        "TCP 14:59  ESTABLISHED 192.168.1.10:40000 10.0.0.100:80      10.20.0.2:8080\n",
        "UDP 00:05  UDP         192.168.1.10:40000 10.0.0.100:80      10.20.0.2:8080\n",
    );
    assert_eq!(conns(&[c.clone(), u], &Format::numeric()), want);

    // Templates: state NONE; a mark's is protocol IP with the mark as the
    // virtual address (ip_vs_conn_seq_show, ip_vs_sched_persist).
    let t = ConnEntry {
        expire_ms: 359_400,
        state: "ESTABLISHED".into(),
        client: SocketAddrV4::new(ip("192.168.1.0"), 0),
        kind: ConnKind::Template,
        ..c.clone()
    };
    let m = ConnEntry {
        virt: SocketAddrV4::new(ip("0.0.0.7"), 0),
        dest: SocketAddrV4::new(ip("10.20.0.2"), 0),
        kind: ConnKind::MarkTemplate,
        ..t.clone()
    };
    let fmt = Format {
        persistent_conn: true,
        ..Format::numeric()
    };
    let want = concat!(
        "IPVS connection entries\n",
        "pro expire state       source             virtual            destination        pe name          pe_data\n",
        "TCP 05:59  NONE        192.168.1.0:0      10.0.0.100:80      10.20.0.2:8080\n",
        "IP  05:59  NONE        192.168.1.0:0      0.0.0.7:0          10.20.0.2:0\n",
        "TCP 14:59  ESTABLISHED 192.168.1.10:40000 10.0.0.100:80      10.20.0.2:8080\n",
    );
    assert_eq!(conns(&[t, m, c], &fmt), want);
}

#[test]
fn largenum_bounds() {
    let f = |i| {
        let mut s = String::new();
        largenum(&mut s, i, false);
        s
    };
    assert_eq!(f(99_999_999), " 99999999");
    assert_eq!(f(100_000_000), "  100000K");
    assert_eq!(f(999_999_999), "  999999K");
    assert_eq!(f(1_000_000_000), "    1000M");
    assert_eq!(f(99_999_999_999), "   99999M");
    assert_eq!(f(100_000_000_000), "     100G");
    assert_eq!(f(100_000_000_000_000), "     100T");
    assert_eq!(f(u64::MAX), "18446744T");
}

#[test]
fn mark_service_reals_are_never_named() {
    // The kernel lists a mark service without a protocol (only the mark
    // goes into the netlink answer), so ipvsadm's port_to_service finds no
    // name for its reals' ports: 80 stays 80 without -n, 0 stays 0.
    let mut e = entry(Protocol::Tcp, "0.0.0.0", vec![], Scheduler::Wrr);
    e.fwmark = Some(7);
    e.ops = true;
    e.dests = vec![
        dest("10.1.0.2", 80, Forward::Dr, 1, 0, 0),
        DestEntry {
            port: None,
            ..dest("10.1.0.1", 0, Forward::Nat, 2, 0, 0)
        },
    ];
    let list = ServiceList { services: vec![e] };
    let fmt = Format::default();
    let want = "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nFWM  7 wrr ops\n  -> 10.1.0.1:0                   Masq    2      0          0         \n  -> 10.1.0.2:80                  Route   1      0          0         \n";
    assert_eq!(
        list_service(&list, &ServiceKey::fwmark(7), &fmt).unwrap(),
        want
    );
    assert_eq!(
        save(&list, false),
        "-A -f 7 -s wrr -o\n-a -f 7 -r 10.1.0.1:0 -m -w 2\n-a -f 7 -r 10.1.0.2:80 -g -w 1\n"
    );
}

#[test]
fn daemons_master_first_zeros_left_out() {
    // printf("%s sync daemon (mcast=%s, syncid=%d", ...), then ", maxlen=%u",
    // ", group=%s", ", port=%u", ", ttl=%u" when set, and ")\n".
    let d = |role, maxlen, port, ttl| SyncDaemonStatus {
        role,
        interface: "eth1".into(),
        syncid: 7,
        maxlen,
        group: ip("239.0.0.1"),
        port,
        ttl,
    };
    assert_eq!(daemons(&[]), "");
    assert_eq!(
        daemons(&[d(SyncRole::Backup, 0, 0, 0), d(SyncRole::Master, 1472, 8848, 1)]),
        "master sync daemon (mcast=eth1, syncid=7, maxlen=1472, group=239.0.0.1, port=8848, ttl=1)\n\
         backup sync daemon (mcast=eth1, syncid=7, group=239.0.0.1)\n"
    );
}
