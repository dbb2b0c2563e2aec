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
