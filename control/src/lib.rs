//! control crate: the YAML configuration model and validation (`config`),
//! the control protocol shared by the daemon and fvsadm (`proto`), the
//! ipvsadm semantics of requests (`rules`), the control-socket server
//! (`server`), ipvsadm's output formats (`ipvsadm_fmt`), the fvsadm command
//! line (`cli`), rule-dump conversion (`convert`) and the Prometheus
//! exposition (`metrics`).

pub mod cli;
pub mod config;
pub mod convert;
pub mod ipvsadm_fmt;
pub mod proto;
pub mod rules;
pub mod server;
