//! Large inputs, built here: 10 000 containers, 1 MB values and nesting up to 100 000 levels,
//! each with its exact outcome (no test measures time; speed belongs in `host/benches/`).

use azure_workload_identity_policy::{Decision, Rejection};
use serde_json::{Value, json};

use super::*;
use crate::common::DEFAULT_TENANT;
use crate::common::oracle::{self, EXPIRATION_KEY, USE_LABEL};

fn labelled_pod(labelled: bool) -> Value {
    let mut labels = json!({"app": "web"});
    if labelled && let Some(l) = labels.as_object_mut() {
        l.insert(USE_LABEL.to_string(), json!("true"));
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": labels},
        "spec": {
            "serviceAccountName": "workload-sa",
            "containers": [{"name": "app", "image": "registry.example/app:1"}]
        }
    })
}

fn pod_payload(pod: Value) -> Vec<u8> {
    let request = json!({
        "uid": "0f0e0d0c-0b0a-4909-8807-060504030201",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": "default",
        "operation": "CREATE",
        "object": pod,
    });
    oracle::payload(
        &request,
        Some(&json!({ "defaultTenantId": DEFAULT_TENANT })),
    )
}

fn with_containers(mut pod: Value, n: usize) -> Value {
    let containers: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("c{i}"), "image": "registry.example/app:1"}))
        .collect();
    if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
        spec.insert("containers".to_string(), Value::Array(containers));
    }
    pod
}

/// The Pod `payload` is mutated into, after [`verify`] found it to be the Pod the model predicts
/// (after one lookup of `default/workload-sa`), lossless and idempotent.
fn verified_mutation(payload: &[u8], sa: &ServiceAccount) -> Value {
    let observed = verify(
        payload,
        Some(sa),
        &Expect::Mutate(("default", "workload-sa")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let Decision::Mutate(pod) = observed.decision else {
        panic!("checked above");
    };
    pod
}

#[test]
fn a_pod_with_10000_containers_gets_all_of_them_mutated() {
    let sa = workload_sa();
    let payload = pod_payload(with_containers(labelled_pod(true), 10_000));
    let pod = verified_mutation(&payload, &sa);
    let containers = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    assert_eq!(containers.len(), 10_000);
    let volume = "azure-workload-identity-reserved-4b5e57f6eb2f42b9039b3d1e139292";
    for (i, c) in containers.iter().enumerate() {
        assert_eq!(
            c,
            &json!({
                "name": format!("c{i}"),
                "image": "registry.example/app:1",
                "env": [
                    {"name": "AZURE_CLIENT_ID", "value": CLIENT_ID},
                    {"name": "AZURE_TENANT_ID", "value": SA_TENANT},
                    {"name": "AZURE_FEDERATED_TOKEN_FILE", "value": "/var/run/secrets/azure/wi/token/azure-identity-token"},
                    {"name": "AZURE_AUTHORITY_HOST", "value": "https://login.microsoftonline.com/"}
                ],
                "volumeMounts": [{"name": volume, "mountPath": "/var/run/secrets/azure/wi", "readOnly": true}]
            }),
            "container {i}"
        );
    }
    assert_eq!(
        pod.pointer("/spec/volumes")
            .and_then(Value::as_array)
            .map(Vec::len),
        Some(1)
    );
}

#[test]
fn a_pod_with_10000_containers_and_one_malformed_is_rejected_naming_it() {
    let mut pod = with_containers(labelled_pod(true), 10_000);
    if let Some(last) = pod
        .pointer_mut("/spec/containers/9999")
        .and_then(Value::as_object_mut)
    {
        last.remove("name");
    }
    assert_outcome(
        "10 000 containers, the last without a name",
        &pod_payload(pod),
        Some(&workload_sa()),
        &malformed("spec.containers[9999] has no name"),
    );
}

#[test]
fn an_unlabelled_pod_with_10000_containers_is_accepted_without_a_lookup() {
    assert_outcome(
        "10 000 containers, unlabelled",
        &pod_payload(with_containers(labelled_pod(false), 10_000)),
        Some(&workload_sa()),
        &Expect::Accept,
    );
}

const ONE_MB: usize = 1 << 20;

fn annotated(labelled: bool, key: &str, value: String) -> Value {
    let mut pod = labelled_pod(labelled);
    if let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("annotations".to_string(), json!({ key: value }));
    }
    pod
}

#[test]
fn a_1mb_annotation_value_is_carried_through_a_mutation() {
    let value = "x".repeat(ONE_MB);
    let payload = pod_payload(annotated(true, "example.com/blob", value.clone()));
    let pod = verified_mutation(&payload, &workload_sa());
    assert_eq!(
        pod.pointer("/metadata/annotations/example.com~1blob"),
        Some(&Value::from(value))
    );
}

#[test]
fn a_1mb_skip_containers_annotation_is_parsed_like_a_short_one() {
    // "app;" 262 144 times: the container app is skipped, the volume is still added
    let payload = pod_payload(annotated(
        true,
        "azure.workload.identity/skip-containers",
        "app;".repeat(ONE_MB / 4),
    ));
    let pod = verified_mutation(&payload, &workload_sa());
    assert_eq!(
        pod.pointer("/spec/containers/0"),
        Some(&json!({"name": "app", "image": "registry.example/app:1"}))
    );
}

#[test]
fn a_1mb_token_expiration_is_rejected_quoting_it_like_upstream() {
    // Go's strconv error quotes the whole value, and so does the message: 1 MB long
    let value = "9".repeat(ONE_MB);
    let expected = format!(
        "azure-workload-identity: annotation \"{EXPIRATION_KEY}\" of Pod \"default/web\" is not a \
         whole number of seconds (strconv.ParseInt: parsing \"{value}\": value out of range). Set \
         it to an integer between 3600 and 86400 without a unit, e.g. \"3600\", or remove it to \
         use 3600"
    );
    assert_outcome(
        "1 MB token expiration",
        &pod_payload(annotated(true, EXPIRATION_KEY, value)),
        Some(&workload_sa()),
        &Expect::Reject(expected, vec![("default", "workload-sa")]),
    );
}

#[test]
fn a_1mb_annotation_on_an_unlabelled_pod_is_accepted_without_a_lookup() {
    assert_outcome(
        "1 MB annotation, unlabelled",
        &pod_payload(annotated(false, EXPIRATION_KEY, "9".repeat(ONE_MB))),
        Some(&workload_sa()),
        &Expect::Accept,
    );
}

/// The payload of `labelled_pod` with `"zzDeep": <depth arrays>` first in `spec`.
fn deep_payload(labelled: bool, depth: usize) -> Vec<u8> {
    let text = String::from_utf8(pod_payload(labelled_pod(labelled))).unwrap_or_default();
    text.replacen(
        "\"spec\":{",
        &format!("\"spec\":{{\"zzDeep\":{},", nested(depth)),
        1,
    )
    .into_bytes()
}

#[test]
fn nesting_100000_levels_deep_is_a_clean_answer_never_a_stack_overflow() {
    let sa = workload_sa();
    // unselected: skipped without building values, accepted
    assert_outcome(
        "100 000 levels, unlabelled",
        &deep_payload(false, 100_000),
        Some(&sa),
        &Expect::Accept,
    );
    // selected: serde_json stops at its recursion limit
    let payload = deep_payload(true, 100_000);
    let observed = oracle::observe(&payload, Some(&sa));
    let position = "recursion limit exceeded at line 1 column";
    assert!(
        matches!(&observed.decision, Decision::Reject(Rejection(m))
            if m.starts_with(&format!("azure-workload-identity: the admission request could not be read ({position} "))),
        "{}",
        oracle::describe(&observed.decision)
    );
    assert!(observed.calls.is_empty());
}

#[test]
fn the_nesting_limit_is_127_levels_counting_the_pod() {
    // `spec.zzDeep` with n arrays is n + 2 levels deep (Pod, spec, arrays)
    let sa = workload_sa();
    let observe = |depth| oracle::observe(&deep_payload(true, depth), Some(&sa)).decision;
    assert!(matches!(observe(125), Decision::Mutate(_)));
    assert!(matches!(observe(126), Decision::Reject(_)));
}
