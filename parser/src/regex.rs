//! Label-matcher regexes, checked the way Prometheus checks them.
//!
//! Prometheus compiles the value of a `=~`/`!~` matcher with Go's regexp package
//! (RE2 syntax, Perl flags, `.` matching newline) and anchors it as `^(?s:VALUE)$`.
//! The gateway must refuse exactly what Prometheus refuses, with Go's error text,
//! and must know whether a matcher matches the empty string (a vector selector whose
//! matchers all do is refused). [`check`] answers both without building an automaton.
//!
//! The parser mirrors the shape of Go's `regexp/syntax` parser: an explicit stack of
//! parsed pieces with pseudo entries for `(` and `|`, so no input can make it recurse,
//! and everything is linear in the length of the pattern. Go's resource limits
//! (tree height 1000, repeat counts 1000 and their nested product, compiled size,
//! rune count of character classes) are reproduced from per-entry facts (height,
//! size, counted repetitions) that follow Go's tree shape, so the same patterns are
//! refused with the same message, in the same order as other errors.
//!
//! Go factors common prefixes out of alternations (`abc|abd` becomes `ab[cd]`), which
//! changes its tree's size and height (500 alternatives `ac|aac|aaac|...` nest too
//! deeply). That is reproduced for alternations of literals and single pieces, and
//! so is Go's habit of counting a literal at the size it had when first measured.
//! Known difference, at Go's size limit only: alternatives that are concatenations
//! sharing a literal prefix (`ab*|ac*`) are not factored, so a pattern of that form
//! close to the size limit may be refused as too large where Go reports another
//! error or accepts it.

use std::fmt::Write as _;

/// Whether `pattern`, anchored as Prometheus anchors it, matches the empty string.
///
/// `Ok(true)`: `^(?s:pattern)$` matches "". `Ok(false)`: it does not.
/// `Err(message)`: Go's `regexp` refuses the pattern; the message is Go's, e.g.
/// ``error parsing regexp: missing closing ): `(` ``.
pub fn check(pattern: &str) -> Result<bool, String> {
    check_raw(pattern.as_bytes())
}

/// [`check`] for a value that may hold bytes that are not UTF-8 (PromQL string
/// escapes such as `"\xff"` can produce them): Go reads such bytes as invalid runes.
pub fn check_bytes(pattern: &[u8]) -> Result<bool, String> {
    match std::str::from_utf8(pattern) {
        Ok(text) => check(text),
        Err(_) => check_raw(pattern),
    }
}

fn check_raw(pattern: &[u8]) -> Result<bool, String> {
    // Prometheus never parses a value made only of literal alternatives
    // (`a|b|c` without metacharacters): it matches them as strings.
    // That also means invalid UTF-8 in such a value is accepted.
    if pattern.iter().all(|b| !is_meta(*b) || *b == b'|') {
        return Ok(pattern.split(|b| *b == b'|').any(|alt| alt.is_empty()));
    }
    let mut parser = Parser::new(pattern);
    match parser.parse() {
        // Prometheus then compiles `^(?s:` + the parsed pattern + `)$`, whose
        // concatenation can take the tree one level over Go's height limit.
        Ok(root) if wrapped_height(&root) > MAX_HEIGHT => {
            let mut message =
                String::from("error parsing regexp: expression nests too deeply: `^(?s:");
            push_lossy(&mut message, pattern);
            message.push_str(")$`");
            Err(message)
        }
        Ok(root) => Ok(root.nullable),
        Err(e) => Err(e.message(pattern)),
    }
}

/// The characters Go's `regexp.QuoteMeta` escapes.
fn is_meta(b: u8) -> bool {
    matches!(
        b,
        b'\\'
            | b'.'
            | b'+'
            | b'*'
            | b'?'
            | b'('
            | b')'
            | b'|'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'^'
            | b'$'
    )
}

// ---------------------------------------------------------------------------
// Errors

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Code {
    InvalidCharRange,
    InvalidEscape,
    InvalidNamedCapture,
    InvalidPerlOp,
    InvalidRepeatOp,
    InvalidRepeatSize,
    InvalidUtf8,
    MissingBracket,
    MissingParen,
    MissingRepeatArgument,
    TrailingBackslash,
    UnexpectedParen,
    NestingDepth,
    Large,
}

impl Code {
    fn text(self) -> &'static str {
        match self {
            Code::InvalidCharRange => "invalid character class range",
            Code::InvalidEscape => "invalid escape sequence",
            Code::InvalidNamedCapture => "invalid named capture",
            Code::InvalidPerlOp => "invalid or unsupported Perl syntax",
            Code::InvalidRepeatOp => "invalid nested repetition operator",
            Code::InvalidRepeatSize => "invalid repeat count",
            Code::InvalidUtf8 => "invalid UTF-8",
            Code::MissingBracket => "missing closing ]",
            Code::MissingParen => "missing closing )",
            Code::MissingRepeatArgument => "missing argument to repetition operator",
            Code::TrailingBackslash => "trailing backslash at end of expression",
            Code::UnexpectedParen => "unexpected )",
            Code::NestingDepth => "expression nests too deeply",
            Code::Large => "expression too large",
        }
    }
}

/// A refusal: Go's error code and the part of the pattern Go quotes (a byte range).
#[derive(Debug)]
struct Error {
    code: Code,
    start: usize,
    end: usize,
}

impl Error {
    fn message(&self, pattern: &[u8]) -> String {
        let mut out = String::with_capacity(self.end - self.start + 64);
        let _ = write!(out, "error parsing regexp: {}: `", self.code.text());
        push_lossy(&mut out, &pattern[self.start..self.end]);
        out.push('`');
        out
    }
}

/// Appends bytes as text, each byte of an invalid sequence becoming U+FFFD,
/// which is what Go's JSON encoder makes of them in Prometheus's answer.
fn push_lossy(out: &mut String, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match decode(bytes, 0, bytes.len()) {
            Some((c, n)) => {
                out.push(char::from_u32(c).unwrap_or('\u{FFFD}'));
                bytes = &bytes[n..];
            }
            None => {
                out.push('\u{FFFD}');
                bytes = &bytes[1..];
            }
        }
    }
}

type PResult<T> = Result<T, Error>;

/// Decodes the rune at `s[i..end]` like Go's `utf8.DecodeRuneInString`:
/// `Some((U+FFFD, 0))` at the end, `None` for an invalid encoding.
fn decode(s: &[u8], i: usize, end: usize) -> Option<(u32, usize)> {
    if i >= end {
        return Some((0xFFFD, 0));
    }
    let b0 = s[i];
    if b0 < 0x80 {
        return Some((b0 as u32, 1));
    }
    let cont = |k: usize, lo: u8, hi: u8| -> Option<u32> {
        if i + k < end && s[i + k] >= lo && s[i + k] <= hi {
            Some((s[i + k] & 0x3F) as u32)
        } else {
            None
        }
    };
    match b0 {
        0xC2..=0xDF => {
            let c1 = cont(1, 0x80, 0xBF)?;
            Some((((b0 & 0x1F) as u32) << 6 | c1, 2))
        }
        0xE0..=0xEF => {
            let (lo, hi) = match b0 {
                0xE0 => (0xA0, 0xBF),
                0xED => (0x80, 0x9F),
                _ => (0x80, 0xBF),
            };
            let c1 = cont(1, lo, hi)?;
            let c2 = cont(2, 0x80, 0xBF)?;
            Some((((b0 & 0x0F) as u32) << 12 | c1 << 6 | c2, 3))
        }
        0xF0..=0xF4 => {
            let (lo, hi) = match b0 {
                0xF0 => (0x90, 0xBF),
                0xF4 => (0x80, 0x8F),
                _ => (0x80, 0xBF),
            };
            let c1 = cont(1, lo, hi)?;
            let c2 = cont(2, 0x80, 0xBF)?;
            let c3 = cont(3, 0x80, 0xBF)?;
            Some((((b0 & 0x07) as u32) << 18 | c1 << 12 | c2 << 6 | c3, 4))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Limits (Go's regexp/syntax constants)

const MAX_REPEAT: i64 = 1000;
const MAX_HEIGHT: u32 = 1000;
/// Compiled program size limit: 128 MiB of 40-byte instructions.
const MAX_SIZE: i64 = (128 << 20) / 40;
/// Character-class rune limit: 128 MiB of 4-byte runes.
const MAX_RUNES: i64 = (128 << 20) / 4;
const MAX_RUNE: u32 = 0x10FFFF;

/// The only flag that changes an answer: case folding decides which literals Go
/// merges (and so the shape of its tree). (?m), (?s) and (?U) are parsed but change
/// neither validity nor whether "" matches (`^`, `$` and `.` behave alike on "").
const FOLD_CASE: u8 = 1;

// ---------------------------------------------------------------------------
// The parse stack
//
// Go keeps a stack of parse trees. Here each entry only keeps what decides Go's
// answer: whether it matches "", its height and compiled size (Go's limits), its
// rune counts, whether it is a literal or class that Go would merge, and the
// repetitions inside it (Go's nested repeat-count rule). Nothing else of the tree is
// kept, so memory stays a small constant per stack entry and per `{n,m}`.

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
enum Op {
    NoMatch,
    Empty,
    // The next three are "character-class-like" and ordered by generality,
    // as Go orders them when merging alternatives.
    Literal,
    Class,
    AnyChar,
    Assertion,
    Capture,
    Star,
    Plus,
    Quest,
    Repeat,
    Concat,
    Alternate,
    // Pseudo entries that live only on the parse stack.
    LeftParen,
    VerticalBar,
}

const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct Node {
    op: Op,
    /// Literal: case-folded (merges only with literals of the same kind).
    fold: bool,
    nullable: bool,
    /// LeftParen: whether the group captures, and the flags to restore at its `)`.
    capture: bool,
    flags: u8,
    height: u16,
    /// Runes held: literal length, or the (estimated) length of a class's range list.
    runes: u32,
    /// Go's estimate of the compiled size (saturating; only compared with MAX_SIZE).
    size: u32,
    /// The outermost repetitions `{n,m}` inside this entry, as a list in `Parser::repeats`.
    reps: u32,
    reps_tail: u32,
    /// Literal: where its runes start in `Parser::text` (NONE when they are not
    /// stored contiguously), for Go's factoring of common prefixes in alternations.
    text: u32,
    /// Literal: the size Go last recorded for it. Go memoizes sizes once it starts
    /// measuring and does not update a literal's entry when later runes join it, so
    /// a concatenation counts the literal at that older size.
    memo: u32,
}

impl Node {
    fn leaf(op: Op, nullable: bool) -> Node {
        Node {
            op,
            fold: false,
            nullable,
            capture: false,
            flags: 0,
            height: 1,
            runes: 0,
            size: 1,
            reps: NONE,
            reps_tail: NONE,
            text: NONE,
            memo: NONE,
        }
    }

    /// A literal whose runes start at `text` in `Parser::text`.
    fn literal(text: u32, runes: u32, fold: bool) -> Node {
        Node {
            fold,
            runes,
            size: runes.max(1),
            text,
            ..Node::leaf(Op::Literal, false)
        }
    }

    fn class(runes: u32) -> Node {
        Node {
            runes,
            ..Node::leaf(Op::Class, false)
        }
    }

    /// A node over one sub-node (capture, star, plus, quest, repeat).
    fn over(op: Op, sub: &Node, nullable: bool, size: u64) -> Node {
        Node {
            nullable,
            height: sub.height.saturating_add(1),
            size: clamp_size(size),
            reps: sub.reps,
            reps_tail: sub.reps_tail,
            ..Node::leaf(op, nullable)
        }
    }

    fn is_pseudo(&self) -> bool {
        self.op >= Op::LeftParen
    }

    fn is_char_class_like(&self) -> bool {
        (self.op == Op::Literal && self.runes == 1)
            || self.op == Op::Class
            || self.op == Op::AnyChar
    }
}

/// Height of `^(?s:root)$`: the anchors join a top-level concatenation, or add one.
fn wrapped_height(root: &Node) -> u32 {
    root.height as u32 + if root.op == Op::Concat { 0 } else { 1 }
}

fn clamp_size(size: u64) -> u32 {
    size.clamp(1, u32::MAX as u64) as u32
}

/// A counted repetition `{min,max}` (max -1: unbounded) and the outermost
/// repetitions inside it.
#[derive(Clone, Copy, Debug)]
struct Repetition {
    min: i16,
    max: i16,
    inner: u32,
    next: u32,
}

/// An alternative as Go's factoring of alternations sees it: a literal whose runes
/// are known, or any other piece.
#[derive(Clone, Copy, Debug)]
enum Alt {
    Literal { start: u32, len: u32, fold: bool },
    Other(Node),
}

impl Alt {
    /// Whether Go's factoring is reproduced for an alternation of such entries:
    /// literals with stored runes, and pieces that cannot start with a literal.
    /// Alternations holding concatenations or nested alternations are combined
    /// without factoring.
    fn is_factorable(node: &Node) -> bool {
        match node.op {
            Op::Literal => node.text != NONE,
            Op::Concat | Op::Alternate => false,
            _ => true,
        }
    }

    fn of(node: &Node) -> Alt {
        if node.op == Op::Literal && node.text != NONE {
            Alt::Literal {
                start: node.text,
                len: node.runes,
                fold: node.fold,
            }
        } else {
            Alt::Other(*node)
        }
    }

    /// Its leading literal (start, length in runes) and case mode; length 0 if none.
    fn leading(&self) -> (u32, u32, bool) {
        match *self {
            Alt::Literal { start, len, fold } => (start, len, fold),
            Alt::Other(_) => (0, 0, false),
        }
    }

    fn is_empty_match(&self) -> bool {
        matches!(self, Alt::Other(n) if n.op == Op::Empty)
    }

    fn is_char_class_like(&self) -> bool {
        match self {
            Alt::Literal { len, .. } => *len == 1,
            Alt::Other(n) => n.is_char_class_like(),
        }
    }
}

/// One alternation being factored: Go's first round walks it, and recurses on the
/// suffixes of each run of alternatives sharing a literal prefix.
struct FactorFrame {
    alts: Vec<Alt>,
    i: usize,
    start: usize,
    /// The common prefix of alts[start..i]: (start, length, case mode).
    prefix: (u32, u32, bool),
    out: Vec<Alt>,
    /// While a run's suffixes are factored: the run's prefix, and the leading
    /// literal of alts[i] that starts the next run.
    waiting: Option<((u32, u32, bool), (u32, u32, bool))>,
}

impl FactorFrame {
    fn new(alts: Vec<Alt>) -> FactorFrame {
        FactorFrame {
            alts,
            i: 0,
            start: 0,
            prefix: (0, 0, false),
            out: Vec::new(),
            waiting: None,
        }
    }
}

/// What a `[...]`, `\d`, `\pL` or `[:alpha:]` produced.
enum ClassResult {
    /// A class that is one rune (or one rune in both cases): Go turns it into a literal.
    Literal {
        ch: u32,
        fold: bool,
    },
    Class {
        runes: i64,
    },
}

// ---------------------------------------------------------------------------
// The parser

struct Parser<'a> {
    src: &'a [u8],
    stack: Vec<Node>,
    repeats: Vec<Repetition>,
    /// The runes of literals, in the order they were read.
    text: Vec<u32>,
    flags: u8,
    /// Go's count of allocated regexp nodes (fresh allocations, not reuses).
    num_regexp: i64,
    free: i64,
    num_runes: i64,
    /// Product of the repeat counts seen before size tracking started.
    repeat_product: i64,
    tracking_size: bool,
    close_brace: Finder,
    close_angle: Finder,
    colon_bracket: Finder,
    end_quote: Finder,
}

/// Finds the next occurrence of a byte pattern at or after a position that only
/// grows, scanning each byte of the input at most once over the whole parse.
struct Finder {
    needle: &'static [u8],
    from: usize,
    found: Option<usize>,
    scanned: bool,
}

impl Finder {
    fn new(needle: &'static [u8]) -> Finder {
        Finder {
            needle,
            from: 0,
            found: None,
            scanned: false,
        }
    }

    fn find(&mut self, hay: &[u8], from: usize) -> Option<usize> {
        if self.scanned && from >= self.from {
            match self.found {
                None => return None,
                Some(at) if at >= from => return Some(at),
                Some(_) => {}
            }
        }
        let n = self.needle.len();
        let mut at = None;
        let mut i = from;
        while i + n <= hay.len() {
            if &hay[i..i + n] == self.needle {
                at = Some(i);
                break;
            }
            i += 1;
        }
        self.from = from;
        self.found = at;
        self.scanned = true;
        at
    }
}

impl<'a> Parser<'a> {
    fn new(src: &'a [u8]) -> Parser<'a> {
        Parser {
            src,
            stack: Vec::new(),
            repeats: Vec::new(),
            text: Vec::new(),
            flags: 0,
            num_regexp: 0,
            free: 0,
            num_runes: 0,
            repeat_product: 0,
            tracking_size: false,
            close_brace: Finder::new(b"}"),
            close_angle: Finder::new(b">"),
            colon_bracket: Finder::new(b":]"),
            end_quote: Finder::new(b"\\E"),
        }
    }

    fn err<T>(&self, code: Code, start: usize, end: usize) -> PResult<T> {
        Err(Error { code, start, end })
    }

    fn whole<T>(&self, code: Code) -> PResult<T> {
        self.err(code, 0, self.src.len())
    }

    /// The rune at `i` (before `end`), or Go's invalid-UTF-8 error quoting `i..end`.
    fn rune_at(&self, i: usize, end: usize) -> PResult<(u32, usize)> {
        match decode(self.src, i, end) {
            Some(r) => Ok(r),
            None => self.err(Code::InvalidUtf8, i, end),
        }
    }

    fn check_utf8(&self, start: usize, end: usize) -> PResult<()> {
        let mut i = start;
        while i < end {
            let (_, n) = self.rune_at(i, end)?;
            i += n;
        }
        Ok(())
    }

    // --- Go's node allocation accounting (it gates the size check) ---

    fn alloc(&mut self) {
        if self.free > 0 {
            self.free -= 1;
        } else {
            self.num_regexp += 1;
        }
    }

    fn reuse(&mut self) {
        self.free += 1;
    }

    // --- limits ---

    fn check_limits(&mut self, node: &Node) -> PResult<()> {
        if self.num_runes > MAX_RUNES {
            return self.whole(Code::Large);
        }
        self.check_size(node)?;
        if self.tracking_size {
            if let Some(top) = self.stack.last_mut() {
                if top.op == Op::Literal {
                    top.memo = top.size;
                }
            }
        }
        if node.height as u32 > MAX_HEIGHT {
            return self.whole(Code::NestingDepth);
        }
        Ok(())
    }

    fn check_size(&mut self, node: &Node) -> PResult<()> {
        if !self.tracking_size {
            // Go starts measuring only once nodes times repeat product could exceed the budget.
            if self.repeat_product == 0 {
                self.repeat_product = 1;
            }
            if node.op == Op::Repeat {
                let r = self.repeats[node.reps as usize];
                let mut count = if r.max == -1 {
                    r.min as i64
                } else {
                    r.max as i64
                };
                if count <= 0 {
                    count = 1;
                }
                if count > MAX_SIZE / self.repeat_product {
                    self.repeat_product = MAX_SIZE;
                } else {
                    self.repeat_product *= count;
                }
            }
            if self.num_regexp < MAX_SIZE / self.repeat_product {
                return Ok(());
            }
            self.tracking_size = true;
            if self.stack.iter().any(|n| n.size as i64 > MAX_SIZE) {
                return self.whole(Code::Large);
            }
            for entry in self.stack.iter_mut().filter(|n| n.op == Op::Literal) {
                entry.memo = entry.size;
            }
        }
        if node.size as i64 > MAX_SIZE {
            return self.whole(Code::Large);
        }
        Ok(())
    }

    /// The size Go uses for `node` as a part of a bigger piece.
    fn go_size(&self, node: &Node) -> u64 {
        if self.tracking_size && node.op == Op::Literal && node.memo != NONE {
            node.memo as u64
        } else {
            node.size as u64
        }
    }

    // --- stack manipulation ---

    /// Merges the two topmost entries when both are literals of the same case mode
    /// (Go's incremental string building). Returns whether it merged.
    fn maybe_concat(&mut self) -> bool {
        let n = self.stack.len();
        if n < 2 {
            return false;
        }
        let (top, below) = (self.stack[n - 1], self.stack[n - 2]);
        if top.op != Op::Literal || below.op != Op::Literal || top.fold != below.fold {
            return false;
        }
        let merged = &mut self.stack[n - 2];
        let contiguous = merged.text != NONE
            && top.text != NONE
            && merged.text as u64 + merged.runes as u64 == top.text as u64;
        if !contiguous {
            merged.text = NONE;
        }
        merged.runes = merged.runes.saturating_add(top.runes);
        merged.size = merged.runes.max(1);
        self.stack.pop();
        true
    }

    fn push(&mut self, node: Node) -> PResult<()> {
        self.num_runes += node.runes as i64;
        if self.maybe_concat() {
            self.reuse();
        }
        self.stack.push(node);
        self.check_limits(&node)
    }

    fn push_new(&mut self, node: Node) -> PResult<()> {
        self.alloc();
        self.push(node)
    }

    fn literal(&mut self, c: u32) -> PResult<()> {
        let fold = self.flags & FOLD_CASE != 0;
        let c = if fold { min_fold(c) } else { c };
        let literal = self.stored_literal(c, fold);
        self.push_new(literal)
    }

    fn stored_literal(&mut self, c: u32, fold: bool) -> Node {
        self.text.push(c);
        Node::literal((self.text.len() - 1) as u32, 1, fold)
    }

    /// Pushes a class Go has already allocated (its node counted by the caller).
    fn push_class(&mut self, class: ClassResult) -> PResult<()> {
        match class {
            ClassResult::Class { runes } => {
                self.push(Node::class(runes.clamp(0, u32::MAX as i64) as u32))
            }
            ClassResult::Literal { ch, fold } => {
                // A one-rune class becomes a literal. When the two entries below are
                // literals Go merges them and recycles the upper one for this rune.
                self.num_runes += if fold { 4 } else { 2 };
                let literal = self.stored_literal(ch, fold);
                let recycled_memo = self.stack.last().map_or(NONE, |top| top.memo);
                if self.maybe_concat() {
                    // Go's recycled node keeps what it had recorded for its old rune.
                    self.stack.push(Node {
                        memo: recycled_memo,
                        ..literal
                    });
                    return Ok(());
                }
                self.stack.push(literal);
                self.check_limits(&literal)
            }
        }
    }

    /// Index of the first stack entry above the topmost pseudo entry.
    fn above_pseudo(&self) -> usize {
        let mut i = self.stack.len();
        while i > 0 && !self.stack[i - 1].is_pseudo() {
            i -= 1;
        }
        i
    }

    /// Replaces the entries above the topmost `|` or `(` with their concatenation.
    fn concat(&mut self) -> PResult<()> {
        if self.maybe_concat() {
            self.reuse();
        }
        let i = self.above_pseudo();
        match self.stack.len() - i {
            0 => self.push_new(Node::leaf(Op::Empty, true)),
            1 => {
                let only = self
                    .stack
                    .pop()
                    .unwrap_or_else(|| Node::leaf(Op::Empty, true));
                self.push(only)
            }
            _ => {
                self.alloc();
                let node = self.collapse(i, Op::Concat);
                self.push(node)
            }
        }
    }

    /// Replaces the entries above the topmost `(` with their alternation.
    fn alternate(&mut self) -> PResult<()> {
        let i = self.above_pseudo();
        match self.stack.len() - i {
            0 => self.push_new(Node::leaf(Op::NoMatch, false)),
            1 => {
                let only = self
                    .stack
                    .pop()
                    .unwrap_or_else(|| Node::leaf(Op::NoMatch, false));
                self.push(only)
            }
            _ if self.stack[i..].iter().all(Alt::is_factorable) => {
                self.alloc();
                let alts: Vec<Alt> = self.stack.split_off(i).iter().map(Alt::of).collect();
                let node = self.factor(alts);
                self.push(node)
            }
            _ => {
                self.alloc();
                // Go collapses runs of empty alternatives into one.
                let mut w = i;
                for r in i..self.stack.len() {
                    let entry = self.stack[r];
                    if entry.op == Op::Empty && w > i && self.stack[w - 1].op == Op::Empty {
                        continue;
                    }
                    self.stack[w] = entry;
                    w += 1;
                }
                self.stack.truncate(w);
                let node = if w - i == 1 {
                    self.reuse();
                    self.stack
                        .pop()
                        .unwrap_or_else(|| Node::leaf(Op::NoMatch, false))
                } else {
                    self.collapse(i, Op::Alternate)
                };
                self.push(node)
            }
        }
    }

    /// Pops the entries from `from` up and combines them into one concatenation or
    /// alternation. Go flattens nested ones of the same kind; height and size are
    /// computed as on its flattened tree.
    fn collapse(&mut self, from: usize, op: Op) -> Node {
        let subs = self.stack.split_off(from);
        self.combine(&subs, op)
    }

    /// A concatenation or alternation of `subs` (see `collapse`).
    fn combine(&mut self, subs: &[Node], op: Op) -> Node {
        let mut nullable = op == Op::Concat;
        let mut height: u16 = 0;
        let mut size: u64 = 0;
        let mut direct: u64 = 0;
        let (mut head, mut tail) = (NONE, NONE);
        for &sub in subs {
            if op == Op::Concat {
                nullable &= sub.nullable;
            } else {
                nullable |= sub.nullable;
            }
            if sub.op == op {
                // Go hoists the children and recycles this node; its own size
                // already counts the separators between its alternatives.
                self.reuse();
                height = height.max(sub.height.saturating_sub(1));
            } else {
                height = height.max(sub.height);
            }
            direct += 1;
            size += self.go_size(&sub);
            if sub.reps != NONE {
                if head == NONE {
                    head = sub.reps;
                } else {
                    self.repeats[tail as usize].next = sub.reps;
                }
                tail = sub.reps_tail;
            }
        }
        if op == Op::Alternate && direct > 1 {
            size += direct - 1;
        }
        Node {
            nullable,
            height: height.saturating_add(1),
            size: clamp_size(size),
            reps: head,
            reps_tail: tail,
            ..Node::leaf(op, nullable)
        }
    }

    /// The node Go makes of an alternation: common literal prefixes factored out
    /// (`abc|abd` is `ab(?:c|d)`), runs of one-rune alternatives merged into one class,
    /// runs of empty alternatives into one. Walked with an explicit stack of frames.
    fn factor(&mut self, alts: Vec<Alt>) -> Node {
        let mut frames = vec![FactorFrame::new(alts)];
        let mut returned: Option<Node> = None;
        loop {
            let depth = frames.len();
            let frame = match frames.last_mut() {
                Some(frame) => frame,
                None => return returned.unwrap_or_else(|| Node::leaf(Op::NoMatch, false)),
            };
            if let Some(suffix) = returned.take() {
                if let Some((prefix, next)) = frame.waiting.take() {
                    frame.out.push(Alt::Other(concat_prefix(prefix, &suffix)));
                    frame.start = frame.i;
                    frame.prefix = next;
                    frame.i += 1;
                }
            }
            match self.first_round(frame) {
                Some(suffixes) => {
                    // Go allocates the prefix, the concatenation and the suffix alternation.
                    self.alloc();
                    self.alloc();
                    self.alloc();
                    frames.push(FactorFrame::new(suffixes));
                }
                None => {
                    let out = std::mem::take(&mut frame.out);
                    frames.pop();
                    let node = self.finish_factoring(out);
                    if depth > 1 && node.op != Op::Alternate {
                        self.reuse();
                    }
                    returned = Some(node);
                }
            }
        }
    }

    /// Continues Go's first factoring round over `frame`; returns the suffixes of a
    /// run sharing a literal prefix when they must be factored first.
    fn first_round(&self, frame: &mut FactorFrame) -> Option<Vec<Alt>> {
        let n = frame.alts.len();
        while frame.i <= n {
            let next = if frame.i < n {
                frame.alts[frame.i].leading()
            } else {
                (0, 0, false)
            };
            if frame.i < n && next.2 == frame.prefix.2 {
                let same = self.common_prefix(frame.prefix, next);
                if same > 0 {
                    frame.prefix.1 = same;
                    frame.i += 1;
                    continue;
                }
            }
            if frame.i == frame.start + 1 {
                frame.out.push(frame.alts[frame.start]);
            } else if frame.i > frame.start + 1 {
                let cut = frame.prefix.1;
                let suffixes = frame.alts[frame.start..frame.i]
                    .iter()
                    .map(|alt| match *alt {
                        Alt::Literal { start, len, fold } if len > cut => Alt::Literal {
                            start: start + cut,
                            len: len - cut,
                            fold,
                        },
                        _ => Alt::Other(Node::leaf(Op::Empty, true)),
                    })
                    .collect();
                frame.waiting = Some((frame.prefix, next));
                return Some(suffixes);
            }
            frame.start = frame.i;
            frame.prefix = next;
            frame.i += 1;
        }
        None
    }

    /// Number of leading runes two stored literals share.
    fn common_prefix(&self, a: (u32, u32, bool), b: (u32, u32, bool)) -> u32 {
        let len = a.1.min(b.1);
        let mut k = 0;
        while k < len && self.text[(a.0 + k) as usize] == self.text[(b.0 + k) as usize] {
            k += 1;
        }
        k
    }

    /// Go's later factoring rounds (one-rune alternatives into classes, empty runs
    /// into one), then the alternation node.
    fn finish_factoring(&mut self, out: Vec<Alt>) -> Node {
        let mut merged: Vec<Alt> = Vec::with_capacity(out.len());
        let mut k = 0;
        while k < out.len() {
            let mut end = k + 1;
            if out[k].is_char_class_like() {
                while end < out.len() && out[end].is_char_class_like() {
                    end += 1;
                }
            }
            if end - k == 1 {
                merged.push(out[k]);
            } else {
                for _ in k + 1..end {
                    self.reuse();
                }
                merged.push(self.merge_class_run(&out[k..end]));
            }
            k = end;
        }
        let mut kept: Vec<Node> = Vec::with_capacity(merged.len());
        for (k, alt) in merged.iter().enumerate() {
            if alt.is_empty_match() && merged.get(k + 1).map_or(false, Alt::is_empty_match) {
                continue;
            }
            kept.push(self.alt_node(alt));
        }
        if kept.len() == 1 {
            return kept[0];
        }
        self.combine(&kept, Op::Alternate)
    }

    /// One class (or literal, or any-char) for a run of one-rune alternatives.
    fn merge_class_run(&self, run: &[Alt]) -> Alt {
        let first = run[0];
        let same_literal = run.iter().all(|alt| match (*alt, first) {
            (
                Alt::Literal { start, fold, .. },
                Alt::Literal {
                    start: s0,
                    fold: f0,
                    ..
                },
            ) => fold == f0 && self.text[start as usize] == self.text[s0 as usize],
            _ => false,
        });
        if same_literal {
            return first;
        }
        if run
            .iter()
            .any(|alt| matches!(alt, Alt::Other(n) if n.op == Op::AnyChar))
        {
            return Alt::Other(Node::leaf(Op::AnyChar, false));
        }
        let runes: u32 = run
            .iter()
            .map(|alt| match alt {
                Alt::Other(n) => n.runes.max(2),
                Alt::Literal { .. } => 2,
            })
            .fold(0u32, |a, b| a.saturating_add(b));
        Alt::Other(Node::class(runes))
    }

    /// Go's rule for merging two character-class-like alternatives into one.
    fn merge_char_class(&self, a: &Node, b: &Node) -> Node {
        if a.op == Op::AnyChar || b.op == Op::AnyChar {
            return Node::leaf(Op::AnyChar, false);
        }
        // One-rune literals always have their rune stored.
        let rune = |n: &Node| self.text.get(n.text as usize).copied();
        if a.op == Op::Literal && b.op == Op::Literal && a.fold == b.fold && rune(a) == rune(b) {
            return *a;
        }
        Node::class(a.runes.max(2) + b.runes.max(2))
    }

    fn alt_node(&self, alt: &Alt) -> Node {
        match *alt {
            Alt::Literal { start, len, fold } => Node::literal(start, len, fold),
            Alt::Other(node) => node,
        }
    }

    /// If the entry on top sits above a `|`, moves it below (or merges it into the
    /// alternative below when both are character classes). Returns whether a `|` was found.
    fn swap_vertical_bar(&mut self) -> bool {
        let n = self.stack.len();
        if n >= 3 && self.stack[n - 2].op == Op::VerticalBar {
            let (a, b) = (self.stack[n - 3], self.stack[n - 1]);
            if a.is_char_class_like() && b.is_char_class_like() {
                self.stack[n - 3] = self.merge_char_class(&a, &b);
                self.stack.pop();
                self.reuse();
                return true;
            }
        }
        if n >= 2 && self.stack[n - 2].op == Op::VerticalBar {
            self.stack.swap(n - 1, n - 2);
            return true;
        }
        false
    }

    fn parse_vertical_bar(&mut self) -> PResult<()> {
        self.concat()?;
        if !self.swap_vertical_bar() {
            self.push_new(Node::leaf(Op::VerticalBar, false))?;
        }
        Ok(())
    }

    fn parse_right_paren(&mut self) -> PResult<()> {
        self.concat()?;
        if self.swap_vertical_bar() {
            self.stack.pop();
        }
        self.alternate()?;
        if self.stack.len() < 2 {
            return self.whole(Code::UnexpectedParen);
        }
        let inner = self
            .stack
            .pop()
            .unwrap_or_else(|| Node::leaf(Op::Empty, true));
        let paren = self
            .stack
            .pop()
            .unwrap_or_else(|| Node::leaf(Op::Empty, true));
        if paren.op != Op::LeftParen {
            return self.whole(Code::UnexpectedParen);
        }
        self.flags = paren.flags;
        if !paren.capture {
            return self.push(inner);
        }
        // Go turns the paren entry itself into the capture: no new allocation.
        let inner_size = self.go_size(&inner);
        let capture = Node::over(Op::Capture, &inner, inner.nullable, inner_size + 2);
        self.push(capture)
    }

    fn open_paren(&mut self, capture: bool) -> PResult<()> {
        let node = Node {
            flags: self.flags,
            capture,
            ..Node::leaf(Op::LeftParen, false)
        };
        self.push_new(node)
    }

    /// Applies a repetition operator to the entry on top. `before` is where the
    /// operator starts, `after` just past it; returns the position after an
    /// optional non-greedy `?`.
    fn repeat(
        &mut self,
        op: Op,
        min: i64,
        max: i64,
        before: usize,
        mut after: usize,
        last_repeat: Option<usize>,
    ) -> PResult<usize> {
        if after < self.src.len() && self.src[after] == b'?' {
            after += 1;
        }
        if let Some(last) = last_repeat {
            // Perl forbids stacking repetition operators: a** is an error.
            return self.err(Code::InvalidRepeatOp, last, after);
        }
        let sub = match self.stack.last() {
            Some(&top) if !top.is_pseudo() => top,
            _ => return self.err(Code::MissingRepeatArgument, before, after),
        };
        self.alloc();
        let sub_size = self.go_size(&sub);
        let node = match op {
            Op::Star => Node::over(op, &sub, true, sub_size + 2),
            Op::Plus => Node::over(op, &sub, sub.nullable, sub_size + 1),
            Op::Quest => Node::over(op, &sub, true, sub_size + 1),
            _ => {
                // min and max are at most MAX_REPEAT here, so these cannot overflow.
                let size = if max == -1 {
                    if min == 0 {
                        sub_size + 2
                    } else {
                        sub_size * min as u64 + 1
                    }
                } else {
                    sub_size * max as u64 + (max - min) as u64
                };
                let id = self.repeats.len() as u32;
                self.repeats.push(Repetition {
                    min: min as i16,
                    max: max as i16,
                    inner: sub.reps,
                    next: NONE,
                });
                Node {
                    reps: id,
                    reps_tail: id,
                    ..Node::over(op, &sub, min == 0 || sub.nullable, size)
                }
            }
        };
        let last = self.stack.len() - 1;
        self.stack[last] = node;
        self.check_limits(&node)?;
        if op == Op::Repeat && (min >= 2 || max >= 2) && !self.repeat_is_valid(node.reps) {
            return self.err(Code::InvalidRepeatSize, before, after);
        }
        Ok(after)
    }

    /// Whether the repetition and the repetitions nested in it stay within
    /// MAX_REPEAT copies of the innermost piece (Go's rule, walked without recursion).
    fn repeat_is_valid(&self, root: u32) -> bool {
        let mut work: Vec<(u32, i64)> = vec![(root, MAX_REPEAT)];
        while let Some((id, mut n)) = work.pop() {
            let r = self.repeats[id as usize];
            let mut m = r.max as i64;
            if m == 0 {
                continue;
            }
            if m < 0 {
                m = r.min as i64;
            }
            if m > n {
                return false;
            }
            if m > 0 {
                n /= m;
            }
            let mut inner = r.inner;
            while inner != NONE {
                work.push((inner, n));
                inner = self.repeats[inner as usize].next;
            }
        }
        true
    }

    // --- the main loop ---

    fn parse(&mut self) -> PResult<Node> {
        let src = self.src;
        let n = src.len();
        let mut i = 0;
        let mut last_repeat: Option<usize> = None;
        while i < n {
            let mut this_repeat: Option<usize> = None;
            match src[i] {
                b'(' => {
                    if i + 1 < n && src[i + 1] == b'?' {
                        i = self.parse_perl_flags(i)?;
                    } else {
                        self.open_paren(true)?;
                        i += 1;
                    }
                }
                b'|' => {
                    self.parse_vertical_bar()?;
                    i += 1;
                }
                b')' => {
                    self.parse_right_paren()?;
                    i += 1;
                }
                b'^' | b'$' => {
                    // Begin/end of text or line: all hold at the start of an empty input.
                    self.push_new(Node::leaf(Op::Assertion, true))?;
                    i += 1;
                }
                b'.' => {
                    self.push_new(Node::leaf(Op::AnyChar, false))?;
                    i += 1;
                }
                b'[' => {
                    self.alloc();
                    let (class, next) = self.parse_class(i)?;
                    self.push_class(class)?;
                    i = next;
                }
                b'*' | b'+' | b'?' => {
                    let op = match src[i] {
                        b'*' => Op::Star,
                        b'+' => Op::Plus,
                        _ => Op::Quest,
                    };
                    let after = self.repeat(op, 0, 0, i, i + 1, last_repeat)?;
                    this_repeat = Some(i);
                    i = after;
                }
                b'{' => match self.parse_repeat(i) {
                    None => {
                        // Not a well-formed {n,m}: a literal brace.
                        self.literal(b'{' as u32)?;
                        i += 1;
                    }
                    Some((min, max, after)) => {
                        if min < 0
                            || min > MAX_REPEAT
                            || max > MAX_REPEAT
                            || (max >= 0 && min > max)
                        {
                            return self.err(Code::InvalidRepeatSize, i, after);
                        }
                        let after = self.repeat(Op::Repeat, min, max, i, after, last_repeat)?;
                        this_repeat = Some(i);
                        i = after;
                    }
                },
                b'\\' => i = self.parse_backslash(i)?,
                _ => {
                    let (c, len) = self.rune_at(i, n)?;
                    self.literal(c)?;
                    i += len;
                }
            }
            last_repeat = this_repeat;
        }
        self.concat()?;
        if self.swap_vertical_bar() {
            self.stack.pop();
        }
        self.alternate()?;
        if self.stack.len() != 1 {
            return self.whole(Code::MissingParen);
        }
        Ok(self.stack[0])
    }

    fn parse_backslash(&mut self, i: usize) -> PResult<usize> {
        let src = self.src;
        let n = src.len();
        if i + 1 < n {
            let assertion = |nullable| Node::leaf(Op::Assertion, nullable);
            match src[i + 1] {
                b'A' | b'z' | b'B' => {
                    self.push_new(assertion(true))?;
                    return Ok(i + 2);
                }
                // A word boundary needs a word character next to it: never in "".
                b'b' => {
                    self.push_new(assertion(false))?;
                    return Ok(i + 2);
                }
                b'C' => return self.err(Code::InvalidEscape, i, i + 2),
                b'Q' => {
                    let start = i + 2;
                    let (lit_end, next) = match self.end_quote.find(src, start) {
                        Some(at) => (at, at + 2),
                        None => (n, n),
                    };
                    let mut j = start;
                    while j < lit_end {
                        let (c, len) = self.rune_at(j, lit_end)?;
                        self.literal(c)?;
                        j += len;
                    }
                    return Ok(next);
                }
                _ => {}
            }
        }
        // Go allocates a class node here and recycles it for a plain escape.
        self.alloc();
        if i + 1 < n && (src[i + 1] == b'p' || src[i + 1] == b'P') {
            let (_, runes, next) = self.parse_unicode_class(i)?;
            self.push_class(ClassResult::Class { runes })?;
            return Ok(next);
        }
        if let Some(runes) = perl_class(src, i) {
            self.push_class(ClassResult::Class { runes })?;
            return Ok(i + 2);
        }
        self.reuse();
        let (c, next) = self.parse_escape(i)?;
        self.literal(c)?;
        Ok(next)
    }

    /// Parses `{min}`, `{min,}` or `{min,max}` at `i`: `None` when it is not of that
    /// form (then `{` is a literal); `min == -1` when a number is too large.
    fn parse_repeat(&self, i: usize) -> Option<(i64, i64, usize)> {
        let src = self.src;
        let n = src.len();
        let mut j = i + 1;
        let (mut min, nj) = parse_int(src, j)?;
        j = nj;
        if j >= n {
            return None;
        }
        let max;
        if src[j] != b',' {
            max = min;
        } else {
            j += 1;
            if j >= n {
                return None;
            }
            if src[j] == b'}' {
                max = -1;
            } else {
                let (m, nj) = parse_int(src, j)?;
                j = nj;
                max = m;
                if m < 0 {
                    min = -1;
                }
            }
        }
        if j >= n || src[j] != b'}' {
            return None;
        }
        Some((min, max, j + 1))
    }

    /// Parses `(?flags)`, `(?flags:`, `(?P<name>` or `(?<name>` at `i`.
    fn parse_perl_flags(&mut self, i: usize) -> PResult<usize> {
        let src = self.src;
        let n = src.len();
        let len = n - i;
        let python_name = len > 4 && src[i + 2] == b'P' && src[i + 3] == b'<';
        let perl_name = len > 3 && src[i + 2] == b'<';
        if python_name || perl_name {
            let name_start = if python_name { i + 4 } else { i + 3 };
            let end = match self.close_angle.find(src, i) {
                Some(at) => at,
                None => {
                    self.check_utf8(i, n)?;
                    return self.err(Code::InvalidNamedCapture, i, n);
                }
            };
            self.check_utf8(name_start, end)?;
            let name = &src[name_start..end];
            if name.is_empty() || !name.iter().all(|b| *b == b'_' || b.is_ascii_alphanumeric()) {
                return self.err(Code::InvalidNamedCapture, i, end + 1);
            }
            self.open_paren(true)?;
            return Ok(end + 1);
        }

        let mut j = i + 2;
        let mut flags = self.flags;
        let mut negated = false;
        let mut saw_flag = false;
        while j < n {
            let (c, l) = self.rune_at(j, n)?;
            j += l;
            match char::from_u32(c).unwrap_or('\u{FFFD}') {
                'i' => {
                    flags |= FOLD_CASE;
                    saw_flag = true;
                }
                'm' | 's' | 'U' => saw_flag = true,
                '-' => {
                    if negated {
                        break;
                    }
                    negated = true;
                    // Inverted, so that setting a bit above clears it.
                    flags = !flags;
                    saw_flag = false;
                }
                ':' | ')' => {
                    if negated {
                        if !saw_flag {
                            break;
                        }
                        flags = !flags;
                    }
                    if c == ':' as u32 {
                        self.open_paren(false)?;
                    }
                    self.flags = flags;
                    return Ok(j);
                }
                _ => break,
            }
        }
        self.err(Code::InvalidPerlOp, i, j)
    }

    /// Parses a single-rune escape at `i` (which holds the backslash).
    fn parse_escape(&self, i: usize) -> PResult<(u32, usize)> {
        let src = self.src;
        let n = src.len();
        let t = i + 1;
        if t >= n {
            return self.err(Code::TrailingBackslash, n, n);
        }
        let (c, l) = self.rune_at(t, n)?;
        let mut j = t + l;
        let is_octal = |k: usize| k < n && (b'0'..=b'7').contains(&src[k]);
        match c {
            0x31..=0x37 /* 1-7 */ if !is_octal(j) => {
                // A lone \1..\7 would be a backreference: unsupported.
                self.err(Code::InvalidEscape, i, j)
            }
            0x30..=0x37 => {
                let mut r = c - 0x30;
                for _ in 1..3 {
                    if !is_octal(j) {
                        break;
                    }
                    r = r * 8 + (src[j] - b'0') as u32;
                    j += 1;
                }
                Ok((r, j))
            }
            0x78 /* x */ => {
                if j >= n {
                    return self.err(Code::InvalidEscape, i, j);
                }
                let (c1, l1) = self.rune_at(j, n)?;
                j += l1;
                if c1 == '{' as u32 {
                    let mut digits = 0;
                    let mut r: u32 = 0;
                    loop {
                        if j >= n {
                            return self.err(Code::InvalidEscape, i, j);
                        }
                        let (c2, l2) = self.rune_at(j, n)?;
                        j += l2;
                        if c2 == '}' as u32 {
                            break;
                        }
                        let v = match unhex(c2) {
                            Some(v) => v,
                            None => return self.err(Code::InvalidEscape, i, j),
                        };
                        r = r * 16 + v;
                        if r > MAX_RUNE {
                            return self.err(Code::InvalidEscape, i, j);
                        }
                        digits += 1;
                    }
                    if digits == 0 {
                        return self.err(Code::InvalidEscape, i, j);
                    }
                    return Ok((r, j));
                }
                let (c2, l2) = self.rune_at(j, n)?;
                j += l2;
                match (unhex(c1), unhex(c2)) {
                    (Some(x), Some(y)) => Ok((x * 16 + y, j)),
                    _ => self.err(Code::InvalidEscape, i, j),
                }
            }
            0x61 => Ok((0x07, j)), // \a
            0x66 => Ok((0x0C, j)), // \f
            0x6E => Ok((0x0A, j)), // \n
            0x72 => Ok((0x0D, j)), // \r
            0x74 => Ok((0x09, j)), // \t
            0x76 => Ok((0x0B, j)), // \v
            _ => {
                // Escaped punctuation is itself; escaped letters and digits are
                // reserved, and so is anything outside ASCII.
                if c < 0x80 && !(c as u8).is_ascii_alphanumeric() {
                    Ok((c, j))
                } else {
                    self.err(Code::InvalidEscape, i, j)
                }
            }
        }
    }

    /// One character of a class: an escape or a rune. `class_start` is the `[`.
    fn parse_class_char(&self, j: usize, class_start: usize) -> PResult<(u32, usize)> {
        let n = self.src.len();
        if j >= n {
            return self.err(Code::MissingBracket, class_start, n);
        }
        if self.src[j] == b'\\' {
            return self.parse_escape(j);
        }
        let (c, l) = self.rune_at(j, n)?;
        Ok((c, j + l))
    }

    /// Parses `[...]` at `i`; returns the class and the position after `]`.
    fn parse_class(&mut self, i: usize) -> PResult<(ClassResult, usize)> {
        let src = self.src;
        let n = src.len();
        let mut j = i + 1;
        let negated = j < n && src[j] == b'^';
        if negated {
            j += 1;
        }
        let fold = self.flags & FOLD_CASE != 0;
        // Enough to tell a one-rune class (which Go turns into a literal) from others.
        let mut only: Option<u32> = None;
        let mut second: Option<u32> = None;
        let mut simple = !negated;
        let mut runes: i64 = if negated { 2 } else { 0 };
        // Go merges a class into sorted disjoint ranges before counting its runes,
        // so a group named twice counts once.
        let mut groups: Vec<(u8, usize, bool)> = Vec::new();
        let mut count_group = |group: (u8, usize, bool), r: i64, runes: &mut i64| {
            if !groups.contains(&group) {
                groups.push(group);
                *runes += r;
            }
        };
        let mut first = true;
        while j >= n || src[j] != b']' || first {
            first = false;
            if n - j > 2 && src[j] == b'[' && src[j + 1] == b':' {
                if let Some((r, next)) = self.parse_named_class(j)? {
                    count_group((b':', fnv(&src[j..next]), false), r, &mut runes);
                    simple = false;
                    j = next;
                    continue;
                }
            }
            if j + 1 < n && src[j] == b'\\' && (src[j + 1] == b'p' || src[j + 1] == b'P') {
                let ((at, negated), r, next) = self.parse_unicode_class(j)?;
                count_group((b'p', at, negated), r, &mut runes);
                simple = false;
                j = next;
                continue;
            }
            if let Some(r) = perl_class(src, j) {
                count_group((b'\\', src[j + 1] as usize, false), r, &mut runes);
                simple = false;
                j += 2;
                continue;
            }
            let range_start = j;
            let (lo, next) = self.parse_class_char(j, i)?;
            j = next;
            let mut hi = lo;
            if n - j >= 2 && src[j] == b'-' && src[j + 1] != b']' {
                let (h, next) = self.parse_class_char(j + 1, i)?;
                j = next;
                hi = h;
                if hi < lo {
                    return self.err(Code::InvalidCharRange, range_start, j);
                }
            }
            runes += 2;
            if lo != hi {
                simple = false;
            } else if only.map_or(true, |c| c == lo) {
                only = Some(lo);
            } else if second.map_or(true, |c| c == lo) {
                second = Some(lo);
            } else {
                simple = false;
            }
        }
        let next = j + 1;
        if simple {
            if let Some(c) = only {
                if let Some(r) = one_rune_class(c, second, fold) {
                    return Ok((r, next));
                }
            }
        }
        // No class holds more ranges than there are runes.
        let runes = runes.max(2).min(MAX_RUNE as i64 + 1);
        Ok((ClassResult::Class { runes }, next))
    }

    /// `[:alpha:]`-style names inside a class; `None` when there is no closing `:]`
    /// (then the `[` is an ordinary character).
    fn parse_named_class(&mut self, j: usize) -> PResult<Option<(i64, usize)>> {
        let at = match self.colon_bracket.find(self.src, j + 2) {
            Some(at) => at,
            None => return Ok(None),
        };
        let name = &self.src[j..at + 2];
        match posix_class_runes(name) {
            Some(r) => Ok(Some((r, at + 2))),
            None => self.err(Code::InvalidCharRange, j, at + 2),
        }
    }

    /// `\pL`, `\p{Greek}`, `\PL`, `\p{^Greek}` at `j`; returns the class (as an
    /// index into UNICODE_CLASSES, negated or not), the estimated rune-list length
    /// and the position after it.
    fn parse_unicode_class(&mut self, j: usize) -> PResult<((usize, bool), i64, usize)> {
        let src = self.src;
        let n = src.len();
        let mut negated = src[j + 1] == b'P';
        let (c, l) = self.rune_at(j + 2, n)?;
        let (seq_end, name_start, name_end) = if c != '{' as u32 {
            (j + 2 + l, j + 2, j + 2 + l)
        } else {
            let end = match self.close_brace.find(src, j) {
                Some(at) => at,
                None => {
                    self.check_utf8(j, n)?;
                    return self.err(Code::InvalidCharRange, j, n);
                }
            };
            self.check_utf8(j + 3, end)?;
            (end + 1, j + 3, end)
        };
        let mut name = &src[name_start..name_end];
        if name.first() == Some(&b'^') {
            negated = !negated;
            name = &name[1..];
        }
        match unicode_class(name) {
            Some(at) => {
                let ranges = UNICODE_CLASSES[at].1 as i64;
                let ranges = if negated { ranges + 1 } else { ranges };
                Ok(((at, negated), 2 * ranges, seq_end))
            }
            None => self.err(Code::InvalidCharRange, j, seq_end),
        }
    }
}

/// Go's `prefix(suffixes)` node made by factoring an alternation.
fn concat_prefix(prefix: (u32, u32, bool), suffix: &Node) -> Node {
    Node {
        nullable: false,
        height: suffix.height.max(1).saturating_add(1),
        size: clamp_size(prefix.1 as u64 + suffix.size as u64),
        reps: suffix.reps,
        reps_tail: suffix.reps_tail,
        ..Node::leaf(Op::Concat, false)
    }
}

/// A class of rune `c` (and possibly `other`): the literal Go makes of it, if any.
fn one_rune_class(c: u32, other: Option<u32>, fold: bool) -> Option<ClassResult> {
    let letter = |x: u32| x < 0x80 && (x as u8).is_ascii_alphabetic();
    // K and S have a third case variant (Kelvin sign, long s), so they stay classes.
    let pairs_only = |x: u32| letter(x) && !matches!(x as u8, b'k' | b'K' | b's' | b'S');
    let upper = |x: u32| (x as u8).to_ascii_uppercase() as u32;
    match other {
        None if !fold => Some(ClassResult::Literal { ch: c, fold: false }),
        None if c < 0x80 && !letter(c) => Some(ClassResult::Literal { ch: c, fold: false }),
        None if pairs_only(c) => Some(ClassResult::Literal {
            ch: upper(c),
            fold: true,
        }),
        Some(d) if pairs_only(c) && d != c && upper(d) == upper(c) => Some(ClassResult::Literal {
            ch: upper(c),
            fold: true,
        }),
        _ => None,
    }
}

/// The smallest rune that folds to `c` (ASCII letters only; others stay as they are,
/// which only affects how alternatives merge, never validity or emptiness).
fn min_fold(c: u32) -> u32 {
    if c < 0x80 {
        (c as u8).to_ascii_uppercase() as u32
    } else {
        c
    }
}

/// A hash identifying a `[:name:]` among the few a class can hold.
fn fnv(bytes: &[u8]) -> usize {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    }) as usize
}

/// Parses a decimal integer at `j` like Go: no leading zeros, `-1` when too large.
fn parse_int(src: &[u8], j: usize) -> Option<(i64, usize)> {
    let n = src.len();
    if j >= n || !src[j].is_ascii_digit() {
        return None;
    }
    if j + 1 < n && src[j] == b'0' && src[j + 1].is_ascii_digit() {
        return None;
    }
    let mut k = j;
    while k < n && src[k].is_ascii_digit() {
        k += 1;
    }
    let mut value: i64 = 0;
    for &d in &src[j..k] {
        if value >= 100_000_000 {
            value = -1;
            break;
        }
        value = value * 10 + (d - b'0') as i64;
    }
    Some((value, k))
}

fn unhex(c: u32) -> Option<u32> {
    char::from_u32(c).and_then(|ch| ch.to_digit(16))
}

/// `\d \D \s \S \w \W` at `j`: the length of its rune list.
fn perl_class(src: &[u8], j: usize) -> Option<i64> {
    if j + 1 >= src.len() || src[j] != b'\\' {
        return None;
    }
    match src[j + 1] {
        b'd' => Some(2),
        b'D' => Some(4),
        b's' => Some(6),
        b'S' => Some(8),
        b'w' => Some(8),
        b'W' => Some(10),
        _ => None,
    }
}

/// `[:name:]` or `[:^name:]`: the length of its rune list, or `None` if unknown.
fn posix_class_runes(name: &[u8]) -> Option<i64> {
    let inner = &name[2..name.len() - 2];
    let (negated, inner) = match inner.first() {
        Some(b'^') => (true, &inner[1..]),
        _ => (false, inner),
    };
    let ranges: i64 = match inner {
        b"alnum" => 3,
        b"alpha" => 2,
        b"ascii" => 1,
        b"blank" => 2,
        b"cntrl" => 2,
        b"digit" => 1,
        b"graph" => 1,
        b"lower" => 1,
        b"print" => 1,
        b"punct" => 4,
        b"space" => 2,
        b"upper" => 1,
        b"word" => 4,
        b"xdigit" => 3,
        _ => return None,
    };
    Some(2 * if negated { ranges + 1 } else { ranges })
}

/// Looks a `\p` name up as Go does since 1.25: ignoring case, spaces, underscores
/// and hyphens, among general categories (and their long aliases), scripts, and
/// Any, Assigned, ASCII. Returns its index in UNICODE_CLASSES.
fn unicode_class(name: &[u8]) -> Option<usize> {
    let mut canonical: Vec<u8> = Vec::with_capacity(name.len());
    for &b in name {
        if b == b'_' || b == b'-' || b == b' ' {
            continue;
        }
        if canonical.is_empty() {
            canonical.push(b.to_ascii_uppercase());
        } else {
            canonical.push(b.to_ascii_lowercase());
        }
    }
    let key = std::str::from_utf8(&canonical).ok()?;
    UNICODE_CLASSES
        .binary_search_by(|(k, _)| (*k).cmp(key))
        .ok()
}

/// Canonical names Go accepts after `\p`, sorted, with the number of ranges of each
/// (Unicode 14 counts; used only for Go's limit on the total size of classes).
/// Scripts of Unicode 15 to 17 are accepted too, so that a newer upstream's names pass.
#[rustfmt::skip]
static UNICODE_CLASSES: &[(&str, u16)] = &[
    ("Adlam", 3), ("Ahom", 3), ("Anatolianhieroglyphs", 1), ("Any", 1), ("Arabic", 57),
    ("Armenian", 4), ("Ascii", 1), ("Assigned", 699), ("Avestan", 2), ("Balinese", 2), ("Bamum", 2),
    ("Bassavah", 2), ("Batak", 2), ("Bengali", 14), ("Beriaerfe", 2), ("Bhaiksuki", 4), ("Bopomofo", 3),
    ("Brahmi", 3), ("Braille", 1), ("Buginese", 2), ("Buhid", 1), ("C", 701), ("Canadianaboriginal", 3),
    ("Carian", 1), ("Casedletter", 142), ("Caucasianalbanian", 2), ("Cc", 2), ("Cf", 21), ("Chakma", 2),
    ("Cham", 4), ("Cherokee", 3), ("Chisoi", 2), ("Chorasmian", 1), ("Closepunctuation", 76), ("Cn", 698),
    ("Cntrl", 2), ("Co", 3), ("Combiningmark", 299), ("Common", 174), ("Connectorpunctuation", 6),
    ("Control", 2), ("Coptic", 3), ("Cs", 1), ("Cuneiform", 4), ("Currencysymbol", 21), ("Cypriot", 6),
    ("Cyprominoan", 1), ("Cyrillic", 8), ("Dashpunctuation", 19), ("Decimalnumber", 62), ("Deseret", 1),
    ("Devanagari", 4), ("Digit", 62), ("Divesakuru", 8), ("Dogra", 1), ("Duployan", 5),
    ("Egyptianhieroglyphs", 2), ("Elbasan", 1), ("Elymaic", 1), ("Enclosingmark", 5), ("Ethiopic", 36),
    ("Finalpunctuation", 10), ("Format", 21), ("Garay", 2), ("Georgian", 10), ("Glagolitic", 6),
    ("Gothic", 1), ("Grantha", 15), ("Greek", 36), ("Gujarati", 14), ("Gunjalagondi", 6), ("Gurmukhi", 16),
    ("Gurungkhema", 2), ("Han", 20), ("Hangul", 14), ("Hanifirohingya", 2), ("Hanunoo", 1), ("Hatran", 3),
    ("Hebrew", 9), ("Hiragana", 5), ("Imperialaramaic", 2), ("Inherited", 29), ("Initialpunctuation", 11),
    ("Inscriptionalpahlavi", 2), ("Inscriptionalparthian", 2), ("Javanese", 3), ("Kaithi", 2),
    ("Kannada", 13), ("Katakana", 13), ("Kawi", 2), ("Kayahli", 2), ("Kharoshthi", 8),
    ("Khitansmallscript", 2), ("Khmer", 4), ("Khojki", 2), ("Khudawadi", 2), ("Kiratrai", 2), ("L", 648),
    ("Lao", 11), ("Latin", 38), ("Lc", 142), ("Lepcha", 3), ("Letter", 648), ("Letternumber", 12),
    ("Limbu", 5), ("Lineara", 3), ("Linearb", 7), ("Lineseparator", 1), ("Lisu", 2), ("Ll", 657), ("Lm", 69),
    ("Lo", 501), ("Lowercaseletter", 657), ("Lt", 10), ("Lu", 646), ("Lycian", 1), ("Lydian", 2), ("M", 299),
    ("Mahajani", 1), ("Makasar", 1), ("Malayalam", 7), ("Mandaic", 2), ("Manichaean", 2), ("Marchen", 3),
    ("Mark", 299), ("Masaramgondi", 7), ("Mathsymbol", 64), ("Mc", 177), ("Me", 5), ("Medefaidrin", 1),
    ("Meeteimayek", 3), ("Mendekikakui", 2), ("Meroiticcursive", 3), ("Meroitichieroglyphs", 1), ("Miao", 3),
    ("Mn", 336), ("Modi", 2), ("Modifierletter", 69), ("Modifiersymbol", 31), ("Mongolian", 6), ("Mro", 3),
    ("Multani", 5), ("Myanmar", 3), ("N", 134), ("Nabataean", 2), ("Nagmundari", 2), ("Nandinagari", 3),
    ("Nd", 62), ("Newa", 2), ("Newtailue", 4), ("Nko", 2), ("Nl", 12), ("No", 71), ("Nonspacingmark", 336),
    ("Number", 134), ("Nushu", 2), ("Nyiakengpuachuehmong", 4), ("Ogham", 1), ("Olchiki", 1),
    ("Oldhungarian", 3), ("Olditalic", 2), ("Oldnortharabian", 1), ("Oldpermic", 1), ("Oldpersian", 2),
    ("Oldsogdian", 1), ("Oldsoutharabian", 1), ("Oldturkic", 1), ("Olduyghur", 1), ("Olonal", 2),
    ("Openpunctuation", 79), ("Oriya", 14), ("Osage", 2), ("Osmanya", 2), ("Other", 701),
    ("Otherletter", 501), ("Othernumber", 71), ("Otherpunctuation", 185), ("Othersymbol", 186), ("P", 189),
    ("Pahawhhmong", 5), ("Palmyrene", 1), ("Paragraphseparator", 1), ("Paucinhau", 1), ("Pc", 6), ("Pd", 19),
    ("Pe", 76), ("Pf", 10), ("Phagspa", 1), ("Phoenician", 2), ("Pi", 11), ("Po", 185), ("Privateuse", 3),
    ("Ps", 79), ("Psalterpahlavi", 3), ("Punct", 189), ("Punctuation", 189), ("Rejang", 2), ("Runic", 2),
    ("S", 234), ("Samaritan", 2), ("Saurashtra", 2), ("Sc", 21), ("Separator", 8), ("Sharada", 1),
    ("Shavian", 1), ("Siddham", 2), ("Sidetic", 2), ("Signwriting", 3), ("Sinhala", 13), ("Sk", 31),
    ("Sm", 64), ("So", 186), ("Sogdian", 1), ("Sorasompeng", 2), ("Soyombo", 1), ("Spaceseparator", 7),
    ("Spacingmark", 177), ("Sundanese", 2), ("Sunuwar", 2), ("Surrogate", 1), ("Sylotinagri", 1),
    ("Symbol", 234), ("Syriac", 4), ("Tagalog", 2), ("Tagbanwa", 3), ("Taile", 2), ("Taitham", 5),
    ("Taiviet", 2), ("Taiyo", 2), ("Takri", 2), ("Tamil", 18), ("Tangsa", 2), ("Tangut", 4), ("Telugu", 13),
    ("Thaana", 1), ("Thai", 2), ("Tibetan", 7), ("Tifinagh", 3), ("Tirhuta", 2), ("Titlecaseletter", 10),
    ("Todhri", 2), ("Tolongsiki", 2), ("Toto", 1), ("Tulutigalari", 2), ("Ugaritic", 2), ("Unassigned", 698),
    ("Uppercaseletter", 646), ("Vai", 1), ("Vithkuqi", 8), ("Wancho", 2), ("Warangciti", 2), ("Yezidi", 3),
    ("Yi", 2), ("Z", 8), ("Zanabazarsquare", 1), ("Zl", 1), ("Zp", 1), ("Zs", 7),
];

#[cfg(test)]
mod tests {
    use super::{check, check_bytes};

    /// What Go (via Prometheus) says of a pattern.
    enum Want {
        Empty,
        NonEmpty,
        Error(&'static str, &'static str),
    }
    use Want::*;

    fn message(code: &str, expr: &str) -> String {
        format!("error parsing regexp: {}: `{}`", code, expr)
    }

    /// A result short enough to print even when the message quotes a huge pattern.
    fn brief(r: &Result<bool, String>) -> String {
        let text = format!("{:?}", r);
        text.chars().take(120).collect()
    }

    fn run(cases: &[(&str, Want)]) {
        let mut failures = Vec::new();
        for (pattern, want) in cases {
            let got = check(pattern);
            let expected = match want {
                Empty => Ok(true),
                NonEmpty => Ok(false),
                Error(code, expr) => Err(message(code, expr)),
            };
            if got != expected {
                failures.push(format!("{:?}: got {:?}, want {:?}", pattern, got, expected));
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    const PAREN: &str = "missing closing )";
    const UNEXPECTED: &str = "unexpected )";
    const BRACKET: &str = "missing closing ]";
    const ESCAPE: &str = "invalid escape sequence";
    const NESTED: &str = "invalid nested repetition operator";
    const ARGUMENT: &str = "missing argument to repetition operator";
    const RANGE: &str = "invalid character class range";
    const BACKSLASH: &str = "trailing backslash at end of expression";
    const PERL: &str = "invalid or unsupported Perl syntax";
    const COUNT: &str = "invalid repeat count";
    const NAME: &str = "invalid named capture";
    const DEEP: &str = "expression nests too deeply";
    const LARGE: &str = "expression too large";

    #[test]
    fn matches_empty_string_or_not() {
        run(&[
            ("", Empty),
            (".*", Empty),
            (".+", NonEmpty),
            (".", NonEmpty),
            ("a*", Empty),
            ("a+", NonEmpty),
            ("a?", Empty),
            ("a*?", Empty),
            ("a+?", NonEmpty),
            ("a??", Empty),
            ("a{0}", Empty),
            ("a{0,3}", Empty),
            ("a{0,}", Empty),
            ("a{1,3}", NonEmpty),
            ("a{2}", NonEmpty),
            ("a{2,}", NonEmpty),
            ("a{2}?", NonEmpty),
            ("(a*){2,}", Empty),
            ("(?:a|b*)+", Empty),
            ("(?:a|b)+", NonEmpty),
            ("x*y*z*", Empty),
            ("x*y", NonEmpty),
            ("foo", NonEmpty),
            ("foo|", Empty),
            ("|foo", Empty),
            ("a||b", Empty),
            ("|", Empty),
            ("a|b", NonEmpty),
            ("a|b|c|d", NonEmpty),
            ("(a|)", Empty),
            ("(a|b)", NonEmpty),
            ("()", Empty),
            ("(?:)", Empty),
            ("(())", Empty),
            ("(?:)*", Empty),
            ("(?:)+", Empty),
            ("^", Empty),
            ("$", Empty),
            ("^$", Empty),
            ("^.*$", Empty),
            ("^a$", NonEmpty),
            ("\\A\\z", Empty),
            ("\\A", Empty),
            ("\\z", Empty),
            ("\\b", NonEmpty),
            ("\\B", Empty),
            ("^\\b$", NonEmpty),
            ("\\b*", Empty),
            ("(?m)^$", Empty),
            ("^*", Empty),
            ("$+", Empty),
            ("[^a]", NonEmpty),
            ("[^a]*", Empty),
            ("[^\\x00-\\x{10FFFF}]", NonEmpty),
            ("[^\\x00-\\x{10FFFF}]*", Empty),
            ("[^\\x00-\\x{10FFFF}]?", Empty),
            ("[^\\x00-\\x{10FFFF}]|", Empty),
            ("\\p{^Any}", NonEmpty),
            ("[\\s\\S]", NonEmpty),
            ("\\pL", NonEmpty),
            ("\\pL*", Empty),
            ("\\p{Greek}", NonEmpty),
            ("\\PL?", Empty),
            ("\\p{^Greek}", NonEmpty),
            ("\\P{^Greek}+", NonEmpty),
            ("[\\p{Greek}\\d]", NonEmpty),
            ("\\p{Braille}\\P{Braille}", NonEmpty),
            ("\\pZ", NonEmpty),
            ("\\p{Lu}", NonEmpty),
            ("\\p{Han}", NonEmpty),
            ("\\p{Latin}|x*", Empty),
            ("\\p{Canadian_Aboriginal}", NonEmpty),
            ("\\p{Old_Italic}", NonEmpty),
            ("\\p{Uppercase_Letter}", NonEmpty),
            ("\\p{upper case-let ter}", NonEmpty),
            ("\\p{__upper case-let ter}", NonEmpty),
            ("\\p{Any}", NonEmpty),
            ("\\p{Assigned}", NonEmpty),
            ("\\p{^Assigned}", NonEmpty),
            ("(?i)\\p{ascii}", NonEmpty),
            ("(?i)[\\p{Lu}]", NonEmpty),
            ("[\\pZ]", NonEmpty),
            ("[\\P{^Braille}]", NonEmpty),
            ("(?i)abc", NonEmpty),
            ("(?i)", Empty),
            ("(?i:a*)", Empty),
            ("(?s).*", Empty),
            ("(?U)a*", Empty),
            ("(?U)a+", NonEmpty),
            ("(?i-s:a|)", Empty),
            ("(?im-sU:x)", NonEmpty),
            ("(?i)(?-i)a", NonEmpty),
            ("x(?i)*", Empty),
            ("a*(?i)*", Empty),
            ("(?P<name>a*)", Empty),
            ("(?P<name>a)", NonEmpty),
            ("(?<name>x)", NonEmpty),
            ("(?<name_1>x?)", Empty),
            ("(?P<n>a)(?P<n>b)", NonEmpty),
            ("\\Qa.b\\E", NonEmpty),
            ("\\Q\\E", Empty),
            ("\\Q", Empty),
            ("\\Qab\\E*", NonEmpty),
            ("\\Qa\\E*", Empty),
            ("\\Q+|*?{[\\E", NonEmpty),
            ("\\Q\\\\E", NonEmpty),
            ("a*\\Q\\E*", Empty),
            ("\\x41", NonEmpty),
            ("\\x{10FFFF}", NonEmpty),
            ("\\x{0000000041}", NonEmpty),
            ("\\x7F", NonEmpty),
            ("\\0", NonEmpty),
            ("\\07", NonEmpty),
            ("\\177", NonEmpty),
            ("\\1234", NonEmpty),
            ("\\08", NonEmpty),
            ("\\a\\f\\t\\n\\r\\v", NonEmpty),
            ("\\_\\-\\.\\*\\\\\\ \\<\\}", NonEmpty),
            ("[[:alpha:]]", NonEmpty),
            ("[[:^alpha:]]*", Empty),
            ("[[:alnum:][:blank:][:cntrl:][:digit:][:graph:][:lower:][:print:][:punct:][:space:][:upper:][:word:][:xdigit:][:ascii:]]", NonEmpty),
            ("[[:alpha]", NonEmpty),
            ("[]a]", NonEmpty),
            ("[^]a]", NonEmpty),
            ("[a-]", NonEmpty),
            ("[-a]", NonEmpty),
            ("[--a]", NonEmpty),
            ("[a-b-c]", NonEmpty),
            ("[\\d-z]", NonEmpty),
            ("[\\012-\\234]\\141", NonEmpty),
            ("[\\x{41}-\\x7a]\\x61", NonEmpty),
            ("[α-ε☺]", NonEmpty),
            ("[a]", NonEmpty),
            ("[Aa]*", Empty),
            ("\\d\\w\\s\\D\\W\\S", NonEmpty),
            ("a{,2}", NonEmpty),
            ("{", NonEmpty),
            ("}", NonEmpty),
            ("{}*", NonEmpty),
            ("x{2", NonEmpty),
            ("x{1001", NonEmpty),
            ("x{9876543210", NonEmpty),
            ("x{2,1", NonEmpty),
            ("x{01}", NonEmpty),
            ("a*{", NonEmpty),
            ("(?:a{2}){500}", NonEmpty),
            ("(?:[a-z]{4}){0,250}", Empty),
            ("a{1000}", NonEmpty),
            ("a{0,1000}", Empty),
            ("((((((((((x{2}){2}){2}){2}){2}){2}){2}){2}){2}))", NonEmpty),
            ("((((((((((x{1}){2}){2}){2}){2}){2}){2}){2}){2}){2})", NonEmpty),
            ("(?:(?:a{1000}){0}){1000}", Empty),
            ("abc|abd|aef|bcx|bcy", NonEmpty),
            ("ax+y|ax+z|ay+w", NonEmpty),
            ("(?:x|(?:xa))", NonEmpty),
            ("(?:.|(?:.a))", NonEmpty),
            ("(?:A(?:A|a))", NonEmpty),
            ("x{2}|x{2}[0-9]", NonEmpty),
            ("a.*?c|a.*?b", NonEmpty),
            ("[\\s\\S]a", NonEmpty),
            (".*cust01.prd.*", NonEmpty),
            (".*(cust01)?.*", Empty),
            ("tenant-a|tenant-b", NonEmpty),
            ("tenant\\-a|tenant\\.b", NonEmpty),
        ]);
    }

    #[test]
    fn go_error_messages() {
        run(&[
            ("(", Error(PAREN, "(")),
            ("(a", Error(PAREN, "(a")),
            ("(a|b|", Error(PAREN, "(a|b|")),
            ("(a|b", Error(PAREN, "(a|b")),
            ("x(?P<name>a", Error(PAREN, "x(?P<name>a")),
            ("(?P<name>", Error(PAREN, "(?P<name>")),
            ("(?:", Error(PAREN, "(?:")),
            ("(?i:a", Error(PAREN, "(?i:a")),
            ("((a)", Error(PAREN, "((a)")),
            (")", Error(UNEXPECTED, ")")),
            ("a)", Error(UNEXPECTED, "a)")),
            ("(a))", Error(UNEXPECTED, "(a))")),
            ("a|b|)", Error(UNEXPECTED, "a|b|)")),
            ("(a|b|))", Error(UNEXPECTED, "(a|b|))")),
            ("a|b)", Error(UNEXPECTED, "a|b)")),
            ("ab|cd)", Error(UNEXPECTED, "ab|cd)")),
            ("([a-z]))", Error(UNEXPECTED, "([a-z]))")),
            ("a)(b", Error(UNEXPECTED, "a)(b")),
            ("[a-z", Error(BRACKET, "[a-z")),
            ("([a-z)", Error(BRACKET, "[a-z)")),
            ("[a-z)", Error(BRACKET, "[a-z)")),
            ("[", Error(BRACKET, "[")),
            ("x[", Error(BRACKET, "[")),
            ("[]", Error(BRACKET, "[]")),
            ("[^]", Error(BRACKET, "[^]")),
            ("[a-", Error(BRACKET, "[a-")),
            ("[a-\\", Error(BACKSLASH, "")),
            ("[[:alpha:]", Error(BRACKET, "[[:alpha:]")),
            ("x{1001}", Error(COUNT, "{1001}")),
            ("x{1001}?", Error(COUNT, "{1001}")),
            ("x{9876543210}", Error(COUNT, "{9876543210}")),
            ("x{2,1}", Error(COUNT, "{2,1}")),
            ("x{1,9876543210}", Error(COUNT, "{1,9876543210}")),
            ("a{100000}", Error(COUNT, "{100000}")),
            ("a{100000,}", Error(COUNT, "{100000,}")),
            ("a{0,1001}", Error(COUNT, "{0,1001}")),
            (
                "((((((((((x{2}){2}){2}){2}){2}){2}){2}){2}){2}){2})",
                Error(COUNT, "{2}"),
            ),
            ("(?:[a-z]{4}){0,251}", Error(COUNT, "{0,251}")),
            ("(?:a{2}){501}", Error(COUNT, "{501}")),
            ("(?:a{2}){501}?", Error(COUNT, "{501}?")),
            ("(?:a{3}){334}", Error(COUNT, "{334}")),
            ("(?:(?:a{2}|b){10}){50}", NonEmpty),
            ("(?:(?:a{2}|b){10}){51}", Error(COUNT, "{51}")),
            ("*{1001}", Error(ARGUMENT, "*")),
            ("a*{1001}", Error(COUNT, "{1001}")),
            ("(?P<name", Error(NAME, "(?P<name")),
            ("x(?P<name", Error(NAME, "(?P<name")),
            ("(?P<x y>a)", Error(NAME, "(?P<x y>")),
            ("(?P<>a)", Error(NAME, "(?P<>")),
            ("(?<name", Error(NAME, "(?<name")),
            ("(?<x y>a)", Error(NAME, "(?<x y>")),
            ("(?<>a)", Error(NAME, "(?<>")),
            ("(?<a-b>x)", Error(NAME, "(?<a-b>")),
            ("(?P<é>x)", Error(NAME, "(?P<é>")),
            ("(?<=a)", Error(NAME, "(?<=a)")),
            ("(?<!a)b>", Error(NAME, "(?<!a)b>")),
            ("(?P<a)b>", Error(NAME, "(?P<a)b>")),
            ("[a-Z]", Error(RANGE, "a-Z")),
            ("(?i)[a-Z]", Error(RANGE, "a-Z")),
            ("[z-a]", Error(RANGE, "z-a")),
            ("x[az-a]", Error(RANGE, "z-a")),
            ("[ab-z-a]", NonEmpty),
            ("[\\x{10FFFF}-\\x00]", Error(RANGE, "\\x{10FFFF}-\\x00")),
            ("[[:foo:]]", Error(RANGE, "[:foo:]")),
            ("[[:^foo:]]", Error(RANGE, "[:^foo:]")),
            ("[[:a]b:]]", Error(RANGE, "[:a]b:]")),
            ("\\p", Error(RANGE, "\\p")),
            ("\\pX", Error(RANGE, "\\pX")),
            ("\\p^", Error(RANGE, "\\p^")),
            ("\\p{Foo}", Error(RANGE, "\\p{Foo}")),
            ("\\p{Foo}bar}", Error(RANGE, "\\p{Foo}")),
            ("\\p{}", Error(RANGE, "\\p{}")),
            ("\\p{^}", Error(RANGE, "\\p{^}")),
            ("\\P{^Foo}x", Error(RANGE, "\\P{^Foo}")),
            ("\\p{Greek", Error(RANGE, "\\p{Greek")),
            ("x\\p{Greek]", Error(RANGE, "\\p{Greek]")),
            ("[\\p{Foo}]", Error(RANGE, "\\p{Foo}")),
            ("[\\p]", Error(RANGE, "\\p]")),
            ("\\Q\\E*", Error(ARGUMENT, "*")),
            ("*", Error(ARGUMENT, "*")),
            ("*?", Error(ARGUMENT, "*?")),
            ("+a", Error(ARGUMENT, "+")),
            ("??", Error(ARGUMENT, "??")),
            ("(*)", Error(ARGUMENT, "*")),
            ("(?:*)", Error(ARGUMENT, "*")),
            ("a|*", Error(ARGUMENT, "*")),
            ("(?i)*", Error(ARGUMENT, "*")),
            ("{2}", Error(ARGUMENT, "{2}")),
            ("x|{2}?", Error(ARGUMENT, "{2}?")),
            ("a**", Error(NESTED, "**")),
            ("a*+", Error(NESTED, "*+")),
            ("a++", Error(NESTED, "++")),
            ("a?*", Error(NESTED, "?*")),
            ("a+*", Error(NESTED, "+*")),
            ("a???", Error(NESTED, "???")),
            ("a*?*", Error(NESTED, "*?*")),
            ("a*??", Error(NESTED, "*??")),
            ("a{1}*", Error(NESTED, "{1}*")),
            ("a{2}{3}", Error(NESTED, "{2}{3}")),
            ("a{2}?{3}?", Error(NESTED, "{2}?{3}?")),
            (".{1}{2}.{3}", Error(NESTED, "{1}{2}")),
            ("\\", Error(BACKSLASH, "")),
            ("a\\", Error(BACKSLASH, "")),
            ("\\8", Error(ESCAPE, "\\8")),
            ("\\9", Error(ESCAPE, "\\9")),
            ("\\1", Error(ESCAPE, "\\1")),
            ("a\\7b", Error(ESCAPE, "\\7")),
            ("\\e", Error(ESCAPE, "\\e")),
            ("\\C", Error(ESCAPE, "\\C")),
            ("\\E", Error(ESCAPE, "\\E")),
            ("\\Z", Error(ESCAPE, "\\Z")),
            ("\\cA", Error(ESCAPE, "\\c")),
            ("\\xZ1", Error(ESCAPE, "\\xZ1")),
            ("\\x4g", Error(ESCAPE, "\\x4g")),
            ("\\x4", Error(ESCAPE, "\\x4")),
            ("\\x", Error(ESCAPE, "\\x")),
            ("\\x{", Error(ESCAPE, "\\x{")),
            ("\\x{41", Error(ESCAPE, "\\x{41")),
            ("\\x{}", Error(ESCAPE, "\\x{}")),
            ("\\x{110000}", Error(ESCAPE, "\\x{110000")),
            ("\\x{12g}", Error(ESCAPE, "\\x{12g")),
            ("\\é", Error(ESCAPE, "\\é")),
            ("[\\b]", Error(ESCAPE, "\\b")),
            ("[\\A]", Error(ESCAPE, "\\A")),
            ("[\\Q]", Error(ESCAPE, "\\Q")),
            ("[\\z]", Error(ESCAPE, "\\z")),
            ("[a-\\d]", Error(ESCAPE, "\\d")),
            ("[a-\\pL]", Error(ESCAPE, "\\p")),
            ("(?z)", Error(PERL, "(?z")),
            ("(?", Error(PERL, "(?")),
            ("(?i", Error(PERL, "(?i")),
            ("(?-)", Error(PERL, "(?-)")),
            ("(?i-)", Error(PERL, "(?i-)")),
            ("(?-:a)", Error(PERL, "(?-:")),
            ("(?--i)", Error(PERL, "(?--")),
            ("(?i-m-s)", Error(PERL, "(?i-m-")),
            ("(?=a)", Error(PERL, "(?=")),
            ("(?!a)", Error(PERL, "(?!")),
            ("(?#c)", Error(PERL, "(?#")),
            ("(?P=n)", Error(PERL, "(?P")),
            ("(?P>n)", Error(PERL, "(?P")),
            ("(?P<", Error(PERL, "(?P")),
            ("(?<", Error(PERL, "(?<")),
            ("(?'n'a)", Error(PERL, "(?'")),
            ("(?x)", Error(PERL, "(?x")),
            ("(?é)", Error(PERL, "(?é")),
        ]);
    }

    #[test]
    fn corner_cases() {
        run(&[
            ("(?i)k", NonEmpty),
            ("(?i)[k]*", Empty),
            ("[\\d-\\w]", NonEmpty),
            ("x{2}{,3}", NonEmpty),
            ("a{,}", NonEmpty),
            ("(?P<n>)", Empty),
            ("\\0123", NonEmpty),
            ("[\\pN-z]", NonEmpty),
            ("[^\\PN]", NonEmpty),
            ("(?i)\\Q*\\E+", NonEmpty),
            ("a||*", Error(ARGUMENT, "*")),
            ("()+*", Error(NESTED, "+*")),
            ("(?:a|(?:b|(?:c|)))", Empty),
            ("[a-\\x{10FFFF}]", NonEmpty),
            ("[\\x{10FFFF}-a]", Error(RANGE, "\\x{10FFFF}-a")),
            ("[\\x{D800}]", NonEmpty),
            ("\\x{D800}", NonEmpty),
            ("\\x{FFFF}*", Empty),
            ("(?m:^)$", Empty),
            ("(?s-m:.)", NonEmpty),
            ("(?U)(?-U)x+?", NonEmpty),
            ("(?i)(?P<Name_1>x)", NonEmpty),
            ("a{1000}b{1000}", NonEmpty),
            ("(?:a{1000}){1}", NonEmpty),
            ("(?:a{1000}){0,1}", Empty),
            ("(?:a{1000})?{2}", Error(NESTED, "?{2}")),
            ("(?:(?:a){0}){1000}", Empty),
            ("(?:a{2}){0}{3}", Error(NESTED, "{0}{3}")),
            ("(?:x{0,1000}){1}", Empty),
            ("[[:alpha:]-z]", NonEmpty),
            ("[a-[:alpha:]]", Error(RANGE, "a-[")),
            ("[[.a.]]", NonEmpty),
            ("[[=a=]]", NonEmpty),
            ("\\pLl", NonEmpty),
            ("\\p{Zs}|", Empty),
            ("\\P{Any}?", Empty),
            ("\\z*", Empty),
            ("\\A+", Empty),
        ]);
    }

    #[test]
    fn errors_come_in_go_order() {
        run(&[
            // The first problem met while scanning left to right wins.
            ("a**(", Error(NESTED, "**")),
            ("((a{1001}", Error(COUNT, "{1001}")),
            ("[z-a](", Error(RANGE, "z-a")),
            ("(a))x**", Error(UNEXPECTED, "(a))x**")),
            ("\\8[", Error(ESCAPE, "\\8")),
            ("[\\8", Error(ESCAPE, "\\8")),
            ("[a", Error(BRACKET, "[a")),
        ]);
    }

    #[test]
    fn go_nesting_and_size_limits() {
        let r = |s: &str, n: usize| s.repeat(n);
        let cases: Vec<(String, Result<bool, String>)> = vec![
            (r("(", 998) + &r(")", 998), Ok(true)),
            (r("(?:", 998) + &r(")*", 998), Ok(true)),
            (r("(", 998) + "a" + &r(")", 998), Ok(false)),
            (
                r("(", 999) + "a" + &r(")", 999),
                Err(format!("^(?s:{})$", r("(", 999) + "a" + &r(")", 999))),
            ),
            (format!("({})", r("|", 12345)), Ok(true)),
            (r("(?:", 5000) + "a" + &r(")", 5000), Ok(false)),
            (r("(", 1000) + &r(")", 1000), Err(DEEP.to_string())),
            (r("(?:", 1000) + &r(")*", 1000), Err(DEEP.to_string())),
            (r("(", 997) + "a*" + &r(")", 997), Ok(true)),
            (
                r("(", 998) + "a*" + &r(")", 998),
                Err(format!("^(?s:{})$", r("(", 998) + "a*" + &r(")", 998))),
            ),
            (r("(", 999) + "a*" + &r(")", 999), Err(DEEP.to_string())),
            // Go parses depth 999 (its own test), Prometheus's anchored compile refuses it.
            (
                r("(", 999) + &r(")", 999),
                Err(format!("^(?s:{})$", r("(", 999) + &r(")", 999))),
            ),
            (
                r("(?:", 999) + &r(")*", 999),
                Err(format!("^(?s:{})$", r("(?:", 999) + &r(")*", 999))),
            ),
            (
                format!("({}){{1000}}", r("(xx?)", 1000)),
                Err(LARGE.to_string()),
            ),
            (r("(xx?){1000}", 1000), Err(LARGE.to_string())),
            (r("\\pL", 27000), Err(LARGE.to_string())),
            (r("\\pL", 1000), Ok(false)),
            (format!("(?:{}){{1000}}", r("a", 3000)), Ok(false)),
            (format!("(?:{}){{1000}}", r("(?:a)", 3000)), Ok(false)),
            (
                format!("(?:{}){{1000}}", r("(?:a)", 4000)),
                Err(LARGE.to_string()),
            ),
            (
                format!("(?:{}){{1000}}", r("a", 4000)),
                Err(LARGE.to_string()),
            ),
            (
                format!("(?:{}){{1000}}", r("(a)", 4000)),
                Err(LARGE.to_string()),
            ),
            // Go factors alternations: identical or prefixed alternatives shrink...
            (format!("(?:ab{}){{1000}}", r("|ab", 3000)), Ok(false)),
            (
                format!(
                    "(?:x{}){{1000}}",
                    (1..3000).map(|k| format!("|x{}", k)).collect::<String>()
                ),
                Ok(false),
            ),
            // ...but a chain of growing prefixes nests one level per alternative.
            (
                format!(
                    "(?:{})",
                    (1..=500).map(|k| r("a", k)).collect::<Vec<_>>().join("|")
                ),
                Ok(false),
            ),
            (
                format!(
                    "(?:{})",
                    (1..=501).map(|k| r("a", k)).collect::<Vec<_>>().join("|")
                ),
                Err(DEEP.to_string()),
            ),
        ];
        for (pattern, want) in cases {
            let got = check(&pattern);
            let want = want.map_err(|code| match code.strip_prefix('^') {
                // Prometheus's second step, compiling the anchored pattern, refused it.
                Some(_) => message(DEEP, &code),
                None => message(&code, &pattern),
            });
            assert!(
                got == want,
                "pattern of {} bytes starting {:?}: got {}",
                pattern.len(),
                &pattern[..40.min(pattern.len())],
                brief(&got)
            );
        }
    }

    #[test]
    fn invalid_utf8() {
        let utf8 = "invalid UTF-8";
        let cases: Vec<(&[u8], Result<bool, String>)> = vec![
            // Prometheus matches a metacharacter-free value as plain strings, unparsed.
            (b"\xff", Ok(false)),
            (b"a\xff|", Ok(true)),
            (b"\xff(", Err(message(utf8, "\u{FFFD}("))),
            (b"a.\xe2\x82", Err(message(utf8, "\u{FFFD}\u{FFFD}"))),
            (b"[\xff]", Err(message(utf8, "\u{FFFD}]"))),
            (b"[\\\xff]", Err(message(utf8, "\u{FFFD}]"))),
            (b"\\\xff", Err(message(utf8, "\u{FFFD}"))),
            (b"(?P<a\xffb>x)", Err(message(utf8, "\u{FFFD}b"))),
            (b"(?P<a\xffb", Err(message(utf8, "\u{FFFD}b"))),
            (b"\\Qa\xffb\\Ec", Err(message(utf8, "\u{FFFD}b"))),
            (b"\\p{\xff}x", Err(message(utf8, "\u{FFFD}"))),
            (b"(?\xff)", Err(message(utf8, "\u{FFFD})"))),
            (
                b"\xed\xa0\x80*",
                Err(message(utf8, "\u{FFFD}\u{FFFD}\u{FFFD}*")),
            ),
            (b"\xf0\x9f\x98\x80+", Ok(false)),
        ];
        for (pattern, want) in cases {
            assert_eq!(check_bytes(pattern), want, "{:?}", pattern);
        }
    }

    /// Hostile input: deep, long or pathological patterns must answer quickly,
    /// without recursion, on a stack as small as WebAssembly's.
    #[test]
    fn hostile_input_on_a_small_stack() {
        let worker = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(|| {
                let r = |s: &str, n: usize| s.repeat(n);
                let opens = r("(", 100_000);
                assert_eq!(check(&opens), Err(message(PAREN, &opens)));
                let closes = r(")", 100_000);
                assert_eq!(check(&closes), Err(message(UNEXPECTED, &closes)));
                let captures = r("(", 100_000) + &r(")", 100_000);
                assert_eq!(check(&captures), Err(message(DEEP, &captures)));
                assert_eq!(
                    check(&(r("(?:", 100_000) + "x" + &r(")", 100_000))),
                    Ok(false)
                );
                assert_eq!(check(&(r("(?:", 100_000) + &r(")", 100_000))), Ok(true));
                assert_eq!(check(&r(".a|", 100_000)), Ok(true));
                assert_eq!(check(&(r("a.|", 100_000) + "b.")), Ok(false));
                assert_eq!(check(&format!("({})", r("x|", 200_000))), Ok(true));
                let chain: Vec<String> = (1..=1200).map(|k| r("a", k) + "c").collect();
                let chain = format!("(?:{})", chain.join("|"));
                assert_eq!(check(&chain), Err(message(DEEP, &chain)));
                let words: Vec<String> = (0..100_000).map(|k| format!("value{}", k)).collect();
                assert_eq!(check(&format!("({})", words.join("|"))), Ok(false));
                assert_eq!(check(&r("x*", 500_000)), Ok(true));
                assert_eq!(check(&r("(?:x*)", 200_000)), Ok(true));
                assert_eq!(check(&r("(x+|y)", 100_000)), Ok(false));
                assert_eq!(
                    check(&r("[[:", 100_000)),
                    Err(message(BRACKET, &r("[[:", 100_000)))
                );
                let braces = r("\\p{", 100_000);
                assert_eq!(check(&braces), Err(message(RANGE, &braces)));
                let names = r("(?P<", 100_000);
                assert_eq!(check(&names), Err(message(NAME, &names)));
                assert_eq!(check(&r("\\Q", 100_000)), Ok(false));
                assert_eq!(check(&r("\\Q\\E", 100_000)), Ok(true));
                assert_eq!(
                    check(&(String::from("[") + &r("a-z\\d[:alpha:]\\pL", 100_000) + "]")),
                    Ok(false)
                );
                assert_eq!(check(&r("x{1000}", 1000)), Ok(false));
                assert_eq!(check(&r("(?i)", 100_000)), Ok(true));
                assert_eq!(check(&r("{", 100_000)), Ok(false));
                assert_eq!(check(&r("{1", 100_000)), Ok(false));
                let nested = r("(?:", 20) + "a" + &r("){2}", 20);
                assert_eq!(check(&nested), Err(message(COUNT, "{2}")));
            })
            .expect("spawn");
        worker.join().expect("no stack overflow or panic");
    }
}
