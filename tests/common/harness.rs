//! The fake cluster, the `validate` payload and the description of decisions: the base of every
//! other file of `tests/common/`.
//!
//! Standalone on purpose: it uses nothing of `tests/common/` (no `super::`, no `crate::`), so the
//! fuzz targets can include it by path beside the oracle (`fuzz/fuzz_targets/*.rs`).

use std::cell::RefCell;

use azure_workload_identity_policy::Rejection;
use azure_workload_identity_policy::{Decision, ServiceAccount, ServiceAccountSource};
use serde_json::{Value, json};

/// An in-memory cluster: serves ServiceAccounts by `namespace/name` (or one ServiceAccount for
/// every lookup) and records every lookup, with whether it bypassed the host's cache
/// (`get_fresh`). Anything it does not serve is answered with the real host's not-found text. The
/// cached read (`get`) and the fresh one answer alike unless [`FakeCluster::cached`] says what
/// the cache still has.
#[derive(Default)]
pub struct FakeCluster {
    answers: Vec<(String, String, Result<ServiceAccount, String>)>,
    /// The answers of the cached read that differ from the fresh one, as after a change the
    /// host's cache has not seen yet.
    cached: Vec<(String, String, Result<ServiceAccount, String>)>,
    /// The answer to a lookup no entry of `answers` matches; `None`: not found.
    every_lookup: Option<ServiceAccount>,
    /// Every lookup as (namespace, name, fresh).
    reads: RefCell<Vec<(String, String, bool)>>,
}

/// The error text of Kubewarden's `kubernetes/get_resource` for a missing object.
pub fn not_found(namespace: &str, name: &str) -> String {
    format!(
        "Cannot find v1/ServiceAccount named '{name}' inside of namespace 'Some(\"{namespace}\")'"
    )
}

impl FakeCluster {
    /// Finds no ServiceAccount.
    pub fn empty() -> Self {
        FakeCluster::default()
    }

    /// Serves these ServiceAccount objects (as the host returns them) under their own
    /// `metadata.namespace/name`.
    pub fn serving(service_accounts: &[Value]) -> Self {
        let answers = service_accounts
            .iter()
            .map(|sa| {
                let field = |key: &str| {
                    sa.pointer(&format!("/metadata/{key}"))
                        .and_then(Value::as_str)
                        .unwrap_or_else(|| panic!("fixture ServiceAccount without {key}: {sa}"))
                        .to_string()
                };
                (field("namespace"), field("name"), Ok(parse(sa)))
            })
            .collect();
        FakeCluster {
            answers,
            ..FakeCluster::default()
        }
    }

    /// Serves `service_account` for every lookup, whatever its namespace and name; `None`: every
    /// lookup is not found.
    pub fn serving_every_lookup(service_account: Option<ServiceAccount>) -> Self {
        FakeCluster {
            every_lookup: service_account,
            ..FakeCluster::default()
        }
    }

    /// Answers the lookup of `namespace/name` with this error.
    pub fn failing(mut self, namespace: &str, name: &str, error: &str) -> Self {
        self.answers.insert(
            0,
            (
                namespace.to_string(),
                name.to_string(),
                Err(error.to_string()),
            ),
        );
        self
    }

    /// The cached read (`get`) of `namespace/name` answers `cached`, a ServiceAccount object as
    /// the host returns it (`None`: not found), while the fresh read (`get_fresh`) keeps the
    /// answer this cluster serves otherwise.
    pub fn cached(mut self, namespace: &str, name: &str, cached: Option<&Value>) -> Self {
        let answer = cached.map(parse).ok_or_else(|| not_found(namespace, name));
        self.cached
            .push((namespace.to_string(), name.to_string(), answer));
        self
    }

    /// Every lookup so far, as (namespace, name), cached and fresh alike.
    pub fn calls(&self) -> Vec<(String, String)> {
        self.reads
            .borrow()
            .iter()
            .map(|(namespace, name, _)| (namespace.clone(), name.clone()))
            .collect()
    }

    /// Every lookup so far, as (namespace, name, whether it bypassed the cache).
    pub fn reads(&self) -> Vec<(String, String, bool)> {
        self.reads.borrow().clone()
    }

    fn answer(&self, namespace: &str, name: &str, fresh: bool) -> Result<ServiceAccount, String> {
        self.reads
            .borrow_mut()
            .push((namespace.to_string(), name.to_string(), fresh));
        let matching = |(ns, n, _): &&(String, String, _)| ns == namespace && n == name;
        let cached = match fresh {
            true => None,
            false => self.cached.iter().find(matching),
        };
        match cached.or_else(|| self.answers.iter().find(matching)) {
            Some((_, _, answer)) => answer.clone(),
            None => self
                .every_lookup
                .clone()
                .ok_or_else(|| not_found(namespace, name)),
        }
    }
}

/// A ServiceAccount object of a fixture, parsed as the policy parses the host's answer.
fn parse(service_account: &Value) -> ServiceAccount {
    serde_json::from_value(service_account.clone())
        .unwrap_or_else(|e| panic!("fixture ServiceAccount does not parse: {e}"))
}

impl ServiceAccountSource for FakeCluster {
    fn get(&self, namespace: &str, name: &str) -> Result<ServiceAccount, String> {
        self.answer(namespace, name, false)
    }

    fn get_fresh(&self, namespace: &str, name: &str) -> Result<ServiceAccount, String> {
        self.answer(namespace, name, true)
    }
}

/// The lookups of a request rejected for its ServiceAccount's answer: the read, and its
/// repetition past the host's cache (`get_fresh`), in the form of [`FakeCluster::calls`].
pub fn lookups_then_fresh(namespace: &str, name: &str) -> Vec<(String, String)> {
    lookups(&[(namespace, name), (namespace, name)])
}

/// Expected lookups, in the form of [`FakeCluster::calls`].
pub fn lookups(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(ns, name)| (ns.to_string(), name.to_string()))
        .collect()
}

/// Expected lookups with whether each bypassed the cache, in the form of [`FakeCluster::reads`].
pub fn reads(expected: &[(&str, &str, bool)]) -> Vec<(String, String, bool)> {
    expected
        .iter()
        .map(|(ns, name, fresh)| (ns.to_string(), name.to_string(), *fresh))
        .collect()
}

/// A ServiceAccount from an annotations object (string values; anything else is dropped).
pub fn service_account(annotations: &Value) -> ServiceAccount {
    let pairs: Vec<(String, String)> = annotations
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
        .collect();
    ServiceAccount::with_annotations(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// `{"request": …, "settings": …}`, the payload of the waPC `validate` call.
pub fn payload(request: &Value, settings: Option<&Value>) -> Vec<u8> {
    let payload = match settings {
        Some(settings) => json!({"request": request, "settings": settings}),
        None => json!({ "request": request }),
    };
    serde_json::to_vec(&payload).unwrap_or_default()
}

/// A short description of a decision, for failure messages.
pub fn describe(decision: &Decision) -> String {
    match decision {
        Decision::Accept => "Accept".to_string(),
        Decision::Mutate(pod) => format!("Mutate({pod})"),
        Decision::Reject(Rejection(message)) => format!("Reject({message:?})"),
    }
}

/// The JSON pointer of the first difference between two values, for readable failures.
pub fn first_difference(expected: &Value, actual: &Value, at: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .keys()
            .chain(a.keys().filter(|k| !e.contains_key(*k)))
            .find_map(|k| match (e.get(k), a.get(k)) {
                (Some(ev), Some(av)) => first_difference(ev, av, &format!("{at}/{k}")),
                (Some(_), None) => Some(format!("{at}/{k} (missing)")),
                _ => Some(format!("{at}/{k} (unexpected)")),
            }),
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .find_map(|(i, (ev, av))| first_difference(ev, av, &format!("{at}/{i}"))),
        _ if expected == actual => None,
        _ => Some(format!("{at}: expected {expected}, got {actual}")),
    }
}
