//! The requests and small Pods of the flow tests, and the Pods the policy makes of them.

use azure_workload_identity_policy::{Decision, evaluate};
use serde_json::{Value, json};

use super::assertions::assert_decision;
use super::fixtures::fixture;
use super::harness::{FakeCluster, payload};
use super::json::set;
use super::spec::*;

/// Evaluates `request` with these settings against `cluster`.
pub fn run(request: &Value, settings: &Value, cluster: &FakeCluster) -> Decision {
    evaluate(&payload(request, Some(settings)), cluster)
}

/// Evaluates a CREATE of `pod` with the default settings, `default/workload-sa` of
/// `test_data/sa-workload.json` in the cluster, and asserts the decision.
pub fn assert_workload_pod_decision(pod: Value, expected: &Decision, case: &str) {
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    assert_decision(
        &run(&pod_request(pod), &default_settings(), &cluster),
        expected,
        case,
    );
}

/// Evaluates `test_data/request-labelled-pod.json` (`default/workload-app`, ServiceAccount
/// `workload-sa`) with the default settings.
pub fn run_labelled_fixture(cluster: &FakeCluster) -> Decision {
    run(
        &fixture("request-labelled-pod.json"),
        &default_settings(),
        cluster,
    )
}

/// `test_data/settings-default.json`.
pub fn default_settings() -> Value {
    fixture("settings-default.json")
}

/// A Pod CREATE in namespace `default`.
pub fn pod_request(pod: Value) -> Value {
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

/// A labelled Pod `default/web` with this spec.
pub fn labelled_web(spec: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"azure.workload.identity/use": "true"}},
        "spec": spec
    })
}

/// A labelled Pod `default/web` with one container, using `workload-sa`.
pub fn web_pod() -> Value {
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
pub fn web_mutated(env: Vec<Value>, mount: Value, volume: Value) -> Value {
    let mut pod = web_pod();
    set(&mut pod, "/spec/containers/0/env", Value::Array(env));
    set(&mut pod, "/spec/containers/0/volumeMounts", json!([mount]));
    set(&mut pod, "/spec/volumes", json!([volume]));
    pod
}

/// `web_pod()` after the policy with the default settings and `default/workload-sa`.
pub fn web_mutated_default() -> Value {
    web_mutated(
        wi_env(),
        wi_mount(WEB_VOLUME),
        wi_volume(WEB_VOLUME, AUDIENCE, 3600),
    )
}

/// A labelled Pod `default/web` with an init container, two containers and an ephemeral one.
pub fn trio_pod() -> Value {
    labelled_web(json!({
        "serviceAccountName": "workload-sa",
        "initContainers": [{"name": "init-config", "image": "busybox:1.36"}],
        "containers": [
            {"name": "app", "image": "nginx:1.27"},
            {"name": "log-shipper", "image": "fluent/fluent-bit:3.1"}
        ]
    }))
}

/// `trio_pod()` after the policy, the containers in `skipped` left alone.
pub fn trio_mutated(skipped: &[&str]) -> Value {
    let container = |name: &str, image: &str| {
        if skipped.contains(&name) {
            json!({"name": name, "image": image})
        } else {
            json!({"name": name, "image": image, "env": wi_env(), "volumeMounts": [wi_mount(WEB_VOLUME)]})
        }
    };
    labelled_web(json!({
        "serviceAccountName": "workload-sa",
        "initContainers": [container("init-config", "busybox:1.36")],
        "containers": [
            container("app", "nginx:1.27"),
            container("log-shipper", "fluent/fluent-bit:3.1")
        ],
        "volumes": [wi_volume(WEB_VOLUME, AUDIENCE, 3600)]
    }))
}
