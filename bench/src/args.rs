//! The tiny `--name value` argument reading, and `--json PATH` writing, the bench tools share.
use anyhow::{Context, Result};
use serde::Serialize;

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

/// Writes `report` as pretty JSON to the path after `--json`, if given.
pub fn write_json(args: &[String], report: &impl Serialize) -> Result<()> {
    if let Some(path) = arg(args, "--json") {
        std::fs::write(path, serde_json::to_vec_pretty(report)?)
            .with_context(|| format!("writing {path}"))?;
    }
    Ok(())
}
