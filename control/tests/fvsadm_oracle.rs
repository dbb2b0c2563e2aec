//! fvsadm side by side with ipvsadm 1.31 (the reference front end over its
//! kernel stand-in): the same command lines give the same stdout, stderr
//! and exit status.

mod common;

use std::sync::Arc;

use common::oracle::Oracle;
use common::{fvsadm_local, FakeBackend, Output, EMPTY};

/// An ipvsadm and an fvsadm that start empty and get the same commands.
struct Pair {
    oracle: Oracle,
    backend: Arc<FakeBackend>,
}

impl Pair {
    fn new() -> Option<Pair> {
        Some(Pair {
            oracle: Oracle::new()?,
            backend: FakeBackend::new(EMPTY),
        })
    }

    fn both(&self, args: &str, stdin: &str) -> (Output, Output) {
        (
            self.oracle.run(args, stdin),
            fvsadm_local(&self.backend, args, stdin),
        )
    }

    /// Runs `args` on both and asserts the same result; returns it.
    fn same(&self, args: &str) -> Output {
        self.same_in(args, "")
    }

    fn same_in(&self, args: &str, stdin: &str) -> Output {
        let (want, got) = self.both(args, stdin);
        assert_eq!(got, want, "fvsadm {args}");
        got
    }

    /// Runs every line of `script` on both, each with the same result.
    fn script(&self, script: &str) {
        for line in script.lines().filter(|l| !l.trim().is_empty()) {
            self.same(line);
        }
    }
}

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

/// Every order of `items` (Heap's algorithm).
fn permutations(items: &[&'static str]) -> Vec<Vec<&'static str>> {
    fn go(k: usize, v: &mut Vec<&'static str>, out: &mut Vec<Vec<&'static str>>) {
        if k <= 1 {
            out.push(v.clone());
            return;
        }
        for i in 0..k {
            go(k - 1, v, out);
            let j = if k.is_multiple_of(2) { i } else { 0 };
            v.swap(j, k - 1);
        }
    }
    let mut out = Vec::new();
    go(items.len(), &mut items.to_vec(), &mut out);
    out
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
        for real in order.iter().rev() {
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
