//! Test tables for parsing, checking and printing: what is accepted and how it prints,
//! what is refused and with which message, and hostile input.

use crate::{format, parse_json, run_format, Error, ErrorKind};

fn fmt(q: &str) -> String {
    match format(q.as_bytes()) {
        Ok(s) => s,
        Err(e) => panic!("{:?} refused: {}", q, e.render(q.as_bytes())),
    }
}

fn err(q: &str) -> String {
    match format(q.as_bytes()) {
        Ok(s) => panic!("{:?} accepted as {:?}", q, s),
        Err(e) => e.render(q.as_bytes()),
    }
}

/// (input, canonical text)
const ACCEPTED: &[(&str, &str)] = &[
    // Literals.
    ("1", "1"),
    ("0x1F", "31"),
    ("0755", "493"),
    ("1_000", "1000"),
    (".5e-3", "0.0005"),
    ("-Inf", "-Inf"),
    ("+Inf", "Inf"),
    ("Inf ^ 2", "Inf ^ 2"),
    ("NaN", "NaN"),
    ("nan", "NaN"),
    ("5m", "5m"),
    ("1h30m", "1h30m"),
    ("-5m", "-5m"),
    (r#""a\"b""#, r#""a\"b""#),
    (r#"'a\'b"'"#, r#""a'b\"""#),
    ("`a\\b`", r#""a\\b""#),
    (r#""\x41\101\u00e4\U0001F600""#, "\"AAä😀\""),
    (r#""\xff""#, r#""\xff""#),
    (r#""\ufffd""#, r#""\ufffd""#),
    (r#""\u200b\n\t""#, r#""\u200b\n\t""#),
    // Selectors.
    ("foo", "foo"),
    ("foo:bar:baz", "foo:bar:baz"),
    ("{\"foo.bar\"}", "{__name__=\"foo.bar\"}"),
    ("{\"a.b\"=\"c\", x=~\"y\"}", "{\"a.b\"=\"c\",x=~\"y\"}"),
    (
        "foo{b=\"1\", a!=\"2\", c=~\"3\", d!~\"4\",}",
        "foo{a!=\"2\",b=\"1\",c=~\"3\",d!~\"4\"}",
    ),
    ("{__name__=~\"a.*\"}", "{__name__=~\"a.*\"}"),
    ("foo{job=''}", "foo{job=\"\"}"),
    ("sum", "sum"),
    ("by{a=\"b\"}", "by{a=\"b\"}"),
    ("offset", "offset"),
    ("fill + fill_left", "fill + fill_left"),
    ("Step{x=\"y\"}", "Step{x=\"y\"}"),
    // Ranges, subqueries and modifiers.
    ("foo[5m]", "foo[5m]"),
    ("foo[90s]", "foo[1m30s]"),
    ("foo[1.5]", "foo[1s500ms]"),
    ("foo[0.0001]", "foo[0.0001]"),
    ("foo[4e-10]", "foo[0.0000000001]"),
    ("foo[5m:]", "foo[5m:]"),
    (
        "foo[5m:30s] offset 1h @ 100",
        "foo[5m:30s] @ 100.000 offset 1h",
    ),
    ("foo offset -1w", "foo offset -1w"),
    ("foo OFFSET 0s", "foo"),
    ("foo @ start()", "foo @ start()"),
    ("foo[5m] @ end() offset 1m", "foo[5m] @ end() offset 1m"),
    ("foo @ 1.2345", "foo @ 1.235"),
    ("foo smoothed", "foo smoothed"),
    ("foo[5m] anchored", "foo[5m] anchored"),
    ("foo anchored [5m]", "foo[5m] anchored"),
    ("foo[5m * 2]", "foo[5m * 2]"),
    ("foo[step() + 1m:step()]", "foo[step() + 1m:step()]"),
    ("foo[(5m)]", "foo[(5m)]"),
    ("foo[min_of(5m, range())]", "foo[min_of(5m, range())]"),
    ("foo offset (1h - 5m) * 2", "foo offset (1h - 5m) * 2"),
    ("foo offset 5s - 8", "foo offset 5s - 8"),
    ("foo offset -(5m)", "foo offset -(5m)"),
    ("foo offset +(5) - 1", "foo offset +(5) - 1"),
    ("foo offset (5) - 1", "foo offset (5) - 1"),
    ("a + foo offset +(5) * 2 - b", "a + foo offset +(5) * 2 - b"),
    ("rate(foo[1m] offset +(5))", "rate(foo[1m] offset (5))"),
    (
        "{a=\"x\", a!=\"y\", b=\"z\", a=~\"w\"}",
        "{a=\"x\",a!=\"y\",a=~\"w\",b=\"z\"}",
    ),
    ("foo offset +step()", "foo offset step()"),
    ("foo[2^3:]", "foo[2 ^ 3:]"),
    // Operators: precedence and associativity are kept by the tree, not by added parentheses.
    ("a + b * c", "a + b * c"),
    ("(a + b) * c", "(a + b) * c"),
    ("a - b - c", "a - b - c"),
    ("a - (b - c)", "a - (b - c)"),
    ("2 ^ 3 ^ 2", "2 ^ 3 ^ 2"),
    ("-a ^ 2", "-a ^ 2"),
    ("-1 ^ 2", "-1 ^ 2"),
    ("- - a", "--a"),
    ("1 + -2", "1 + -2"),
    ("a atan2 b", "a atan2 b"),
    ("a </ b", "a </ b"),
    ("a > bool 1", "a > bool 1"),
    ("1 == bool 1", "1 == bool 1"),
    ("a AND b OR c UNLESS d", "a and b or c unless d"),
    (
        "a + on(x, \"y.z\") group_left(w) b",
        "a + on (x, \"y.z\") group_left (w) b",
    ),
    (
        "a + ignoring(x) group_right b",
        "a + ignoring (x) group_right () b",
    ),
    ("a and on() b", "a and on () b"),
    ("a + ignoring() b", "a + b"),
    ("1 + on() 2", "1 + 2"),
    ("a + fill(0) b", "a + fill (0) b"),
    (
        "a + fill_right(1e6) fill_left(-1) b",
        "a + fill_left (-1) fill_right (1e+06) b",
    ),
    // Aggregations and calls.
    ("sum(a)", "sum(a)"),
    ("SUM BY (a) (b)", "sum by (a) (b)"),
    ("sum(a) without (b,)", "sum without (b) (a)"),
    ("sum by () (a)", "sum(a)"),
    ("topk(5, a)", "topk(5, a)"),
    ("count_values(\"v\", a)", "count_values(\"v\", a)"),
    ("limitk(1, a)", "limitk(1, a)"),
    ("limit_ratio(0.5, a)", "limit_ratio(0.5, a)"),
    (
        "sum by (on, bool, offset, \"\u{e4}\") (a)",
        "sum by (on, bool, offset, \"\u{e4}\") (a)",
    ),
    ("time()", "time()"),
    ("round(a)", "round(a)"),
    ("round(a, 5)", "round(a, 5)"),
    (
        "label_join(a, \"d\", \",\", \"s1\", \"s2\")",
        "label_join(a, \"d\", \",\", \"s1\", \"s2\")",
    ),
    (
        "histogram_quantiles(a, \"q\", 0.5, 0.9)",
        "histogram_quantiles(a, \"q\", 0.5, 0.9)",
    ),
    ("info(a, {b=\"c\"})", "info(a, {b=\"c\"})"),
    ("info(a, {b=~\".*\"})", "info(a, {b=~\".*\"})"),
    (
        "start() + end() + step() + range()",
        "start() + end() + step() + range()",
    ),
    ("max_of(1, 2)", "max_of(1, 2)"),
    ("absent_over_time(a[5m])", "absent_over_time(a[5m])"),
    (
        "some_future_function(a, b[5m], \"x\", 1)",
        "some_future_function(a, b[5m], \"x\", 1)",
    ),
    ("rate(a[5m:1m])", "rate(a[5m:1m])"),
    // Comments and layout.
    ("a # comment\n + b", "a + b"),
    ("a{ # in braces\n b=\"c\"}", "a{b=\"c\"}"),
    ("\t( a )\r\n", "(a)"),
];

/// (input, error Prometheus reports)
const REFUSED: &[(&str, &str)] = &[
    ("", "1:1: parse error: no expression found in input"),
    ("# only a comment", "1:1: parse error: no expression found in input"),
    ("1 +", "1:4: parse error: unexpected end of input"),
    ("a b", "1:3: parse error: unexpected identifier \"b\""),
    ("sum(a b)", "1:7: parse error: unexpected identifier \"b\" in aggregation"),
    ("sum(rate(a b))", "1:12: parse error: unexpected identifier \"b\" in aggregation"),
    ("sum by (a) b", "1:12: parse error: unexpected identifier \"b\" in aggregation"),
    ("rate(a b)", "1:8: parse error: unexpected identifier \"b\""),
    ("a{b=\"c\" d=\"e\"}", "1:9: parse error: unexpected identifier \"d\" in label matching, expected \",\" or \"}\""),
    ("a{b}", "1:4: parse error: unexpected \"}\" in label matching, expected label matching operator"),
    ("a{b=c}", "1:5: parse error: unexpected identifier \"c\" in label matching, expected string"),
    ("a{,}", "1:3: parse error: unexpected \",\" in label matching, expected identifier or \"}\""),
    ("a{b=~\"(\"}", "1:3: parse error: error parsing regexp: missing closing ): `(`"),
    ("a[5m 1m]", "1:6: parse error: unexpected duration \"1m\" in subquery or range, expected \":\" or \"]\""),
    ("a[5m:1m 2]", "1:9: parse error: unexpected number \"2\" in subquery selector, expected \"]\""),
    ("a[]", "1:3: parse error: unexpected \"]\" in subquery or range selector, expected number, duration, step(), or range()"),
    ("a[5m:", "1:6: parse error: unclosed left bracket"),
    ("a[", "1:3: parse error: unexpected end of input in duration expression"),
    ("a[5m", "1:5: parse error: unclosed left bracket"),
    ("a @ b", "1:5: parse error: unexpected identifier \"b\" in @, expected timestamp"),
    ("a @ start", "1:10: parse error: unexpected end of input in @, expected timestamp"),
    ("a offset b", "1:10: parse error: unexpected identifier \"b\" in offset, expected number, duration, step(), or range()"),
    ("a offset (1h) - b", "1:17: parse error: unexpected identifier \"b\" in offset, expected number, duration, step(), or range()"),
    ("a + on(b c) d", "1:10: parse error: unexpected identifier \"c\" in grouping opts, expected \",\" or \")\""),
    ("a + on b", "1:8: parse error: unexpected identifier \"b\" in grouping opts, expected \"(\""),
    ("sum by (==) (a)", "1:9: parse error: unexpected <op:==> in grouping opts, expected label"),
    ("sum by (\"\") (a)", "1:9: parse error: invalid label name for grouping: \"\""),
    ("sum by (without) (a)", "1:9: parse error: unexpected <without> in grouping opts, expected label"),
    ("a + group_left b", "1:5: parse error: unexpected <group_left>"),
    ("a + bool b", "1:3: parse error: bool modifier can only be used on comparison operators"),
    ("1 > 2", "1:3: parse error: comparisons between scalars must use BOOL modifier"),
    ("1 and a", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"),
    ("a and on(b) group_left c", "1:1: parse error: no grouping allowed for \"and\" operation"),
    ("a and fill(1) b", "1:1: parse error: filling in missing series not allowed for set operators"),
    ("a + fill(1) 1", "1:1: parse error: filling in missing series only allowed between instant vectors"),
    ("a * on(b) group_left(b) c", "1:3: parse error: label \"b\" must not occur in ON and GROUP clause at once"),
    ("a[5m] + b", "1:1: parse error: binary expression must contain only scalar and instant vector types"),
    ("\"a\" + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types"),
    ("-a[5m]", "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\""),
    ("a[5m][5m]", "1:6: parse error: ranges only allowed for vector selectors"),
    ("a[5m:][5m:]", "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"),
    ("a offset 1m [5m]", "1:13: parse error: no offset modifiers allowed before range"),
    ("a @ 1 [5m]", "1:7: parse error: no @ modifiers allowed before range"),
    ("a offset 1m offset 2m", "1:1: parse error: offset may not be set multiple times"),
    ("a @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"),
    ("sum(a) offset 1m", "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"),
    ("sum(a) @ 1", "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector selector or a subquery"),
    ("a @ NaN", "1:1: parse error: timestamp out of bounds for @ modifier: NaN"),
    ("a anchored smoothed", "1:1: parse error: anchored and smoothed modifiers cannot be used together"),
    ("a[5m:] anchored", "1:1: parse error: anchored modifier is not supported for subqueries"),
    ("sum(a) smoothed", "1:1: parse error: smoothed modifier not implemented"),
    ("a[0]", "1:3: parse error: duration must be greater than 0"),
    ("a[-1m]", "1:3: parse error: duration must be greater than 0"),
    ("a[1m/0]", "1:5: parse error: division by zero"),
    ("a[1m%0]", "1:5: parse error: modulo by zero"),
    ("a offset 1e10", "1:10: parse error: duration out of range"),
    ("a[1m1h]", "1:3: parse error: not a valid duration string: \"1m1h\""),
    ("a[1hs]", "1:3: parse error: unknown unit \"hs\" in duration \"1hs\""),
    ("a[step():1m]", "1:10: parse error: unexpected colon before duration in duration expression"),
    ("sum()", "1:1: parse error: no arguments for aggregate expression provided"),
    ("topk(a)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"),
    ("topk(\"5\", a)", "1:6: parse error: expected type scalar in aggregation parameter, got string"),
    ("count_values(5, a)", "1:14: parse error: expected type string in aggregation parameter, got scalar"),
    ("sum(1)", "1:5: parse error: expected type instant vector in aggregation expression, got scalar"),
    ("abs()", "1:1: parse error: expected 1 argument(s) in call to \"abs\", got 0"),
    ("round(a, 1, 2)", "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3"),
    ("label_join(a, \"b\")", "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 2"),
    ("rate(a)", "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector"),
    ("abs(a,)", "1:6: parse error: trailing commas not allowed in function call args"),
    ("info(a, b)", "1:9: parse error: expected label selectors only, got vector selector instead"),
    ("info(a, {b=\"c\"} + 1)", "1:9: parse error: expected label selectors only"),
    ("a{__name__=\"b\"}", "1:1: parse error: metric name must not be set twice: \"a\" or \"b\""),
    ("{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    ("{a=~\".*\", b=\"\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    ("{a!~\".+\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
    ("rate({a=\"\"}[5m])", "1:6: parse error: vector selector must contain at least one non-empty matcher"),
    ("a\n  + *", "2:5: parse error: unexpected <op:*>"),
    ("\"\\q\"", "1:1: parse error: unknown escape sequence U+0071 'q'"),
    ("\"\\ud800\"", "1:1: parse error: escape sequence is an invalid Unicode code point"),
    ("\"a\nb\"", "1:1: parse error: unterminated quoted string"),
    ("'\u{FFFD}'", "1:1: parse error: invalid UTF-8 rune"),
    ("1.2.3", "1:1: parse error: bad number or duration syntax: \"1.2.\""),
    ("1__0", "1:1: parse error: bad number or duration syntax: \"1__\""),
    ("(1e+)", "1:2: parse error: error parsing number: strconv.ParseFloat: parsing \"1e+\": invalid syntax"),
    ("a $ b", "1:3: parse error: unexpected character: '$'"),
];

#[test]
fn accepted_queries_print_canonically() {
    for (input, want) in ACCEPTED {
        assert_eq!(&fmt(input), want, "format({:?})", input);
    }
}

#[test]
fn printed_queries_parse_to_the_same_tree() {
    for (input, _) in ACCEPTED {
        let printed = fmt(input);
        let a = parse_json(input.as_bytes()).unwrap();
        let b = parse_json(printed.as_bytes()).unwrap_or_else(|e| panic!("{:?}: {}", printed, e));
        assert_eq!(a, b, "{:?} printed as {:?}", input, printed);
        assert_eq!(
            fmt(&printed),
            printed,
            "printing is idempotent for {:?}",
            input
        );
    }
}

#[test]
fn refused_queries_get_prometheus_errors() {
    for (input, want) in REFUSED {
        assert_eq!(&err(input), want, "format({:?})", input);
    }
}

#[test]
fn unknown_functions_take_any_arguments() {
    assert_eq!(fmt("nope(a[5m]) + 1"), "nope(a[5m]) + 1");
    assert_eq!(fmt("sum(nope(\"x\"))"), "sum(nope(\"x\"))");
    assert_eq!(
        err("nope({})"),
        "1:6: parse error: vector selector must contain at least one non-empty matcher"
    );
}

#[test]
fn json_has_no_positions_and_strings_for_special_numbers() {
    let j = parse_json(b"-Inf + NaN").unwrap();
    assert!(
        j.contains("\"val\":\"-Inf\"") && j.contains("\"val\":\"NaN\""),
        "{}",
        j
    );
    assert_eq!(parse_json(b"a  +  b").unwrap(), parse_json(b"a+b").unwrap());
    assert_ne!(parse_json(b"(a)").unwrap(), parse_json(b"a").unwrap());
}

fn deep(prefix: &str, middle: &str, suffix: &str, n: usize) -> String {
    format!("{}{}{}", prefix.repeat(n), middle, suffix.repeat(n))
}

/// Runs `f` on a thread with a large stack: unoptimised test builds use far more stack
/// per nesting level than the release build does.
fn with_big_stack(f: fn()) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn nesting_is_limited_on_every_recursive_path() {
    with_big_stack(nesting_limits);
}

fn nesting_limits() {
    let too_deep = [
        deep("(", "a", ")", 10_000),
        deep("-", "a", "", 10_000),
        deep("abs(", "a", ")", 10_000),
        deep("sum(", "a", ")", 10_000),
        deep("a ^ ", "a", "", 10_000),
        deep("a + (", "a", ")", 10_000),
        deep("", "a", "[1m:]", 10_000),
        deep("rate((", "a", ")[1m:])", 5_000),
        format!("a[{}1m{}]", "(".repeat(10_000), ")".repeat(10_000)),
        format!("a[{}1m]", "-".repeat(10_000)),
        format!("a[1m{}]", " + 1m".repeat(10_000)),
        format!("a offset {}1m{}", "(".repeat(10_000), ")".repeat(10_000)),
        "(".repeat(100_000),
    ];
    for q in &too_deep {
        let e = format(q.as_bytes()).unwrap_err();
        assert!(
            e.message().contains("too deeply nested"),
            "{}: {}",
            &q[..20],
            e
        );
    }
    let ok = deep("(", "a", ")", 200);
    assert!(format(ok.as_bytes()).is_ok());
}

#[test]
fn long_flat_chains_are_fine() {
    let q = (0..20_000)
        .map(|i| format!("m{}", i))
        .collect::<Vec<_>>()
        .join(" or ");
    assert_eq!(fmt(&q), q);
    let q = format!("a[{}]", vec!["1s"; 100].join(" + "));
    assert!(format(q.as_bytes()).is_ok());
}

#[test]
fn size_and_encoding_limits() {
    let big = "a".repeat(crate::MAX_INPUT_BYTES + 1);
    assert!(format(big.as_bytes())
        .unwrap_err()
        .message()
        .contains("too large"));
    let e: Error = format(b"a # \xff").unwrap_err();
    assert_eq!(
        e.render(b"a # \xff"),
        "1:5: parse error: invalid UTF-8 rune"
    );
    assert_eq!(
        format(b"a\xff").unwrap_err().render(b"a\xff"),
        "1:2: parse error: invalid UTF-8 rune"
    );
    assert_eq!(
        format(b"{a=\"\xff\"}").unwrap_err().render(b"{a=\"\xff\"}"),
        "1:4: parse error: invalid UTF-8 rune"
    );
}

#[test]
fn every_error_has_its_kind_and_status() {
    with_big_stack(error_kinds);
}

fn error_kinds() {
    let regex = |pattern: String| format!("{{a=~\"{}\"}}", pattern);
    let cases = [
        (b"sum(".to_vec(), ErrorKind::Syntax, 1),
        (b"a +".to_vec(), ErrorKind::Syntax, 1),
        (b"\"\\z\"".to_vec(), ErrorKind::Syntax, 1),
        (b"rate(1)".to_vec(), ErrorKind::Syntax, 1),
        (b"a\xff".to_vec(), ErrorKind::Syntax, 1),
        (regex("(".to_string()).into_bytes(), ErrorKind::Syntax, 1),
        // Go's regexp refuses these as syntax errors, whatever their message says.
        (regex(format!("(?:{}){{1000}}", "a".repeat(4000))).into_bytes(), ErrorKind::Syntax, 1),
        (regex(format!("{}a*{}", "(".repeat(999), ")".repeat(999))).into_bytes(), ErrorKind::Syntax, 1),
        (deep("(", "a", ")", 300).into_bytes(), ErrorKind::TooDeep, 2),
        (deep("sum(", "a", ")", 10_000).into_bytes(), ErrorKind::TooDeep, 2),
        (deep("", "a", "[1m:]", 300).into_bytes(), ErrorKind::TooDeep, 2),
        ("(".repeat(100_000).into_bytes(), ErrorKind::TooDeep, 2),
        ("a".repeat(crate::MAX_INPUT_BYTES + 1).into_bytes(), ErrorKind::TooLarge, 3),
    ];
    for (q, kind, status) in &cases {
        let head = String::from_utf8_lossy(&q[..q.len().min(20)]);
        let e = format(q).unwrap_err();
        assert_eq!(e.kind(), *kind, "{}: {}", head, e);
        let o = run_format(q);
        assert_eq!(o.status, *status, "{}: {}", head, o.text);
        assert_eq!(o.text, e.render(q), "{}", head);
    }
    assert_eq!(run_format(b"sum(a)").status, 0);
    // Nesting at the limit is no error; one level deeper is.
    let max = crate::parse::MAX_DEPTH;
    assert!(format(deep("(", "a", ")", max).as_bytes()).is_ok());
    let over = deep("(", "a", ")", max + 1);
    assert_eq!(format(over.as_bytes()).unwrap_err().kind(), ErrorKind::TooDeep);
    // Input at the size limit is no size error.
    let at_limit = "a".repeat(crate::MAX_INPUT_BYTES);
    assert_eq!(run_format(at_limit.as_bytes()).status, 0);
}
