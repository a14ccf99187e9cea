//! The semantic and type checks Prometheus runs on a parsed expression (its checkAST),
//! in the same order, so that the first error reported is the same. It also settles
//! what Prometheus settles there: set operators match many-to-many, and vector matching
//! is dropped when an operand is a scalar.

use crate::ast::*;
use crate::error::{Error, Result};
use crate::strings::go_quote;
use crate::token::Kind;

pub fn check(e: &mut Expr<'_>) -> Result<ValueType> {
    match e {
        Expr::Number(_) => Ok(ValueType::Scalar),
        Expr::String { .. } => Ok(ValueType::String),
        Expr::Vector(vs) => {
            check_selector(vs)?;
            Ok(ValueType::Vector)
        }
        Expr::Matrix(m) => {
            check_selector(&m.vs)?;
            Ok(ValueType::Matrix)
        }
        Expr::Paren(inner, _) => check(inner),
        Expr::Unary(u) => {
            let t = check(&mut u.expr)?;
            if !(ValueType::Scalar.accepts(t) || ValueType::Vector.accepts(t)) {
                return Err(Error::at(
                    u.pos,
                    format!(
                        "unary expression only allowed on expressions of type scalar or instant vector, got {}",
                        go_quote(t.documented().as_bytes())
                    ),
                ));
            }
            Ok(t)
        }
        Expr::Subquery(s) => {
            let t = check(&mut s.expr)?;
            if !ValueType::Vector.accepts(t) {
                return Err(Error::at(
                    s.expr.pos(),
                    format!(
                        "subquery is only allowed on instant vector, got {} instead",
                        t.internal()
                    ),
                ));
            }
            Ok(ValueType::Matrix)
        }
        Expr::Aggregate(a) => {
            expect_type(&mut a.expr, ValueType::Vector, "aggregation expression")?;
            if let Some(p) = a.param.as_mut() {
                let want = if a.op == Kind::CountValues {
                    ValueType::String
                } else {
                    ValueType::Scalar
                };
                expect_type(p, want, "aggregation parameter")?;
            }
            Ok(ValueType::Vector)
        }
        Expr::Call(c) => check_call(c),
        Expr::Binary(b) => check_binary(b),
    }
}

fn expect_type(e: &mut Expr<'_>, want: ValueType, context: &str) -> Result<()> {
    let t = check(e)?;
    if !want.accepts(t) {
        return Err(Error::at(
            e.pos(),
            format!(
                "expected type {} in {}, got {}",
                want.documented(),
                context,
                t.documented()
            ),
        ));
    }
    Ok(())
}

fn check_selector(vs: &VectorSelector<'_>) -> Result<()> {
    if !vs.name.is_empty() {
        if let Some(m) = vs.matchers.iter().find(|m| &*m.name == METRIC_NAME) {
            return Err(Error::at(
                vs.pos,
                format!(
                    "metric name must not be set twice: {} or {}",
                    go_quote(vs.name),
                    go_quote(&m.value)
                ),
            ));
        }
        return Ok(());
    }
    if !vs.bypass_empty_check && vs.matchers.iter().all(|m| m.matches_empty) {
        return Err(Error::at(
            vs.pos,
            "vector selector must contain at least one non-empty matcher",
        ));
    }
    Ok(())
}

/// The Prometheus endpoint a `match[]` selector is for: they check it differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectorUse {
    /// /api/v1/series, /api/v1/labels and /api/v1/label/<name>/values: a selector whose
    /// matchers all match the empty string is refused.
    Api,
    /// /federate: any selector is taken; one without a matcher selects no series.
    Federate,
}

/// The checks Prometheus makes on a `match[]` selector, on the selector as the caller wrote
/// it, so that the caller is refused exactly where a Prometheus holding only their series
/// would refuse them. Its selector parser runs none of the checks of a query's selectors
/// (a metric name given twice is taken, and selects nothing); the API endpoints then want a
/// matcher that does not match the empty string, and /federate wants nothing. There `{}`
/// selects no series, which `extra` matchers would turn into all of the tenant's series:
/// refused when matchers are added.
pub fn check_match_selector(
    vs: &VectorSelector<'_>,
    endpoint: SelectorUse,
    adding: bool,
) -> Result<()> {
    if !vs.name.is_empty() {
        return Ok(());
    }
    match endpoint {
        SelectorUse::Api if vs.matchers.iter().all(|m| m.matches_empty) => Err(Error::plain(
            "match[] must contain at least one non-empty matcher",
        )),
        SelectorUse::Federate if vs.matchers.is_empty() && adding => Err(Error::plain(
            "match[] must contain at least one matcher: {} selects no series",
        )),
        _ => Ok(()),
    }
}

fn check_call(c: &mut Call<'_>) -> Result<ValueType> {
    let func = match c.func {
        Some(f) => f,
        None => {
            // Unknown functions are accepted by design: any arguments, any result.
            for a in c.args.iter_mut() {
                check(a)?;
            }
            return Ok(ValueType::Any);
        }
    };
    let nargs = func.arg_types.len();
    let got = c.args.len();
    if func.variadic == 0 {
        if nargs != got {
            return Err(Error::at(
                c.pos,
                format!(
                    "expected {} argument(s) in call to {}, got {}",
                    nargs,
                    go_quote(func.name.as_bytes()),
                    got
                ),
            ));
        }
    } else {
        let min = nargs - 1;
        if min > got {
            return Err(Error::at(
                c.pos,
                format!(
                    "expected at least {} argument(s) in call to {}, got {}",
                    min,
                    go_quote(func.name.as_bytes()),
                    got
                ),
            ));
        }
        let max = min as i64 + func.variadic as i64;
        if func.variadic > 0 && max < got as i64 {
            return Err(Error::at(
                c.pos,
                format!(
                    "expected at most {} argument(s) in call to {}, got {}",
                    max,
                    go_quote(func.name.as_bytes()),
                    got
                ),
            ));
        }
    }
    if func.name == "info" && got > 1 {
        let t = type_of(&c.args[1]);
        if !ValueType::Vector.accepts(t) {
            return Err(Error::at(
                c.pos,
                format!(
                    "expected type instant vector in call to function \"info\", got {}",
                    t.documented()
                ),
            ));
        }
        match &mut c.args[1] {
            Expr::Vector(vs) if !vs.name.is_empty() => {
                return Err(Error::at(
                    vs.pos,
                    "expected label selectors only, got vector selector instead",
                ));
            }
            Expr::Vector(vs) => vs.bypass_empty_check = true,
            other => return Err(Error::at(other.pos(), "expected label selectors only")),
        }
    }
    for (i, arg) in c.args.iter_mut().enumerate() {
        let idx = if i >= nargs {
            if func.variadic == 0 {
                break;
            }
            nargs - 1
        } else {
            i
        };
        let want = func.arg_types[idx];
        let t = check(arg)?;
        if !want.accepts(t) {
            return Err(Error::at(
                arg.pos(),
                format!(
                    "expected type {} in call to function {}, got {}",
                    want.documented(),
                    go_quote(func.name.as_bytes()),
                    t.documented()
                ),
            ));
        }
    }
    Ok(func.return_type)
}

/// The type of an expression without checking it (Prometheus's Expr.Type()).
pub fn type_of(e: &Expr<'_>) -> ValueType {
    match e {
        Expr::Number(_) => ValueType::Scalar,
        Expr::String { .. } => ValueType::String,
        Expr::Vector(_) | Expr::Aggregate(_) => ValueType::Vector,
        Expr::Matrix(_) | Expr::Subquery(_) => ValueType::Matrix,
        Expr::Paren(inner, _) => type_of(inner),
        Expr::Unary(u) => type_of(&u.expr),
        Expr::Call(c) => c.func.map_or(ValueType::Any, |f| f.return_type),
        Expr::Binary(b) => {
            let mut t = type_of(&b.first);
            for s in &b.steps {
                t = binary_result(t, type_of(&s.rhs));
            }
            t
        }
    }
}

fn binary_result(lt: ValueType, rt: ValueType) -> ValueType {
    use ValueType::*;
    match (lt, rt) {
        (Scalar, Scalar) => Scalar,
        (Scalar | Any, Scalar | Any) => Any,
        _ => Vector,
    }
}

fn quoted_op(op: Kind) -> String {
    go_quote(op.canonical().unwrap_or("").as_bytes())
}

fn check_binary(b: &mut Binary<'_>) -> Result<ValueType> {
    use ValueType::*;
    let start = b.first.pos();
    let mut lt = check(&mut b.first)?;
    for step in b.steps.iter_mut() {
        let rt = check(&mut step.rhs)?;
        let op = step.op;
        if step.return_bool && !op.is_comparison() {
            return Err(Error::at(
                step.op_pos,
                "bool modifier can only be used on comparison operators",
            ));
        }
        if op.is_comparison() && !step.return_bool && lt == Scalar && rt == Scalar {
            return Err(Error::at(
                step.op_pos,
                "comparisons between scalars must use BOOL modifier",
            ));
        }
        if let Some(vm) = step.matching.as_mut() {
            if op.is_set_operator() && vm.card == Card::OneToOne {
                vm.card = Card::ManyToMany;
            }
            if vm.on && !vm.include.is_empty() {
                let mut include: Vec<&[u8]> = vm.include.iter().map(|l| &l[..]).collect();
                include.sort_unstable();
                if let Some(l) = vm
                    .labels
                    .iter()
                    .find(|l| include.binary_search(&&l[..]).is_ok())
                {
                    return Err(Error::at(
                        step.op_pos,
                        format!(
                            "label {} must not occur in ON and GROUP clause at once",
                            go_quote(l)
                        ),
                    ));
                }
            }
        }
        if !(Scalar.accepts(lt) || Vector.accepts(lt)) {
            return Err(Error::at(
                start,
                "binary expression must contain only scalar and instant vector types",
            ));
        }
        if !(Scalar.accepts(rt) || Vector.accepts(rt)) {
            return Err(Error::at(
                step.rhs.pos(),
                "binary expression must contain only scalar and instant vector types",
            ));
        }
        let both_vectors = Vector.accepts(lt) && Vector.accepts(rt);
        if !both_vectors {
            if let Some(vm) = step.matching.as_ref() {
                if !vm.labels.is_empty() {
                    return Err(Error::at(
                        start,
                        "vector matching only allowed between instant vectors",
                    ));
                }
                if vm.fill_lhs.is_some() || vm.fill_rhs.is_some() {
                    return Err(Error::at(
                        start,
                        "filling in missing series only allowed between instant vectors",
                    ));
                }
            }
            step.matching = None;
        } else if op.is_set_operator() {
            if let Some(vm) = step.matching.as_ref() {
                if vm.card == Card::OneToMany || vm.card == Card::ManyToOne {
                    return Err(Error::at(
                        start,
                        format!("no grouping allowed for {} operation", quoted_op(op)),
                    ));
                }
                if vm.fill_lhs.is_some() || vm.fill_rhs.is_some() {
                    return Err(Error::at(
                        start,
                        "filling in missing series not allowed for set operators",
                    ));
                }
            }
        }
        if (lt == Scalar || rt == Scalar) && op.is_set_operator() {
            return Err(Error::at(
                start,
                format!(
                    "set operator {} not allowed in binary scalar expression",
                    quoted_op(op)
                ),
            ));
        }
        lt = binary_result(lt, rt);
    }
    Ok(lt)
}
