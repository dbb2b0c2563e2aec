//! Tests of the keepalived.conf reader: its syntax, keepalived's
//! corrections, and that no input makes it panic.

mod fuzz;
mod lexer;
mod mapping;

use super::{map_text, Mapped};

/// Maps `text` (named `k.conf`); panics on a syntax error.
fn mapped(text: &str) -> Mapped {
    match map_text("k.conf", text) {
        Ok(m) => m,
        Err(e) => panic!("{e}"),
    }
}

/// The diagnostics as printed.
fn diags(m: &Mapped) -> Vec<String> {
    m.diagnostics.iter().map(|d| d.to_string()).collect()
}
