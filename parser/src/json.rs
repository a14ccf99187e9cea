//! The tree as JSON, for tools and tests: node kinds and fields follow Prometheus's AST
//! (no positions). Non-finite numbers are strings ("NaN", "+Inf", "-Inf"); durations are
//! integer nanoseconds; strings that are not UTF-8 show U+FFFD for the bad bytes;
//! matchers are listed in a canonical order.

use crate::ast::*;
use crate::numbers::write_float;
use crate::token::Kind;
use std::fmt::Write;

pub fn to_json(e: &Expr<'_>) -> String {
    let mut out = String::with_capacity(256);
    expr(&mut out, e);
    out
}

fn string(out: &mut String, s: &[u8]) {
    out.push('"');
    for c in String::from_utf8_lossy(s).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn number(out: &mut String, v: f64) {
    if v.is_finite() {
        write_float(out, v);
    } else {
        out.push('"');
        write_float(out, v);
        out.push('"');
    }
}

fn key(out: &mut String, k: &str) {
    out.push_str(",\"");
    out.push_str(k);
    out.push_str("\":");
}

fn op_name(out: &mut String, k: Kind) {
    string(out, k.canonical().unwrap_or("").as_bytes());
}

fn string_list(out: &mut String, items: &[Bytes<'_>]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        string(out, s);
    }
    out.push(']');
}

fn dur(out: &mut String, d: &Dur) {
    match d {
        Dur::Nanos(ns) => {
            let _ = write!(out, "{}", ns);
        }
        Dur::Expr(e) => duration_expr(out, e),
    }
}

fn number_literal(out: &mut String, n: &NumberLiteral) {
    out.push_str("{\"type\":\"NumberLiteral\",\"val\":");
    number(out, n.val);
    key(out, "duration");
    out.push_str(if n.duration { "true" } else { "false" });
    out.push('}');
}

fn dur_node(out: &mut String, d: &Option<DurNode>) {
    match d {
        None => out.push_str("null"),
        Some(DurNode::Number(n)) => number_literal(out, n),
        Some(DurNode::Expr(e)) => duration_expr(out, e),
    }
}

fn duration_expr(out: &mut String, e: &DurationExpr) {
    out.push_str("{\"type\":\"DurationExpr\",\"op\":");
    op_name(out, e.op);
    key(out, "lhs");
    dur_node(out, &e.lhs);
    key(out, "rhs");
    dur_node(out, &e.rhs);
    key(out, "wrapped");
    out.push_str(if e.wrapped { "true" } else { "false" });
    out.push('}');
}

fn at(out: &mut String, a: AtModifier) {
    key(out, "timestamp");
    match a {
        AtModifier::Timestamp(ms) => {
            let _ = write!(out, "{}", ms);
        }
        _ => out.push_str("null"),
    }
    key(out, "startOrEnd");
    out.push_str(match a {
        AtModifier::Start => "\"start\"",
        AtModifier::End => "\"end\"",
        _ => "null",
    });
}

fn selector(out: &mut String, vs: &VectorSelector<'_>) {
    out.push_str("{\"type\":\"VectorSelector\",\"name\":");
    string(out, vs.name);
    key(out, "matchers");
    out.push('[');
    // Every matcher, the one the name stands for included, sorted by label name as the
    // printer sorts them. The order of one label's matchers is kept: absent() reads it.
    let mut all: Vec<(&[u8], &str, &[u8])> = vs
        .matchers
        .iter()
        .map(|m| (&*m.name, m.op.as_str(), &*m.value))
        .collect();
    if !vs.name.is_empty() {
        all.push((METRIC_NAME, MatchOp::Equal.as_str(), vs.name));
    }
    all.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (name, op, value)) in all.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"name\":");
        string(out, name);
        key(out, "type");
        string(out, op.as_bytes());
        key(out, "value");
        string(out, value);
        out.push('}');
    }
    out.push(']');
    key(out, "offset");
    dur(out, &vs.offset);
    at(out, vs.at);
    key(out, "anchored");
    out.push_str(if vs.anchored { "true" } else { "false" });
    key(out, "smoothed");
    out.push_str(if vs.smoothed { "true" } else { "false" });
    out.push('}');
}

fn expr(out: &mut String, e: &Expr<'_>) {
    match e {
        Expr::Number(n) => number_literal(out, n),
        Expr::String { val, .. } => {
            out.push_str("{\"type\":\"StringLiteral\",\"val\":");
            string(out, val);
            out.push('}');
        }
        Expr::Vector(vs) => selector(out, vs),
        Expr::Matrix(m) => {
            out.push_str("{\"type\":\"MatrixSelector\",\"vectorSelector\":");
            selector(out, &m.vs);
            key(out, "range");
            dur(out, &m.range);
            out.push('}');
        }
        Expr::Subquery(s) => {
            out.push_str("{\"type\":\"SubqueryExpr\",\"expr\":");
            expr(out, &s.expr);
            key(out, "range");
            dur(out, &s.range);
            key(out, "step");
            dur(out, &s.step);
            key(out, "offset");
            dur(out, &s.offset);
            at(out, s.at);
            out.push('}');
        }
        Expr::Call(c) => {
            out.push_str("{\"type\":\"Call\",\"func\":");
            string(out, c.name);
            key(out, "known");
            out.push_str(if c.func.is_some() { "true" } else { "false" });
            key(out, "args");
            out.push('[');
            for (i, a) in c.args.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                expr(out, a);
            }
            out.push_str("]}");
        }
        Expr::Aggregate(a) => {
            out.push_str("{\"type\":\"AggregateExpr\",\"op\":");
            op_name(out, a.op);
            key(out, "expr");
            expr(out, &a.expr);
            key(out, "param");
            match &a.param {
                Some(p) => expr(out, p),
                None => out.push_str("null"),
            }
            key(out, "grouping");
            string_list(out, &a.grouping);
            key(out, "without");
            out.push_str(if a.without { "true" } else { "false" });
            out.push('}');
        }
        Expr::Binary(b) => {
            // Written as Prometheus's nested binary nodes, without recursing per step.
            for _ in &b.steps {
                out.push_str("{\"type\":\"BinaryExpr\",\"lhs\":");
            }
            expr(out, &b.first);
            for s in &b.steps {
                key(out, "op");
                op_name(out, s.op);
                key(out, "returnBool");
                out.push_str(if s.return_bool { "true" } else { "false" });
                key(out, "vectorMatching");
                match &s.matching {
                    None => out.push_str("null"),
                    Some(vm) => {
                        out.push_str("{\"card\":");
                        out.push_str(match vm.card {
                            Card::OneToOne => "\"one-to-one\"",
                            Card::ManyToOne => "\"many-to-one\"",
                            Card::OneToMany => "\"one-to-many\"",
                            Card::ManyToMany => "\"many-to-many\"",
                        });
                        key(out, "matchingLabels");
                        string_list(out, &vm.labels);
                        key(out, "on");
                        out.push_str(if vm.on { "true" } else { "false" });
                        key(out, "include");
                        string_list(out, &vm.include);
                        key(out, "fillLeft");
                        match vm.fill_lhs {
                            Some(v) => number(out, v),
                            None => out.push_str("null"),
                        }
                        key(out, "fillRight");
                        match vm.fill_rhs {
                            Some(v) => number(out, v),
                            None => out.push_str("null"),
                        }
                        out.push('}');
                    }
                }
                key(out, "rhs");
                expr(out, &s.rhs);
                out.push('}');
            }
        }
        Expr::Unary(u) => {
            out.push_str("{\"type\":\"UnaryExpr\",\"op\":");
            op_name(out, u.op);
            key(out, "expr");
            expr(out, &u.expr);
            out.push('}');
        }
        Expr::Paren(inner, _) => {
            out.push_str("{\"type\":\"ParenExpr\",\"expr\":");
            expr(out, inner);
            out.push('}');
        }
    }
}
