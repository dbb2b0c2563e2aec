//! rte_flow rules on a port: a `SteerRule` (dataplane::steer) becomes the
//! pattern `eth / ipv4 dst is D / tcp|udp dst spec V mask M / end` with the
//! action `queue index Q / end` on ingress. A rule is validated, then created,
//! and lives until `EthPort::destroy_flow` (or until the port closes).
use std::ffi::{c_void, CStr};
use std::ptr::{self, NonNull};

use dataplane::conntrack::Proto;
use dataplane::steer::SteerRule;

use super::error::DpdkError;
use super::ethdev::EthPort;
use super::ffi;

/// An installed rule. Only the port that created it can destroy it (checked
/// by id and open serial). Dropping the handle without destroying it leaves
/// the rule in the device until the port closes.
#[must_use = "a rule stays in the device until destroy_flow or the port closes"]
pub struct FlowHandle {
    port: u16,
    serial: u64,
    flow: NonNull<ffi::rte_flow>,
}

impl std::fmt::Debug for FlowHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowHandle")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

enum Step {
    Validate,
    Create,
}

impl EthPort {
    /// Asks the driver whether it would accept `rule`, without installing it.
    pub fn validate_flow(&self, rule: &SteerRule) -> Result<(), DpdkError> {
        submit(self.id(), rule, Step::Validate).map(|_| ())
    }

    /// Validates `rule`, then installs it.
    pub fn create_flow(&self, rule: &SteerRule) -> Result<FlowHandle, DpdkError> {
        self.validate_flow(rule)?;
        let flow = submit(self.id(), rule, Step::Create)?.ok_or(DpdkError::Flow {
            call: "rte_flow_create",
            errno: 0,
            message: "no handle returned".into(),
        })?;
        Ok(FlowHandle {
            port: self.id(),
            serial: self.serial(),
            flow,
        })
    }

    /// Removes a rule this port created. On failure the rule may still be in
    /// the device; it goes when the port closes.
    pub fn destroy_flow(&self, handle: FlowHandle) -> Result<(), DpdkError> {
        if handle.port != self.id() || handle.serial != self.serial() {
            return Err(DpdkError::Invalid {
                call: "rte_flow_destroy",
                reason: format!(
                    "the rule belongs to another port (id {}), not {}",
                    handle.port,
                    self.name()
                ),
            });
        }
        let mut err = ffi::rte_flow_error::default();
        // `handle.flow` came from rte_flow_create on this very port (same id and
        // open serial, so the port has not been closed since); `err` is a valid
        // out-struct.
        // SAFETY: the handle is consumed here, so the flow is destroyed at most once.
        let ret = unsafe { ffi::rte_flow_destroy(self.id(), handle.flow.as_ptr(), &mut err) };
        if ret != 0 {
            return Err(flow_error("rte_flow_destroy", ret, &err));
        }
        Ok(())
    }
}

/// Removes every rule of port `id` (the port is about to close). Best effort:
/// devices without rte_flow report ENOSYS, which is fine here.
pub(super) fn flush(id: u16) {
    let mut err = ffi::rte_flow_error::default();
    // SAFETY: plain call on a port id; DPDK checks the id itself and `err` is a
    // valid out-struct. Handles of flushed rules can no longer be used: the
    // caller is the port's Drop, after which no `&EthPort` with its serial exists.
    let _ = unsafe { ffi::rte_flow_flush(id, &mut err) };
}

/// Builds the rule's attribute, pattern and actions on this stack frame and
/// hands them to DPDK in the same frame, so every spec and mask the pointers
/// name outlives the call. Returns the new flow for `Step::Create`.
fn submit(
    port: u16,
    rule: &SteerRule,
    step: Step,
) -> Result<Option<NonNull<ffi::rte_flow>>, DpdkError> {
    let mut attr = ffi::rte_flow_attr::default();
    attr.set_ingress(1);

    // rte_flow items hold header fields in network byte order.
    let mut ip_spec = ffi::rte_flow_item_ipv4::default();
    ip_spec.hdr.dst_addr = u32::from(rule.dst).to_be();
    let mut ip_mask = ffi::rte_flow_item_ipv4::default();
    ip_mask.hdr.dst_addr = u32::MAX;

    let mut tcp_spec = ffi::rte_flow_item_tcp::default();
    tcp_spec.hdr.dst_port = rule.port_value.to_be();
    let mut tcp_mask = ffi::rte_flow_item_tcp::default();
    tcp_mask.hdr.dst_port = rule.port_mask.to_be();
    let mut udp_spec = ffi::rte_flow_item_udp::default();
    udp_spec.hdr.dst_port = rule.port_value.to_be();
    let mut udp_mask = ffi::rte_flow_item_udp::default();
    udp_mask.hdr.dst_port = rule.port_mask.to_be();
    let (l4_type, l4_spec, l4_mask) = match rule.proto {
        Proto::Tcp => (
            ffi::rte_flow_item_type_RTE_FLOW_ITEM_TYPE_TCP,
            ptr::from_ref(&tcp_spec).cast::<c_void>(),
            ptr::from_ref(&tcp_mask).cast::<c_void>(),
        ),
        Proto::Udp => (
            ffi::rte_flow_item_type_RTE_FLOW_ITEM_TYPE_UDP,
            ptr::from_ref(&udp_spec).cast::<c_void>(),
            ptr::from_ref(&udp_mask).cast::<c_void>(),
        ),
    };
    let item = |type_, spec, mask| ffi::rte_flow_item {
        type_,
        spec,
        last: ptr::null(),
        mask,
    };
    let pattern = [
        // Any Ethernet frame: no spec, no mask.
        item(
            ffi::rte_flow_item_type_RTE_FLOW_ITEM_TYPE_ETH,
            ptr::null(),
            ptr::null(),
        ),
        item(
            ffi::rte_flow_item_type_RTE_FLOW_ITEM_TYPE_IPV4,
            ptr::from_ref(&ip_spec).cast::<c_void>(),
            ptr::from_ref(&ip_mask).cast::<c_void>(),
        ),
        item(l4_type, l4_spec, l4_mask),
        item(
            ffi::rte_flow_item_type_RTE_FLOW_ITEM_TYPE_END,
            ptr::null(),
            ptr::null(),
        ),
    ];

    let queue = ffi::rte_flow_action_queue { index: rule.queue };
    let actions = [
        ffi::rte_flow_action {
            type_: ffi::rte_flow_action_type_RTE_FLOW_ACTION_TYPE_QUEUE,
            conf: ptr::from_ref(&queue).cast::<c_void>(),
        },
        ffi::rte_flow_action {
            type_: ffi::rte_flow_action_type_RTE_FLOW_ACTION_TYPE_END,
            conf: ptr::null(),
        },
    ];

    let mut err = ffi::rte_flow_error::default();
    match step {
        Step::Validate => {
            // `pattern` and `actions` are END-terminated; DPDK only reads them
            // and checks the port id itself; `err` is a valid out-struct.
            // SAFETY: every pointer names a local of this frame, alive for the call.
            let ret = unsafe {
                ffi::rte_flow_validate(port, &attr, pattern.as_ptr(), actions.as_ptr(), &mut err)
            };
            if ret != 0 {
                return Err(flow_error("rte_flow_validate", ret, &err));
            }
            Ok(None)
        }
        Step::Create => {
            // SAFETY: as for validate: everything the arguments point to lives
            // in this frame until the call returns; the driver copies what it
            // keeps.
            let flow = unsafe {
                ffi::rte_flow_create(port, &attr, pattern.as_ptr(), actions.as_ptr(), &mut err)
            };
            match NonNull::new(flow) {
                Some(f) => Ok(Some(f)),
                None => Err(flow_error("rte_flow_create", 0, &err)),
            }
        }
    }
}

/// The typed error of a failed rte_flow call: `ret` is its negative errno
/// (0 when the call reports through `rte_errno` only, as create does).
fn flow_error(call: &'static str, ret: i32, err: &ffi::rte_flow_error) -> DpdkError {
    let errno = if ret < 0 {
        -ret
    } else {
        super::eal::last_errno()
    };
    let message = if err.message.is_null() {
        super::eal::strerror(errno)
    } else {
        // SAFETY: DPDK sets `message` to a NUL-terminated string (static or
        // the thread's strerror buffer) that stays valid until the next DPDK
        // call on this thread; it is copied out right here.
        unsafe { CStr::from_ptr(err.message) }
            .to_string_lossy()
            .into_owned()
    };
    DpdkError::Flow {
        call,
        errno,
        message,
    }
}
