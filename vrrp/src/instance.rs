//! One VRRP instance: its lifecycle (start, fault, shutdown), timers, and the
//! public API the runtime drives. The rules for received adverts are in
//! `election.rs`.

use std::net::Ipv4Addr;

use crate::codec::{self, Advert};
use crate::timers::{self, Timers};
use crate::validate::{self, AUTH_PASS, OWNER_PRIORITY};
use crate::{Action, InitialState, Millis, Params, RxDrop, State, Stats, Version};

/// A VRRP instance state machine (RFC 9568 6.4 with keepalived's choices).
#[derive(Clone, Debug)]
pub struct Instance {
    /// Sanitized configuration (see `Params::sanitized`).
    pub(crate) cfg: Params,
    pub(crate) state: State,
    /// The runtime's last `set_fault`; remembered in INIT so that `start`
    /// on a link that is already down goes to FAULT, as keepalived does.
    pub(crate) fault: bool,
    /// v3 learns it from the master; reset to ours whenever we (re)start,
    /// become master or leave FAULT.
    pub(crate) master_adver_int_cs: u16,
    pub(crate) master_addr: Option<Ipv4Addr>,
    pub(crate) timers: Timers,
    /// preempt_delay: `None` = no hold started yet (a lower advert starts
    /// one), `Some(t)` = lower adverts are obeyed until `t`. Only consulted
    /// when `preempt_delay_ms > 0`.
    pub(crate) preempt_hold: Option<Millis>,
    pub(crate) stats: Stats,
}

impl Instance {
    /// State INIT, no timers. Out-of-range values are clamped (see
    /// [`Params::validate`] to refuse them instead).
    pub fn new(p: Params) -> Instance {
        let cfg = p.sanitized();
        Instance {
            master_adver_int_cs: cfg.advert_int_cs,
            cfg,
            state: State::Init,
            fault: false,
            master_addr: None,
            timers: Timers::default(),
            preempt_hold: None,
            stats: Stats::default(),
        }
    }

    /// INIT -> MASTER (initial MASTER or priority 255) or BACKUP; FAULT if the
    /// runtime already reported a fault. Does nothing outside INIT.
    pub fn start(&mut self, now: Millis, out: &mut Vec<Action>) {
        if self.state != State::Init {
            return;
        }
        if self.fault {
            self.transition(State::Fault, out);
            return;
        }
        let owner = self.is_owner();
        self.come_up(now, owner, out);
        if !owner && self.cfg.initial == InitialState::Master {
            // keepalived 2.2.7 (vrrp_init_state): a `state MASTER` router
            // below 255 starts as BACKUP and takes over after one advert
            // interval plus the smallest skew, unless a master speaks first,
            // so a restarted router does not stomp on a running master.
            let wait = timers::skew_us(self.cfg.version, 255, self.cfg.advert_int_cs)
                + u64::from(self.cfg.advert_int_cs) * 10_000;
            self.timers.master_down = Some(timers::after_us(now, wait));
        }
    }

    /// A whole received IPv4 packet (IP header included). Validates it, then
    /// runs the election rules. In INIT and FAULT a valid packet is counted
    /// but changes nothing.
    pub fn on_packet(
        &mut self,
        now: Millis,
        packet: &[u8],
        out: &mut Vec<Action>,
    ) -> Result<(), RxDrop> {
        let checked =
            codec::decode(packet).and_then(|rx| validate::check(&self.cfg, &rx).map(|()| rx));
        let rx = match checked {
            Ok(rx) => rx,
            Err(why) => {
                self.stats.count_drop(why);
                return Err(why);
            }
        };
        self.stats.adverts_received += 1;
        if rx.advert.priority == 0 {
            self.stats.priority_zero_received += 1;
        }
        match self.state {
            State::Backup => self.backup_rx(now, &rx),
            State::Master => self.master_rx(now, &rx, out),
            State::Init | State::Fault => {}
        }
        Ok(())
    }

    /// Runs whatever is due at `now`: the master-down timer (BACKUP becomes
    /// MASTER), the adver timer (MASTER sends), the second GARP round. A late
    /// call does one of each, it does not catch up missed adverts.
    pub fn on_timer(&mut self, now: Millis, out: &mut Vec<Action>) {
        match self.state {
            State::Backup => {
                if timers::take_due(&mut self.timers.master_down, now) {
                    self.become_master(now, out);
                }
            }
            State::Master => {
                if timers::take_due(&mut self.timers.adver, now) {
                    self.send_advert(now, out);
                }
                if timers::take_due(&mut self.timers.garp, now) {
                    out.push(Action::Garp);
                }
            }
            State::Init | State::Fault => {}
        }
    }

    /// The earliest deadline, if any; call `on_timer` then.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.timers.next()
    }

    /// Link down / dataplane stalled (true) or recovered (false). Entering
    /// FAULT from MASTER sends a priority-0 advert first so a backup takes
    /// over after its skew instead of the whole Master_Down_Interval. Leaving
    /// FAULT goes to BACKUP (MASTER directly at priority 255), as keepalived.
    pub fn set_fault(&mut self, now: Millis, fault: bool, out: &mut Vec<Action>) {
        self.fault = fault;
        match (self.state, fault) {
            (State::Backup | State::Master, true) => {
                if self.state == State::Master {
                    out.push(Action::SendAdvert { priority: 0 });
                }
                self.transition(State::Fault, out);
                self.stand_down();
            }
            (State::Fault, false) => {
                let owner = self.is_owner();
                self.come_up(now, owner, out);
            }
            _ => {}
        }
    }

    /// Clean stop: a master sends priority 0; every state ends in INIT with
    /// no timers. `start` may be called again afterwards.
    pub fn shutdown(&mut self, _now: Millis, out: &mut Vec<Action>) {
        if self.state == State::Master {
            out.push(Action::SendAdvert { priority: 0 });
        }
        self.transition(State::Init, out);
        self.stand_down();
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn priority(&self) -> u8 {
        self.cfg.priority
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The current master's address as last seen (our primary while we are
    /// master), None if unknown.
    pub fn master(&self) -> Option<Ipv4Addr> {
        if self.state == State::Master {
            Some(self.cfg.primary)
        } else {
            self.master_addr
        }
    }

    /// Master_Adver_Interval in centiseconds (v3 learns it from the master's
    /// adverts; v2 = own).
    pub fn master_adver_int_cs(&self) -> u16 {
        self.master_adver_int_cs
    }

    /// The VRRP message (no IP header) for `dst` (224.0.0.18 or a unicast
    /// peer); the v3 pseudo-header checksum needs src = primary and dst.
    pub fn advert_bytes(&self, priority: u8, dst: Ipv4Addr) -> Vec<u8> {
        codec::encode(
            &self.advert(priority),
            self.cfg.primary,
            dst,
            self.cfg.send_checksum,
        )
    }

    /// Must be called by the runtime after it actually sent an advert.
    pub fn note_sent(&mut self, priority: u8) {
        self.stats.adverts_sent += 1;
        if priority == 0 {
            self.stats.priority_zero_sent += 1;
        }
    }

    /// The advertisement this instance sends with `priority`.
    pub fn advert(&self, priority: u8) -> Advert {
        let (auth_type, auth_data) = match (self.cfg.version, self.cfg.auth_pass) {
            (Version::V2, Some(pw)) => (AUTH_PASS, pw),
            _ => (0, [0; 8]),
        };
        Advert {
            version: self.cfg.version,
            vrid: self.cfg.vrid,
            priority,
            interval_cs: self.cfg.advert_int_cs,
            addresses: self.cfg.addresses.clone(),
            auth_type,
            auth_data,
        }
    }

    /// The configuration the instance runs with (after clamping).
    pub fn params(&self) -> &Params {
        &self.cfg
    }

    pub(crate) fn is_owner(&self) -> bool {
        self.cfg.priority == OWNER_PRIORITY
    }

    /// From INIT or FAULT into service: MASTER at once, or BACKUP waiting a
    /// full Master_Down_Interval with any preempt_delay hold armed from now.
    fn come_up(&mut self, now: Millis, master: bool, out: &mut Vec<Action>) {
        self.master_adver_int_cs = self.cfg.advert_int_cs;
        self.master_addr = None;
        if master {
            self.become_master(now, out);
            return;
        }
        self.transition(State::Backup, out);
        self.timers.clear();
        self.timers.master_down = Some(timers::after_us(now, self.master_down_us()));
        self.preempt_hold = if self.cfg.preempt_delay_ms > 0 {
            Some(now.saturating_add(self.cfg.preempt_delay_ms))
        } else {
            None
        };
    }

    /// Advert first, then GARP: keepalived sends the advert first so the old
    /// master drops the addresses before our ARPs claim them.
    pub(crate) fn become_master(&mut self, now: Millis, out: &mut Vec<Action>) {
        self.transition(State::Master, out);
        self.timers.clear();
        self.master_adver_int_cs = self.cfg.advert_int_cs;
        self.preempt_hold = None;
        self.send_advert(now, out);
        out.push(Action::Garp);
        if self.cfg.garp_delay_ms > 0 {
            self.timers.garp = Some(now.saturating_add(self.cfg.garp_delay_ms));
        }
    }

    /// MASTER -> BACKUP because a better master spoke (its address is `from`).
    pub(crate) fn become_backup(&mut self, now: Millis, from: Ipv4Addr, out: &mut Vec<Action>) {
        self.transition(State::Backup, out);
        self.timers.clear();
        self.master_addr = Some(from);
        // keepalived clears the hold here: a later lower master starts a new one.
        self.preempt_hold = None;
        self.timers.master_down = Some(timers::after_us(now, self.master_down_us()));
    }

    /// Sends our advert and restarts the adver timer from now.
    pub(crate) fn send_advert(&mut self, now: Millis, out: &mut Vec<Action>) {
        out.push(Action::SendAdvert {
            priority: self.cfg.priority,
        });
        self.timers.adver = Some(timers::after_cs(now, self.cfg.advert_int_cs));
    }

    pub(crate) fn master_down_us(&self) -> u64 {
        timers::master_down_us(
            self.cfg.version,
            self.cfg.priority,
            self.master_adver_int_cs,
        )
    }

    pub(crate) fn skew_us(&self) -> u64 {
        timers::skew_us(
            self.cfg.version,
            self.cfg.priority,
            self.master_adver_int_cs,
        )
    }

    /// Out of service (FAULT or INIT): no timers, nothing learned kept.
    fn stand_down(&mut self) {
        self.timers.clear();
        self.master_addr = None;
        self.preempt_hold = None;
        self.master_adver_int_cs = self.cfg.advert_int_cs;
    }

    /// Emits a Transition only for a real change, and counts it.
    fn transition(&mut self, to: State, out: &mut Vec<Action>) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        self.stats.transitions += 1;
        out.push(Action::Transition { from, to });
    }
}
