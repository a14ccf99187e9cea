//! The error value every stage returns: a message, the byte offset it refers to and its
//! kind (which the ABI reports as the call's status). It is boxed: results pass through
//! every parsing function, and a small error keeps them cheap to move.

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub struct Error(Box<Detail>);

/// Why a query is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Every ordinary refusal: lexing, parsing, type checks, invalid matchers, bad regexes.
    Syntax,
    /// Nesting past the parser's depth limit.
    TooDeep,
    /// An input, or an enforced text, past its size limit.
    TooLarge,
    /// A query over a complexity limit (its nodes, or the type-check cost it would put on
    /// the upstream; see `complexity`).
    TooComplex,
}

#[derive(Clone, Debug, PartialEq)]
struct Detail {
    /// Byte offset into the query the error refers to; `None` for errors without a position.
    pos: Option<usize>,
    msg: String,
    kind: Kind,
}

impl Error {
    /// A syntax error at byte offset `pos`.
    pub fn at(pos: usize, msg: impl Into<String>) -> Error {
        Error(Box::new(Detail {
            pos: Some(pos),
            msg: msg.into(),
            kind: Kind::Syntax,
        }))
    }

    /// A syntax error without a position.
    pub fn plain(msg: impl Into<String>) -> Error {
        Error(Box::new(Detail {
            pos: None,
            msg: msg.into(),
            kind: Kind::Syntax,
        }))
    }

    /// The same error, of `kind`.
    pub fn with_kind(mut self, kind: Kind) -> Error {
        self.0.kind = kind;
        self
    }

    pub fn kind(&self) -> Kind {
        self.0.kind
    }

    pub fn pos(&self) -> Option<usize> {
        self.0.pos
    }

    pub fn message(&self) -> &str {
        &self.0.msg
    }

    /// 1-based line and column (column counts bytes in the line), as Prometheus reports
    /// them; an empty query has its errors at 1:1 (where Prometheus says "unknown position").
    pub fn line_col(&self, query: &[u8]) -> Option<(usize, usize)> {
        let pos = self.0.pos?;
        if pos > query.len() {
            return None;
        }
        let mut line = 1;
        let mut last_break: isize = -1;
        for (i, &b) in query[..pos].iter().enumerate() {
            if b == b'\n' {
                line += 1;
                last_break = i as isize;
            }
        }
        Some((line, (pos as isize - last_break) as usize))
    }

    /// The full message Prometheus would print, e.g. `1:5: parse error: unexpected <op:+>`.
    pub fn render(&self, query: &[u8]) -> String {
        match (self.0.pos, self.line_col(query)) {
            (None, _) => self.0.msg.clone(),
            (Some(_), Some((l, c))) => format!("{}:{}: parse error: {}", l, c, self.0.msg),
            (Some(_), None) => format!("invalid position: parse error: {}", self.0.msg),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.msg)
    }
}

pub type Result<T> = std::result::Result<T, Error>;
