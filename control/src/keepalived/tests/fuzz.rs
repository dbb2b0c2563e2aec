//! No input makes the reader panic: random bytes, and random sequences of
//! keepalived's own words and braces (which reach the mapper).

use proptest::prelude::*;

use super::super::map_text;

const WORDS: &[&str] = &[
    "virtual_server",
    "real_server",
    "virtual_server_group",
    "group",
    "fwmark",
    "{",
    "}",
    "10.0.0.1",
    "10.0.0.2-9",
    "80",
    "0",
    "HTTP_GET",
    "SSL_GET",
    "TCP_CHECK",
    "MISC_CHECK",
    "DNS_CHECK",
    "url",
    "path",
    "/",
    "status_code",
    "200-299",
    "digest",
    "lb_kind",
    "DR",
    "TUN",
    "FNAT",
    "type",
    "gue",
    "port",
    "protocol",
    "TCP",
    "UDP",
    "quorum",
    "hysteresis",
    "weight",
    "sorry_server",
    "persistence_timeout",
    "persistence_granularity",
    "255.255.0.0",
    "misc_path",
    "\"/bin/x a\"",
    "notify_up",
    "delay_loop",
    "1.5",
    "global_defs",
    "lvs_timeouts",
    "tcp",
    "\n",
    "\n",
    "\n",
    "#",
    "!",
    "\"",
    "include",
    "local_address_group",
    "laddr_group_name",
    "lb_algo",
    "sh",
    "sh-port",
    "ops",
    "connect_port",
    "bindto",
    "vrrp_instance",
    "VI_1",
    "interface",
    "eth0",
    "state",
    "MASTER",
    "virtual_router_id",
    "priority",
    "255",
    "advert_int",
    "0.015",
    "version",
    "3",
    "nopreempt",
    "preempt_delay",
    "authentication",
    "auth_type",
    "PASS",
    "auth_pass",
    "123456789",
    "unicast_peer",
    "virtual_ipaddress",
    "10.0.0.1/24",
    "dev",
    "garp_master_repeat",
    "notify_master",
    "notify_fifo",
    "/run/f",
    "vrrp_version",
    "ha_suspend",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(m) = map_text("fuzz.conf", &text, None) {
            let _ = m.into_config(None);
        }
    }

    #[test]
    fn random_keepalived_words_never_panic(
        idx in proptest::collection::vec(0..WORDS.len(), 0..400)
    ) {
        let text: Vec<&str> = idx.iter().map(|&i| WORDS[i]).collect();
        if let Ok(m) = map_text("fuzz.conf", &text.join(" "), None) {
            let _ = m.into_config(None);
        }
        let base = super::one_port();
        if let Ok(m) = map_text("fuzz.conf", &text.join(" "), Some(&base)) {
            let _ = m.into_config(Some(&base));
        }
    }
}
