//! The env vars the policy injects (docs/behaviour.md §4.1) and into which containers (§2.5, §4.2):
//! the whole labelled Pod of the fixtures, the tenant id, skip-containers, init containers and
//! native sidecars, and the merge with the container's own env.

use azure_workload_identity_policy::Decision;
use serde_json::{Value, json};

use rstest::rstest;

use crate::common::*;

// ---------------------------------------------------------------------------------------------
// The labelled Pod of the fixtures (docs/behaviour.md §3, §4)
// ---------------------------------------------------------------------------------------------

#[test]
fn labelled_pod_is_mutated_as_a_whole_and_unknown_fields_survive() {
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    let decision = run_labelled_fixture(&cluster);
    assert_decision(
        &decision,
        &Decision::Mutate(fixture("expected-labelled-pod.json")),
        "labelled pod",
    );
    assert_eq!(cluster.calls(), lookups(&[(NS, SA_NAME)]));
}

#[test]
fn expected_fixture_differs_from_the_request_only_where_the_policy_injects() {
    // Guards the hand-written expected file: removing exactly what docs/behaviour.md §4 adds
    // gives the input back.
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

// ---------------------------------------------------------------------------------------------
// Tenant id (docs/behaviour.md §2.2, §4.1)
// ---------------------------------------------------------------------------------------------

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
            service_account_object(NS, SA_NAME, json!({CLIENT_ID_KEY: CLIENT_ID})),
            [
                vec![client(), env("AZURE_TENANT_ID", DEFAULT_TENANT)],
                tail(),
            ]
            .concat(),
        ),
        (
            "tenant-id empty: omitted, the default is not used",
            service_account_object(
                NS,
                SA_NAME,
                json!({CLIENT_ID_KEY: CLIENT_ID, "azure.workload.identity/tenant-id": ""}),
            ),
            [vec![client()], tail()].concat(),
        ),
    ];
    let mut rows = Rows::new();
    for (case, sa, expected_env) in cases {
        rows.check(case, || {
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
        });
    }
    rows.assert_all_passed();
}

// ---------------------------------------------------------------------------------------------
// skip-containers (docs/behaviour.md §2.5)
// ---------------------------------------------------------------------------------------------

#[rstest]
#[case("", vec![])]
#[case("log-shipper", vec!["log-shipper"])]
#[case("init-config; log-shipper", vec!["init-config", "log-shipper"])]
#[case(" app ;;", vec!["app"])]
#[case("init-config;app;log-shipper", vec!["init-config", "app", "log-shipper"])]
// comma is not a separator; matching is exact and case-sensitive
#[case("app,log-shipper", vec![])]
#[case("App", vec![])]
#[case("log", vec![])]
fn skipped_containers_get_neither_env_nor_mount_but_the_volume_is_added(
    #[case] annotation: &str,
    #[case] skipped: Vec<&str>,
) {
    // (annotation, containers it skips)
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

// ---------------------------------------------------------------------------------------------
// Which containers (docs/behaviour.md §4.2)
// ---------------------------------------------------------------------------------------------

#[test]
fn init_containers_and_native_sidecars_are_mutated_ephemeral_containers_never() {
    let pod = labelled_web(json!({
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
    }));
    let expected = labelled_web(json!({
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
    }));
    assert_workload_pod_decision(pod, &Decision::Mutate(expected), "init, sidecar, ephemeral");
}

// ---------------------------------------------------------------------------------------------
// Env merge (docs/behaviour.md §4.1)
// ---------------------------------------------------------------------------------------------

#[test]
fn existing_env_entries_win_and_missing_ones_are_appended_after_them() {
    let authority_from_config_map = json!({"name": "AZURE_AUTHORITY_HOST",
        "valueFrom": {"configMapKeyRef": {"name": "azure", "key": "authority"}}});
    let pod = labelled_web(json!({
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
    }));
    let expected = labelled_web(json!({
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
    }));
    assert_workload_pod_decision(pod, &Decision::Mutate(expected), "existing env");
}
