//! The token volume and its mounts (docs/behaviour.md §4.3, §4.5, §5.1): the computed volume name,
//! replacing a same-named mount and volume in place, and what counts as already injected.

use azure_workload_identity_policy::Decision;
use serde_json::{Value, json};

use rstest::rstest;

use crate::common::*;

#[test]
fn mount_and_volume_with_the_computed_name_are_replaced_in_place() {
    let stale_volume = json!({"name": WEB_VOLUME, "projected": {"sources": [{"serviceAccountToken": {
        "path": "token/azure-identity-token", "audience": "api://Stale", "expirationSeconds": 7200}}],
        "defaultMode": 420}});
    let pod = labelled_web(json!({
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
    }));
    let expected = labelled_web(json!({
        "serviceAccountName": "workload-sa",
        "containers": [{
            "name": "app",
            "image": "nginx:1.27",
            "volumeMounts": [wi_mount(WEB_VOLUME), {"name": "data", "mountPath": "/data"}],
            "env": wi_env()
        }],
        "volumes": [wi_volume(WEB_VOLUME, AUDIENCE, 3600), {"name": "data", "emptyDir": {}}]
    }));
    assert_workload_pod_decision(pod, &Decision::Mutate(expected), "replace in place");
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
    assert_workload_pod_decision(pod, &Decision::Mutate(expected), "legacy artefacts");
}

#[test]
fn a_mount_at_the_token_path_under_another_name_counts_as_injected() {
    // docs/behaviour.md §5.1 (a project decision): any mount at /var/run/secrets/azure/wi counts
    // as already injected, so the policy never produces a duplicate mountPath.
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
    assert_workload_pod_decision(
        pod,
        &Decision::Mutate(expected),
        "own mount at the token path",
    );
}

#[rstest]
#[case("name", Some("web"), None, WEB_VOLUME)]
#[case("another name", Some("pod"), None, POD_VOLUME)]
#[case("name wins", Some("web"), Some("web-7d4b9c5f6-"), WEB_VOLUME)]
#[case("generateName", None, Some("web-7d4b9c5f6-"), WEB_PREFIX_VOLUME)]
#[case(
    "empty name, generateName",
    Some(""),
    Some("web-7d4b9c5f6-"),
    WEB_PREFIX_VOLUME
)]
#[case("neither", None, None, NO_NAME_VOLUME)]
fn volume_name_hashes_the_name_or_the_generate_name(
    #[case] case: &str,
    #[case] name: Option<&str>,
    #[case] generate_name: Option<&str>,
    #[case] volume: &str,
) {
    // docs/behaviour.md §1.5 and §4.5, with its worked examples.
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
