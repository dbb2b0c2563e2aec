//! One client's session: turns requests into backend calls.

use std::sync::{Arc, Mutex};

use serde::Deserialize;

use super::Backend;
use crate::config::Config;
use crate::proto::{
    ConnEntry, ConnPage, ControlError, ErrorKind, LocalAddrEntry, Request, RequestBody, Response,
    ResponseBody, ServiceKey, ServiceList, CONN_PAGE_MAX, PROTO_VERSION,
};
use crate::rules;

/// State shared by every session of a server.
pub(crate) struct Shared<B> {
    pub(crate) backend: Arc<B>,
    /// Serializes read-modify-apply of the configuration.
    pub(crate) write_lock: Mutex<()>,
}

/// A client's session. Also usable in-process (tests, fvsadm against a
/// backend without a socket) through `Session::standalone`.
pub struct Session<B> {
    shared: Arc<Shared<B>>,
    /// The connection snapshot that `ListConns` pages read.
    conns: Option<Vec<ConnEntry>>,
}

#[derive(Deserialize)]
struct VersionOnly {
    version: u32,
}

impl<B: Backend> Session<B> {
    pub(crate) fn new(shared: Arc<Shared<B>>) -> Session<B> {
        Session {
            shared,
            conns: None,
        }
    }

    /// A session of its own (no server) on `backend`.
    pub fn standalone(backend: Arc<B>) -> Session<B> {
        Session::new(Arc::new(Shared {
            backend,
            write_lock: Mutex::new(()),
        }))
    }

    /// Answers one request frame body.
    pub fn handle_bytes(&mut self, body: &[u8]) -> Response {
        let version = match serde_json::from_slice::<VersionOnly>(body) {
            Ok(v) => v.version,
            Err(e) => return bad_request(e),
        };
        if version != PROTO_VERSION {
            return Response::err(ControlError::new(
                ErrorKind::Version,
                format!("protocol version {version} is not supported (this daemon speaks {PROTO_VERSION})"),
            ));
        }
        match serde_json::from_slice::<Request>(body) {
            Ok(req) => self.handle(req),
            Err(e) => bad_request(e),
        }
    }

    /// Answers one request.
    pub fn handle(&mut self, req: Request) -> Response {
        if req.version != PROTO_VERSION {
            return Response::err(ControlError::of(ErrorKind::Version));
        }
        match self.handle_body(req.body) {
            Ok(b) => Response::ok(b),
            Err(e) => Response::err(e),
        }
    }

    /// Carries out a request; a refused change is logged with the field
    /// it names (fvsadm prints only ipvsadm's text for it).
    pub fn handle_body(&mut self, body: RequestBody) -> Result<ResponseBody, ControlError> {
        let write = body.is_write().then(|| format!("{body:?}"));
        let result = self.carry_out(body);
        if let (Some(request), Err(e)) = (&write, &result) {
            tracing::warn!(request = %request, error = %e, "control request refused");
        }
        result
    }

    fn carry_out(&mut self, body: RequestBody) -> Result<ResponseBody, ControlError> {
        let backend = &self.shared.backend;
        if body.is_write() {
            let _lock = self
                .shared
                .write_lock
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let cfg = backend.config();
            if let Some(new) = rules::apply(&cfg, &body)? {
                backend.apply(new)?;
                return Ok(ResponseBody::Done);
            }
            return match body {
                RequestBody::Zero(key) => {
                    if let Some(k) = &key {
                        find(&cfg, k)?;
                    }
                    backend.zero(key);
                    Ok(ResponseBody::Done)
                }
                RequestBody::Reload => backend.reload().map(|()| ResponseBody::Done),
                RequestBody::StartDaemon(spec) => {
                    backend.start_daemon(spec).map(|()| ResponseBody::Done)
                }
                RequestBody::StopDaemon(role) => {
                    backend.stop_daemon(role).map(|()| ResponseBody::Done)
                }
                other => Err(ControlError::internal(format!(
                    "unhandled request {other:?}"
                ))),
            };
        }
        match body {
            RequestBody::List => Ok(ResponseBody::Services(ServiceList::build(
                &backend.running(),
                &backend.counters(),
            ))),
            RequestBody::ListConns { offset, limit } => {
                if offset == 0 || self.conns.is_none() {
                    self.conns = Some(backend.connections());
                }
                let all = self.conns.as_deref().unwrap_or_default();
                let start = usize::try_from(offset).unwrap_or(usize::MAX).min(all.len());
                let n = limit.clamp(1, CONN_PAGE_MAX) as usize;
                let end = start.saturating_add(n).min(all.len());
                let entries = all[start..end].to_vec();
                let next = (end < all.len()).then_some(end as u64);
                if next.is_none() {
                    self.conns = None;
                }
                Ok(ResponseBody::Conns(ConnPage { entries, next }))
            }
            RequestBody::GetTimeouts => Ok(ResponseBody::Timeouts(backend.config().timeouts)),
            RequestBody::ListLocalAddr(key) => {
                let cfg = backend.config();
                let entries = match key {
                    Some(k) => {
                        let i = find(&cfg, &k)?;
                        vec![LocalAddrEntry {
                            service: k,
                            addrs: cfg.services[i].local_addresses.clone(),
                        }]
                    }
                    None => cfg
                        .services
                        .iter()
                        .filter(|s| !s.local_addresses.is_empty())
                        .map(|s| LocalAddrEntry {
                            service: crate::rules::key_of(s),
                            addrs: s.local_addresses.clone(),
                        })
                        .collect(),
                };
                Ok(ResponseBody::LocalAddrs(entries))
            }
            RequestBody::GetConfig => Ok(ResponseBody::Config(Box::new(backend.config()))),
            RequestBody::ListHealth => Ok(ResponseBody::Health(backend.health())),
            RequestBody::ListVrrp => Ok(ResponseBody::Vrrp(backend.vrrp())),
            RequestBody::ListDaemons => Ok(ResponseBody::Daemons(backend.daemons())),
            other => Err(ControlError::internal(format!(
                "unhandled request {other:?}"
            ))),
        }
    }
}

fn find(cfg: &Config, key: &ServiceKey) -> Result<usize, ControlError> {
    rules::find_service(cfg, key).ok_or_else(|| ControlError::of(ErrorKind::NoService))
}

fn bad_request(e: serde_json::Error) -> Response {
    Response::err(ControlError::new(
        ErrorKind::BadRequest,
        format!("malformed request: {e}"),
    ))
}
