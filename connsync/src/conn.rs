//! One connection as the sync protocol carries it, and the connection flags
//! (include/uapi/linux/ip_vs.h, `IP_VS_CONN_F_*`).

use std::net::Ipv4Addr;

/// Milliseconds on the caller's monotonic clock; the crate reads no clock.
pub type Millis = u64;

/// Forwarding method, low 3 bits of the flags (`IP_VS_CONN_F_FWD_MASK`).
pub const FWD_MASK: u32 = 0x0007;
/// NAT (`IP_VS_CONN_F_MASQ`).
pub const FWD_MASQ: u32 = 0;
/// Local node (`IP_VS_CONN_F_LOCALNODE`).
pub const FWD_LOCALNODE: u32 = 1;
/// IP-in-IP tunnel (`IP_VS_CONN_F_TUNNEL`).
pub const FWD_TUNNEL: u32 = 2;
/// Direct routing (`IP_VS_CONN_F_DROUTE`).
pub const FWD_DROUTE: u32 = 3;
/// Cache bypass (`IP_VS_CONN_F_BYPASS`).
pub const FWD_BYPASS: u32 = 4;
/// FullNAT: DPVS's value (`DPVS_FWD_MODE_FNAT`). Linux has none; a Linux backup
/// keeps the value but takes the method from the real server it binds to
/// (ip_vs_bind_dest: "connections inherit forwarding method from dest").
pub const FWD_FULLNAT: u32 = 5;

/// Entry created by sync; the backup sets it on every received entry.
pub const F_SYNC: u32 = 0x0020;
/// Hashed entry: local bookkeeping, cleared before sending (ip_vs_sync_conn).
pub const F_HASHED: u32 = 0x0040;
/// No output packets.
pub const F_NOOUTPUT: u32 = 0x0080;
/// Not established (counts as an inactive connection on the real server).
pub const F_INACTIVE: u32 = 0x0100;
/// Output sequence numbers must be adjusted (NAT with an application helper).
pub const F_OUT_SEQ: u32 = 0x0200;
/// Input sequence numbers must be adjusted.
pub const F_IN_SEQ: u32 = 0x0400;
/// Either sequence flag: the kernel sends the sequence option exactly then.
pub const F_SEQ_MASK: u32 = 0x0600;
/// No client port set yet (FTP data connections opened by ip_vs_ftp).
pub const F_NO_CPORT: u32 = 0x0800;
/// Persistence template, not a connection.
pub const F_TEMPLATE: u32 = 0x1000;
/// One-packet scheduling (UDP); such connections are never synced.
pub const F_ONE_PACKET: u32 = 0x2000;
/// Use netfilter conntrack; first of the flags the header says are not sent
/// to backups ("Only flags 0..15 are sent"), though v1 carries all 32 bits.
pub const F_NFCT: u32 = 1 << 16;

/// Bits a backup keeps from a received v1 entry (`IP_VS_CONN_F_BACKUP_MASK`).
pub const F_BACKUP_MASK: u32 =
    FWD_MASK | F_NOOUTPUT | F_INACTIVE | F_SEQ_MASK | F_NO_CPORT | F_TEMPLATE;
/// Bits a backup updates on an existing entry (`IP_VS_CONN_F_BACKUP_UPD_MASK`).
pub const F_BACKUP_UPD_MASK: u32 = F_INACTIVE | F_SEQ_MASK;

/// `struct ip_vs_seq` (include/net/ip_vs.h): the TCP sequence adjustment a NAT
/// application helper (FTP) made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeqOpt {
    /// Add the delta from this sequence number on.
    pub init_seq: u32,
    /// Delta in sequence numbers.
    pub delta: u32,
    /// Delta before the last resized packet.
    pub previous_delta: u32,
}

/// One connection (or persistence template) as the sync protocol carries it.
/// IPv4 only. Ports and addresses are in host order here; the codec writes
/// them big-endian.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncConn {
    /// IP protocol: 6 TCP, 17 UDP, 132 SCTP; 0 (`IPPROTO_IP`) for a fwmark
    /// template (ip_vs_sched_persist). Carried as given.
    pub protocol: u8,
    /// `IP_VS_CONN_F_*` as sent (all 32 bits in v1, 16 in v0). The decoder
    /// does not mask them: see [`SyncConn::backup_flags`].
    pub flags: u32,
    /// IPVS state number: [`crate::tcp_state`] for TCP, 0 for UDP,
    /// [`crate::tpl_state`] for templates.
    pub state: u16,
    /// Client port; 0 in a template (ip_vs_sched_persist fills cport 0).
    pub cport: u16,
    /// Virtual port; 0 in FTP, fwmark and port-zero templates.
    pub vport: u16,
    /// Real server port.
    pub dport: u16,
    /// Firewall mark (v1 only; 0 from v0).
    pub fwmark: u32,
    /// Seconds left (the kernel sends `cp->timeout / HZ`). 0 means "unknown":
    /// v0 has no field, and the kernel's ip_vs_proc_conn then uses the
    /// receiver's own timeout for the state (3 minutes for a template).
    pub timeout_s: u32,
    /// Client address; the masked client network in a template.
    pub caddr: Ipv4Addr,
    /// Virtual address; holds the fwmark in a fwmark template.
    pub vaddr: Ipv4Addr,
    /// Real server address.
    pub daddr: Ipv4Addr,
    /// Input sequence adjustment. The option carries both directions or
    /// neither: set both or neither (a missing one is sent as zeros). The
    /// kernel sends it when `flags & F_SEQ_MASK`; set them together.
    pub in_seq: Option<SeqOpt>,
    /// Output sequence adjustment (see `in_seq`).
    pub out_seq: Option<SeqOpt>,
    /// ferrovs FullNAT: the local (source) address and port towards the real
    /// server, in the optional option [`crate::OPT_FULLNAT`] a Linux backup skips.
    pub fullnat: Option<(Ipv4Addr, u16)>,
}

impl SyncConn {
    /// The forwarding method (low 3 bits of the flags).
    pub fn fwd(&self) -> u32 {
        self.flags & FWD_MASK
    }

    /// A persistence template rather than a connection.
    pub fn is_template(&self) -> bool {
        self.flags & F_TEMPLATE != 0
    }

    /// The flags a Linux backup installs from a v1 entry: masked with
    /// `IP_VS_CONN_F_BACKUP_MASK`, plus `IP_VS_CONN_F_SYNC`
    /// (ip_vs_proc_sync_conn). (For v0 the kernel keeps every bit but HASHED,
    /// ip_vs_process_message_v0; the mask is the safer reading for both.)
    pub fn backup_flags(&self) -> u32 {
        (self.flags & F_BACKUP_MASK) | F_SYNC
    }
}
