//! Label enforcement. Every vector selector gets the tenant's matchers appended (its own
//! matchers stay); the printer writes them (see `Printer::selector`), so the tree itself
//! needs no copy of them. What this module changes in the tree: absent() and
//! absent_over_time() derive their output labels from their selector's matchers, so where
//! the appended matchers change that label set, the call is wrapped in label_replace() to
//! give back what the caller would see from a Prometheus holding only their own series.
//! info() without a data-label selector is refused: it reads the target_info series of any
//! tenant that share job and instance with the caller's series, and no selector stands in
//! the query to restrict (adding one would change which labels info() adds).

use crate::ast::*;
use crate::error::{Error, Result};
use crate::functions;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

pub fn enforce_expr<'a>(e: &mut Expr<'a>, extra: &[Matcher<'_>]) -> Result<()> {
    match e {
        Expr::Number(_) | Expr::String { .. } | Expr::Vector(_) | Expr::Matrix(_) => {}
        Expr::Subquery(s) => enforce_expr(&mut s.expr, extra)?,
        Expr::Aggregate(a) => {
            if let Some(p) = a.param.as_mut() {
                enforce_expr(p, extra)?;
            }
            enforce_expr(&mut a.expr, extra)?;
        }
        Expr::Binary(b) => {
            enforce_expr(&mut b.first, extra)?;
            for s in b.steps.iter_mut() {
                enforce_expr(&mut s.rhs, extra)?;
            }
        }
        Expr::Unary(u) => enforce_expr(&mut u.expr, extra)?,
        Expr::Paren(inner, _) => enforce_expr(inner, extra)?,
        Expr::Call(c) => {
            if is_info_without_selector(c) && !extra.is_empty() {
                return Err(Error::at(
                    c.pos,
                    "info() needs a data-label selector naming the labels to add, e.g. \
                     info(v, {k8s_cluster=~\".+\"}): without one it would read every tenant's info series",
                ));
            }
            for a in c.args.iter_mut() {
                enforce_expr(a, extra)?;
            }
            if let Some((before, after)) = absent_labels(c, extra) {
                restore_absent_labels(e, &before, &after);
            }
        }
    }
    Ok(())
}

fn is_info_without_selector(c: &Call<'_>) -> bool {
    c.func.map_or(false, |f| f.name == "info") && c.args.len() == 1
}

type Labels = Vec<(Vec<u8>, Vec<u8>)>;

/// The labels Prometheus gives the output of absent()/absent_over_time() for this call,
/// before and after enforcement; None when the call is not one of those.
fn absent_labels(c: &Call<'_>, extra: &[Matcher<'_>]) -> Option<(Labels, Labels)> {
    let is_absent = c.func.map_or(false, |f| {
        f.name == "absent" || f.name == "absent_over_time"
    });
    if !is_absent || c.args.len() != 1 {
        return None;
    }
    let vs = match &c.args[0] {
        Expr::Vector(vs) => &**vs,
        Expr::Matrix(m) => &*m.vs,
        _ => return None,
    };
    let own = vs.matchers.iter();
    let added = extra
        .iter()
        .enumerate()
        .filter(|&(i, m)| !vs.has(m) && !extra[..i].contains(m))
        .map(|(_, m)| m);
    Some((derive(own.clone()), derive(own.chain(added))))
}

/// The first `=` matcher of a name sets the label; any later matcher of that name removes
/// it again; the metric name is ignored.
fn derive<'m, 'a: 'm>(matchers: impl Iterator<Item = &'m Matcher<'a>>) -> Labels {
    let mut current: HashMap<&'m [u8], Option<&'m [u8]>> = HashMap::new();
    let mut seen: HashSet<&'m [u8]> = HashSet::new();
    for m in matchers {
        if &*m.name == METRIC_NAME {
            continue;
        }
        if m.op == MatchOp::Equal && seen.insert(&m.name) {
            current.insert(&m.name, Some(&m.value));
        } else {
            current.insert(&m.name, None);
        }
    }
    let mut labels: Labels = current
        .into_iter()
        .filter_map(|(n, v)| v.map(|v| (n.to_vec(), v.to_vec())))
        .collect();
    labels.sort();
    labels
}

/// The value of a label in a sorted label list.
fn value_of<'l>(labels: &'l Labels, name: &[u8]) -> Option<&'l [u8]> {
    labels
        .binary_search_by(|(n, _)| n.as_slice().cmp(name))
        .ok()
        .map(|i| labels[i].1.as_slice())
}

fn restore_absent_labels(e: &mut Expr<'_>, before: &Labels, after: &Labels) {
    let mut names: Vec<&[u8]> = before
        .iter()
        .chain(after.iter())
        .map(|(n, _)| n.as_slice())
        .collect();
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
        let inner = std::mem::replace(
            e,
            Expr::Number(NumberLiteral {
                val: 0.0,
                duration: false,
                pos,
            }),
        );
        let string = |val: Vec<u8>| Expr::String {
            val: Cow::Owned(val),
            pos,
        };
        *e = Expr::Call(Box::new(Call {
            name: b"label_replace",
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
