//! Issue 12 live: the director's kernel shares its port through a TAP twin.
//! Kernel sockets in the director namespace reach the real servers, a kernel
//! server on the port address is reachable from the client, the VIP keeps
//! forwarding meanwhile, a flood at the director's own address is dropped on
//! the host path without costing the VIP a request, and the twin disappears
//! with the process, however it ends.
//!
//! The lab's back door (the director namespace's kernel also sees every frame
//! on the af_packet veth) is shut by tests/lab/lab.sh and checked here first,
//! so what passes below went through the twin.
mod lab_common;
use std::time::{Duration, Instant};

use lab_common::*;

const URL: &str = "http://10.99.0.100/";
const TWIN: &str = "fvs-host0";
/// A kernel TCP server on the director's port address.
const KERNEL_PORT: &str = "8099";

fn host_config(name: &str, rate_pps: u32) -> LabConfig {
    let cfg = LabConfig::new(name, None);
    cfg.edit(|t| {
        let twin = format!("    host_iface: {TWIN}\n    host_rate_pps: 50000\n");
        assert!(t.contains(&twin), "configs/lab.yaml gives its port a twin");
        t.replacen(
            &twin,
            &format!("    host_iface: {TWIN}\n    host_rate_pps: {rate_pps}\n"),
            1,
        )
    });
    cfg
}

/// 300 requests through the VIP from the client, running while the test
/// goes on; `output` gives their JSON summary.
fn vip_requests_in_background(lab: &Lab) -> Background {
    lab.http_client_background(URL, 300, &["--deadline", "60"])
}

/// Whether the twin exists in the director namespace.
fn twin_exists(lab: &Lab) -> bool {
    lab.exec("lb", &["ip", "link", "show", TWIN])
        .status
        .success()
}

fn wait_twin_gone(lab: &Lab, within: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if !twin_exists(lab) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// One value of the director's /metrics.
fn metric(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("{series} missing in\n{text}")) as u64
}

fn host_frames(m: &str, dir: &str) -> u64 {
    metric(
        m,
        &format!(r#"ferrovs_port_host_frames_total{{direction="{dir}",port="eth0"}}"#),
    )
}

fn host_drops(m: &str, reason: &str) -> u64 {
    metric(
        m,
        &format!(r#"ferrovs_port_host_drops_total{{port="eth0",reason="{reason}"}}"#),
    )
}

/// The twin's own kernel counter (`/sys/class/net/<twin>/statistics/<name>`).
fn twin_stat(lab: &Lab, name: &str) -> u64 {
    let o = lab.exec(
        "lb",
        &["cat", &format!("/sys/class/net/{TWIN}/statistics/{name}")],
    );
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// With no ferrovs running, the director namespace holds the port address
/// on an interface that leads nowhere: if the veth's kernel answered ARP or
/// accepted frames itself, the client would resolve the address.
fn assert_back_door_shut(lab: &Lab) {
    for args in [
        &["ip", "tuntap", "add", "dev", "fvs-door", "mode", "tap"][..],
        &["ip", "addr", "add", "10.99.0.1/24", "dev", "fvs-door"],
        &["ip", "link", "set", "fvs-door", "up"],
    ] {
        assert!(lab.exec("lb", args).status.success(), "{args:?}");
    }
    let o = lab.exec(
        "c",
        &[
            "curl",
            "-s",
            "-m",
            "2",
            &format!("http://10.99.0.1:{KERNEL_PORT}/"),
        ],
    );
    let neigh = lab.exec("c", &["ip", "neigh", "show", "10.99.0.1"]);
    let _ = lab.exec("lb", &["ip", "link", "del", "fvs-door"]);
    let _ = lab.exec("c", &["ip", "neigh", "flush", "all"]);
    assert!(!o.status.success(), "nothing may answer without ferrovs");
    let neigh = String::from_utf8_lossy(&neigh.stdout);
    assert!(
        !neigh.contains("lladdr"),
        "the veth's own kernel answered ARP for the port address: {neigh}"
    );
}

#[test]
fn the_kernel_reaches_the_network_through_its_twin_while_the_vip_forwards() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    assert_back_door_shut(&lab);
    let cfg = host_config("host-path", 50_000);
    let mut director = lab.director(&cfg.path);
    lab.wait_for_service(URL, Duration::from_secs(30));
    assert!(twin_exists(&lab), "twin missing: {}", director.log_text());
    let link = lab.exec("lb", &["ip", "-o", "addr", "show", "dev", TWIN]);
    let link = String::from_utf8_lossy(&link.stdout);
    for a in ["10.99.0.1/24", "10.99.1.1/24"] {
        assert!(link.contains(a), "the twin has the port's {a}: {link}");
    }
    let mac = lab.exec("lb", &["cat", &format!("/sys/class/net/{TWIN}/address")]);
    assert_eq!(
        String::from_utf8_lossy(&mac.stdout).trim(),
        "02:00:00:00:00:01"
    );

    // VIP traffic runs the whole time the kernel talks.
    let vip = vip_requests_in_background(&lab);
    // A kernel server on the director's port address, from the client.
    let server = lab.spawn(
        "lb",
        &[
            "timeout",
            "60",
            "python3",
            "-m",
            "http.server",
            "--bind",
            "10.99.0.1",
            KERNEL_PORT,
        ],
    );
    let start = Instant::now();
    let mut served = false;
    while !served && start.elapsed() < Duration::from_secs(10) {
        let o = lab.exec(
            "c",
            &[
                "curl",
                "-s",
                "-m",
                "2",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                &format!("http://10.99.0.1:{KERNEL_PORT}/"),
            ],
        );
        served = String::from_utf8_lossy(&o.stdout) == "200";
        if !served {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    assert!(
        served,
        "kernel server on 10.99.0.1 unreachable from the client"
    );
    // The kernel's own client connections and pings to the real servers.
    for (i, rs) in ["rs1", "rs2", "rs3"].iter().enumerate() {
        let o = lab.exec(
            "lb",
            &[
                "curl",
                "-s",
                "-m",
                "5",
                &format!("http://10.99.1.1{}:8080/", i + 1),
            ],
        );
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            *rs,
            "kernel curl from the director: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let ping = lab.exec(
        "lb",
        &["ping", "-c", "3", "-i", "0.2", "-W", "2", "10.99.1.12"],
    );
    assert!(
        ping.status.success(),
        "ping from the director: {}",
        String::from_utf8_lossy(&ping.stdout)
    );
    let r: serde_json::Value =
        serde_json::from_str(&vip.output(Duration::from_secs(90))).expect("client JSON");
    assert_eq!(r["ok"], 300, "VIP traffic alongside the host path: {r}");
    drop(server);

    // What reached the kernel went through ferrovs: its counters and the
    // twin's own agree that frames moved both ways.
    let m = lab.metrics();
    let (to_kernel, from_kernel) = (host_frames(&m, "to_kernel"), host_frames(&m, "from_kernel"));
    assert!(to_kernel >= 20, "to_kernel {to_kernel}");
    assert!(from_kernel >= 20, "from_kernel {from_kernel}");
    assert!(
        twin_stat(&lab, "rx_packets") >= to_kernel.min(20),
        "the twin received what ferrovs handed it"
    );
    assert!(twin_stat(&lab, "tx_packets") >= 20);
    assert_eq!(host_drops(&m, "rate_limited"), 0);

    let st = director.terminate(Duration::from_secs(15));
    let log = director.log_text();
    assert!(st.success(), "clean exit: {st:?}\n{log}");
    assert!(!twin_exists(&lab), "the twin goes with a clean stop");
    assert!(log.contains("mbufs_in_use=0"), "no mbuf leaked:\n{log}");
}

#[test]
fn a_flood_at_the_directors_address_costs_the_vip_nothing() {
    let Some(lab) = Lab::try_up(3, "nat") else {
        return;
    };
    const RATE: u32 = 2_000;
    const FLOOD: u32 = 100_000;
    let cfg = host_config("host-flood", RATE);
    let mut director = lab.director(&cfg.path);
    lab.wait_for_service(URL, Duration::from_secs(30));
    // The client knows the director's MAC (the flood's frames are not held
    // back by an unresolved neighbour).
    assert!(lab
        .exec("c", &["ping", "-c", "1", "-W", "2", "10.99.0.1"])
        .status
        .success());
    let vip = vip_requests_in_background(&lab);
    let flood = format!(
        "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nd=b'x'*64\nn=0\n\
         for i in range({FLOOD}):\n    try:\n        s.sendto(d,('10.99.0.1',9))\n        n+=1\n    except OSError:\n        pass\nprint(n)"
    );
    let sent = lab.exec("c", &["timeout", "60", "python3", "-c", &flood]);
    let sent: u64 = String::from_utf8_lossy(&sent.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(sent >= u64::from(FLOOD) * 9 / 10, "flood sent only {sent}");
    let r: serde_json::Value =
        serde_json::from_str(&vip.output(Duration::from_secs(90))).expect("client JSON");
    assert_eq!(r["ok"], 300, "no VIP request lost to the flood: {r}");

    let m = lab.metrics();
    let limited = host_drops(&m, "rate_limited");
    let to_kernel = host_frames(&m, "to_kernel");
    eprintln!("flood: sent {sent}, to_kernel {to_kernel}, rate_limited {limited}");
    assert!(
        limited >= sent / 2,
        "the excess is dropped on the host path: rate_limited {limited} of {sent}\n{m}"
    );
    assert!(
        to_kernel < sent / 4,
        "the kernel got at most its rate: {to_kernel} of {sent}"
    );
    let st = director.terminate(Duration::from_secs(15));
    assert!(st.success(), "{}", director.log_text());
    assert!(director.log_text().contains("mbufs_in_use=0"));
}

#[test]
fn a_killed_director_takes_its_twin_with_it() {
    let Some(lab) = Lab::try_up(1, "nat") else {
        return;
    };
    let cfg = host_config("host-kill", 50_000);
    let mut director = lab.director(&cfg.path);
    lab.wait_for_service(URL, Duration::from_secs(30));
    assert!(twin_exists(&lab));
    director.signal("KILL");
    let _ = director.wait_exit(Duration::from_secs(10));
    assert!(
        wait_twin_gone(&lab, Duration::from_secs(5)),
        "the kernel removes the twin when the process dies"
    );
}

#[test]
fn a_twin_name_already_taken_is_refused_naming_the_field() {
    let Some(lab) = Lab::try_up(1, "nat") else {
        return;
    };
    assert!(lab
        .exec("lb", &["ip", "tuntap", "add", "dev", TWIN, "mode", "tap"])
        .status
        .success());
    let cfg = host_config("host-taken", 50_000);
    let mut director = lab.director(&cfg.path);
    let st = director.wait_exit(Duration::from_secs(20));
    let log = director.log_text();
    assert!(!st.success());
    assert!(
        log.contains("ports[0].host_iface (fvs-host0): an interface of that name already exists"),
        "{log}"
    );
    // The operator's interface is left alone.
    assert!(twin_exists(&lab));
}
