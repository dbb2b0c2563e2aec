//! Every fvsadm command against the real server on a temporary socket,
//! with a fake backend; golden outputs in ipvsadm's formats.

mod common;

use std::net::SocketAddrV4;

use common::{fvsadm_local, ok, FakeBackend, Running, EMPTY};
use control::config::{Forward, Protocol};
use control::proto::{ConnEntry, ConnKind, Counters, RealCounters, ServiceCounters, Stats};
use control::server::ServerOptions;

const HEAD: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port Scheduler Flags\n",
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
);

fn setup() -> (std::sync::Arc<FakeBackend>, Running) {
    let b = FakeBackend::new(EMPTY);
    let r = Running::start(b.clone(), ServerOptions::default());
    (b, r)
}

#[test]
fn add_list_edit_delete() {
    let (b, r) = setup();
    ok(r.fvsadm("-A -t 10.0.0.100:80 -s rr", ""));
    ok(r.fvsadm("-a -t 10.0.0.100:80 -r 10.20.0.3:8080 -m -w 2", ""));
    ok(r.fvsadm("-a -t 10.0.0.100:80 -r 10.20.0.2:8080 -m", ""));
    ok(r.fvsadm("-a -t 10.0.0.100:80 -r 10.20.0.4", ""));
    ok(r.fvsadm("-A -u 10.0.0.53:53 -p -M 255.255.255.0", ""));
    ok(r.fvsadm("-a -u 10.0.0.53:53 -r 10.20.0.4:5353 -g", ""));
    let want = format!(
        "{HEAD}{}",
        concat!(
            "TCP  10.0.0.100:80 rr\n",
            "  -> 10.20.0.2:8080               Masq    1      0          0         \n",
            "  -> 10.20.0.3:8080               Masq    2      0          0         \n",
            "  -> 10.20.0.4:80                 Route   1      0          0         \n",
            "UDP  10.0.0.53:53 wlc persistent 360 mask 255.255.255.0\n",
            "  -> 10.20.0.4:53                 Route   1      0          0         \n",
        )
    );
    assert_eq!(ok(r.fvsadm("-Ln", "")), want);
    // The YAML: generated name, reals in order of addition.
    let cfg = b.with(|s| s.cfg.clone().unwrap());
    assert_eq!(cfg.services[0].name, "tcp-10.0.0.100-80");
    let addrs: Vec<String> = cfg.services[0]
        .reals
        .iter()
        .map(|r| r.address.to_string())
        .collect();
    assert_eq!(addrs, ["10.20.0.3", "10.20.0.2", "10.20.0.4"]);
    assert_eq!(cfg.services[0].reals[2].forward, Some(Forward::Dr));

    // -E resets what it does not name; -e likewise.
    ok(r.fvsadm("-E -u 10.0.0.53:53 -s sh -b sh-port", ""));
    ok(r.fvsadm("-e -t 10.0.0.100:80 -r 10.20.0.3:8080 -m", ""));
    let one = ok(r.fvsadm("-L -n -u 10.0.0.53:53", ""));
    assert_eq!(
        one,
        concat!(
            "Prot LocalAddress:Port Scheduler Flags\n",
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
            "UDP  10.0.0.53:53 sh (sh-port)\n",
            "  -> 10.20.0.4:53                 Route   1      0          0         \n",
        )
    );
    assert!(ok(r.fvsadm("-Ln", "")).contains("  -> 10.20.0.3:8080               Masq    1 "));

    ok(r.fvsadm("-d -t 10.0.0.100:80 -r 10.20.0.4", ""));
    ok(r.fvsadm("-D -u 10.0.0.53:53", ""));
    let want = format!(
        "{HEAD}{}",
        concat!(
            "TCP  10.0.0.100:80 rr\n",
            "  -> 10.20.0.2:8080               Masq    1      0          0         \n",
            "  -> 10.20.0.3:8080               Masq    1      0          0         \n",
        )
    );
    assert_eq!(ok(r.fvsadm("-l -n", "")), want);
    ok(r.fvsadm("-C", ""));
    assert_eq!(ok(r.fvsadm("-Ln", "")), HEAD);
}

const EINVAL: &str =
    "Invalid operation.  Possibly wrong module version, address not unicast, ...\n";

#[test]
fn refused_operations_use_ipvsadm_messages_and_status() {
    let (b, r) = setup();
    ok(r.fvsadm("-A -t 10.0.0.1:80", ""));
    let cases = [
        ("-A -t 10.0.0.1:80", 255, "Service already exists\n"),
        ("-E -t 10.0.0.2:80", 255, "No such service\n"),
        ("-D -t 10.0.0.2:80", 255, "No such service\n"),
        ("-Z -t 10.0.0.2:80", 255, "No such service\n"),
        (
            "-a -t 10.0.0.2:80 -r 10.1.0.1",
            255,
            "Service not defined\n",
        ),
        (
            "-e -t 10.0.0.1:80 -r 10.1.0.1",
            255,
            "No such destination\n",
        ),
        (
            "-d -t 10.0.0.1:80 -r 10.1.0.1",
            255,
            "No such destination\n",
        ),
        ("-L -n -t 10.0.0.2:80", 1, "No such service\n"),
        (
            "-A -t 10.0.0.2:80 -s bogus",
            255,
            "Scheduler or persistence engine not found\n",
        ),
        // A configuration the daemon refuses: the kernel's EINVAL text
        // (the field is in the daemon's log), not the YAML path.
        ("-a -t 10.0.0.1:80 -r 10.1.0.1 -j", 255, EINVAL),
        ("-A -t 0.0.0.0:80", 255, EINVAL),
        // A real on the VIP itself (the director would answer it).
        ("-a -t 10.0.0.1:80 -r 10.0.0.1:8080 -m", 255, EINVAL),
        (
            "-a -t 10.0.0.1:80 -r 10.1.0.1 -y 1",
            255,
            "Numerical result out of range\n",
        ),
        (
            "-a -t 10.0.0.2:80 -r 10.1.0.1 -y 1",
            255,
            "Service not defined\n",
        ),
    ];
    for (args, code, msg) in cases {
        let o = r.fvsadm(args, "");
        assert_eq!(
            (o.code, o.stderr.as_str(), o.stdout.as_str()),
            (code, msg, ""),
            "{args}"
        );
    }
    ok(r.fvsadm("-a -t 10.0.0.1:80 -r 10.1.0.1", ""));
    let o = r.fvsadm("-a -t 10.0.0.1:80 -r 10.1.0.1", "");
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (255, "Destination already exists\n")
    );
    // The kernel checks the thresholds before it looks for the real.
    let o = r.fvsadm("-a -t 10.0.0.1:80 -r 10.1.0.1 -x 1 -y 2", "");
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (255, "Numerical result out of range\n")
    );
    let o = r.fvsadm("-e -t 10.0.0.1:80 -r 10.1.0.9 -y 2", "");
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (255, "Numerical result out of range\n")
    );
    // Nothing of the refused requests was applied.
    assert_eq!(b.with(|s| s.cfg.clone().unwrap().services.len()), 1);
}

#[test]
fn no_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let o = common::fvsadm_socket(&dir.path().join("none.sock"), "-Ln", "");
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.starts_with("Can't initialize ipvs: "),
        "{}",
        o.stderr
    );
    // Command-line errors are reported without a daemon.
    let o = common::fvsadm_socket(&dir.path().join("none.sock"), "-A", "");
    assert_eq!(o.code, 2);
    let o = common::fvsadm_socket(&dir.path().join("none.sock"), "-h", "");
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("--add-service     -A"));
}

fn stats(base: u64) -> Stats {
    Stats {
        conns: base,
        inpkts: base * 10,
        outpkts: base * 9,
        inbytes: base * 1000,
        outbytes: 250_000_000,
        cps: 1,
        inpps: 2,
        outpps: 3,
        inbps: 4,
        outbps: 5,
    }
}

#[test]
fn stats_rate_exact_and_counters() {
    let (b, r) = setup();
    ok(r.fvsadm("-A -t 10.0.0.1:80", ""));
    ok(r.fvsadm("-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m", ""));
    b.with(|s| {
        s.counters = Counters {
            services: vec![ServiceCounters {
                name: "tcp-10.0.0.1-80".into(),
                stats: stats(7),
                reals: vec![RealCounters {
                    address: "10.1.0.1".parse().unwrap(),
                    port: 8080,
                    active: 3,
                    inactive: 4,
                    persistent: 0,
                    stats: stats(7),
                }],
            }],
        }
    });
    let list = ok(r.fvsadm("-Ln", ""));
    assert!(
        list.ends_with("  -> 10.1.0.1:8080                Masq    1      3          4         \n")
    );
    let st = ok(r.fvsadm("-L -n --stats", ""));
    assert_eq!(
        st,
        concat!(
            "IP Virtual Server version 1.2.1 (size=4096)\n",
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n",
            "  -> RemoteAddress:Port\n",
            "TCP  10.0.0.1:80                         7       70       63     7000  250000K\n",
            "  -> 10.1.0.1:8080                       7       70       63     7000  250000K\n",
        )
    );
    let ex = ok(r.fvsadm("-L -n --stats --exact", ""));
    assert!(ex.contains(
        "TCP  10.0.0.1:80                         7       70       63     7000 250000000\n"
    ));
    let rate = ok(r.fvsadm("-L -n --rate", ""));
    assert!(rate.contains(
        "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
    ));
    assert!(rate.ends_with(
        "  -> 10.1.0.1:8080                       1        2        3        4        5\n"
    ));
    ok(r.fvsadm("-Z", ""));
    ok(r.fvsadm("-Z -t 10.0.0.1:80", ""));
    assert_eq!(b.with(|s| s.zeroed.len()), 2);
}

#[test]
fn timeouts() {
    let (_b, r) = setup();
    assert_eq!(
        ok(r.fvsadm("-L --timeout", "")),
        "Timeout (tcp tcpfin udp): 900 120 300\n"
    );
    ok(r.fvsadm("--set 1000 0 60", ""));
    assert_eq!(
        ok(r.fvsadm("-L --timeout", "")),
        "Timeout (tcp tcpfin udp): 1000 120 60\n"
    );
    assert_eq!(ok(r.fvsadm("-L --daemon", "")), "");
}

#[test]
fn connections_paged() {
    let (b, r) = setup();
    let conn = |i: u32| ConnEntry {
        protocol: if i & 1 == 0 {
            Protocol::Tcp
        } else {
            Protocol::Udp
        },
        expire_ms: u64::from(i) * 1000,
        state: if i & 1 == 0 {
            "ESTABLISHED".into()
        } else {
            "UDP".into()
        },
        client: SocketAddrV4::new("192.168.0.1".parse().unwrap(), 10000 + i as u16),
        virt: SocketAddrV4::new("10.0.0.1".parse().unwrap(), 80),
        dest: SocketAddrV4::new("10.1.0.1".parse().unwrap(), 8080),
        kind: ConnKind::Conn,
    };
    let n = 5000;
    b.with(|s| s.conns = (0..n).map(conn).collect());
    let out = ok(r.fvsadm("-Lnc", ""));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2 + n as usize);
    assert_eq!(lines[0], "IPVS connection entries");
    assert_eq!(
        lines[1],
        "pro expire state       source             virtual            destination"
    );
    assert_eq!(
        lines[2],
        "TCP 00:00  ESTABLISHED 192.168.0.1:10000  10.0.0.1:80        10.1.0.1:8080"
    );
    assert_eq!(
        lines[2 + 61],
        "UDP 01:01  UDP         192.168.0.1:10061  10.0.0.1:80        10.1.0.1:8080"
    );
    assert!(lines[2 + 4999].starts_with("UDP 83:19  UDP         192.168.0.1:14999"));
}

#[test]
fn local_addresses_and_fullnat() {
    let (b, r) = setup();
    ok(r.fvsadm("-A -t 10.0.0.1:80", ""));
    ok(r.fvsadm("-P -t 10.0.0.1:80 -z 10.2.0.1", ""));
    ok(r.fvsadm("--add-laddr -t 10.0.0.1:80 --laddr 10.2.0.2", ""));
    let o = r.fvsadm("-P -t 10.0.0.1:80 -z 10.2.0.2", "");
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (255, "Local address already exists\n")
    );
    ok(r.fvsadm("-a -t 10.0.0.1:80 -r 10.1.0.1:8080 -j -w 3", ""));
    assert!(ok(r.fvsadm("-Ln", ""))
        .contains("  -> 10.1.0.1:8080                FullNat 3      0          0         \n"));
    assert_eq!(
        ok(r.fvsadm("-G -n", "")),
        concat!(
            "Prot VirtualAddress:Port    LocalAddress\n",
            "TCP  10.0.0.1:80            10.2.0.1\n",
            "TCP  10.0.0.1:80            10.2.0.2\n",
        )
    );
    ok(r.fvsadm("-Q -t 10.0.0.1:80 -z 10.2.0.1", ""));
    let o = r.fvsadm("-Q -t 10.0.0.1:80 -z 10.2.0.2", "");
    assert_eq!(
        o.code, 255,
        "the last local address of a FullNAT service stays"
    );
    let o = r.fvsadm("-Q -t 10.0.0.1:80 -z 10.2.0.9", "");
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (255, "No such local address\n")
    );
    assert_eq!(
        b.with(|s| s.cfg.clone().unwrap().services[0].local_addresses.len()),
        1
    );
}

#[test]
fn reload() {
    let (b, r) = setup();
    ok(r.fvsadm("-A -t 10.0.0.1:80", ""));
    b.with(|s| {
        s.file = Some(format!(
            "{EMPTY}services:\n  - {{name: web, vip: 10.9.9.9, port: 443, protocol: tcp, scheduler: rr}}\n"
        ))
    });
    ok(r.fvsadm("--reload", ""));
    assert_eq!(
        ok(r.fvsadm("-Ln", "")),
        format!("{HEAD}TCP  10.9.9.9:443 rr\n")
    );
    b.with(|s| s.file = Some("workers: {cores: []}\n".into()));
    let o = r.fvsadm("--reload", "");
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (255, "workers.cores: must not be empty\n")
    );
}

const RULES: &str = "\
-A -t 10.0.0.1:443 -s sh -b sh-fallback,sh-port
-a -t 10.0.0.1:443 -r 10.20.0.5:443 -i -w 0 --tun-type ipip
-A -t 10.0.0.100:80 -s wlc -p 360 -M 255.255.255.0
-P -t 10.0.0.100:80 -z 10.20.0.1
-a -t 10.0.0.100:80 -r 10.20.0.2:8080 -m -w 1
-a -t 10.0.0.100:80 -r 10.20.0.3:8080 -m -w 2
-a -t 10.0.0.100:80 -r 10.20.0.9:8080 -j -w 65535
-A -u 10.0.0.53:53 -s rr
-a -u 10.0.0.53:53 -r 10.20.0.4:53 -g -w 1
";

#[test]
fn save_restore_round_trip_over_socket() {
    let (_b, r) = setup();
    ok(r.fvsadm("-R", RULES));
    assert_eq!(ok(r.fvsadm("-S -n", "")), RULES);
    // Restoring the dump into another daemon gives the same dump.
    let (_b2, r2) = setup();
    ok(r2.fvsadm("-R", &ok(r.fvsadm("-S -n", ""))));
    assert_eq!(ok(r2.fvsadm("-S -n", "")), RULES);
    assert_eq!(ok(r2.fvsadm("-Ln", "")), ok(r.fvsadm("-Ln", "")));
}

#[test]
fn save_restore_round_trip_in_process() {
    let b = FakeBackend::new(EMPTY);
    let text = format!(
        "# saved\nipvsadm {}\n\n{}",
        RULES.lines().next().unwrap(),
        RULES.lines().skip(1).collect::<Vec<_>>().join("\n")
    );
    ok(fvsadm_local(&b, "-R", &text));
    let dump = ok(fvsadm_local(&b, "-S -n", ""));
    assert_eq!(dump, RULES);
    let b2 = FakeBackend::new(EMPTY);
    ok(fvsadm_local(&b2, "-R", &dump));
    assert_eq!(b.with(|s| s.cfg.clone()), b2.with(|s| s.cfg.clone()));
}

#[test]
fn restore_continues_after_refused_line_and_stops_on_fail() {
    let b = FakeBackend::new(EMPTY);
    let o = fvsadm_local(
        &b,
        "-R",
        "-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n-A -t 10.0.0.2:80\n",
    );
    assert_eq!((o.code, o.stderr.as_str()), (0, "Service already exists\n"));
    assert_eq!(b.with(|s| s.cfg.clone().unwrap().services.len()), 2);
    let o = fvsadm_local(&b, "-R", "-A -t 10.0.0.3:80 -w 1\n-A -t 10.0.0.4:80\n");
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (
            2,
            "Illegal 'weight' option with the 'add-service' command\n"
        )
    );
    assert_eq!(b.with(|s| s.cfg.clone().unwrap().services.len()), 2);
    let o = fvsadm_local(&b, "-R", "-R\n");
    assert_eq!(o.code, 255);
}

#[test]
fn multi_port_yaml_service_lists_each_port() {
    let yaml = format!(
        "{EMPTY}services:\n  - name: m\n    vip: 10.0.0.7\n    ports: \"8001-8002\"\n    protocol: tcp\n    scheduler: rr\n    reals: [{{address: 10.1.0.1}}]\n"
    );
    let b = FakeBackend::new(&yaml);
    let out = ok(fvsadm_local(&b, "-Ln", ""));
    assert_eq!(
        out,
        format!(
            "{HEAD}{}",
            concat!(
                "TCP  10.0.0.7:8001 rr\n",
                "  -> 10.1.0.1:8001                Masq    1      0          0         \n",
                "TCP  10.0.0.7:8002 rr\n",
                "  -> 10.1.0.1:8002                Masq    1      0          0         \n",
            )
        )
    );
    let o = fvsadm_local(&b, "-D -t 10.0.0.7:8001", "");
    assert_eq!(o.code, 255);
    assert!(
        o.stderr.contains("multi-port service \"m\""),
        "{}",
        o.stderr
    );
    ok(fvsadm_local(&b, "-a -t 10.0.0.7:8002 -r 10.1.0.2 -m", ""));
    assert_eq!(
        b.with(|s| s.cfg.clone().unwrap().services[0].reals.len()),
        2
    );
}
