//! `--tun-type`, `--tun-port`, `--tun-nocsum|--tun-csum|--tun-remcsum` and
//! `--tun-info`, side by side with ipvsadm 1.31: every line below is a
//! command run in order, with the status, stdout and stderr that the
//! reference ipvsadm 1.31 (/work/shared/tools/ipvsadm-oracle, over its
//! file-backed kernel stand-in) gave for the same sequence.

mod common;

use common::{FakeBackend, Running, EMPTY};
use control::config::{Forward, TunFlags, TunType};
use control::server::ServerOptions;

const TUNNEL_CASES: &[(&str, i32, &str, &str)] = &[
    ("-A -t 10.0.0.1:80 -s rr", 0, "", ""),
    ("-a -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type gue --tun-port 6080 --tun-csum", 0, "", ""),
    ("-a -t 10.0.0.1:80 -r 10.1.0.2 -i --tun-type gre --tun-csum", 0, "", ""),
    ("-a -t 10.0.0.1:80 -r 10.1.0.3 -i", 0, "", ""),
    ("-a -t 10.0.0.1:80 -r 10.1.0.4:8080 -m", 0, "", ""),
    ("-a -t 10.0.0.1:80 -r 10.1.0.5 -i --tun-type gue --tun-port 6081 --tun-remcsum", 0, "", ""),
    ("-a -t 10.0.0.1:80 -r 10.1.0.6 -i --tun-type=gre", 0, "", ""),
    ("-a -t 10.0.0.1:80 -r 10.1.0.7 -i --tun-type gue --tun-port=7 --tun-nocsum", 0, "", ""),
    ("-A -u 10.0.0.2:53", 0, "", ""),
    ("-a -u 10.0.0.2:53 -r 10.1.0.9 -i --tun-type ipip -w 3", 0, "", ""),
    ("-Ln", 0, "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  10.0.0.1:80 rr\n  -> 10.1.0.1:80                  Tunnel  1      0          0         \n  -> 10.1.0.2:80                  Tunnel  1      0          0         \n  -> 10.1.0.3:80                  Tunnel  1      0          0         \n  -> 10.1.0.4:8080                Masq    1      0          0         \n  -> 10.1.0.5:80                  Tunnel  1      0          0         \n  -> 10.1.0.6:80                  Tunnel  1      0          0         \n  -> 10.1.0.7:80                  Tunnel  1      0          0         \nUDP  10.0.0.2:53 wlc\n  -> 10.1.0.9:53                  Tunnel  3      0          0         \n", ""),
    ("-Ln --tun-info", 0, "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\nTCP  10.0.0.1:80 rr\n  -> 10.1.0.1:80                  Tunnel  gue:6080:+c   1      0          0         \n  -> 10.1.0.2:80                  Tunnel  gre:+c        1      0          0         \n  -> 10.1.0.3:80                  Tunnel  ipip          1      0          0         \n  -> 10.1.0.4:8080                Masq    n/a           1      0          0         \n  -> 10.1.0.5:80                  Tunnel  gue:6081:r+c  1      0          0         \n  -> 10.1.0.6:80                  Tunnel  gre:-c        1      0          0         \n  -> 10.1.0.7:80                  Tunnel  gue:7:-c      1      0          0         \nUDP  10.0.0.2:53 wlc\n  -> 10.1.0.9:53                  Tunnel  ipip          3      0          0         \n", ""),
    ("-L -n --tun-info -t 10.0.0.1:80", 0, "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\nTCP  10.0.0.1:80 rr\n  -> 10.1.0.1:80                  Tunnel  gue:6080:+c   1      0          0         \n  -> 10.1.0.2:80                  Tunnel  gre:+c        1      0          0         \n  -> 10.1.0.3:80                  Tunnel  ipip          1      0          0         \n  -> 10.1.0.4:8080                Masq    n/a           1      0          0         \n  -> 10.1.0.5:80                  Tunnel  gue:6081:r+c  1      0          0         \n  -> 10.1.0.6:80                  Tunnel  gre:-c        1      0          0         \n  -> 10.1.0.7:80                  Tunnel  gue:7:-c      1      0          0         \n", ""),
    ("-S -n", 0, "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.0.1:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum\n-a -t 10.0.0.1:80 -r 10.1.0.2:80 -i -w 1 --tun-type gre --tun-csum\n-a -t 10.0.0.1:80 -r 10.1.0.3:80 -i -w 1 --tun-type ipip\n-a -t 10.0.0.1:80 -r 10.1.0.4:8080 -m -w 1\n-a -t 10.0.0.1:80 -r 10.1.0.5:80 -i -w 1 --tun-type gue --tun-port 6081 --tun-remcsum\n-a -t 10.0.0.1:80 -r 10.1.0.6:80 -i -w 1 --tun-type gre --tun-nocsum\n-a -t 10.0.0.1:80 -r 10.1.0.7:80 -i -w 1 --tun-type gue --tun-port 7 --tun-nocsum\n-A -u 10.0.0.2:53 -s wlc\n-a -u 10.0.0.2:53 -r 10.1.0.9:53 -i -w 3 --tun-type ipip\n", ""),
    ("-Ln --tun-info --stats", 0, "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\nTCP  10.0.0.1:80                         0        0        0        0        0\n  -> 10.1.0.1:80                         0        0        0        0        0\n  -> 10.1.0.2:80                         0        0        0        0        0\n  -> 10.1.0.3:80                         0        0        0        0        0\n  -> 10.1.0.4:8080                       0        0        0        0        0\n  -> 10.1.0.5:80                         0        0        0        0        0\n  -> 10.1.0.6:80                         0        0        0        0        0\n  -> 10.1.0.7:80                         0        0        0        0        0\nUDP  10.0.0.2:53                         0        0        0        0        0\n  -> 10.1.0.9:53                         0        0        0        0        0\n", ""),
    ("-Ln --tun-info --thresholds", 0, "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port\nTCP  10.0.0.1:80 rr\n  -> 10.1.0.1:80                  0          0          0          0         \n  -> 10.1.0.2:80                  0          0          0          0         \n  -> 10.1.0.3:80                  0          0          0          0         \n  -> 10.1.0.4:8080                0          0          0          0         \n  -> 10.1.0.5:80                  0          0          0          0         \n  -> 10.1.0.6:80                  0          0          0          0         \n  -> 10.1.0.7:80                  0          0          0          0         \nUDP  10.0.0.2:53 wlc\n  -> 10.1.0.9:53                  0          0          0          0         \n", ""),
    ("-Ln --tun-info --persistent-conn", 0, "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n  -> RemoteAddress:Port\nTCP  10.0.0.1:80 rr\n  -> 10.1.0.1:80                  1         0           0          0         \n  -> 10.1.0.2:80                  1         0           0          0         \n  -> 10.1.0.3:80                  1         0           0          0         \n  -> 10.1.0.4:8080                1         0           0          0         \n  -> 10.1.0.5:80                  1         0           0          0         \n  -> 10.1.0.6:80                  1         0           0          0         \n  -> 10.1.0.7:80                  1         0           0          0         \nUDP  10.0.0.2:53 wlc\n  -> 10.1.0.9:53                  3         0           0          0         \n", ""),
    ("-L --timeout --tun-info", 0, "Timeout (tcp tcpfin udp): 900 120 300\n", ""),
    ("-e -t 10.0.0.1:80 -r 10.1.0.1 -i --tun-type gre", 0, "", ""),
    ("-e -t 10.0.0.1:80 -r 10.1.0.2 -i", 0, "", ""),
    ("-e -t 10.0.0.1:80 -r 10.1.0.3 -m", 0, "", ""),
    ("-Ln --tun-info", 0, "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\nTCP  10.0.0.1:80 rr\n  -> 10.1.0.1:80                  Tunnel  gre:-c        1      0          0         \n  -> 10.1.0.2:80                  Tunnel  ipip          1      0          0         \n  -> 10.1.0.3:80                  Masq    n/a           1      0          0         \n  -> 10.1.0.4:8080                Masq    n/a           1      0          0         \n  -> 10.1.0.5:80                  Tunnel  gue:6081:r+c  1      0          0         \n  -> 10.1.0.6:80                  Tunnel  gre:-c        1      0          0         \n  -> 10.1.0.7:80                  Tunnel  gue:7:-c      1      0          0         \nUDP  10.0.0.2:53 wlc\n  -> 10.1.0.9:53                  Tunnel  ipip          3      0          0         \n", ""),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-type gue", 2, "", "You need to supply the 'tun-port' option for the 'gue' tunnel type\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-type gue --tun-port 0", 2, "", "illegal tunnel port specified\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-type gue --tun-port 65536", 2, "", "illegal tunnel port specified\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-type gue --tun-port abc", 2, "", "illegal tunnel port specified\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-type vxlan", 2, "", "illegal tunnel type specified\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-type GUE --tun-port 1", 2, "", "illegal tunnel type specified\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-type gre --tun-port 5", 2, "", "Illegal 'tun-port' option with the 'gre' tunnel type\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-type gre --tun-remcsum", 2, "", "Illegal 'tun-remcsum' option with the 'gre' tunnel type\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-type gre --tun-csum --tun-nocsum", 2, "", "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gre' tunnel type\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-type gue --tun-port 1 --tun-csum --tun-remcsum", 2, "", "The option 'tun-remcsum' conflicts with the 'tun-csum' option in the 'gue' tunnel type\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-type gue --tun-port 1 --tun-remcsum --tun-nocsum", 2, "", "The option 'tun-remcsum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-nocsum", 2, "", "Illegal 'tun-nocsum' option with the 'ipip' tunnel type\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-port 6080", 2, "", "Illegal 'tun-port' option with the 'ipip' tunnel type\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -m --tun-type gue --tun-port 1", 2, "", "Tunnel options conflict with forward method\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 --tun-type ipip", 2, "", "Tunnel options conflict with forward method\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 --tun-csum", 2, "", "Tunnel options conflict with forward method\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -g --tun-remcsum", 2, "", "Tunnel options conflict with forward method\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-type gue --tun-type gre --tun-port 3", 2, "", "multiple 'tun-type' options specified\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-port 3 --tun-port 4 --tun-type gue", 2, "", "multiple 'tun-port' options specified\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-type gue --tun-port 3 --tun-csum --tun-csum", 2, "", "multiple 'tun-csum' options specified\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-type", 255, "", "--tun-type: missing argument\n"),
    ("-a -t 10.0.0.1:80 -r 10.2.0.1 -i --tun-csum=1", 255, "", "--tun-csum=1: option does not take an argument\n"),
    ("-A -t 10.0.0.3:80 --tun-info", 2, "", "Illegal 'tun-info' option with the 'add-service' command\n"),
    ("-A -t 10.0.0.3:80 --tun-type gue", 2, "", "Illegal 'tun-type' option with the 'add-service' command\n"),
    ("-E -t 10.0.0.1:80 --tun-csum", 2, "", "Illegal 'tun-csum' option with the 'edit-service' command\n"),
    ("-L --tun-type gue", 2, "", "Illegal 'tun-type' option with the 'list' command\n"),
    ("-L -n --tun-port 5", 2, "", "Illegal 'tun-port' option with the 'list' command\n"),
    ("-L -n --tun-csum", 2, "", "Illegal 'tun-csum' option with the 'list' command\n"),
    ("-L -n --tun-info --tun-info", 2, "", "multiple 'tun-info' options specified\n"),
    ("-d -t 10.0.0.1:80 -r 10.1.0.1 --tun-type gue", 2, "", "Illegal 'tun-type' option with the 'delete-server' command\n"),
    ("-S --tun-info", 2, "", "Illegal 'tun-info' option with the 'save' command\n"),
    ("-Z --tun-info", 2, "", "Illegal 'tun-info' option with the 'zero' command\n"),
    ("-C --tun-info", 2, "", "Illegal 'tun-info' option with the 'flush' command\n"),
    ("-e -t 10.0.0.1:80 -r 10.9.9.9 -i --tun-type gue --tun-port 1", 255, "", "No such destination\n"),
    ("-S -n", 0, "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.1.0.1:80 -i -w 1 --tun-type gre --tun-nocsum\n-a -t 10.0.0.1:80 -r 10.1.0.2:80 -i -w 1 --tun-type ipip\n-a -t 10.0.0.1:80 -r 10.1.0.3:80 -m -w 1\n-a -t 10.0.0.1:80 -r 10.1.0.4:8080 -m -w 1\n-a -t 10.0.0.1:80 -r 10.1.0.5:80 -i -w 1 --tun-type gue --tun-port 6081 --tun-remcsum\n-a -t 10.0.0.1:80 -r 10.1.0.6:80 -i -w 1 --tun-type gre --tun-nocsum\n-a -t 10.0.0.1:80 -r 10.1.0.7:80 -i -w 1 --tun-type gue --tun-port 7 --tun-nocsum\n-A -u 10.0.0.2:53 -s wlc\n-a -u 10.0.0.2:53 -r 10.1.0.9:53 -i -w 3 --tun-type ipip\n", ""),
];

#[test]
fn tunnel_options_match_ipvsadm() {
    let b = FakeBackend::new(EMPTY);
    let r = Running::start(b.clone(), ServerOptions::default());
    for (args, code, stdout, stderr) in TUNNEL_CASES {
        let o = r.fvsadm(args, "");
        assert_eq!(
            (o.code, o.stdout.as_str(), o.stderr.as_str()),
            (*code, *stdout, *stderr),
            "fvsadm {args}"
        );
    }
    // The YAML the commands left behind: only what differs from the defaults.
    let cfg = b.with(|s| s.cfg.clone().unwrap());
    let reals = &cfg.services[0].reals;
    let r1 = &reals[0];
    assert_eq!(r1.forward, Some(Forward::Tun));
    assert_eq!(
        (r1.tun_type, r1.tun_port, r1.tun_flags),
        (Some(TunType::Gre), None, None)
    );
    let r5 = &reals[4];
    assert_eq!(
        (r5.tun_type, r5.tun_port, r5.tun_flags),
        (Some(TunType::Gue), Some(6081), Some(TunFlags::Remcsum))
    );
    assert_eq!(reals[1].tun_type, None, "ipip is not written");
}

#[test]
fn save_restore_round_trip_with_tunnels() {
    let rules = TUNNEL_CASES
        .iter()
        .rev()
        .find(|c| c.0 == "-S -n")
        .map(|c| c.2)
        .unwrap();
    let b = FakeBackend::new(EMPTY);
    let r = Running::start(b, ServerOptions::default());
    common::ok(r.fvsadm("-R", rules));
    assert_eq!(common::ok(r.fvsadm("-S -n", "")), rules);
}
