//! Token kinds of the PromQL lexer and how the parser names them in error messages.

use crate::strings::go_quote;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Eof,
    Error,
    Comment,
    Identifier,
    MetricIdentifier,
    Number,
    Duration,
    Str,
    // Punctuation.
    LeftParen,
    RightParen,
    LeftBrace,
    RightBrace,
    LeftBracket,
    RightBracket,
    Comma,
    Eql,
    Colon,
    // Operators.
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Eqlc,
    Neq,
    Lte,
    Lss,
    Gte,
    Gtr,
    TrimUpper,
    TrimLower,
    EqlRegex,
    NeqRegex,
    At,
    Land,
    Lor,
    Lunless,
    Atan2,
    // Aggregators.
    Avg,
    Bottomk,
    Count,
    CountValues,
    Group,
    Max,
    Min,
    Quantile,
    Stddev,
    Stdvar,
    Sum,
    Topk,
    Limitk,
    LimitRatio,
    // Keywords.
    Bool,
    By,
    GroupLeft,
    GroupRight,
    Fill,
    FillLeft,
    FillRight,
    Ignoring,
    Offset,
    Smoothed,
    Anchored,
    On,
    Without,
    // Preprocessors (duration and @ helpers).
    Start,
    End,
    Step,
    Range,
    MaxOf,
    MinOf,
}

use Kind::*;

/// Words the lexer turns into keyword tokens (matched case-insensitively).
pub fn keyword(word_lower: &[u8]) -> Option<Kind> {
    Some(match word_lower {
        b"and" => Land,
        b"or" => Lor,
        b"unless" => Lunless,
        b"atan2" => Atan2,
        b"sum" => Sum,
        b"avg" => Avg,
        b"count" => Count,
        b"min" => Min,
        b"max" => Max,
        b"group" => Group,
        b"stddev" => Stddev,
        b"stdvar" => Stdvar,
        b"topk" => Topk,
        b"bottomk" => Bottomk,
        b"count_values" => CountValues,
        b"quantile" => Quantile,
        b"limitk" => Limitk,
        b"limit_ratio" => LimitRatio,
        b"offset" => Offset,
        b"smoothed" => Smoothed,
        b"anchored" => Anchored,
        b"by" => By,
        b"without" => Without,
        b"on" => On,
        b"ignoring" => Ignoring,
        b"group_left" => GroupLeft,
        b"group_right" => GroupRight,
        b"fill" => Fill,
        b"fill_left" => FillLeft,
        b"fill_right" => FillRight,
        b"bool" => Bool,
        b"start" => Start,
        b"end" => End,
        b"step" => Step,
        b"range" => Range,
        b"max_of" => MaxOf,
        b"min_of" => MinOf,
        b"inf" | b"nan" => Number,
        _ => return None,
    })
}

impl Kind {
    /// The canonical spelling of tokens that have one.
    pub fn canonical(self) -> Option<&'static str> {
        Some(match self {
            LeftParen => "(",
            RightParen => ")",
            LeftBrace => "{",
            RightBrace => "}",
            LeftBracket => "[",
            RightBracket => "]",
            Comma => ",",
            Eql => "=",
            Colon => ":",
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Mod => "%",
            Pow => "^",
            Eqlc => "==",
            Neq => "!=",
            Lte => "<=",
            Lss => "<",
            Gte => ">=",
            Gtr => ">",
            TrimUpper => "</",
            TrimLower => ">/",
            EqlRegex => "=~",
            NeqRegex => "!~",
            At => "@",
            Land => "and",
            Lor => "or",
            Lunless => "unless",
            Atan2 => "atan2",
            Avg => "avg",
            Bottomk => "bottomk",
            Count => "count",
            CountValues => "count_values",
            Group => "group",
            Max => "max",
            Min => "min",
            Quantile => "quantile",
            Stddev => "stddev",
            Stdvar => "stdvar",
            Sum => "sum",
            Topk => "topk",
            Limitk => "limitk",
            LimitRatio => "limit_ratio",
            Bool => "bool",
            By => "by",
            GroupLeft => "group_left",
            GroupRight => "group_right",
            Fill => "fill",
            FillLeft => "fill_left",
            FillRight => "fill_right",
            Ignoring => "ignoring",
            Offset => "offset",
            Smoothed => "smoothed",
            Anchored => "anchored",
            On => "on",
            Without => "without",
            Start => "start",
            End => "end",
            Step => "step",
            Range => "range",
            MaxOf => "max_of",
            MinOf => "min_of",
            _ => return None,
        })
    }

    pub fn is_operator(self) -> bool {
        matches!(
            self,
            Add | Sub
                | Mul
                | Div
                | Mod
                | Pow
                | Eqlc
                | Neq
                | Lte
                | Lss
                | Gte
                | Gtr
                | TrimUpper
                | TrimLower
                | EqlRegex
                | NeqRegex
                | At
                | Land
                | Lor
                | Lunless
                | Atan2
        )
    }

    pub fn is_aggregator(self) -> bool {
        matches!(
            self,
            Avg | Bottomk
                | Count
                | CountValues
                | Group
                | Max
                | Min
                | Quantile
                | Stddev
                | Stdvar
                | Sum
                | Topk
                | Limitk
                | LimitRatio
        )
    }

    pub fn is_keyword(self) -> bool {
        matches!(
            self,
            Bool | By
                | GroupLeft
                | GroupRight
                | Fill
                | FillLeft
                | FillRight
                | Ignoring
                | Offset
                | Smoothed
                | Anchored
                | On
                | Without
        )
    }

    /// Binary operator precedence (higher binds tighter); None for non-binary tokens.
    pub fn binary_precedence(self) -> Option<u8> {
        Some(match self {
            Lor => 1,
            Land | Lunless => 2,
            Eqlc | Neq | Lte | Lss | Gte | Gtr | TrimUpper | TrimLower => 3,
            Add | Sub => 4,
            Mul | Div | Mod | Atan2 => 5,
            Pow => 6,
            _ => return None,
        })
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, Eqlc | Neq | Lte | Lss | Gte | Gtr)
    }

    pub fn is_set_operator(self) -> bool {
        matches!(self, Land | Lor | Lunless)
    }

    /// Tokens that may name a metric when they stand alone (Prometheus's metric_identifier).
    pub fn can_be_metric_name(self) -> bool {
        matches!(
            self,
            Identifier
                | MetricIdentifier
                | Avg
                | Bottomk
                | By
                | Count
                | CountValues
                | Fill
                | FillLeft
                | FillRight
                | Group
                | Land
                | Lor
                | Lunless
                | Max
                | Min
                | Offset
                | Quantile
                | Stddev
                | Stdvar
                | Sum
                | Topk
                | Without
                | Start
                | End
                | Limitk
                | LimitRatio
                | Step
                | Range
                | Anchored
                | Smoothed
                | MaxOf
                | MinOf
        )
    }

    /// Tokens accepted as a label name in grouping clauses (Prometheus's maybe_label).
    pub fn can_be_grouping_label(self) -> bool {
        match self {
            Without => false,
            Bool | GroupLeft | GroupRight | Ignoring | On | Atan2 => true,
            k => k.can_be_metric_name(),
        }
    }
}

/// How an error message names the token `kind` spelled `text`.
pub fn describe(kind: Kind, text: &[u8]) -> String {
    if kind == Eof {
        return "end of input".to_string();
    }
    if kind.canonical().is_some() {
        return show(kind, text);
    }
    let what = match kind {
        Error => "error",
        Comment => "comment",
        Identifier => "identifier",
        MetricIdentifier => "metric identifier",
        Str => "string",
        Number => "number",
        Duration => "duration",
        _ => "token",
    };
    format!("{} {}", what, show(kind, text))
}

fn show(kind: Kind, text: &[u8]) -> String {
    let t = String::from_utf8_lossy(text);
    if kind == Identifier || kind == MetricIdentifier {
        return go_quote(text);
    }
    if kind.is_keyword() {
        return format!("<{}>", t);
    }
    if kind.is_operator() {
        return format!("<op:{}>", t);
    }
    if kind.is_aggregator() {
        return format!("<aggr:{}>", t);
    }
    if t.chars().count() > 10 {
        let cut: String = t.chars().take(10).collect();
        return format!("{}...", go_quote(cut.as_bytes()));
    }
    go_quote(text)
}
