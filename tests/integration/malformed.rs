//! Malformed selected Pods and unreadable payloads: rejected, naming the malformed path, before
//! or at most after the one ServiceAccount lookup.

use azure_workload_identity_policy::{Decision, Rejection, evaluate};
use serde_json::{Value, json};

use crate::common::*;

fn malformed(pod: &str, detail: &str) -> String {
    format!("azure-workload-identity: Pod \"{pod}\" is malformed: {detail}. Fix the Pod manifest")
}

#[test]
fn malformed_selected_pods_are_rejected_naming_the_path() {
    let web = "default/web";
    // (case, pod, Pod reference in the message, detail)
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "spec not an object",
            with(&web_pod(), &[("/spec", json!("x"))]),
            web,
            "spec must be an object, found a string",
        ),
        (
            "spec missing",
            without(&web_pod(), &["/spec"]),
            web,
            "spec is missing",
        ),
        (
            "containers not a list",
            with(&web_pod(), &[("/spec/containers", json!({"name": "app"}))]),
            web,
            "spec.containers must be a list, found an object",
        ),
        (
            "init container not an object",
            with(&web_pod(), &[("/spec/initContainers", json!(["init"]))]),
            web,
            "spec.initContainers[0] must be an object, found a string",
        ),
        (
            "container without a name",
            without(&web_pod(), &["/spec/containers/0/name"]),
            web,
            "spec.containers[0] has no name",
        ),
        (
            "env not a list",
            with(&web_pod(), &[("/spec/containers/0/env", json!({"A": "1"}))]),
            web,
            "spec.containers[0].env must be a list, found an object",
        ),
        (
            "env entry without a name",
            with(
                &web_pod(),
                &[(
                    "/spec/containers/0/env",
                    json!([{"name": "A", "value": "1"}, {"value": "2"}]),
                )],
            ),
            web,
            "spec.containers[0].env[1] has no name",
        ),
        (
            "volumeMounts entry with a numeric mountPath",
            with(
                &web_pod(),
                &[(
                    "/spec/containers/0/volumeMounts",
                    json!([{"name": "data", "mountPath": 5}]),
                )],
            ),
            web,
            "spec.containers[0].volumeMounts[0].mountPath must be a string, found a number",
        ),
        (
            "volumes entry not an object",
            with(&web_pod(), &[("/spec/volumes", json!(["data"]))]),
            web,
            "spec.volumes[0] must be an object, found a string",
        ),
        (
            "skip-containers a number",
            with(&web_pod(), &[(SKIP_ANNOTATION, json!(5))]),
            web,
            "annotation \"azure.workload.identity/skip-containers\" must be a string, found a number",
        ),
        (
            "token expiration a number",
            with(&web_pod(), &[(EXPIRATION_ANNOTATION, json!(7200))]),
            web,
            "annotation \"azure.workload.identity/service-account-token-expiration\" must be a \
             string, found a number",
        ),
        (
            "annotations a list",
            with(&web_pod(), &[("/metadata/annotations", json!(["a"]))]),
            web,
            "metadata.annotations must be an object, found a list",
        ),
        (
            "serviceAccountName a number",
            with(&web_pod(), &[("/spec/serviceAccountName", json!(7))]),
            web,
            "spec.serviceAccountName must be a string, found a number",
        ),
        (
            "name a number",
            with(&web_pod(), &[("/metadata/name", json!(7))]),
            "default/<unnamed>",
            "metadata.name must be a string, found a number",
        ),
    ];
    let mut rows = Rows::new();
    for (case, pod, reference, detail) in cases {
        rows.check(case, || {
            let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
            assert_decision(
                &run(&pod_request(pod), &default_settings(), &cluster),
                &Decision::Reject(Rejection(malformed(reference, detail))),
                case,
            );
            // At most the one lookup of the Pod's ServiceAccount.
            let calls = cluster.calls();
            assert!(
                calls.is_empty() || calls == lookups(&[(NS, SA_NAME)]),
                "{case}: lookups {calls:?}"
            );
        });
    }
    rows.assert_all_passed();
}

#[test]
fn a_pod_that_does_not_decode_is_rejected_before_the_lookup() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "containers not a list",
            with(&web_pod(), &[("/spec/containers", json!({"name": "app"}))]),
            "spec.containers must be a list, found an object",
        ),
        (
            "env not a list",
            with(&web_pod(), &[("/spec/containers/0/env", json!({"A": "1"}))]),
            "spec.containers[0].env must be a list, found an object",
        ),
    ];
    let mut rows = Rows::new();
    for (case, pod, detail) in cases {
        rows.check(case, || {
            let cluster = FakeCluster::empty();
            assert_decision(
                &run(&pod_request(pod), &default_settings(), &cluster),
                &Decision::Reject(Rejection(malformed("default/web", detail))),
                case,
            );
            assert_eq!(cluster.calls(), lookups(&[]), "{case}");
        });
    }
    rows.assert_all_passed();
}

#[test]
fn an_unreadable_payload_is_rejected_without_a_lookup() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"{\"request\": ".to_vec()),
        ("no request", b"{\"settings\": {}}".to_vec()),
        ("request a string", b"{\"request\": \"pod\"}".to_vec()),
    ];
    let mut rows = Rows::new();
    for (case, bytes) in cases {
        rows.check(case, || {
            let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
            assert_rejected_with(
                &evaluate(&bytes, &cluster),
                &[
                    "azure-workload-identity: the admission request could not be read (",
                    "); this is a bug in the caller, please report it",
                ],
                case,
            );
            assert_eq!(cluster.calls(), lookups(&[]), "{case}");
        });
    }
    rows.assert_all_passed();
}
