//! The PromQL lexer: a state machine that yields one token per call, with the same
//! modes as Prometheus's (statements, inside braces, inside brackets) so that the same
//! inputs are accepted and the same lexical errors reported.

use crate::strings::{decode_rune, go_quote, go_quote_rune, go_unicode_format, RUNE_ERROR};
use crate::token::{keyword, Kind};

const EOF: i32 = -1;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Token {
    pub kind: Kind,
    pub pos: usize,
    pub end: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Statements,
    InsideBraces,
    DurationExpr,
    QuotedString,
    Escape,
    LineComment,
    NumberOrDuration,
}

pub struct Lexer<'a> {
    input: &'a [u8],
    pos: usize,
    start: usize,
    width: usize,
    state: Option<State>,
    /// The token the last state emitted, if any (kept as plain fields: cheaper to move
    /// than an Option<Token>).
    emitted: bool,
    emitted_kind: Kind,
    emitted_pos: usize,
    emitted_end: usize,
    /// Message of the last Error token.
    pub error: String,
    /// Where the first byte that is not UTF-8 stands in a comment, the only place
    /// Prometheus lets such bytes through.
    pub invalid_utf8_at: Option<usize>,
    paren_depth: i32,
    brace_open: bool,
    bracket_open: bool,
    got_colon: bool,
    got_duration: bool,
    string_open: i32,
}

fn is_space(r: i32) -> bool {
    r == ' ' as i32 || r == '\t' as i32 || r == '\n' as i32 || r == '\r' as i32
}

fn is_alpha(r: i32) -> bool {
    r == '_' as i32 || (r >= 'a' as i32 && r <= 'z' as i32) || (r >= 'A' as i32 && r <= 'Z' as i32)
}

fn is_digit(r: i32) -> bool {
    r >= '0' as i32 && r <= '9' as i32
}

fn is_alnum(r: i32) -> bool {
    is_alpha(r) || is_digit(r)
}

fn rune_of(r: i32) -> u32 {
    if r < 0 {
        RUNE_ERROR
    } else {
        r as u32
    }
}

fn q(r: i32) -> String {
    go_quote_rune(rune_of(r))
}

fn digit_val(r: i32) -> u32 {
    match r {
        r if is_digit(r) => (r - '0' as i32) as u32,
        r if r >= 'a' as i32 && r <= 'f' as i32 => (r - 'a' as i32 + 10) as u32,
        r if r >= 'A' as i32 && r <= 'F' as i32 => (r - 'A' as i32 + 10) as u32,
        _ => 16,
    }
}

const DECIMAL: &str = "0123456789";
const HEX: &str = "0123456789abcdefABCDEF";

impl<'a> Lexer<'a> {
    pub fn new(input: &'a [u8]) -> Lexer<'a> {
        Lexer {
            input,
            pos: 0,
            start: 0,
            width: 0,
            state: Some(State::Statements),
            emitted: false,
            emitted_kind: Kind::Eof,
            emitted_pos: 0,
            emitted_end: 0,
            error: String::new(),
            invalid_utf8_at: None,
            paren_depth: 0,
            brace_open: false,
            bracket_open: false,
            got_colon: false,
            got_duration: false,
            string_open: 0,
        }
    }

    /// The next token, comments included. After the end (or an error) it yields Eof forever.
    pub fn next_token(&mut self) -> Token {
        loop {
            if self.emitted {
                self.emitted = false;
                return Token {
                    kind: self.emitted_kind,
                    pos: self.emitted_pos,
                    end: self.emitted_end,
                };
            }
            match self.state {
                None => {
                    return Token {
                        kind: Kind::Eof,
                        pos: self.pos,
                        end: self.pos,
                    };
                }
                Some(st) => self.state = self.run(st),
            }
        }
    }

    fn next(&mut self) -> i32 {
        if let Some(&b) = self.input.get(self.pos) {
            if b < 0x80 {
                self.width = 1;
                self.pos += 1;
                return b as i32;
            }
        }
        match decode_rune(&self.input[self.pos.min(self.input.len())..]) {
            None => {
                self.width = 0;
                EOF
            }
            Some((r, w)) => {
                self.width = w;
                self.pos += w;
                r as i32
            }
        }
    }

    fn backup(&mut self) {
        self.pos -= self.width;
    }

    fn peek(&mut self) -> i32 {
        let r = self.next();
        self.backup();
        r
    }

    fn accept(&mut self, valid: &str) -> bool {
        let r = self.next();
        if r >= 0 && valid.bytes().any(|b| b as i32 == r) {
            return true;
        }
        self.backup();
        false
    }

    fn is(&mut self, valid: &str) -> bool {
        let r = self.peek();
        r >= 0 && valid.bytes().any(|b| b as i32 == r)
    }

    fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    fn emit(&mut self, kind: Kind) {
        self.emitted = true;
        self.emitted_kind = kind;
        self.emitted_pos = self.start;
        self.emitted_end = self.pos;
        self.start = self.pos;
    }

    fn ignore(&mut self) {
        self.start = self.pos;
    }

    fn fail(&mut self, msg: String) -> Option<State> {
        self.error = msg;
        self.emitted = true;
        self.emitted_kind = Kind::Error;
        self.emitted_pos = self.start;
        self.emitted_end = self.input.len();
        None
    }

    fn run(&mut self, st: State) -> Option<State> {
        match st {
            State::Statements => self.statements(),
            State::InsideBraces => self.inside_braces(),
            State::DurationExpr => self.duration_expr(),
            State::QuotedString => self.quoted_string(),
            State::Escape => self.escape(),
            State::LineComment => {
                self.pos += 1;
                let mut r = self.next();
                while r != EOF && r != '\n' as i32 && r != '\r' as i32 {
                    if r == RUNE_ERROR as i32 && self.width == 1 && self.invalid_utf8_at.is_none() {
                        self.invalid_utf8_at = Some(self.pos - 1);
                    }
                    r = self.next();
                }
                self.backup();
                self.emit(Kind::Comment);
                Some(State::Statements)
            }
            State::NumberOrDuration => self.number_or_duration(),
        }
    }

    fn statements(&mut self) -> Option<State> {
        if self.brace_open {
            return Some(State::InsideBraces);
        }
        if self.input[self.pos..].starts_with(b"#") {
            return Some(State::LineComment);
        }
        let r = self.next();
        let c = if (0..128).contains(&r) {
            r as u8 as char
        } else {
            '\u{0}'
        };
        match c {
            _ if r == EOF => {
                if self.paren_depth != 0 {
                    return self.fail("unclosed left parenthesis".into());
                }
                if self.bracket_open {
                    return self.fail("unclosed left bracket".into());
                }
                self.emit(Kind::Eof);
                return None;
            }
            ',' => self.emit(Kind::Comma),
            // The states a token continues in are called directly rather than returned,
            // which saves a round through next_token per token; the result is the same.
            _ if is_space(r) => {
                self.skip_spaces();
                return self.statements();
            }
            '*' => self.emit(Kind::Mul),
            '/' => self.emit(Kind::Div),
            '%' => self.emit(Kind::Mod),
            '+' => self.emit(Kind::Add),
            '-' => self.emit(Kind::Sub),
            '^' => self.emit(Kind::Pow),
            '=' => {
                let t = self.peek();
                if t == '=' as i32 {
                    self.next();
                    self.emit(Kind::Eqlc);
                } else if t == '~' as i32 {
                    return self.fail(format!("unexpected character after '=': {}", q(t)));
                } else {
                    self.emit(Kind::Eql);
                }
            }
            '!' => {
                let t = self.next();
                if t != '=' as i32 {
                    return self.fail(format!("unexpected character after '!': {}", q(t)));
                }
                self.emit(Kind::Neq);
            }
            '<' | '>' => {
                let t = self.peek();
                let (eq, trim, plain) = if c == '<' {
                    (Kind::Lte, Kind::TrimUpper, Kind::Lss)
                } else {
                    (Kind::Gte, Kind::TrimLower, Kind::Gtr)
                };
                if t == '=' as i32 {
                    self.next();
                    self.emit(eq);
                } else if t == '/' as i32 {
                    self.next();
                    self.emit(trim);
                } else {
                    self.emit(plain);
                }
            }
            _ if is_digit(r) || (c == '.' && is_digit(self.peek())) => {
                self.backup();
                return self.number_or_duration();
            }
            '"' | '\'' => {
                self.string_open = r;
                return self.quoted_string();
            }
            '`' => {
                self.string_open = r;
                return self.raw_string();
            }
            _ if is_alpha(r) || c == ':' => {
                if !self.bracket_open {
                    self.backup();
                    return self.keyword_or_identifier();
                }
                if c == ':' {
                    if self.got_colon {
                        return self.fail(format!("unexpected colon {}", q(r)));
                    }
                    self.emit(Kind::Colon);
                    self.got_colon = true;
                    return Some(State::Statements);
                }
                if is_duration_keyword_start(r) && self.scan_duration_keyword() {
                    return Some(State::Statements);
                }
                return self.fail(format!(
                    "unexpected character: {}, expected {}",
                    q(r),
                    q(':' as i32)
                ));
            }
            '(' => {
                self.emit(Kind::LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                self.emit(Kind::RightParen);
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.fail(format!("unexpected right parenthesis {}", q(r)));
                }
            }
            '{' => {
                self.emit(Kind::LeftBrace);
                self.brace_open = true;
                return Some(State::InsideBraces);
            }
            '[' => {
                if self.bracket_open {
                    return self.fail(format!("unexpected left bracket {}", q(r)));
                }
                self.got_colon = false;
                self.emit(Kind::LeftBracket);
                self.skip_spaces();
                self.bracket_open = true;
                return Some(State::DurationExpr);
            }
            ']' => {
                if !self.bracket_open {
                    return self.fail(format!("unexpected right bracket {}", q(r)));
                }
                self.emit(Kind::RightBracket);
                self.bracket_open = false;
            }
            '@' => self.emit(Kind::At),
            _ => return self.fail(format!("unexpected character: {}", q(r))),
        }
        Some(State::Statements)
    }

    fn inside_braces(&mut self) -> Option<State> {
        if self.input[self.pos..].starts_with(b"#") {
            return Some(State::LineComment);
        }
        let r = self.next();
        if r == EOF {
            return self.fail("unexpected end of input inside braces".into());
        }
        if is_space(r) {
            self.skip_spaces();
            return self.inside_braces();
        }
        if is_alpha(r) {
            self.backup();
            self.pos += self.input[self.pos..]
                .iter()
                .take_while(|&&b| is_alnum(b as i32))
                .count();
            self.emit(Kind::Identifier);
            return Some(State::Statements);
        }
        match r as u32 {
            0x2C => self.emit(Kind::Comma),
            0x22 | 0x27 => {
                self.string_open = r;
                return self.quoted_string();
            }
            0x60 => {
                self.string_open = r;
                return self.raw_string();
            }
            0x3D => {
                if self.next() == '~' as i32 {
                    self.emit(Kind::EqlRegex);
                } else {
                    self.backup();
                    self.emit(Kind::Eql);
                }
            }
            0x21 => {
                let nr = self.next();
                if nr == '~' as i32 {
                    self.emit(Kind::NeqRegex);
                } else if nr == '=' as i32 {
                    self.emit(Kind::Neq);
                } else {
                    return self.fail(format!(
                        "unexpected character after '!' inside braces: {}",
                        q(nr)
                    ));
                }
            }
            0x7B => return self.fail(format!("unexpected left brace {}", q(r))),
            0x7D => {
                self.emit(Kind::RightBrace);
                self.brace_open = false;
                return Some(State::Statements);
            }
            _ => return self.fail(format!("unexpected character inside braces: {}", q(r))),
        }
        Some(State::InsideBraces)
    }

    fn duration_expr(&mut self) -> Option<State> {
        let r = self.next();
        if r == EOF {
            return self.fail("unexpected end of input in duration expression".into());
        }
        let kind = match r as u32 {
            0x5D => {
                self.emit(Kind::RightBracket);
                self.bracket_open = false;
                self.got_colon = false;
                return Some(State::Statements);
            }
            0x3A => {
                self.emit(Kind::Colon);
                if !self.got_duration {
                    return self
                        .fail("unexpected colon before duration in duration expression".into());
                }
                if self.got_colon {
                    return self.fail("unexpected repeated colon in duration expression".into());
                }
                self.got_colon = true;
                return Some(State::DurationExpr);
            }
            0x28 => {
                self.emit(Kind::LeftParen);
                self.paren_depth += 1;
                return Some(State::DurationExpr);
            }
            0x29 => {
                self.emit(Kind::RightParen);
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.fail(format!("unexpected right parenthesis {}", q(r)));
                }
                return Some(State::DurationExpr);
            }
            0x2B => Kind::Add,
            0x2D => Kind::Sub,
            0x2A => Kind::Mul,
            0x2F => Kind::Div,
            0x25 => Kind::Mod,
            0x5E => Kind::Pow,
            0x2C => Kind::Comma,
            _ if is_space(r) => {
                self.skip_spaces();
                return Some(State::DurationExpr);
            }
            _ if is_duration_keyword_start(r) => {
                if self.scan_duration_keyword() {
                    return Some(State::DurationExpr);
                }
                return self.fail(format!(
                    "unexpected character in duration expression: {}",
                    q(r)
                ));
            }
            _ if is_digit(r) || (r == '.' as i32 && is_digit(self.peek())) => {
                self.backup();
                self.got_duration = true;
                return Some(State::NumberOrDuration);
            }
            _ => {
                return self.fail(format!(
                    "unexpected character in duration expression: {}",
                    q(r)
                ))
            }
        };
        self.emit(kind);
        Some(State::DurationExpr)
    }

    fn scan_duration_keyword(&mut self) -> bool {
        loop {
            let r = self.next();
            if is_alpha(r) {
                continue;
            }
            self.backup();
            let word = self.input[self.start..self.pos].to_ascii_lowercase();
            let kind = match word.as_slice() {
                b"step" => Kind::Step,
                b"range" => Kind::Range,
                b"max_of" => Kind::MaxOf,
                b"min_of" => Kind::MinOf,
                _ => return false,
            };
            self.emit(kind);
            return true;
        }
    }

    fn skip_spaces(&mut self) {
        self.pos += self.input[self.pos..]
            .iter()
            .take_while(|&&b| is_space(b as i32))
            .count();
        self.ignore();
    }

    /// Skips the plain ASCII bytes of a string body, up to anything the string states
    /// must look at.
    fn skip_plain_string_bytes(&mut self, escapes: bool) {
        let quote = self.string_open as u8;
        self.pos += self.input[self.pos..]
            .iter()
            .take_while(|&&b| b < 0x80 && b != quote && !(escapes && (b == b'\\' || b == b'\n')))
            .count();
    }

    fn quoted_string(&mut self) -> Option<State> {
        loop {
            self.skip_plain_string_bytes(true);
            let r = self.next();
            if r == '\\' as i32 {
                return Some(State::Escape);
            }
            if r == RUNE_ERROR as i32 {
                return self.fail("invalid UTF-8 rune".into());
            }
            if r == EOF || r == '\n' as i32 {
                return self.fail("unterminated quoted string".into());
            }
            if r == self.string_open {
                break;
            }
        }
        self.emit(Kind::Str);
        Some(State::Statements)
    }

    fn raw_string(&mut self) -> Option<State> {
        loop {
            self.skip_plain_string_bytes(false);
            let r = self.next();
            if r == RUNE_ERROR as i32 {
                return self.fail("invalid UTF-8 rune".into());
            }
            if r == EOF {
                return self.fail("unterminated raw string".into());
            }
            if r == self.string_open {
                break;
            }
        }
        self.emit(Kind::Str);
        Some(State::Statements)
    }

    fn escape(&mut self) -> Option<State> {
        let mut ch = self.next();
        let (mut n, base, max): (u32, u32, u32) = match ch {
            _ if ch == self.string_open => return Some(State::QuotedString),
            0x61 | 0x62 | 0x66 | 0x6E | 0x72 | 0x74 | 0x76 | 0x5C => {
                return Some(State::QuotedString)
            }
            0x30..=0x37 => (3, 8, 255),
            0x78 => {
                ch = self.next();
                (2, 16, 255)
            }
            0x75 => {
                ch = self.next();
                (4, 16, 0x10FFFF)
            }
            0x55 => {
                ch = self.next();
                (8, 16, 0x10FFFF)
            }
            EOF => return self.fail("escape sequence not terminated".into()),
            _ => {
                return self.fail(format!(
                    "unknown escape sequence {}",
                    go_unicode_format(rune_of(ch))
                ))
            }
        };
        let mut x: u64 = 0;
        while n > 0 {
            let d = digit_val(ch);
            if d >= base {
                if ch == EOF {
                    return self.fail("escape sequence not terminated".into());
                }
                return self.fail(format!(
                    "illegal character {} in escape sequence",
                    go_unicode_format(rune_of(ch))
                ));
            }
            x = x * base as u64 + d as u64;
            n -= 1;
            if n > 0 {
                ch = self.next();
            }
        }
        if x > max as u64 || (0xD800..0xE000).contains(&x) {
            return self.fail("escape sequence is an invalid Unicode code point".into());
        }
        Some(State::QuotedString)
    }

    fn number_or_duration(&mut self) -> Option<State> {
        if self.scan_number() {
            self.emit(Kind::Number);
            return Some(State::Statements);
        }
        if self.accept_remaining_duration() {
            self.backup();
            self.emit(Kind::Duration);
            return Some(State::Statements);
        }
        let text = go_quote(&self.input[self.start..self.pos]);
        self.fail(format!("bad number or duration syntax: {}", text))
    }

    fn accept_remaining_duration(&mut self) -> bool {
        if !self.accept("smhdwy") {
            return false;
        }
        self.accept("s");
        while self.accept(DECIMAL) {
            while self.accept(DECIMAL) {}
            if !self.accept("smhdw") {
                return false;
            }
            self.accept("s");
        }
        let r = self.next();
        !is_alnum(r)
    }

    fn scan_number(&mut self) -> bool {
        let initial = self.pos;
        let mut digits = DECIMAL;
        if self.accept("0") && self.accept("xX") {
            self.accept("_");
            digits = HEX;
        }
        self.accept(".");
        self.accept(digits);
        let mut dot = false;
        let mut exp = false;
        loop {
            let r = self.peek();
            let number_char = r >= 0
                && (digits.bytes().any(|b| b as i32 == r) || "._eE".bytes().any(|b| b as i32 == r));
            if !number_char {
                break;
            }
            if self.is(".") && dot {
                self.accept(".");
                return false;
            }
            if self.is("eE") && exp {
                self.accept("eE");
                return false;
            }
            if self.accept(".") {
                dot = true;
                if self.accept("_.") {
                    return false;
                }
                if digits.len() > 10 {
                    return false;
                }
                continue;
            }
            if self.accept("eE") {
                exp = true;
                self.accept("+-");
                if self.accept("._eE") || self.peek() == EOF {
                    return false;
                }
                continue;
            }
            if self.accept("_") {
                if self.accept("._eE") || self.peek() == EOF {
                    return false;
                }
                continue;
            }
            self.accept_run(digits);
        }
        if self.pos == initial {
            return false;
        }
        !is_alnum(self.peek())
    }

    fn keyword_or_identifier(&mut self) -> Option<State> {
        self.pos += self.input[self.pos..]
            .iter()
            .take_while(|&&b| is_alnum(b as i32) || b == b':')
            .count();
        let word = &self.input[self.start..self.pos];
        // Keywords are at most 12 bytes: lowercase into a buffer on the stack.
        let mut buf = [0u8; 12];
        let kw = if word.len() <= buf.len() {
            buf[..word.len()].copy_from_slice(word);
            buf[..word.len()].make_ascii_lowercase();
            keyword(&buf[..word.len()])
        } else {
            None
        };
        match kw {
            Some(k @ (Kind::Fill | Kind::FillLeft | Kind::FillRight)) => {
                if self.followed_by_left_paren() {
                    self.emit(k)
                } else {
                    self.emit(Kind::Identifier)
                }
            }
            Some(k) => self.emit(k),
            None if !word.contains(&b':') => self.emit(Kind::Identifier),
            None => self.emit(Kind::MetricIdentifier),
        }
        Some(State::Statements)
    }

    fn followed_by_left_paren(&self) -> bool {
        self.input[self.pos..]
            .iter()
            .find(|&&b| !is_space(b as i32))
            .map_or(false, |&b| b == b'(')
    }
}

fn is_duration_keyword_start(r: i32) -> bool {
    matches!(r as u32, 0x73 | 0x72 | 0x6D | 0x53 | 0x52 | 0x4D)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Result<Vec<(Kind, String)>, (usize, String)> {
        let mut lx = Lexer::new(input.as_bytes());
        let mut out = Vec::new();
        loop {
            let t = lx.next_token();
            match t.kind {
                Kind::Eof => return Ok(out),
                Kind::Error => return Err((t.pos, lx.error.clone())),
                k => out.push((k, input[t.pos..t.end].to_string())),
            }
        }
    }

    #[test]
    fn token_streams() {
        use Kind::*;
        let cases: &[(&str, &[(Kind, &str)])] = &[
            (
                "foo{a=~\"b\"}[5m:1m]",
                &[
                    (Identifier, "foo"),
                    (LeftBrace, "{"),
                    (Identifier, "a"),
                    (EqlRegex, "=~"),
                    (Str, "\"b\""),
                    (RightBrace, "}"),
                    (LeftBracket, "["),
                    (Duration, "5m"),
                    (Colon, ":"),
                    (Duration, "1m"),
                    (RightBracket, "]"),
                ],
            ),
            (
                "a:b offset 1h30m",
                &[
                    (MetricIdentifier, "a:b"),
                    (Offset, "offset"),
                    (Duration, "1h30m"),
                ],
            ),
            (
                "0x_1F .5e-3 Inf",
                &[(Number, "0x_1F"), (Number, ".5e-3"), (Number, "Inf")],
            ),
            (
                "fill + fill(1)",
                &[
                    (Identifier, "fill"),
                    (Add, "+"),
                    (Fill, "fill"),
                    (LeftParen, "("),
                    (Number, "1"),
                    (RightParen, ")"),
                ],
            ),
            (
                "foo[ step() ]",
                &[
                    (Identifier, "foo"),
                    (LeftBracket, "["),
                    (Step, "step"),
                    (LeftParen, "("),
                    (RightParen, ")"),
                    (RightBracket, "]"),
                ],
            ),
            (
                "a </ b >/ c",
                &[
                    (Identifier, "a"),
                    (TrimUpper, "</"),
                    (Identifier, "b"),
                    (TrimLower, ">/"),
                    (Identifier, "c"),
                ],
            ),
            ("# c\nx", &[(Comment, "# c"), (Identifier, "x")]),
        ];
        for (input, want) in cases {
            let got = kinds(input).unwrap();
            let want: Vec<(Kind, String)> = want.iter().map(|(k, s)| (*k, s.to_string())).collect();
            assert_eq!(got, want, "{}", input);
        }
    }

    #[test]
    fn lexical_errors() {
        let cases: &[(&str, usize, &str)] = &[
            ("0deadbeef", 0, "bad number or duration syntax: \"0de\""),
            ("2.5.", 0, "bad number or duration syntax: \"2.5.\""),
            ("(1))", 4, "unexpected right parenthesis ')'"),
            ("((1)", 4, "unclosed left parenthesis"),
            ("1 =~ 1", 2, "unexpected character after '=': '~'"),
            ("foo{1}", 4, "unexpected character inside braces: '1'"),
            ("\"\\c\"", 0, "unknown escape sequence U+0063 'c'"),
            (
                "\"\\x.\"",
                0,
                "illegal character U+002E '.' in escape sequence",
            ),
            ("\"\\", 0, "escape sequence not terminated"),
            ("`\\``", 3, "unterminated raw string"),
            ("foo[5s x 5s]", 7, "unexpected character: 'x', expected ':'"),
            (
                "foo[\"5m\"]",
                4,
                "unexpected character in duration expression: '\"'",
            ),
            ("x{a=\"\u{FFFD}\"}", 4, "invalid UTF-8 rune"),
        ];
        for (input, pos, msg) in cases {
            assert_eq!(
                kinds(input).unwrap_err(),
                (*pos, msg.to_string()),
                "{}",
                input
            );
        }
    }
}
