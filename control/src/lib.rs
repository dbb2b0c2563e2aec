//! control crate: the YAML configuration model and validation (`config`).

pub mod config;
