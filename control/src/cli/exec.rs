//! Carrying out a parsed command against the daemon.

use std::str::FromStr;

use super::parse::{parse, Command, Parsed, DEFAULT_MCAST_INTERFACE};
use super::{usage, Connector, Exit, Io, Transport, PROGRAM};
use crate::config::Scheduler;
use crate::ipvsadm_fmt::{self as fmt, Format};
use crate::proto::{
    ControlError, DestOpts, PersistOpts, RequestBody, ResponseBody, ServiceList, ServiceOpts,
    SyncDaemonSpec, CONN_PAGE_MAX,
};
use crate::server::ClientError;

/// ipvsadm's status for a refused operation (`return -1`).
const REFUSED: i32 = 255;

/// The daemon connection, opened on first use.
pub(crate) struct Conn<'c, 'a> {
    connect: &'c mut Connector<'a>,
    transport: Option<Box<dyn Transport>>,
}

/// Why a call did not return a result.
enum CallError {
    /// The run ends (no daemon, broken socket).
    Exit(Exit),
    /// The daemon refused the request.
    Refused(ControlError),
}

impl<'c, 'a> Conn<'c, 'a> {
    pub(crate) fn new(connect: &'c mut Connector<'a>) -> Conn<'c, 'a> {
        Conn {
            connect,
            transport: None,
        }
    }

    fn call(&mut self, body: RequestBody) -> Result<ResponseBody, CallError> {
        if self.transport.is_none() {
            let t = (self.connect)().map_err(|e| {
                CallError::Exit(Exit::fail(
                    2,
                    format!(
                        "Can't initialize ipvs: {e}\nAre you sure that the ferrovs daemon is running?"
                    ),
                ))
            })?;
            self.transport = Some(t);
        }
        let Some(t) = self.transport.as_mut() else {
            return Err(CallError::Exit(Exit::fail(REFUSED, "no connection")));
        };
        match t.call(body) {
            Ok(r) => Ok(r),
            Err(ClientError::Control(e)) => Err(CallError::Refused(e)),
            Err(e) => {
                self.transport = None;
                Err(CallError::Exit(Exit::fail(REFUSED, e.to_string())))
            }
        }
    }
}

fn out(io: &mut Io<'_>, text: &str) {
    let _ = io.stdout.write_all(text.as_bytes());
}

fn unexpected(r: &ResponseBody) -> Exit {
    Exit::fail(REFUSED, format!("unexpected answer from the daemon: {r:?}"))
}

/// A call whose refusal prints ipvsadm's message for it (the kernel's
/// errno text; `--reload`, which ipvsadm has not, names the field) and
/// ends with `status`.
fn call_or(
    conn: &mut Conn<'_, '_>,
    io: &mut Io<'_>,
    body: RequestBody,
    status: i32,
) -> Result<Result<ResponseBody, i32>, Exit> {
    let reload = matches!(body, RequestBody::Reload);
    match conn.call(body) {
        Ok(r) => Ok(Ok(r)),
        Err(CallError::Exit(e)) => Err(e),
        Err(CallError::Refused(e)) => {
            let text = if reload {
                e.display()
            } else {
                e.ipvsadm_message().to_string()
            };
            let _ = writeln!(io.stderr, "{text}");
            Ok(Err(status))
        }
    }
}

fn services(conn: &mut Conn<'_, '_>, io: &mut Io<'_>) -> Result<Result<ServiceList, i32>, Exit> {
    Ok(match call_or(conn, io, RequestBody::List, 1)? {
        Ok(ResponseBody::Services(l)) => Ok(l),
        Ok(other) => return Err(unexpected(&other)),
        Err(code) => Err(code),
    })
}

/// `fvsadm` without arguments: the table, names not numeric.
pub(crate) fn list_default(conn: &mut Conn<'_, '_>, io: &mut Io<'_>) -> Result<i32, Exit> {
    Ok(match services(conn, io)? {
        Ok(list) => {
            out(io, &fmt::list_all(&list, &Format::default()));
            0
        }
        Err(code) => code,
    })
}

/// A request whose only answer is `Done`.
fn simple(conn: &mut Conn<'_, '_>, io: &mut Io<'_>, body: RequestBody) -> Result<i32, Exit> {
    Ok(match call_or(conn, io, body, REFUSED)? {
        Ok(ResponseBody::Done) => 0,
        Ok(other) => return Err(unexpected(&other)),
        Err(code) => code,
    })
}

fn service_opts(p: &Parsed) -> Result<ServiceOpts, String> {
    let key = p.service.ok_or("no service")?;
    let scheduler = match &p.scheduler {
        None => None,
        Some(s) => Some(
            Scheduler::from_str(s)
                .map_err(|_| "Scheduler or persistence engine not found".to_string())?,
        ),
    };
    Ok(ServiceOpts {
        key,
        scheduler,
        flags: p.flags.clone(),
        persistence: p.persistent.map(|timeout| PersistOpts {
            timeout,
            netmask: p.netmask,
        }),
        ops: p.ops,
    })
}

fn dest_opts(p: &Parsed) -> Option<DestOpts> {
    let (addr, port) = p.dest?;
    Some(DestOpts {
        service: p.service?,
        addr,
        port,
        forward: p.forward,
        weight: p.weight,
        upper_threshold: p.upper_threshold,
        lower_threshold: p.lower_threshold,
        tun_type: p.tun_type,
        tun_port: p.tun_port,
        tun_flags: p.tun_flags,
    })
}

/// The request of a configuration-changing command (`None` for the
/// others); `Err` carries ipvsadm's message for what the kernel would
/// refuse (an unknown scheduler).
pub fn rule_request(p: &Parsed) -> Result<Option<RequestBody>, String> {
    let missing = |what: &str| format!("missing {what}");
    let service = || p.service.ok_or_else(|| missing("service"));
    Ok(Some(match p.cmd {
        Command::Flush => RequestBody::Clear,
        Command::Add => RequestBody::AddService(service_opts(p)?),
        Command::Edit => RequestBody::EditService(service_opts(p)?),
        Command::Del => RequestBody::DelService(service()?),
        Command::AddDest => {
            RequestBody::AddDest(dest_opts(p).ok_or_else(|| missing("real server"))?)
        }
        Command::EditDest => {
            RequestBody::EditDest(dest_opts(p).ok_or_else(|| missing("real server"))?)
        }
        Command::DelDest => {
            RequestBody::DelDest(dest_opts(p).ok_or_else(|| missing("real server"))?)
        }
        Command::SetTimeouts => {
            let (tcp, tcpfin, udp) = p.timeouts;
            RequestBody::SetTimeouts { tcp, tcpfin, udp }
        }
        Command::AddLaddr | Command::DelLaddr => {
            let service = service()?;
            let addr = p.laddr.ok_or_else(|| missing("local address"))?;
            if p.cmd == Command::AddLaddr {
                RequestBody::AddLocalAddr { service, addr }
            } else {
                RequestBody::DelLocalAddr { service, addr }
            }
        }
        _ => return Ok(None),
    }))
}

/// The request of `--start-daemon` / `--stop-daemon` (`None` for the
/// other commands).
fn daemon_request(p: &Parsed) -> Option<RequestBody> {
    let role = p.sync_role?;
    Some(match p.cmd {
        Command::StartDaemon => RequestBody::StartDaemon(SyncDaemonSpec {
            role,
            interface: p
                .mcast_interface
                .clone()
                .unwrap_or_else(|| DEFAULT_MCAST_INTERFACE.to_string()),
            syncid: p.syncid.unwrap_or(0),
            maxlen: p.sync_maxlen,
            group: p.mcast_group,
            port: p.mcast_port,
            ttl: p.mcast_ttl,
        }),
        Command::StopDaemon => RequestBody::StopDaemon(role),
        _ => return None,
    })
}

/// Runs one parsed command; `Ok(status)` or an early exit.
pub(crate) fn execute(
    p: &Parsed,
    conn: &mut Conn<'_, '_>,
    io: &mut Io<'_>,
    reading_stdin: bool,
) -> Result<i32, Exit> {
    match p.cmd {
        Command::Help => {
            out(io, &usage::usage(PROGRAM));
            Ok(0)
        }
        Command::Version => {
            out(io, &usage::version());
            Ok(0)
        }
        Command::List => list(p, conn, io),
        Command::Save => Ok(match services(conn, io)? {
            Ok(list) => {
                out(io, &fmt::save(&list, p.format.numeric));
                0
            }
            Err(code) => code,
        }),
        Command::Restore => {
            if reading_stdin {
                return Err(Exit::tryhelp());
            }
            restore(conn, io)
        }
        Command::Zero => simple(conn, io, RequestBody::Zero(p.service)),
        Command::Flush
        | Command::Add
        | Command::Edit
        | Command::Del
        | Command::AddDest
        | Command::EditDest
        | Command::DelDest
        | Command::SetTimeouts
        | Command::AddLaddr
        | Command::DelLaddr => match rule_request(p) {
            Ok(Some(body)) => simple(conn, io, body),
            Ok(None) => Err(Exit::fail(2, "not a rule")),
            Err(msg) => {
                let _ = writeln!(io.stderr, "{msg}");
                Ok(REFUSED)
            }
        },
        Command::GetLaddr => Ok(
            match call_or(conn, io, RequestBody::ListLocalAddr(p.service), 1)? {
                Ok(ResponseBody::LocalAddrs(l)) => {
                    out(io, &fmt::local_addrs(&l, &p.format));
                    0
                }
                Ok(other) => return Err(unexpected(&other)),
                Err(code) => code,
            },
        ),
        Command::Reload => simple(conn, io, RequestBody::Reload),
        Command::StartDaemon | Command::StopDaemon => match daemon_request(p) {
            Some(body) => simple(conn, io, body),
            None => Err(Exit::fail(2, "no daemon role")),
        },
    }
}

/// `-L` and its variants.
fn list(p: &Parsed, conn: &mut Conn<'_, '_>, io: &mut Io<'_>) -> Result<i32, Exit> {
    if p.connection() {
        return list_conns(p, conn, io);
    }
    if let Some(key) = p.service {
        return Ok(match services(conn, io)? {
            Ok(list) => match fmt::list_service(&list, &key, &p.format) {
                Some(text) => {
                    out(io, &text);
                    0
                }
                None => {
                    let _ = writeln!(io.stderr, "No such service");
                    1
                }
            },
            Err(code) => code,
        });
    }
    if p.timeout() {
        return Ok(match call_or(conn, io, RequestBody::GetTimeouts, 1)? {
            Ok(ResponseBody::Timeouts(t)) => {
                out(io, &fmt::timeouts(&t));
                0
            }
            Ok(other) => return Err(unexpected(&other)),
            Err(code) => code,
        });
    }
    if p.daemon() {
        return Ok(match call_or(conn, io, RequestBody::ListDaemons, 1)? {
            Ok(ResponseBody::Daemons(list)) => {
                out(io, &fmt::daemons(&list));
                0
            }
            Ok(other) => return Err(unexpected(&other)),
            Err(code) => code,
        });
    }
    if p.vrrp() {
        return Ok(match call_or(conn, io, RequestBody::ListVrrp, 1)? {
            Ok(ResponseBody::Vrrp(entries)) => {
                out(io, &super::vrrp::table(&entries));
                0
            }
            Ok(other) => return Err(unexpected(&other)),
            Err(code) => code,
        });
    }
    if p.health() {
        return Ok(match call_or(conn, io, RequestBody::ListHealth, 1)? {
            Ok(ResponseBody::Health(entries)) => {
                out(io, &super::health::table(&entries));
                0
            }
            Ok(other) => return Err(unexpected(&other)),
            Err(code) => code,
        });
    }
    Ok(match services(conn, io)? {
        Ok(list) => {
            out(io, &fmt::list_all(&list, &p.format));
            0
        }
        Err(code) => code,
    })
}

/// `-L -c`, page by page.
fn list_conns(p: &Parsed, conn: &mut Conn<'_, '_>, io: &mut Io<'_>) -> Result<i32, Exit> {
    let mut offset = 0;
    let mut first = true;
    loop {
        let body = RequestBody::ListConns {
            offset,
            limit: CONN_PAGE_MAX,
        };
        let page = match call_or(conn, io, body, 1)? {
            Ok(ResponseBody::Conns(page)) => page,
            Ok(other) => return Err(unexpected(&other)),
            Err(code) => return Ok(code),
        };
        let mut text = if first {
            fmt::conn_title(&p.format)
        } else {
            String::new()
        };
        first = false;
        for c in &page.entries {
            fmt::conn_line(&mut text, c, &p.format);
        }
        out(io, &text);
        match page.next {
            Some(n) if n > offset => offset = n,
            _ => return Ok(0),
        }
    }
}

/// The words of one `-R` line: `#` starts a comment, a leading
/// `ipvsadm`/`fvsadm` is skipped.
pub fn restore_words(line: &str) -> Vec<String> {
    let line = line.split('#').next().unwrap_or("");
    line.split_whitespace()
        .filter(|w| *w != "ipvsadm" && *w != PROGRAM)
        .map(str::to_string)
        .collect()
}

/// `-R`: every line of stdin as a command; the status is the last line's.
fn restore(conn: &mut Conn<'_, '_>, io: &mut Io<'_>) -> Result<i32, Exit> {
    let mut result = 0;
    let mut line = String::new();
    loop {
        line.clear();
        match io.stdin.read_line(&mut line) {
            Ok(0) => return Ok(result),
            Ok(_) => {}
            Err(e) => return Err(Exit::fail(1, format!("reading rules: {e}"))),
        }
        let words = restore_words(&line);
        if words.is_empty() {
            continue;
        }
        result = match parse(&words) {
            Ok(p) => execute(&p, conn, io, true)?,
            Err(e) if !e.fatal => {
                let _ = io.stderr.write_all(e.message.as_bytes());
                e.code
            }
            Err(e) => return Err(e),
        };
    }
}
