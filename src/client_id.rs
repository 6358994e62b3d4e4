//! The ServiceAccount's client id (docs/behaviour.md §2.2, §3.2) and the project rule that a
//! selected Pod needs one: a missing, empty or misspelt `azure.workload.identity/client-id`
//! annotation is a rejection, and a near-miss key is named so the user sees the typo.

use crate::names::CLIENT_ID_ANNOTATION;
use crate::near_miss::near_miss;
use crate::problem::ClientIdProblem;
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
            .find(|key| near_miss(key, &[CLIENT_ID_ANNOTATION]).is_some())
            .map(|key| ClientIdProblem::NearMiss(key.clone()))
            .unwrap_or(ClientIdProblem::Missing)),
    }
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
}
