//! Label enforcement: every vector selector of a tree gets the given matchers appended
//! (its own matchers stay). absent() and absent_over_time() derive their output labels
//! from their selector's matchers, so where the appended matchers change that label set,
//! the call is wrapped in label_replace() to give back what the caller would see from a
//! Prometheus holding only their own series.

use crate::ast::*;
use crate::functions;

pub fn enforce_expr(e: &mut Expr, extra: &[Matcher]) {
    match e {
        Expr::Number(_) | Expr::String { .. } => {}
        Expr::Vector(vs) => append(vs, extra),
        Expr::Matrix(m) => append(&mut m.vs, extra),
        Expr::Subquery(s) => enforce_expr(&mut s.expr, extra),
        Expr::Aggregate(a) => {
            if let Some(p) = a.param.as_mut() {
                enforce_expr(p, extra);
            }
            enforce_expr(&mut a.expr, extra);
        }
        Expr::Binary(b) => {
            enforce_expr(&mut b.first, extra);
            for s in b.steps.iter_mut() {
                enforce_expr(&mut s.rhs, extra);
            }
        }
        Expr::Unary(u) => enforce_expr(&mut u.expr, extra),
        Expr::Paren(inner, _) => enforce_expr(inner, extra),
        Expr::Call(c) => {
            let before = absent_labels(c);
            for a in c.args.iter_mut() {
                enforce_expr(a, extra);
            }
            if let Some(before) = before {
                let after = absent_labels(c).unwrap_or_default();
                restore_absent_labels(e, &before, &after);
            }
        }
    }
}

/// Appends each matcher the selector does not already hold.
pub fn append(vs: &mut VectorSelector, extra: &[Matcher]) {
    for m in extra {
        let present = vs.matchers.iter().any(|o| o.name == m.name && o.op == m.op && o.value == m.value);
        if !present {
            vs.matchers.push(m.clone());
        }
    }
}

type Labels = Vec<(Vec<u8>, Vec<u8>)>;

/// The labels Prometheus gives the output of absent()/absent_over_time() for this call,
/// or None when the call is not one of those.
fn absent_labels(c: &Call) -> Option<Labels> {
    let is_absent = c.func.map_or(false, |f| f.name == "absent" || f.name == "absent_over_time");
    if !is_absent || c.args.len() != 1 {
        return None;
    }
    let matchers = match &c.args[0] {
        Expr::Vector(vs) => &vs.matchers,
        Expr::Matrix(m) => &m.vs.matchers,
        _ => return Some(Vec::new()),
    };
    // The first `=` matcher of a name sets the label; any later matcher of that name
    // removes it again.
    let mut labels: Labels = Vec::new();
    let mut seen: Vec<&[u8]> = Vec::new();
    for m in matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if m.op == MatchOp::Equal && !seen.contains(&m.name.as_slice()) {
            labels.retain(|(n, _)| *n != m.name);
            labels.push((m.name.clone(), m.value.clone()));
            seen.push(&m.name);
        } else {
            labels.retain(|(n, _)| *n != m.name);
        }
    }
    labels.sort();
    Some(labels)
}

fn value_of<'a>(labels: &'a Labels, name: &[u8]) -> Option<&'a [u8]> {
    labels.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_slice())
}

fn restore_absent_labels(e: &mut Expr, before: &Labels, after: &Labels) {
    let mut names: Vec<&[u8]> = before.iter().chain(after.iter()).map(|(n, _)| n.as_slice()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let want = value_of(before, name);
        if want == value_of(after, name) {
            continue;
        }
        let mut replacement = Vec::new();
        for &b in want.unwrap_or(b"") {
            if b == b'$' {
                replacement.push(b'$');
            }
            replacement.push(b);
        }
        let pos = e.pos();
        let inner = std::mem::replace(e, Expr::Number(NumberLiteral { val: 0.0, duration: false, pos }));
        let string = |val: Vec<u8>| Expr::String { val, pos };
        *e = Expr::Call(Box::new(Call {
            name: "label_replace".to_string(),
            func: functions::lookup(b"label_replace"),
            args: vec![
                inner,
                string(name.to_vec()),
                string(replacement),
                string(name.to_vec()),
                string(b"(?s:.*)".to_vec()),
            ],
            pos,
        }));
    }
}
