//! `sorry_server`: the server that takes a service's traffic while its
//! quorum is lost (keepalived's `sorry_server IP [PORT]` and
//! `sorry_server_lvs_method`).

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use super::checks::de_port;
use crate::config::kinds::Forward;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SorryServer {
    pub address: Ipv4Addr,
    /// Default: the service's port (none for a firewall-mark or multi-port
    /// service: the packet's destination port is kept).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_port"
    )]
    pub port: Option<u16>,
    /// Default: the service's `forward`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward: Option<Forward>,
}
