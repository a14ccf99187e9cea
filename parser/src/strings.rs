//! Go string rules: rune decoding, strconv-style quoting and Prometheus's unquoting.

use std::borrow::Cow;

pub const RUNE_ERROR: u32 = 0xFFFD;

/// Decodes one rune the way Go does: an invalid or truncated sequence yields
/// (RUNE_ERROR, 1). Returns None at the end of input.
pub fn decode_rune(s: &[u8]) -> Option<(u32, usize)> {
    let b0 = *s.first()? as u32;
    if b0 < 0x80 {
        return Some((b0, 1));
    }
    let cont = |i: usize| -> Option<u32> {
        match s.get(i) {
            Some(&b) if b & 0xC0 == 0x80 => Some((b & 0x3F) as u32),
            _ => None,
        }
    };
    let bad = Some((RUNE_ERROR, 1));
    if (0xC2..=0xDF).contains(&b0) {
        return match cont(1) {
            Some(c1) => Some(((b0 & 0x1F) << 6 | c1, 2)),
            None => bad,
        };
    }
    if (0xE0..=0xEF).contains(&b0) {
        let (c1, c2) = match (cont(1), cont(2)) {
            (Some(a), Some(b)) => (a, b),
            _ => return bad,
        };
        let r = (b0 & 0x0F) << 12 | c1 << 6 | c2;
        if r < 0x800 || (0xD800..=0xDFFF).contains(&r) {
            return bad;
        }
        return Some((r, 3));
    }
    if (0xF0..=0xF4).contains(&b0) {
        let (c1, c2, c3) = match (cont(1), cont(2), cont(3)) {
            (Some(a), Some(b), Some(c)) => (a, b, c),
            _ => return bad,
        };
        let r = (b0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3;
        if !(0x10000..=0x10FFFF).contains(&r) {
            return bad;
        }
        return Some((r, 4));
    }
    bad
}

/// An approximation of Go's unicode.IsPrint: false for controls, format characters,
/// separators other than ' ', surrogates, private use and noncharacters.
pub fn is_print(r: u32) -> bool {
    if r < 0x20 || (0x7F..=0xA0).contains(&r) || r == 0xAD {
        return false;
    }
    if r < 0x300 {
        return true;
    }
    !matches!(r,
        0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890..=0x891 | 0x8E2 | 0x180E | 0x1680
        | 0x2000..=0x200F | 0x2028..=0x202F | 0x205F..=0x206F | 0x3000
        | 0xD800..=0xF8FF | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD
        | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF | 0xF0000..=0x10FFFF)
        && (r & 0xFFFE) != 0xFFFE
        && !(0xFDD0..=0xFDEF).contains(&r)
}

fn push_hex(out: &mut String, prefix: &str, v: u32, digits: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str(prefix);
    for i in (0..digits).rev() {
        out.push(HEX[((v >> (4 * i)) & 0xF) as usize] as char);
    }
}

fn push_escaped_rune(out: &mut String, r: u32, quote: u32, escape_replacement_char: bool) {
    if r == quote || r == '\\' as u32 {
        out.push('\\');
        out.push(char::from_u32(r).unwrap_or('\u{FFFD}'));
        return;
    }
    if is_print(r) && !(escape_replacement_char && r == RUNE_ERROR) {
        out.push(char::from_u32(r).unwrap_or('\u{FFFD}'));
        return;
    }
    match r {
        7 => out.push_str("\\a"),
        8 => out.push_str("\\b"),
        0xC => out.push_str("\\f"),
        0xA => out.push_str("\\n"),
        0xD => out.push_str("\\r"),
        9 => out.push_str("\\t"),
        0xB => out.push_str("\\v"),
        r if r < 0x20 || r == 0x7F => push_hex(out, "\\x", r, 2),
        r if r < 0x10000 => push_hex(out, "\\u", r, 4),
        r => push_hex(out, "\\U", r, 8),
    }
}

/// Appends bytes known to be ASCII (identifiers from the lexer, plain runs of strings).
/// Anything else is written as U+FFFD, so the output stays valid UTF-8 regardless.
pub fn push_ascii(out: &mut String, s: &[u8]) {
    if s.is_ascii() {
        // SAFETY: ASCII bytes are valid UTF-8 on their own.
        unsafe { out.as_mut_vec().extend_from_slice(s) }
    } else {
        out.push_str(&String::from_utf8_lossy(s));
    }
}

/// Appends `s` as a double-quoted PromQL string that Prometheus unquotes back to exactly
/// these bytes: Go's strconv.Quote rules, except that U+FFFD is always escaped
/// (Prometheus's lexer refuses a literal one inside strings).
pub fn write_quoted(out: &mut String, s: &[u8]) {
    out.push('"');
    let mut i = 0;
    while i < s.len() {
        let plain = s[i..]
            .iter()
            .take_while(|&&b| (0x20..0x7F).contains(&b) && b != b'"' && b != b'\\')
            .count();
        if plain > 0 {
            push_ascii(out, &s[i..i + plain]);
            i += plain;
            continue;
        }
        let b = s[i];
        let (r, w) = decode_rune(&s[i..]).unwrap_or((RUNE_ERROR, 1));
        if r == RUNE_ERROR && w == 1 {
            push_hex(out, "\\x", b as u32, 2);
        } else {
            push_escaped_rune(out, r, '"' as u32, true);
        }
        i += w;
    }
    out.push('"');
}

/// Go's strconv.Quote, used for error messages.
pub fn go_quote(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut i = 0;
    while i < s.len() {
        let (r, w) = decode_rune(&s[i..]).unwrap_or((RUNE_ERROR, 1));
        if r == RUNE_ERROR && w == 1 {
            push_hex(&mut out, "\\x", s[i] as u32, 2);
        } else {
            push_escaped_rune(&mut out, r, '"' as u32, false);
        }
        i += w;
    }
    out.push('"');
    out
}

/// Go's strconv.QuoteRune (`%q` of a rune), used for error messages.
pub fn go_quote_rune(r: u32) -> String {
    let mut out = String::from("'");
    push_escaped_rune(&mut out, r, '\'' as u32, false);
    out.push('\'');
    out
}

/// Go's `%#U` of a rune: `U+0063 'c'`.
pub fn go_unicode_format(r: u32) -> String {
    let mut out = String::new();
    if r <= 0xFFFF {
        out.push_str(&format!("U+{:04X}", r));
    } else {
        out.push_str(&format!("U+{:X}", r));
    }
    if is_print(r) {
        out.push_str(" '");
        out.push(char::from_u32(r).unwrap_or('\u{FFFD}'));
        out.push('\'');
    }
    out
}

fn hex_val(b: u8) -> u32 {
    match b {
        b'0'..=b'9' => (b - b'0') as u32,
        b'a'..=b'f' => (b - b'a' + 10) as u32,
        b'A'..=b'F' => (b - b'A' + 10) as u32,
        _ => 16,
    }
}

fn push_utf8(out: &mut Vec<u8>, r: u32) {
    let c = char::from_u32(r).unwrap_or('\u{FFFD}');
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

/// The bytes a string token stands for, borrowed from the token when it has no escapes.
/// The lexer has already validated the token (quotes, escapes, code points), so this
/// cannot fail on lexer output; it returns None for malformed input all the same.
pub fn unquote(tok: &[u8]) -> Option<Cow<'_, [u8]>> {
    let n = tok.len();
    if n < 2 || tok[0] != tok[n - 1] {
        return None;
    }
    let quote = tok[0];
    let body = &tok[1..n - 1];
    if quote == b'`' {
        return if body.contains(&b'`') {
            None
        } else {
            Some(Cow::Borrowed(body))
        };
    }
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    if !body.contains(&b'\\') {
        return if body.contains(&quote) || body.contains(&b'\n') {
            None
        } else {
            Some(Cow::Borrowed(body))
        };
    }
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b == quote || b == b'\n' {
            return None;
        }
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let e = *body.get(i + 1)?;
        i += 2;
        match e {
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(0xC),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0xB),
            b'\\' => out.push(b'\\'),
            b'\'' | b'"' if e == quote => out.push(e),
            b'0'..=b'7' => {
                let d = body.get(i - 1..i + 2)?;
                let mut v = 0u32;
                for &c in d {
                    if !(b'0'..=b'7').contains(&c) {
                        return None;
                    }
                    v = v * 8 + (c - b'0') as u32;
                }
                if v > 255 {
                    return None;
                }
                out.push(v as u8);
                i += 2;
            }
            b'x' | b'u' | b'U' => {
                let digits = match e {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let d = body.get(i..i + digits)?;
                let mut v = 0u32;
                for &c in d {
                    let h = hex_val(c);
                    if h > 15 {
                        return None;
                    }
                    v = v * 16 + h;
                }
                i += digits;
                if e == b'x' {
                    out.push(v as u8);
                } else {
                    if v > 0x10FFFF || (0xD800..0xE000).contains(&v) {
                        return None;
                    }
                    push_utf8(&mut out, v);
                }
            }
            _ => return None,
        }
    }
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquote_table() {
        let cases: &[(&str, Option<&[u8]>)] = &[
            (r#""abc""#, Some(b"abc")),
            (r#"'a\'b'"#, Some(b"a'b")),
            (r#""a\"b""#, Some(b"a\"b")),
            (r#""\a\b\f\n\r\t\v\\""#, Some(b"\x07\x08\x0c\n\r\t\x0b\\")),
            (r#""\xFF\377""#, Some(b"\xff\xff")),
            (r#""\u00e4""#, Some("ä".as_bytes())),
            (r#""\U0001F600""#, Some("😀".as_bytes())),
            ("`a\\nb`", Some(b"a\\nb")),
            (r#""\ud800""#, None),
            (r#""\400""#, None),
            (r#""\'""#, None),
            (r#""\c""#, None),
        ];
        for (input, want) in cases {
            assert_eq!(unquote(input.as_bytes()).as_deref(), *want, "{}", input);
        }
    }

    #[test]
    fn quote_round_trips_every_byte() {
        let mut all: Vec<u8> = (0u8..=255).collect();
        all.extend_from_slice("ä☺\u{FFFD}\u{2028}😀".as_bytes());
        let mut q = String::new();
        write_quoted(&mut q, &all);
        assert!(q.is_ascii() || q.chars().all(|c| c != '\u{FFFD}' && c != '\n'));
        assert_eq!(unquote(q.as_bytes()).unwrap(), all);
    }

    #[test]
    fn quote_table() {
        let cases: &[(&[u8], &str)] = &[
            (b"a\"b\\c", r#""a\"b\\c""#),
            (b"\n\t\x00\x7f", r#""\n\t\x00\x7f""#),
            (b"\xff", r#""\xff""#),
            ("ä\u{FFFD}".as_bytes(), "\"ä\\ufffd\""),
            ("\u{200B}".as_bytes(), r#""\u200b""#),
        ];
        for (input, want) in cases {
            let mut q = String::new();
            write_quoted(&mut q, input);
            assert_eq!(&q, want);
        }
        assert_eq!(go_quote_rune('~' as u32), "'~'");
        assert_eq!(go_quote_rune('\'' as u32), r"'\''");
        assert_eq!(go_unicode_format('c' as u32), "U+0063 'c'");
    }
}
