//! What a valid advertisement does to a BACKUP or a MASTER (RFC 9568 6.4.2 /
//! 6.4.3, with keepalived 2.2.7's `vrrp_state_backup` / `vrrp_state_master_rx`
//! choices where the RFC leaves room).

use crate::codec::Received;
use crate::timers;
use crate::{Action, Instance, Millis, Version};

impl Instance {
    pub(crate) fn backup_rx(&mut self, now: Millis, rx: &Received) {
        let theirs = rx.advert.priority;
        let ours = self.cfg.priority;
        if theirs == 0 {
            // The master is stopping: take over after the skew only, so the
            // highest-priority backup (smallest skew) wins the race.
            self.timers.master_down = Some(timers::after_us(now, self.skew_us()));
            return;
        }
        let lower = theirs < ours;
        if !self.cfg.preempt || !lower || self.preempt_held(now) {
            // Accept this master: learn its interval (v3), restart the wait.
            if self.cfg.version == Version::V3 {
                self.master_adver_int_cs = rx.advert.interval_cs;
            }
            self.timers.master_down = Some(timers::after_us(now, self.master_down_us()));
            self.master_addr = Some(rx.src);
            if self.cfg.preempt && self.cfg.preempt_delay_ms > 0 {
                if !lower {
                    // A master at least as good as us: nothing to preempt, so
                    // the next lower master starts a fresh delay (keepalived).
                    self.preempt_hold = None;
                } else if self.preempt_hold.is_none() {
                    self.preempt_hold = Some(now.saturating_add(self.cfg.preempt_delay_ms));
                }
            }
        } else {
            // Lower master and we may preempt: ignore the advert so that the
            // master-down timer, left running, fires and we take over. It is
            // still the master the network sees until then.
            self.master_addr = Some(rx.src);
        }
    }

    pub(crate) fn master_rx(&mut self, now: Millis, rx: &Received, out: &mut Vec<Action>) {
        let theirs = rx.advert.priority;
        let ours = self.cfg.priority;
        if theirs == 0 {
            // Another master is stopping: advertise now so its backups see us
            // before their skew runs out and nobody else claims the addresses.
            self.send_advert(now, out);
            return;
        }
        let they_win =
            theirs > ours || (theirs == ours && u32::from(rx.src) > u32::from(self.cfg.primary));
        if they_win {
            if self.cfg.version == Version::V3 {
                self.master_adver_int_cs = rx.advert.interval_cs;
            }
            self.become_backup(now, rx.src, out);
        } else {
            // A lower master exists (a dual-master after a partition heals):
            // answer at once so it sees us and steps down, instead of waiting
            // for our next scheduled advert (keepalived does this).
            self.send_advert(now, out);
        }
    }

    /// Whether preempt_delay still keeps us obeying a lower-priority master.
    fn preempt_held(&self, now: Millis) -> bool {
        self.cfg.preempt_delay_ms > 0
            && match self.preempt_hold {
                None => true,
                Some(until) => now < until,
            }
    }
}
