//! The client side of the control socket.

use std::io;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::proto::{
    read_message, write_message, ControlError, FrameError, Request, RequestBody, Response,
    ResponseBody, PROTO_VERSION,
};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{path}: {source}")]
    Connect {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("control socket: {0}")]
    Frame(#[from] FrameError),
    #[error("the daemon speaks protocol version {0} (fvsadm speaks {PROTO_VERSION})")]
    Version(u32),
    /// The daemon refused the request.
    #[error("{0}")]
    Control(#[from] ControlError),
}

/// A connection to the daemon's control socket.
pub struct Client {
    stream: UnixStream,
}

/// How long a call may wait for its answer (an apply waits for every
/// worker).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);

impl Client {
    pub fn connect(path: &Path) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.to_path_buf(),
            source,
        })?;
        let _ = stream.set_read_timeout(Some(CALL_TIMEOUT));
        let _ = stream.set_write_timeout(Some(CALL_TIMEOUT));
        Ok(Client { stream })
    }

    /// Sends one request and waits for its response.
    pub fn call(&mut self, body: RequestBody) -> Result<ResponseBody, ClientError> {
        write_message(&mut self.stream, &Request::new(body))?;
        let resp: Response = read_message(&mut self.stream)?;
        if resp.version != PROTO_VERSION {
            return Err(ClientError::Version(resp.version));
        }
        Ok(resp.result?)
    }
}
