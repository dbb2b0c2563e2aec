//! Version 1 (the kernel's default, `sync_version` 1): sent and received.
//! Only the sender lives here; [`crate::decode`] reads both versions.

mod builder;
mod entry;

pub use builder::Builder;
