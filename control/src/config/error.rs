//! The configuration error: a field path and a message.

use serde_path_to_error::Segment;

/// A refused configuration. `path` names the field in the
/// `services[2].reals[0].weight` style (`config` for errors about the
/// document as a whole, the file name for I/O errors).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

/// The path used for errors that concern the whole document.
pub const ROOT_PATH: &str = "config";

impl ConfigError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Converts a deserialization error, keeping the path of the field that
    /// failed. `missing field `x`` becomes `<path>.x: missing`, and an
    /// unknown key becomes `<path>.<key>: unknown field (...)`.
    pub(crate) fn from_serde(err: serde_path_to_error::Error<serde_yaml_ng::Error>) -> ConfigError {
        let path = path_string(err.path());
        let inner = err.inner();
        let mut message = inner.to_string();
        if let Some(loc) = inner.location() {
            // Keep the location only when the path says nothing (syntax
            // errors carry it inside their own wording anyway).
            let suffix = format!(" at line {} column {}", loc.line(), loc.column());
            if !path.is_empty() {
                if let Some(stripped) = message.strip_suffix(&suffix) {
                    message = stripped.to_string();
                }
            }
        }
        // serde_yaml_ng prefixes its own copy of the path, which for a
        // value read through a conversion (`try_from`, a custom visitor)
        // can stop short of ours.
        if let Some((theirs, rest)) = message.split_once(": ") {
            if !theirs.is_empty() && !theirs.contains(' ') && path.starts_with(theirs) {
                message = rest.to_string();
            }
        }
        if let Some(field) = between(&message, "missing field `", "`") {
            return ConfigError::new(join(&path, field), "missing");
        }
        if let Some(field) = between(&message, "unknown field `", "`") {
            let expected = message
                .split_once(", expected ")
                .map(|(_, e)| format!(" (expected {})", e.replace('`', "")))
                .unwrap_or_default();
            // The path usually ends with the unknown key already.
            let path = if path == field || path.ends_with(&format!(".{field}")) {
                path
            } else {
                join(&path, field)
            };
            return ConfigError::new(path, format!("unknown field{expected}"));
        }
        let path = if path.is_empty() {
            ROOT_PATH.to_string()
        } else {
            path
        };
        ConfigError::new(path, message)
    }
}

/// `services[0].reals[1].weight` from a serde_path_to_error path ("" at the root).
fn path_string(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            // A key that could not be read (YAML syntax error): the path
            // up to here is the best there is.
            Segment::Unknown => break,
        }
    }
    out
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &s[s.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}
