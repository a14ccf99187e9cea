//! Canonical PromQL text of a tree, written in one pass into one String. The output is
//! what Prometheus's printer writes (sorted matchers, canonical keywords and spacing),
//! except where that would not read back as the same tree: strings escape U+FFFD, and
//! sub-millisecond durations are written as seconds.

use crate::ast::*;
use crate::numbers::{seconds_to_ns, write_duration, write_float, write_float_g};
use crate::strings::{push_ascii, write_quoted};
use crate::token::Kind;

pub struct Printer<'e> {
    out: String,
    /// Matchers every selector is printed with, in addition to its own (enforcement).
    /// Printing them instead of adding them to the tree saves copying them per selector.
    extra: &'e [Matcher<'e>],
    /// Scratch space for sorting a selector's matchers: their text, and for each one
    /// where it starts, where its name ends and where it ends.
    scratch: String,
    spans: Vec<(usize, usize, usize)>,
    /// Set while printing an operand that a binary operator follows (see `offset`).
    operator_follows: bool,
    /// Printing stops once the text is longer than this (see `over_limit`).
    limit: usize,
}

impl<'e> Printer<'e> {
    /// `size_hint`: the expected length of the text; `limit`: see `over_limit`.
    pub fn new(size_hint: usize, extra: &'e [Matcher<'e>], limit: usize) -> Printer<'e> {
        Printer {
            out: String::with_capacity(size_hint + size_hint / 4 + 16),
            extra,
            scratch: String::with_capacity(256),
            spans: Vec::with_capacity(8),
            operator_follows: false,
            limit,
        }
    }

    /// Whether the text is longer than the limit. Then the rest of the tree is skipped, so
    /// text that is to be refused costs no more to print than the limit, however many
    /// selectors would still get the extra matchers.
    pub fn over_limit(&self) -> bool {
        self.out.len() > self.limit
    }

    pub fn into_string(self) -> String {
        self.out
    }

    pub fn expr(&mut self, e: &Expr<'_>) {
        if self.over_limit() {
            return;
        }
        match e {
            Expr::Number(n) => self.number(n),
            Expr::String { val, .. } => write_quoted(&mut self.out, val),
            Expr::Vector(vs) => {
                self.selector(vs);
                self.at(vs.at);
                self.extended(vs);
                self.offset(&vs.offset);
            }
            Expr::Matrix(m) => {
                self.selector(&m.vs);
                self.out.push('[');
                self.range(&m.range);
                self.out.push(']');
                self.extended(&m.vs);
                self.at(m.vs.at);
                self.offset(&m.vs.offset);
            }
            Expr::Subquery(s) => {
                self.expr(&s.expr);
                self.out.push('[');
                self.range(&s.range);
                self.out.push(':');
                if s.step.is_set() {
                    self.dur(&s.step);
                }
                self.out.push(']');
                self.at(s.at);
                self.offset(&s.offset);
            }
            Expr::Call(c) => {
                // Function names are identifiers from the lexer, hence ASCII.
                push_ascii(&mut self.out, c.name);
                self.out.push('(');
                for (i, a) in c.args.iter().enumerate() {
                    if self.over_limit() {
                        break;
                    }
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.expr(a);
                }
                self.out.push(')');
            }
            Expr::Aggregate(a) => {
                self.out.push_str(a.op.canonical().unwrap_or(""));
                if a.without || !a.grouping.is_empty() {
                    self.out
                        .push_str(if a.without { " without (" } else { " by (" });
                    self.labels(&a.grouping);
                    self.out.push_str(") ");
                }
                self.out.push('(');
                if let Some(p) = &a.param {
                    self.expr(p);
                    self.out.push_str(", ");
                }
                self.expr(&a.expr);
                self.out.push(')');
            }
            Expr::Binary(b) => {
                let outer = self.operator_follows;
                self.operator_follows = true;
                self.expr(&b.first);
                for (i, s) in b.steps.iter().enumerate() {
                    if self.over_limit() {
                        break;
                    }
                    self.operator_follows = outer || i + 1 < b.steps.len();
                    self.out.push(' ');
                    self.out.push_str(s.op.canonical().unwrap_or(""));
                    if s.return_bool {
                        self.out.push_str(" bool");
                    }
                    if let Some(vm) = &s.matching {
                        self.matching(vm);
                    }
                    self.out.push(' ');
                    self.expr(&s.rhs);
                }
                self.operator_follows = outer;
            }
            Expr::Unary(u) => {
                self.out.push_str(if u.op == Kind::Sub { "-" } else { "+" });
                self.expr(&u.expr);
            }
            Expr::Paren(inner, _) => {
                self.out.push('(');
                self.expr(inner);
                self.out.push(')');
            }
        }
    }

    fn number(&mut self, n: &NumberLiteral) {
        if n.duration {
            write_duration(&mut self.out, seconds_to_ns(n.val));
        } else if n.val == f64::INFINITY {
            // Prometheus writes "+Inf", which reads back as a unary plus: `+Inf ^ 2`
            // would then be +(Inf ^ 2).
            self.out.push_str("Inf");
        } else {
            write_float(&mut self.out, n.val);
        }
    }

    fn dur_node(&mut self, d: &DurNode) {
        match d {
            DurNode::Number(n) => self.number(n),
            DurNode::Expr(e) => self.duration_expr(e),
        }
    }

    fn duration_expr(&mut self, e: &DurationExpr) {
        if e.wrapped {
            self.out.push('(');
        }
        match (e.op, &e.lhs, &e.rhs) {
            (Kind::Step, _, _) => self.out.push_str("step()"),
            (Kind::Range, _, _) => self.out.push_str("range()"),
            (Kind::MinOf | Kind::MaxOf, Some(l), Some(r)) => {
                self.out.push_str(if e.op == Kind::MinOf {
                    "min_of("
                } else {
                    "max_of("
                });
                self.dur_node(l);
                self.out.push_str(", ");
                self.dur_node(r);
                self.out.push(')');
            }
            (op, None, Some(r)) => {
                if op == Kind::Sub {
                    self.out.push('-');
                }
                self.dur_node(r);
            }
            (op, Some(l), Some(r)) => {
                self.dur_node(l);
                self.out.push(' ');
                self.out.push_str(op.canonical().unwrap_or(""));
                self.out.push(' ');
                self.dur_node(r);
            }
            _ => {}
        }
        if e.wrapped {
            self.out.push(')');
        }
    }

    fn dur(&mut self, d: &Dur) {
        match d {
            Dur::Nanos(ns) => write_duration(&mut self.out, *ns),
            Dur::Expr(e) => self.duration_expr(e),
        }
    }

    /// A range must read back as more than zero; one that rounded to 0ns (written as a
    /// positive number under half a nanosecond) is written as such a number again.
    fn range(&mut self, d: &Dur) {
        match d {
            Dur::Nanos(0) => self.out.push_str("0.0000000001"),
            d => self.dur(d),
        }
    }

    fn offset(&mut self, d: &Dur) {
        if d.is_set() {
            self.out.push_str(" offset ");
            // An offset written `(...)` goes on with the duration arithmetic that follows
            // it; one written `+(...)` (the same tree) does not, so a binary operator after
            // it stays outside.
            if let Dur::Expr(e) = d {
                if self.operator_follows && e.wrapped && e.op == Kind::Add && e.lhs.is_none() {
                    self.out.push('+');
                }
            }
            self.dur(d);
        }
    }

    fn at(&mut self, at: AtModifier) {
        use std::fmt::Write;
        match at {
            AtModifier::None => {}
            AtModifier::Timestamp(ms) => {
                let _ = write!(self.out, " @ {:.3}", ms as f64 / 1000.0);
            }
            AtModifier::Start => self.out.push_str(" @ start()"),
            AtModifier::End => self.out.push_str(" @ end()"),
        }
    }

    fn extended(&mut self, vs: &VectorSelector<'_>) {
        if vs.anchored {
            self.out.push_str(" anchored");
        } else if vs.smoothed {
            self.out.push_str(" smoothed");
        }
    }

    fn matching(&mut self, vm: &VectorMatching<'_>) {
        let grouped = vm.card == Card::ManyToOne || vm.card == Card::OneToMany;
        if !vm.labels.is_empty() || vm.on || grouped {
            self.out
                .push_str(if vm.on { " on (" } else { " ignoring (" });
            self.labels(&vm.labels);
            self.out.push(')');
        }
        if grouped {
            self.out.push_str(if vm.card == Card::ManyToOne {
                " group_left ("
            } else {
                " group_right ("
            });
            self.labels(&vm.include);
            self.out.push(')');
        }
        match (vm.fill_lhs, vm.fill_rhs) {
            (Some(l), Some(r)) if l == r => {
                self.out.push_str(" fill (");
                write_float_g(&mut self.out, l);
                self.out.push(')');
            }
            (l, r) => {
                if let Some(l) = l {
                    self.out.push_str(" fill_left (");
                    write_float_g(&mut self.out, l);
                    self.out.push(')');
                }
                if let Some(r) = r {
                    self.out.push_str(" fill_right (");
                    write_float_g(&mut self.out, r);
                    self.out.push(')');
                }
            }
        }
    }

    fn labels(&mut self, labels: &[Bytes<'_>]) {
        for (i, l) in labels.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            write_label_name(&mut self.out, l);
        }
    }

    fn matcher_text(&mut self, m: &Matcher<'_>) {
        let start = self.scratch.len();
        write_label_name(&mut self.scratch, &m.name);
        let name_end = self.scratch.len();
        self.scratch.push_str(m.op.as_str());
        write_quoted(&mut self.scratch, &m.value);
        self.spans.push((start, name_end, self.scratch.len()));
    }

    /// `name{matchers}` with the matchers sorted by label name, and the extra matchers
    /// the selector does not hold yet added after its own. Prometheus sorts by the whole
    /// matcher text; the order of matchers of one label is kept here instead, because
    /// absent() derives its output labels from that order.
    pub fn selector(&mut self, vs: &VectorSelector<'_>) {
        // The name is a metric identifier from the lexer, hence ASCII.
        push_ascii(&mut self.out, vs.name);
        self.scratch.clear();
        self.spans.clear();
        for m in &vs.matchers {
            self.matcher_text(m);
        }
        let extra = self.extra;
        for (i, m) in extra.iter().enumerate() {
            if !vs.has(m) && !extra[..i].contains(m) {
                self.matcher_text(m);
            }
        }
        if self.spans.is_empty() {
            // Only info()'s data-label selector may be empty; it still needs its braces.
            if vs.name.is_empty() {
                self.out.push_str("{}");
            }
            return;
        }
        let scratch = &self.scratch;
        self.spans
            .sort_by(|a, b| scratch[a.0..a.1].cmp(&scratch[b.0..b.1]));
        self.out.push('{');
        for (i, &(s, _, e)) in self.spans.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.out.push_str(&self.scratch[s..e]);
        }
        self.out.push('}');
    }
}

/// Label names print bare when they are legacy identifiers, quoted otherwise.
fn write_label_name(out: &mut String, name: &[u8]) {
    let bare = !name.is_empty()
        && name
            .iter()
            .enumerate()
            .all(|(i, &c)| c == b'_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if bare {
        push_ascii(out, name);
    } else {
        write_quoted(out, name);
    }
}

/// The text of `e`, without limit.
pub fn print(e: &Expr<'_>, size_hint: usize) -> String {
    let mut p = Printer::new(size_hint, &[], usize::MAX);
    p.expr(e);
    p.into_string()
}
