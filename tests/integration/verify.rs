//! Verify mode through the whole request path: `review(payload, &cluster)` from the waPC
//! `validate` payload to the answer (decision, warnings, message), with ServiceAccounts served
//! by an in-file fake that records every lookup and whether it bypassed the cache. Each test
//! asserts the whole answer and the lookups; the property test checks that verify and the
//! mutation agree on generated Pods.

use std::cell::RefCell;
use std::path::PathBuf;

use azure_workload_identity_policy::{
    Answer, Decision, Rejection, ServiceAccount, ServiceAccountSource, review,
};
use proptest::prelude::*;
use serde_json::{Value, json};

const NS: &str = "default";
const SA: &str = "workload-sa";
/// The client-id and tenant-id of `test_data/sa-workload.json`.
const CLIENT_ID: &str = "5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f";
const TENANT_ID: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
const NEW_CLIENT_ID: &str = "9e8d7c6b-5a49-4838-a726-15f4e3d2c1b0";
const USE_LABEL: &str = "azure.workload.identity/use";
const CLIENT_ID_KEY: &str = "azure.workload.identity/client-id";
const SKIP_KEY: &str = "azure.workload.identity/skip-containers";
const PROXY_KEY: &str = "azure.workload.identity/inject-proxy-sidecar";
/// The volume of `test_data/expected-labelled-pod.json` (hash input `workload-app`).
const VOLUME: &str = "azure-workload-identity-reserved-549d3c1935f5b955c7b85a81ea1a28";
const MOUNT_PATH: &str = "/var/run/secrets/azure/wi";
/// The Pod of the fixtures, as findings name it.
const WHO: &str = "Pod default/workload-app";
const SKIP_FIX: &str = "list it in azure.workload.identity/skip-containers or recreate the Pod \
                        with the mutating policy deployed";

// ---------------------------------------------------------------------------------------------
// The fake cluster

/// One lookup: namespace, name, and whether it bypassed the cache.
type Lookup = (String, String, bool);

/// Serves ServiceAccounts by namespace and name; a fresh read may be answered from
/// `fresh` instead, as after a change the cache has not seen yet. Anything it does not serve is
/// answered with the real host's not-found text.
#[derive(Default)]
struct Cluster {
    cached: Vec<Value>,
    fresh: Option<Vec<Value>>,
    calls: RefCell<Vec<Lookup>>,
}

impl Cluster {
    fn serving(accounts: &[Value]) -> Self {
        Cluster {
            cached: accounts.to_vec(),
            ..Cluster::default()
        }
    }

    fn fresh_serving(mut self, accounts: &[Value]) -> Self {
        self.fresh = Some(accounts.to_vec());
        self
    }

    fn answer(accounts: &[Value], namespace: &str, name: &str) -> Result<ServiceAccount, String> {
        let found = accounts.iter().find(|sa| {
            sa.pointer("/metadata/namespace").and_then(Value::as_str) == Some(namespace)
                && sa.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
        });
        match found {
            Some(sa) => serde_json::from_value(sa.clone()).map_err(|e| e.to_string()),
            None => Err(format!(
                "Cannot find v1/ServiceAccount named '{name}' inside of namespace \
                 'Some(\"{namespace}\")'"
            )),
        }
    }

    fn lookups(&self) -> Vec<Lookup> {
        self.calls.borrow().clone()
    }
}

impl ServiceAccountSource for Cluster {
    fn get(&self, namespace: &str, name: &str) -> Result<ServiceAccount, String> {
        let call = (namespace.to_string(), name.to_string(), false);
        self.calls.borrow_mut().push(call);
        Cluster::answer(&self.cached, namespace, name)
    }

    fn get_fresh(&self, namespace: &str, name: &str) -> Result<ServiceAccount, String> {
        let call = (namespace.to_string(), name.to_string(), true);
        self.calls.borrow_mut().push(call);
        Cluster::answer(self.fresh.as_ref().unwrap_or(&self.cached), namespace, name)
    }
}

fn cached_lookup() -> Vec<Lookup> {
    vec![(NS.to_string(), SA.to_string(), false)]
}

// ---------------------------------------------------------------------------------------------
// Fixtures and payloads

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("test_data")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
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

fn run(pod: &Value, settings: &Value, cluster: &Cluster) -> Answer {
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

// ---------------------------------------------------------------------------------------------
// Configured and unconfigured Pods

#[test]
fn the_pod_the_mutation_produced_has_no_finding() {
    let cluster = Cluster::serving(&[sa()]);
    let answer = run(&mutated(), &verify_settings(), &cluster);
    assert_eq!(answer, accepted_with(&[]));
    assert_eq!(cluster.lookups(), cached_lookup());
}

#[test]
fn an_unmutated_pod_is_accepted_with_a_finding_per_container_and_the_volume() {
    let cluster = Cluster::serving(&[sa()]);
    let answer = run(&unmutated(), &verify_settings(), &cluster);
    assert_eq!(answer, accepted_with(&unmutated_findings()));
    assert_eq!(cluster.lookups(), cached_lookup());
}

#[test]
fn with_findings_reject_an_unmutated_pod_is_rejected_with_every_finding() {
    let cluster = Cluster::serving(&[sa()]);
    let answer = run(&unmutated(), &reject_settings(), &cluster);
    assert_eq!(answer, rejected_with(&unmutated_findings()));
    assert_eq!(cluster.lookups(), cached_lookup());
}

#[test]
fn verify_false_still_mutates() {
    let cluster = Cluster::serving(&[sa()]);
    let answer = run(&unmutated(), &settings(false, json!({})), &cluster);
    assert_eq!(answer, Decision::Mutate(mutated()).into());
}

#[test]
fn a_missing_env_var_and_a_writable_mount_are_named_with_their_container() {
    let mut pod = mutated();
    // app: without AZURE_AUTHORITY_HOST and AZURE_TENANT_ID; log-shipper: writable mount
    set(
        &mut pod,
        "/spec/containers/0/env",
        json!([
            {"name": "LOG_LEVEL", "value": "debug"},
            {"name": "AZURE_CLIENT_ID", "value": CLIENT_ID},
            {"name": "AZURE_FEDERATED_TOKEN_FILE", "value": "/var/run/secrets/azure/wi/token/azure-identity-token"}
        ]),
    );
    set(
        &mut pod,
        "/spec/containers/1/volumeMounts/1/readOnly",
        json!(false),
    );
    let cluster = Cluster::serving(&[sa()]);
    let answer = run(&pod, &verify_settings(), &cluster);
    assert_eq!(
        answer,
        accepted_with(&[
            format!(
                "{WHO}: container \"app\" lacks AZURE_TENANT_ID, AZURE_AUTHORITY_HOST; {SKIP_FIX}"
            ),
            format!(
                "{WHO}: container \"log-shipper\" mounts the token volume at {MOUNT_PATH} without \
                 readOnly: true; set readOnly: true on that mount"
            ),
        ])
    );
}

#[test]
fn a_token_volume_with_another_audience_path_or_expiration_is_named() {
    let token = "/spec/volumes/2/projected/sources/0/serviceAccountToken";
    let mut pod = mutated();
    set(
        &mut pod,
        token,
        json!({"path": "token", "audience": "api://other", "expirationSeconds": 86400}),
    );
    let cluster = Cluster::serving(&[sa()]);
    let answer = run(&pod, &verify_settings(), &cluster);
    let roll_out = "restart the Pod (or roll out its workload)";
    assert_eq!(
        answer,
        accepted_with(&[
            format!(
                "{WHO}: token volume {VOLUME} has audience \"api://other\", not \
                 \"api://AzureADTokenExchange\"; {roll_out}"
            ),
            format!(
                "{WHO}: token volume {VOLUME} has path \"token\", not \
                 \"token/azure-identity-token\"; {roll_out}"
            ),
            format!(
                "{WHO}: token volume {VOLUME} has expirationSeconds \"86400\", not \"3600\"; \
                 {roll_out}"
            ),
        ])
    );

    // The same Pod is configured once the ServiceAccount asks for that expiration and the
    // settings for that audience, except for the path.
    let cluster = Cluster::serving(&[sa_with(json!({
        CLIENT_ID_KEY: CLIENT_ID,
        "azure.workload.identity/tenant-id": TENANT_ID,
        "azure.workload.identity/service-account-token-expiration": "86400",
    }))]);
    let answer = run(
        &pod,
        &settings(true, json!({"audience": "api://other"})),
        &cluster,
    );
    assert_eq!(
        answer,
        accepted_with(&[format!(
            "{WHO}: token volume {VOLUME} has path \"token\", not \
             \"token/azure-identity-token\"; {roll_out}"
        )])
    );
}

#[test]
fn a_missing_token_volume_is_named() {
    let mut pod = mutated();
    if let Some(volumes) = pod
        .pointer_mut("/spec/volumes")
        .and_then(Value::as_array_mut)
    {
        volumes.pop();
    }
    let cluster = Cluster::serving(&[sa()]);
    let answer = run(&pod, &verify_settings(), &cluster);
    assert_eq!(
        answer,
        accepted_with(&[format!(
            "{WHO}: spec.volumes has no token volume {VOLUME}; recreate the Pod with the \
             mutating policy deployed"
        )])
    );
}

#[test]
fn a_requested_proxy_that_is_absent_is_named_per_container() {
    let mut pod = mutated();
    annotate(&mut pod, PROXY_KEY, "true");
    let cluster = Cluster::serving(&[sa()]);
    let missing = |container: &str, list: &str| {
        format!(
            "{WHO}: {PROXY_KEY} is set but spec.{list} has no {container}; recreate the Pod with \
             the mutating policy deployed"
        )
    };
    let answer = run(&pod, &verify_settings(), &cluster);
    assert_eq!(
        answer,
        accepted_with(&[
            missing("azwi-proxy", "initContainers"),
            missing("azwi-proxy-init", "initContainers"),
        ])
    );
    let answer = run(
        &pod,
        &settings(true, json!({"useNativeSidecar": false})),
        &cluster,
    );
    assert_eq!(
        answer,
        accepted_with(&[
            missing("azwi-proxy-init", "initContainers"),
            missing("azwi-proxy", "containers"),
        ])
    );

    // The Pod the mutation makes of it is configured.
    let Decision::Mutate(with_proxy) = run(&pod, &settings(false, json!({})), &cluster).decision
    else {
        panic!("the proxy Pod is not mutated");
    };
    assert_eq!(
        run(&with_proxy, &verify_settings(), &cluster),
        accepted_with(&[])
    );
}

// ---------------------------------------------------------------------------------------------
// Other injectors, re-invocation, drift

/// An Istio-style sidecar appended by another mutating webhook after this policy ran.
fn with_sidecar(mut pod: Value) -> Value {
    if let Some(containers) = pod
        .pointer_mut("/spec/containers")
        .and_then(Value::as_array_mut)
    {
        containers.push(json!({"name": "istio-proxy", "image": "istio/proxyv2:1.24.0"}));
    }
    pod
}

#[test]
fn a_sidecar_added_after_the_mutation_is_a_finding_unless_skipped() {
    let cluster = Cluster::serving(&[sa()]);
    let answer = run(&with_sidecar(mutated()), &verify_settings(), &cluster);
    assert_eq!(
        answer,
        accepted_with(&[no_env("istio-proxy"), no_mount("istio-proxy")])
    );

    let mut skipped = with_sidecar(mutated());
    annotate(&mut skipped, SKIP_KEY, "istio-proxy");
    assert_eq!(
        run(&skipped, &verify_settings(), &cluster),
        accepted_with(&[])
    );
}

#[test]
fn a_volume_named_from_the_generate_name_is_configured() {
    // A ReplicaSet's Pod: mutated while it had only a generateName, then named.
    let mut template = unmutated();
    if let Some(meta) = template.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("name");
        meta.insert("generateName".into(), json!("workload-app-"));
    }
    let cluster = Cluster::serving(&[sa()]);
    let Decision::Mutate(mut pod) = run(&template, &settings(false, json!({})), &cluster).decision
    else {
        panic!("not mutated");
    };
    if let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("name".into(), json!("workload-app-x7k2p"));
    }
    // hash input `workload-app- (prefix)`, not the name
    let volume = "azure-workload-identity-reserved-726d01eadb43268d4ff9b363091e68";
    assert_eq!(pod.pointer("/spec/volumes/2/name"), Some(&json!(volume)));
    assert_eq!(run(&pod, &verify_settings(), &cluster), accepted_with(&[]));
}

#[test]
fn a_client_id_changed_on_the_service_account_is_drift_in_every_container() {
    let cluster = Cluster::serving(&[sa_with(json!({
        CLIENT_ID_KEY: NEW_CLIENT_ID,
        "azure.workload.identity/tenant-id": TENANT_ID,
    }))]);
    let drift = |container: &str| {
        format!(
            "Pod default/workload-app: container \"{container}\" has AZURE_CLIENT_ID \
             \"{CLIENT_ID}\", not the ServiceAccount's \"{NEW_CLIENT_ID}\"; restart the Pod (or \
             roll out its workload) to pick up the new client-id"
        )
    };
    let expected = [drift("init-config"), drift("app"), drift("log-shipper")];
    // Exactly these: the mutating path's hint about the same value is not repeated.
    let answer = run(&mutated(), &verify_settings(), &cluster);
    assert_eq!(answer, accepted_with(&expected));
    // Within what the API server keeps of a warning.
    assert!(expected.iter().all(|w| w.len() <= 256), "{expected:?}");
    assert_eq!(
        run(&mutated(), &reject_settings(), &cluster),
        rejected_with(&expected)
    );
}

#[test]
fn a_tenant_id_that_changed_is_drift() {
    let cluster = Cluster::serving(&[sa_with(json!({CLIENT_ID_KEY: CLIENT_ID}))]);
    // Without the ServiceAccount's tenant-id the policy injects defaultTenantId.
    let default_tenant = "d3fa017e-5e7a-4c2b-a0c1-9e8f7d6c5b4a";
    let answer = run(&mutated(), &verify_settings(), &cluster);
    let drift = |container: &str| {
        format!(
            "{WHO}: container \"{container}\" has AZURE_TENANT_ID \"{TENANT_ID}\", not the \
             current \"{default_tenant}\"; restart the Pod (or roll out its workload) to pick up \
             the new tenant-id"
        )
    };
    assert_eq!(
        answer,
        accepted_with(&[drift("init-config"), drift("app"), drift("log-shipper")])
    );
}

#[test]
fn own_client_ids_without_a_client_id_on_the_service_account_are_no_finding() {
    // Every container carries its identity; the ServiceAccount has none to compare with.
    let cluster = Cluster::serving(&[fixture("sa-workload-no-client-id.json")]);
    assert_eq!(
        run(&mutated(), &verify_settings(), &cluster),
        accepted_with(&[])
    );
    assert_eq!(cluster.lookups(), cached_lookup());
}

// ---------------------------------------------------------------------------------------------
// What the mutating path rejects

#[test]
fn a_missing_service_account_is_a_finding_and_with_reject_read_again_fresh() {
    let missing = format!(
        "{WHO}: ServiceAccount default/workload-sa does not exist; create it with the annotation \
         {CLIENT_ID_KEY}, or its Pods will be rejected"
    );
    let cluster = Cluster::serving(&[]);
    assert_eq!(
        run(&mutated(), &verify_settings(), &cluster),
        accepted_with(std::slice::from_ref(&missing))
    );
    assert_eq!(cluster.lookups(), cached_lookup());

    let cluster = Cluster::serving(&[]);
    assert_eq!(
        run(&mutated(), &reject_settings(), &cluster),
        rejected_with(&[missing])
    );
    let fresh = (NS.to_string(), SA.to_string(), true);
    assert_eq!(
        cluster.lookups(),
        [cached_lookup(), vec![fresh.clone()]].concat()
    );

    // Created just now: the fresh read decides.
    let cluster = Cluster::serving(&[]).fresh_serving(&[sa()]);
    assert_eq!(
        run(&mutated(), &reject_settings(), &cluster),
        accepted_with(&[])
    );
    assert_eq!(cluster.lookups(), [cached_lookup(), vec![fresh]].concat());
}

#[test]
fn a_service_account_without_a_client_id_is_a_finding() {
    let cluster = Cluster::serving(&[fixture("sa-workload-no-client-id.json")]);
    assert_eq!(
        run(&unmutated(), &verify_settings(), &cluster),
        accepted_with(&strings(&[
            "Pod default/workload-app: ServiceAccount default/workload-sa has no \
             azure.workload.identity/client-id annotation; annotate it with the identity's \
             client ID"
        ]))
    );
}

#[test]
fn a_malformed_pod_and_an_invalid_expiration_are_findings() {
    let cluster = Cluster::serving(&[sa()]);
    let mut malformed = mutated();
    set(&mut malformed, "/spec/containers", json!({"name": "app"}));
    assert_eq!(
        run(&malformed, &reject_settings(), &cluster),
        rejected_with(&strings(&[
            "Pod default/workload-app: spec.containers must be a list, found an object; fix the \
             manifest"
        ]))
    );
    assert_eq!(cluster.lookups(), vec![]);

    let mut expiring = mutated();
    annotate(
        &mut expiring,
        "azure.workload.identity/service-account-token-expiration",
        "1h",
    );
    assert_eq!(
        run(&expiring, &verify_settings(), &cluster),
        accepted_with(&strings(&[
            "Pod default/workload-app: metadata.annotations[\"azure.workload.identity/\
             service-account-token-expiration\"] is not a whole number of seconds; use an \
             integer from 3600 to 86400, e.g. \"3600\""
        ]))
    );
}

#[test]
fn other_requests_are_not_verified() {
    let cluster = Cluster::serving(&[sa()]);
    let mut unlabelled = unmutated();
    if let Some(labels) = unlabelled
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(USE_LABEL);
    }
    assert_eq!(
        run(&unlabelled, &verify_settings(), &cluster),
        accepted_with(&[])
    );
    assert_eq!(cluster.lookups(), vec![]);
}

// ---------------------------------------------------------------------------------------------
// Verify and the mutation agree

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    proptest::sample::select(items)
}

/// Env entries a Pod may already have. Own AZURE_CLIENT_ID and AZURE_TENANT_ID values are the
/// ServiceAccount's (a different value is drift, tested above) or come from a Secret.
fn env_entry() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"name": "LOG_LEVEL", "value": "debug"})),
        Just(json!({"name": "AZURE_CLIENT_ID", "value": CLIENT_ID})),
        Just(
            json!({"name": "AZURE_CLIENT_ID", "valueFrom": {"secretKeyRef": {"name": "id", "key": "client-id"}}})
        ),
        Just(json!({"name": "AZURE_TENANT_ID", "value": TENANT_ID})),
        Just(json!({"name": "AZURE_FEDERATED_TOKEN_FILE", "value": "/elsewhere/token"})),
        Just(json!({"name": "AZURE_AUTHORITY_HOST", "value": "https://login.example/"})),
    ]
}

const RESERVED: &str = "azure-workload-identity-reserved-0123456789abcdef0123456789abcd";

fn mount() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"name": "config", "mountPath": "/config"})),
        Just(json!({"name": "other", "mountPath": MOUNT_PATH})),
        Just(json!({"name": RESERVED, "mountPath": MOUNT_PATH, "readOnly": false})),
        Just(json!({"name": RESERVED, "mountPath": "/wi", "readOnly": true})),
        Just(json!({"name": RESERVED, "mountPath": MOUNT_PATH, "readOnly": true, "subPath": "t"})),
        Just(json!({"name": "azure-identity-token", "mountPath": "/var/run/secrets/azure/tokens"})),
    ]
}

fn volume() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({"name": "config", "emptyDir": {}})),
        Just(json!({"name": RESERVED, "emptyDir": {}})),
        Just(json!({"name": RESERVED, "projected": {"sources": [
            {"serviceAccountToken": {"path": "token", "audience": "api://other", "expirationSeconds": 7200}}
        ]}})),
        Just(json!({"name": "legacy", "projected": {"sources": [
            {"serviceAccountToken": {"path": "azure-identity-token", "audience": "api://other"}}
        ]}})),
    ]
}

const NAMES: &[&str] = &[
    "app",
    "web",
    "init",
    "istio-proxy",
    "azwi-proxy",
    "azwi-proxy-init",
];

fn container() -> impl Strategy<Value = Value> {
    (
        pick(NAMES),
        proptest::collection::vec(env_entry(), 0..4),
        proptest::collection::vec(mount(), 0..3),
    )
        .prop_map(|(name, env, mounts)| json!({"name": name, "image": "app:1", "env": env, "volumeMounts": mounts}))
}

fn optional(
    value: impl Strategy<Value = &'static str>,
) -> impl Strategy<Value = Option<&'static str>> {
    proptest::option::of(value)
}

/// A labelled Pod with the annotations, containers and volumes the policy reads.
fn labelled_pod() -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        proptest::collection::vec(pick(NAMES), 0..3),
        optional(pick(&["", "true", "false"])),
        optional(pick(&["3600", "7200", "1h"])),
        optional(pick(&["8000", "abc"])),
        proptest::collection::vec(container(), 0..3),
        proptest::collection::vec(container(), 1..4),
        proptest::collection::vec(volume(), 0..3),
        proptest::bool::weighted(0.1),
    )
        .prop_map(
            |(named, skip, proxy, expiration, port, init, containers, volumes, host_network)| {
                let mut annotations = serde_json::Map::new();
                let mut put = |key: &str, value: Option<&str>| {
                    if let Some(value) = value {
                        annotations.insert(key.to_string(), Value::from(value));
                    }
                };
                put(
                    SKIP_KEY,
                    (!skip.is_empty()).then(|| skip.join(";")).as_deref(),
                );
                put(PROXY_KEY, proxy);
                put(
                    "azure.workload.identity/service-account-token-expiration",
                    expiration,
                );
                put("azure.workload.identity/proxy-sidecar-port", port);
                let mut metadata =
                    json!({"labels": {USE_LABEL: "true"}, "annotations": annotations});
                let key = if named { "name" } else { "generateName" };
                if let Some(meta) = metadata.as_object_mut() {
                    meta.insert(key.to_string(), json!("web-"));
                }
                json!({
                    "metadata": metadata,
                    "spec": {
                        "serviceAccountName": SA,
                        "hostNetwork": host_network,
                        "initContainers": init,
                        "containers": containers,
                        "volumes": volumes,
                    },
                })
            },
        )
}

/// The ServiceAccount with the client-id, without one, or missing.
fn cluster_state() -> impl Strategy<Value = Vec<Value>> {
    prop_oneof![
        3 => Just(vec![sa()]),
        1 => Just(vec![fixture("sa-workload-no-client-id.json")]),
        1 => Just(vec![]),
    ]
}

fn verify_options() -> impl Strategy<Value = Value> {
    (
        pick(&["v1.6", "v1.5"]),
        any::<bool>(),
        pick(&["warn", "reject"]),
    )
        .prop_map(|(layout, native, findings)| {
            json!({"tokenLayout": layout, "useNativeSidecar": native, "findings": findings})
        })
}

fn list<'a>(pod: &'a Value, key: &str) -> &'a [Value] {
    pod.pointer(&format!("/spec/{key}"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// For each edit the mutation made, the words one of the findings must start with: the mutation
/// only inserts the proxy containers, appends env vars and adds or replaces the token mount and
/// volume, so the containers of both Pods pair up in order.
fn edits_to_name(before: &Value, after: &Value) -> Vec<Vec<String>> {
    let name = |c: &Value| c["name"].as_str().unwrap_or("").to_string();
    let mut expected = Vec::new();
    for key in ["initContainers", "containers"] {
        let mut old = list(before, key).iter().peekable();
        for new in list(after, key) {
            let Some(old) = old.next_if(|o| name(o) == name(new)) else {
                expected.push(vec![format!(
                    "{PROXY_KEY} is set but spec.{key} has no {}",
                    name(new)
                )]);
                continue;
            };
            let c = name(new);
            if old.get("env") != new.get("env") {
                expected.push(vec![
                    format!("container \"{c}\" has none of"),
                    format!("container \"{c}\" lacks"),
                ]);
            }
            if old.get("volumeMounts") != new.get("volumeMounts") {
                expected.push(vec![
                    format!("container \"{c}\" does not mount"),
                    format!("container \"{c}\" mounts the token volume"),
                ]);
            }
        }
    }
    if list(before, "volumes") != list(after, "volumes") {
        expected.push(vec![
            "spec.volumes has no token volume".into(),
            "token volume ".into(),
        ]);
    }
    expected
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The mutation's output has no finding; a Pod it would change or reject has one; a Pod it
    /// would accept unchanged has none.
    #[test]
    fn verify_agrees_with_the_mutation(
        pod in labelled_pod(),
        accounts in cluster_state(),
        options in verify_options(),
    ) {
        let cluster = Cluster::serving(&accounts);
        let mutation = run(&pod, &settings(false, options.clone()), &cluster).decision;
        let verified = run(&pod, &settings(true, options.clone()), &cluster);
        let reject = options["findings"] == "reject";
        let found = |answer: &Answer| match reject {
            true => matches!(answer.decision, Decision::Reject(_)),
            false => answer.decision == Decision::Accept && !answer.warnings.is_empty(),
        };
        match mutation {
            Decision::Mutate(out) => {
                prop_assert_eq!(run(&out, &settings(true, options.clone()), &cluster), accepted_with(&[]));
                prop_assert!(found(&verified), "mutated, but no finding: {:?}", verified);
                let mut warn = options;
                warn["findings"] = json!("warn");
                let warnings = run(&pod, &settings(true, warn), &cluster).warnings;
                for words in edits_to_name(&pod, &out) {
                    let named = warnings.iter().any(|w| {
                        let who = w.strip_prefix("Pod default/web-").and_then(|w| {
                            w.strip_prefix(": ").or_else(|| w.strip_prefix("*: "))
                        });
                        words.iter().any(|start| who.is_some_and(|w| w.starts_with(start)))
                    });
                    prop_assert!(named, "no finding {:?} in {:?}", words, warnings);
                }
            }
            Decision::Accept => prop_assert_eq!(verified, accepted_with(&[])),
            Decision::Reject(rejection) => {
                prop_assert!(found(&verified), "rejected ({}), but: {:?}", rejection, verified);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The deploy manifest

fn manifest(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_verify_manifest_selects_what_the_mutating_one_does_and_never_mutates() {
    let mutating = manifest("cluster-admission-policy.yml");
    let verify = manifest("cluster-admission-policy-verify.yml");
    assert_eq!(
        verify["metadata"]["name"],
        json!("azure-workload-identity-verify")
    );
    let spec = &verify["spec"];
    assert_eq!(spec["mutating"], json!(false));
    assert_eq!(spec["backgroundAudit"], json!(true));
    assert_eq!(spec["mode"], json!("protect"));
    for same in [
        "module",
        "policyServer",
        "rules",
        "objectSelector",
        "namespaceSelector",
        "contextAwareResources",
        "matchPolicy",
        "sideEffects",
        "timeoutSeconds",
    ] {
        assert_eq!(spec[same], mutating["spec"][same], "spec.{same}");
    }
    let settings = &spec["settings"];
    assert_eq!(settings["verify"], json!(true));
    assert_eq!(settings["findings"], json!("warn"));
    for same in ["defaultTenantId", "azureEnvironment"] {
        assert_eq!(
            settings[same], mutating["spec"]["settings"][same],
            "settings.{same}"
        );
    }
    let config = azure_workload_identity_policy::check_settings(&settings.to_string());
    assert!(config.is_ok(), "{config:?}");
}
