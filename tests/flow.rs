//! Native flow tests of the policy: `evaluate(payload, &cluster)` from the waPC `validate`
//! payload to the `Decision`, with ServiceAccounts served by a fake cluster that records every
//! lookup. Each test asserts the exact decision (the whole mutated Pod, or the rejection message
//! or its required parts) and the exact lookups made.
//!
//! Fixtures live in `test_data/` (AdmissionRequests, ServiceAccounts, settings, the expected Pod);
//! small Pods are written inline. Section numbers (§) refer to
//! `shared/spec/azure-workload-identity-behaviour.md`.

use std::cell::RefCell;
use std::path::PathBuf;

use azure_workload_identity_policy::Rejection;
use azure_workload_identity_policy::{Decision, check_settings, evaluate};
use azure_workload_identity_policy::{ServiceAccount, ServiceAccountSource};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Constants of the fixtures and of the spec
// ---------------------------------------------------------------------------------------------

const NS: &str = "default";
const SA_NAME: &str = "workload-sa";
/// `azure.workload.identity/client-id` of `test_data/sa-workload.json`.
const CLIENT_ID: &str = "5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f";
/// `azure.workload.identity/tenant-id` of `test_data/sa-workload.json`.
const SA_TENANT: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
/// `defaultTenantId` of `test_data/settings-default.json`.
const DEFAULT_TENANT: &str = "d3fa017e-5e7a-4c2b-a0c1-9e8f7d6c5b4a";

const PUBLIC_AUTHORITY: &str = "https://login.microsoftonline.com/";
const AUDIENCE: &str = "api://AzureADTokenExchange";
const MOUNT_PATH: &str = "/var/run/secrets/azure/wi";
const TOKEN_FILE: &str = "/var/run/secrets/azure/wi/token/azure-identity-token";
const TOKEN_PATH: &str = "token/azure-identity-token";
const LEGACY_NAME: &str = "azure-identity-token";
const LEGACY_MOUNT_PATH: &str = "/var/run/secrets/azure/tokens";
const LEGACY_TOKEN_FILE: &str = "/var/run/secrets/azure/tokens/azure-identity-token";

const CLIENT_ID_KEY: &str = "azure.workload.identity/client-id";
const USE_LABEL: &str = "/metadata/labels/azure.workload.identity~1use";
const SKIP_ANNOTATION: &str = "/metadata/annotations/azure.workload.identity~1skip-containers";
const EXPIRATION_ANNOTATION: &str =
    "/metadata/annotations/azure.workload.identity~1service-account-token-expiration";

// Volume names, spec §4.5: prefix + first 30 hex chars of SHA-256 of the hash input, computed
// with `printf %s INPUT | sha256sum | cut -c1-30`; the first four are the spec's worked examples.
/// hash input `web`
const WEB_VOLUME: &str = "azure-workload-identity-reserved-4b5e57f6eb2f42b9039b3d1e139292";
/// hash input `pod`
const POD_VOLUME: &str = "azure-workload-identity-reserved-425c89ed5bb78a7623fae60fd8a6f6";
/// hash input `web-7d4b9c5f6- (prefix)`
const WEB_PREFIX_VOLUME: &str = "azure-workload-identity-reserved-7a75b2d9436388dbbb56003231b852";
/// hash input ` (prefix)`
const NO_NAME_VOLUME: &str = "azure-workload-identity-reserved-7ae265465cf68a19ccd3c91d70dc31";
/// hash input `workload-app` (the Pod of `test_data/request-labelled-pod.json`)
const WORKLOAD_APP_VOLUME: &str = "azure-workload-identity-reserved-549d3c1935f5b955c7b85a81ea1a28";
/// hash input `workload-app- (prefix)`
const WORKLOAD_APP_PREFIX_VOLUME: &str =
    "azure-workload-identity-reserved-726d01eadb43268d4ff9b363091e68";
/// hash input `workload-app-x7k2p`
const WORKLOAD_APP_X7K2P_VOLUME: &str =
    "azure-workload-identity-reserved-6700aef8947ecbcf8f57d1901e986f";

// ---------------------------------------------------------------------------------------------
// The fake cluster
// ---------------------------------------------------------------------------------------------

/// Serves ServiceAccounts from JSON (as the host returns them) and records every lookup.
/// Anything it does not serve is answered with the real host's not-found text.
#[derive(Default)]
struct FakeCluster {
    answers: Vec<(String, String, Result<ServiceAccount, String>)>,
    calls: RefCell<Vec<(String, String)>>,
}

/// The error text of Kubewarden's `kubernetes/get_resource` for a missing object.
fn not_found(namespace: &str, name: &str) -> String {
    format!(
        "Cannot find v1/ServiceAccount named '{name}' inside of namespace 'Some(\"{namespace}\")'"
    )
}

impl FakeCluster {
    fn empty() -> Self {
        FakeCluster::default()
    }

    /// Serves these ServiceAccount objects under their own `metadata.namespace/name`.
    fn serving(service_accounts: &[Value]) -> Self {
        let answers = service_accounts
            .iter()
            .map(|sa| {
                let field = |key: &str| {
                    sa.pointer(&format!("/metadata/{key}"))
                        .and_then(Value::as_str)
                        .unwrap_or_else(|| panic!("fixture ServiceAccount without {key}: {sa}"))
                        .to_string()
                };
                let parsed = serde_json::from_value::<ServiceAccount>(sa.clone())
                    .unwrap_or_else(|e| panic!("fixture ServiceAccount does not parse: {e}"));
                (field("namespace"), field("name"), Ok(parsed))
            })
            .collect();
        FakeCluster {
            answers,
            calls: RefCell::default(),
        }
    }

    /// Answers the lookup of `namespace/name` with this error.
    fn failing(mut self, namespace: &str, name: &str, error: &str) -> Self {
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

    fn calls(&self) -> Vec<(String, String)> {
        self.calls.borrow().clone()
    }
}

impl ServiceAccountSource for FakeCluster {
    fn get(&self, namespace: &str, name: &str) -> Result<ServiceAccount, String> {
        self.calls
            .borrow_mut()
            .push((namespace.to_string(), name.to_string()));
        self.answers
            .iter()
            .find(|(ns, n, _)| ns == namespace && n == name)
            .map(|(_, _, answer)| answer.clone())
            .unwrap_or_else(|| Err(not_found(namespace, name)))
    }
}

fn lookups(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(ns, name)| (ns.to_string(), name.to_string()))
        .collect()
}

/// A ServiceAccount object as the host returns it.
fn service_account(namespace: &str, name: &str, annotations: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": "0c5e6a8e-34b1-4f7e-9d1a-2b3c4d5e6f70",
            "annotations": annotations
        }
    })
}

/// `default/workload-sa` with a client id, the SA tenant and these extra annotations.
fn workload_sa_with(extra: &[(&str, &str)]) -> Value {
    let mut annotations =
        json!({CLIENT_ID_KEY: CLIENT_ID, "azure.workload.identity/tenant-id": SA_TENANT});
    for (key, value) in extra {
        set(
            &mut annotations,
            &format!("/{}", key.replace('/', "~1")),
            json!(value),
        );
    }
    service_account(NS, SA_NAME, annotations)
}

// ---------------------------------------------------------------------------------------------
// Fixtures, payloads and assertions
// ---------------------------------------------------------------------------------------------

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("test_data")
        .join(name)
}

fn fixture(name: &str) -> Value {
    let path = fixture_path(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn default_settings() -> Value {
    fixture("settings-default.json")
}

/// `{"request": …, "settings": …}`, the payload of the waPC `validate` call.
fn payload(request: &Value, settings: Option<&Value>) -> Vec<u8> {
    let payload = match settings {
        Some(settings) => json!({"request": request, "settings": settings}),
        None => json!({ "request": request }),
    };
    serde_json::to_vec(&payload).unwrap_or_else(|e| panic!("payload does not serialise: {e}"))
}

fn run(request: &Value, settings: &Value, cluster: &FakeCluster) -> Decision {
    evaluate(&payload(request, Some(settings)), cluster)
}

/// A Pod CREATE in namespace `default`.
fn pod_request(pod: Value) -> Value {
    json!({
        "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
        "requestResource": {"group": "", "version": "v1", "resource": "pods"},
        "namespace": NS,
        "operation": "CREATE",
        "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
        "object": pod,
        "oldObject": null,
        "dryRun": false
    })
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// The JSON pointer of the first difference between two values, for readable failures.
fn first_difference(expected: &Value, actual: &Value, at: String) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .keys()
            .chain(a.keys().filter(|k| !e.contains_key(*k)))
            .find_map(|k| match (e.get(k), a.get(k)) {
                (Some(ev), Some(av)) => first_difference(ev, av, format!("{at}/{k}")),
                (Some(_), None) => Some(format!("{at}/{k} (missing)")),
                _ => Some(format!("{at}/{k} (unexpected)")),
            }),
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .find_map(|(i, (ev, av))| first_difference(ev, av, format!("{at}/{i}"))),
        _ if expected == actual => None,
        _ => Some(format!("{at}: expected {expected}, got {actual}")),
    }
}

fn describe(decision: &Decision) -> String {
    match decision {
        Decision::Accept => "Accept".to_string(),
        Decision::Mutate(pod) => format!("Mutate({})", pretty(pod)),
        Decision::Reject(Rejection(message)) => format!("Reject({message:?})"),
    }
}

fn assert_decision(actual: &Decision, expected: &Decision, case: &str) {
    if actual == expected {
        return;
    }
    let difference = match (expected, actual) {
        (Decision::Mutate(e), Decision::Mutate(a)) => {
            first_difference(e, a, String::new()).unwrap_or_default()
        }
        _ => String::new(),
    };
    panic!(
        "{case}: wrong decision\nfirst difference: {difference}\nexpected: {}\nactual: {}",
        describe(expected),
        describe(actual)
    );
}

/// The rejection message, or a failure naming the case.
fn rejection(decision: &Decision, case: &str) -> String {
    match decision {
        Decision::Reject(Rejection(message)) => message.clone(),
        other => panic!("{case}: expected a rejection, got {}", describe(other)),
    }
}

fn assert_rejected_with(decision: &Decision, parts: &[&str], case: &str) {
    let message = rejection(decision, case);
    for part in parts {
        assert!(
            message.contains(part),
            "{case}: the message lacks {part:?}\nmessage: {message}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// JSON editing helpers (JSON pointers; `~1` is `/`, `-` appends to a list)
// ---------------------------------------------------------------------------------------------

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Sets `pointer` in `target`, creating missing objects on the way.
fn set(target: &mut Value, pointer: &str, new: Value) {
    let tokens: Vec<String> = pointer.split('/').skip(1).map(unescape).collect();
    let Some((last, parents)) = tokens.split_last() else {
        *target = new;
        return;
    };
    let mut current = target;
    for token in parents {
        if current.is_null() {
            *current = json!({});
        }
        current = match current {
            Value::Object(map) => map.entry(token.clone()).or_insert(Value::Null),
            Value::Array(items) => {
                let index: usize = token
                    .parse()
                    .unwrap_or_else(|_| panic!("{pointer}: {token} is not an index"));
                items
                    .get_mut(index)
                    .unwrap_or_else(|| panic!("{pointer}: no item {index}"))
            }
            other => panic!("{pointer}: cannot descend into {other}"),
        };
    }
    if current.is_null() {
        *current = json!({});
    }
    match current {
        Value::Object(map) => {
            map.insert(last.clone(), new);
        }
        Value::Array(items) if last == "-" => items.push(new),
        Value::Array(items) => {
            let index: usize = last
                .parse()
                .unwrap_or_else(|_| panic!("{pointer}: {last} is not an index"));
            let slot = items
                .get_mut(index)
                .unwrap_or_else(|| panic!("{pointer}: no item {index}"));
            *slot = new;
        }
        other => panic!("{pointer}: cannot set a field of {other}"),
    }
}

/// Removes the field or list item at `pointer`.
fn remove(target: &mut Value, pointer: &str) {
    let (parent, last) = pointer
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("{pointer} is not a pointer"));
    let last = unescape(last);
    match target.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&last)
                .unwrap_or_else(|| panic!("{pointer}: nothing to remove"));
        }
        Some(Value::Array(items)) => {
            let index: usize = last
                .parse()
                .unwrap_or_else(|_| panic!("{pointer}: {last} is not an index"));
            assert!(index < items.len(), "{pointer}: no item {index}");
            items.remove(index);
        }
        _ => panic!("{pointer}: no such parent"),
    }
}

/// A copy of `value` with these edits.
fn with(value: &Value, edits: &[(&str, Value)]) -> Value {
    let mut value = value.clone();
    for (pointer, new) in edits {
        set(&mut value, pointer, new.clone());
    }
    value
}

/// A copy of `value` without these fields.
fn without(value: &Value, pointers: &[&str]) -> Value {
    let mut value = value.clone();
    for pointer in pointers {
        remove(&mut value, pointer);
    }
    value
}

/// A copy of `value` with every string equal to `from` replaced by `to`.
fn renamed(value: &Value, from: &str, to: &str) -> Value {
    match value {
        Value::String(s) if s == from => Value::String(to.to_string()),
        Value::Array(items) => Value::Array(items.iter().map(|v| renamed(v, from, to)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), renamed(v, from, to)))
                .collect(),
        ),
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// What the policy injects (written from the spec, §4.1, §4.3, §4.5)
// ---------------------------------------------------------------------------------------------

fn env(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

/// The four env vars for `default/workload-sa` with the default settings.
fn wi_env() -> Vec<Value> {
    vec![
        env("AZURE_CLIENT_ID", CLIENT_ID),
        env("AZURE_TENANT_ID", SA_TENANT),
        env("AZURE_FEDERATED_TOKEN_FILE", TOKEN_FILE),
        env("AZURE_AUTHORITY_HOST", PUBLIC_AUTHORITY),
    ]
}

/// `wi_env()` without AZURE_CLIENT_ID.
fn wi_env_without_client_id() -> Vec<Value> {
    vec![
        env("AZURE_TENANT_ID", SA_TENANT),
        env("AZURE_FEDERATED_TOKEN_FILE", TOKEN_FILE),
        env("AZURE_AUTHORITY_HOST", PUBLIC_AUTHORITY),
    ]
}

fn wi_mount(volume: &str) -> Value {
    json!({"name": volume, "mountPath": MOUNT_PATH, "readOnly": true})
}

fn wi_volume(name: &str, audience: &str, expiration: i64) -> Value {
    json!({
        "name": name,
        "projected": {"sources": [{"serviceAccountToken": {
            "path": TOKEN_PATH,
            "audience": audience,
            "expirationSeconds": expiration
        }}]}
    })
}

fn legacy_mount() -> Value {
    json!({"name": LEGACY_NAME, "mountPath": LEGACY_MOUNT_PATH, "readOnly": true})
}

fn legacy_volume() -> Value {
    json!({
        "name": LEGACY_NAME,
        "projected": {"sources": [{"serviceAccountToken": {
            "path": LEGACY_NAME,
            "audience": AUDIENCE,
            "expirationSeconds": 3600
        }}]}
    })
}

fn concat(a: Vec<Value>, b: Vec<Value>) -> Value {
    Value::Array(a.into_iter().chain(b).collect())
}

// ---------------------------------------------------------------------------------------------
// Small Pods
// ---------------------------------------------------------------------------------------------

/// A labelled Pod `default/web` with one container, using `workload-sa`.
fn web_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"app": "web", "azure.workload.identity/use": "true"}
        },
        "spec": {
            "serviceAccountName": "workload-sa",
            "containers": [{"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}],
            "restartPolicy": "Always"
        }
    })
}

/// `web_pod()` after the policy, with these env vars, mount and volume.
fn web_mutated(env: Vec<Value>, mount: Value, volume: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"app": "web", "azure.workload.identity/use": "true"}
        },
        "spec": {
            "serviceAccountName": "workload-sa",
            "containers": [{
                "name": "app",
                "image": "nginx:1.27",
                "ports": [{"containerPort": 80}],
                "env": env,
                "volumeMounts": [mount]
            }],
            "restartPolicy": "Always",
            "volumes": [volume]
        }
    })
}

/// `web_pod()` after the policy with the default settings and `default/workload-sa`.
fn web_mutated_default() -> Value {
    web_mutated(
        wi_env(),
        wi_mount(WEB_VOLUME),
        wi_volume(WEB_VOLUME, AUDIENCE, 3600),
    )
}

/// A labelled Pod `default/web` with an init container, two containers and an ephemeral one.
fn trio_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"azure.workload.identity/use": "true"}},
        "spec": {
            "serviceAccountName": "workload-sa",
            "initContainers": [{"name": "init-config", "image": "busybox:1.36"}],
            "containers": [
                {"name": "app", "image": "nginx:1.27"},
                {"name": "log-shipper", "image": "fluent/fluent-bit:3.1"}
            ]
        }
    })
}

/// `trio_pod()` after the policy, the containers in `skipped` left alone.
fn trio_mutated(skipped: &[&str]) -> Value {
    let container = |name: &str, image: &str| {
        if skipped.contains(&name) {
            json!({"name": name, "image": image})
        } else {
            json!({"name": name, "image": image, "env": wi_env(), "volumeMounts": [wi_mount(WEB_VOLUME)]})
        }
    };
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"azure.workload.identity/use": "true"}},
        "spec": {
            "serviceAccountName": "workload-sa",
            "initContainers": [container("init-config", "busybox:1.36")],
            "containers": [
                container("app", "nginx:1.27"),
                container("log-shipper", "fluent/fluent-bit:3.1")
            ],
            "volumes": [wi_volume(WEB_VOLUME, AUDIENCE, 3600)]
        }
    })
}

// =============================================================================================
// 1. The labelled Pod of the fixtures (§3, §4)
// =============================================================================================

#[test]
fn labelled_pod_is_mutated_as_a_whole_and_unknown_fields_survive() {
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    let decision = run(
        &fixture("request-labelled-pod.json"),
        &default_settings(),
        &cluster,
    );
    assert_decision(
        &decision,
        &Decision::Mutate(fixture("expected-labelled-pod.json")),
        "labelled pod",
    );
    assert_eq!(cluster.calls(), lookups(&[(NS, SA_NAME)]));
}

#[test]
fn expected_fixture_differs_from_the_request_only_where_the_policy_injects() {
    // Guards the hand-written expected file: removing exactly what §4 adds gives the input back.
    let mut expected = fixture("expected-labelled-pod.json");
    // The four injected env vars follow the container's own entries.
    for (container, kept_env) in [("initContainers/0", 1), ("containers/0", 2)] {
        for _ in 0..4 {
            remove(&mut expected, &format!("/spec/{container}/env/{kept_env}"));
        }
    }
    remove(&mut expected, "/spec/containers/1/env");
    for (container, mount) in [
        ("initContainers/0", 2),
        ("containers/0", 2),
        ("containers/1", 1),
    ] {
        remove(
            &mut expected,
            &format!("/spec/{container}/volumeMounts/{mount}"),
        );
    }
    remove(&mut expected, "/spec/volumes/2");
    let request = fixture("request-labelled-pod.json");
    assert_eq!(expected, request["object"]);
}

// =============================================================================================
// 2. Requests the policy does not handle (§1.1, §1.2): accepted, no lookup
// =============================================================================================

#[test]
fn requests_that_are_not_selected_are_accepted_without_a_lookup() {
    let labelled = fixture("request-labelled-pod.json");
    let unlabelled = fixture("request-unlabelled-pod.json");
    let pod = labelled["object"].clone();
    let label = |value: Value| with(&labelled, &[(&format!("/object{USE_LABEL}"), value)]);
    let deployment = json!({
        "uid": "c1a3f1c5-1c3e-4b7a-9a51-0a9a2f4d5e60",
        "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
        "namespace": NS,
        "operation": "CREATE",
        "object": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "workload-app", "namespace": NS, "labels": {"azure.workload.identity/use": "true"}},
            "spec": {
                "selector": {"matchLabels": {"app": "workload-app"}},
                "template": {
                    "metadata": {"labels": {"app": "workload-app", "azure.workload.identity/use": "true"}},
                    "spec": pod["spec"].clone()
                }
            }
        }
    });
    let invalid_settings = json!({"azureEnvironment": "AzureMoonCloud"});
    let cases: Vec<(&str, Value, Value)> = vec![
        ("no label", unlabelled.clone(), default_settings()),
        ("label \"True\"", label(json!("True")), default_settings()),
        ("label \"TRUE\"", label(json!("TRUE")), default_settings()),
        ("label \"1\"", label(json!("1")), default_settings()),
        ("label \"true \"", label(json!("true ")), default_settings()),
        ("label \"\"", label(json!("")), default_settings()),
        ("label boolean true", label(json!(true)), default_settings()),
        ("label null", label(Value::Null), default_settings()),
        (
            "annotation instead of label",
            with(
                &unlabelled,
                &[(
                    "/object/metadata/annotations/azure.workload.identity~1use",
                    json!("true"),
                )],
            ),
            default_settings(),
        ),
        (
            "UPDATE",
            with(
                &labelled,
                &[("/operation", json!("UPDATE")), ("/oldObject", pod.clone())],
            ),
            default_settings(),
        ),
        (
            "DELETE (object null)",
            with(
                &labelled,
                &[
                    ("/operation", json!("DELETE")),
                    ("/object", Value::Null),
                    ("/oldObject", pod.clone()),
                ],
            ),
            default_settings(),
        ),
        (
            "CONNECT",
            with(&labelled, &[("/operation", json!("CONNECT"))]),
            default_settings(),
        ),
        ("Deployment", deployment, default_settings()),
        (
            "Pod kind of another API group",
            with(&labelled, &[("/kind/group", json!("example.com"))]),
            default_settings(),
        ),
        (
            "no label, invalid settings",
            unlabelled.clone(),
            invalid_settings,
        ),
    ];
    for (case, request, settings) in cases {
        // The ServiceAccount has no client id: had the policy processed the request, it would
        // have rejected it.
        let cluster = FakeCluster::serving(&[fixture("sa-workload-no-client-id.json")]);
        assert_decision(&run(&request, &settings, &cluster), &Decision::Accept, case);
        assert_eq!(cluster.calls(), lookups(&[]), "{case}: lookups");
    }
}

// =============================================================================================
// 3. Which ServiceAccount is looked up, and where (§1.2)
// =============================================================================================

/// A JSON pointer and its new value; `None` removes the field.
type Edit<'a> = (&'a str, Option<Value>);

#[test]
fn empty_or_absent_service_account_name_looks_up_default() {
    let default_sa = service_account(
        NS,
        "default",
        json!({CLIENT_ID_KEY: CLIENT_ID, "azure.workload.identity/tenant-id": SA_TENANT}),
    );
    // The same edits are made to the input and to the expected Pod: the policy leaves the
    // serviceAccountName/serviceAccount fields as they were.
    let cases: Vec<(&str, Vec<Edit>)> = vec![
        ("absent", vec![("/spec/serviceAccountName", None)]),
        ("empty", vec![("/spec/serviceAccountName", Some(json!("")))]),
        (
            "null",
            vec![("/spec/serviceAccountName", Some(Value::Null))],
        ),
        (
            "only the deprecated spec.serviceAccount",
            vec![
                ("/spec/serviceAccountName", None),
                ("/spec/serviceAccount", Some(json!("workload-sa"))),
            ],
        ),
    ];
    for (case, edits) in cases {
        let edited = |mut value: Value| {
            for (pointer, new) in &edits {
                match new {
                    Some(new) => set(&mut value, pointer, new.clone()),
                    None => remove(&mut value, pointer),
                }
            }
            value
        };
        let cluster = FakeCluster::serving(&[default_sa.clone(), fixture("sa-workload.json")]);
        assert_decision(
            &run(
                &pod_request(edited(web_pod())),
                &default_settings(),
                &cluster,
            ),
            &Decision::Mutate(edited(web_mutated_default())),
            case,
        );
        assert_eq!(cluster.calls(), lookups(&[(NS, "default")]), "{case}");
    }
}

#[test]
fn service_account_is_looked_up_in_the_request_namespace() {
    const PAYMENTS_CLIENT_ID: &str = "7e1f4c2a-9b3d-4e5f-8a6b-1c2d3e4f5a6b";
    let payments_sa = service_account(
        "payments",
        SA_NAME,
        json!({CLIENT_ID_KEY: PAYMENTS_CLIENT_ID, "azure.workload.identity/tenant-id": SA_TENANT}),
    );
    let without_namespace = without(&web_pod(), &["/metadata/namespace"]);
    // (case, request namespace or None for an absent key, pod)
    let cases: Vec<(&str, Option<&str>, Value)> = vec![
        (
            "pod without namespace (created by a controller)",
            Some("payments"),
            without_namespace.clone(),
        ),
        (
            "request namespace wins over the pod's",
            Some("payments"),
            web_pod(),
        ),
    ];
    for (case, namespace, pod) in cases {
        let cluster = FakeCluster::serving(&[payments_sa.clone(), fixture("sa-workload.json")]);
        let mut request = pod_request(pod.clone());
        match namespace {
            Some(ns) => request["namespace"] = json!(ns),
            None => remove(&mut request, "/namespace"),
        }
        let decision = run(&request, &default_settings(), &cluster);
        assert_eq!(cluster.calls(), lookups(&[("payments", SA_NAME)]), "{case}");
        let mut expected = web_mutated(
            vec![
                env("AZURE_CLIENT_ID", PAYMENTS_CLIENT_ID),
                env("AZURE_TENANT_ID", SA_TENANT),
                env("AZURE_FEDERATED_TOKEN_FILE", TOKEN_FILE),
                env("AZURE_AUTHORITY_HOST", PUBLIC_AUTHORITY),
            ],
            wi_mount(WEB_VOLUME),
            wi_volume(WEB_VOLUME, AUDIENCE, 3600),
        );
        expected["metadata"] = pod["metadata"].clone();
        // §1.2: the policy may fill metadata.namespace with the request namespace (optional and
        // harmless); undo that fill so that the comparison covers everything else exactly.
        let decision = match decision {
            Decision::Mutate(mut mutated)
                if mutated.pointer("/metadata/namespace") == Some(&json!("payments"))
                    && pod.pointer("/metadata/namespace") != Some(&json!("payments")) =>
            {
                match pod.pointer("/metadata/namespace") {
                    Some(original) => mutated["metadata"]["namespace"] = original.clone(),
                    None => remove(&mut mutated, "/metadata/namespace"),
                }
                Decision::Mutate(mutated)
            }
            other => other,
        };
        assert_decision(&decision, &Decision::Mutate(expected), case);
    }
}

#[test]
fn request_without_any_namespace_is_rejected_without_a_lookup() {
    let pod = without(&web_pod(), &["/metadata/namespace"]);
    for (case, request) in [
        (
            "empty namespace",
            with(&pod_request(pod.clone()), &[("/namespace", json!(""))]),
        ),
        (
            "absent namespace",
            without(&pod_request(pod.clone()), &["/namespace"]),
        ),
    ] {
        let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
        assert_decision(
            &run(&request, &default_settings(), &cluster),
            &Decision::Reject(Rejection(
                "azure-workload-identity: the admission request for Pod \"web\" has no namespace, \
                 so its ServiceAccount cannot be looked up; create the Pod in a namespace"
                    .to_string(),
            )),
            case,
        );
        assert_eq!(cluster.calls(), lookups(&[]), "{case}");
    }
}

// =============================================================================================
// 4. ServiceAccount lookup failures (§3 step 3, §5)
// =============================================================================================

#[test]
fn missing_service_account_is_rejected_with_the_exact_message() {
    let cluster = FakeCluster::empty();
    let decision = run(
        &fixture("request-labelled-pod.json"),
        &default_settings(),
        &cluster,
    );
    assert_decision(
        &decision,
        &Decision::Reject(Rejection(
            "azure-workload-identity: ServiceAccount \"default/workload-sa\" used by Pod \
             \"default/workload-app\" was not found (Cannot find v1/ServiceAccount named \
             'workload-sa' inside of namespace 'Some(\"default\")'). Create it and annotate it \
             with the identity's client ID (kubectl create serviceaccount -n default workload-sa \
             && kubectl annotate serviceaccount -n default workload-sa \
             azure.workload.identity/client-id=<client-id>), or set spec.serviceAccountName to an \
             existing ServiceAccount"
                .to_string(),
        )),
        "missing ServiceAccount",
    );
    assert_eq!(cluster.calls(), lookups(&[(NS, SA_NAME)]));
}

#[test]
fn service_account_lookup_failures_are_rejections_naming_the_service_account() {
    let forbidden = "error invoking host capability kubernetes.get_resource: Callback evaluation \
        failure: serviceaccounts \"workload-sa\" is forbidden: User \
        \"system:serviceaccount:kubewarden:policy-server-default\" cannot get resource \
        \"serviceaccounts\" in API group \"\" in the namespace \"default\"";
    let timeout = "error invoking host capability kubernetes.get_resource: Callback evaluation \
        failure: operation timed out";
    let payments_sa = service_account("payments", SA_NAME, json!({CLIENT_ID_KEY: CLIENT_ID}));
    // (case, cluster, host error, what the message says happened)
    let cases: Vec<(&str, FakeCluster, String, &str)> = vec![
        (
            "not found",
            FakeCluster::empty(),
            not_found(NS, SA_NAME),
            "was not found",
        ),
        (
            "same name in another namespace only",
            FakeCluster::serving(&[payments_sa]),
            not_found(NS, SA_NAME),
            "was not found",
        ),
        (
            "forbidden",
            FakeCluster::empty().failing(NS, SA_NAME, forbidden),
            forbidden.to_string(),
            "could not be read",
        ),
        (
            "timeout",
            FakeCluster::empty().failing(NS, SA_NAME, timeout),
            timeout.to_string(),
            "could not be read",
        ),
    ];
    for (case, cluster, host_error, what) in cases {
        let decision = run(
            &fixture("request-labelled-pod.json"),
            &default_settings(),
            &cluster,
        );
        assert_rejected_with(
            &decision,
            &[
                "ServiceAccount \"default/workload-sa\"",
                "Pod \"default/workload-app\"",
                what,
                &format!("({host_error})"),
                "kubectl annotate serviceaccount -n default workload-sa \
                 azure.workload.identity/client-id=<client-id>",
            ],
            case,
        );
        assert_eq!(cluster.calls(), lookups(&[(NS, SA_NAME)]), "{case}");
    }
}

// =============================================================================================
// 5. The project rule: a usable client id is required (§5, issue 3)
// =============================================================================================

#[test]
fn missing_client_id_is_rejected_with_the_exact_message() {
    let cluster = FakeCluster::serving(&[fixture("sa-workload-no-client-id.json")]);
    let decision = run(
        &fixture("request-labelled-pod.json"),
        &default_settings(),
        &cluster,
    );
    assert_decision(
        &decision,
        &Decision::Reject(Rejection(
            "azure-workload-identity: ServiceAccount \"default/workload-sa\" used by Pod \
             \"default/workload-app\" has no \"azure.workload.identity/client-id\" annotation, so \
             AZURE_CLIENT_ID cannot be injected. Annotate the ServiceAccount with the client ID \
             of the managed identity or app registration: kubectl annotate serviceaccount -n \
             default workload-sa azure.workload.identity/client-id=<client-id>. Alternatively \
             set AZURE_CLIENT_ID in the env of every container of the Pod"
                .to_string(),
        )),
        "missing client-id",
    );
    assert_eq!(cluster.calls(), lookups(&[(NS, SA_NAME)]));
}

#[test]
fn unusable_client_id_is_rejected_naming_the_key_the_service_account_and_the_fix() {
    let tenant = json!(SA_TENANT);
    let sa = |annotations: Value| service_account(NS, SA_NAME, annotations);
    // (case, ServiceAccount, what the message must say about it)
    let cases: Vec<(&str, Value, String)> = vec![
        (
            "no client-id annotation",
            fixture("sa-workload-no-client-id.json"),
            "has no \"azure.workload.identity/client-id\" annotation".to_string(),
        ),
        (
            "no annotations at all",
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": SA_NAME, "namespace": NS}}),
            "has no \"azure.workload.identity/client-id\" annotation".to_string(),
        ),
        (
            "annotations null",
            sa(Value::Null),
            "has no \"azure.workload.identity/client-id\" annotation".to_string(),
        ),
        (
            "empty client-id",
            sa(json!({CLIENT_ID_KEY: "", "azure.workload.identity/tenant-id": tenant})),
            "has an empty \"azure.workload.identity/client-id\" annotation".to_string(),
        ),
        (
            "client_id (issue #1026)",
            fixture("sa-workload-misspelt-client-id.json"),
            "but has \"azure.workload.identity/client_id\", which looks like a misspelling"
                .to_string(),
        ),
        (
            "clientId",
            sa(json!({"azure.workload.identity/clientId": CLIENT_ID})),
            "but has \"azure.workload.identity/clientId\", which looks like a misspelling"
                .to_string(),
        ),
        (
            "different case",
            sa(json!({"Azure.Workload.Identity/Client-ID": CLIENT_ID})),
            "but has \"Azure.Workload.Identity/Client-ID\", which looks like a misspelling"
                .to_string(),
        ),
        (
            "missing prefix",
            sa(json!({"client-id": CLIENT_ID})),
            "but has \"client-id\", which looks like a misspelling".to_string(),
        ),
        (
            "typo",
            sa(json!({"azure.workload.identity/clinet-id": CLIENT_ID})),
            "but has \"azure.workload.identity/clinet-id\", which looks like a misspelling"
                .to_string(),
        ),
    ];
    for (case, service_account, problem) in cases {
        let cluster = FakeCluster::serving(&[service_account]);
        let decision = run(
            &fixture("request-labelled-pod.json"),
            &default_settings(),
            &cluster,
        );
        assert_rejected_with(
            &decision,
            &[
                &problem,
                "\"azure.workload.identity/client-id\"",
                "ServiceAccount \"default/workload-sa\"",
                "kubectl annotate serviceaccount -n default workload-sa \
                 azure.workload.identity/client-id=<client-id>",
            ],
            case,
        );
        assert_eq!(cluster.calls(), lookups(&[(NS, SA_NAME)]), "{case}");
    }
}

#[test]
fn client_id_message_names_the_namespace_and_service_account_of_the_pod() {
    let billing = service_account(
        "payments",
        "billing",
        json!({"azure.workload.identity/tenant-id": SA_TENANT}),
    );
    let cluster = FakeCluster::serving(&[billing]);
    let request = with(
        &pod_request(with(
            &web_pod(),
            &[
                ("/metadata/namespace", json!("payments")),
                ("/spec/serviceAccountName", json!("billing")),
            ],
        )),
        &[("/namespace", json!("payments"))],
    );
    assert_rejected_with(
        &run(&request, &default_settings(), &cluster),
        &[
            "ServiceAccount \"payments/billing\" used by Pod \"payments/web\"",
            "has no \"azure.workload.identity/client-id\" annotation",
            "kubectl annotate serviceaccount -n payments billing \
             azure.workload.identity/client-id=<client-id>",
        ],
        "payments/billing",
    );
    assert_eq!(cluster.calls(), lookups(&[("payments", "billing")]));
}

#[test]
fn missing_client_id_is_reported_before_an_invalid_token_expiration() {
    // §3: the client-id check sits right after the ServiceAccount lookup.
    let cluster = FakeCluster::serving(&[fixture("sa-workload-no-client-id.json")]);
    let pod = with(&web_pod(), &[(EXPIRATION_ANNOTATION, json!("1h"))]);
    assert_rejected_with(
        &run(&pod_request(pod), &default_settings(), &cluster),
        &["has no \"azure.workload.identity/client-id\" annotation"],
        "client-id and expiration",
    );
}

#[test]
fn client_id_is_injected_verbatim_without_validation() {
    // §2.2 and §8: not validated, not trimmed.
    let sa = service_account(
        NS,
        SA_NAME,
        json!({CLIENT_ID_KEY: " not-a-guid ", "azure.workload.identity/tenant-id": "tenant x"}),
    );
    let cluster = FakeCluster::serving(&[sa]);
    assert_decision(
        &run(&pod_request(web_pod()), &default_settings(), &cluster),
        &Decision::Mutate(web_mutated(
            vec![
                env("AZURE_CLIENT_ID", " not-a-guid "),
                env("AZURE_TENANT_ID", "tenant x"),
                env("AZURE_FEDERATED_TOKEN_FILE", TOKEN_FILE),
                env("AZURE_AUTHORITY_HOST", PUBLIC_AUTHORITY),
            ],
            wi_mount(WEB_VOLUME),
            wi_volume(WEB_VOLUME, AUDIENCE, 3600),
        )),
        "verbatim client id",
    );
}

// =============================================================================================
// 6. The exception: every mutated container sets AZURE_CLIENT_ID itself (issue 3)
// =============================================================================================

fn own_client_id_value() -> Value {
    env("AZURE_CLIENT_ID", "11111111-2222-3333-4444-555555555555")
}

fn own_client_id_from_secret() -> Value {
    json!({"name": "AZURE_CLIENT_ID", "valueFrom": {"secretKeyRef": {"name": "identity", "key": "client-id"}}})
}

/// `trio_pod()` where the listed containers set AZURE_CLIENT_ID themselves.
fn trio_with_own_client_id(
    init: Option<Value>,
    app: Option<Value>,
    shipper: Option<Value>,
) -> Value {
    let mut pod = trio_pod();
    for (pointer, entry) in [
        ("/spec/initContainers/0/env", init),
        ("/spec/containers/0/env", app),
        ("/spec/containers/1/env", shipper),
    ] {
        if let Some(entry) = entry {
            set(&mut pod, pointer, json!([entry]));
        }
    }
    pod
}

#[test]
fn pod_whose_containers_all_set_their_own_client_id_is_mutated_without_it() {
    let pod = with(
        &trio_with_own_client_id(
            Some(own_client_id_value()),
            Some(own_client_id_from_secret()),
            Some(own_client_id_value()),
        ),
        &[(
            "/spec/ephemeralContainers",
            // Ephemeral containers are never mutated, so they do not need one.
            json!([{"name": "debugger", "image": "busybox:1.36", "targetContainerName": "app"}]),
        )],
    );
    let mounted = |name: &str, image: &str, own: Value| {
        json!({
            "name": name,
            "image": image,
            "env": concat(vec![own], wi_env_without_client_id()),
            "volumeMounts": [wi_mount(WEB_VOLUME)]
        })
    };
    let expected = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"azure.workload.identity/use": "true"}},
        "spec": {
            "serviceAccountName": "workload-sa",
            "initContainers": [mounted("init-config", "busybox:1.36", own_client_id_value())],
            "containers": [
                mounted("app", "nginx:1.27", own_client_id_from_secret()),
                mounted("log-shipper", "fluent/fluent-bit:3.1", own_client_id_value())
            ],
            "ephemeralContainers": [{"name": "debugger", "image": "busybox:1.36", "targetContainerName": "app"}],
            "volumes": [wi_volume(WEB_VOLUME, AUDIENCE, 3600)]
        }
    });
    for sa_fixture in [
        "sa-workload-no-client-id.json",
        "sa-workload-misspelt-client-id.json",
    ] {
        let cluster = FakeCluster::serving(&[fixture(sa_fixture)]);
        assert_decision(
            &run(&pod_request(pod.clone()), &default_settings(), &cluster),
            &Decision::Mutate(expected.clone()),
            sa_fixture,
        );
        assert_eq!(cluster.calls(), lookups(&[(NS, SA_NAME)]), "{sa_fixture}");
    }
}

#[test]
fn one_mutated_container_without_its_own_client_id_brings_back_the_rejection() {
    let own = || Some(own_client_id_value());
    let cases: Vec<(&str, Value)> = vec![
        (
            "a regular container lacks it",
            trio_with_own_client_id(own(), own(), None),
        ),
        (
            "the init container lacks it",
            trio_with_own_client_id(None, own(), own()),
        ),
        (
            "a native sidecar lacks it",
            with(
                &trio_with_own_client_id(None, own(), own()),
                &[("/spec/initContainers/0/restartPolicy", json!("Always"))],
            ),
        ),
        (
            "one sets it to the empty string",
            trio_with_own_client_id(own(), own(), Some(env("AZURE_CLIENT_ID", ""))),
        ),
        (
            "one sets a differently cased name",
            trio_with_own_client_id(own(), own(), Some(env("azure_client_id", "x"))),
        ),
        (
            "skipping another container does not help",
            with(
                &trio_with_own_client_id(own(), own(), None),
                &[(SKIP_ANNOTATION, json!("app"))],
            ),
        ),
    ];
    for (case, pod) in cases {
        let cluster = FakeCluster::serving(&[fixture("sa-workload-no-client-id.json")]);
        assert_rejected_with(
            &run(&pod_request(pod), &default_settings(), &cluster),
            &[
                "ServiceAccount \"default/workload-sa\" used by Pod \"default/web\" has no \
                 \"azure.workload.identity/client-id\" annotation",
                "kubectl annotate serviceaccount -n default workload-sa \
                 azure.workload.identity/client-id=<client-id>",
            ],
            case,
        );
        assert_eq!(cluster.calls(), lookups(&[(NS, SA_NAME)]), "{case}");
    }
}

#[test]
fn a_skipped_container_without_its_own_client_id_does_not_count() {
    let pod = with(
        &trio_with_own_client_id(
            Some(own_client_id_value()),
            Some(own_client_id_from_secret()),
            None,
        ),
        &[(SKIP_ANNOTATION, json!("log-shipper"))],
    );
    let expected = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"azure.workload.identity/use": "true"},
            "annotations": {"azure.workload.identity/skip-containers": "log-shipper"}
        },
        "spec": {
            "serviceAccountName": "workload-sa",
            "initContainers": [{
                "name": "init-config",
                "image": "busybox:1.36",
                "env": concat(vec![own_client_id_value()], wi_env_without_client_id()),
                "volumeMounts": [wi_mount(WEB_VOLUME)]
            }],
            "containers": [
                {
                    "name": "app",
                    "image": "nginx:1.27",
                    "env": concat(vec![own_client_id_from_secret()], wi_env_without_client_id()),
                    "volumeMounts": [wi_mount(WEB_VOLUME)]
                },
                {"name": "log-shipper", "image": "fluent/fluent-bit:3.1"}
            ],
            "volumes": [wi_volume(WEB_VOLUME, AUDIENCE, 3600)]
        }
    });
    let cluster = FakeCluster::serving(&[fixture("sa-workload-no-client-id.json")]);
    assert_decision(
        &run(&pod_request(pod), &default_settings(), &cluster),
        &Decision::Mutate(expected),
        "skipped container",
    );
    assert_eq!(cluster.calls(), lookups(&[(NS, SA_NAME)]));
}

// =============================================================================================
// 7. Tenant id (§2.2, §4.1)
// =============================================================================================

#[test]
fn tenant_id_comes_from_the_service_account_else_from_the_settings() {
    let tail = || {
        vec![
            env("AZURE_FEDERATED_TOKEN_FILE", TOKEN_FILE),
            env("AZURE_AUTHORITY_HOST", PUBLIC_AUTHORITY),
        ]
    };
    let client = || env("AZURE_CLIENT_ID", CLIENT_ID);
    let cases: Vec<(&str, Value, Vec<Value>)> = vec![
        ("tenant-id set", fixture("sa-workload.json"), wi_env()),
        (
            "tenant-id absent: default tenant",
            service_account(NS, SA_NAME, json!({CLIENT_ID_KEY: CLIENT_ID})),
            [
                vec![client(), env("AZURE_TENANT_ID", DEFAULT_TENANT)],
                tail(),
            ]
            .concat(),
        ),
        (
            "tenant-id empty: omitted, the default is not used",
            service_account(
                NS,
                SA_NAME,
                json!({CLIENT_ID_KEY: CLIENT_ID, "azure.workload.identity/tenant-id": ""}),
            ),
            [vec![client()], tail()].concat(),
        ),
    ];
    for (case, sa, expected_env) in cases {
        let cluster = FakeCluster::serving(&[sa]);
        assert_decision(
            &run(&pod_request(web_pod()), &default_settings(), &cluster),
            &Decision::Mutate(web_mutated(
                expected_env,
                wi_mount(WEB_VOLUME),
                wi_volume(WEB_VOLUME, AUDIENCE, 3600),
            )),
            case,
        );
    }
}

// =============================================================================================
// 8. Token expiration (§2.1, §2.3)
// =============================================================================================

fn expiration_syntax_error(place: &str, parse_error: &str) -> String {
    format!(
        "azure-workload-identity: annotation \
         \"azure.workload.identity/service-account-token-expiration\" of {place} is not a whole \
         number of seconds ({parse_error}). Set it to an integer between 3600 and 86400 without a \
         unit, e.g. \"3600\", or remove it to use 3600"
    )
}

fn expiration_range_error(place: &str, value: i64) -> String {
    format!(
        "azure-workload-identity: annotation \
         \"azure.workload.identity/service-account-token-expiration\" of {place}: token \
         expiration {value} not valid. Expected value to be between 3600 and 86400 (seconds); set \
         it within that range or remove it to use 3600"
    )
}

/// (pod annotation, ServiceAccount annotation, expirationSeconds or the rejection message)
type ExpirationCase<'a> = (Option<&'a str>, Option<&'a str>, Result<i64, String>);

#[test]
fn token_expiration_follows_the_precedence_and_range_of_the_spec() {
    const POD: &str = "Pod \"default/web\"";
    const SA: &str = "ServiceAccount \"default/workload-sa\"";
    let cases: Vec<ExpirationCase> = vec![
        (None, None, Ok(3600)),
        (Some(""), None, Ok(3600)),
        (Some(""), Some(""), Ok(3600)),
        (Some("7200"), None, Ok(7200)),
        (None, Some("5400"), Ok(5400)),
        (Some(""), Some("5400"), Ok(5400)),
        (Some("7200"), Some("5400"), Ok(7200)),
        (Some("7200"), Some("1h"), Ok(7200)),
        (Some("7200"), Some("100"), Ok(7200)),
        (Some("3600"), None, Ok(3600)),
        (Some("86400"), None, Ok(86400)),
        (Some("+4000"), None, Ok(4000)),
        (Some("0086400"), None, Ok(86400)),
        (
            Some("3599"),
            Some("7200"),
            Err(expiration_range_error(POD, 3599)),
        ),
        (Some("86401"), None, Err(expiration_range_error(POD, 86401))),
        (Some("-3600"), None, Err(expiration_range_error(POD, -3600))),
        (None, Some("100"), Err(expiration_range_error(SA, 100))),
        (
            Some("1h"),
            None,
            Err(expiration_syntax_error(
                POD,
                "strconv.ParseInt: parsing \"1h\": invalid syntax",
            )),
        ),
        (
            Some(" 3600"),
            None,
            Err(expiration_syntax_error(
                POD,
                "strconv.ParseInt: parsing \" 3600\": invalid syntax",
            )),
        ),
        (
            Some("3600.0"),
            Some("7200"),
            Err(expiration_syntax_error(
                POD,
                "strconv.ParseInt: parsing \"3600.0\": invalid syntax",
            )),
        ),
        (
            None,
            Some("1d"),
            Err(expiration_syntax_error(
                SA,
                "strconv.ParseInt: parsing \"1d\": invalid syntax",
            )),
        ),
        (
            Some("99999999999999999999"),
            None,
            Err(expiration_syntax_error(
                POD,
                "strconv.ParseInt: parsing \"99999999999999999999\": value out of range",
            )),
        ),
    ];
    for (pod_value, sa_value, expected) in cases {
        let case = format!("pod {pod_value:?}, ServiceAccount {sa_value:?}");
        let mut pod = web_pod();
        if let Some(value) = pod_value {
            set(&mut pod, EXPIRATION_ANNOTATION, json!(value));
        }
        let sa = match sa_value {
            Some(value) => workload_sa_with(&[(
                "azure.workload.identity/service-account-token-expiration",
                value,
            )]),
            None => workload_sa_with(&[]),
        };
        let cluster = FakeCluster::serving(&[sa]);
        let expected = match expected {
            Ok(seconds) => {
                let mut mutated = web_mutated(
                    wi_env(),
                    wi_mount(WEB_VOLUME),
                    wi_volume(WEB_VOLUME, AUDIENCE, seconds),
                );
                if let Some(annotations) = pod["metadata"].get("annotations") {
                    mutated["metadata"]["annotations"] = annotations.clone();
                }
                Decision::Mutate(mutated)
            }
            Err(message) => Decision::Reject(Rejection(message)),
        };
        assert_decision(
            &run(&pod_request(pod), &default_settings(), &cluster),
            &expected,
            &case,
        );
        assert_eq!(cluster.calls(), lookups(&[(NS, SA_NAME)]), "{case}");
    }
}

// =============================================================================================
// 9. skip-containers (§2.1)
// =============================================================================================

#[test]
fn skipped_containers_get_neither_env_nor_mount_but_the_volume_is_added() {
    // (annotation, containers it skips)
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("", vec![]),
        ("log-shipper", vec!["log-shipper"]),
        (
            "init-config; log-shipper",
            vec!["init-config", "log-shipper"],
        ),
        (" app ;;", vec!["app"]),
        (
            "init-config;app;log-shipper",
            vec!["init-config", "app", "log-shipper"],
        ),
        // comma is not a separator; matching is exact and case-sensitive
        ("app,log-shipper", vec![]),
        ("App", vec![]),
        ("log", vec![]),
    ];
    for (annotation, skipped) in cases {
        let pod = with(&trio_pod(), &[(SKIP_ANNOTATION, json!(annotation))]);
        let expected = with(
            &trio_mutated(&skipped),
            &[(SKIP_ANNOTATION, json!(annotation))],
        );
        let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
        assert_decision(
            &run(&pod_request(pod), &default_settings(), &cluster),
            &Decision::Mutate(expected),
            &format!("skip-containers {annotation:?}"),
        );
    }
}

// =============================================================================================
// 10. Which containers (§4.2)
// =============================================================================================

#[test]
fn init_containers_and_native_sidecars_are_mutated_ephemeral_containers_never() {
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"azure.workload.identity/use": "true"}},
        "spec": {
            "serviceAccountName": "workload-sa",
            "initContainers": [
                {"name": "log-forwarder", "image": "fluent/fluent-bit:3.1", "restartPolicy": "Always",
                 "startupProbe": {"exec": {"command": ["true"]}}},
                {"name": "migrate", "image": "migrate:4", "args": ["up"]}
            ],
            "containers": [{"name": "app", "image": "nginx:1.27"}],
            "ephemeralContainers": [
                {"name": "debugger", "image": "busybox:1.36", "targetContainerName": "app",
                 "env": [{"name": "DEBUG", "value": "1"}], "volumeMounts": []}
            ]
        }
    });
    let expected = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"azure.workload.identity/use": "true"}},
        "spec": {
            "serviceAccountName": "workload-sa",
            "initContainers": [
                {"name": "log-forwarder", "image": "fluent/fluent-bit:3.1", "restartPolicy": "Always",
                 "startupProbe": {"exec": {"command": ["true"]}},
                 "env": wi_env(), "volumeMounts": [wi_mount(WEB_VOLUME)]},
                {"name": "migrate", "image": "migrate:4", "args": ["up"],
                 "env": wi_env(), "volumeMounts": [wi_mount(WEB_VOLUME)]}
            ],
            "containers": [{"name": "app", "image": "nginx:1.27",
                            "env": wi_env(), "volumeMounts": [wi_mount(WEB_VOLUME)]}],
            "ephemeralContainers": [
                {"name": "debugger", "image": "busybox:1.36", "targetContainerName": "app",
                 "env": [{"name": "DEBUG", "value": "1"}], "volumeMounts": []}
            ],
            "volumes": [wi_volume(WEB_VOLUME, AUDIENCE, 3600)]
        }
    });
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    assert_decision(
        &run(&pod_request(pod), &default_settings(), &cluster),
        &Decision::Mutate(expected),
        "init, sidecar, ephemeral",
    );
}

// =============================================================================================
// 11. Env merge (§4.1)
// =============================================================================================

#[test]
fn existing_env_entries_win_and_missing_ones_are_appended_after_them() {
    let authority_from_config_map = json!({"name": "AZURE_AUTHORITY_HOST",
        "valueFrom": {"configMapKeyRef": {"name": "azure", "key": "authority"}}});
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"azure.workload.identity/use": "true"}},
        "spec": {
            "serviceAccountName": "workload-sa",
            "containers": [
                {
                    "name": "app",
                    "image": "nginx:1.27",
                    "envFrom": [{"configMapRef": {"name": "azure-env"}}],
                    "env": [
                        {"name": "AZURE_TENANT_ID", "value": ""},
                        {"name": "HTTP_PROXY", "value": "http://proxy:3128"},
                        authority_from_config_map
                    ]
                },
                {
                    "name": "worker",
                    "image": "worker:2",
                    "env": [
                        {"name": "AZURE_CLIENT_ID", "value": "override-client"},
                        {"name": "azure_tenant_id", "value": "lower-case is another name"}
                    ]
                }
            ]
        }
    });
    let expected = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"azure.workload.identity/use": "true"}},
        "spec": {
            "serviceAccountName": "workload-sa",
            "containers": [
                {
                    "name": "app",
                    "image": "nginx:1.27",
                    "envFrom": [{"configMapRef": {"name": "azure-env"}}],
                    "env": [
                        {"name": "AZURE_TENANT_ID", "value": ""},
                        {"name": "HTTP_PROXY", "value": "http://proxy:3128"},
                        authority_from_config_map,
                        env("AZURE_CLIENT_ID", CLIENT_ID),
                        env("AZURE_FEDERATED_TOKEN_FILE", TOKEN_FILE)
                    ],
                    "volumeMounts": [wi_mount(WEB_VOLUME)]
                },
                {
                    "name": "worker",
                    "image": "worker:2",
                    "env": [
                        {"name": "AZURE_CLIENT_ID", "value": "override-client"},
                        {"name": "azure_tenant_id", "value": "lower-case is another name"},
                        env("AZURE_TENANT_ID", SA_TENANT),
                        env("AZURE_FEDERATED_TOKEN_FILE", TOKEN_FILE),
                        env("AZURE_AUTHORITY_HOST", PUBLIC_AUTHORITY)
                    ],
                    "volumeMounts": [wi_mount(WEB_VOLUME)]
                }
            ],
            "volumes": [wi_volume(WEB_VOLUME, AUDIENCE, 3600)]
        }
    });
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    assert_decision(
        &run(&pod_request(pod), &default_settings(), &cluster),
        &Decision::Mutate(expected),
        "existing env",
    );
}

// =============================================================================================
// 12. Mounts, volumes and re-invocation (§4.3, §4.5, §7)
// =============================================================================================

#[test]
fn mount_and_volume_with_the_computed_name_are_replaced_in_place() {
    let stale_volume = json!({"name": WEB_VOLUME, "projected": {"sources": [{"serviceAccountToken": {
        "path": "token/azure-identity-token", "audience": "api://Stale", "expirationSeconds": 7200}}],
        "defaultMode": 420}});
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"azure.workload.identity/use": "true"}},
        "spec": {
            "serviceAccountName": "workload-sa",
            "containers": [{
                "name": "app",
                "image": "nginx:1.27",
                "volumeMounts": [
                    {"name": WEB_VOLUME, "mountPath": "/elsewhere", "readOnly": false, "subPath": "token"},
                    {"name": "data", "mountPath": "/data"}
                ]
            }],
            "volumes": [stale_volume, {"name": "data", "emptyDir": {}}]
        }
    });
    let expected = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"azure.workload.identity/use": "true"}},
        "spec": {
            "serviceAccountName": "workload-sa",
            "containers": [{
                "name": "app",
                "image": "nginx:1.27",
                "volumeMounts": [wi_mount(WEB_VOLUME), {"name": "data", "mountPath": "/data"}],
                "env": wi_env()
            }],
            "volumes": [wi_volume(WEB_VOLUME, AUDIENCE, 3600), {"name": "data", "emptyDir": {}}]
        }
    });
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    assert_decision(
        &run(&pod_request(pod), &default_settings(), &cluster),
        &Decision::Mutate(expected),
        "replace in place",
    );
}

#[test]
fn evaluating_the_mutated_pod_again_changes_nothing() {
    let request = fixture("request-labelled-pod.json");
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    let Decision::Mutate(first) = run(&request, &default_settings(), &cluster) else {
        panic!("the labelled pod was not mutated");
    };
    let again = with(&request, &[("/object", first)]);
    assert_decision(
        &run(&again, &default_settings(), &cluster),
        &Decision::Accept,
        "second pass",
    );
    assert_eq!(cluster.calls(), lookups(&[(NS, SA_NAME), (NS, SA_NAME)]));
}

#[test]
fn reinvocation_after_the_name_was_set_adds_no_second_volume_or_mount() {
    // §7 [project decision]: the first pass sees a generateName Pod, another webhook then sets
    // metadata.name, and the policy is invoked again.
    let request = without(
        &with(
            &fixture("request-labelled-pod.json"),
            &[("/object/metadata/generateName", json!("workload-app-"))],
        ),
        &["/object/metadata/name", "/name"],
    );
    let expected_first = renamed(
        &without(
            &with(
                &fixture("expected-labelled-pod.json"),
                &[("/metadata/generateName", json!("workload-app-"))],
            ),
            &["/metadata/name"],
        ),
        WORKLOAD_APP_VOLUME,
        WORKLOAD_APP_PREFIX_VOLUME,
    );
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    let first = run(&request, &default_settings(), &cluster);
    assert_decision(
        &first,
        &Decision::Mutate(expected_first.clone()),
        "first pass",
    );

    // Named now; the hash of the new name would be another volume name.
    assert_ne!(WORKLOAD_APP_X7K2P_VOLUME, WORKLOAD_APP_PREFIX_VOLUME);
    let named = with(
        &expected_first,
        &[("/metadata/name", json!("workload-app-x7k2p"))],
    );
    let second = with(&request, &[("/object", named.clone())]);
    assert_decision(
        &run(&second, &default_settings(), &cluster),
        &Decision::Accept,
        "second pass after the name change",
    );

    // Another webhook also added a sidecar: only the sidecar is mutated, with the existing volume.
    let sidecar = json!({"name": "daprd", "image": "daprio/daprd:1.14"});
    let with_sidecar = with(&named, &[("/spec/containers/-", sidecar)]);
    let third = with(&request, &[("/object", with_sidecar.clone())]);
    let expected_third = with(
        &with_sidecar,
        &[(
            "/spec/containers/2",
            json!({"name": "daprd", "image": "daprio/daprd:1.14", "env": wi_env(),
                   "volumeMounts": [wi_mount(WORKLOAD_APP_PREFIX_VOLUME)]}),
        )],
    );
    assert_decision(
        &run(&third, &default_settings(), &cluster),
        &Decision::Mutate(expected_third),
        "third pass with a new sidecar",
    );
    assert_eq!(
        cluster.calls(),
        lookups(&[(NS, SA_NAME), (NS, SA_NAME), (NS, SA_NAME)])
    );
}

#[test]
fn reinvocation_after_another_webhook_added_a_container_mutates_only_that_container() {
    // The reason for reinvocationPolicy IfNeeded (§1.1, spec §11 #16).
    let Decision::Mutate(first) = run(
        &fixture("request-labelled-pod.json"),
        &default_settings(),
        &FakeCluster::serving(&[fixture("sa-workload.json")]),
    ) else {
        panic!("the labelled pod was not mutated");
    };
    let sidecar = json!({"name": "daprd", "image": "daprio/daprd:1.14",
                         "env": [{"name": "DAPR_HTTP_PORT", "value": "3500"}]});
    let pod = with(&first, &[("/spec/containers/-", sidecar)]);
    let expected = with(
        &pod,
        &[(
            "/spec/containers/2",
            json!({"name": "daprd", "image": "daprio/daprd:1.14",
                   "env": concat(vec![env("DAPR_HTTP_PORT", "3500")], wi_env()),
                   "volumeMounts": [wi_mount(WORKLOAD_APP_VOLUME)]}),
        )],
    );
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    let request = with(&fixture("request-labelled-pod.json"), &[("/object", pod)]);
    assert_decision(
        &run(&request, &default_settings(), &cluster),
        &Decision::Mutate(expected),
        "sidecar added by another webhook",
    );
    assert_eq!(cluster.calls(), lookups(&[(NS, SA_NAME)]));
}

#[test]
fn legacy_v1_5_artefacts_are_left_untouched_and_the_new_ones_added_beside_them() {
    let legacy_env = vec![
        env("AZURE_CLIENT_ID", CLIENT_ID),
        env("AZURE_TENANT_ID", SA_TENANT),
        env("AZURE_FEDERATED_TOKEN_FILE", LEGACY_TOKEN_FILE),
        env("AZURE_AUTHORITY_HOST", PUBLIC_AUTHORITY),
    ];
    let pod = with(
        &web_pod(),
        &[
            ("/spec/containers/0/env", Value::Array(legacy_env.clone())),
            ("/spec/containers/0/volumeMounts", json!([legacy_mount()])),
            ("/spec/volumes", json!([legacy_volume()])),
        ],
    );
    let expected = with(
        &pod,
        &[
            (
                "/spec/containers/0/volumeMounts",
                json!([legacy_mount(), wi_mount(WEB_VOLUME)]),
            ),
            (
                "/spec/volumes",
                json!([legacy_volume(), wi_volume(WEB_VOLUME, AUDIENCE, 3600)]),
            ),
        ],
    );
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    assert_decision(
        &run(&pod_request(pod), &default_settings(), &cluster),
        &Decision::Mutate(expected),
        "legacy artefacts",
    );
}

#[test]
fn a_mount_at_the_token_path_under_another_name_counts_as_injected() {
    // §7 [project decision]: any mount at /var/run/secrets/azure/wi counts as already injected,
    // so the policy never produces a duplicate mountPath.
    let own_mount = json!({"name": "my-token", "mountPath": MOUNT_PATH, "readOnly": true});
    let pod = with(
        &web_pod(),
        &[
            (
                "/spec/containers/0/volumeMounts",
                json!([own_mount.clone()]),
            ),
            (
                "/spec/volumes",
                json!([{"name": "my-token", "emptyDir": {}}]),
            ),
        ],
    );
    let expected = with(
        &pod,
        &[
            ("/spec/containers/0/env", Value::Array(wi_env())),
            (
                "/spec/volumes",
                json!([{"name": "my-token", "emptyDir": {}}, wi_volume(WEB_VOLUME, AUDIENCE, 3600)]),
            ),
        ],
    );
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    assert_decision(
        &run(&pod_request(pod), &default_settings(), &cluster),
        &Decision::Mutate(expected),
        "own mount at the token path",
    );
}

#[test]
fn volume_name_hashes_the_name_or_the_generate_name() {
    // §1.2 and §4.5, with the worked examples of the spec.
    let cases: Vec<(&str, Option<&str>, Option<&str>, &str)> = vec![
        ("name", Some("web"), None, WEB_VOLUME),
        ("another name", Some("pod"), None, POD_VOLUME),
        ("name wins", Some("web"), Some("web-7d4b9c5f6-"), WEB_VOLUME),
        (
            "generateName",
            None,
            Some("web-7d4b9c5f6-"),
            WEB_PREFIX_VOLUME,
        ),
        (
            "empty name, generateName",
            Some(""),
            Some("web-7d4b9c5f6-"),
            WEB_PREFIX_VOLUME,
        ),
        ("neither", None, None, NO_NAME_VOLUME),
    ];
    for (case, name, generate_name, volume) in cases {
        let mut pod = without(&web_pod(), &["/metadata/name"]);
        let mut expected = without(
            &web_mutated(
                wi_env(),
                wi_mount(volume),
                wi_volume(volume, AUDIENCE, 3600),
            ),
            &["/metadata/name"],
        );
        for (field, value) in [("name", name), ("generateName", generate_name)] {
            if let Some(value) = value {
                set(&mut pod, &format!("/metadata/{field}"), json!(value));
                set(&mut expected, &format!("/metadata/{field}"), json!(value));
            }
        }
        let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
        assert_decision(
            &run(&pod_request(pod), &default_settings(), &cluster),
            &Decision::Mutate(expected),
            case,
        );
        assert_eq!(volume.len(), 63, "{case}");
    }
}

// =============================================================================================
// 13. Settings that change the mutation (§6.1, §6.2, issue 3)
// =============================================================================================

#[test]
fn settings_choose_the_authority_host_and_the_audience() {
    let settings = |extra: Value| {
        let mut s = default_settings();
        if let (Some(s), Value::Object(extra)) = (s.as_object_mut(), extra) {
            s.extend(extra);
        }
        s
    };
    // (settings added to the defaults, AZURE_AUTHORITY_HOST, audience)
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({}), PUBLIC_AUTHORITY, AUDIENCE),
        (
            json!({"azureEnvironment": "AzurePublicCloud"}),
            PUBLIC_AUTHORITY,
            AUDIENCE,
        ),
        (
            json!({"azureEnvironment": "AZURECLOUD"}),
            PUBLIC_AUTHORITY,
            AUDIENCE,
        ),
        (
            json!({"azureEnvironment": "AzureChinaCloud"}),
            "https://login.chinacloudapi.cn/",
            AUDIENCE,
        ),
        (
            json!({"azureEnvironment": "azureusgovernment"}),
            "https://login.microsoftonline.us/",
            AUDIENCE,
        ),
        (
            json!({"azureEnvironment": "AzureUSGovernmentCloud"}),
            "https://login.microsoftonline.us/",
            AUDIENCE,
        ),
        (
            json!({"azureEnvironment": "AzureGermanCloud"}),
            "https://login.microsoftonline.de/",
            AUDIENCE,
        ),
        (
            json!({"authorityHost": "https://adfs.stack.example/adfs/"}),
            "https://adfs.stack.example/adfs/",
            AUDIENCE,
        ),
        (
            json!({"azureEnvironment": "AzureChinaCloud", "authorityHost": "https://login.partner.example/"}),
            "https://login.partner.example/",
            AUDIENCE,
        ),
        (
            json!({"azureEnvironment": "AzureStackCloud", "authorityHost": "https://adfs.stack.example/adfs/"}),
            "https://adfs.stack.example/adfs/",
            AUDIENCE,
        ),
        (
            json!({"audience": "api://custom-audience"}),
            PUBLIC_AUTHORITY,
            "api://custom-audience",
        ),
        (json!({"tokenLayout": "v1.6"}), PUBLIC_AUTHORITY, AUDIENCE),
    ];
    for (extra, authority, audience) in cases {
        let case = extra.to_string();
        let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
        let expected = web_mutated(
            vec![
                env("AZURE_CLIENT_ID", CLIENT_ID),
                env("AZURE_TENANT_ID", SA_TENANT),
                env("AZURE_FEDERATED_TOKEN_FILE", TOKEN_FILE),
                env("AZURE_AUTHORITY_HOST", authority),
            ],
            wi_mount(WEB_VOLUME),
            wi_volume(WEB_VOLUME, audience, 3600),
        );
        assert_decision(
            &run(&pod_request(web_pod()), &settings(extra), &cluster),
            &Decision::Mutate(expected),
            &case,
        );
    }
}

fn v1_5_settings() -> Value {
    json!({"defaultTenantId": DEFAULT_TENANT, "tokenLayout": "v1.5"})
}

fn v1_5_env() -> Vec<Value> {
    vec![
        env("AZURE_CLIENT_ID", CLIENT_ID),
        env("AZURE_TENANT_ID", SA_TENANT),
        env("AZURE_FEDERATED_TOKEN_FILE", LEGACY_TOKEN_FILE),
        env("AZURE_AUTHORITY_HOST", PUBLIC_AUTHORITY),
    ]
}

#[test]
fn token_layout_v1_5_uses_the_old_names_and_is_idempotent() {
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    let expected = web_mutated(v1_5_env(), legacy_mount(), legacy_volume());
    let first = run(&pod_request(web_pod()), &v1_5_settings(), &cluster);
    assert_decision(&first, &Decision::Mutate(expected.clone()), "v1.5 layout");
    assert_decision(
        &run(&pod_request(expected), &v1_5_settings(), &cluster),
        &Decision::Accept,
        "v1.5 layout, second pass",
    );
}

#[test]
fn token_layout_v1_5_keeps_an_existing_token_source_and_mount() {
    // ≤ v1.5 rules (§9): no volume when any projected token source has path
    // azure-identity-token; no mount when the container has a mount named azure-identity-token.
    let own_volume = json!({"name": "my-token", "projected": {"sources": [
        {"serviceAccountToken": {"path": "azure-identity-token", "audience": "api://Mine", "expirationSeconds": 7200}}
    ]}});
    let own_mount = json!({"name": "azure-identity-token", "mountPath": "/custom/tokens"});
    let pod = with(
        &web_pod(),
        &[
            (
                "/spec/containers/0/volumeMounts",
                json!([own_mount.clone()]),
            ),
            (
                "/spec/containers/-",
                json!({"name": "sidecar", "image": "sidecar:1"}),
            ),
            ("/spec/volumes", json!([own_volume.clone()])),
        ],
    );
    let expected = with(
        &pod,
        &[
            ("/spec/containers/0/env", Value::Array(v1_5_env())),
            (
                "/spec/containers/1",
                json!({"name": "sidecar", "image": "sidecar:1", "env": v1_5_env(),
                       "volumeMounts": [legacy_mount()]}),
            ),
        ],
    );
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    assert_decision(
        &run(&pod_request(pod), &v1_5_settings(), &cluster),
        &Decision::Mutate(expected),
        "v1.5 existing token",
    );
}

// =============================================================================================
// 14. Malformed requests and Pods
// =============================================================================================

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
    for (case, pod, reference, detail) in cases {
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
    }
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
    for (case, pod, detail) in cases {
        let cluster = FakeCluster::empty();
        assert_decision(
            &run(&pod_request(pod), &default_settings(), &cluster),
            &Decision::Reject(Rejection(malformed("default/web", detail))),
            case,
        );
        assert_eq!(cluster.calls(), lookups(&[]), "{case}");
    }
}

#[test]
fn an_unreadable_payload_is_rejected_without_a_lookup() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"{\"request\": ".to_vec()),
        ("no request", b"{\"settings\": {}}".to_vec()),
        ("request a string", b"{\"request\": \"pod\"}".to_vec()),
    ];
    for (case, bytes) in cases {
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
    }
}

// =============================================================================================
// 15. Invalid settings (issue 3, §10)
// =============================================================================================

#[test]
fn invalid_settings_reject_a_selected_pod_naming_the_setting() {
    const PREFIX: &str = "azure-workload-identity: the policy settings are invalid: ";
    // (case, settings or None for no settings at all, what the message must say)
    let cases: Vec<(&str, Option<Value>, &str)> = vec![
        ("no settings", None, "defaultTenantId is required"),
        (
            "empty settings",
            Some(json!({})),
            "defaultTenantId is required",
        ),
        (
            "empty tenant",
            Some(json!({"defaultTenantId": ""})),
            "defaultTenantId is required",
        ),
        (
            "misspelt key",
            Some(fixture("settings-unknown-key.json")),
            "unknown field `defaultTenantID`",
        ),
        (
            "upstream chart key",
            Some(json!({"defaultTenantId": DEFAULT_TENANT, "azureTenantID": DEFAULT_TENANT})),
            "unknown field `azureTenantID`",
        ),
        (
            "unknown cloud",
            Some(fixture("settings-invalid-environment.json")),
            "azureEnvironment \"AzureMoonCloud\" is not a known Azure cloud. Accepted values \
             (case-insensitive): AzurePublicCloud, AzureCloud, AzureUSGovernmentCloud, \
             AzureUSGovernment, AzureChinaCloud, AzureGermanCloud",
        ),
        (
            "AzureStackCloud without authorityHost",
            Some(json!({"defaultTenantId": DEFAULT_TENANT, "azureEnvironment": "AzureStackCloud"})),
            "azureEnvironment AzureStackCloud needs authorityHost",
        ),
        (
            "authorityHost not https",
            Some(
                json!({"defaultTenantId": DEFAULT_TENANT, "authorityHost": "login.microsoftonline.com"}),
            ),
            "authorityHost \"login.microsoftonline.com\" is not an https URL",
        ),
        (
            "whitespace audience",
            Some(json!({"defaultTenantId": DEFAULT_TENANT, "audience": " "})),
            "audience \" \" is only whitespace",
        ),
        (
            "unknown token layout",
            Some(json!({"defaultTenantId": DEFAULT_TENANT, "tokenLayout": "v2"})),
            "tokenLayout \"v2\" is not supported",
        ),
    ];
    for (case, settings, part) in cases {
        let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
        let decision = evaluate(
            &payload(&fixture("request-labelled-pod.json"), settings.as_ref()),
            &cluster,
        );
        let message = rejection(&decision, case);
        assert!(message.starts_with(PREFIX), "{case}: {message}");
        assert!(message.contains(part), "{case}: lacks {part:?}: {message}");
        assert_eq!(cluster.calls(), lookups(&[]), "{case}");
    }
}

#[test]
fn a_setting_of_the_wrong_type_is_named() {
    for (key, settings) in [
        ("defaultTenantId", json!({"defaultTenantId": 42})),
        (
            "azureEnvironment",
            json!({"defaultTenantId": DEFAULT_TENANT, "azureEnvironment": ["AzureChinaCloud"]}),
        ),
        (
            "audience",
            json!({"defaultTenantId": DEFAULT_TENANT, "audience": true}),
        ),
    ] {
        // The message may end with the list of every accepted setting; the wrong one must be
        // named before that list.
        let names_key = |message: &str| {
            message
                .split("Accepted settings")
                .next()
                .is_some_and(|error| error.contains(key))
        };
        let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
        let decision = run(&fixture("request-labelled-pod.json"), &settings, &cluster);
        let message = rejection(&decision, &settings.to_string());
        assert!(names_key(&message), "{settings}: {message}");
        let checked = check_settings(&settings.to_string());
        assert!(
            checked.as_ref().is_err_and(|e| names_key(e)),
            "{settings}: {checked:?}"
        );
    }
}

#[test]
fn settings_fixtures_are_checked_like_validate_settings() {
    let read = |name: &str| {
        std::fs::read_to_string(fixture_path(name))
            .unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
    };
    let valid = check_settings(&read("settings-default.json"));
    assert!(
        valid
            .as_ref()
            .is_ok_and(|c| c.default_tenant_id == DEFAULT_TENANT
                && c.authority_host == PUBLIC_AUTHORITY
                && c.audience == AUDIENCE),
        "settings-default.json: {valid:?}"
    );
    for (name, part) in [
        (
            "settings-invalid-environment.json",
            "azureEnvironment \"AzureMoonCloud\" is not a known Azure cloud",
        ),
        (
            "settings-unknown-key.json",
            "unknown field `defaultTenantID`",
        ),
    ] {
        let checked = check_settings(&read(name));
        assert!(
            checked.as_ref().is_err_and(|e| e.contains(part)),
            "{name}: {checked:?}"
        );
    }
}
