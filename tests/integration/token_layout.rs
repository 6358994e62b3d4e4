//! `tokenLayout` (docs/behaviour.md §8): the v1.6 layout (the default) and the v1.5 layout with its
//! old names, the same Pod under both with the exact result asserted, and re-invocation in each.

use azure_workload_identity_policy::Decision;
use serde_json::{Value, json};

use crate::common::*;

/// Evaluates a CREATE of `pod` in namespace `apps`, every lookup finding a ServiceAccount with
/// the client id and a token expiration of 7200 s.
fn run_in_apps(pod: &Value, settings: &Value) -> Decision {
    let request = json!({"operation": "CREATE", "namespace": "apps",
                         "kind": {"group": "", "version": "v1", "kind": "Pod"}, "object": pod});
    let cluster = FakeCluster::serving_every_lookup(Some(service_account(&json!({
        CLIENT_ID_KEY: CLIENT_ID,
        "azure.workload.identity/service-account-token-expiration": "7200",
    }))));
    azure_workload_identity_policy::evaluate(&payload(&request, Some(settings)), &cluster)
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
    // ≤ v1.5 rules (docs/behaviour.md §5.2): no volume when any projected token source has path
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

/// A Pod with an init container, two containers (one skipped), an existing env var, the API
/// server's token volume and an unknown field.
fn pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": "web",
            "labels": {"azure.workload.identity/use": "true"},
            "annotations": {"azure.workload.identity/skip-containers": "metrics"},
        },
        "spec": {
            "serviceAccountName": "web-sa",
            "initContainers": [{"name": "migrate", "image": "migrate:1"}],
            "containers": [
                {"name": "web", "image": "web:1", "env": [{"name": "LOG", "value": "debug"}],
                 "volumeMounts": [{"name": "kube-api-access-x", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}]},
                {"name": "metrics", "image": "metrics:1"},
            ],
            "volumes": [{"name": "kube-api-access-x", "projected": {"sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}}]}}],
            "futureField": {"kept": true},
        },
    })
}

fn expected(volume: &str, mount_path: &str, token_path: &str) -> Value {
    let env = |existing: &[Value]| {
        let mut e = existing.to_vec();
        e.extend([
            json!({"name": "AZURE_CLIENT_ID", "value": CLIENT_ID}),
            json!({"name": "AZURE_TENANT_ID", "value": DEFAULT_TENANT}),
            json!({"name": "AZURE_FEDERATED_TOKEN_FILE", "value": format!("{mount_path}/{token_path}")}),
            json!({"name": "AZURE_AUTHORITY_HOST", "value": "https://login.microsoftonline.com/"}),
        ]);
        Value::Array(e)
    };
    let mount = json!({"name": volume, "mountPath": mount_path, "readOnly": true});
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": "web",
            "labels": {"azure.workload.identity/use": "true"},
            "annotations": {"azure.workload.identity/skip-containers": "metrics"},
        },
        "spec": {
            "serviceAccountName": "web-sa",
            "initContainers": [{"name": "migrate", "image": "migrate:1", "env": env(&[]), "volumeMounts": [mount.clone()]}],
            "containers": [
                {"name": "web", "image": "web:1", "env": env(&[json!({"name": "LOG", "value": "debug"})]),
                 "volumeMounts": [{"name": "kube-api-access-x", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}, mount]},
                {"name": "metrics", "image": "metrics:1"},
            ],
            "volumes": [
                {"name": "kube-api-access-x", "projected": {"sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}}]}},
                {"name": volume, "projected": {"sources": [{"serviceAccountToken": {
                    "path": token_path, "audience": "api://AzureADTokenExchange", "expirationSeconds": 7200}}]}},
            ],
            "futureField": {"kept": true},
        },
    })
}

#[test]
fn both_layouts_on_the_same_pod() {
    let v1_6 = expected(
        "azure-workload-identity-reserved-4b5e57f6eb2f42b9039b3d1e139292",
        "/var/run/secrets/azure/wi",
        "token/azure-identity-token",
    );
    let v1_5 = expected(
        "azure-identity-token",
        "/var/run/secrets/azure/tokens",
        "azure-identity-token",
    );
    let cases = [
        (
            "default",
            json!({"defaultTenantId": DEFAULT_TENANT}),
            v1_6.clone(),
        ),
        (
            "v1.6",
            json!({"defaultTenantId": DEFAULT_TENANT, "tokenLayout": "v1.6"}),
            v1_6,
        ),
        (
            "v1.5",
            json!({"defaultTenantId": DEFAULT_TENANT, "tokenLayout": "v1.5"}),
            v1_5,
        ),
    ];
    let mut rows = Rows::new();
    for (layout, settings, expected) in cases {
        rows.check(layout, || {
            assert_eq!(
                run_in_apps(&pod(), &settings),
                Decision::Mutate(expected.clone()),
                "{layout}"
            );
            assert_eq!(
                run_in_apps(&expected, &settings),
                Decision::Accept,
                "{layout}: re-invocation"
            );
        });
    }
    rows.assert_all_passed();
}

#[test]
fn the_layouts_do_not_recognise_each_other() {
    // A Pod mutated in one layout and evaluated in the other gets the other layout added beside
    // it (as upstream v1.6.0 does with v1.5 artefacts): the settings decide the layout.
    let v1_6 = json!({"defaultTenantId": DEFAULT_TENANT});
    let v1_5 = json!({"defaultTenantId": DEFAULT_TENANT, "tokenLayout": "v1.5"});
    let Decision::Mutate(first) = run_in_apps(&pod(), &v1_5) else {
        panic!("v1.5 pass did not mutate");
    };
    let Decision::Mutate(second) = run_in_apps(&first, &v1_6) else {
        panic!("v1.6 pass did not mutate");
    };
    let names: Vec<&str> = second["spec"]["volumes"]
        .as_array()
        .map(|v| v.iter().filter_map(|v| v["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        names,
        [
            "kube-api-access-x",
            "azure-identity-token",
            "azure-workload-identity-reserved-4b5e57f6eb2f42b9039b3d1e139292"
        ]
    );
    // the env vars of the first pass win: AZURE_FEDERATED_TOKEN_FILE keeps the v1.5 path
    assert_eq!(
        second["spec"]["initContainers"][0]["env"][2],
        json!({"name": "AZURE_FEDERATED_TOKEN_FILE", "value": "/var/run/secrets/azure/tokens/azure-identity-token"})
    );
}
