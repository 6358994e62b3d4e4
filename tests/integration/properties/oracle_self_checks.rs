//! The oracle can fail: the lossless check rejects what it must reject, and the model predicts a
//! known mutation exactly.

use super::*;

fn sample_pod() -> Value {
    json!({
        "metadata": {"name": "web", "labels": {USE_LABEL: "true"}, "annotations": {"a": "b"}},
        "spec": {
            "containers": [{"name": "app", "env": [{"name": "A", "value": "1"}],
                            "volumeMounts": [{"name": "config", "mountPath": "/config"}]}],
            "volumes": [{"name": "config", "emptyDir": {}}],
            "nodeSelector": {"disk": "ssd"}
        }
    })
}

#[test]
fn the_lossless_check_accepts_the_changes_the_behaviour_defines() {
    let input = sample_pod();
    let volume = KNOWN_VOLUME_NAMES
        .first()
        .map(|(_, n)| *n)
        .unwrap_or_default();
    let mut output = input.clone();
    edit(
        &mut output,
        "/spec/containers/0/env",
        Some(json!([{"name": "A", "value": "1"}, {"name": "AZURE_TENANT_ID", "value": "t"}])),
    );
    edit(
        &mut output,
        "/spec/containers/0/volumeMounts",
        Some(json!([{"name": "config", "mountPath": "/config"},
                    {"name": volume, "mountPath": MOUNT_PATH, "readOnly": true}])),
    );
    let token = json!({"name": volume, "projected": {"sources": [{"serviceAccountToken": {
        "path": "token/azure-identity-token", "audience": "a", "expirationSeconds": 3600}}]}});
    edit(
        &mut output,
        "/spec/volumes",
        Some(json!([{"name": "config", "emptyDir": {}}, token])),
    );
    let changes = oracle::diff(&input, &output);
    assert_eq!(
        changes.as_ref().map(|c| (
            c.env_appended.len(),
            c.mounts_appended.len(),
            c.volumes_appended.len()
        )),
        Ok((1, 1, 1)),
        "{changes:?}"
    );
}

#[test]
fn the_lossless_check_rejects_every_other_change() {
    let input = sample_pod();
    let cases: Vec<(&str, Option<Value>, &str)> = vec![
        (
            "/metadata/annotations/a",
            None,
            "/metadata was changed or removed",
        ),
        (
            "/metadata/labels/x",
            Some(json!("y")),
            "/metadata was changed or removed",
        ),
        (
            "/spec/nodeSelector/disk",
            Some(json!("hdd")),
            "/spec/nodeSelector was changed",
        ),
        ("/spec/nodeSelector", None, "/spec/nodeSelector was removed"),
        (
            "/spec/hostNetwork",
            Some(json!(true)),
            "/spec/hostNetwork was added",
        ),
        (
            "/spec/containers/0/image",
            Some(json!("x")),
            "/spec/containers/0/image was added",
        ),
        (
            "/spec/containers/0/env/0/value",
            Some(json!("2")),
            "/spec/containers/0/env/0 was changed",
        ),
        (
            "/spec/containers/0/env",
            Some(json!([])),
            "/spec/containers/0/env lost entries",
        ),
        (
            "/spec/containers/0/env",
            Some(json!([{"name": "A", "value": "1"}, {"name": "A", "value": "2"}])),
            "which is not a new AZURE_* entry",
        ),
        (
            "/spec/containers/0/env",
            Some(json!([{"name": "A", "value": "1"}, {"name": "AZURE_X", "value": "2", "x": 1}])),
            "which is not a new AZURE_* entry",
        ),
        (
            "/spec/containers/0/volumeMounts/0",
            Some(json!({"name": "config", "mountPath": MOUNT_PATH, "readOnly": true})),
            "/spec/containers/0/volumeMounts/0 was changed",
        ),
        (
            "/spec/volumes/0",
            Some(
                json!({"name": "config", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}),
            ),
            "/spec/volumes/0 was changed",
        ),
        (
            "/spec/volumes",
            Some(json!([])),
            "/spec/volumes went from 1 to 0 entries",
        ),
        (
            "/spec/containers",
            Some(json!([{"name": "azwi-proxy"}])),
            "/spec/containers/0/name was changed",
        ),
        (
            "/spec/containers",
            Some(json!([{"name": "other"}, {"name": "app"}])),
            "/spec/containers went from 1 to 2 entries",
        ),
        (
            "/spec/volumes",
            Some(json!({})),
            "/spec/volumes became {}, not a list",
        ),
        ("/status", Some(json!({})), "/status was added"),
    ];
    for (pointer, value, expected) in cases {
        let mut output = input.clone();
        edit(&mut output, pointer, value.clone());
        let result = oracle::diff(&input, &output);
        assert!(
            matches!(&result, Err(e) if e.contains(expected)),
            "{pointer} := {value:?}: expected an error containing {expected:?}, got {result:?}"
        );
    }
}

#[test]
fn the_model_predicts_a_known_mutation_exactly() {
    // the example of the flow tests (`web_pod`): a labelled Pod, a ServiceAccount with client and tenant id
    let pod = json!({
        "metadata": {"name": "web", "labels": {USE_LABEL: "true"}},
        "spec": {"serviceAccountName": "workload-sa", "containers": [{"name": "app"}]}
    });
    let request = json!({"operation": "CREATE", "namespace": "default",
        "kind": {"group": "", "version": "v1", "kind": "Pod"}, "object": pod});
    let settings = json!({"defaultTenantId": "d"});
    let sa = oracle::service_account(&json!({CLIENT_ID_KEY: "c", TENANT_ID_KEY: "t"}));
    let volume = "azure-workload-identity-reserved-4b5e57f6eb2f42b9039b3d1e139292";
    let expected = json!({
        "metadata": {"name": "web", "labels": {USE_LABEL: "true"}},
        "spec": {
            "serviceAccountName": "workload-sa",
            "containers": [{
                "name": "app",
                "env": [
                    {"name": "AZURE_CLIENT_ID", "value": "c"},
                    {"name": "AZURE_TENANT_ID", "value": "t"},
                    {"name": "AZURE_FEDERATED_TOKEN_FILE", "value": "/var/run/secrets/azure/wi/token/azure-identity-token"},
                    {"name": "AZURE_AUTHORITY_HOST", "value": "https://login.microsoftonline.com/"}
                ],
                "volumeMounts": [{"name": volume, "mountPath": MOUNT_PATH, "readOnly": true}]
            }],
            "volumes": [{"name": volume, "projected": {"sources": [{"serviceAccountToken": {
                "path": "token/azure-identity-token", "audience": "api://AzureADTokenExchange",
                "expirationSeconds": 3600}}]}}]
        }
    });
    assert_eq!(
        oracle::model(&request, &settings, Some(&sa)),
        (
            oracle::Expected::Pod {
                lookup: ("default".to_string(), "workload-sa".to_string()),
                pod: expected
            },
            Class::Mutated
        )
    );
    assert_eq!(
        oracle::check_case(&request, &settings, Some(&sa)),
        Ok(Class::Mutated)
    );
    // the model follows the settings: another audience is another Pod
    let other = json!({"defaultTenantId": "d", "audience": "api://other"});
    assert_ne!(
        oracle::model(&request, &other, Some(&sa)),
        oracle::model(&request, &settings, Some(&sa))
    );
}
