//! The control-socket server: a Unix stream socket speaking `proto`, one
//! thread per client (bounded), generic over the daemon's `Backend`.

mod client;
mod session;

use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::config::{Config, SyncRole};
use crate::proto::{
    read_frame, write_message, ConnEntry, ControlError, Counters, ErrorKind, FrameError,
    HealthEntry, Response, ServiceKey, SyncDaemonSpec, SyncDaemonStatus, MAX_FRAME,
};

pub use client::{Client, ClientError};
pub use session::Session;

/// What the daemon provides to the control server.
pub trait Backend: Send + Sync + 'static {
    /// Apply a new full configuration (validated by the caller); returns
    /// when every worker runs it.
    fn apply(&self, new: Config) -> Result<(), ControlError>;
    /// The configuration as the operator gave it (edits start from it).
    fn config(&self) -> Config;
    /// What the workers run: `config` with the health checks' verdicts
    /// applied (failed reals removed or at weight 0, sorry servers). Listings
    /// show it, as ipvsadm shows the kernel's table under keepalived.
    fn running(&self) -> Config {
        self.config()
    }
    /// Every health check's state (`fvsadm -L --health`).
    fn health(&self) -> Vec<HealthEntry> {
        Vec::new()
    }
    /// Every VRRP instance's state (`-L --vrrp`).
    fn vrrp(&self) -> Vec<crate::proto::VrrpEntry> {
        Vec::new()
    }
    /// Per service and per real counters, summed over the cores.
    fn counters(&self) -> Counters;
    /// A snapshot of the connection table.
    fn connections(&self) -> Vec<ConnEntry>;
    /// Re-read the YAML file and apply it.
    fn reload(&self) -> Result<(), ControlError>;
    /// Zero the counters of one service, or of all.
    fn zero(&self, service: Option<ServiceKey>);
    /// `--start-daemon`: start the connection-sync daemon of `spec.role`
    /// (`SyncDaemonSpec::status` gives the kernel's defaults and clamps).
    /// Refusals as the kernel's: `ErrorKind::DaemonRunning` when that
    /// role's daemon runs, `ErrorKind::NoDevice` for an interface that is
    /// no port with a kernel twin. Default: sync is not available
    /// (`ControlError::sync_unavailable`, ipvsadm's "Protocol not
    /// available").
    fn start_daemon(&self, spec: SyncDaemonSpec) -> Result<(), ControlError> {
        let _ = spec;
        Err(ControlError::sync_unavailable())
    }
    /// `--stop-daemon`: stop the daemon of `role`; `ErrorKind::NoDaemon`
    /// when it does not run. Default: sync is not available.
    fn stop_daemon(&self, role: SyncRole) -> Result<(), ControlError> {
        let _ = role;
        Err(ControlError::sync_unavailable())
    }
    /// `-L --daemon`: the running sync daemons (fvsadm lists the master's
    /// first). Default: none.
    fn daemons(&self) -> Vec<SyncDaemonStatus> {
        Vec::new()
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: another server is listening on this socket")]
    InUse { path: PathBuf },
    #[error("unknown group {0:?}")]
    UnknownGroup(String),
}

/// Limits of the server.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Clients served at once; more are answered `Busy` and closed.
    pub max_clients: usize,
    /// An idle client (or one stuck inside a frame) is closed after this.
    pub read_timeout: Duration,
    /// Largest request frame.
    pub max_frame: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_clients: 64,
            read_timeout: Duration::from_secs(30),
            max_frame: MAX_FRAME,
        }
    }
}

/// Request counters of the server (exported as metrics).
#[derive(Debug, Default)]
pub struct ServerStats {
    /// Requests answered with a result.
    pub served: AtomicU64,
    /// Requests answered with an error, and clients turned away.
    pub refused: AtomicU64,
    /// Clients connected now.
    pub clients: AtomicUsize,
}

/// A bound control socket, ready to `serve`.
pub struct Server {
    listener: UnixListener,
    path: PathBuf,
    options: ServerOptions,
    stats: Arc<ServerStats>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ServerError + '_ {
    move |source| ServerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Server {
    /// Binds `path` with permissions `mode` (e.g. 0o600, or 0o660 with a
    /// group). The parent directory is created; a stale socket (nobody
    /// listening) is replaced.
    pub fn bind(path: &Path, mode: u32, group: Option<&str>) -> Result<Server, ServerError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        }
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if meta.file_type().is_socket() {
                if UnixStream::connect(path).is_ok() {
                    return Err(ServerError::InUse {
                        path: path.to_path_buf(),
                    });
                }
                std::fs::remove_file(path).map_err(io_err(path))?;
            }
        }
        let gid = match group {
            None => None,
            Some(name) => Some(
                nix::unistd::Group::from_name(name)
                    .ok()
                    .flatten()
                    .ok_or_else(|| ServerError::UnknownGroup(name.to_string()))?
                    .gid
                    .as_raw(),
            ),
        };
        let listener = UnixListener::bind(path).map_err(io_err(path))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(io_err(path))?;
        if gid.is_some() {
            std::os::unix::fs::chown(path, None, gid).map_err(io_err(path))?;
        }
        Ok(Server {
            listener,
            path: path.to_path_buf(),
            options: ServerOptions::default(),
            stats: Arc::new(ServerStats::default()),
        })
    }

    pub fn with_options(mut self, options: ServerOptions) -> Server {
        self.options = options;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The request counters (shared with the running server).
    pub fn stats(&self) -> Arc<ServerStats> {
        Arc::clone(&self.stats)
    }

    /// Serves clients until `stop` is set; then closes every client,
    /// joins their threads and removes the socket file.
    pub fn serve<B: Backend>(
        self,
        backend: Arc<B>,
        stop: Arc<AtomicBool>,
    ) -> Result<(), ServerError> {
        self.listener
            .set_nonblocking(true)
            .map_err(io_err(&self.path))?;
        let shared = Arc::new(session::Shared {
            backend,
            write_lock: Mutex::new(()),
        });
        let mut clients: Vec<(JoinHandle<()>, Option<UnixStream>)> = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    clients.retain(|(h, _)| !h.is_finished());
                    if let Some(c) = self.start_client(stream, &shared) {
                        clients.push(c);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::warn!("control socket accept: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        for (_, s) in &clients {
            if let Some(s) = s {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
        for (h, _) in clients {
            let _ = h.join();
        }
        let _ = std::fs::remove_file(&self.path);
        Ok(())
    }

    /// Starts the thread of a new client, or turns it away when the server
    /// is full.
    fn start_client<B: Backend>(
        &self,
        mut stream: UnixStream,
        shared: &Arc<session::Shared<B>>,
    ) -> Option<(JoinHandle<()>, Option<UnixStream>)> {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(self.options.read_timeout));
        let _ = stream.set_write_timeout(Some(self.options.read_timeout));
        let stats = Arc::clone(&self.stats);
        if stats.clients.fetch_add(1, Ordering::SeqCst) >= self.options.max_clients {
            stats.clients.fetch_sub(1, Ordering::SeqCst);
            stats.refused.fetch_add(1, Ordering::Relaxed);
            let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
            let _ = write_message(
                &mut stream,
                &Response::err(ControlError::new(
                    ErrorKind::Busy,
                    format!(
                        "Too many clients (at most {}); try again",
                        self.options.max_clients
                    ),
                )),
            );
            return None;
        }
        let guard = ClientGuard(Arc::clone(&stats));
        let handle = stream.try_clone().ok();
        let shared = Arc::clone(shared);
        let max_frame = self.options.max_frame;
        let spawned = std::thread::Builder::new()
            .name("ferrovs-ctl".into())
            .spawn(move || {
                let _guard = guard;
                client_loop(stream, Session::new(shared), &stats, max_frame);
            });
        match spawned {
            Ok(h) => Some((h, handle)),
            Err(e) => {
                tracing::warn!("control client thread: {e}");
                None
            }
        }
    }
}

/// Decrements the client count when a client thread ends (even by panic).
struct ClientGuard(Arc<ServerStats>);

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Reads requests and writes responses until the client leaves, idles
/// too long, or sends something that cannot be framed.
fn client_loop<B: Backend>(
    mut stream: UnixStream,
    mut session: Session<B>,
    stats: &ServerStats,
    max_frame: usize,
) {
    loop {
        let (response, keep) = match read_frame(&mut stream, max_frame) {
            Ok(body) => (session.handle_bytes(&body), true),
            Err(FrameError::TooLarge { len, max }) => (
                Response::err(ControlError::new(
                    ErrorKind::BadRequest,
                    format!("request frame of {len} bytes exceeds the limit of {max}"),
                )),
                false,
            ),
            Err(_) => return,
        };
        let counter = if response.result.is_ok() {
            &stats.served
        } else {
            &stats.refused
        };
        counter.fetch_add(1, Ordering::Relaxed);
        match write_message(&mut stream, &response) {
            Ok(()) => {}
            Err(FrameError::TooLarge { len, max }) => {
                let e = ControlError::internal(format!(
                    "response of {len} bytes exceeds the frame limit of {max}"
                ));
                if write_message(&mut stream, &Response::err(e)).is_err() {
                    return;
                }
            }
            Err(_) => return,
        }
        if !keep {
            return;
        }
    }
}
