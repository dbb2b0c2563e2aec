//! `fvsadm -L --vrrp`: ferrovs's own listing (ipvsadm has none), one line per
//! VRRP instance: its state and priority, who is master, since when, its
//! advert counters and the addresses it owns.
use super::health::seconds;
use crate::proto::VrrpEntry;

fn centis(cs: u16) -> String {
    format!("{}.{:02}s", cs / 100, cs % 100)
}

/// The listing, header first; entries in configuration order.
pub fn table(entries: &[VrrpEntry]) -> String {
    let mut out = format!(
        "{:<16} {:<8} {:>4} {:>3} {:<6} {:>4} {:>7} {:<15} {:>9} {:>8} {:>8} {:>7}  {}\n",
        "Instance",
        "Port",
        "VRID",
        "Ver",
        "State",
        "Prio",
        "Advert",
        "Master",
        "Since",
        "Sent",
        "Received",
        "Dropped",
        "Addresses"
    );
    for e in entries {
        let dropped: u64 = e.dropped.iter().map(|(_, n)| n).sum();
        out.push_str(&format!(
            "{:<16} {:<8} {:>4} {:>3} {:<6} {:>4} {:>7} {:<15} {:>9} {:>8} {:>8} {:>7}  {}\n",
            e.name,
            e.port,
            e.vrid,
            e.version,
            e.state,
            e.priority,
            centis(e.master_adver_int_cs),
            e.master.map_or("-".to_string(), |m| m.to_string()),
            seconds(e.since_ms),
            e.adverts_sent,
            e.adverts_received,
            dropped,
            e.addresses.join(" "),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_instance() {
        let e = VrrpEntry {
            name: "VI_1".into(),
            port: "eth0".into(),
            vrid: 51,
            version: 3,
            state: "MASTER".into(),
            priority: 150,
            advert_int_cs: 10,
            master_adver_int_cs: 10,
            master: Some("10.99.0.3".parse().unwrap()),
            addresses: vec!["10.99.0.100".into(), "10.99.1.1/24".into()],
            since_ms: 12_345,
            adverts_sent: 7,
            adverts_received: 2,
            transitions: 2,
            dropped: vec![("auth".into(), 3), ("ttl".into(), 1)],
        };
        let t = table(&[e]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("Instance"));
        let words: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(
            words,
            [
                "VI_1",
                "eth0",
                "51",
                "3",
                "MASTER",
                "150",
                "0.10s",
                "10.99.0.3",
                "12.3s",
                "7",
                "2",
                "4",
                "10.99.0.100",
                "10.99.1.1/24"
            ]
        );
    }
}
