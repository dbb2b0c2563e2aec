//! The statement tree of a keepalived.conf and the files it includes.
//! `include` splices the matching files (a glob, relative to the including
//! file's directory, in sorted order) in place, as keepalived does, so a
//! block may even span files.

use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::lexer::{lex, Piece};
use super::{Diagnostic, ImportError};

/// keepalived's own include depth limit is larger; this one only has to
/// stop a file that includes itself.
const MAX_INCLUDE_DEPTH: usize = 16;

/// One statement and its `{ ... }` block, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    pub file: Rc<str>,
    pub line: usize,
    /// Never empty.
    pub words: Vec<String>,
    /// The statement as written (after comment removal).
    pub raw: String,
    pub block: Option<Vec<Node>>,
}

impl Node {
    pub fn keyword(&self) -> &str {
        &self.words[0]
    }

    /// The `n`th word after the keyword.
    pub fn arg(&self, n: usize) -> Option<&str> {
        self.words.get(n + 1).map(String::as_str)
    }

    pub fn children(&self) -> &[Node] {
        self.block.as_deref().unwrap_or(&[])
    }
}

/// A piece with where it was read.
struct Located {
    file: Rc<str>,
    line: usize,
    piece: Piece,
}

/// Reads `path` and everything it includes.
pub fn parse_file(path: &Path, diags: &mut Vec<Diagnostic>) -> Result<Vec<Node>, ImportError> {
    let mut flat = Vec::new();
    read(path, 0, &mut flat, diags)?;
    build(flat, diags)
}

/// Parses text with no include resolution (includes are reported).
pub fn parse_text(
    name: &str,
    text: &str,
    diags: &mut Vec<Diagnostic>,
) -> Result<Vec<Node>, ImportError> {
    let file: Rc<str> = Rc::from(name);
    let pieces = lex(text).map_err(|e| ImportError::Syntax {
        file: name.to_string(),
        line: e.line,
        message: e.message,
    })?;
    let flat = pieces
        .into_iter()
        .map(|l| Located {
            file: file.clone(),
            line: l.line,
            piece: l.piece,
        })
        .collect();
    build(flat, diags)
}

fn read(
    path: &Path,
    depth: usize,
    out: &mut Vec<Located>,
    diags: &mut Vec<Diagnostic>,
) -> Result<(), ImportError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ImportError::Io {
        file: name.clone(),
        message: e.to_string(),
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let file: Rc<str> = Rc::from(name.as_str());
    let pieces = lex(&text).map_err(|e| ImportError::Syntax {
        file: name.clone(),
        line: e.line,
        message: e.message,
    })?;
    for l in pieces {
        let Piece::Include(pattern) = &l.piece else {
            out.push(Located {
                file: file.clone(),
                line: l.line,
                piece: l.piece,
            });
            continue;
        };
        if depth >= MAX_INCLUDE_DEPTH {
            return Err(ImportError::Syntax {
                file: name,
                line: l.line,
                message: format!(
                    "include nested deeper than {MAX_INCLUDE_DEPTH} files (does a file include itself?)"
                ),
            });
        }
        let files = matching(path, pattern).map_err(|message| ImportError::Syntax {
            file: name.clone(),
            line: l.line,
            message,
        })?;
        if files.is_empty() {
            diags.push(Diagnostic::new(
                &file,
                l.line,
                "include",
                format!("not mapped (no file matches {pattern:?})"),
            ));
        }
        for f in files {
            read(&f, depth + 1, out, diags)?;
        }
    }
    Ok(())
}

/// The files an include pattern names, relative to the including file.
fn matching(including: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let pattern = pattern.trim_matches('"');
    let full = if Path::new(pattern).is_absolute() {
        PathBuf::from(pattern)
    } else {
        including
            .parent()
            .unwrap_or_else(|| Path::new(""))
            .join(pattern)
    };
    let text = full.to_str().ok_or("include path is not UTF-8")?;
    let paths = glob::glob(text).map_err(|e| format!("include pattern {pattern:?}: {e}"))?;
    let mut files: Vec<PathBuf> = paths
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// Nests the statements by their braces.
fn build(flat: Vec<Located>, diags: &mut Vec<Diagnostic>) -> Result<Vec<Node>, ImportError> {
    // The open blocks: the list being filled, and the node that owns it.
    let mut stack: Vec<(Vec<Node>, Option<Node>)> = vec![(Vec::new(), None)];
    // A statement directly before a `{` owns the block.
    let mut last_was_words = false;
    for l in flat {
        let syntax = |message: &str| ImportError::Syntax {
            file: l.file.to_string(),
            line: l.line,
            message: message.to_string(),
        };
        match l.piece {
            Piece::Words { words, raw } => {
                let list = &mut stack.last_mut().ok_or_else(|| syntax("internal"))?.0;
                list.push(Node {
                    file: l.file.clone(),
                    line: l.line,
                    words,
                    raw,
                    block: None,
                });
                last_was_words = true;
            }
            Piece::Open => {
                let top = stack.last_mut().ok_or_else(|| syntax("internal"))?;
                let owner = match top.0.pop() {
                    Some(n) if last_was_words && n.block.is_none() => n,
                    _ => return Err(syntax("'{' with no keyword before it")),
                };
                stack.push((Vec::new(), Some(owner)));
                last_was_words = false;
            }
            Piece::Close => {
                if stack.len() < 2 {
                    return Err(syntax("'}' with no '{' to close"));
                }
                let (children, owner) = stack.pop().ok_or_else(|| syntax("internal"))?;
                let mut owner = owner.ok_or_else(|| syntax("internal"))?;
                owner.block = Some(children);
                stack
                    .last_mut()
                    .ok_or_else(|| syntax("internal"))?
                    .0
                    .push(owner);
                last_was_words = false;
            }
            Piece::Include(pattern) => {
                // Only from `parse_text`, which reads no files.
                diags.push(Diagnostic::new(
                    &l.file,
                    l.line,
                    "include",
                    format!("not mapped (includes are not read here: {pattern:?})"),
                ));
                last_was_words = false;
            }
            Piece::Unsupported(what) => {
                diags.push(Diagnostic::new(
                    &l.file,
                    l.line,
                    "line",
                    format!("not mapped (keepalived's {what} are not supported)"),
                ));
                last_was_words = false;
            }
        }
    }
    if stack.len() > 1 {
        let owner = stack.pop().and_then(|(_, o)| o);
        let (file, line) = owner
            .map(|o| (o.file.to_string(), o.line))
            .unwrap_or_default();
        return Err(ImportError::Syntax {
            file,
            line,
            message: "'{' is never closed".to_string(),
        });
    }
    Ok(stack.pop().map(|(l, _)| l).unwrap_or_default())
}
