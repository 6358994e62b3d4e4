//! The project rule that a usable client id is required (docs/behaviour.md §3.2), and its
//! exception: every mutated container sets `AZURE_CLIENT_ID` itself.

use azure_workload_identity_policy::{Decision, Rejection};
use serde_json::{Value, json};

use crate::common::*;

// ---------------------------------------------------------------------------------------------
// A usable client id is required
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_client_id_is_rejected_with_the_exact_message() {
    let cluster = FakeCluster::serving(&[fixture("sa-workload-no-client-id.json")]);
    let decision = run_labelled_fixture(&cluster);
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
    assert_eq!(cluster.calls(), lookups_then_fresh(NS, SA_NAME));
}

#[test]
fn unusable_client_id_is_rejected_naming_the_key_the_service_account_and_the_fix() {
    let tenant = json!(SA_TENANT);
    let sa = |annotations: Value| service_account_object(NS, SA_NAME, annotations);
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
            "client_id, with an underscore",
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
    let mut rows = Rows::new();
    for (case, service_account, problem) in cases {
        rows.check(case, || {
            let cluster = FakeCluster::serving(&[service_account]);
            let decision = run_labelled_fixture(&cluster);
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
            assert_eq!(cluster.calls(), lookups_then_fresh(NS, SA_NAME), "{case}");
        });
    }
    rows.assert_all_passed();
}

#[test]
fn client_id_message_names_the_namespace_and_service_account_of_the_pod() {
    let billing = service_account_object(
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
    assert_eq!(cluster.calls(), lookups_then_fresh("payments", "billing"));
}

#[test]
fn missing_client_id_is_reported_before_an_invalid_token_expiration() {
    // docs/behaviour.md §3.1: the client-id check sits right after the ServiceAccount lookup.
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
    // docs/behaviour.md §2.2: not validated, not trimmed.
    let sa = service_account_object(
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

// ---------------------------------------------------------------------------------------------
// Every mutated container sets AZURE_CLIENT_ID itself
// ---------------------------------------------------------------------------------------------

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
    let expected = labelled_web(json!({
        "serviceAccountName": "workload-sa",
        "initContainers": [mounted("init-config", "busybox:1.36", own_client_id_value())],
        "containers": [
            mounted("app", "nginx:1.27", own_client_id_from_secret()),
            mounted("log-shipper", "fluent/fluent-bit:3.1", own_client_id_value())
        ],
        "ephemeralContainers": [{"name": "debugger", "image": "busybox:1.36", "targetContainerName": "app"}],
        "volumes": [wi_volume(WEB_VOLUME, AUDIENCE, 3600)]
    }));
    let mut rows = Rows::new();
    for sa_fixture in [
        "sa-workload-no-client-id.json",
        "sa-workload-misspelt-client-id.json",
    ] {
        rows.check(sa_fixture, || {
            let cluster = FakeCluster::serving(&[fixture(sa_fixture)]);
            assert_decision(
                &run(&pod_request(pod.clone()), &default_settings(), &cluster),
                &Decision::Mutate(expected.clone()),
                sa_fixture,
            );
            assert_eq!(cluster.calls(), lookups(&[(NS, SA_NAME)]), "{sa_fixture}");
        });
    }
    rows.assert_all_passed();
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
    let mut rows = Rows::new();
    for (case, pod) in cases {
        rows.check(case, || {
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
            assert_eq!(cluster.calls(), lookups_then_fresh(NS, SA_NAME), "{case}");
        });
    }
    rows.assert_all_passed();
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
