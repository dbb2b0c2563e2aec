//! fvsadm side by side with ipvsadm 1.31 (the reference front end over its
//! kernel stand-in): the same command lines give the same stdout, stderr
//! and exit status.

mod common;

use std::net::SocketAddrV4;

use common::oracle::{permutations, Pair};
use common::Output;
use control::config::Protocol;
use control::proto::{ConnEntry, ConnKind};

macro_rules! pair {
    () => {
        match Pair::new() {
            Some(p) => p,
            None => return,
        }
    };
}

#[test]
fn scheduler_flags_are_kept_and_listed_as_ipvsadm() {
    let p = pair!();
    p.script(
        "-A -t 10.0.0.1:80 -s rr -b flag-1,flag-2,flag-3
         -A -t 10.0.0.1:81 -s wlc -b flag-3,flag-1
         -A -t 10.0.0.1:82 -b flag-2
         -A -t 10.0.0.2:80 -s sh -b flag-1,flag-2,flag-3
         -A -t 10.0.0.2:81 -b flag-3 -s sh
         -A -t 10.0.0.2:82 -s sh -b flag-2,sh-fallback
         -A -t 10.0.0.3:80 -s mh -b flag-3,mh-port
         -A -t 10.0.0.3:81 -s mh -b flag-1
         -A -u 10.0.0.4:53 -s wrr -b flag-1,,flag-1
         -A -t 10.0.0.5:80 -s rr -b sh-port
         -A -t 10.0.0.5:80 -s sh -b mh-port
         -A -t 10.0.0.5:80 -s rr -b flag-4
         -A -t 10.0.0.5:80 -b sh-fallback -s sh -p 60",
    );
    p.same("-Ln");
    p.same("-S -n");
    p.same("-L -n -t 10.0.0.2:81");
    p.same("-L -n --stats");
    // -E sets the flags anew: omitted, they are cleared.
    p.script(
        "-E -t 10.0.0.1:80 -s rr
         -E -t 10.0.0.2:80 -s rr -b flag-1
         -E -t 10.0.0.3:80 -s sh -b flag-2",
    );
    p.same("-Ln");
    // The dump restores the same table (sh with only flag-3 has no
    // argument after -b, which ipvsadm refuses too).
    let dump = p.same("-S -n").stdout;
    p.same("-C");
    p.same_in("-R", &dump);
    p.same("-S -n");
}

#[test]
fn thresholds_refused_as_the_kernel_does() {
    let p = pair!();
    p.script(
        "-A -t 10.0.0.1:80 -s rr
         -a -t 10.0.0.1:80 -r 10.1.0.1 -y 5
         -a -t 10.0.0.1:80 -r 10.1.0.1 -x 5 -y 10
         -a -t 10.0.0.2:80 -r 10.1.0.1 -y 5
         -a -t 10.0.0.1:80 -r 10.1.0.1 -x 10 -y 5
         -a -t 10.0.0.1:80 -r 10.1.0.1 -y 5
         -a -t 10.0.0.1:80 -r 10.1.0.1 -x 10 -y 5
         -e -t 10.0.0.1:80 -r 10.1.0.2 -y 5
         -e -t 10.0.0.1:80 -r 10.1.0.1 -y 5
         -e -t 10.0.0.1:80 -r 10.1.0.1 -y 5 -x 5
         -a -t 10.0.0.1:80 -r 10.1.0.3 -x 7
         -e -t 10.0.0.1:80 -r 10.1.0.3 -x 7 -y 8
         -a -t 10.0.0.1:80 -r 10.1.0.4 -x 0 -y 1",
    );
    p.same("-L -n --thresholds");
    let o = p.same("-a -t 10.0.0.1:80 -r 10.1.0.9 -y 1");
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (255, "Numerical result out of range\n")
    );
}

#[test]
fn version_names_ferrovs_and_the_ipvsadm_it_follows() {
    let p = pair!();
    for args in ["-v", "--version"] {
        let (want, got) = p.both(args, "");
        assert_eq!((got.code, got.stderr.as_str()), (want.code, ""));
        let follows = got
            .stdout
            .strip_prefix(&format!(
                "fvsadm (ferrovs {}) follows ",
                env!("CARGO_PKG_VERSION")
            ))
            .unwrap_or_else(|| panic!("{}", got.stdout));
        assert_eq!(follows, want.stdout, "ipvsadm's own line");
    }
    // -h starts with the same line.
    let (want, got) = p.both("-h", "");
    assert_eq!(got.code, want.code);
    let first = |o: &Output| o.stdout.lines().next().unwrap_or_default().to_string();
    assert!(first(&got).ends_with(&first(&want)), "{}", got.stdout);
}

#[test]
fn listing_order_is_ipvsadms_comparator() {
    // Addresses 2^31 or more apart compare the wrong way round in
    // ipvsadm's int subtraction (200.x before 10.x), and the order is not
    // transitive, so the result depends on the order of addition.
    let vips = ["10.0.0.1", "100.0.0.1", "200.0.0.1", "150.0.0.2"];
    for order in permutations(&vips) {
        let p = pair!();
        for (n, vip) in order.iter().enumerate() {
            p.same(&format!("-A -t {vip}:80 -s rr"));
            p.same(&format!("-A -u {vip}:{} -s rr", 53 + n));
        }
        p.same("-A -t 10.0.0.1:8080");
        p.same("-A -t 10.0.0.1:443");
        // The reals keep the VIPs' high bits but are not VIPs (ferrovs
        // refuses a real on a VIP).
        for real in order.iter().rev().map(|v| v.replace(".0.0.", ".9.0.")) {
            p.same(&format!("-a -t 10.0.0.1:80 -r {real}:8080 -m"));
            p.same(&format!("-a -t 10.0.0.1:80 -r {real}:81 -m"));
        }
        p.same("-Ln");
        p.same("-S -n");
        p.same("-L -n --sort");
        p.same("-L -n --nosort");
        p.same("-L -n -t 10.0.0.1:80 --stats");
    }
}

#[test]
fn names_without_n_as_ipvsadm() {
    // Ports by service name for their protocol: 80/tcp http, 53/udp
    // domain, 8080/tcp http-alt; 60001 has none. The addresses have no
    // host name here (ferrovs refuses loopback VIPs and reals; host names
    // are compared on the connection listing, where 127.0.0.1 is
    // localhost).
    let p = pair!();
    p.script(
        "-A -t 10.0.0.1:80 -s rr
         -a -t 10.0.0.1:80 -r 10.1.0.1:8080 -m
         -a -t 10.0.0.1:80 -r 10.1.0.1:443 -m
         -a -t 10.0.0.1:80 -r 10.1.0.2:60001 -m
         -A -u 10.0.0.2:53
         -a -u 10.0.0.2:53 -r 10.1.0.3:53
         -a -u 10.0.0.2:53 -r 10.1.0.3:8080 -m
         -A -u 10.0.0.3:8080 -p
         -a -u 10.0.0.3:8080 -r 10.0.0.4
         -A -t 10.0.0.3:http-alt
         -A -t 10.0.0.3:no-such-service
         -A -t 10.0.0.5:60002",
    );
    for args in [
        "-L",
        "-l",
        "",
        "-L --stats",
        "-L --rate",
        "-L --thresholds",
        "-L --persistent-conn",
        "-S",
        "-L -t 10.0.0.1:http",
        "-L -u 10.0.0.2:domain",
    ] {
        p.same(args);
    }
    let dump = p.same("-S").stdout;
    assert!(dump.contains("-A -t 10.0.0.1:http -s rr\n"), "{dump}");
    p.same("-C");
    p.same_in("-R", &dump);
    p.same("-S -n");
}

fn proto_name(c: &ConnEntry) -> &'static str {
    match (c.kind, c.protocol) {
        (ConnKind::MarkTemplate, _) => "IP",
        (_, Protocol::Tcp) => "TCP",
        (_, Protocol::Udp) => "UDP",
    }
}

/// The /proc/net/ip_vs_conn line of an entry (ip_vs_conn_seq_show).
fn proc_line(c: &ConnEntry) -> String {
    let state = if c.kind == ConnKind::Conn {
        c.state.as_str()
    } else {
        "NONE"
    };
    format!(
        "{:<3} {:08X} {:04X} {:08X} {:04X} {:08X} {:04X} {:<11} {:>7}\n",
        proto_name(c),
        u32::from(*c.client.ip()),
        c.client.port(),
        u32::from(*c.virt.ip()),
        c.virt.port(),
        u32::from(*c.dest.ip()),
        c.dest.port(),
        state,
        c.expire_ms / 1000
    )
}

#[test]
fn connections_and_templates_as_ipvsadm() {
    let p = pair!();
    let a = |s: &str, port| SocketAddrV4::new(s.parse().unwrap(), port);
    let conn = |proto, secs: u64, state: &str, client, virt, dest, kind| ConnEntry {
        protocol: proto,
        expire_ms: secs * 1000 + 999,
        state: state.into(),
        client,
        virt,
        dest,
        kind,
    };
    let conns = vec![
        conn(
            Protocol::Tcp,
            899,
            "ESTABLISHED",
            a("127.0.0.1", 40000),
            a("127.0.0.1", 80),
            a("10.1.0.1", 8080),
            ConnKind::Conn,
        ),
        conn(
            Protocol::Udp,
            5,
            "UDP",
            a("10.9.0.1", 53),
            a("127.0.0.1", 53),
            a("127.0.0.1", 53),
            ConnKind::Conn,
        ),
        // A template of a persistent service: client port 0, state NONE.
        conn(
            Protocol::Tcp,
            359,
            "ESTABLISHED",
            a("127.0.0.0", 0),
            a("127.0.0.1", 443),
            a("10.1.0.1", 443),
            ConnKind::Template,
        ),
        // A port-0 service's template: every port 0.
        conn(
            Protocol::Udp,
            3600,
            "UDP",
            a("10.9.0.0", 0),
            a("127.0.0.1", 0),
            a("10.1.0.1", 0),
            ConnKind::Template,
        ),
        // A firewall mark's: protocol IP, the mark as the address.
        conn(
            Protocol::Tcp,
            60,
            "NONE",
            a("10.9.0.1", 0),
            a("0.0.0.7", 0),
            a("127.0.0.1", 0),
            ConnKind::MarkTemplate,
        ),
    ];
    let mut proc_text =
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n"
            .to_string();
    for c in &conns {
        proc_text.push_str(&proc_line(c));
    }
    p.oracle.set_conns(&proc_text);
    p.backend.with(|s| s.conns = conns.clone());
    for args in [
        "-Lnc",
        "-L -c",
        "-Lnc --persistent-conn",
        "-Lc --persistent-conn",
    ] {
        p.same(args);
    }
}

#[test]
fn sync_daemons_start_stop_and_list_as_ipvsadm() {
    let p = pair!();
    // Nothing runs: the listing is empty, a stop is refused.
    p.script(
        "-L --daemon
         --stop-daemon master
         --stop-daemon backup",
    );
    // ipvsadm's defaults: eth0, syncid 0; the kernel's: maxlen, group,
    // port, ttl.
    p.script(
        "--start-daemon master
         -L --daemon
         --start-daemon master
         --start-daemon master --mcast-interface eth1",
    );
    let o = p.same("--start-daemon master");
    assert_eq!(
        (o.code, o.stderr.as_str()),
        (255, "Daemon has already run\n")
    );
    p.script(
        "--start-daemon backup --mcast-interface eth1 --syncid 51 --sync-maxlen 1400 --mcast-group 239.1.1.1 --mcast-port 9000 --mcast-ttl 3
         -L --daemon
         -Ln --daemon
         -L --daemon -n
         -L --daemon --syncid 3
         --list --daemon
         --stop-daemon master --syncid 9
         -L --daemon
         --stop-daemon master",
    );
    let o = p.same("-L --daemon");
    assert_eq!(
        o.stdout,
        "backup sync daemon (mcast=eth1, syncid=51, maxlen=1400, group=239.1.1.1, port=9000, ttl=3)\n"
    );
    // Long option forms, bounds, a signed number, a name cut to 15 bytes
    // as ipvsadm copies it.
    p.script(
        "--stop-daemon=backup
         --start-daemon=backup --syncid=+255 --sync-maxlen=65507 --mcast-port=65535 --mcast-ttl=255 --mcast-group=224.0.0.1
         --start-daemon master --mcast-interface 0123456789abcdefXYZ --syncid 0 --sync-maxlen 1 --mcast-port 1 --mcast-ttl 1
         -L --daemon",
    );
    let o = p.same("-L --daemon");
    assert_eq!(
        o.stdout,
        "master sync daemon (mcast=0123456789abcde, syncid=0, maxlen=1, group=224.0.0.81, port=1, ttl=1)\n\
         backup sync daemon (mcast=eth0, syncid=255, maxlen=65507, group=224.0.0.1, port=65535, ttl=255)\n"
    );
    // -R takes the daemon commands too.
    p.same_in(
        "-R",
        "--stop-daemon master\n--stop-daemon backup\n--start-daemon backup --syncid 7\n--stop-daemon master\n",
    );
    p.same("-L --daemon");
}

#[test]
fn sync_daemon_command_lines_refused_as_ipvsadm() {
    let p = pair!();
    for args in [
        "--start-daemon",
        "--stop-daemon",
        "--start-daemon foo",
        "--start-daemon Master",
        "--stop-daemon foo",
        "--start-daemon master --syncid 256",
        "--start-daemon master --syncid -1",
        "--start-daemon master --syncid abc",
        "--start-daemon master --syncid 5x",
        "--start-daemon master --syncid",
        "--start-daemon master --sync-maxlen 0",
        "--start-daemon master --sync-maxlen 65508",
        "--start-daemon master --sync-maxlen x",
        "--start-daemon master --mcast-group 10.0.0.1",
        "--start-daemon master --mcast-group 255.255.255.255",
        "--start-daemon master --mcast-group 1.2.3",
        "--start-daemon master --mcast-group foo",
        "--start-daemon master --mcast-group fe80::1",
        "--start-daemon master --mcast-group ff02::1::2",
        "--start-daemon master --mcast-port 0",
        "--start-daemon master --mcast-port 65536",
        "--start-daemon master --mcast-port http",
        "--start-daemon master --mcast-ttl 0",
        "--start-daemon master --mcast-ttl 256",
        "--start-daemon master --mcast-interface eth0 --mcast-interface eth1",
        "--start-daemon master --syncid 1 --syncid 2",
        "--start-daemon master -n",
        "--start-daemon master -t 10.0.0.1:80",
        "--start-daemon master --daemon",
        "--start-daemon master extra",
        "--start-daemon master --start-daemon backup",
        "--start-daemon master --stop-daemon=backup",
        "--start-daemon master -L",
        "--start-daemon master -Ln",
        "--stop-daemon backup --mcast-interface eth0",
        "--stop-daemon backup --mcast-group 224.0.0.1",
        "--stop-daemon backup --sync-maxlen 1000",
        "--stop-daemon master -L",
        "-L --start-daemon master",
        "-A -t 10.0.0.1:80 --start-daemon master",
        "-A -t 10.0.0.1:80 -L",
        "-A -t 10.0.0.1:80 --syncid 3",
        "-L --mcast-interface eth0",
        "-L --mcast-port 1",
        "-L --daemon --stats",
        "-L --daemon --timeout",
        "-L --daemon -c",
        "-L --daemon --persistent-conn",
        "-Z --syncid 1",
    ] {
        let o = p.same(args);
        assert_ne!(o.code, 0, "{args}");
    }
    // Nothing was started.
    assert_eq!(p.same("-L --daemon").stdout, "");
}
