//! Issue 4 replay acceptance: a whole TCP conversation through NAT walks the
//! IPVS states in order, and the entry expires exactly when its state's
//! timeout says, on the capture's clock.
mod common;
use common::*;

const MS: u64 = 1_000_000;

#[test]
fn a_conversation_closed_by_the_client_walks_the_ipvs_states_and_expires_on_time() {
    conversation(44000, true);
}

#[test]
fn a_conversation_closed_by_the_server_goes_through_fin_wait() {
    conversation(44001, false);
}

fn conversation(cport: u16, client_closes: bool) {
    // Which real rr picks first is fixed for this config (the replay is deterministic).
    let probe = replay(
        &nat_config(),
        &[(MS, tcp_frame(CLIENT_MAC, CLIENT, cport, VIP, 80, SYN))],
    );
    let rs = parse_tcp(&probe.out[0].1).dst;
    let rs_mac = RS_MAC[RS.iter().position(|r| *r == rs).unwrap()];
    let c = |flags| tcp_frame(CLIENT_MAC, CLIENT, cport, VIP, 80, flags);
    let s = |flags| tcp_frame(rs_mac, rs, 8080, CLIENT, cport, flags);
    let t0 = 1000 * MS;
    let conversation = vec![
        (t0, c(SYN), "SYN_RECV"),
        (t0 + MS, s(SYN | ACK), "SYN_RECV"),
        (t0 + 2 * MS, c(ACK), "ESTABLISHED"),
        (t0 + 3 * MS, c(ACK | 0x08), "ESTABLISHED"),
        (t0 + 4 * MS, s(ACK | 0x08), "ESTABLISHED"),
    ];
    // IPVS's tables: a FIN seen from the client (INPUT) leads to CLOSE_WAIT,
    // one from the real server (OUTPUT) to FIN_WAIT; the second FIN to TIME_WAIT.
    let mut conversation = conversation;
    if client_closes {
        conversation.extend([
            (t0 + 5 * MS, c(FIN | ACK), "CLOSE_WAIT"),
            (t0 + 6 * MS, s(ACK), "CLOSE_WAIT"),
            (t0 + 7 * MS, s(FIN | ACK), "TIME_WAIT"),
            (t0 + 8 * MS, c(ACK), "TIME_WAIT"),
        ]);
    } else {
        conversation.extend([
            (t0 + 5 * MS, s(FIN | ACK), "FIN_WAIT"),
            (t0 + 6 * MS, c(ACK), "FIN_WAIT"),
            (t0 + 7 * MS, c(FIN | ACK), "TIME_WAIT"),
            (t0 + 8 * MS, s(ACK), "TIME_WAIT"),
        ]);
    }
    let last = t0 + 8 * MS;
    let tick = |at: u64| {
        (
            at,
            arp_request(CLIENT_MAC, CLIENT, std::net::Ipv4Addr::new(10, 0, 0, 77)),
        )
    };
    let mut frames: Vec<(u64, Vec<u8>)> = conversation
        .iter()
        .map(|(t, f, _)| (*t, f.clone()))
        .collect();
    // TIME_WAIT lasts 120 s: still there 1 ms before, gone at the deadline.
    frames.push(tick(last + 120_000 * MS - MS));
    frames.push(tick(last + 120_000 * MS));
    let r = replay(&nat_config(), &frames);
    let trace = r.report["trace"].as_array().unwrap();
    let states: Vec<&str> = trace
        .iter()
        .take(conversation.len())
        .map(|t| t["state"].as_str().unwrap_or("-"))
        .collect();
    let expected: Vec<&str> = conversation.iter().map(|(_, _, s)| *s).collect();
    assert_eq!(states, expected, "IPVS states in order");
    let time_wait_expiry = trace[conversation.len() - 1]["expires_ms"]
        .as_u64()
        .unwrap();
    assert_eq!(
        time_wait_expiry,
        last / MS + 120_000,
        "TIME_WAIT timeout 120 s"
    );
    let n = trace.len();
    assert_eq!(trace[n - 2]["conns"], 1, "still tracked 1 ms before expiry");
    assert_eq!(
        trace[n - 1]["conns"],
        0,
        "expired at the pcap time its timeout says"
    );
    assert_eq!(r.out.len(), conversation.len(), "every segment forwarded");
    let real = &r.report["services"][0]["reals"];
    let (active, inactive): (u64, u64) = real.as_array().unwrap().iter().fold((0, 0), |a, x| {
        (
            a.0 + x["active"].as_u64().unwrap(),
            a.1 + x["inactive"].as_u64().unwrap(),
        )
    });
    assert_eq!(
        (active, inactive),
        (0, 0),
        "counts back to zero once the entry expired"
    );
}

#[test]
fn timeouts_per_state_follow_the_ipvs_defaults() {
    let cport = 44100;
    let c = |flags| tcp_frame(CLIENT_MAC, CLIENT, cport, VIP, 80, flags);
    let r = replay(&nat_config(), &[(MS, c(SYN)), (2 * MS, c(ACK))]);
    let t = r.report["trace"].as_array().unwrap();
    assert_eq!(
        t[0]["expires_ms"].as_u64().unwrap() - t[0]["ts_ms"].as_u64().unwrap(),
        60_000,
        "SYN_RECV 60 s"
    );
    assert_eq!(
        t[1]["expires_ms"].as_u64().unwrap() - t[1]["ts_ms"].as_u64().unwrap(),
        900_000,
        "ESTABLISHED 900 s"
    );
}
