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
    // Compared as iterators, not normalised copies: the checks policy runs this on every
    // annotation key of every ServiceAccount write, and nearly every key is far from all targets.
    letters(key).eq(letters(target))
        || letters(name).eq(letters(target_name))
        || within_two_edits(key, target)
        || (starts_with_letters_of(key, PREFIX) && starts_alike(name, target_name))
}

/// Whether `key`, lower-cased, is at most two edits from `target`. A length difference of more
/// than two is rejected before anything is copied.
fn within_two_edits(key: &str, target: &str) -> bool {
    key.chars().count().abs_diff(target.chars().count()) <= 2
        && edit_distance(&key.to_ascii_lowercase(), target) <= 2
}

/// Whether the letters and digits of `s` begin with those of `prefix`.
fn starts_with_letters_of(s: &str, prefix: &str) -> bool {
    let mut letters_of_s = letters(s);
    letters(prefix).all(|p| letters_of_s.next() == Some(p))
}

/// A common start of at least two thirds of `target` (and 6 characters), in letters and digits.
fn starts_alike(name: &str, target: &str) -> bool {
    let common = letters(name)
        .zip(letters(target))
        .take_while(|(a, b)| a == b)
        .count();
    common >= 6 && common * 3 >= letters(target).count() * 2
}

/// Letters and digits only, lower-cased: `Client_ID` and `client-id` both read `clientid`.
/// Bytes suffice: every other character, multi-byte ones included, is dropped.
fn letters(s: &str) -> impl Iterator<Item = u8> + '_ {
    s.bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_lowercase())
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

    /// The definition written with normalised copies, as a reference for the iterator form.
    fn looks_like_by_copies(key: &str, target: &str) -> bool {
        fn normalise(s: &str) -> String {
            s.chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_lowercase())
                .collect()
        }
        let name = normalise(key.rsplit('/').next().unwrap_or(key));
        let target_name = normalise(target.rsplit('/').next().unwrap_or(target));
        let common = name
            .bytes()
            .zip(target_name.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        normalise(key) == normalise(target)
            || name == target_name
            || edit_distance(&key.to_ascii_lowercase(), target) <= 2
            || (normalise(key).starts_with(&normalise(PREFIX))
                && common >= 6
                && common * 3 >= target_name.len() * 2)
    }

    const TARGETS: [&str; 4] = [
        crate::names::CLIENT_ID_ANNOTATION,
        crate::names::TENANT_ID_ANNOTATION,
        crate::names::TOKEN_EXPIRATION_ANNOTATION,
        crate::names::SKIP_CONTAINERS_ANNOTATION,
    ];

    /// A target with a few edits (insert, delete or replace a character, drop the prefix, upper
    /// case), so that keys land on both sides of every condition of `looks_like`.
    fn edited_key() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let edit = (
            0..4u8,
            any::<proptest::sample::Index>(),
            proptest::sample::select(vec!['a', 'I', '-', '_', '.', '/', '0', 'é', '\u{212A}']),
        );
        (
            0..TARGETS.len(),
            proptest::collection::vec(edit, 0..5),
            any::<bool>(),
        )
            .prop_map(|(target, edits, upper)| {
                let mut key: Vec<char> = TARGETS[target].chars().collect();
                for (kind, at, c) in edits {
                    let i = at.index(key.len() + 1);
                    match kind {
                        0 => key.insert(i, c),
                        1 if i < key.len() => drop(key.remove(i)),
                        2 if i < key.len() => key[i] = c,
                        _ => key.retain(|&k| k != '/'),
                    }
                }
                let key: String = key.into_iter().collect();
                if upper { key.to_ascii_uppercase() } else { key }
            })
    }

    proptest::proptest! {
        #[test]
        fn iterator_form_agrees_with_the_copies(key in edited_key()) {
            for target in TARGETS {
                proptest::prop_assert_eq!(
                    looks_like(&key, target),
                    looks_like_by_copies(&key, target),
                    "{} against {}", key, target
                );
            }
        }
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
