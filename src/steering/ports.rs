//! The real installer: rte_flow rules on the DPDK ports `run` opened.
use dataplane::steer::SteerRule;

use super::FlowInstaller;
use crate::dpdk::error::DpdkError;
use crate::dpdk::flow::FlowHandle;
use crate::dpdk::EthPort;

/// The ports, borrowed for one `sync` or `clear`; index = config order.
pub struct PortFlows<'a>(pub &'a [EthPort]);

impl PortFlows<'_> {
    fn port(&self, index: usize, call: &'static str) -> Result<&EthPort, DpdkError> {
        self.0.get(index).ok_or_else(|| DpdkError::Invalid {
            call,
            reason: format!("no port {index}"),
        })
    }
}

impl FlowInstaller for PortFlows<'_> {
    type Handle = FlowHandle;
    type Error = DpdkError;

    fn install(&mut self, port: usize, rule: &SteerRule) -> Result<FlowHandle, DpdkError> {
        self.port(port, "rte_flow_create")?.create_flow(rule)
    }

    fn remove(&mut self, port: usize, handle: FlowHandle) -> Result<(), DpdkError> {
        self.port(port, "rte_flow_destroy")?.destroy_flow(handle)
    }
}
