//! Integer parsing with the exact rules of Go's `strconv.ParseInt(s, 10, bits)`, which upstream
//! uses for the token expiration and the proxy port: an optional `+` or `-`, then ASCII digits
//! only (leading zeros allowed); no whitespace, no unit, no decimals; empty is a syntax error.
//! The error text is Go's, so messages match upstream.

/// Parses `s` as a signed base-10 integer of `bits` bits (32 or 64).
pub fn parse_int(s: &str, bits: u32) -> Result<i64, String> {
    let syntax = || format!("strconv.ParseInt: parsing {}: invalid syntax", go_quote(s));
    let range = || {
        format!(
            "strconv.ParseInt: parsing {}: value out of range",
            go_quote(s)
        )
    };

    let (negative, digits) = match (s.strip_prefix('+'), s.strip_prefix('-')) {
        (Some(rest), _) => (false, rest),
        (_, Some(rest)) => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(syntax());
    }
    // Go scans as an unsigned integer of `bits` bits and reports the first problem it meets,
    // left to right: a bad character is a syntax error, an overflow a range error. The sign is
    // checked afterwards.
    let bits = bits.clamp(1, 64);
    let max_unsigned = u64::MAX >> (64 - bits);
    let mut n: u64 = 0;
    for c in digits.bytes() {
        if !c.is_ascii_digit() {
            return Err(syntax());
        }
        n = match n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(c - b'0')))
        {
            Some(n) if n <= max_unsigned => n,
            _ => return Err(range()),
        };
    }
    let cutoff = 1u64 << (bits - 1);
    let value = i128::from(n);
    match negative {
        false if n >= cutoff => Err(range()),
        true if n > cutoff => Err(range()),
        false => i64::try_from(value).map_err(|_| range()),
        true => i64::try_from(-value).map_err(|_| range()),
    }
}

/// Go's `strconv.Quote` for the characters that occur in annotation values.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_go_parse_int_64() {
        let syntax = |s: &str| {
            Err(format!(
                "strconv.ParseInt: parsing {}: invalid syntax",
                go_quote(s)
            ))
        };
        let range = |s: &str| {
            Err(format!(
                "strconv.ParseInt: parsing {}: value out of range",
                go_quote(s)
            ))
        };
        let cases: &[(&str, Result<i64, String>)] = &[
            ("3600", Ok(3600)),
            ("+3600", Ok(3600)),
            ("-3600", Ok(-3600)),
            ("0003600", Ok(3600)),
            ("0", Ok(0)),
            ("-0", Ok(0)),
            ("9223372036854775807", Ok(i64::MAX)),
            ("-9223372036854775808", Ok(i64::MIN)),
            ("9223372036854775808", range("9223372036854775808")),
            ("-9223372036854775809", range("-9223372036854775809")),
            ("99999999999999999999x", range("99999999999999999999x")),
            ("10000000000000000000x", syntax("10000000000000000000x")),
            ("10000000000000000000", range("10000000000000000000")),
            ("", syntax("")),
            ("+", syntax("+")),
            ("-", syntax("-")),
            ("++1", syntax("++1")),
            (" 3600", syntax(" 3600")),
            ("3600 ", syntax("3600 ")),
            ("1h", syntax("1h")),
            ("3600s", syntax("3600s")),
            ("3600.0", syntax("3600.0")),
            ("1e4", syntax("1e4")),
            ("3_600", syntax("3_600")),
            ("0x10", syntax("0x10")),
            ("٣٦٠٠", syntax("٣٦٠٠")),
        ];
        for (input, expected) in cases {
            assert_eq!(&parse_int(input, 64), expected, "input {input:?}");
        }
    }

    #[test]
    fn parses_like_go_parse_int_32() {
        assert_eq!(parse_int("2147483647", 32), Ok(2147483647));
        assert_eq!(parse_int("-2147483648", 32), Ok(-2147483648));
        assert_eq!(
            parse_int("2147483648", 32),
            Err("strconv.ParseInt: parsing \"2147483648\": value out of range".to_string())
        );
        assert_eq!(parse_int("65536", 32), Ok(65536));
        assert_eq!(parse_int("-1", 32), Ok(-1));
    }

    #[test]
    fn quotes_like_go() {
        let cases = [
            ("1h", "\"1h\""),
            ("a\"b", "\"a\\\"b\""),
            ("a\\b", "\"a\\\\b\""),
            ("\n\t", "\"\\n\\t\""),
            ("\u{1}", "\"\\x01\""),
            ("é", "\"é\""),
        ];
        for (input, expected) in cases {
            assert_eq!(go_quote(input), expected, "input {input:?}");
        }
    }
}
