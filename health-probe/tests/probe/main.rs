//! The probes against loopback fixtures: no lab, no root, every test bounded in time.

mod dns;
mod fixtures;
mod http;
mod misc;
mod tcp;
mod tls;
