//! keepalived.conf lines into statements, as keepalived's `read_line` and
//! `alloc_strvec` cut them: `#` and `!` start a comment (outside quotes,
//! `\#` and `\!` are literal), a trailing `\` continues the line, `{` and
//! `}` stand alone wherever they are written, and a statement is the words
//! of one line between braces. `"..."` groups words.

/// One piece of a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// A statement: its words, and its text as written (scripts re-split it
    /// with their own quoting rules).
    Words {
        words: Vec<String>,
        raw: String,
    },
    Open,
    Close,
    /// `include PATTERN` (and keepalived's `includer`, `includem`, ...).
    Include(String),
    /// A line keepalived would rewrite first (`$NAME=...` definitions,
    /// `@id` conditional lines, `~SEQ`/`~LST`), which this reader does not.
    Unsupported(&'static str),
}

/// A piece with its 1-based line number (the first line of a continued one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lexed {
    pub line: usize,
    pub piece: Piece,
}

/// A line that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    pub line: usize,
    pub message: String,
}

/// Cuts a whole file into pieces.
pub fn lex(text: &str) -> Result<Vec<Lexed>, LexError> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (n, physical) in text.split('\n').enumerate() {
        let physical = physical.trim_end_matches('\r');
        let (first, mut line) = match pending.take() {
            Some((first, mut acc)) => {
                acc.push_str(physical);
                (first, acc)
            }
            None => (n + 1, physical.to_string()),
        };
        let continued = decomment(&mut line);
        if continued {
            pending = Some((first, line));
            continue;
        }
        pieces(first, line.trim(), &mut out)?;
    }
    if let Some((first, line)) = pending {
        pieces(first, line.trim(), &mut out)?;
    }
    Ok(out)
}

/// Removes the comment and the escaping of `#`/`!`; true when the line
/// ends with a continuation backslash (removed).
fn decomment(line: &mut String) -> bool {
    let mut out = String::with_capacity(line.len());
    let mut quote = false;
    let mut chars = line.chars().peekable();
    let mut continued = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quote = !quote;
                out.push(c);
            }
            '\\' => match chars.peek() {
                None => {
                    continued = true;
                    break;
                }
                Some(&n) if !quote && (n == '#' || n == '!') => {
                    out.push(n);
                    chars.next();
                }
                Some(&n) => {
                    out.push(c);
                    out.push(n);
                    chars.next();
                }
            },
            '#' | '!' if !quote => break,
            _ => out.push(c),
        }
    }
    *line = out;
    continued
}

fn pieces(line: usize, text: &str, out: &mut Vec<Lexed>) -> Result<(), LexError> {
    let mut push = |piece| out.push(Lexed { line, piece });
    if text.is_empty() {
        return Ok(());
    }
    if let Some(pattern) = include_pattern(text) {
        push(Piece::Include(pattern.to_string()));
        return Ok(());
    }
    match text.chars().next() {
        Some('$') => {
            push(Piece::Unsupported("parameter definitions ($NAME=...)"));
            return Ok(());
        }
        Some('@') => {
            push(Piece::Unsupported("conditional lines (@id ...)"));
            return Ok(());
        }
        Some('~') => {
            push(Piece::Unsupported("~SEQ/~LST expansion"));
            return Ok(());
        }
        _ => {}
    }
    let mut rest = text;
    while !rest.is_empty() {
        match find_brace(rest) {
            Some(0) => {
                push(if rest.starts_with('{') {
                    Piece::Open
                } else {
                    Piece::Close
                });
                rest = rest[1..].trim_start();
            }
            Some(at) => {
                let raw = rest[..at].trim_end();
                push(words(line, raw)?);
                rest = &rest[at..];
            }
            None => {
                push(words(line, rest)?);
                rest = "";
            }
        }
    }
    Ok(())
}

/// keepalived's `is_include`: `include` or `include[rmwba]`, then white space.
fn include_pattern(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("include")?;
    let rest = match rest.chars().next()? {
        c if c.is_whitespace() => rest,
        'r' | 'm' | 'w' | 'b' | 'a' if rest[1..].starts_with(char::is_whitespace) => &rest[1..],
        _ => return None,
    };
    Some(rest.trim())
}

/// The byte offset of the first brace outside quotes.
fn find_brace(s: &str) -> Option<usize> {
    let mut quote = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quote = !quote,
            '{' | '}' if !quote => return Some(i),
            _ => {}
        }
    }
    None
}

/// keepalived's `alloc_strvec_r`: words split on white space and `"`; a
/// quoted string is one word without its quotes.
fn words(line: usize, raw: &str) -> Result<Piece, LexError> {
    let mut words = Vec::new();
    let mut rest = raw.trim_start();
    while !rest.is_empty() {
        if let Some(q) = rest.strip_prefix('"') {
            let end = q.find('"').ok_or_else(|| LexError {
                line,
                message: format!("unmatched quote: {raw}"),
            })?;
            words.push(q[..end].to_string());
            rest = &q[end + 1..];
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
            words.push(rest[..end].to_string());
            rest = &rest[end..];
        }
        rest = rest.trim_start();
    }
    Ok(Piece::Words {
        words,
        raw: raw.to_string(),
    })
}
