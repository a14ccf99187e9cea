//! promql_parser: PromQL lexer, parser, type checks, printer and label enforcer,
//! built to WebAssembly for the promgate gateway (see the `wasm` module for the ABI).

#[cfg(target_arch = "wasm32")]
mod arena;
mod ast;
mod check;
mod complexity;
mod enforce;
mod error;
mod functions;
mod json;
mod lex;
mod numbers;
mod parse;
mod printer;
mod regex;
mod strings;
mod token;

pub use ast::{Expr, MatchOp, Matcher};
pub use check::SelectorUse;
pub use complexity::{Limits, Measures};
pub use error::{Error, Kind as ErrorKind};

use error::Result;
use std::borrow::Cow;

/// Queries and selectors larger than this are refused.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

fn check_size(input: &[u8]) -> Result<()> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(Error::plain(format!(
            "query too large: {} bytes (limit {} bytes)",
            input.len(),
            MAX_INPUT_BYTES
        ))
        .with_kind(ErrorKind::TooLarge));
    }
    Ok(())
}

/// Enforced queries and selectors longer than this are refused. Every vector selector is
/// printed with every extra matcher, so the text grows as selectors × matcher length (a
/// 1 MiB `a+a+…` with an 799-byte matcher would be 409 MiB); printing stops at the limit.
/// As large as the input limit, and more than Prometheus takes (a form body over 10 MiB
/// and a URL over 1 MiB are refused), so no query an upstream would run is refused.
pub const MAX_ENFORCED_BYTES: usize = 16 * 1024 * 1024;

/// The text `print` writes with `extra` added to every selector, unless it is longer than
/// MAX_ENFORCED_BYTES.
fn print_enforced(
    extra: &[Matcher<'_>],
    input_len: usize,
    print: impl FnOnce(&mut printer::Printer),
) -> Result<String> {
    let mut p = printer::Printer::new(input_len + 64 * extra.len(), extra, MAX_ENFORCED_BYTES);
    print(&mut p);
    if p.over_limit() {
        return Err(Error::plain(format!(
            "query too large once enforced: over {} bytes",
            MAX_ENFORCED_BYTES
        ))
        .with_kind(ErrorKind::TooLarge));
    }
    Ok(p.into_string())
}

/// The first byte that is not UTF-8, as an error.
fn check_utf8(input: &[u8]) -> Result<()> {
    match std::str::from_utf8(input) {
        Ok(_) => Ok(()),
        Err(e) => Err(Error::at(e.valid_up_to(), "invalid UTF-8 rune")),
    }
}

/// Bytes that are not UTF-8 are refused as such, wherever they stand: when parsing failed
/// at or after the first bad byte, that byte is the error.
fn prefer_utf8_error(query: &[u8], e: Error) -> Error {
    match check_utf8(query) {
        Err(bad) if e.message() != bad.message() && e.pos().map_or(true, |p| p >= bad.pos().unwrap_or(0)) => bad,
        _ => e,
    }
}

fn refuse_bad_comment(p: &parse::Parser) -> Result<()> {
    match p.invalid_utf8_in_comment() {
        Some(pos) => Err(Error::at(pos, "invalid UTF-8 rune")),
        None => Ok(()),
    }
}

/// Parses and checks a PromQL expression as Prometheus's ParseExpr does.
pub fn parse_expr(query: &[u8]) -> Result<Expr<'_>> {
    parse_expr_within(query, Limits::NONE)
}

/// `parse_expr`, refusing a query over `limits`: as soon as the parser passes the node
/// limit, and before the type checks otherwise. Prometheus runs its type checks whatever
/// their outcome, so a query it would refuse for its types costs it as much to check.
fn parse_expr_within(query: &[u8], limits: Limits) -> Result<Expr<'_>> {
    check_size(query)?;
    let mut p = parse::Parser::new(query);
    p.limit_nodes(limits.max_nodes);
    let mut e = p.parse_query().map_err(|e| prefer_utf8_error(query, e))?;
    refuse_bad_comment(&p)?;
    if limits != Limits::NONE {
        complexity::check(&e, limits)?;
    }
    check::check(&mut e)?;
    Ok(e)
}

/// Canonical PromQL text of `query`.
pub fn format(query: &[u8]) -> Result<String> {
    let e = parse_expr(query)?;
    Ok(printer::print(&e, query.len()))
}

/// The syntax tree of `query` as JSON.
pub fn parse_json(query: &[u8]) -> Result<String> {
    Ok(json::to_json(&parse_expr(query)?))
}

/// Builds a matcher to enforce, validating it as Prometheus would.
pub fn matcher<'a>(name: &'a [u8], op: MatchOp, value: &'a [u8]) -> Result<Matcher<'a>> {
    if name.is_empty() {
        return Err(Error::plain("invalid matcher: empty label name"));
    }
    check_utf8(name).and(check_utf8(value)).map_err(|_| Error::plain("invalid matcher: invalid UTF-8 rune"))?;
    parse::new_matcher(Cow::Borrowed(name), op, Cow::Borrowed(value))
        .map_err(|m| Error::plain(format!("invalid matcher {}: {}", strings::go_quote(name), m)))
}

/// `query` with `extra` appended to every vector selector, as canonical PromQL.
pub fn enforce(query: &[u8], extra: &[Matcher<'_>]) -> Result<String> {
    enforce_measured(query, extra, Limits::NONE).map(|(text, _)| text)
}

/// `enforce`, refusing a query over `limits`, with what the enforced query costs (see
/// `complexity`).
pub fn enforce_measured(query: &[u8], extra: &[Matcher<'_>], limits: Limits) -> Result<(String, Measures)> {
    let mut e = parse_expr_within(query, limits)?;
    enforce::enforce_expr(&mut e, extra)?;
    // Again on the tree forwarded: enforcement may wrap calls (absent()'s label_replace).
    let measures = complexity::check(&e, limits)?;
    Ok((print_enforced(extra, query.len(), |p| p.expr(&e))?, measures))
}

/// A single series selector (a `match[]` value) with `extra` appended, checked as
/// Prometheus checks `match[]` on `endpoint` (see `check::check_match_selector`).
pub fn enforce_selector(
    selector: &[u8],
    extra: &[Matcher<'_>],
    endpoint: SelectorUse,
) -> Result<String> {
    check_size(selector)?;
    let mut p = parse::Parser::new(selector);
    let vs = p.parse_selector().map_err(|e| prefer_utf8_error(selector, e))?;
    refuse_bad_comment(&p)?;
    check::check_match_selector(&vs, endpoint, !extra.is_empty())?;
    print_enforced(extra, selector.len(), |p| p.selector(&vs))
}

/// Decodes the ABI's matcher records: u8 type, u32 LE name length, name, u32 LE value
/// length, value.
pub fn decode_matchers(mut buf: &[u8]) -> Result<Vec<Matcher<'_>>> {
    fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
        if buf.len() < n {
            return Err(Error::plain("invalid matcher encoding: truncated record"));
        }
        let (head, rest) = buf.split_at(n);
        *buf = rest;
        Ok(head)
    }
    fn take_len(buf: &mut &[u8]) -> Result<usize> {
        let b = take(buf, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    let mut out = Vec::new();
    while !buf.is_empty() {
        let op = match take(&mut buf, 1)?[0] {
            0 => MatchOp::Equal,
            1 => MatchOp::NotEqual,
            2 => MatchOp::Regex,
            3 => MatchOp::NotRegex,
            t => return Err(Error::plain(format!("invalid matcher encoding: unknown type {}", t))),
        };
        let n = take_len(&mut buf)?;
        let name = take(&mut buf, n)?;
        let n = take_len(&mut buf)?;
        let value = take(&mut buf, n)?;
        out.push(matcher(name, op, value)?);
    }
    Ok(out)
}

/// ABI status of a call that succeeded.
pub const STATUS_OK: u32 = 0;
/// ABI status of a refused query: a syntax, semantic or type error, an invalid matcher.
pub const STATUS_SYNTAX: u32 = 1;
/// ABI status of a query nested past the depth limit.
pub const STATUS_TOO_DEEP: u32 = 2;
/// ABI status of an input, or an enforced text, past its size limit.
pub const STATUS_TOO_LARGE: u32 = 3;
/// ABI status of a query over a complexity limit.
pub const STATUS_TOO_COMPLEX: u32 = 4;

/// The ABI status of an error of `kind`.
pub fn status_of(kind: ErrorKind) -> u32 {
    match kind {
        ErrorKind::Syntax => STATUS_SYNTAX,
        ErrorKind::TooDeep => STATUS_TOO_DEEP,
        ErrorKind::TooLarge => STATUS_TOO_LARGE,
        ErrorKind::TooComplex => STATUS_TOO_COMPLEX,
    }
}

/// The outcome of one ABI call: `STATUS_OK` with the result text (and, for `enforce`, the
/// measures of the enforced query), or the status of the error's kind with the rendered
/// error and its 1-based position (0, 0 when it has none).
pub struct Outcome {
    pub status: u32,
    pub text: String,
    pub line: u32,
    pub column: u32,
    pub measures: Measures,
}

impl Outcome {
    fn of(input: &[u8], r: Result<String>) -> Outcome {
        Outcome::measured(input, r.map(|text| (text, Measures::default())))
    }

    fn measured(input: &[u8], r: Result<(String, Measures)>) -> Outcome {
        match r {
            Ok((text, measures)) => Outcome { status: STATUS_OK, text, line: 0, column: 0, measures },
            Err(e) => {
                let (line, column) = e.line_col(input).unwrap_or((0, 0));
                Outcome {
                    status: status_of(e.kind()),
                    text: e.render(input),
                    line: line as u32,
                    column: column as u32,
                    measures: Measures::default(),
                }
            }
        }
    }
}

pub fn run_format(q: &[u8]) -> Outcome {
    Outcome::of(q, format(q))
}

pub fn run_parse(q: &[u8]) -> Outcome {
    Outcome::of(q, parse_json(q))
}

pub fn run_enforce(q: &[u8], m: &[u8], limits: Limits) -> Outcome {
    match decode_matchers(m) {
        Ok(ms) => Outcome::measured(q, enforce_measured(q, &ms, limits)),
        Err(e) => Outcome::of(b"", Err(e)),
    }
}

pub fn run_enforce_selector(q: &[u8], m: &[u8], endpoint: SelectorUse) -> Outcome {
    match decode_matchers(m) {
        Ok(ms) => Outcome::of(q, enforce_selector(q, &ms, endpoint)),
        Err(e) => Outcome::of(b"", Err(e)),
    }
}

/// The WebAssembly ABI (see the parser package's contract): inputs are written by the
/// host into buffers from `alloc`; each call returns its status (`STATUS_OK`,
/// `STATUS_SYNTAX`, `STATUS_TOO_DEEP`, `STATUS_TOO_LARGE`, `STATUS_TOO_COMPLEX`) and leaves
/// its output for `result_ptr` / `result_len`, and `enforce`'s measures for
/// `result_nodes` / `result_cost` / `result_lookback_ms`, until the next call.
#[cfg(target_arch = "wasm32")]
mod wasm {
    use super::*;

    #[global_allocator]
    static ALLOCATOR: crate::arena::CallArena = crate::arena::CallArena::new();

    /// The last call's output: in the allocator's region (valid until the next call), or
    /// in `SPILLED` when it did not fit there.
    static mut RESULT_PTR: *const u8 = std::ptr::null();
    static mut RESULT_LEN: usize = 0;
    static mut SPILLED: Vec<u8> = Vec::new();
    static mut ERROR_LINE: u32 = 0;
    static mut ERROR_COLUMN: u32 = 0;
    static mut MEASURES: Measures = Measures { nodes: 0, cost: 0, lookback_ms: 0.0 };

    unsafe fn slice<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
        if len == 0 {
            &[]
        } else {
            std::slice::from_raw_parts(ptr, len)
        }
    }

    /// Runs one call with the per-call allocator and keeps its output.
    unsafe fn call(input_len: usize, f: impl FnOnce() -> Outcome) -> u32 {
        ALLOCATOR.during(input_len, || {
            let o = f();
            let text = o.text.into_bytes();
            if ALLOCATOR.holds(text.as_ptr()) {
                RESULT_PTR = text.as_ptr();
                RESULT_LEN = text.len();
            } else {
                SPILLED = text;
                RESULT_PTR = SPILLED.as_ptr();
                RESULT_LEN = SPILLED.len();
            }
            ERROR_LINE = o.line;
            ERROR_COLUMN = o.column;
            MEASURES = o.measures;
            o.status
        })
    }

    #[no_mangle]
    pub extern "C" fn alloc(len: usize) -> *mut u8 {
        let mut buf = Vec::<u8>::with_capacity(len.max(1));
        let ptr = buf.as_mut_ptr();
        std::mem::forget(buf);
        ptr
    }

    /// # Safety
    /// `ptr` and `len` must come from one earlier `alloc(len)`.
    #[no_mangle]
    pub unsafe extern "C" fn dealloc(ptr: *mut u8, len: usize) {
        drop(Vec::from_raw_parts(ptr, 0, len.max(1)));
    }

    /// # Safety
    /// The pointers must address `len` readable bytes of this module's memory.
    #[no_mangle]
    pub unsafe extern "C" fn format(q_ptr: *const u8, q_len: usize) -> u32 {
        call(q_len, || run_format(slice(q_ptr, q_len)))
    }

    /// # Safety
    /// As for `format`.
    #[no_mangle]
    pub unsafe extern "C" fn parse(q_ptr: *const u8, q_len: usize) -> u32 {
        call(q_len, || run_parse(slice(q_ptr, q_len)))
    }

    /// `max_nodes` and `max_cost`: the complexity limits, 0 for none (a host that passes
    /// only the first four arguments gets 0 for both).
    ///
    /// # Safety
    /// As for `format`.
    #[no_mangle]
    pub unsafe extern "C" fn enforce(
        q_ptr: *const u8,
        q_len: usize,
        m_ptr: *const u8,
        m_len: usize,
        max_nodes: u32,
        max_cost: f64,
    ) -> u32 {
        // `as` saturates: a negative or NaN cost is 0 (no limit), a huge one the largest u64.
        let limits = Limits { max_nodes: max_nodes as usize, max_cost: max_cost as u64 };
        call(q_len, || run_enforce(slice(q_ptr, q_len), slice(m_ptr, m_len), limits))
    }

    /// `federate`: 1 checks the selector as /federate does, anything else as the API endpoints do.
    ///
    /// # Safety
    /// As for `format`.
    #[no_mangle]
    pub unsafe extern "C" fn enforce_selector(
        q_ptr: *const u8,
        q_len: usize,
        m_ptr: *const u8,
        m_len: usize,
        federate: u32,
    ) -> u32 {
        let endpoint = if federate == 1 {
            SelectorUse::Federate
        } else {
            SelectorUse::Api
        };
        call(q_len, || {
            run_enforce_selector(slice(q_ptr, q_len), slice(m_ptr, m_len), endpoint)
        })
    }

    #[no_mangle]
    pub unsafe extern "C" fn result_ptr() -> *const u8 {
        RESULT_PTR
    }

    #[no_mangle]
    pub unsafe extern "C" fn result_len() -> usize {
        RESULT_LEN
    }

    #[no_mangle]
    pub unsafe extern "C" fn error_line() -> u32 {
        ERROR_LINE
    }

    #[no_mangle]
    pub unsafe extern "C" fn error_column() -> u32 {
        ERROR_COLUMN
    }

    /// The nodes of the last successful `enforce`'s query (0 after any other call).
    #[no_mangle]
    pub unsafe extern "C" fn result_nodes() -> u32 {
        MEASURES.nodes as u32
    }

    /// Its type-check cost, as a double (exact below 2^53).
    #[no_mangle]
    pub unsafe extern "C" fn result_cost() -> f64 {
        MEASURES.cost as f64
    }

    /// Its lookback in milliseconds (infinite when it depends on the query's step or range).
    #[no_mangle]
    pub unsafe extern "C" fn result_lookback_ms() -> f64 {
        MEASURES.lookback_ms
    }
}

#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod enforce_tests;
