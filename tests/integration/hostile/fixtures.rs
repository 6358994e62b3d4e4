//! The fixtures of `test_data/hostile/`, each with its one documented outcome; a fixture without
//! an expectation fails the test.

use azure_workload_identity_policy::Decision;
use serde_json::json;

use super::*;
use crate::common::oracle::{self};
use crate::common::{data, read_bytes};

/// The rejection of a request without namespace, whatever the Pod's own `metadata.namespace`.
fn no_namespace() -> Expect {
    Expect::Reject(
        "azure-workload-identity: the admission request for Pod \"web\" has no namespace, so its \
         ServiceAccount cannot be looked up; create the Pod in a namespace"
            .to_string(),
        vec![],
    )
}

fn fixture_expectations() -> Vec<(&'static str, Expect)> {
    let serde = |s: &str| s.to_string();
    vec![
        // spec missing or not an object
        ("spec-missing.json", malformed("spec is missing")),
        ("spec-null.json", malformed("spec is missing")),
        ("spec-missing-unlabelled.json", Expect::Accept),
        (
            "spec-not-an-object.json",
            malformed("spec must be an object, found a list"),
        ),
        // containers not an array
        (
            "containers-not-an-array.json",
            malformed("spec.containers must be a list, found an object"),
        ),
        (
            "init-containers-a-string.json",
            malformed("spec.initContainers must be a list, found a string"),
        ),
        // an env entry without a name
        (
            "env-entry-without-name.json",
            malformed("spec.containers[0].env[1] has no name"),
        ),
        // other types where strings are expected
        ("label-use-boolean-true.json", Expect::Accept),
        (
            "label-value-number.json",
            malformed("label \"tier\" must be a string, found a number"),
        ),
        (
            "annotation-expiration-number.json",
            malformed(
                "annotation \"azure.workload.identity/service-account-token-expiration\" must be \
                 a string, found a number",
            ),
        ),
        (
            "annotation-inject-proxy-boolean.json",
            malformed(
                "annotation \"azure.workload.identity/inject-proxy-sidecar\" must be a string, \
                 found a boolean",
            ),
        ),
        ("annotation-numbers-unlabelled.json", Expect::Accept),
        // null annotation values read as "" (Go decodes null into map[string]string as ""):
        // the proxy is injected (key present) and the port "" does not parse, as upstream
        (
            "annotation-null-values.json",
            Expect::Reject(
                "azure-workload-identity: Pod \"default/web\": annotation \
                 \"azure.workload.identity/proxy-sidecar-port\" has the value \"\": failed to \
                 parse proxy sidecar port: strconv.ParseInt: parsing \"\": invalid syntax. Set \
                 it to a port number such as \"8000\", or remove it to use 8000"
                    .to_string(),
                vec![("default", "workload-sa")],
            ),
        ),
        // metadata.labels null, metadata or Pod of the wrong type: cannot be selected
        ("labels-null.json", Expect::Accept),
        ("metadata-not-an-object.json", Expect::Accept),
        ("pod-is-a-list.json", Expect::Accept),
        // deeply nested unknown fields: a selected Pod may nest 127 levels (the Pod object
        // included); deeper is serde_json's recursion limit, a clean rejection. Unselected
        // Pods and parts of the payload the policy skips may nest without limit.
        (
            "deep-nesting-127-levels.json",
            Expect::Mutate(("default", "workload-sa")),
        ),
        (
            "deep-nesting-128-levels.json",
            unreadable("recursion limit exceeded at line 1 column 283"),
        ),
        ("deep-nesting-unlabelled.json", Expect::Accept),
        (
            "deep-nesting-outside-the-pod.json",
            Expect::Mutate(("default", "workload-sa")),
        ),
        (
            "deep-nesting-in-settings.json",
            invalid_settings(
                "the settings are not valid JSON: recursion limit exceeded at line 1 column 137",
            ),
        ),
        // a non-Pod kind with a Pod-like body, a Pod of another group
        ("non-pod-kind-deployment.json", Expect::Accept),
        ("pod-kind-of-another-group.json", Expect::Accept),
        // DELETE with object null; CREATE with object null
        ("delete-object-null.json", Expect::Accept),
        ("create-object-null.json", Expect::Accept),
        // an AdmissionRequest without namespace: a rejection, whatever the Pod's own says
        ("request-without-namespace.json", no_namespace()),
        ("request-without-namespace-pod-has-one.json", no_namespace()),
        // settings of the wrong types (read only for selected requests)
        (
            "settings-tenant-a-number.json",
            invalid_settings(&setting_type(
                "defaultTenantId",
                "invalid type: integer `42`, expected a string",
            )),
        ),
        (
            "settings-native-sidecar-a-string.json",
            invalid_settings(&setting_type(
                "useNativeSidecar",
                "invalid type: string \"yes\", expected a boolean",
            )),
        ),
        (
            "settings-token-endpoint-audience-a-list.json",
            invalid_settings(&setting_type(
                "customTokenEndpoint.audience",
                "invalid type: sequence, expected a string",
            )),
        ),
        (
            "settings-a-list.json",
            invalid_settings(
                "the settings must be a JSON object, e.g. {\"defaultTenantId\": \"<tenant-id>\"}",
            ),
        ),
        (
            "settings-missing.json",
            invalid_settings(
                "defaultTenantId is required: set it to the ID of the Microsoft Entra tenant \
                 used for ServiceAccounts that have no azure.workload.identity/tenant-id \
                 annotation (upstream chart value azureTenantID), e.g. {\"defaultTenantId\": \
                 \"00000000-0000-0000-0000-000000000000\"}",
            ),
        ),
        ("settings-wrong-types-unselected.json", Expect::Accept),
        // numbers: beyond f64 in a selected Pod is unreadable; beyond 64 bits is kept as f64
        (
            "number-out-of-range.json",
            unreadable("number out of range at line 1 column 162"),
        ),
        ("number-out-of-range-unlabelled.json", Expect::Accept),
        (
            "integer-beyond-64-bits.json",
            Expect::Mutate(("default", "workload-sa")),
        ),
        // duplicate keys: the guard reads the labels strictly, a duplicate key is no selection
        ("duplicate-use-label.json", Expect::Accept),
        (
            "duplicate-request-key.json",
            unreadable(&serde("duplicate field `request` at line 1 column 23")),
        ),
        // payloads that are not an AdmissionRequest
        (
            "payload-not-json.txt",
            unreadable("expected ident at line 1 column 2"),
        ),
        (
            "payload-empty.txt",
            unreadable("EOF while parsing a value at line 1 column 0"),
        ),
        (
            "payload-invalid-utf8.bin",
            unreadable("invalid unicode code point at line 1 column 328"),
        ),
        // serde_json does not check UTF-8 inside strings it skips (here `uid`): such a
        // payload is read like a valid one
        (
            "payload-invalid-utf8-in-a-skipped-field.bin",
            Expect::Mutate(("default", "workload-sa")),
        ),
        (
            "payload-null.json",
            unreadable("invalid type: null, expected struct Payload at line 1 column 4"),
        ),
        (
            "payload-empty-object.json",
            unreadable("missing field `request` at line 1 column 2"),
        ),
        (
            "payload-request-a-string.json",
            unreadable(
                "invalid type: string \"CREATE pod web\", expected struct Request at line 1 \
                 column 28",
            ),
        ),
    ]
}

#[test]
fn every_hostile_fixture_has_its_documented_outcome() {
    let dir = data("hostile");
    let sa = workload_sa();
    let expectations = fixture_expectations();
    let mut failures = Vec::new();
    for (name, expect) in &expectations {
        if let Err(e) = verify(&read_bytes(&dir.join(name)), Some(&sa), expect) {
            failures.push(format!("{name}: {e}"));
        }
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = expectations.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    if on_disk != listed {
        failures.push(format!(
            "test_data/hostile/ and the table differ:\n  on disk {on_disk:?}\n  listed  {listed:?}"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn integers_beyond_64_bits_are_kept_as_the_same_floating_point_values() {
    // serde_json reads an integer beyond u64/i64 as f64; the output carries that f64. Kubewarden
    // reads the request the same way and diffs the two, so no patch touches the field.
    let payload = read_bytes(&data("hostile").join("integer-beyond-64-bits.json"));
    let observed = oracle::observe(&payload, Some(&workload_sa()));
    let Decision::Mutate(pod) = observed.decision else {
        panic!(
            "expected a mutation, got {}",
            oracle::describe(&observed.decision)
        );
    };
    assert_eq!(
        pod.pointer("/spec/zzBig"),
        Some(&json!(18446744073709551616.0))
    );
    assert_eq!(pod.pointer("/spec/zzMax"), Some(&json!(u64::MAX)));
    assert_eq!(pod.pointer("/spec/zzMin"), Some(&json!(i64::MIN)));
}
