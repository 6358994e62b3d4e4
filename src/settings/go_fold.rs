//! Go's case rules, for comparing a user's text with an ASCII name the way upstream does:
//! `strings.EqualFold`, `strings.ToLower`, `strings.ToUpper`, and the case-insensitive field
//! names of `encoding/json`.
//!
//! Go maps case with the Unicode *simple* mappings (one rune to one rune). Where the other side
//! of a comparison is ASCII, or the result is checked against ASCII-only rules (a qualified
//! name), only the non-ASCII runes that Go maps onto an ASCII letter can change the outcome.
//! Go's tables (`unicode.CaseRanges` and the fold orbits in `caseOrbit`) have exactly four:
//!
//! | rune | `ToLower` | `ToUpper` | folds with |
//! | --- | --- | --- | --- |
//! | U+0130 LATIN CAPITAL LETTER I WITH DOT ABOVE | `i` | itself | itself only |
//! | U+0131 LATIN SMALL LETTER DOTLESS I | itself | `I` | itself only |
//! | U+017F LATIN SMALL LETTER LONG S | itself | `S` | `s`, `S` |
//! | U+212A KELVIN SIGN | `k` | itself | `k`, `K` |
//!
//! Every other non-ASCII rune maps to a non-ASCII rune, which equals no ASCII one; leaving it as
//! it is therefore gives Go's answer for these comparisons without any Unicode table.

/// Go's `unicode.ToLower`, exact wherever the result is compared with ASCII.
fn lower(c: char) -> char {
    match c {
        '\u{0130}' => 'i',
        '\u{212A}' => 'k',
        c => c.to_ascii_lowercase(),
    }
}

/// Go's `unicode.ToUpper`, exact wherever the result is compared with ASCII.
fn upper(c: char) -> char {
    match c {
        '\u{0131}' => 'I',
        '\u{017F}' => 'S',
        c => c.to_ascii_uppercase(),
    }
}

/// A representative of `c`'s simple fold orbit, exact for orbits that hold an ASCII letter.
fn fold(c: char) -> char {
    match c {
        '\u{017F}' => 's',
        '\u{212A}' => 'k',
        c => c.to_ascii_lowercase(),
    }
}

/// `strings.ToLower(s)`, exact wherever the result is compared with ASCII.
pub fn to_lower(s: &str) -> String {
    s.chars().map(lower).collect()
}

/// `strings.ToUpper(s)`, exact wherever the result is compared with ASCII.
pub fn to_upper(s: &str) -> String {
    s.chars().map(upper).collect()
}

/// `strings.EqualFold(s, ascii)` for an ASCII `ascii`.
pub fn equal_fold(s: &str, ascii: &str) -> bool {
    s.chars().count() == ascii.len()
        && s.chars()
            .zip(ascii.chars())
            .all(|(a, b)| fold(a) == fold(b))
}

/// Whether `encoding/json` decodes the key `key` into the field named `field` (ASCII): the exact
/// name, else the same name once each rune is folded as the decoder folds names (ASCII letters
/// upper-cased, any other rune to `ToUpper(ToLower(r))`, which also lets U+0130 and U+0131
/// stand for `i`).
pub fn json_name_matches(key: &str, field: &str) -> bool {
    key == field
        || (key.chars().count() == field.len()
            && key
                .chars()
                .zip(field.chars())
                .all(|(k, f)| upper(lower(k)) == f.to_ascii_uppercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_the_four_runes_as_go_does() {
        assert_eq!(
            to_lower("\u{212A}ELVIN \u{0130}D \u{0131} \u{017F}"),
            "kelvin id \u{0131} \u{017F}"
        );
        assert_eq!(
            to_upper("\u{212A} \u{0130} \u{0131}d \u{017F}s"),
            "\u{212A} \u{0130} ID SS"
        );
        // Other non-ASCII runes stay non-ASCII, as in Go.
        assert_eq!(to_lower("É"), "É");
        assert_eq!(to_upper("é"), "é");
    }

    #[test]
    fn equal_folds_as_go_does() {
        let cases = [
            ("api://AzureADTokenExchange", true),
            ("API://AZUREADTOKENEXCHANGE", true),
            ("api://azureadto\u{212A}enexchange", true),
            ("api://azureadto\u{212A}en\u{0415}xchange", false),
            ("api://azureadtokenexchange ", false),
            ("api://azureadtokenexchang", false),
        ];
        for (s, expected) in cases {
            assert_eq!(equal_fold(s, "api://AzureADTokenExchange"), expected, "{s}");
        }
        assert!(equal_fold("\u{017F}", "S"));
        assert!(equal_fold("\u{017F}", "s"));
        // U+0130 and U+0131 fold only with themselves.
        assert!(!equal_fold("\u{0130}", "i"));
        assert!(!equal_fold("\u{0131}", "I"));
        assert!(!equal_fold("\u{0131}", "i"));
        assert!(equal_fold("TRUE", "true"));
        assert!(!equal_fold("tru", "true"));
    }

    #[test]
    fn matches_json_field_names_as_go_does() {
        let cases = [
            ("matchExpressions", true),
            ("MATCHEXPRESSIONS", true),
            ("matchExpre\u{017F}\u{017F}\u{0131}ons", true),
            ("matchExpress\u{0130}ons", true),
            ("matchExpression", false),
            ("match_expressions", false),
            ("matchExpressi\u{00F6}ns", false),
        ];
        for (key, expected) in cases {
            assert_eq!(
                json_name_matches(key, "matchExpressions"),
                expected,
                "{key}"
            );
        }
        assert!(json_name_matches("\u{212A}EY", "key"));
    }
}
