//! `TCP_CHECK`, and the connect that `HTTP_GET` / `SSL_GET` share with it.
//!
//! keepalived (`tcp_connect_thread`, `tcp_check_thread`, core/layer4.c
//! `socket_bind_connect`): a non-blocking socket, optionally bound to `bindto`/`bind_port`
//! (no `SO_REUSEADDR`), connected within `connect_timeout`; success closes the socket at once.
//! A failure to make or bind the socket, or a connect error outside the list below, is not a
//! check failure: keepalived logs "bind failed. Rescheduling." and tries again after
//! `delay_loop`. That is [`Outcome::NotRun`] here.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use nix::errno::Errno;
use tokio::net::{TcpSocket, TcpStream};

use crate::{describe_io, Human, Outcome, Target};

/// Why a connect did not give a stream.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectError {
    #[error("socket for {addr}: {}", describe_io(.source))]
    Socket { addr: SocketAddr, source: io::Error },
    #[error("bind {bind}: {}", describe_io(.source))]
    Bind { bind: SocketAddr, source: io::Error },
    /// An error keepalived counts as the server failing.
    #[error("connect {addr}: {}", describe_io(.source))]
    Failed { addr: SocketAddr, source: io::Error },
    /// Any other connect error (EADDRNOTAVAIL, EPERM, ...): a local problem.
    #[error("connect {addr}: {}", describe_io(.source))]
    Local { addr: SocketAddr, source: io::Error },
    #[error("connect {addr}: timed out after {}", Human(*.after))]
    Timeout { addr: SocketAddr, after: Duration },
}

impl ConnectError {
    /// True when keepalived counts this as the server failing (Down), false when it is a
    /// local problem it only logs and reschedules (NotRun).
    pub(crate) fn is_server_failure(&self) -> bool {
        matches!(
            self,
            ConnectError::Failed { .. } | ConnectError::Timeout { .. }
        )
    }

    /// The outcome keepalived gives this error.
    pub(crate) fn outcome(&self) -> Outcome {
        if self.is_server_failure() {
            Outcome::down(self)
        } else {
            Outcome::not_run(self)
        }
    }
}

/// The errno values `socket_bind_connect` treats as "failure to connect" rather than a
/// failure to run the check. Errors reported later through `SO_ERROR` are all failures
/// there; in practice those are among these too.
pub(crate) fn is_failure_errno(e: &io::Error) -> bool {
    const FAILURES: [Errno; 8] = [
        Errno::ENETUNREACH,
        Errno::EHOSTUNREACH,
        Errno::ECONNREFUSED,
        Errno::EHOSTDOWN,
        Errno::ENETDOWN,
        Errno::ECONNRESET,
        Errno::ECONNABORTED,
        Errno::ETIMEDOUT,
    ];
    match e.raw_os_error() {
        Some(code) => FAILURES.iter().any(|f| *f as i32 == code),
        // Not from the kernel: tokio's own error after a failed connect; count it against
        // the server, as keepalived does for anything after the connect started.
        None => true,
    }
}

/// Connects to `target.connect`, bound to `target.bind` when set, within `target.timeout`.
pub(crate) async fn connect(target: &Target) -> Result<TcpStream, ConnectError> {
    let addr = target.connect;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|source| ConnectError::Socket { addr, source })?;
    if let Some(bind) = target.bind {
        socket
            .bind(bind)
            .map_err(|source| ConnectError::Bind { bind, source })?;
    }
    match tokio::time::timeout(target.timeout, socket.connect(addr)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(source)) if is_failure_errno(&source) => Err(ConnectError::Failed { addr, source }),
        Ok(Err(source)) => Err(ConnectError::Local { addr, source }),
        Err(_) => Err(ConnectError::Timeout {
            addr,
            after: target.timeout,
        }),
    }
}

/// `TCP_CHECK`: up when the connect completes; the connection is closed straight away.
pub(crate) async fn probe(target: &Target) -> Outcome {
    match connect(target).await {
        Ok(stream) => {
            drop(stream);
            Outcome::Up { weight: None }
        }
        Err(e) => e.outcome(),
    }
}
