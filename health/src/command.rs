//! keepalived's splitting of a script's command line into words (its
//! `set_script_params_array`), used for `misc_path` and the notify and quorum
//! scripts alike: one home, sans-IO, so the configuration and the probes
//! read a command line the same way.

/// Why a command line could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("{0:?} has an unterminated {1} quote")]
    UnmatchedQuote(String, char),
    #[error("{0:?} ends with a lone backslash")]
    TrailingBackslash(String),
    #[error("must not be empty")]
    Empty,
}

/// Splits a `misc_path` value into words as keepalived does (`set_script_params_array`).
/// The value is the keyword's argument once the configuration reader has removed its own
/// quotes: keepalived takes only that one argument, so `misc_path "/bin/x -a 'b c'"` gives
/// `["/bin/x", "-a", "b c"]` while an unquoted `misc_path /bin/x -a` gives just `/bin/x`.
///
/// Words are separated by blanks; `"..."`
/// and `'...'` group (both let `\` escape inside them); `\` escapes `\a \b \E \f \n \r \t
/// \v`, `\xHH`, `\cX` (control character), `\NNN` (octal), and anything else stands for
/// itself. There is no variable, glob or tilde expansion: the words go to `execve` as they
/// are.
pub fn split_command(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| is_blank(*c)) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(&c) = chars.peek() {
            match (c, quote) {
                ('\\', _) => {
                    chars.next();
                    let Some(escaped) = chars.next() else {
                        return Err(SplitError::TrailingBackslash(line.to_owned()));
                    };
                    word.push(unescape(escaped, &mut chars));
                }
                (q, None) if q == '"' || q == '\'' => {
                    quote = Some(q);
                    chars.next();
                }
                (q, Some(open)) if q == open => {
                    quote = None;
                    chars.next();
                }
                (c, None) if is_blank(c) => break,
                (c, _) => {
                    word.push(c);
                    chars.next();
                }
            }
        }
        if let Some(open) = quote {
            return Err(SplitError::UnmatchedQuote(line.to_owned(), open));
        }
        words.push(word);
    }
    if words.is_empty() {
        return Err(SplitError::Empty);
    }
    Ok(words)
}

/// keepalived's `WHITE_SPACE`: blanks and the line ends its reader may leave.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

/// The character a backslash sequence stands for; `first` is the character after the `\`.
fn unescape(first: char, rest: &mut std::iter::Peekable<std::str::Chars<'_>>) -> char {
    match first {
        'x' if rest.peek().is_some_and(|c| c.is_ascii_hexdigit()) => {
            let mut value = 0u32;
            for _ in 0..2 {
                match rest.peek().and_then(|c| c.to_digit(16)) {
                    Some(d) => {
                        value = value * 16 + d;
                        rest.next();
                    }
                    None => break,
                }
            }
            char::from_u32(value).unwrap_or('\u{fffd}')
        }
        'c' if rest.peek().is_some() => {
            let c = rest.next().map_or(0, |c| c as u32);
            char::from_u32(c & 0x1f).unwrap_or('\u{fffd}')
        }
        '0'..='7' => {
            let mut value = first as u32 - '0' as u32;
            for _ in 0..2 {
                match rest.peek().and_then(|c| c.to_digit(8)) {
                    Some(d) => {
                        value = value * 8 + d;
                        rest.next();
                    }
                    None => break,
                }
            }
            // keepalived keeps the low byte (it stores into a char).
            char::from_u32(value & 0xff).unwrap_or('\u{fffd}')
        }
        'a' => '\x07',
        'b' => '\x08',
        'E' => '\x1b',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Vec<String> {
        split_command(s).unwrap_or_else(|e| vec![format!("ERR {e}")])
    }

    #[test]
    fn words_quotes_and_escapes() {
        assert_eq!(split("/bin/check  -a b"), ["/bin/check", "-a", "b"]);
        assert_eq!(split("  x \"a b\" 'c d'e"), ["x", "a b", "c de"]);
        assert_eq!(split(r#"x "say \"hi\"""#), ["x", "say \"hi\""]);
        assert_eq!(
            split(r"x a\ b \t \x41\x4a \101 \cA \q"),
            ["x", "a b", "\t", "AJ", "A", "\x01", "q"]
        );
        assert_eq!(split("x 'a\"b'"), ["x", "a\"b"]);
        assert_eq!(split("x $HOME *"), ["x", "$HOME", "*"]);
    }

    #[test]
    fn bad_lines() {
        assert_eq!(
            split_command("x \"open"),
            Err(SplitError::UnmatchedQuote("x \"open".into(), '"'))
        );
        assert_eq!(
            split_command("x \\"),
            Err(SplitError::TrailingBackslash("x \\".into()))
        );
        assert_eq!(split_command("   "), Err(SplitError::Empty));
    }
}
