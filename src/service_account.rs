//! The ServiceAccount lookup: the only cluster read of the policy.
//!
//! `ServiceAccountSource` is what the request flow depends on; `HostServiceAccounts` is the one
//! implementation that calls Kubewarden's `kubernetes/get_resource` host capability. Tests and
//! benchmarks substitute their own source. The adapter makes no decisions: it returns the
//! annotations, or the host's error text.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::problem::LookupProblem;

/// What the policy needs from a ServiceAccount: its annotations. Deserialising only this keeps
/// the module small and tolerates any other content of the object.
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct ServiceAccount {
    #[serde(default)]
    pub metadata: ServiceAccountMetadata,
}

#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
pub struct ServiceAccountMetadata {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub annotations: BTreeMap<String, String>,
}

fn null_as_empty<'de, D>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<BTreeMap<String, String>>::deserialize(deserializer).map(Option::unwrap_or_default)
}

impl ServiceAccount {
    /// A ServiceAccount with these annotations (for tests and examples).
    pub fn with_annotations<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        ServiceAccount {
            metadata: ServiceAccountMetadata {
                annotations: pairs
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            },
        }
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata.annotations.get(key).map(String::as_str)
    }
}

/// Where ServiceAccounts come from. The error is the reason the lookup failed, as text.
pub trait ServiceAccountSource {
    /// The ServiceAccount, possibly from the host's cache.
    fn get(&self, namespace: &str, name: &str) -> Result<ServiceAccount, String>;

    /// The ServiceAccount as the API server has it now, bypassing any cache. A source without
    /// a cache answers as `get` does.
    fn get_fresh(&self, namespace: &str, name: &str) -> Result<ServiceAccount, String> {
        self.get(namespace, name)
    }
}

/// The text of Kubewarden's host when the object does not exist.
const HOST_NOT_FOUND: &str = "Cannot find v1/ServiceAccount named";

/// Looks the ServiceAccount up (bypassing the host's cache when `fresh`), telling a missing
/// ServiceAccount from one that could not be read.
pub fn lookup(
    source: &impl ServiceAccountSource,
    namespace: &str,
    name: &str,
    fresh: bool,
) -> Result<ServiceAccount, LookupProblem> {
    let answer = match fresh {
        true => source.get_fresh(namespace, name),
        false => source.get(namespace, name),
    };
    answer.map_err(|error| match error.contains(HOST_NOT_FOUND) {
        true => LookupProblem::NotFound(error),
        false => LookupProblem::Unreadable(error),
    })
}

/// The real source: Kubewarden's `kubernetes/get_resource` host capability. The host caches
/// answers for about five seconds.
pub struct HostServiceAccounts;

impl ServiceAccountSource for HostServiceAccounts {
    fn get(&self, namespace: &str, name: &str) -> Result<ServiceAccount, String> {
        host_get(namespace, name, false)
    }

    fn get_fresh(&self, namespace: &str, name: &str) -> Result<ServiceAccount, String> {
        host_get(namespace, name, true)
    }
}

fn host_get(namespace: &str, name: &str, disable_cache: bool) -> Result<ServiceAccount, String> {
    use kubewarden_policy_sdk::host_capabilities::kubernetes::{GetResourceRequest, get_resource};
    let request = GetResourceRequest {
        api_version: "v1".to_string(),
        kind: "ServiceAccount".to_string(),
        name: name.to_string(),
        namespace: Some(namespace.to_string()),
        disable_cache,
        field_masks: None,
    };
    get_resource::<ServiceAccount>(&request).map_err(|e| e.to_string())
}
