//! Verify and the mutation agree: on generated Pods, the mutation's output has no finding, a Pod
//! it would change or reject has one, and a Pod it would accept unchanged has none.

use super::*;
use proptest::prelude::*;

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
        let cluster = FakeCluster::serving(&accounts);
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
