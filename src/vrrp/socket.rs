//! The kernel socket an instance speaks VRRP through: a raw IP socket
//! (protocol 112) bound to the port's kernel twin, so adverts leave and
//! arrive through the host path, and die with the process and its twin.
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};
use vrrp::codec::{ipv4_packet, IPPROTO_VRRP, VRRP_GROUP, VRRP_TTL};

/// Largest advert we read (255 addresses, header, auth): well under this.
pub const RECV_BUF: usize = 2048;

pub struct AdvertSocket {
    sock: Socket,
    src: Ipv4Addr,
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
        // Reads follow poll(2) and must never wait on their own.
        sock.set_nonblocking(true)?;
        // Not bound to an address: a raw socket bound to one only receives
        // packets sent *to* it, and adverts go to the group. The source is
        // set in the IP header we write instead (keepalived's way too).
        sock.set_header_included_v4(true)?;
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
            src,
            dests,
            dest_addrs,
        })
    }

    /// Sends one VRRP message to destination `k` (its bytes depend on the
    /// destination through the v3 checksum), from the primary address with
    /// TTL 255 as RFC 3768/5798 require (receivers check the TTL).
    pub fn send(&self, k: usize, msg: &[u8]) -> std::io::Result<()> {
        let (Some(dst), Some(addr)) = (self.dests.get(k), self.dest_addrs.get(k)) else {
            return Ok(());
        };
        let packet = ipv4_packet(self.src, *addr, VRRP_TTL, msg);
        self.sock.send_to(&packet, dst).map(|_| ())
    }

    /// Waits at most `timeout` for a packet (IP header included); `None` when
    /// none came. poll(2) sleeps on a high-resolution timer: a socket
    /// receive timeout would be rounded up to the kernel's tick (4 ms here)
    /// and every advert would leave that much late.
    pub fn recv(&self, buf: &mut [u8], timeout: Duration) -> std::io::Result<Option<usize>> {
        if !crate::readable::wait_readable(&self.sock, timeout)? {
            return Ok(None);
        }
        crate::readable::read_ready(&self.sock, buf)
    }
}
