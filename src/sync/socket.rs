//! The sync daemons' UDP sockets on the port's kernel twin: the master's
//! multicasts from the port's first address with the configured TTL; the
//! backup's joins the group on the twin.
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};

pub struct SendSocket {
    sock: Socket,
    dst: SockAddr,
}

impl SendSocket {
    pub fn open(
        twin: &str,
        src: Ipv4Addr,
        group: Ipv4Addr,
        port: u16,
        ttl: u8,
    ) -> std::io::Result<SendSocket> {
        let sock = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        sock.bind_device(Some(twin.as_bytes()))?;
        sock.bind(&SockAddr::from(SocketAddrV4::new(src, 0)))?;
        sock.set_multicast_if_v4(&src)?;
        sock.set_multicast_ttl_v4(u32::from(ttl))?;
        // A director running both daemons must not install its own messages.
        sock.set_multicast_loop_v4(false)?;
        sock.set_nonblocking(true)?;
        Ok(SendSocket {
            sock,
            dst: SockAddr::from(SocketAddrV4::new(group, port)),
        })
    }

    pub fn send(&self, msg: &[u8]) -> std::io::Result<()> {
        self.sock.send_to(msg, &self.dst).map(|_| ())
    }
}

pub struct RecvSocket {
    sock: Socket,
}

impl RecvSocket {
    pub fn open(
        twin: &str,
        local: Ipv4Addr,
        group: Ipv4Addr,
        port: u16,
    ) -> std::io::Result<RecvSocket> {
        let sock = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        sock.set_reuse_address(true)?;
        sock.bind_device(Some(twin.as_bytes()))?;
        // Bound to the group: only sync messages arrive here.
        sock.bind(&SockAddr::from(SocketAddrV4::new(group, port)))?;
        sock.join_multicast_v4_n(&group, &InterfaceIndexOrAddress::Address(local))?;
        sock.set_recv_buffer_size(4 << 20)?;
        sock.set_nonblocking(true)?;
        Ok(RecvSocket { sock })
    }

    /// Waits at most `timeout` (poll(2), a high-resolution timer) for one
    /// message; `None` when none came.
    pub fn recv(&self, buf: &mut [u8], timeout: Duration) -> std::io::Result<Option<usize>> {
        if !crate::readable::wait_readable(&self.sock, timeout)? {
            return Ok(None);
        }
        crate::readable::read_ready(&self.sock, buf)
    }
}
