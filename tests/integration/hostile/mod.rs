//! Hostile inputs: each has one exact, documented outcome.
//!
//! - Not selected (not a core/v1 Pod CREATE, or no label `azure.workload.identity/use` with the
//!   string value `"true"`): accepted unchanged, without a ServiceAccount lookup — whatever else
//!   is wrong with the request, as long as it is JSON the policy can scan.
//! - Selected but malformed: rejected, without a lookup, with a message that names the
//!   malformed path ("Pod "ns/name" is malformed: spec.containers must be a list, found an
//!   object").
//! - Not a readable AdmissionRequest at all (not JSON, no `request`, wrong types in the fields
//!   the guard reads, duplicate keys in them, or — for a selected Pod — nesting deeper than
//!   serde_json's limit of 128 or a number beyond f64): rejected as unreadable, with
//!   serde_json's reason and position.
//! - Settings of the wrong type (only read for selected requests): rejected, naming the setting.
//!
//! The fixtures are whole waPC `validate` payloads in `test_data/hostile/` (so they also seed
//! the fuzzers, `fixtures.rs`); the large ones (10 000 containers, 1 MB values, 100 000 levels of
//! nesting) are built in `large_inputs.rs`. Every expected mutation is also checked against the
//! model of `tests/common/oracle.rs` (exact Pod), for losslessness and for idempotence.
//! `regressions.rs` replays `test_data/regressions/` (see its README.md).
//!
//! This file holds what they share: the expected outcomes and [`verify`].

mod fixtures;
mod large_inputs;
mod regressions;
mod settings;

use std::panic::{AssertUnwindSafe, catch_unwind};

use azure_workload_identity_policy::{Decision, Rejection, ServiceAccount};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::common::oracle::{self, Observed};
use crate::common::{CLIENT_ID, SA_TENANT, lookups};

pub const SETTINGS_HINT: &str = "Fix the settings of the policy (kwctl run --settings-json, or \
                             spec.settings of the ClusterAdmissionPolicy)";
pub const ACCEPTED_SETTINGS: &str = "Accepted settings: defaultTenantId (required), \
    azureEnvironment, authorityHost, audience, tokenLayout, proxyImage, proxyInitImage, \
    proxyLogLevel, useNativeSidecar, customTokenEndpoint, findings, verify";

/// The ServiceAccount every lookup finds: `azure.workload.identity/client-id` and `tenant-id`.
pub fn workload_sa() -> ServiceAccount {
    oracle::service_account(&json!({
        "azure.workload.identity/client-id": CLIENT_ID,
        "azure.workload.identity/tenant-id": SA_TENANT,
    }))
}

// ---------------------------------------------------------------------------------------------
// Expected outcomes
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
pub enum Expect {
    /// Accepted unchanged, no lookup.
    Accept,
    /// Rejected with exactly this message after these lookups.
    Reject(String, Vec<(&'static str, &'static str)>),
    /// Mutated after one lookup of (namespace, name) into exactly the Pod the model predicts.
    Mutate((&'static str, &'static str)),
}

pub fn malformed(detail: &str) -> Expect {
    Expect::Reject(
        format!(
            "azure-workload-identity: Pod \"default/web\" is malformed: {detail}. Fix the Pod manifest"
        ),
        vec![],
    )
}

pub fn unreadable(detail: &str) -> Expect {
    Expect::Reject(
        format!(
            "azure-workload-identity: the admission request could not be read ({detail}); this \
             is a bug in the caller, please report it"
        ),
        vec![],
    )
}

pub fn invalid_settings(detail: &str) -> Expect {
    Expect::Reject(
        format!(
            "azure-workload-identity: the policy settings are invalid: {detail}. {SETTINGS_HINT}"
        ),
        vec![],
    )
}

pub fn setting_type(setting: &str, detail: &str) -> String {
    format!("setting {setting}: {detail}. {ACCEPTED_SETTINGS}")
}

/// The essentials of a payload that may nest deeper than `Value` can: read with `RawValue`,
/// which skips without building values (as the policy does).
pub fn essentials(payload: &[u8]) -> Option<(Value, Value)> {
    #[derive(serde::Deserialize)]
    struct Payload<'a> {
        #[serde(borrow)]
        request: Request<'a>,
        #[serde(borrow)]
        settings: Option<&'a RawValue>,
    }
    #[derive(serde::Deserialize)]
    struct Request<'a> {
        operation: Option<&'a str>,
        kind: Option<Value>,
        namespace: Option<&'a str>,
        #[serde(borrow)]
        object: Option<&'a RawValue>,
    }
    let p: Payload = serde_json::from_slice(payload).ok()?;
    let object: Value = serde_json::from_str(p.request.object.map_or("null", |o| o.get())).ok()?;
    let settings: Value = serde_json::from_str(p.settings.map_or("null", |s| s.get())).ok()?;
    let request = json!({
        "operation": p.request.operation,
        "kind": p.request.kind,
        "namespace": p.request.namespace,
        "object": object,
    });
    Some((request, settings))
}

/// Evaluates `payload` and compares with `expect`; `Err` describes the difference.
pub fn verify(
    payload: &[u8],
    sa: Option<&ServiceAccount>,
    expect: &Expect,
) -> Result<Observed, String> {
    let observed = catch_unwind(AssertUnwindSafe(|| oracle::check_generic(payload, sa)))
        .map_err(|_| "PANIC".to_string())??;
    match (expect, &observed.decision) {
        (Expect::Accept, Decision::Accept) if observed.calls.is_empty() => {}
        (Expect::Reject(message, calls), Decision::Reject(Rejection(actual)))
            if actual == message && observed.calls == lookups(calls) => {}
        (Expect::Mutate(lookup), Decision::Mutate(_)) if observed.calls == lookups(&[*lookup]) => {
            let (request, settings) =
                essentials(payload).ok_or("the payload's essentials cannot be read")?;
            let (expected, _) = oracle::model(&request, &settings, sa);
            let oracle::Expected::Pod { pod, .. } = expected else {
                return Err(format!("the model expects {expected:?}"));
            };
            if observed.decision != Decision::Mutate(pod.clone()) {
                let Decision::Mutate(actual) = &observed.decision else {
                    return Err("unreachable".to_string());
                };
                return Err(format!(
                    "not the Pod the model predicts; first difference {:?}",
                    oracle::first_difference(&pod, actual, "")
                ));
            }
        }
        _ => {
            let shown = match &observed.decision {
                Decision::Reject(Rejection(m)) if m.len() > 2000 => {
                    format!("Reject({}… {} bytes)", m.get(..2000).unwrap_or(m), m.len())
                }
                d => oracle::describe(d),
            };
            return Err(format!(
                "expected {expect:?}\n  got {shown} after lookups {:?}",
                observed.calls
            ));
        }
    }
    Ok(observed)
}

pub fn assert_outcome(name: &str, payload: &[u8], sa: Option<&ServiceAccount>, expect: &Expect) {
    if let Err(e) = verify(payload, sa, expect) {
        panic!("{name}: {e}");
    }
}

/// `depth` nested arrays around `1`.
pub fn nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}
