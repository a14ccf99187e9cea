//! The syntax tree. It mirrors Prometheus's promql/parser AST, with one difference:
//! a run of binary operators whose left operands nest (`a + b - c * d ...`, the common
//! shape of long generated queries) is held as one `Binary` node with a list of steps,
//! so that walking it needs no recursion per operator.

use crate::functions::Function;
use crate::token::Kind;
use std::borrow::Cow;

/// Label names, values and string literals: borrowed from the query when written without
/// escapes, so that parsing a typical query allocates little.
pub type Bytes<'a> = Cow<'a, [u8]>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    Scalar,
    Vector,
    Matrix,
    String,
    /// The result of a function this parser does not know: compatible with every type.
    Any,
}

impl ValueType {
    /// Prometheus's DocumentedType.
    pub fn documented(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
            ValueType::String => "string",
            ValueType::Any => "any",
        }
    }

    pub fn internal(self) -> &'static str {
        match self {
            ValueType::Scalar => "scalar",
            ValueType::Vector => "vector",
            ValueType::Matrix => "matrix",
            ValueType::String => "string",
            ValueType::Any => "any",
        }
    }

    pub fn accepts(self, actual: ValueType) -> bool {
        self == actual || actual == ValueType::Any || self == ValueType::Any
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    Equal,
    NotEqual,
    Regex,
    NotRegex,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Matcher<'a> {
    pub name: Bytes<'a>,
    pub op: MatchOp,
    pub value: Bytes<'a>,
    /// Whether the matcher matches the empty string (for regexes: fully anchored).
    pub matches_empty: bool,
}

pub const METRIC_NAME: &[u8] = b"__name__";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AtModifier {
    None,
    /// Milliseconds since the epoch.
    Timestamp(i64),
    Start,
    End,
}

/// A duration that is either fixed (nanoseconds) or a duration expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Dur {
    Nanos(i64),
    Expr(Box<DurationExpr>),
}

impl Dur {
    pub fn is_set(&self) -> bool {
        !matches!(self, Dur::Nanos(0))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NumberLiteral {
    pub val: f64,
    /// Written as a duration (`5m`): printed back as one.
    pub duration: bool,
    pub pos: usize,
}

/// An operand of a duration expression.
#[derive(Clone, Debug, PartialEq)]
pub enum DurNode {
    Number(NumberLiteral),
    Expr(Box<DurationExpr>),
}

/// Arithmetic on durations: a binary operator (lhs and rhs), a unary sign (rhs only),
/// `step()`/`range()` (neither) or `min_of`/`max_of` (both).
#[derive(Clone, Debug, PartialEq)]
pub struct DurationExpr {
    pub op: Kind,
    pub lhs: Option<DurNode>,
    pub rhs: Option<DurNode>,
    pub wrapped: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VectorSelector<'a> {
    /// The metric name written before the braces (empty when none). It stands for a
    /// `__name__="<name>"` matcher, which is not held in `matchers`.
    pub name: &'a [u8],
    /// The matchers written in braces.
    pub matchers: Vec<Matcher<'a>>,
    pub offset: Dur,
    pub at: AtModifier,
    pub anchored: bool,
    pub smoothed: bool,
    /// info()'s data-label selector may match the empty string.
    pub bypass_empty_check: bool,
    pub pos: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MatrixSelector<'a> {
    /// Offset, @ and anchored/smoothed of a range selector live on this selector. It keeps
    /// the box it was parsed in (a range selector is a selector followed by `[...]`).
    pub vs: Box<VectorSelector<'a>>,
    pub range: Dur,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Subquery<'a> {
    pub expr: Expr<'a>,
    pub range: Dur,
    /// `Dur::Nanos(0)`: no step given.
    pub step: Dur,
    pub offset: Dur,
    pub at: AtModifier,
    /// Nesting height of this subtree, bounded by the depth limit.
    pub height: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Call<'a> {
    pub name: &'a [u8],
    /// None for a function this parser does not know (accepted by design).
    pub func: Option<&'static Function>,
    pub args: Vec<Expr<'a>>,
    pub pos: usize,
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for Function {
    fn eq(&self, other: &Function) -> bool {
        self.name == other.name
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate<'a> {
    pub op: Kind,
    pub expr: Expr<'a>,
    pub param: Option<Expr<'a>>,
    pub grouping: Vec<Bytes<'a>>,
    pub without: bool,
    pub pos: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Card {
    OneToOne,
    ManyToOne,
    OneToMany,
    ManyToMany,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VectorMatching<'a> {
    pub card: Card,
    pub labels: Vec<Bytes<'a>>,
    pub on: bool,
    pub include: Vec<Bytes<'a>>,
    pub fill_lhs: Option<f64>,
    pub fill_rhs: Option<f64>,
}

/// One operator of a binary chain: `<previous result> op rhs`.
#[derive(Clone, Debug, PartialEq)]
pub struct BinaryStep<'a> {
    pub op: Kind,
    pub op_pos: usize,
    pub return_bool: bool,
    /// None once the type check found a scalar operand (as Prometheus drops it).
    pub matching: Option<VectorMatching<'a>>,
    pub rhs: Expr<'a>,
}

/// `((first op1 rhs1) op2 rhs2) ...`
#[derive(Clone, Debug, PartialEq)]
pub struct Binary<'a> {
    pub first: Expr<'a>,
    pub steps: Vec<BinaryStep<'a>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Unary<'a> {
    pub op: Kind,
    pub expr: Expr<'a>,
    pub pos: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr<'a> {
    Number(NumberLiteral),
    String { val: Bytes<'a>, pos: usize },
    Vector(Box<VectorSelector<'a>>),
    Matrix(MatrixSelector<'a>),
    Subquery(Box<Subquery<'a>>),
    Call(Box<Call<'a>>),
    Aggregate(Box<Aggregate<'a>>),
    Binary(Box<Binary<'a>>),
    Unary(Box<Unary<'a>>),
    Paren(Box<Expr<'a>>, usize),
}

impl<'a> VectorSelector<'a> {
    /// Whether the selector holds this exact matcher, counting the one its name stands for.
    pub fn has(&self, m: &Matcher) -> bool {
        let by_name = !self.name.is_empty()
            && m.op == MatchOp::Equal
            && &*m.name == METRIC_NAME
            && &*m.value == self.name;
        by_name
            || self
                .matchers
                .iter()
                .any(|o| o.name == m.name && o.op == m.op && o.value == m.value)
    }
}

impl<'a> Expr<'a> {
    /// Start offset in the query, for error positions.
    pub fn pos(&self) -> usize {
        match self {
            Expr::Number(n) => n.pos,
            Expr::String { pos, .. } => *pos,
            Expr::Vector(v) => v.pos,
            Expr::Matrix(m) => m.vs.pos,
            Expr::Subquery(s) => s.expr.pos(),
            Expr::Call(c) => c.pos,
            Expr::Aggregate(a) => a.pos,
            Expr::Binary(b) => b.first.pos(),
            Expr::Unary(u) => u.pos,
            Expr::Paren(_, pos) => *pos,
        }
    }

    /// Nesting height as the tree walkers recurse (a binary chain counts once).
    pub fn height(&self) -> usize {
        1 + match self {
            Expr::Number(_) | Expr::String { .. } | Expr::Vector(_) | Expr::Matrix(_) => 0,
            Expr::Subquery(s) => return s.height,
            Expr::Call(c) => c.args.iter().map(Expr::height).max().unwrap_or(0),
            Expr::Aggregate(a) => a
                .expr
                .height()
                .max(a.param.as_ref().map_or(0, Expr::height)),
            Expr::Binary(b) => b
                .steps
                .iter()
                .map(|s| s.rhs.height())
                .max()
                .unwrap_or(0)
                .max(b.first.height()),
            Expr::Unary(u) => u.expr.height(),
            Expr::Paren(e, _) => e.height(),
        }
    }
}
