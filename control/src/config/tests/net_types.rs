use std::net::Ipv4Addr;

use crate::config::{mask_to_prefix_len, prefix_len_to_mask, Ipv4Net, MacAddr};

#[test]
fn ipv4net_parse_and_display() {
    let n: Ipv4Net = "10.10.0.1/24".parse().unwrap();
    assert_eq!(n.addr, Ipv4Addr::new(10, 10, 0, 1));
    assert_eq!(n.len, 24);
    assert_eq!(n.to_string(), "10.10.0.1/24");
    assert_eq!(n.network(), Ipv4Addr::new(10, 10, 0, 0));
    assert_eq!(n.netmask(), Ipv4Addr::new(255, 255, 255, 0));
    assert!(!n.is_network());
    assert_eq!(n.trunc().to_string(), "10.10.0.0/24");
    assert!(n.contains(Ipv4Addr::new(10, 10, 0, 254)));
    assert!(!n.contains(Ipv4Addr::new(10, 10, 1, 1)));
    let all: Ipv4Net = "0.0.0.0/0".parse().unwrap();
    assert!(all.contains(Ipv4Addr::new(192, 0, 2, 1)));
    assert!(all.is_network());
    let host: Ipv4Net = "192.0.2.7/32".parse().unwrap();
    assert!(host.contains(Ipv4Addr::new(192, 0, 2, 7)));
    assert!(!host.contains(Ipv4Addr::new(192, 0, 2, 8)));
    assert_eq!(Ipv4Net::new(Ipv4Addr::LOCALHOST, 33), None);
}

#[test]
fn ipv4net_parse_errors() {
    let e = "10.0.0.1".parse::<Ipv4Net>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "\"10.0.0.1\" has no prefix length (expected a.b.c.d/n)"
    );
    let e = "10.0.0.1/33".parse::<Ipv4Net>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid prefix length in \"10.0.0.1/33\" (0..=32)"
    );
    let e = "10.0.0/8".parse::<Ipv4Net>().unwrap_err();
    assert_eq!(e.to_string(), "invalid IPv4 address in \"10.0.0/8\"");
}

#[test]
fn masks() {
    assert_eq!(prefix_len_to_mask(0), 0);
    assert_eq!(prefix_len_to_mask(24), 0xffff_ff00);
    assert_eq!(prefix_len_to_mask(32), u32::MAX);
    assert_eq!(
        mask_to_prefix_len(Ipv4Addr::new(255, 255, 255, 255)),
        Some(32)
    );
    assert_eq!(
        mask_to_prefix_len(Ipv4Addr::new(255, 255, 240, 0)),
        Some(20)
    );
    assert_eq!(mask_to_prefix_len(Ipv4Addr::new(0, 0, 0, 0)), Some(0));
    assert_eq!(mask_to_prefix_len(Ipv4Addr::new(255, 0, 255, 0)), None);
    assert_eq!(mask_to_prefix_len(Ipv4Addr::new(0, 0, 0, 255)), None);
}

#[test]
fn mac_parse_and_display() {
    let m: MacAddr = "02:00:00:00:00:fE".parse().unwrap();
    assert_eq!(m, MacAddr([2, 0, 0, 0, 0, 0xfe]));
    assert_eq!(m.to_string(), "02:00:00:00:00:fe");
    assert!(!m.is_multicast());
    assert!(MacAddr::BROADCAST.is_multicast());
    assert!("01:00:5e:00:00:01"
        .parse::<MacAddr>()
        .unwrap()
        .is_multicast());
    for bad in [
        "02:00:00:00:00",
        "02:00:00:00:00:01:02",
        "2:00:00:00:00:01",
        "zz:00:00:00:00:01",
        "",
    ] {
        let e = bad.parse::<MacAddr>().unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("invalid MAC address {bad:?} (expected xx:xx:xx:xx:xx:xx)")
        );
    }
}
