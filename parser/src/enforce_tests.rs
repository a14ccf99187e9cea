//! Test tables for enforcement: every place a vector selector can stand, values that
//! need escaping, the absent() label fix, series selectors, the matcher encoding and the
//! limit on the enforced text.

use crate::{
    decode_matchers, enforce, enforce_selector, format, matcher, parse_expr, parse_json,
    printer::Printer, run_enforce, run_enforce_selector, ErrorKind, Limits, MatchOp, Matcher, SelectorUse,
    MAX_ENFORCED_BYTES,
};

fn ns(value: &'static str) -> Vec<Matcher<'static>> {
    vec![matcher(b"namespace", MatchOp::Equal, value.as_bytes()).unwrap()]
}

fn enforced(q: &str, m: &[Matcher]) -> String {
    enforce(q.as_bytes(), m).unwrap_or_else(|e| panic!("{:?}: {}", q, e.render(q.as_bytes())))
}

/// (query, enforced with namespace="a")
const PLACES: &[(&str, &str)] = &[
    ("foo", "foo{namespace=\"a\"}"),
    ("{job=\"x\"}", "{job=\"x\",namespace=\"a\"}"),
    ("{\"my.metric\"}", "{__name__=\"my.metric\",namespace=\"a\"}"),
    ("foo{namespace=\"b\"}", "foo{namespace=\"b\",namespace=\"a\"}"),
    ("foo{namespace=\"a\"}", "foo{namespace=\"a\"}"),
    ("foo{namespace=~\"a|b\"}", "foo{namespace=~\"a|b\",namespace=\"a\"}"),
    ("rate(foo[5m])", "rate(foo{namespace=\"a\"}[5m])"),
    ("foo[5m:1m]", "foo{namespace=\"a\"}[5m:1m]"),
    ("max_over_time(rate(foo[1m])[1h:5m] offset 1d)", "max_over_time(rate(foo{namespace=\"a\"}[1m])[1h:5m] offset 1d)"),
    ("foo offset 5m", "foo{namespace=\"a\"} offset 5m"),
    ("foo @ 100", "foo{namespace=\"a\"} @ 100.000"),
    ("foo[5m] @ start() offset 1m", "foo{namespace=\"a\"}[5m] @ start() offset 1m"),
    ("foo[5m] smoothed", "foo{namespace=\"a\"}[5m] smoothed"),
    ("-foo", "-foo{namespace=\"a\"}"),
    ("(foo)", "(foo{namespace=\"a\"})"),
    ("foo + bar * baz", "foo{namespace=\"a\"} + bar{namespace=\"a\"} * baz{namespace=\"a\"}"),
    ("foo / on(x) group_left(y) bar", "foo{namespace=\"a\"} / on (x) group_left (y) bar{namespace=\"a\"}"),
    ("foo and bar or baz unless qux", "foo{namespace=\"a\"} and bar{namespace=\"a\"} or baz{namespace=\"a\"} unless qux{namespace=\"a\"}"),
    ("sum by (x) (foo)", "sum by (x) (foo{namespace=\"a\"})"),
    ("topk(scalar(bar), foo)", "topk(scalar(bar{namespace=\"a\"}), foo{namespace=\"a\"})"),
    ("quantile(scalar(min(q)), foo)", "quantile(scalar(min(q{namespace=\"a\"})), foo{namespace=\"a\"})"),
    ("count_values(\"v\", foo)", "count_values(\"v\", foo{namespace=\"a\"})"),
    ("histogram_quantile(0.9, sum by (le) (rate(h_bucket[5m])))", "histogram_quantile(0.9, sum by (le) (rate(h_bucket{namespace=\"a\"}[5m])))"),
    ("label_replace(foo, \"a\", \"b\", \"c\", \"d\")", "label_replace(foo{namespace=\"a\"}, \"a\", \"b\", \"c\", \"d\")"),
    ("info(foo, {k8s_cluster=~\".+\"})", "info(foo{namespace=\"a\"}, {k8s_cluster=~\".+\",namespace=\"a\"})"),
    ("future_function(foo, bar[5m])", "future_function(foo{namespace=\"a\"}, bar{namespace=\"a\"}[5m])"),
    ("clamp(foo, scalar(bar), 1)", "clamp(foo{namespace=\"a\"}, scalar(bar{namespace=\"a\"}), 1)"),
    ("foo[step()] offset -(5m)", "foo{namespace=\"a\"}[step()] offset -(5m)"),
    ("vector(1) + time()", "vector(1) + time()"),
    ("sum", "sum{namespace=\"a\"}"),
    ("a # comment\n", "a{namespace=\"a\"}"),
];

#[test]
fn every_selector_gets_the_matchers() {
    let m = ns("a");
    for (q, want) in PLACES {
        let got = enforced(q, &m);
        assert_eq!(
            parse_json(got.as_bytes()).unwrap(),
            parse_json(want.as_bytes()).unwrap(),
            "{:?} -> {:?}",
            q,
            got
        );
        assert_eq!(&got, want, "{:?}", q);
    }
}

#[test]
fn several_matchers_all_types_no_duplicates() {
    let m = vec![
        matcher(b"namespace", MatchOp::Regex, b"a|b").unwrap(),
        matcher(b"team", MatchOp::NotEqual, b"x").unwrap(),
        matcher(b"env", MatchOp::NotRegex, b"dev.*").unwrap(),
        matcher(b"team", MatchOp::NotEqual, b"x").unwrap(),
    ];
    assert_eq!(
        enforced("foo{team!=\"x\"}", &m),
        "foo{env!~\"dev.*\",namespace=~\"a|b\",team!=\"x\"}"
    );
    assert_eq!(enforced("foo", &[]), "foo");
}

#[test]
fn values_are_escaped_to_read_back_exactly() {
    let values: &[&[u8]] = &[
        b"a\"b",
        b"a\\b",
        b"line\nbreak",
        b"\x00\x01",
        "ä☺\u{FFFD}\u{2028}".as_bytes(),
        b"`'$",
    ];
    for v in values {
        let m = vec![matcher(b"namespace", MatchOp::Equal, v).unwrap()];
        let out = enforced("foo", &m);
        let json = parse_json(out.as_bytes()).unwrap();
        let again = enforced(&out, &m);
        assert_eq!(
            parse_json(again.as_bytes()).unwrap(),
            json,
            "{:?} is appended once: {}",
            v,
            again
        );
    }
    // A quoted regex (Go's regexp.QuoteMeta) stays a literal match.
    let m = vec![matcher(b"namespace", MatchOp::Regex, br"a\.b\|c").unwrap()];
    assert_eq!(enforced("foo", &m), r#"foo{namespace=~"a\\.b\\|c"}"#);
    let m = vec![matcher("nämespace".as_bytes(), MatchOp::Equal, b"x").unwrap()];
    assert_eq!(enforced("foo", &m), "foo{\"nämespace\"=\"x\"}");
}

#[test]
fn info_without_a_data_label_selector_is_refused() {
    let e = enforce(b"sum(info(rate(foo[5m])))", &ns("a")).unwrap_err();
    assert_eq!(e.pos(), Some(4));
    assert!(e.message().contains("data-label selector"), "{}", e);
    assert_eq!(enforced("info(rate(foo[5m]))", &[]), "info(rate(foo[5m]))");
    assert!(format(b"info(rate(foo[5m]))").is_ok());
}

#[test]
fn the_empty_matcher_check_runs_before_injection() {
    for q in [
        "{job=~\".*\"}",
        "{}",
        "rate({job=\"\"}[5m])",
        "sum(foo) + {x!~\".+\"}",
    ] {
        let e = enforce(q.as_bytes(), &ns("a")).unwrap_err();
        assert!(
            e.message().contains("at least one non-empty matcher"),
            "{}: {}",
            q,
            e
        );
    }
}

#[test]
fn absent_keeps_the_labels_the_caller_would_see() {
    let cases: &[(&str, &str)] = &[
        ("absent(foo)", "label_replace(absent(foo{namespace=\"a\"}), \"namespace\", \"\", \"namespace\", \"(?s:.*)\")"),
        ("absent(foo{namespace=\"a\"})", "absent(foo{namespace=\"a\"})"),
        (
            "absent(foo{namespace=\"b\",job=\"j\"})",
            "label_replace(absent(foo{job=\"j\",namespace=\"b\",namespace=\"a\"}), \"namespace\", \"b\", \"namespace\", \"(?s:.*)\")",
        ),
        (
            "absent_over_time(foo{namespace=\"$1\"}[5m])",
            "label_replace(absent_over_time(foo{namespace=\"$1\",namespace=\"a\"}[5m]), \"namespace\", \"$$1\", \"namespace\", \"(?s:.*)\")",
        ),
        ("absent(sum(foo))", "absent(sum(foo{namespace=\"a\"}))"),
        (
            "absent(nonexistent{namespace!=\"x\"})",
            "label_replace(absent(nonexistent{namespace!=\"x\",namespace=\"a\"}), \"namespace\", \"\", \"namespace\", \"(?s:.*)\")",
        ),
        (
            "absent(foo{namespace=\"a\",namespace!=\"b\"})",
            "absent(foo{namespace=\"a\",namespace!=\"b\"})",
        ),
    ];
    for (q, want) in cases {
        assert_eq!(&enforced(q, &ns("a")), want, "{:?}", q);
    }
    let regex = vec![matcher(b"namespace", MatchOp::Regex, b"a|b").unwrap()];
    assert_eq!(
        enforced("absent(foo)", &regex),
        "absent(foo{namespace=~\"a|b\"})"
    );
}

/// (selector, enforced with namespace="a" for the API endpoints and for /federate)
const SERIES_SELECTORS: &[(&str, &str)] = &[
    ("foo", "foo{namespace=\"a\"}"),
    ("foo{job=\"x\"}", "foo{job=\"x\",namespace=\"a\"}"),
    ("foo{}", "foo{namespace=\"a\"}"),
    (
        "{__name__=~\"foo.*\"}",
        "{__name__=~\"foo.*\",namespace=\"a\"}",
    ),
    (
        "{\"my.metric\", \"a.b\"=\"c\"}",
        "{\"a.b\"=\"c\",__name__=\"my.metric\",namespace=\"a\"}",
    ),
    ("  foo # comment", "foo{namespace=\"a\"}"),
    ("{job!=\"\"}", "{job!=\"\",namespace=\"a\"}"),
    (
        "{job=~\".*\",app=\"x\"}",
        "{app=\"x\",job=~\".*\",namespace=\"a\"}",
    ),
    // Prometheus's selector parser does not refuse a second metric name: it selects nothing.
    (
        "foo{__name__=\"bar\"}",
        "foo{__name__=\"bar\",namespace=\"a\"}",
    ),
    (
        "{__name__=\"foo\",__name__=\"bar\"}",
        "{__name__=\"foo\",__name__=\"bar\",namespace=\"a\"}",
    ),
];

/// Selectors whose matchers all match the empty string: the API endpoints refuse them,
/// /federate selects with them (enforced with namespace="a").
const EMPTY_MATCHING_SELECTORS: &[(&str, &str)] = &[
    ("{job=~\".*\"}", "{job=~\".*\",namespace=\"a\"}"),
    ("{__name__=~\".*\"}", "{__name__=~\".*\",namespace=\"a\"}"),
    ("{a=\"\"}", "{a=\"\",namespace=\"a\"}"),
    (
        "{a!~\".+\",b=~\"x|\"}",
        "{a!~\".+\",b=~\"x|\",namespace=\"a\"}",
    ),
    ("{namespace=~\".*\"}", "{namespace=~\".*\",namespace=\"a\"}"),
];

/// Not a series selector, or not valid: refused for every endpoint.
const NOT_SERIES_SELECTORS: &[&str] = &[
    "rate(foo[5m])",
    "foo[5m]",
    "foo offset 5m",
    "foo @ 1",
    "(foo)",
    "-foo",
    "1",
    "sum(foo)",
    "foo + bar",
    "",
    "foo{",
    "foo bar",
    "{job=~\"(\"}",
];

fn selector_for(q: &str, m: &[Matcher], endpoint: SelectorUse) -> Result<String, String> {
    enforce_selector(q.as_bytes(), m, endpoint).map_err(|e| e.render(q.as_bytes()))
}

#[test]
fn series_selectors() {
    let m = ns("a");
    for &endpoint in &[SelectorUse::Api, SelectorUse::Federate] {
        for &(q, want) in SERIES_SELECTORS {
            assert_eq!(
                selector_for(q, &m, endpoint).as_deref(),
                Ok(want),
                "{:?} {:?}",
                endpoint,
                q
            );
            let canonical = selector_for(q, &[], endpoint).unwrap();
            assert_eq!(
                selector_for(&canonical, &m, endpoint).as_deref(),
                Ok(want),
                "{:?}",
                canonical
            );
        }
        for &q in NOT_SERIES_SELECTORS {
            for extra in [&m[..], &[]] {
                assert!(
                    selector_for(q, extra, endpoint).is_err(),
                    "{:?} {:?}",
                    endpoint,
                    q
                );
            }
        }
    }
}

#[test]
fn empty_matching_selectors_follow_the_endpoint() {
    const REFUSED: &str = "match[] must contain at least one non-empty matcher";
    let m = ns("a");
    // Checked as written, so refused as a Prometheus holding only the tenant's series refuses it.
    for &(q, _) in EMPTY_MATCHING_SELECTORS.iter().chain([("{}", "")].iter()) {
        for extra in [&m[..], &[]] {
            assert_eq!(
                selector_for(q, extra, SelectorUse::Api),
                Err(REFUSED.to_string()),
                "{:?}",
                q
            );
        }
    }
    for &(q, want) in EMPTY_MATCHING_SELECTORS {
        assert_eq!(
            selector_for(q, &m, SelectorUse::Federate).as_deref(),
            Ok(want),
            "{:?}",
            q
        );
        let canonical = selector_for(q, &[], SelectorUse::Federate).unwrap();
        assert_eq!(
            selector_for(&canonical, &[], SelectorUse::Api),
            Err(REFUSED.to_string())
        );
    }
    // {} selects nothing on /federate: passed on as it is, refused where the tenant's
    // matchers would make it select all of their series.
    assert_eq!(
        selector_for(" { } ", &[], SelectorUse::Federate).as_deref(),
        Ok("{}")
    );
    assert_eq!(
        selector_for("{}", &m, SelectorUse::Federate),
        Err("match[] must contain at least one matcher: {} selects no series".to_string())
    );
    // Matchers that all match the empty string, added to a selector of the same kind.
    let not_b = vec![matcher(b"namespace", MatchOp::NotEqual, b"b").unwrap()];
    assert_eq!(
        selector_for("{job=~\".*\"}", &not_b, SelectorUse::Api),
        Err(REFUSED.to_string())
    );
    assert_eq!(
        selector_for("{job=~\".*\"}", &not_b, SelectorUse::Federate).as_deref(),
        Ok("{job=~\".*\",namespace!=\"b\"}")
    );
    assert_eq!(
        selector_for("{job=\"x\"}", &not_b, SelectorUse::Api).as_deref(),
        Ok("{job=\"x\",namespace!=\"b\"}")
    );
}

#[test]
fn tenant_matchers_are_validated() {
    assert!(matcher(b"", MatchOp::Equal, b"x").is_err());
    assert!(matcher(b"namespace", MatchOp::Regex, b"(")
        .unwrap_err()
        .message()
        .contains("missing closing )"));
    assert!(matcher(b"namespace", MatchOp::Equal, b"\xff").is_err());
}

#[test]
fn matcher_encoding() {
    let mut buf = vec![0u8];
    buf.extend_from_slice(&9u32.to_le_bytes());
    buf.extend_from_slice(b"namespace");
    buf.extend_from_slice(&1u32.to_le_bytes());
    buf.extend_from_slice(b"a");
    buf.push(3);
    buf.extend_from_slice(&3u32.to_le_bytes());
    buf.extend_from_slice(b"env");
    buf.extend_from_slice(&0u32.to_le_bytes());
    let ms = decode_matchers(&buf).unwrap();
    assert_eq!(enforced("foo", &ms), "foo{env!~\"\",namespace=\"a\"}");
    assert!(decode_matchers(&buf[..buf.len() - 1]).is_err(), "truncated");
    assert!(
        decode_matchers(&[4, 0, 0, 0, 0, 0, 0, 0, 0]).is_err(),
        "unknown type"
    );
    assert!(
        decode_matchers(&[0, 255, 255, 255, 255]).is_err(),
        "length past the end"
    );
    assert!(decode_matchers(&[]).unwrap().is_empty());
}

#[test]
fn abi_outcomes() {
    let o = crate::run_format(b"foo +");
    assert_eq!((o.status, o.line, o.column), (1, 1, 6));
    assert_eq!(o.text, "1:6: parse error: unexpected end of input");
    let o = crate::run_enforce(b"foo", &[9], crate::Limits::NONE);
    assert_eq!((o.status, o.line, o.column), (1, 0, 0));
    let o = crate::run_parse(b"1");
    assert_eq!(o.status, 0);
    assert!(format(b"foo").is_ok());
}

#[test]
fn cost_stays_linear_in_long_label_lists() {
    let labels: Vec<String> = (0..20_000).map(|i| format!("l{}", i)).collect();
    let q = format!(
        "absent(foo{{{}}})",
        labels
            .iter()
            .map(|l| format!("{}=\"x\"", l))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert!(enforced(&q, &ns("a")).starts_with("label_replace(absent(foo{"));
    let q = format!(
        "a * on({}) group_left({}) b",
        labels.join(","),
        labels
            .iter()
            .map(|l| format!("g{}", l))
            .collect::<Vec<_>>()
            .join(",")
    );
    assert!(format(q.as_bytes()).is_ok());
}

const TOO_LARGE: &str = "query too large once enforced: over 16777216 bytes";

/// 40 namespaces as one regex of 799 bytes, `tenant-namespace-00|…|tenant-namespace-39`.
fn forty_namespaces() -> String {
    let names: Vec<String> = (0..40)
        .map(|i| format!("tenant-namespace-{:02}", i))
        .collect();
    names.join("|")
}

#[test]
fn enforced_text_over_the_limit_is_refused() {
    // 512 Ki one-letter selectors: 409 MiB once each holds the 799-byte matcher.
    let q = vec!["a"; 512 * 1024].join("+");
    let namespaces = forty_namespaces();
    let m = [matcher(b"namespace", MatchOp::Regex, namespaces.as_bytes()).unwrap()];
    let e = enforce(q.as_bytes(), &m).unwrap_err();
    assert_eq!(e.render(q.as_bytes()), TOO_LARGE);
    assert_eq!(
        e.line_col(q.as_bytes()),
        None,
        "about the whole text, not a place in it"
    );
    assert_eq!(
        enforced(&q, &ns("a")).len(),
        512 * 1024 * 19 - 3,
        "under the limit"
    );
    assert_eq!(
        format(q.as_bytes()).unwrap(),
        vec!["a"; 512 * 1024].join(" + "),
        "format has no such limit"
    );
}

#[test]
fn the_limit_is_on_the_whole_text_and_inclusive() {
    // Many selectors, the last one with a long name, so that the limit falls on its last byte.
    let head = vec!["a"; 100_000].join(" + ");
    let with_name = |n: usize| format!("{} + {}", head, "b".repeat(n));
    let short = enforced(&with_name(1), &ns("a")).len();
    let exact = with_name(1 + MAX_ENFORCED_BYTES - short);
    assert_eq!(enforced(&exact, &ns("a")).len(), MAX_ENFORCED_BYTES);
    let over = with_name(2 + MAX_ENFORCED_BYTES - short);
    let e = enforce(over.as_bytes(), &ns("a")).unwrap_err();
    assert_eq!(e.render(over.as_bytes()), TOO_LARGE);
}

#[test]
fn selectors_have_the_same_limit_on_both_endpoints() {
    let suffix = "{namespace=\"a\"}".len();
    for endpoint in [SelectorUse::Api, SelectorUse::Federate] {
        let exact = "a".repeat(MAX_ENFORCED_BYTES - suffix);
        let got = enforce_selector(exact.as_bytes(), &ns("a"), endpoint).unwrap();
        assert_eq!(got.len(), MAX_ENFORCED_BYTES);
        let over = "a".repeat(MAX_ENFORCED_BYTES - suffix + 1);
        let e = enforce_selector(over.as_bytes(), &ns("a"), endpoint).unwrap_err();
        assert_eq!(e.render(over.as_bytes()), TOO_LARGE);
    }
}

#[test]
fn printing_stops_once_past_the_limit() {
    let m = ns("a");
    for (q, printed) in [
        ("a + b + c", "a{namespace=\"a\"} + b{namespace=\"a\"}"),
        ("f(a, b, c)", "f(a{namespace=\"a\"}, b{namespace=\"a\"})"),
        ("a + sum(b) + c", "a{namespace=\"a\"} + sum()"),
    ] {
        let e = parse_expr(q.as_bytes()).unwrap();
        let mut p = Printer::new(0, &m, 20);
        p.expr(&e);
        assert!(p.over_limit(), "{}", q);
        assert_eq!(p.into_string(), printed, "{}", q);
    }
}

/// The ABI's record of one matcher (see `decode_matchers`).
fn record(op: u8, name: &str, value: &str) -> Vec<u8> {
    let mut out = vec![op];
    out.extend_from_slice(&(name.len() as u32).to_le_bytes());
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    out.extend_from_slice(value.as_bytes());
    out
}

#[test]
fn enforcement_errors_have_their_kind_and_status() {
    let namespaces = forty_namespaces();
    let m = [matcher(b"namespace", MatchOp::Regex, namespaces.as_bytes()).unwrap()];
    let q = vec!["a"; 512 * 1024].join("+");
    let e = enforce(q.as_bytes(), &m).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    let tenant = record(2, "namespace", &namespaces);
    let o = run_enforce(q.as_bytes(), &tenant, Limits::NONE);
    assert_eq!((o.status, o.text.as_str(), o.line, o.column), (3, TOO_LARGE, 0, 0));

    let over = "a".repeat(MAX_ENFORCED_BYTES);
    let e = enforce_selector(over.as_bytes(), &ns("a"), SelectorUse::Api).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    let o = run_enforce_selector(over.as_bytes(), &record(0, "namespace", "a"), SelectorUse::Federate);
    assert_eq!((o.status, o.text.as_str()), (3, TOO_LARGE));
    let o = run_enforce_selector(b"sum(a)", &record(0, "namespace", "a"), SelectorUse::Api);
    assert_eq!(o.status, 1, "{}", o.text);
    let o = run_enforce_selector(over[..1000].as_bytes(), &record(0, "namespace", "a"), SelectorUse::Api);
    assert_eq!(o.status, 0, "{}", o.text);

    // Refused matchers and their encoding are syntax errors.
    assert_eq!(matcher(b"", MatchOp::Equal, b"a").unwrap_err().kind(), ErrorKind::Syntax);
    assert_eq!(matcher(b"a", MatchOp::Regex, b"(").unwrap_err().kind(), ErrorKind::Syntax);
    for bad in [record(2, "namespace", "("), record(9, "namespace", "a"), vec![0, 1]] {
        let o = run_enforce(b"a", &bad, Limits::NONE);
        assert_eq!(o.status, 1, "{}", o.text);
    }
    assert_eq!(run_enforce(b"a", &record(0, "namespace", "a"), Limits::NONE).status, 0);

    // A query over a complexity limit is status 4, without a position; one under it
    // reports its measures.
    let limits = Limits { max_nodes: 0, max_cost: 100 };
    let o = run_enforce(b"a+a+a+a+a+a+a+a+a+a+a", &record(0, "namespace", "a"), limits);
    assert_eq!((o.status, o.line, o.column), (4, 0, 0), "{}", o.text);
    let o = run_enforce(b"rate(a[5m])+a+a", &record(0, "namespace", "a"), limits);
    assert_eq!(o.status, 0, "{}", o.text);
    assert_eq!((o.measures.nodes, o.measures.cost, o.measures.lookback_ms), (7, 8, 300_000.0));
}
