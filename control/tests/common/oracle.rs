//! ipvsadm 1.31 as a measuring instrument: the reference front end over
//! its file-backed kernel stand-in (shared/tools/ipvsadm-oracle, or
//! `$IPVSADM_ORACLE_SRC`), built once per test run. The build reads the
//! connection table from `$FAKEIPVS_CONN` instead of /proc, so `-L -c`
//! can be compared too.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use super::{fvsadm_local, run_process, FakeBackend, Output, EMPTY};

/// Where the oracle's source is looked for.
fn source_dir() -> PathBuf {
    match std::env::var_os("IPVSADM_ORACLE_SRC") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/ipvsadm-oracle"),
    }
}

fn sh(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the oracle into the target directory; `None` (after saying so)
/// when its source is not on this machine.
fn build() -> Option<PathBuf> {
    let src = source_dir();
    if !src.join("ipvsadm_fake.c").is_file() {
        eprintln!(
            "ipvsadm oracle not found at {} (set IPVSADM_ORACLE_SRC); side-by-side checks skipped",
            src.display()
        );
        return None;
    }
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ipvsadm-oracle");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let copy = work.join("src");
    sh(
        Command::new("cp").arg("-r").arg(&src).arg(&copy),
        "copying the oracle source",
    );
    let c = copy.join("ipvsadm_fake.c");
    // Bytes: the source is not all UTF-8.
    let text = std::fs::read(&c).unwrap();
    let from: &[u8] = b"#define CONN_PROC_FILE\t\t\"/dev/null\"";
    let at = text
        .windows(from.len())
        .position(|w| w == from)
        .unwrap_or_else(|| panic!("{}: no CONN_PROC_FILE line", c.display()));
    let mut patched = text[..at].to_vec();
    patched.extend_from_slice(b"#define CONN_PROC_FILE\t\tgetenv(\"FAKEIPVS_CONN\")");
    patched.extend_from_slice(&text[at + from.len()..]);
    std::fs::write(&c, patched).unwrap();
    let bin = work.join("bin");
    sh(
        Command::new("bash").arg(copy.join("build.sh")).arg(&bin),
        "building the ipvsadm oracle",
    );
    Some(bin.join("ipvsadm"))
}

fn binary() -> Option<&'static Path> {
    static BIN: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN.get_or_init(build).as_deref()
}

/// One ipvsadm "kernel": a state file and a connection table of its own.
pub struct Oracle {
    bin: &'static Path,
    dir: tempfile::TempDir,
}

impl Oracle {
    /// `None` when the oracle is not available here.
    pub fn new() -> Option<Oracle> {
        Some(Oracle {
            bin: binary()?,
            dir: tempfile::tempdir().unwrap(),
        })
    }

    /// The `/proc/net/ip_vs_conn` text `-L -c` reads.
    pub fn set_conns(&self, proc_text: &str) {
        std::fs::write(self.dir.path().join("conn"), proc_text).unwrap();
    }

    /// Runs `ipvsadm ARGS` (named `fvsadm` in its messages).
    pub fn run(&self, args: &str, stdin: &str) -> Output {
        use std::os::unix::process::CommandExt;
        let conn = self.dir.path().join("conn");
        if !conn.exists() {
            self.set_conns(
                "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n",
            );
        }
        run_process(
            Command::new(self.bin)
                .arg0("fvsadm")
                .args(args.split_whitespace())
                .env("FAKEIPVS_STATE", self.dir.path().join("state"))
                .env("FAKEIPVS_CONN", conn),
            stdin,
        )
    }
}

/// An ipvsadm and an fvsadm that start empty and get the same commands.
pub struct Pair {
    pub oracle: Oracle,
    pub backend: Arc<FakeBackend>,
}

impl Pair {
    pub fn new() -> Option<Pair> {
        Some(Pair {
            oracle: Oracle::new()?,
            backend: FakeBackend::new(EMPTY),
        })
    }

    pub fn both(&self, args: &str, stdin: &str) -> (Output, Output) {
        (
            self.oracle.run(args, stdin),
            fvsadm_local(&self.backend, args, stdin),
        )
    }

    /// Runs `args` on both and asserts the same result; returns it.
    pub fn same(&self, args: &str) -> Output {
        self.same_in(args, "")
    }

    pub fn same_in(&self, args: &str, stdin: &str) -> Output {
        let (want, got) = self.both(args, stdin);
        assert_eq!(got, want, "fvsadm {args}");
        got
    }

    /// Runs every line of `script` on both, each with the same result.
    pub fn script(&self, script: &str) {
        for line in script.lines().filter(|l| !l.trim().is_empty()) {
            self.same(line);
        }
    }
}

/// Every order of `items` (Heap's algorithm).
pub fn permutations(items: &[&'static str]) -> Vec<Vec<&'static str>> {
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
