//! `tokenLayout` (issue 8): the same Pod under both layouts, with the exact result asserted, and
//! re-invocation in each.

use azure_workload_identity_policy::{Decision, evaluate};
use azure_workload_identity_policy::{ServiceAccount, ServiceAccountSource};
use serde_json::{Value, json};

const TENANT: &str = "d3fa017e-5e7a-4c2b-a0c1-9e8f7d6c5b4a";
const CLIENT: &str = "5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f";

struct OneServiceAccount;

impl ServiceAccountSource for OneServiceAccount {
    fn get(&self, _namespace: &str, _name: &str) -> Result<ServiceAccount, String> {
        Ok(ServiceAccount::with_annotations([
            ("azure.workload.identity/client-id", CLIENT),
            (
                "azure.workload.identity/service-account-token-expiration",
                "7200",
            ),
        ]))
    }
}

fn run(pod: &Value, settings: &Value) -> Decision {
    let payload = json!({
        "request": {"operation": "CREATE", "namespace": "apps",
                    "kind": {"group": "", "version": "v1", "kind": "Pod"}, "object": pod},
        "settings": settings,
    });
    evaluate(
        &serde_json::to_vec(&payload).unwrap_or_default(),
        &OneServiceAccount,
    )
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
            json!({"name": "AZURE_CLIENT_ID", "value": CLIENT}),
            json!({"name": "AZURE_TENANT_ID", "value": TENANT}),
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
        ("default", json!({"defaultTenantId": TENANT}), v1_6.clone()),
        (
            "v1.6",
            json!({"defaultTenantId": TENANT, "tokenLayout": "v1.6"}),
            v1_6,
        ),
        (
            "v1.5",
            json!({"defaultTenantId": TENANT, "tokenLayout": "v1.5"}),
            v1_5,
        ),
    ];
    for (layout, settings, expected) in cases {
        assert_eq!(
            run(&pod(), &settings),
            Decision::Mutate(expected.clone()),
            "{layout}"
        );
        assert_eq!(
            run(&expected, &settings),
            Decision::Accept,
            "{layout}: re-invocation"
        );
    }
}

#[test]
fn the_layouts_do_not_recognise_each_other() {
    // A Pod mutated in one layout and evaluated in the other gets the other layout added beside
    // it (as upstream v1.6.0 does with v1.5 artefacts): the settings decide the layout.
    let v1_6 = json!({"defaultTenantId": TENANT});
    let v1_5 = json!({"defaultTenantId": TENANT, "tokenLayout": "v1.5"});
    let Decision::Mutate(first) = run(&pod(), &v1_5) else {
        panic!("v1.5 pass did not mutate");
    };
    let Decision::Mutate(second) = run(&first, &v1_6) else {
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
