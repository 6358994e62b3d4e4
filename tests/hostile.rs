//! Hostile inputs (issue 7): each has one exact, documented outcome.
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
//! the fuzzers); the large ones (10 000 containers, 1 MB values, 100 000 levels of nesting) are
//! built here. Every expected mutation is also checked against the model of
//! `tests/properties/oracle.rs` (exact Pod), for losslessness and for idempotence.
//!
//! The last part replays `test_data/regressions/` (see its README.md).

#[path = "properties/oracle.rs"]
mod oracle;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use azure_workload_identity_policy::Rejection;
use azure_workload_identity_policy::ServiceAccount;
use azure_workload_identity_policy::{Decision, check_settings};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use oracle::{EXPIRATION_KEY, Observed, USE_LABEL};

const CLIENT_ID: &str = "5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f";
const SA_TENANT: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
const DEFAULT_TENANT: &str = "d3fa017e-5e7a-4c2b-a0c1-9e8f7d6c5b4a";
const SETTINGS_HINT: &str = "Fix the settings of the policy (kwctl run --settings-json, or \
                             spec.settings of the ClusterAdmissionPolicy)";
const ACCEPTED_SETTINGS: &str = "Accepted settings: defaultTenantId (required), \
    azureEnvironment, authorityHost, audience, tokenLayout, proxyImage, proxyInitImage, \
    proxyLogLevel, useNativeSidecar, customTokenEndpoint";

fn data(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("test_data")
        .join(dir)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The ServiceAccount every lookup finds: `azure.workload.identity/client-id` and `tenant-id`.
fn workload_sa() -> ServiceAccount {
    oracle::service_account(&json!({
        "azure.workload.identity/client-id": CLIENT_ID,
        "azure.workload.identity/tenant-id": SA_TENANT,
    }))
}

// ---------------------------------------------------------------------------------------------
// Expected outcomes
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
enum Expect {
    /// Accepted unchanged, no lookup.
    Accept,
    /// Rejected with exactly this message after these lookups.
    Reject(String, Vec<(&'static str, &'static str)>),
    /// Mutated after one lookup of (namespace, name) into exactly the Pod the model predicts.
    Mutate((&'static str, &'static str)),
}

fn malformed(detail: &str) -> Expect {
    Expect::Reject(
        format!(
            "azure-workload-identity: Pod \"default/web\" is malformed: {detail}. Fix the Pod manifest"
        ),
        vec![],
    )
}

fn unreadable(detail: &str) -> Expect {
    Expect::Reject(
        format!(
            "azure-workload-identity: the admission request could not be read ({detail}); this \
             is a bug in the caller, please report it"
        ),
        vec![],
    )
}

fn invalid_settings(detail: &str) -> Expect {
    Expect::Reject(
        format!(
            "azure-workload-identity: the policy settings are invalid: {detail}. {SETTINGS_HINT}"
        ),
        vec![],
    )
}

fn setting_type(setting: &str, detail: &str) -> String {
    format!("setting {setting}: {detail}. {ACCEPTED_SETTINGS}")
}

/// The essentials of a payload that may nest deeper than `Value` can: read with `RawValue`,
/// which skips without building values (as the policy does).
fn essentials(payload: &[u8]) -> Option<(Value, Value)> {
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
fn verify(
    payload: &[u8],
    sa: Option<&ServiceAccount>,
    expect: &Expect,
) -> Result<Observed, String> {
    let observed = catch_unwind(AssertUnwindSafe(|| oracle::check_generic(payload, sa)))
        .map_err(|_| "PANIC".to_string())??;
    let lookups = |expected: &[(&str, &str)]| -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(ns, n)| (ns.to_string(), n.to_string()))
            .collect()
    };
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
                    "not the Pod the spec predicts; first difference {:?}",
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

fn assert_outcome(name: &str, payload: &[u8], sa: Option<&ServiceAccount>, expect: &Expect) {
    if let Err(e) = verify(payload, sa, expect) {
        panic!("{name}: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// The fixtures of test_data/hostile/
// ---------------------------------------------------------------------------------------------

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
        (
            "request-without-namespace.json",
            Expect::Reject(
                "azure-workload-identity: the admission request for Pod \"web\" has no \
                 namespace, so its ServiceAccount cannot be looked up; create the Pod in a \
                 namespace"
                    .to_string(),
                vec![],
            ),
        ),
        (
            "request-without-namespace-pod-has-one.json",
            Expect::Reject(
                "azure-workload-identity: the admission request for Pod \"web\" has no \
                 namespace, so its ServiceAccount cannot be looked up; create the Pod in a \
                 namespace"
                    .to_string(),
                vec![],
            ),
        ),
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
        if let Err(e) = verify(&read(&dir.join(name)), Some(&sa), expect) {
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
    let payload = read(&data("hostile").join("integer-beyond-64-bits.json"));
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

// ---------------------------------------------------------------------------------------------
// Large inputs, built here
// ---------------------------------------------------------------------------------------------

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

#[test]
fn a_pod_with_10000_containers_gets_all_of_them_mutated() {
    let sa = workload_sa();
    let payload = pod_payload(with_containers(labelled_pod(true), 10_000));
    let observed = verify(
        &payload,
        Some(&sa),
        &Expect::Mutate(("default", "workload-sa")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let Decision::Mutate(pod) = observed.decision else {
        panic!("checked above");
    };
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
    let observed = verify(
        &payload,
        Some(&workload_sa()),
        &Expect::Mutate(("default", "workload-sa")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let Decision::Mutate(pod) = observed.decision else {
        panic!("checked above");
    };
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
    let observed = verify(
        &payload,
        Some(&workload_sa()),
        &Expect::Mutate(("default", "workload-sa")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let Decision::Mutate(pod) = observed.decision else {
        panic!("checked above");
    };
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

fn nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
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

// ---------------------------------------------------------------------------------------------
// Settings of the wrong types, through check_settings (validate_settings)
// ---------------------------------------------------------------------------------------------

#[test]
fn settings_of_the_wrong_types_are_invalid_naming_the_setting() {
    let cases: Vec<(String, String)> = vec![
        (
            r#"{"defaultTenantId": 42}"#.to_string(),
            setting_type(
                "defaultTenantId",
                "invalid type: integer `42`, expected a string",
            ),
        ),
        (
            r#"{"defaultTenantId": "t", "useNativeSidecar": "yes"}"#.to_string(),
            setting_type(
                "useNativeSidecar",
                "invalid type: string \"yes\", expected a boolean",
            ),
        ),
        (
            r#"{"defaultTenantId": ["t"]}"#.to_string(),
            setting_type(
                "defaultTenantId",
                "invalid type: sequence, expected a string",
            ),
        ),
        (
            r#""defaultTenantId""#.to_string(),
            "the settings must be a JSON object, e.g. {\"defaultTenantId\": \"<tenant-id>\"}"
                .to_string(),
        ),
        (
            format!(r#"{{"defaultTenantId": "t", "zz": {}}}"#, nested(200)),
            "the settings are not valid JSON: recursion limit exceeded at line 1 column 158"
                .to_string(),
        ),
    ];
    let mut failures = Vec::new();
    for (raw, expected) in cases {
        let result = catch_unwind(|| check_settings(&raw).map(|_| ()));
        if result.as_ref().ok() != Some(&Err(expected.clone())) {
            failures.push(format!(
                "{}: expected Err({expected:?}), got {result:?}",
                raw.get(..80).unwrap_or(&raw)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Bugs found by these tests, fixed in f1d1710 (fixtures in test_data/regressions/)
// ---------------------------------------------------------------------------------------------

fn regression(name: &str) -> Value {
    let path = data("regressions").join(name);
    serde_json::from_slice(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn reinvocation_with_proxy_and_own_client_id_is_accepted() {
    // mutated once (the proxy containers get no AZURE_CLIENT_ID), then accepted as it is
    let fixture = regression("proxy-with-own-client-id-is-not-idempotent.json");
    let payload = serde_json::to_vec(&fixture["payload"]).unwrap_or_default();
    let sa = oracle::service_account(&fixture["service_account"]);
    let first = oracle::observe(&payload, Some(&sa));
    let Decision::Mutate(pod) = &first.decision else {
        panic!(
            "expected a mutation, got {}",
            oracle::describe(&first.decision)
        );
    };
    let proxies: Vec<_> = pod
        .pointer("/spec/initContainers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .collect();
    assert_eq!(proxies, ["azwi-proxy", "azwi-proxy-init"]);
    let mut request = fixture["payload"]["request"].clone();
    request["object"] = pod.clone();
    let second = oracle::observe(
        &oracle::payload(&request, Some(&fixture["payload"]["settings"])),
        Some(&sa),
    );
    assert_eq!(
        second.decision,
        Decision::Accept,
        "{}",
        oracle::describe(&second.decision)
    );
    assert_eq!(replay(&fixture), Ok(()));
}

#[test]
fn settings_with_custom_token_endpoint_as_a_list_are_invalid() {
    let mut failures = Vec::new();
    for raw in [
        r#"{"defaultTenantId": "t", "customTokenEndpoint": []}"#,
        r#"{"defaultTenantId": "t", "customTokenEndpoint": ["mybinding", "api://x"]}"#,
    ] {
        let result = check_settings(raw).map(|c| c.custom_token_endpoint.is_some());
        let expected = setting_type(
            "customTokenEndpoint",
            "invalid type: sequence, expected struct CustomTokenEndpointSettings",
        );
        if result != Err(expected.clone()) {
            failures.push(format!("{raw}: expected Err({expected:?}), got {result:?}"));
        }
    }
    if let Err(e) = replay(&regression("settings-token-endpoint-as-a-list.json")) {
        failures.push(e);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Fixtures of bugs not fixed yet (`open_bug`): replayed here, not in `make test`.
#[test]
#[ignore = "replays the fixtures of open bugs, if any (test_data/regressions/README.md)"]
fn regressions_with_open_bugs() {
    let failures = replay_regressions(true);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// The regression corpus
// ---------------------------------------------------------------------------------------------

fn hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("bad hex {pair:?}"))
        })
        .collect()
}

/// Replays one regression fixture; `Err` says how it differs from its expected outcome.
fn replay(fixture: &Value) -> Result<(), String> {
    let payload = match (
        fixture.get("payload"),
        fixture.get("payload_text").and_then(Value::as_str),
        fixture.get("payload_hex").and_then(Value::as_str),
    ) {
        (Some(p), None, None) => serde_json::to_vec(p).map_err(|e| e.to_string())?,
        (None, Some(text), None) => text.as_bytes().to_vec(),
        (None, None, Some(h)) => hex(h)?,
        _ => return Err("needs exactly one of payload, payload_text, payload_hex".to_string()),
    };
    let expected = fixture.get("expected").ok_or("no expected")?;
    let text = |key: &str| expected.get(key).and_then(Value::as_str);
    match fixture.get("entry").and_then(Value::as_str) {
        Some("validate") => {
            let sa = match fixture.get("service_account") {
                Some(Value::Null) | None => None,
                Some(annotations) => Some(oracle::service_account(annotations)),
            };
            let observed = catch_unwind(AssertUnwindSafe(|| {
                oracle::check_generic(&payload, sa.as_ref())
            }))
            .map_err(|_| "PANIC".to_string())??;
            let decision = match &observed.decision {
                Decision::Accept => "accept",
                Decision::Mutate(_) => "mutate",
                Decision::Reject(_) => "reject",
            };
            if text("decision") != Some(decision) {
                return Err(format!(
                    "expected {:?}, got {}",
                    text("decision"),
                    oracle::describe(&observed.decision)
                ));
            }
            if let (Some(message), Decision::Reject(Rejection(actual))) =
                (text("message"), &observed.decision)
                && message != actual
            {
                return Err(format!("expected message {message:?}, got {actual:?}"));
            }
            if let Some(lookups) = expected.get("lookups") {
                let actual = json!(observed.calls);
                if *lookups != actual {
                    return Err(format!("expected lookups {lookups}, got {actual}"));
                }
            }
            Ok(())
        }
        Some("validate_settings") => {
            let raw = String::from_utf8(payload).map_err(|e| e.to_string())?;
            let result = catch_unwind(|| check_settings(&raw).map(|_| ()))
                .map_err(|_| "PANIC".to_string())?;
            let valid = expected.get("valid").and_then(Value::as_bool);
            match (valid, &result) {
                (Some(true), Ok(())) => Ok(()),
                (Some(false), Err(m)) if text("message").is_none_or(|e| e == m) => Ok(()),
                _ => Err(format!(
                    "expected valid={valid:?} {:?}, got {result:?}",
                    text("message")
                )),
            }
        }
        other => Err(format!("unknown entry {other:?}")),
    }
}

/// Replays every fixture of `test_data/regressions/` (those with an `open_bug` when
/// `open_bugs`, the others otherwise) and returns the failures.
fn replay_regressions(open_bugs: bool) -> Vec<String> {
    let dir = data("regressions");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    let mut replayed = 0;
    for path in &paths {
        let fixture: Value = match serde_json::from_slice(&read(path)) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{}: not JSON: {e}", path.display()));
                continue;
            }
        };
        if fixture.get("open_bug").is_some() != open_bugs {
            continue;
        }
        replayed += 1;
        if let Err(e) = replay(&fixture) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    eprintln!("replayed {replayed} of {} regression fixtures", paths.len());
    if replayed == 0 && !open_bugs {
        failures.push(format!("no fixture to replay in {}", dir.display()));
    }
    failures
}

#[test]
fn the_regression_corpus_replays_with_its_expected_outcomes() {
    let failures = replay_regressions(false);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
