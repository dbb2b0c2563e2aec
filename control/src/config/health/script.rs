//! `Script`: a command line run by the checker (notify and quorum scripts,
//! MISC_CHECK's `misc_path`), written as keepalived writes it: the program
//! and its arguments in one string, with `'...'`, `"..."` and `\` quoting.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A command line. The program must be an absolute path (validation).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Script(pub String);

impl Script {
    /// The program and its arguments, split as keepalived splits them
    /// (`alloc_strvec_quoted_escaped`): white space separates words,
    /// quotes group them, a backslash takes the next character literally.
    pub fn argv(&self) -> Result<Vec<String>, String> {
        health::split_command(&self.0).map_err(|e| e.to_string())
    }

    /// The reason this command line cannot be run, if any.
    pub fn problem(&self) -> Option<String> {
        let argv = match self.argv() {
            Ok(a) => a,
            Err(e) => return Some(e),
        };
        match argv.first() {
            None => Some("must not be empty".to_string()),
            Some(p) if !p.starts_with('/') => Some(format!(
                "the program must be an absolute path ({p:?} is not)"
            )),
            Some(_) => None,
        }
    }
}

impl fmt::Display for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
