//! What a query costs the upstream before it runs, measured on the tree that is forwarded
//! (after enforcement), and the limits on it.
//!
//! Prometheus's parser type-checks every node (checkAST calls `Type()` on each), and the
//! type of a binary operator, a parenthesis or a unary sign is worked out from its operands,
//! recursively: in a chain `a + a + … + a` (a left-nested tree) every operator walks the
//! operands below it, so the check takes time quadratic in the chain's length, before the
//! engine (and its query timeout) starts. The type-check cost here is that walk: for each
//! such node, the nodes its `Type()` may visit (through binary operators, parentheses and
//! unary signs; a call, an aggregation, a subquery, a selector or a literal has a fixed type
//! and ends the walk), summed over all of them.
//!
//! Nodes are counted as in Prometheus's tree: one per binary operator of a chain, and a
//! range selector is two (the matrix and its vector selector).

use crate::ast::*;
use crate::error::{Error, Kind, Result};
use crate::token::Kind as Token;

/// Limits on a query's complexity; 0 means no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    pub max_nodes: usize,
    pub max_cost: u64,
}

impl Limits {
    pub const NONE: Limits = Limits { max_nodes: 0, max_cost: 0 };
}

/// What a query costs, as measured on its tree.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Measures {
    /// Nodes of Prometheus's syntax tree.
    pub nodes: usize,
    /// Nodes visited by Prometheus's type checks of operators (see the module comment).
    pub cost: u64,
    /// The longest time before the evaluation time that a selector reads, in milliseconds:
    /// its range and offset, plus the range and offset of each subquery around it. An `@`
    /// pins the time a selector is read at and is not counted. Infinite when a duration
    /// depends on the query's step or range (`step()`, `range()`); 0 when nothing looks back.
    pub lookback_ms: f64,
}

/// The refusal of a query with more nodes than `max`, found while parsing it.
pub fn too_many_nodes_while_parsing(max: usize) -> Error {
    Error::plain(format!("query too complex: more than {} nodes (limit {})", max, max)).with_kind(Kind::TooComplex)
}

/// Measures `e` and refuses it when it is over one of `limits`.
pub fn check(e: &Expr<'_>, limits: Limits) -> Result<Measures> {
    let m = measure(e);
    if limits.max_nodes > 0 && m.nodes > limits.max_nodes {
        return Err(Error::plain(format!(
            "query too complex: {} nodes (limit {})",
            m.nodes, limits.max_nodes
        ))
        .with_kind(Kind::TooComplex));
    }
    if limits.max_cost > 0 && m.cost > limits.max_cost {
        return Err(Error::plain(format!(
            "query too complex: type-check cost {} (limit {}): Prometheus checks a chain of binary operators \
             in time quadratic in its length; split long chains (a + b + … as sum or several queries)",
            m.cost, limits.max_cost
        ))
        .with_kind(Kind::TooComplex));
    }
    Ok(m)
}

pub fn measure(e: &Expr<'_>) -> Measures {
    let mut w = Walker { m: Measures::default() };
    w.visit(e, 0.0);
    w.m
}

struct Walker {
    m: Measures,
}

impl Walker {
    /// Counts `e`'s nodes and type-check cost into the measures, and the lookback of its
    /// selectors (`outer`: what the subqueries around it add). Returns how many nodes a
    /// `Type()` call on `e` may visit.
    fn visit(&mut self, e: &Expr<'_>, outer: f64) -> u64 {
        match e {
            Expr::Number(_) | Expr::String { .. } => self.leaf(1),
            Expr::Vector(vs) => {
                self.reach(outer + duration_ms(&vs.offset));
                self.leaf(1)
            }
            Expr::Matrix(m) => {
                self.reach(outer + duration_ms(&m.range) + duration_ms(&m.vs.offset));
                self.leaf(2)
            }
            Expr::Subquery(s) => {
                self.m.nodes += 1;
                self.visit(&s.expr, outer + duration_ms(&s.range) + duration_ms(&s.offset));
                1
            }
            Expr::Call(c) => {
                self.m.nodes += 1;
                for a in &c.args {
                    self.visit(a, outer);
                }
                1
            }
            Expr::Aggregate(a) => {
                self.m.nodes += 1;
                if let Some(p) = &a.param {
                    self.visit(p, outer);
                }
                self.visit(&a.expr, outer);
                1
            }
            Expr::Paren(inner, _) => {
                self.m.nodes += 1;
                let walk = 1 + self.visit(inner, outer);
                self.pay(walk)
            }
            Expr::Unary(u) => {
                self.m.nodes += 1;
                let walk = 1 + self.visit(&u.expr, outer);
                self.pay(walk)
            }
            Expr::Binary(b) => {
                // `((first op1 rhs1) op2 rhs2) …`: one operator node a step, each walking
                // the operators below it.
                let mut walk = self.visit(&b.first, outer);
                for s in &b.steps {
                    self.m.nodes += 1;
                    walk = walk.saturating_add(1 + self.visit(&s.rhs, outer));
                    self.pay(walk);
                }
                walk
            }
        }
    }

    fn leaf(&mut self, nodes: usize) -> u64 {
        self.m.nodes += nodes;
        1
    }

    fn pay(&mut self, walk: u64) -> u64 {
        self.m.cost = self.m.cost.saturating_add(walk);
        walk
    }

    fn reach(&mut self, ms: f64) {
        if ms > self.m.lookback_ms {
            self.m.lookback_ms = ms;
        }
    }
}

fn duration_ms(d: &Dur) -> f64 {
    match d {
        Dur::Nanos(ns) => *ns as f64 / 1e6,
        Dur::Expr(e) => seconds(e).map_or(f64::INFINITY, |s| s * 1000.0),
    }
}

/// The value in seconds of a duration expression; None when it depends on the query's
/// step or range.
fn seconds(e: &DurationExpr) -> Option<f64> {
    let node = |n: &Option<DurNode>| -> Option<Option<f64>> {
        n.as_ref().map(|n| match n {
            DurNode::Number(v) => Some(v.val),
            DurNode::Expr(e) => seconds(e),
        })
    };
    let (lhs, rhs) = (node(&e.lhs), node(&e.rhs));
    match (e.op, lhs, rhs) {
        (Token::Step | Token::Range, _, _) => None,
        (Token::Add, None, Some(r)) => r,
        (Token::Sub, None, Some(r)) => r.map(|r| -r),
        (op, Some(l), Some(r)) => {
            let (l, r) = (l?, r?);
            Some(match op {
                Token::Add => l + r,
                Token::Sub => l - r,
                Token::Mul => l * r,
                Token::Div => l / r,
                Token::Mod => l % r,
                Token::Pow => l.powf(r),
                Token::MinOf => l.min(r),
                Token::MaxOf => l.max(r),
                _ => return None,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{enforce_measured, matcher, parse_expr, MatchOp};

    fn measured(q: &str) -> Measures {
        measure(&parse_expr(q.as_bytes()).unwrap_or_else(|e| panic!("{}: {}", q, e.render(q.as_bytes()))))
    }

    fn chain(terms: usize, term: &str) -> String {
        vec![term; terms].join("+")
    }

    #[test]
    fn nodes_are_counted_as_in_prometheus_tree() {
        for (q, nodes) in [
            ("a", 1),
            ("a[5m]", 2),
            ("rate(a[5m])", 3),
            ("sum by (x) (rate(a[5m]))", 4),
            ("a + b", 3),
            ("a + b * c", 5),
            ("-(a)", 3),
            ("topk(5, a)", 3),
            ("a[5m:1m]", 2),
            ("\"s\"", 1),
            ("1 + 2 + 3", 5),
            ("-1 - -a", 4),
            ("max_over_time((a + b)[1h:] offset 1m) > bool 2", 8),
            ("label_replace(a, \"x\", \"$1\", \"y\", \"(.*)\")", 6),
        ] {
            assert_eq!(measured(q).nodes, nodes, "{}", q);
            // The parser's own count, which stops it early, is the same.
            let limit = |max_nodes| enforce_measured(q.as_bytes(), &[], Limits { max_nodes, max_cost: 0 });
            assert!(limit(nodes).is_ok(), "{}", q);
            if nodes > 1 {
                assert_eq!(limit(nodes - 1).unwrap_err().kind(), Kind::TooComplex, "{}", q);
            }
        }
    }

    #[test]
    fn a_chain_costs_its_length_squared() {
        // Operator k of a chain of n terms walks 2k + 1 nodes: the sum is n² - 1.
        for n in [2, 10, 1000] {
            let m = measured(&chain(n, "a"));
            assert_eq!(m.nodes, 2 * n - 1);
            assert_eq!(m.cost, (n * n - 1) as u64, "{} terms", n);
        }
    }

    #[test]
    fn calls_and_aggregations_end_the_walk() {
        // sum(...) has a fixed type: the outer operators do not walk the inner chain again.
        let inner = measured(&format!("sum({})", chain(100, "a")));
        let outer = measured(&format!("sum({}) + b + c", chain(100, "a")));
        assert_eq!(outer.cost - inner.cost, 3 + 5);
        // A parenthesis and a sign walk what they wrap.
        assert_eq!(measured("(a + b)").cost, 3 + 4);
        assert_eq!(measured("-(a + b)").cost, 3 + 4 + 5);
    }

    #[test]
    fn lookback_is_range_plus_offsets_of_the_selector_and_its_subqueries() {
        for (q, ms) in [
            ("a", 0.0),
            ("a offset 1h", 3_600_000.0),
            ("rate(a[5m])", 300_000.0),
            ("rate(a[5m] offset 1m)", 360_000.0),
            ("a offset -1h", 0.0),
            ("max_over_time(rate(a[5m])[1d:1m] offset 1h)", 300_000.0 + 86_400_000.0 + 3_600_000.0),
            ("rate(a[5m] @ 0)", 300_000.0),
            ("rate(a[5m]) + rate(b[30d])", 2_592_000_000.0),
        ] {
            assert_eq!(measured(q).lookback_ms, ms, "{}", q);
        }
    }

    #[test]
    fn duration_expressions_are_evaluated_unless_they_depend_on_the_query() {
        assert_eq!(measured("rate(a[5m + 1m])").lookback_ms, 360_000.0);
        assert_eq!(measured("rate(a[max_of(1m, 2m)])").lookback_ms, 120_000.0);
        assert_eq!(measured("a offset -(1m)").lookback_ms, 0.0);
        assert_eq!(measured("rate(a[step() * 2])").lookback_ms, f64::INFINITY);
    }

    #[test]
    fn limits_refuse_with_the_value_and_the_limit() {
        let ns = vec![matcher(b"namespace", MatchOp::Equal, b"a").unwrap()];
        let q = chain(100, "a");
        let ok = enforce_measured(q.as_bytes(), &ns, Limits { max_nodes: 199, max_cost: 9999 }).unwrap();
        assert_eq!((ok.1.nodes, ok.1.cost), (199, 9999));
        let e = enforce_measured(q.as_bytes(), &ns, Limits { max_nodes: 0, max_cost: 9998 }).unwrap_err();
        assert_eq!(e.kind(), Kind::TooComplex);
        assert!(e.message().starts_with("query too complex: type-check cost 9999 (limit 9998)"), "{}", e.message());
        let e = enforce_measured(q.as_bytes(), &ns, Limits { max_nodes: 198, max_cost: 0 }).unwrap_err();
        assert_eq!((e.kind(), e.message()), (Kind::TooComplex, "query too complex: more than 198 nodes (limit 198)"));
        assert_eq!(e.pos(), None);
    }

    #[test]
    fn a_query_refused_for_its_types_is_measured_first() {
        // Prometheus type-checks the whole chain before it finds the string at its end.
        let q = format!("{} + \"x\"", chain(1000, "a"));
        let e = enforce_measured(q.as_bytes(), &[], Limits { max_nodes: 0, max_cost: 10_000 }).unwrap_err();
        assert_eq!(e.kind(), Kind::TooComplex, "{}", e.message());
        let e = enforce_measured(q.as_bytes(), &[], Limits::NONE).unwrap_err();
        assert_eq!(e.kind(), Kind::Syntax);
    }

    #[test]
    fn enforcement_wraps_are_counted() {
        // absent()'s label_replace wrap (a call and four strings) is forwarded, so counted.
        let ns = vec![matcher(b"namespace", MatchOp::Equal, b"a").unwrap()];
        let (text, m) = enforce_measured(b"absent(a)", &ns, Limits::NONE).unwrap();
        assert!(text.starts_with("label_replace("), "{}", text);
        assert_eq!(m.nodes, 7);
        let e = enforce_measured(b"absent(a)", &ns, Limits { max_nodes: 6, max_cost: 0 }).unwrap_err();
        assert_eq!(e.message(), "query too complex: 7 nodes (limit 6)");
    }

    #[test]
    fn a_long_chain_is_refused_before_it_is_parsed_whole() {
        // The node limit stops the parser: a syntax error past the limit is never reached.
        let q = format!("{}+(", chain(100_000, "a"));
        let e = enforce_measured(q.as_bytes(), &[], Limits { max_nodes: 1000, max_cost: 0 }).unwrap_err();
        assert_eq!(e.kind(), Kind::TooComplex);
    }
}
