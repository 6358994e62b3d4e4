//! Verify mode through the whole request path: `review(payload, &cluster)` from the waPC
//! `validate` payload to the answer (decision, warnings, message), with ServiceAccounts served
//! by the shared [`FakeCluster`], which records every lookup and whether it bypassed the cache.
//! Each test asserts the whole answer and the lookups; the property test checks that verify and
//! the mutation agree on generated Pods.
//!
//! | file | what |
//! | --- | --- |
//! | `mod.rs` | the fixtures' Pods, settings and findings, `run`, the expected answers |
//! | `differences.rs` | configured and unconfigured Pods: each difference from what the mutation makes, named |
//! | `drift.rs` | other injectors, re-invocation, and values that changed since the mutation |
//! | `rejected_by_mutation.rs` | what the mutating path rejects (ServiceAccount, malformed Pod), and requests not verified |
//! | `properties.rs` | the property: verify and the mutation agree on generated Pods (regressions in `properties.proptest-regressions`) |
//! | `manifest.rs` | the verify manifest of `deploy/` |

mod differences;
mod drift;
mod manifest;
mod properties;
mod rejected_by_mutation;

use azure_workload_identity_policy::{Answer, Decision, Rejection, review};
use serde_json::{Value, json};

use crate::common::{
    CLIENT_ID, CLIENT_ID_KEY, FakeCluster, MOUNT_PATH, NS, SA_NAME as SA, SA_TENANT as TENANT_ID,
    WORKLOAD_APP_VOLUME as VOLUME, fixture, reads,
};

/// A client-id the ServiceAccount changed to after the mutation.
const NEW_CLIENT_ID: &str = "9e8d7c6b-5a49-4838-a726-15f4e3d2c1b0";
const USE_LABEL: &str = "azure.workload.identity/use";
const SKIP_KEY: &str = "azure.workload.identity/skip-containers";
const PROXY_KEY: &str = "azure.workload.identity/inject-proxy-sidecar";
/// The Pod of the fixtures, as findings name it.
const WHO: &str = "Pod default/workload-app";
const SKIP_FIX: &str = "list it in azure.workload.identity/skip-containers or recreate the Pod \
                        with the mutating policy deployed";

/// The one lookup of the fixtures' Pod, from the cache.
fn cached_lookup() -> Vec<(String, String, bool)> {
    reads(&[(NS, SA, false)])
}

fn sa() -> Value {
    fixture("sa-workload.json")
}

fn sa_with(annotations: Value) -> Value {
    let mut sa = sa();
    if let Some(slot) = sa.pointer_mut("/metadata/annotations") {
        *slot = annotations;
    }
    sa
}

/// The settings of the fixtures with `verify` and these extra settings.
fn settings(verify: bool, extra: Value) -> Value {
    let mut settings = fixture("settings-default.json");
    if let (Some(s), Some(e)) = (settings.as_object_mut(), extra.as_object()) {
        s.insert("verify".to_string(), Value::Bool(verify));
        s.extend(e.clone());
    }
    settings
}

fn verify_settings() -> Value {
    settings(true, json!({}))
}

fn reject_settings() -> Value {
    settings(true, json!({"findings": "reject"}))
}

/// The request of the fixtures with this Pod.
fn request(pod: Value) -> Value {
    let mut request = fixture("request-labelled-pod.json");
    if let Some(slot) = request.get_mut("object") {
        *slot = pod;
    }
    request
}

fn unmutated() -> Value {
    fixture("request-labelled-pod.json")
        .get("object")
        .cloned()
        .unwrap_or_default()
}

fn mutated() -> Value {
    fixture("expected-labelled-pod.json")
}

fn run(pod: &Value, settings: &Value, cluster: &FakeCluster) -> Answer {
    let payload = json!({"request": request(pod.clone()), "settings": settings});
    review(&payload.to_string().into_bytes(), cluster)
}

/// Accepted with these warnings, and the same findings as the message that audit reports show.
fn accepted_with(warnings: &[String]) -> Answer {
    Answer {
        decision: Decision::Accept,
        warnings: warnings.to_vec(),
        message: (!warnings.is_empty())
            .then(|| format!("azure-workload-identity: {}", warnings.join("; "))),
    }
}

fn rejected_with(findings: &[String]) -> Answer {
    Decision::Reject(Rejection(format!(
        "azure-workload-identity: {}",
        findings.join("; ")
    )))
    .into()
}

fn set(pod: &mut Value, pointer: &str, value: Value) {
    match pod.pointer_mut(pointer) {
        Some(slot) => *slot = value,
        None => panic!("no {pointer} in the Pod"),
    }
}

fn annotate(pod: &mut Value, key: &str, value: &str) {
    match pod
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        Some(annotations) => {
            annotations.insert(key.to_string(), Value::from(value));
        }
        None => panic!("the Pod has no annotations"),
    }
}

fn strings(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| t.to_string()).collect()
}

// The findings of the fixtures' unmutated Pod, one per container and one for the volume.
fn no_env(container: &str) -> String {
    format!(
        "{WHO}: container \"{container}\" has none of the 4 env vars the policy injects; {SKIP_FIX}"
    )
}

fn no_mount(container: &str) -> String {
    format!(
        "{WHO}: container \"{container}\" does not mount the token volume at {MOUNT_PATH}; \
         {SKIP_FIX}"
    )
}

fn unmutated_findings() -> Vec<String> {
    let mut findings = Vec::new();
    for container in ["init-config", "app", "log-shipper"] {
        findings.push(no_env(container));
        findings.push(no_mount(container));
    }
    findings.push(format!(
        "{WHO}: spec.volumes has no token volume {VOLUME}; recreate the Pod with the mutating \
         policy deployed"
    ));
    findings
}
