//! ipvsadm's listing order, exactly: libipvs's `ipvs_cmp_services` and
//! `ipvs_cmp_dests` handed to glibc's `qsort`.
//!
//! The comparators subtract 32-bit addresses into an `int`, so two
//! addresses 2^31 or more apart compare the wrong way round (200.0.0.1
//! sorts before 10.0.0.1) and the order is not transitive: the result then
//! depends on the input order and on the algorithm. glibc's `qsort` is a
//! top-down merge sort (`msort_with_tmp`), reproduced here step for step;
//! the input order is the kernel's (services as added, reals newest
//! first).

use std::net::Ipv4Addr;

use crate::proto::ServiceKey;

/// `(int)(a - b)` of two unsigned 32-bit values, as C computes it.
fn int_diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// `ipvs_cmp_services`: the firewall mark first (0 for an address
/// service; subtracted as unsigned into an `int`, so a mark above
/// 2^31 sorts before the address services), then (the address family
/// being AF_INET for every ferrovs service) protocol, address and port.
pub fn cmp_services(a: &ServiceKey, b: &ServiceKey) -> i32 {
    let r = int_diff(a.fwmark, b.fwmark);
    if r != 0 {
        return r;
    }
    let r = i32::from(a.protocol.ip_proto()) - i32::from(b.protocol.ip_proto());
    if r != 0 {
        return r;
    }
    let r = int_diff(u32::from(a.vip), u32::from(b.vip));
    if r != 0 {
        return r;
    }
    i32::from(a.port) - i32::from(b.port)
}

/// `ipvs_cmp_dests`: address, then port.
pub fn cmp_dests(a: (Ipv4Addr, u16), b: (Ipv4Addr, u16)) -> i32 {
    let r = int_diff(u32::from(a.0), u32::from(b.0));
    if r != 0 {
        return r;
    }
    i32::from(a.1) - i32::from(b.1)
}

/// glibc's `qsort` (`msort_with_tmp`): sort each half, then merge, taking
/// from the left half while `cmp(left, right) <= 0`.
pub fn qsort<T: Clone>(v: &mut [T], cmp: &impl Fn(&T, &T) -> i32) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    qsort(&mut v[..n1], cmp);
    qsort(&mut v[n1..], cmp);
    let mut merged = Vec::with_capacity(n);
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(&v[i], &v[j]) <= 0 {
            merged.push(v[i].clone());
            i += 1;
        } else {
            merged.push(v[j].clone());
            j += 1;
        }
    }
    merged.extend_from_slice(&v[i..n1]);
    merged.extend_from_slice(&v[j..]);
    v.clone_from_slice(&merged);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Protocol;

    fn key(p: Protocol, vip: &str, port: u16) -> ServiceKey {
        ServiceKey::addr(p, vip.parse().unwrap(), port)
    }

    #[test]
    fn addresses_far_apart_compare_as_c_does() {
        let a = key(Protocol::Tcp, "10.0.0.1", 80);
        let b = key(Protocol::Tcp, "100.0.0.1", 80);
        let c = key(Protocol::Tcp, "200.0.0.1", 80);
        assert!(cmp_services(&a, &b) < 0);
        assert!(cmp_services(&b, &c) < 0);
        // 10.0.0.1 - 200.0.0.1 wraps to a positive int.
        assert!(cmp_services(&a, &c) > 0);
        assert!(cmp_services(&key(Protocol::Udp, "1.0.0.0", 1), &c) > 0);
        assert_eq!(cmp_services(&a, &a), 0);
        let d = |s: &str, p| (s.parse().unwrap(), p);
        assert!(cmp_dests(d("10.0.0.1", 9), d("10.0.0.1", 10)) < 0);
        assert!(cmp_dests(d("1.0.0.1", 1), d("192.0.0.1", 1)) > 0);
    }

    #[test]
    fn merge_sort_is_glibcs() {
        // A total order: the ordinary sorted result, stably.
        let mut v = vec![(5, 'a'), (1, 'b'), (5, 'c'), (0, 'd'), (1, 'e')];
        qsort(&mut v, &|a: &(i32, char), b: &(i32, char)| a.0 - b.0);
        assert_eq!(v, [(0, 'd'), (1, 'b'), (1, 'e'), (5, 'a'), (5, 'c')]);
        // The cycle 10 < 100 < 200 < 10: the result follows the input order
        // as glibc's msort does (checked against ipvsadm in
        // tests/fvsadm_oracle.rs).
        let ips = |v: &[&str]| -> Vec<u32> {
            v.iter()
                .map(|s| u32::from(s.parse::<Ipv4Addr>().unwrap()))
                .collect()
        };
        let c = |a: &u32, b: &u32| int_diff(*a, *b);
        let mut v = ips(&["200.0.0.1", "10.0.0.1", "100.0.0.1"]);
        qsort(&mut v, &c);
        assert_eq!(v, ips(&["200.0.0.1", "10.0.0.1", "100.0.0.1"]));
        let mut v = ips(&["10.0.0.1", "100.0.0.1", "200.0.0.1"]);
        qsort(&mut v, &c);
        assert_eq!(v, ips(&["10.0.0.1", "100.0.0.1", "200.0.0.1"]));
        // [100] merged with the sorted [200, 10]: 100 < 200 comes first.
        let mut v = ips(&["100.0.0.1", "200.0.0.1", "10.0.0.1"]);
        qsort(&mut v, &c);
        assert_eq!(v, ips(&["100.0.0.1", "200.0.0.1", "10.0.0.1"]));
    }
}
