//! Finding the connection a packet belongs to, on the packet clock (ip_vs_in's
//! lookup): an entry whose timeout has passed is gone, whatever progress the
//! timer wheel has made, and a SYN that opens a new connection on the tuple of
//! a closing entry starts a new connection (`conn_reuse_mode` 1, the default).
use conntrack::{ConnId, Dir, Millis, Proto, TcpFlags, Tuple};

use super::{release_conn, Pipeline};
use crate::frame::Frame;

impl<F: Frame> Pipeline<F> {
    /// The live connection of tuple `t` at `now`. An expired entry is released
    /// as the wheel would have released it (at its own deadline).
    #[inline]
    pub(super) fn live_conn(&mut self, t: &Tuple, now: Millis) -> Option<(ConnId, Dir)> {
        let (services, templates) = (&mut self.services, &mut self.templates);
        self.conns
            .lookup_at(t, now, |c| release_conn(services, templates, c, c.expires))
    }

    /// As `live_conn`, and a client's new-connection SYN (no ACK, FIN or RST)
    /// on an entry the kernel would not keep using expires that entry at once,
    /// so the SYN is scheduled anew: a TIME_WAIT or CLOSE entry no persistence
    /// template controls, or (with expire_nodest_conn) one whose real now has
    /// weight 0.
    #[inline]
    pub(super) fn track(&mut self, t: &Tuple, flags: u8, now: Millis) -> Option<(ConnId, Dir)> {
        let (id, dir) = self.live_conn(t, now)?;
        if dir == Dir::Out || !TcpFlags(flags).is_new_conn() || !self.reschedules(id) {
            return Some((id, dir));
        }
        if let Some(c) = self.conns.remove(id) {
            release_conn(&mut self.services, &mut self.templates, &c, now);
            self.stats.conns_reused.add(1);
        }
        None
    }

    fn reschedules(&self, id: ConnId) -> bool {
        let Some(c) = self.conns.get(id).filter(|c| c.proto() == Proto::Tcp) else {
            return false;
        };
        let quiesced = || {
            self.services
                .get(c.service as usize)
                .and_then(Option::as_ref)
                .and_then(|s| s.real(c.dest))
                .is_some_and(|r| r.weight == 0)
        };
        (self.snap.expire_nodest_conn && quiesced()) || c.reuse_expected()
    }
}
