//! The kernel socket an instance speaks VRRP through: a raw IP socket
//! (protocol 112) bound to the port's kernel twin, so adverts leave and
//! arrive through the host path, and die with the process and its twin.
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};
use vrrp::codec::{IPPROTO_VRRP, VRRP_GROUP};

/// Largest advert we read (255 addresses, header, auth): well under this.
pub const RECV_BUF: usize = 2048;

pub struct AdvertSocket {
    sock: Socket,
    /// Where adverts go: the group, or every unicast peer.
    dests: Vec<SockAddr>,
    pub dest_addrs: Vec<Ipv4Addr>,
}

impl AdvertSocket {
    /// A socket on `twin` sending from `src` to the VRRP group (joined on
    /// the twin) or, when `peers` is not empty, to each peer.
    pub fn open(twin: &str, src: Ipv4Addr, peers: &[Ipv4Addr]) -> std::io::Result<AdvertSocket> {
        let sock = Socket::new(
            Domain::IPV4,
            Type::RAW,
            Some(Protocol::from(i32::from(IPPROTO_VRRP))),
        )?;
        sock.bind_device(Some(twin.as_bytes()))?;
        // The advert's source is the instance's primary address.
        sock.bind(&SockAddr::from(SocketAddrV4::new(src, 0)))?;
        // RFC 3768/5798: sent with TTL 255, so receivers can tell an advert
        // from this segment from a routed one.
        sock.set_ttl_v4(255)?;
        sock.set_multicast_ttl_v4(255)?;
        sock.set_multicast_if_v4(&src)?;
        sock.set_multicast_loop_v4(false)?;
        if peers.is_empty() {
            sock.join_multicast_v4_n(&VRRP_GROUP, &InterfaceIndexOrAddress::Address(src))?;
        }
        let dest_addrs = if peers.is_empty() {
            vec![VRRP_GROUP]
        } else {
            peers.to_vec()
        };
        let dests = dest_addrs
            .iter()
            .map(|a| SockAddr::from(SocketAddrV4::new(*a, 0)))
            .collect();
        Ok(AdvertSocket {
            sock,
            dests,
            dest_addrs,
        })
    }

    /// Sends one message to destination `k` (its bytes depend on the
    /// destination through the v3 checksum).
    pub fn send(&self, k: usize, msg: &[u8]) -> std::io::Result<()> {
        let Some(dst) = self.dests.get(k) else {
            return Ok(());
        };
        self.sock.send_to(msg, dst).map(|_| ())
    }

    /// Waits at most `timeout` for a packet (IP header included); `None` when
    /// none came.
    pub fn recv(&self, buf: &mut [u8], timeout: Duration) -> std::io::Result<Option<usize>> {
        self.sock
            .set_read_timeout(Some(timeout.max(Duration::from_micros(100))))?;
        match (&self.sock).read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(None),
            Err(e) => Err(e),
        }
    }
}
