//! control crate: everything between the operator and the dataplane.
//!
//! - `config`: the YAML configuration model and its validation;
//! - `proto`: the versioned control protocol shared by the daemon and
//!   fvsadm (4-byte big-endian length + JSON, `MAX_FRAME` 1 MiB);
//! - `rules`: ipvsadm's semantics as pure functions `Config -> Config`;
//! - `server`: the Unix-socket server over the daemon's `Backend`, and
//!   the `Client`;
//! - `ipvsadm_fmt`: ipvsadm 1.31's output formats, byte for byte;
//! - `cli`: fvsadm, ipvsadm 1.31's command line (the `fvsadm` binary is a
//!   thin wrapper over `cli::run`);
//! - `convert`: ipvsadm rule dumps <-> YAML services;
//! - `metrics`: the Prometheus exposition and its HTTP responder.
//!
//! ferrovs extensions to ipvsadm's command line: `-j`/`--fullnat` (forward
//! method FullNat), `-P`/`--add-laddr`, `-Q`/`--del-laddr`,
//! `-G`/`--get-laddr` with `-z`/`--laddr` (FullNAT local addresses, as
//! DPVS's ipvsadm), `--reload`, `--socket PATH`.

pub mod cli;
pub mod config;
pub mod convert;
pub mod ipvsadm_fmt;
pub mod keepalived;
pub mod metrics;
pub mod proto;
pub mod rules;
pub mod server;
