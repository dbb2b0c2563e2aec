//! The tiny `--name value` argument reading the bench tools share.
use anyhow::{Context, Result};

/// The value after `name`, if present.
pub fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// The number after `name`, or `default`; a value that is not a number is an error.
pub fn num(args: &[String], name: &str, default: u64) -> Result<u64> {
    arg(args, name)
        .map(|v| v.parse().with_context(|| format!("{name} {v}")))
        .unwrap_or(Ok(default))
}
