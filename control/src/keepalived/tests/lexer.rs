//! keepalived's line syntax: comments, quotes, braces anywhere.

use super::super::lexer::{lex, Piece};
use super::super::parse_text;

fn words(p: &Piece) -> Vec<&str> {
    match p {
        Piece::Words { words, .. } => words.iter().map(String::as_str).collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn comments_quotes_and_escapes() {
    let l = lex("a b # c\n! all comment\nx \"y # z\" w ! c\nq \\#1 \\!2\n").unwrap();
    assert_eq!(l.len(), 3);
    assert_eq!((l[0].line, words(&l[0].piece)), (1, vec!["a", "b"]));
    assert_eq!(
        (l[1].line, words(&l[1].piece)),
        (3, vec!["x", "y # z", "w"])
    );
    assert_eq!(words(&l[2].piece), ["q", "#1", "!2"]);
}

#[test]
fn braces_stand_alone_wherever_written() {
    let l = lex("vs 1 {a 2} b\n{\n}}\n").unwrap();
    let kinds: Vec<String> = l
        .iter()
        .map(|x| match &x.piece {
            Piece::Words { words, .. } => words.join(" "),
            Piece::Open => "{".into(),
            Piece::Close => "}".into(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["vs 1", "{", "a 2", "}", "b", "{", "}", "}"]);
}

#[test]
fn a_trailing_backslash_continues_the_line() {
    let l = lex("notify_up \"/bin/x \\\n  arg\"\nnext\n").unwrap();
    assert_eq!(l[0].line, 1);
    assert_eq!(words(&l[0].piece), ["notify_up", "/bin/x   arg"]);
    assert_eq!((l[1].line, words(&l[1].piece)), (3, vec!["next"]));
}

#[test]
fn include_and_unsupported_lines() {
    let l = lex("include /etc/k/*.conf\nincluder x\n$X=1\n@main a\n~SEQ(i,1,2) a\ninclude_x y\n")
        .unwrap();
    assert_eq!(l[0].piece, Piece::Include("/etc/k/*.conf".into()));
    assert_eq!(l[1].piece, Piece::Include("x".into()));
    assert!(matches!(l[2].piece, Piece::Unsupported(_)));
    assert!(matches!(l[3].piece, Piece::Unsupported(_)));
    assert!(matches!(l[4].piece, Piece::Unsupported(_)));
    assert_eq!(words(&l[5].piece), ["include_x", "y"]);
    assert_eq!(lex("a \"b\n").unwrap_err().line, 1);
}

#[test]
fn a_block_may_open_on_the_next_line() {
    let mut d = Vec::new();
    let t = parse_text(
        "k.conf",
        "virtual_server 1.2.3.4 80\n{\n  lb_algo rr\n}\n",
        &mut d,
    )
    .unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].children()[0].words, ["lb_algo", "rr"]);
    let e = parse_text("k.conf", "a\nb 1\nc {\n", &mut d).unwrap_err();
    assert_eq!(e.to_string(), "k.conf:3: '{' is never closed");
    let e = parse_text("k.conf", "{\n}\n", &mut d).unwrap_err();
    assert_eq!(e.to_string(), "k.conf:1: '{' with no keyword before it");
}
