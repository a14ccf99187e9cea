//! Number and duration literals: Go's strconv parsing rules, Prometheus's duration
//! syntax, and the textual forms Prometheus prints them in.

const NS_PER_MS: i64 = 1_000_000;
const NS_PER_S: i64 = 1_000_000_000;

/// Go's underscoreOK: underscores only between digits or after a base prefix.
fn underscores_ok(s: &[u8]) -> bool {
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(s[1] | 0x20, b'x' | b'b' | b'o') {
        hex = s[1] | 0x20 == b'x';
        i = 2;
        saw = b'0';
    }
    while i < s.len() {
        let c = s[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go's strconv.ParseInt(s, 0, 64) for unsigned lexer output.
fn parse_int(s: &[u8]) -> Option<i64> {
    if s.contains(&b'_') && !underscores_ok(s) {
        return None;
    }
    let (base, digits): (u32, &[u8]) = if s.len() > 2 && s[0] == b'0' && s[1] | 0x20 == b'x' {
        (16, &s[2..])
    } else if s.len() > 2 && s[0] == b'0' && s[1] | 0x20 == b'b' {
        (2, &s[2..])
    } else if s.len() > 2 && s[0] == b'0' && s[1] | 0x20 == b'o' {
        (8, &s[2..])
    } else if s.len() > 1 && s[0] == b'0' {
        (8, &s[1..])
    } else {
        (10, s)
    };
    let mut v: i64 = 0;
    let mut any = false;
    for &c in digits {
        if c == b'_' {
            continue;
        }
        let d = (c as char).to_digit(base)? as i64;
        v = v.checked_mul(base as i64)?.checked_add(d)?;
        any = true;
    }
    if any {
        Some(v)
    } else {
        None
    }
}

/// Parses a NUMBER token like Prometheus: integer syntax first (hex, octal), then float.
pub fn parse_number(s: &[u8]) -> Result<f64, String> {
    if let Some(v) = parse_int(s) {
        return Ok(v as f64);
    }
    let fail = |why: &str| {
        Err(format!(
            "strconv.ParseFloat: parsing {}: {}",
            crate::strings::go_quote(s),
            why
        ))
    };
    if s.eq_ignore_ascii_case(b"inf") || s.eq_ignore_ascii_case(b"infinity") {
        return Ok(f64::INFINITY);
    }
    if s.eq_ignore_ascii_case(b"nan") {
        return Ok(f64::NAN);
    }
    // What is left is decimal float syntax (hexadecimal floats need a 'p' exponent, which
    // the lexer never produces).
    if !s
        .iter()
        .all(|&c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-' | b'_'))
    {
        return fail("invalid syntax");
    }
    let text: std::borrow::Cow<str> = if s.contains(&b'_') {
        if !underscores_ok(s) {
            return fail("invalid syntax");
        }
        s.iter()
            .filter(|&&c| c != b'_')
            .map(|&c| c as char)
            .collect::<String>()
            .into()
    } else {
        // ASCII, as checked above.
        std::str::from_utf8(s).unwrap_or("").into()
    };
    match text.parse::<f64>() {
        Ok(v) if v.is_infinite() => fail("value out of range"),
        Ok(v) => Ok(v),
        Err(_) => fail("invalid syntax"),
    }
}

/// Prometheus's model.ParseDuration: units y w d h m s ms, biggest first, each at most once.
/// Returns nanoseconds.
pub fn parse_duration(s: &[u8]) -> Result<i64, String> {
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err("empty duration string".to_string());
    }
    let orig = || crate::strings::go_quote(s);
    let invalid = || format!("not a valid duration string: {}", orig());
    let mut rest = s;
    let mut total: u64 = 0;
    let mut last_unit = 0;
    while !rest.is_empty() {
        if !rest[0].is_ascii_digit() {
            return Err(invalid());
        }
        let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut v: u64 = 0;
        for &c in &rest[..n] {
            v = match v
                .checked_mul(10)
                .and_then(|v| v.checked_add((c - b'0') as u64))
            {
                Some(v) => v,
                None => return Err(invalid()),
            };
        }
        rest = &rest[n..];
        let u = rest.iter().take_while(|c| !c.is_ascii_digit()).count();
        if u == 0 {
            return Err(invalid());
        }
        let unit = &rest[..u];
        rest = &rest[u..];
        let (pos, mult): (u32, u64) = match unit {
            b"ms" => (7, 1_000_000),
            b"s" => (6, 1_000_000_000),
            b"m" => (5, 60 * 1_000_000_000),
            b"h" => (4, 3600 * 1_000_000_000),
            b"d" => (3, 86_400 * 1_000_000_000),
            b"w" => (2, 7 * 86_400 * 1_000_000_000),
            b"y" => (1, 365 * 86_400 * 1_000_000_000),
            _ => {
                return Err(format!(
                    "unknown unit {} in duration {}",
                    crate::strings::go_quote(unit),
                    orig()
                ))
            }
        };
        if pos <= last_unit {
            return Err(invalid());
        }
        last_unit = pos;
        if v > (1u64 << 63) / mult {
            return Err("duration out of range".to_string());
        }
        total += v * mult;
        if total > i64::MAX as u64 {
            return Err("duration out of range".to_string());
        }
    }
    Ok(total as i64)
}

/// Go's time.Duration.Seconds().
pub fn ns_to_seconds(ns: i64) -> f64 {
    (ns / NS_PER_S) as f64 + (ns % NS_PER_S) as f64 / 1e9
}

/// Seconds (as the parser holds them) to nanoseconds, rounded like Prometheus does.
pub fn seconds_to_ns(v: f64) -> i64 {
    let x = (v * 1e9).round();
    if x >= 9.223372036854775807e18 {
        i64::MAX
    } else if x <= -9.223372036854775808e18 {
        i64::MIN
    } else {
        x as i64
    }
}

/// Prometheus's model.Duration text of a non-negative nanosecond count, e.g. `1h30m`.
/// Durations with a sub-millisecond part, which that format would lose, are written as
/// seconds (a plain number), which PromQL accepts wherever a duration may stand.
pub fn write_duration(out: &mut String, ns: i64) {
    use std::fmt::Write;
    if ns < 0 {
        out.push('-');
        write_duration(out, ns.checked_neg().unwrap_or(i64::MAX));
        return;
    }
    if ns % NS_PER_MS != 0 {
        let secs = ns / NS_PER_S;
        let frac = ns % NS_PER_S;
        let mut f = format!("{:09}", frac);
        while f.ends_with('0') {
            f.pop();
        }
        let _ = write!(out, "{}.{}", secs, f);
        return;
    }
    let mut ms = ns / NS_PER_MS;
    if ms == 0 {
        out.push_str("0s");
        return;
    }
    let units: [(&str, i64, bool); 7] = [
        ("y", 1000 * 60 * 60 * 24 * 365, true),
        ("w", 1000 * 60 * 60 * 24 * 7, true),
        ("d", 1000 * 60 * 60 * 24, false),
        ("h", 1000 * 60 * 60, false),
        ("m", 1000 * 60, false),
        ("s", 1000, false),
        ("ms", 1, false),
    ];
    for (unit, mult, exact) in units.iter() {
        if *exact && ms % mult != 0 {
            continue;
        }
        let v = ms / mult;
        if v > 0 {
            write_uint(out, v as u64);
            out.push_str(unit);
            ms -= v * mult;
        }
    }
}

/// Decimal digits of `v`, without the formatting machinery (this is on the hot path).
pub fn write_uint(out: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(b as char);
    }
}

/// Go's strconv.FormatFloat(v, 'f', -1, 64).
pub fn write_float(out: &mut String, v: f64) {
    use std::fmt::Write;
    if v.is_nan() {
        out.push_str("NaN");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
    } else if v.fract() == 0.0 && v.abs() < 1e15 && !(v == 0.0 && v.is_sign_negative()) {
        if v < 0.0 {
            out.push('-');
        }
        write_uint(out, v.abs() as u64);
    } else {
        let _ = write!(out, "{}", v);
    }
}

/// Go's `%v` of a float64 (shortest digits, exponent form outside [1e-4, 1e6)).
pub fn write_float_g(out: &mut String, v: f64) {
    use std::fmt::Write;
    if !v.is_finite() || v == 0.0 {
        write_float(out, v);
        return;
    }
    let e = format!("{:e}", v);
    let (mant, exp) = e.split_at(e.find('e').unwrap_or(e.len()));
    let exp: i32 = exp.trim_start_matches('e').parse().unwrap_or(0);
    if exp < -4 || exp >= 6 {
        let _ = write!(
            out,
            "{}e{}{:02}",
            mant,
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        );
    } else {
        write_float(out, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let ok: &[(&str, f64)] = &[
            ("1", 1.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("5e-3", 0.005),
            ("0xc", 12.0),
            ("0755", 493.0),
            ("0999", 999.0),
            ("1_000", 1000.0),
            ("0x_1F", 31.0),
            ("Inf", f64::INFINITY),
            ("99999999999999999999", 1e20),
        ];
        for (s, want) in ok {
            assert_eq!(parse_number(s.as_bytes()), Ok(*want), "{}", s);
        }
        assert!(parse_number(b"NaN").unwrap().is_nan());
        let big = "9".repeat(400);
        assert_eq!(
            parse_number(big.as_bytes()),
            Err(format!(
                "strconv.ParseFloat: parsing \"{}\": value out of range",
                big
            ))
        );
        assert!(parse_number(b"1__0").is_err());
        assert!(parse_number(b"1e+").is_err());
    }

    #[test]
    fn durations() {
        let s = 1_000_000_000i64;
        assert_eq!(parse_duration(b"1h30m"), Ok(5400 * s));
        assert_eq!(parse_duration(b"1m30ms"), Ok(60 * s + 30_000_000));
        assert_eq!(parse_duration(b"0"), Ok(0));
        assert_eq!(
            parse_duration(b"5y1hs"),
            Err("unknown unit \"hs\" in duration \"5y1hs\"".into())
        );
        assert_eq!(
            parse_duration(b"5m1h"),
            Err("not a valid duration string: \"5m1h\"".into())
        );
        let mut out = String::new();
        for ns in [
            5400 * s,
            90 * 86400 * s,
            7 * 86400 * s,
            4 * s + 180_000_000,
            0,
            1_000_000,
        ] {
            out.clear();
            write_duration(&mut out, ns);
            assert_eq!(parse_duration(out.as_bytes()), Ok(ns), "{}", out);
        }
        out.clear();
        write_duration(&mut out, 1_555_500_000);
        assert_eq!(out, "1.5555");
        out.clear();
        write_float_g(&mut out, 1e6);
        assert_eq!(out, "1e+06");
        out.clear();
        write_float_g(&mut out, -23.0);
        assert_eq!(out, "-23");
    }
}
