//! One ferrovs per interface, PCI function or memif socket: before any
//! device is opened, `ferrovs run` takes an exclusive `flock` on one file per
//! resource its ports use (`/run/ferrovs/lock/iface-net4026531840-lb0.lock`),
//! with its pid written inside. A second ferrovs whose ports use one of them
//! is refused, naming the port and the holder's pid. The kernel drops the
//! locks when the process ends, however it ends.
//!
//! Interfaces are per network namespace, so their lock names carry the
//! namespace's inode: `lb0` in two namespaces is two interfaces.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use control::config::{device_resources, DeviceResource, Port};
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// Where the lock files live.
pub const LOCK_DIR: &str = "/run/ferrovs/lock";

/// The held locks; dropping them (or exiting) releases them.
#[derive(Debug)]
pub struct PortLocks {
    held: Vec<(PathBuf, Flock<File>)>,
}

impl PortLocks {
    /// The lock files held, in port order.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.held.iter().map(|(p, _)| p.as_path())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "ports[{port}].device: {resource} is in use by another ferrovs (pid {}; lock {})",
        holder.map_or("unknown".to_string(), |p| p.to_string()),
        path.display()
    )]
    InUse {
        port: usize,
        resource: DeviceResource,
        holder: Option<u32>,
        path: PathBuf,
    },
    #[error("ports[{port}].device: locking {}: {source}", path.display())]
    Io {
        port: usize,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Takes the lock of every resource the ports use, in `dir`; `netns` tags
/// interface locks (see `current_netns`).
pub fn lock_ports(dir: &Path, netns: &str, ports: &[Port]) -> Result<PortLocks, LockError> {
    let mut held: Vec<(PathBuf, Flock<File>)> = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        for r in device_resources(&p.device) {
            let path = dir.join(lock_file_name(&r, netns));
            if held.iter().any(|(h, _)| *h == path) {
                continue;
            }
            let lock = lock_one(&path).map_err(|e| match e {
                Held(holder) => LockError::InUse {
                    port: i,
                    resource: r.clone(),
                    holder,
                    path: path.clone(),
                },
                Failed(source) => LockError::Io {
                    port: i,
                    path: path.clone(),
                    source,
                },
            })?;
            held.push((path, lock));
        }
    }
    Ok(PortLocks { held })
}

/// The network namespace this process runs in (`net4026531840`), or `net`
/// where /proc does not say.
pub fn current_netns() -> String {
    std::fs::read_link("/proc/self/ns/net")
        .ok()
        .and_then(|l| {
            let l = l.to_string_lossy().into_owned();
            let inode = l.strip_prefix("net:[")?.strip_suffix(']')?.to_string();
            Some(format!("net{inode}"))
        })
        .unwrap_or_else(|| "net".to_string())
}

/// `iface-net4026531840-lb0.lock`, `pci-0000%3A01%3A00.0.lock`: bytes other
/// than `[A-Za-z0-9._-]` escaped, so distinct names never share a file.
pub fn lock_file_name(r: &DeviceResource, netns: &str) -> String {
    let name: String = r
        .name()
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    match r {
        DeviceResource::Iface(_) => format!("{}-{netns}-{name}.lock", r.kind()),
        _ => format!("{}-{name}.lock", r.kind()),
    }
}

enum Failure {
    /// Another process holds it (its pid, if it wrote one).
    Held(Option<u32>),
    Failed(std::io::Error),
}
use Failure::{Failed, Held};

fn lock_one(path: &Path) -> Result<Flock<File>, Failure> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(Failed)?;
    }
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(Failed)?;
    let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(l) => l,
        Err((mut file, Errno::EWOULDBLOCK)) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(Held(text.trim().parse().ok()));
        }
        Err((_, e)) => return Err(Failed(e.into())),
    };
    lock.set_len(0).map_err(Failed)?;
    lock.rewind().map_err(Failed)?;
    writeln!(lock, "{}", std::process::id()).map_err(Failed)?;
    lock.flush().map_err(Failed)?;
    Ok(lock)
}
