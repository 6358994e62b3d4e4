//! Near misses: keys that look like a misspelling of a key the policy knows (another case or
//! separator, another or no prefix, a small typo, a shortened or lengthened name), so that a
//! message can name the typo instead of saying the key is missing.

use crate::names::PREFIX;

/// The first of `known` that `key` looks like a misspelling of; `None` for a known key.
pub fn near_miss<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    if known.contains(&key) {
        return None;
    }
    known.iter().copied().find(|target| looks_like(key, target))
}

/// Whether `key` looks like a misspelling of `target`: the same letters with other separators
/// or case (`client_id`, `Azure.Workload.Identity/Client-ID`), the right name under another or
/// no prefix (`client-id`, `azure.workload.identity.io/client-id`), a small typo (at most two
/// edits, `azure.workload.identity/clinet-id`), or, under the `azure.workload.identity/`
/// prefix, a name that starts like the target's (`skip-container`,
/// `service-account-token-expiry`).
fn looks_like(key: &str, target: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    let target_name = target.rsplit('/').next().unwrap_or(target);
    let (name, target_name) = (normalise(name), normalise(target_name));
    normalise(key) == normalise(target)
        || name == target_name
        || edit_distance(&key.to_ascii_lowercase(), target) <= 2
        || (normalise(key).starts_with(&normalise(PREFIX)) && starts_alike(&name, &target_name))
}

/// A common start of at least two thirds of `target` (and 6 characters).
fn starts_alike(name: &str, target: &str) -> bool {
    let common = name
        .bytes()
        .zip(target.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    common >= 6 && common * 3 >= target.len() * 2
}

/// Letters and digits only, lower-cased: `Client_ID` and `client-id` both become `clientid`.
fn normalise(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Levenshtein distance over characters; bounded work because annotation keys are short
/// (a key longer than the target plus 2 cannot be within 2 edits and is rejected early).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 {
        return usize::MAX;
    }
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous
                .get(j)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(usize::from(ca != cb));
            let deletion = previous
                .get(j + 1)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            let insertion = current
                .get(j)
                .copied()
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            current.push(substitution.min(deletion).min(insertion));
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{
        CLIENT_ID_ANNOTATION, SKIP_CONTAINERS_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION,
    };

    #[test]
    fn names_the_key_a_typo_was_meant_for() {
        let known = [
            CLIENT_ID_ANNOTATION,
            SKIP_CONTAINERS_ANNOTATION,
            TOKEN_EXPIRATION_ANNOTATION,
        ];
        let cases = [
            ("azure.workload.identity/client-id", None),
            (
                "azure.workload.identity/client_id",
                Some(CLIENT_ID_ANNOTATION),
            ),
            ("client-id", Some(CLIENT_ID_ANNOTATION)),
            (
                "azure.workload.identity/skip-container",
                Some(SKIP_CONTAINERS_ANNOTATION),
            ),
            (
                "azure.workload.identity/skipcontainers",
                Some(SKIP_CONTAINERS_ANNOTATION),
            ),
            (
                "azure.workload.identity/service-account-token-expiry",
                Some(TOKEN_EXPIRATION_ANNOTATION),
            ),
            ("azure.workload.identity/client", Some(CLIENT_ID_ANNOTATION)),
            ("azure.workload.identity/use", None),
            ("azure.workload.identity/tenant-id", None),
            ("azure.workload.identity/inject-proxy-sidecar", None),
            ("example.com/skip", None),
            ("example.com/service-account-token-expiry", None),
        ];
        let failures: Vec<String> = cases
            .iter()
            .filter(|(key, expected)| near_miss(key, &known) != *expected)
            .map(|(key, expected)| {
                format!(
                    "{key}: expected {expected:?}, got {:?}",
                    near_miss(key, &known)
                )
            })
            .collect();
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("abc", "abc"), 0);
        assert_eq!(edit_distance("abc", "abd"), 1);
        assert_eq!(edit_distance("abc", "ab"), 1);
        assert_eq!(edit_distance("clinet", "client"), 2);
        assert_eq!(edit_distance("a", "abcd"), usize::MAX);
    }
}
