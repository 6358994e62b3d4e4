//! Token expiration (docs/behaviour.md §2.3): the Pod annotation wins over the ServiceAccount
//! annotation when non-empty, the default is 3600, and the result must lie in [3600, 86400].

use crate::go_int;

pub const DEFAULT_SECONDS: i64 = 3600;
pub const MIN_SECONDS: i64 = 3600;
pub const MAX_SECONDS: i64 = 86400;

/// Which annotation the value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Pod,
    ServiceAccount,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpirationError {
    /// Go's parse error text, e.g. `strconv.ParseInt: parsing "1h": invalid syntax`.
    Syntax(Origin, String),
    OutOfRange(Origin, i64),
}

/// The expiration in seconds, from the Pod's and the ServiceAccount's annotation values. An
/// invalid ServiceAccount value is never read when the Pod supplies a non-empty one.
pub fn token_expiration(
    pod: Option<&str>,
    service_account: Option<&str>,
) -> Result<i64, ExpirationError> {
    let (origin, raw) = match (pod, service_account) {
        (Some(v), _) if !v.is_empty() => (Origin::Pod, v),
        (_, Some(v)) if !v.is_empty() => (Origin::ServiceAccount, v),
        _ => return Ok(DEFAULT_SECONDS),
    };
    let seconds = go_int::parse_int(raw, 64).map_err(|e| ExpirationError::Syntax(origin, e))?;
    if (MIN_SECONDS..=MAX_SECONDS).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(ExpirationError::OutOfRange(origin, seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExpirationError::*;
    use Origin::{Pod, ServiceAccount as Sa};

    #[test]
    fn follows_the_precedence_and_range() {
        let syntax = |o, v: &str| {
            Err(Syntax(
                o,
                format!("strconv.ParseInt: parsing \"{v}\": invalid syntax"),
            ))
        };
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            Result<i64, ExpirationError>,
        );
        let cases: &[Case] = &[
            (None, None, Ok(3600)),
            (Some(""), None, Ok(3600)),
            (Some(""), Some(""), Ok(3600)),
            (Some("7200"), None, Ok(7200)),
            (None, Some("7200"), Ok(7200)),
            (Some(""), Some("7200"), Ok(7200)),
            (Some("5000"), Some("7200"), Ok(5000)),
            (Some("5000"), Some("garbage"), Ok(5000)),
            (Some("3600"), None, Ok(3600)),
            (Some("86400"), None, Ok(86400)),
            (Some("+3600"), None, Ok(3600)),
            (Some("0086400"), None, Ok(86400)),
            (Some("3599"), None, Err(OutOfRange(Pod, 3599))),
            (Some("86401"), None, Err(OutOfRange(Pod, 86401))),
            (Some("-3600"), None, Err(OutOfRange(Pod, -3600))),
            (Some("0"), None, Err(OutOfRange(Pod, 0))),
            (None, Some("100"), Err(OutOfRange(Sa, 100))),
            (Some("1h"), None, syntax(Pod, "1h")),
            (Some(" 3600"), None, syntax(Pod, " 3600")),
            (Some("3600.5"), None, syntax(Pod, "3600.5")),
            (None, Some("1d"), syntax(Sa, "1d")),
            (Some("garbage"), Some("7200"), syntax(Pod, "garbage")),
            (
                Some("99999999999999999999"),
                None,
                Err(Syntax(
                    Pod,
                    "strconv.ParseInt: parsing \"99999999999999999999\": value out of range"
                        .to_string(),
                )),
            ),
        ];
        for (pod, sa, expected) in cases {
            assert_eq!(
                &token_expiration(*pod, *sa),
                expected,
                "pod {pod:?}, sa {sa:?}"
            );
        }
    }
}
