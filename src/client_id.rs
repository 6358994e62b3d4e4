//! The ServiceAccount's client id (spec §2.2, §5) and the project rule that a selected Pod needs
//! one: a missing, empty or misspelt `azure.workload.identity/client-id` annotation is a
//! rejection, and a near-miss key is named so the user sees the typo.

use crate::messages::ClientIdProblem;
use crate::names::CLIENT_ID_ANNOTATION;
use crate::service_account::ServiceAccount;

/// The client id, or why there is none.
pub fn client_id(sa: &ServiceAccount) -> Result<&str, ClientIdProblem> {
    match sa.annotation(CLIENT_ID_ANNOTATION) {
        Some("") => Err(ClientIdProblem::Empty),
        Some(id) => Ok(id),
        None => Err(sa
            .metadata
            .annotations
            .keys()
            .find(|key| is_near_miss(key))
            .map(|key| ClientIdProblem::NearMiss(key.clone()))
            .unwrap_or(ClientIdProblem::Missing)),
    }
}

/// Letters and digits only, lower-cased: `Client_ID` and `client-id` both become `clientid`.
fn normalise(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether `key` looks like a misspelling of the client-id annotation: the same letters with
/// other separators or case (`client_id`, `clientId`, `Azure.Workload.Identity/Client-ID`), the
/// right name under another or no prefix (`client-id`, `azure.workload.identity.io/client-id`),
/// or a small typo (at most two edits, `azure.workload.identity/clinet-id`).
pub fn is_near_miss(key: &str) -> bool {
    if key == CLIENT_ID_ANNOTATION {
        return false;
    }
    let name = key.rsplit('/').next().unwrap_or(key);
    normalise(key) == normalise(CLIENT_ID_ANNOTATION)
        || normalise(name) == "clientid"
        || edit_distance(&key.to_ascii_lowercase(), CLIENT_ID_ANNOTATION) <= 2
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

    #[test]
    fn reads_the_client_id_or_says_why_not() {
        let near = |k: &str| Err(ClientIdProblem::NearMiss(k.to_string()));
        type Case<'a> = (&'a [(&'a str, &'a str)], Result<&'a str, ClientIdProblem>);
        let cases: &[Case] = &[
            (&[("azure.workload.identity/client-id", "abc")], Ok("abc")),
            (
                &[("azure.workload.identity/client-id", " abc ")],
                Ok(" abc "),
            ),
            (
                &[("azure.workload.identity/client-id", "")],
                Err(ClientIdProblem::Empty),
            ),
            (&[], Err(ClientIdProblem::Missing)),
            (
                &[("azure.workload.identity/tenant-id", "t")],
                Err(ClientIdProblem::Missing),
            ),
            (
                &[("example.com/owner", "me")],
                Err(ClientIdProblem::Missing),
            ),
            (
                &[("azure.workload.identity/client_id", "abc")],
                near("azure.workload.identity/client_id"),
            ),
            (
                &[("azure.workload.identity/clientId", "abc")],
                near("azure.workload.identity/clientId"),
            ),
            (
                &[("Azure.Workload.Identity/Client-ID", "abc")],
                near("Azure.Workload.Identity/Client-ID"),
            ),
            (&[("client-id", "abc")], near("client-id")),
            (
                &[("azure.workload.identity.io/client-id", "abc")],
                near("azure.workload.identity.io/client-id"),
            ),
            (
                &[("azure.workload.identity/clinet-id", "abc")],
                near("azure.workload.identity/clinet-id"),
            ),
            (
                &[("azure.workload.identity/client-id ", "abc")],
                near("azure.workload.identity/client-id "),
            ),
            (
                &[("azure.workload.identity/use", "true")],
                Err(ClientIdProblem::Missing),
            ),
        ];
        for (annotations, expected) in cases {
            let sa = ServiceAccount::with_annotations(annotations.iter().copied());
            assert_eq!(&client_id(&sa), expected, "annotations {annotations:?}");
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
