//! A recursive-descent parser that accepts exactly Prometheus's PromQL grammar (its
//! yacc grammar, with precedence and conflict resolution) and reports the same
//! syntax and parse-time semantic errors. Type checks follow in `check`.

use crate::ast::*;
use crate::complexity::too_many_nodes_while_parsing;
use crate::error::{Error, Kind as ErrorKind, Result};
use crate::functions;
use crate::lex::{Lexer, Token};
use crate::numbers::{ns_to_seconds, parse_duration, parse_number, seconds_to_ns};
use crate::strings::{go_quote, unquote};
use crate::token::{describe, Kind};
use std::borrow::Cow;

/// How deep expressions may nest (parentheses, calls, operands, subqueries...).
pub const MAX_DEPTH: usize = 256;
pub const TOO_DEEP: &str = "query too deeply nested";

/// The largest duration in seconds that fits Go's time.Duration.
const MAX_DURATION_SECONDS: f64 = 9223372036.854775807;

type Context = (&'static str, &'static str);

const CTX_AGGREGATION: Context = ("aggregation", "");
const CTX_OFFSET: Context = ("offset", "number, duration, step(), or range()");
const CTX_AT: Context = ("@", "timestamp");
const CTX_RANGE: Context = (
    "subquery or range selector",
    "number, duration, step(), or range()",
);
const CTX_RANGE_END: Context = ("subquery or range", "\":\" or \"]\"");
const CTX_STEP: Context = (
    "subquery selector",
    "number, duration, step(), range(), or \"]\"",
);
const CTX_STEP_END: Context = ("subquery selector", "\"]\"");

pub struct Parser<'a> {
    lex: Lexer<'a>,
    input: &'a [u8],
    ahead: [Option<Token>; 2],
    depth: usize,
    /// Nodes of Prometheus's tree made so far (see `complexity`), and how many may be made
    /// before the query is refused (0: no limit), so that a long query over the limit
    /// costs the parsing of its first `max_nodes` nodes only.
    nodes: usize,
    max_nodes: usize,
    /// Innermost last: where a syntax error is reported "in" (Prometheus's error productions).
    contexts: Vec<Context>,
}

fn out_of_range(v: f64) -> bool {
    v > MAX_DURATION_SECONDS || v < -MAX_DURATION_SECONDS
}

fn is_match_op(k: Kind) -> Option<MatchOp> {
    match k {
        Kind::Eql => Some(MatchOp::Equal),
        Kind::Neq => Some(MatchOp::NotEqual),
        Kind::EqlRegex => Some(MatchOp::Regex),
        Kind::NeqRegex => Some(MatchOp::NotRegex),
        _ => None,
    }
}

/// Builds a matcher, validating regexes like Prometheus's labels.NewMatcher.
pub fn new_matcher<'a>(
    name: Bytes<'a>,
    op: MatchOp,
    value: Bytes<'a>,
) -> std::result::Result<Matcher<'a>, String> {
    let matches_empty = match op {
        MatchOp::Equal => value.is_empty(),
        MatchOp::NotEqual => !value.is_empty(),
        MatchOp::Regex | MatchOp::NotRegex => {
            let empty = crate::regex::check_bytes(&value)?;
            if op == MatchOp::Regex {
                empty
            } else {
                !empty
            }
        }
    };
    Ok(Matcher {
        name,
        op,
        value,
        matches_empty,
    })
}

fn number_of(dn: &DurNode) -> Option<&NumberLiteral> {
    match dn {
        DurNode::Number(n) => Some(n),
        DurNode::Expr(_) => None,
    }
}

fn dur_from(node: DurNode) -> Dur {
    match node {
        DurNode::Number(n) => Dur::Nanos(seconds_to_ns(n.val)),
        DurNode::Expr(e) => Dur::Expr(e),
    }
}

fn wrap_paren(node: DurNode) -> Box<DurationExpr> {
    match node {
        DurNode::Expr(mut e) => {
            e.wrapped = true;
            e
        }
        n @ DurNode::Number(_) => Box::new(DurationExpr {
            op: Kind::Add,
            lhs: None,
            rhs: Some(n),
            wrapped: true,
        }),
    }
}

impl<'a> Parser<'a> {
    pub fn new(input: &'a [u8]) -> Parser<'a> {
        Parser {
            lex: Lexer::new(input),
            input,
            ahead: [None, None],
            depth: 0,
            nodes: 0,
            max_nodes: 0,
            contexts: Vec::with_capacity(8),
        }
    }

    /// Refuses the query as soon as it has more than `max` nodes (0: no limit).
    pub fn limit_nodes(&mut self, max: usize) {
        self.max_nodes = max;
    }

    /// Counts `n` nodes of Prometheus's tree.
    fn count(&mut self, n: usize) -> Result<()> {
        self.nodes += n;
        if self.max_nodes > 0 && self.nodes > self.max_nodes {
            return Err(too_many_nodes_while_parsing(self.max_nodes));
        }
        Ok(())
    }

    // ---- token access -------------------------------------------------------------

    fn lex_one(&mut self) -> Token {
        loop {
            let t = self.lex.next_token();
            if t.kind != Kind::Comment {
                return t;
            }
        }
    }

    fn lexer_error(&self, t: Token) -> Error {
        Error::at(t.pos, self.lex.error.clone())
    }

    /// The current token (lexed on first use, as the yacc parser reads its lookahead).
    fn peek(&mut self) -> Result<Token> {
        self.lookahead(0)
    }

    /// The token after the current one.
    fn peek2(&mut self) -> Result<Token> {
        self.peek()?;
        self.lookahead(1)
    }

    /// Token `i` of the two-token lookahead, lexed on first use; tokens before it must be lexed already.
    fn lookahead(&mut self, i: usize) -> Result<Token> {
        let t = match self.ahead[i] {
            Some(t) => t,
            None => {
                let t = self.lex_one();
                self.ahead[i] = Some(t);
                t
            }
        };
        if t.kind == Kind::Error {
            return Err(self.lexer_error(t));
        }
        Ok(t)
    }

    fn bump(&mut self) -> Token {
        let t = self.ahead[0].take().expect("bump without peek");
        self.ahead[0] = self.ahead[1].take();
        t
    }

    fn text(&self, t: Token) -> &'a [u8] {
        &self.input[t.pos..t.end]
    }

    /// After an element of a label list: a `,` (which may trail before the closing token) or the closing
    /// token itself. True once the list is closed; `expected` names the two in the error otherwise.
    fn list_closed(&mut self, close: Kind, expected: Context) -> Result<bool> {
        let t = self.peek()?;
        if t.kind == close {
            self.bump();
            return Ok(true);
        }
        if t.kind != Kind::Comma {
            return Err(self.unexpected_in(t, Some(expected)));
        }
        self.bump();
        if self.peek()?.kind == close {
            self.bump();
            return Ok(true);
        }
        Ok(false)
    }

    fn unexpected_in(&self, t: Token, ctx: Option<Context>) -> Error {
        let mut msg = String::from("unexpected ");
        msg.push_str(&describe(t.kind, self.text(t)));
        if let Some((context, expected)) = ctx {
            if !context.is_empty() {
                msg.push_str(" in ");
                msg.push_str(context);
            }
            if !expected.is_empty() {
                msg.push_str(", expected ");
                msg.push_str(expected);
            }
        }
        Error::at(t.pos, msg)
    }

    /// A syntax error at `t`, reported in the innermost enclosing context.
    fn unexpected(&self, t: Token) -> Error {
        self.unexpected_in(t, self.contexts.last().copied())
    }

    fn expect(&mut self, kind: Kind) -> Result<Token> {
        let t = self.peek()?;
        if t.kind != kind {
            return Err(self.unexpected(t));
        }
        Ok(self.bump())
    }

    fn enter(&mut self, pos: usize) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::at(pos, TOO_DEEP).with_kind(ErrorKind::TooDeep));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn string_value(&self, t: Token) -> Result<Bytes<'a>> {
        unquote(self.text(t)).ok_or_else(|| {
            Error::at(
                t.pos,
                format!(
                    "error unquoting string {}: invalid syntax",
                    go_quote(self.text(t))
                ),
            )
        })
    }

    // ---- entry points -------------------------------------------------------------

    /// Where the first byte that is not UTF-8 stands in a comment, when one does (the
    /// lexer refuses them everywhere else).
    pub fn invalid_utf8_in_comment(&self) -> Option<usize> {
        self.lex.invalid_utf8_at
    }

    /// A whole PromQL expression (Prometheus's ParseExpr, before type checks).
    pub fn parse_query(&mut self) -> Result<Expr<'a>> {
        let t = self.peek()?;
        if t.kind == Kind::Eof {
            return Err(Error::at(0, "no expression found in input"));
        }
        let e = self.parse_expr()?;
        let t = self.peek()?;
        if t.kind != Kind::Eof {
            return Err(self.unexpected_in(t, None));
        }
        Ok(e)
    }

    /// A single series selector (Prometheus's ParseMetricSelector).
    pub fn parse_selector(&mut self) -> Result<VectorSelector<'a>> {
        let t = self.peek()?;
        if !(t.kind.can_be_metric_name() || t.kind == Kind::LeftBrace) {
            return Err(self.unexpected_in(t, None));
        }
        let vs = self.parse_vector_selector()?;
        let t = self.peek()?;
        if t.kind != Kind::Eof {
            return Err(self.unexpected_in(t, None));
        }
        Ok(vs)
    }

    // ---- expressions --------------------------------------------------------------

    fn parse_expr(&mut self) -> Result<Expr<'a>> {
        self.parse_binary(0)
    }

    fn parse_binary(&mut self, min_prec: u8) -> Result<Expr<'a>> {
        let mut lhs = self.parse_unary()?;
        loop {
            let t = self.peek()?;
            let prec = match t.kind.binary_precedence() {
                Some(p) if p >= min_prec => p,
                _ => break,
            };
            self.bump();
            self.count(1)?;
            let (return_bool, matching) = self.parse_bin_modifiers()?;
            let next_min = if t.kind == Kind::Pow { prec } else { prec + 1 };
            self.enter(t.pos)?;
            let rhs = self.parse_binary(next_min)?;
            self.leave();
            let step = BinaryStep {
                op: t.kind,
                op_pos: t.pos,
                return_bool,
                matching: Some(matching),
                rhs,
            };
            lhs = match lhs {
                Expr::Binary(mut b) => {
                    b.steps.push(step);
                    Expr::Binary(b)
                }
                first => Expr::Binary(Box::new(Binary {
                    first,
                    steps: vec![step],
                })),
            };
        }
        Ok(lhs)
    }

    fn parse_bin_modifiers(&mut self) -> Result<(bool, VectorMatching<'a>)> {
        let mut vm = VectorMatching {
            card: Card::OneToOne,
            labels: Vec::new(),
            on: false,
            include: Vec::new(),
            fill_lhs: None,
            fill_rhs: None,
        };
        let mut return_bool = false;
        if self.peek()?.kind == Kind::Bool {
            self.bump();
            return_bool = true;
        }
        let t = self.peek()?;
        if t.kind == Kind::On || t.kind == Kind::Ignoring {
            self.bump();
            vm.on = t.kind == Kind::On;
            vm.labels = self.parse_grouping_labels()?;
            let g = self.peek()?;
            if g.kind == Kind::GroupLeft || g.kind == Kind::GroupRight {
                self.bump();
                vm.card = if g.kind == Kind::GroupLeft {
                    Card::ManyToOne
                } else {
                    Card::OneToMany
                };
                if self.peek()?.kind == Kind::LeftParen {
                    vm.include = self.parse_grouping_labels()?;
                }
            }
        }
        match self.peek()?.kind {
            Kind::Fill => {
                self.bump();
                let v = self.parse_fill_value()?;
                vm.fill_lhs = Some(v);
                vm.fill_rhs = Some(v);
            }
            Kind::FillLeft => {
                self.bump();
                vm.fill_lhs = Some(self.parse_fill_value()?);
                if self.peek()?.kind == Kind::FillRight {
                    self.bump();
                    vm.fill_rhs = Some(self.parse_fill_value()?);
                }
            }
            Kind::FillRight => {
                self.bump();
                vm.fill_rhs = Some(self.parse_fill_value()?);
                if self.peek()?.kind == Kind::FillLeft {
                    self.bump();
                    vm.fill_lhs = Some(self.parse_fill_value()?);
                }
            }
            _ => {}
        }
        Ok((return_bool, vm))
    }

    fn parse_fill_value(&mut self) -> Result<f64> {
        self.expect(Kind::LeftParen)?;
        let t = self.peek()?;
        let negate = match t.kind {
            Kind::Add | Kind::Sub => {
                self.bump();
                t.kind == Kind::Sub
            }
            _ => false,
        };
        let t = self.peek()?;
        let n = match t.kind {
            Kind::Number | Kind::Duration => self.parse_number_literal()?,
            _ => return Err(self.unexpected(t)),
        };
        self.expect(Kind::RightParen)?;
        Ok(if negate { -n.val } else { n.val })
    }

    /// `( label, ... )` after by/without/on/ignoring/group_left/group_right.
    fn parse_grouping_labels(&mut self) -> Result<Vec<Bytes<'a>>> {
        let t = self.peek()?;
        if t.kind != Kind::LeftParen {
            return Err(self.unexpected_in(t, Some(("grouping opts", "\"(\""))));
        }
        self.bump();
        let mut labels = Vec::with_capacity(4);
        if self.peek()?.kind == Kind::RightParen {
            self.bump();
            return Ok(labels);
        }
        loop {
            let t = self.peek()?;
            let label = if t.kind == Kind::Str {
                let v = self.string_value(t)?;
                if v.is_empty() || std::str::from_utf8(&v).is_err() {
                    return Err(Error::at(
                        t.pos,
                        format!("invalid label name for grouping: {}", go_quote(&v)),
                    ));
                }
                v
            } else if t.kind.can_be_grouping_label() {
                Cow::Borrowed(self.text(t))
            } else {
                return Err(self.unexpected_in(t, Some(("grouping opts", "label"))));
            };
            self.bump();
            labels.push(label);
            if self.list_closed(Kind::RightParen, ("grouping opts", "\",\" or \")\""))? {
                return Ok(labels);
            }
        }
    }

    fn parse_unary(&mut self) -> Result<Expr<'a>> {
        let t = self.peek()?;
        if t.kind != Kind::Add && t.kind != Kind::Sub {
            return self.parse_postfix();
        }
        self.bump();
        self.enter(t.pos)?;
        // The operand binds like `*`: only `^` and postfix modifiers bind tighter.
        let operand = self.parse_binary(6)?;
        self.leave();
        Ok(match operand {
            Expr::Number(mut n) => {
                if t.kind == Kind::Sub {
                    negate(&mut n);
                }
                n.pos = t.pos;
                Expr::Number(n)
            }
            expr => {
                self.count(1)?;
                Expr::Unary(Box::new(Unary {
                    op: t.kind,
                    expr,
                    pos: t.pos,
                }))
            }
        })
    }

    fn parse_postfix(&mut self) -> Result<Expr<'a>> {
        let mut e = self.parse_primary()?;
        loop {
            let t = self.peek()?;
            match t.kind {
                Kind::LeftBracket => {
                    self.bump();
                    e = self.parse_range_or_subquery(e, t.pos)?;
                }
                Kind::Offset => {
                    self.bump();
                    self.contexts.push(CTX_OFFSET);
                    let d = self.parse_offset_duration()?;
                    self.contexts.pop();
                    self.add_offset(&mut e, d)?;
                }
                Kind::At => {
                    self.bump();
                    self.contexts.push(CTX_AT);
                    self.parse_at(&mut e)?;
                    self.contexts.pop();
                }
                Kind::Anchored | Kind::Smoothed => {
                    self.bump();
                    set_extended(&mut e, t.kind == Kind::Anchored)?;
                }
                _ => return Ok(e),
            }
        }
    }

    fn parse_primary(&mut self) -> Result<Expr<'a>> {
        let t = self.peek()?;
        self.count(1)?;
        match t.kind {
            Kind::Number | Kind::Duration => Ok(Expr::Number(self.parse_number_literal()?)),
            Kind::Str => {
                self.bump();
                Ok(Expr::String {
                    val: self.string_value(t)?,
                    pos: t.pos,
                })
            }
            Kind::LeftParen => {
                self.bump();
                self.enter(t.pos)?;
                let e = self.parse_expr()?;
                self.expect(Kind::RightParen)?;
                self.leave();
                Ok(Expr::Paren(Box::new(e), t.pos))
            }
            Kind::LeftBrace => Ok(Expr::Vector(Box::new(self.parse_vector_selector()?))),
            Kind::Identifier => {
                if self.peek2()?.kind == Kind::LeftParen {
                    return self.parse_call();
                }
                Ok(Expr::Vector(Box::new(self.parse_vector_selector()?)))
            }
            Kind::Start | Kind::End | Kind::Step | Kind::Range | Kind::MaxOf | Kind::MinOf
                if self.peek2()?.kind == Kind::LeftParen =>
            {
                self.parse_call()
            }
            k if k.is_aggregator()
                && matches!(
                    self.peek2()?.kind,
                    Kind::LeftParen | Kind::By | Kind::Without
                ) =>
            {
                self.parse_aggregate()
            }
            k if k.can_be_metric_name() => {
                Ok(Expr::Vector(Box::new(self.parse_vector_selector()?)))
            }
            _ => Err(self.unexpected(t)),
        }
    }

    fn parse_number_literal(&mut self) -> Result<NumberLiteral> {
        let t = self.bump();
        let text = self.text(t);
        if t.kind == Kind::Duration {
            let ns = parse_duration(text).map_err(|m| Error::at(t.pos, m))?;
            return Ok(NumberLiteral {
                val: ns_to_seconds(ns),
                duration: true,
                pos: t.pos,
            });
        }
        let val = parse_number(text)
            .map_err(|m| Error::at(t.pos, format!("error parsing number: {}", m)))?;
        Ok(NumberLiteral {
            val,
            duration: false,
            pos: t.pos,
        })
    }

    fn parse_call(&mut self) -> Result<Expr<'a>> {
        let name_tok = self.bump();
        let name = self.text(name_tok);
        let func = functions::lookup(name);
        let args = self.parse_call_body()?;
        Ok(Expr::Call(Box::new(Call {
            name,
            func,
            args,
            pos: name_tok.pos,
        })))
    }

    /// `( expr, ... )` of a function call or aggregation.
    fn parse_call_body(&mut self) -> Result<Vec<Expr<'a>>> {
        let open = self.expect(Kind::LeftParen)?;
        let mut args = Vec::with_capacity(4);
        if self.peek()?.kind == Kind::RightParen {
            self.bump();
            return Ok(args);
        }
        self.enter(open.pos)?;
        loop {
            args.push(self.parse_expr()?);
            let t = self.peek()?;
            match t.kind {
                Kind::Comma => {
                    self.bump();
                    if self.peek()?.kind == Kind::RightParen {
                        return Err(Error::at(
                            t.pos,
                            "trailing commas not allowed in function call args",
                        ));
                    }
                }
                Kind::RightParen => {
                    self.bump();
                    self.leave();
                    return Ok(args);
                }
                _ => return Err(self.unexpected(t)),
            }
        }
    }

    fn parse_aggregate(&mut self) -> Result<Expr<'a>> {
        let op = self.bump();
        self.contexts.push(CTX_AGGREGATION);
        let mut grouping = Vec::new();
        let mut without = false;
        let t = self.peek()?;
        let args = if t.kind == Kind::By || t.kind == Kind::Without {
            self.bump();
            without = t.kind == Kind::Without;
            grouping = self.parse_grouping_labels()?;
            self.parse_call_body()?
        } else {
            let args = self.parse_call_body()?;
            let t = self.peek()?;
            if t.kind == Kind::By || t.kind == Kind::Without {
                self.bump();
                without = t.kind == Kind::Without;
                grouping = self.parse_grouping_labels()?;
            }
            args
        };
        self.contexts.pop();
        if args.is_empty() {
            return Err(Error::at(
                op.pos,
                "no arguments for aggregate expression provided",
            ));
        }
        let with_param = matches!(
            op.kind,
            Kind::Topk
                | Kind::Bottomk
                | Kind::CountValues
                | Kind::Quantile
                | Kind::Limitk
                | Kind::LimitRatio
        );
        let want = if with_param { 2 } else { 1 };
        if args.len() != want {
            return Err(Error::at(
                op.pos,
                format!(
                    "wrong number of arguments for aggregate expression provided, expected {}, got {}",
                    want,
                    args.len()
                ),
            ));
        }
        let mut args = args.into_iter();
        let param = if with_param { args.next() } else { None };
        let expr = args.next().expect("argument count checked");
        Ok(Expr::Aggregate(Box::new(Aggregate {
            op: op.kind,
            expr,
            param,
            grouping,
            without,
            pos: op.pos,
        })))
    }

    // ---- selectors ----------------------------------------------------------------

    fn parse_vector_selector(&mut self) -> Result<VectorSelector<'a>> {
        let first = self.peek()?;
        let mut name: &'a [u8] = b"";
        if first.kind != Kind::LeftBrace {
            self.bump();
            name = self.text(first);
        }
        let mut matchers = Vec::new();
        if self.peek()?.kind == Kind::LeftBrace {
            matchers = self.parse_label_matchers()?;
        }
        Ok(VectorSelector {
            name,
            matchers,
            offset: Dur::Nanos(0),
            at: AtModifier::None,
            anchored: false,
            smoothed: false,
            bypass_empty_check: false,
            pos: first.pos,
        })
    }

    fn parse_label_matchers(&mut self) -> Result<Vec<Matcher<'a>>> {
        const CTX: &str = "label matching";
        self.bump();
        let mut matchers = Vec::with_capacity(4);
        if self.peek()?.kind == Kind::RightBrace {
            self.bump();
            return Ok(matchers);
        }
        loop {
            let t = self.peek()?;
            let name = match t.kind {
                Kind::Identifier => Cow::Borrowed(self.text(t)),
                Kind::Str => self.string_value(t)?,
                _ => return Err(self.unexpected_in(t, Some((CTX, "identifier or \"}\"")))),
            };
            self.bump();
            let op_tok = self.peek()?;
            match is_match_op(op_tok.kind) {
                Some(op) => {
                    self.bump();
                    let v = self.peek()?;
                    if v.kind != Kind::Str {
                        return Err(self.unexpected_in(v, Some((CTX, "string"))));
                    }
                    self.bump();
                    let value = self.string_value(v)?;
                    matchers.push(new_matcher(name, op, value).map_err(|m| Error::at(t.pos, m))?);
                }
                None if t.kind == Kind::Str => {
                    matchers.push(Matcher {
                        name: Cow::Borrowed(METRIC_NAME),
                        op: MatchOp::Equal,
                        matches_empty: name.is_empty(),
                        value: name,
                    });
                }
                None => {
                    return Err(self.unexpected_in(op_tok, Some((CTX, "label matching operator"))))
                }
            }
            if self.list_closed(Kind::RightBrace, (CTX, "\",\" or \"}\""))? {
                return Ok(matchers);
            }
        }
    }

    fn parse_range_or_subquery(&mut self, e: Expr<'a>, bracket_pos: usize) -> Result<Expr<'a>> {
        self.contexts.push(CTX_RANGE);
        let range = self.parse_positive_duration()?;
        self.contexts.pop();
        let t = self.peek()?;
        match t.kind {
            Kind::RightBracket => {
                self.bump();
                let vs = match e {
                    Expr::Vector(vs) => vs,
                    _ => {
                        return Err(Error::at(
                            bracket_pos,
                            "ranges only allowed for vector selectors",
                        ))
                    }
                };
                if vs.offset.is_set() {
                    return Err(Error::at(
                        bracket_pos,
                        "no offset modifiers allowed before range",
                    ));
                }
                if vs.at != AtModifier::None {
                    return Err(Error::at(
                        bracket_pos,
                        "no @ modifiers allowed before range",
                    ));
                }
                self.count(1)?;
                Ok(Expr::Matrix(MatrixSelector {
                    vs,
                    range: dur_from(range),
                }))
            }
            Kind::Colon => {
                self.bump();
                self.contexts.push(CTX_STEP);
                let step = if self.peek()?.kind == Kind::RightBracket {
                    Dur::Nanos(0)
                } else {
                    let s = dur_from(self.parse_positive_duration()?);
                    *self.contexts.last_mut().expect("pushed above") = CTX_STEP_END;
                    s
                };
                self.expect(Kind::RightBracket)?;
                self.contexts.pop();
                let height = match &e {
                    Expr::Subquery(s) => s.height + 1,
                    other => other.height() + 1,
                };
                if self.depth + height > MAX_DEPTH {
                    return Err(Error::at(bracket_pos, TOO_DEEP).with_kind(ErrorKind::TooDeep));
                }
                self.count(1)?;
                Ok(Expr::Subquery(Box::new(Subquery {
                    expr: e,
                    range: dur_from(range),
                    step,
                    offset: Dur::Nanos(0),
                    at: AtModifier::None,
                    height,
                })))
            }
            _ => Err(self.unexpected_in(t, Some(CTX_RANGE_END))),
        }
    }

    // ---- modifiers ----------------------------------------------------------------

    fn add_offset(&mut self, e: &mut Expr<'a>, d: DurNode) -> Result<()> {
        let pos = e.pos();
        let slot = modifier_target(e, "offset")?.offset;
        if slot.is_set() {
            return Err(Error::at(pos, "offset may not be set multiple times"));
        }
        *slot = dur_from(d);
        Ok(())
    }

    fn parse_at(&mut self, e: &mut Expr<'a>) -> Result<()> {
        let t = self.peek()?;
        let at = match t.kind {
            Kind::Start | Kind::End => {
                self.bump();
                self.expect(Kind::LeftParen)?;
                self.expect(Kind::RightParen)?;
                if t.kind == Kind::Start {
                    AtModifier::Start
                } else {
                    AtModifier::End
                }
            }
            Kind::Number | Kind::Duration | Kind::Add | Kind::Sub => {
                let negate = if t.kind == Kind::Add || t.kind == Kind::Sub {
                    self.bump();
                    t.kind == Kind::Sub
                } else {
                    false
                };
                let n = self.peek()?;
                if n.kind != Kind::Number && n.kind != Kind::Duration {
                    return Err(self.unexpected(n));
                }
                let v = self.parse_number_literal()?.val;
                let ts = if negate { -v } else { v };
                if !ts.is_finite()
                    || ts >= 9.223372036854775807e18
                    || ts <= -9.223372036854775808e18
                {
                    let shown = if ts.is_nan() {
                        "NaN".to_string()
                    } else if ts.is_infinite() {
                        if ts > 0.0 {
                            "+Inf".into()
                        } else {
                            "-Inf".into()
                        }
                    } else {
                        format!("{:.6}", ts)
                    };
                    return Err(Error::at(
                        e.pos(),
                        format!("timestamp out of bounds for @ modifier: {}", shown),
                    ));
                }
                AtModifier::Timestamp((ts * 1000.0).round() as i64)
            }
            _ => return Err(self.unexpected(t)),
        };
        let pos = e.pos();
        let slot = modifier_target(e, "@")?.at;
        if *slot != AtModifier::None {
            return Err(Error::at(
                pos,
                "@ <timestamp> may not be set multiple times",
            ));
        }
        *slot = at;
        Ok(())
    }

    // ---- durations ----------------------------------------------------------------

    /// The operand of `offset`: a signed literal, step(), range(), min_of/max_of, or a
    /// parenthesised duration expression (which, as in Prometheus, may continue with
    /// further duration arithmetic).
    fn parse_offset_duration(&mut self) -> Result<DurNode> {
        let t = self.peek()?;
        match t.kind {
            Kind::Number | Kind::Duration => {
                let n = self.parse_number_literal()?;
                if out_of_range(n.val) {
                    return Err(Error::at(n.pos, "duration out of range"));
                }
                Ok(DurNode::Number(n))
            }
            Kind::Add | Kind::Sub => {
                self.bump();
                let inner = self.peek()?;
                match inner.kind {
                    Kind::Number | Kind::Duration => {
                        let mut n = self.parse_number_literal()?;
                        if t.kind == Kind::Sub {
                            negate(&mut n);
                        }
                        if out_of_range(n.val) {
                            return Err(Error::at(t.pos, "duration out of range"));
                        }
                        n.pos = t.pos;
                        Ok(DurNode::Number(n))
                    }
                    Kind::Step | Kind::Range | Kind::MaxOf | Kind::MinOf => {
                        let call = self.parse_duration_call()?;
                        if t.kind == Kind::Add {
                            // Prometheus keeps a no-op `+` node here, which it prints as
                            // nothing: dropping it keeps the printed query's tree the same.
                            return Ok(DurNode::Expr(call));
                        }
                        Ok(DurNode::Expr(Box::new(DurationExpr {
                            op: t.kind,
                            lhs: None,
                            rhs: Some(DurNode::Expr(call)),
                            wrapped: false,
                        })))
                    }
                    Kind::LeftParen => {
                        self.bump();
                        self.enter(inner.pos)?;
                        let e = self.parse_duration_expr()?;
                        self.expect(Kind::RightParen)?;
                        self.leave();
                        let wrapped = wrap_paren(e);
                        Ok(DurNode::Expr(if t.kind == Kind::Sub {
                            Box::new(DurationExpr {
                                op: Kind::Sub,
                                lhs: None,
                                rhs: Some(DurNode::Expr(wrapped)),
                                wrapped: false,
                            })
                        } else {
                            wrapped
                        }))
                    }
                    _ => Err(self.unexpected(inner)),
                }
            }
            Kind::Step | Kind::Range | Kind::MaxOf | Kind::MinOf => {
                Ok(DurNode::Expr(self.parse_duration_call()?))
            }
            Kind::LeftParen => self.parse_duration_expr(),
            _ => Err(self.unexpected(t)),
        }
    }

    /// step(), range(), min_of(a, b), max_of(a, b).
    fn parse_duration_call(&mut self) -> Result<Box<DurationExpr>> {
        let t = self.bump();
        self.expect(Kind::LeftParen)?;
        if t.kind == Kind::Step || t.kind == Kind::Range {
            self.expect(Kind::RightParen)?;
            return Ok(Box::new(DurationExpr {
                op: t.kind,
                lhs: None,
                rhs: None,
                wrapped: false,
            }));
        }
        self.enter(t.pos)?;
        let a = self.parse_duration_expr()?;
        self.expect(Kind::Comma)?;
        let b = self.parse_duration_expr()?;
        self.expect(Kind::RightParen)?;
        self.leave();
        Ok(Box::new(DurationExpr {
            op: t.kind,
            lhs: Some(a),
            rhs: Some(b),
            wrapped: false,
        }))
    }

    fn parse_positive_duration(&mut self) -> Result<DurNode> {
        let d = self.parse_duration_expr()?;
        if let Some(n) = number_of(&d) {
            if n.val <= 0.0 {
                return Err(Error::at(n.pos, "duration must be greater than 0"));
            }
        }
        Ok(d)
    }

    fn parse_duration_expr(&mut self) -> Result<DurNode> {
        self.parse_duration_binary(0)
    }

    fn parse_duration_binary(&mut self, min_prec: u8) -> Result<DurNode> {
        let base = self.depth;
        let mut lhs = self.parse_duration_unary()?;
        loop {
            let t = self.peek()?;
            let prec = match t.kind {
                Kind::Add | Kind::Sub | Kind::Mul | Kind::Div | Kind::Mod | Kind::Pow => {
                    t.kind.binary_precedence().unwrap_or(0)
                }
                _ => break,
            };
            if prec < min_prec {
                break;
            }
            self.bump();
            let next_min = if t.kind == Kind::Pow { prec } else { prec + 1 };
            self.enter(t.pos)?;
            let rhs = self.parse_duration_binary(next_min)?;
            if let (Kind::Div | Kind::Mod, Some(n)) = (t.kind, number_of(&rhs)) {
                if n.val == 0.0 {
                    let what = if t.kind == Kind::Div {
                        "division by zero"
                    } else {
                        "modulo by zero"
                    };
                    return Err(Error::at(t.pos, what));
                }
            }
            // A left-nested chain deepens the tree with every operator, so the depth
            // stays raised until the whole chain is parsed.
            lhs = DurNode::Expr(Box::new(DurationExpr {
                op: t.kind,
                lhs: Some(lhs),
                rhs: Some(rhs),
                wrapped: false,
            }));
        }
        self.depth = base;
        Ok(lhs)
    }

    fn parse_duration_unary(&mut self) -> Result<DurNode> {
        let t = self.peek()?;
        match t.kind {
            Kind::Add | Kind::Sub => {
                self.bump();
                self.enter(t.pos)?;
                let e = self.parse_duration_binary(6)?;
                self.leave();
                match e {
                    DurNode::Number(mut n) => {
                        if t.kind == Kind::Sub {
                            negate(&mut n);
                        }
                        if out_of_range(n.val) {
                            return Err(Error::at(t.pos, "duration out of range"));
                        }
                        n.pos = t.pos;
                        Ok(DurNode::Number(n))
                    }
                    DurNode::Expr(de) if t.kind == Kind::Sub => {
                        Ok(DurNode::Expr(Box::new(DurationExpr {
                            op: Kind::Sub,
                            lhs: None,
                            rhs: Some(DurNode::Expr(de)),
                            wrapped: false,
                        })))
                    }
                    other => Ok(other),
                }
            }
            Kind::Number | Kind::Duration => {
                let n = self.parse_number_literal()?;
                if out_of_range(n.val) {
                    return Err(Error::at(n.pos, "duration out of range"));
                }
                Ok(DurNode::Number(n))
            }
            Kind::Step | Kind::Range | Kind::MaxOf | Kind::MinOf => {
                Ok(DurNode::Expr(self.parse_duration_call()?))
            }
            Kind::LeftParen => {
                self.bump();
                self.enter(t.pos)?;
                let e = self.parse_duration_binary(0)?;
                self.expect(Kind::RightParen)?;
                self.leave();
                Ok(DurNode::Expr(wrap_paren(e)))
            }
            _ => Err(self.unexpected(t)),
        }
    }
}

/// The offset and `@` slots of an expression that takes modifiers.
struct ModifierSlots<'e> {
    offset: &'e mut Dur,
    at: &'e mut AtModifier,
}

/// Where a `word` modifier (`offset` or `@`) written after `e` goes: only selectors and
/// subqueries take one.
fn modifier_target<'e>(e: &'e mut Expr<'_>, word: &str) -> Result<ModifierSlots<'e>> {
    let pos = e.pos();
    match e {
        Expr::Vector(vs) => Ok(ModifierSlots {
            offset: &mut vs.offset,
            at: &mut vs.at,
        }),
        Expr::Matrix(m) => Ok(ModifierSlots {
            offset: &mut m.vs.offset,
            at: &mut m.vs.at,
        }),
        Expr::Subquery(s) => Ok(ModifierSlots {
            offset: &mut s.offset,
            at: &mut s.at,
        }),
        _ => Err(Error::at(
            pos,
            format!(
                "{} modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                word
            ),
        )),
    }
}

fn set_extended(e: &mut Expr, anchored: bool) -> Result<()> {
    let pos = e.pos();
    let word = if anchored { "anchored" } else { "smoothed" };
    let vs = match e {
        Expr::Vector(vs) => &mut **vs,
        Expr::Matrix(m) => &mut *m.vs,
        Expr::Subquery(_) => {
            return Err(Error::at(
                pos,
                format!("{} modifier is not supported for subqueries", word),
            ))
        }
        _ => return Err(Error::at(pos, format!("{} modifier not implemented", word))),
    };
    if anchored {
        vs.anchored = true;
    } else {
        vs.smoothed = true;
    }
    if vs.anchored && vs.smoothed {
        return Err(Error::at(
            pos,
            "anchored and smoothed modifiers cannot be used together",
        ));
    }
    Ok(())
}

/// A minus sign applied to a literal. A negative zero duration prints as plain `0s`, so it
/// is held as zero.
fn negate(n: &mut NumberLiteral) {
    n.val = if n.duration && n.val == 0.0 {
        0.0
    } else {
        -n.val
    };
}
