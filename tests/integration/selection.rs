//! Which requests the Pod path handles: everything that is not a labelled core/v1 Pod CREATE is
//! accepted unchanged, without a ServiceAccount lookup. (A workload whose Pod template is
//! labelled is read by the workload checks: `checks/workloads.rs`.)

use azure_workload_identity_policy::Decision;
use serde_json::{Value, json};

use crate::common::*;

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
            "metadata": {"name": "workload-app", "namespace": NS, "labels": {"app": "workload-app"}},
            "spec": {
                "selector": {"matchLabels": {"app": "workload-app"}},
                "template": {
                    "metadata": {"labels": {"app": "workload-app"}},
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
        (
            "Deployment without the label",
            deployment,
            default_settings(),
        ),
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
    let mut rows = Rows::new();
    for (case, request, settings) in cases {
        rows.check(case, || {
            // The ServiceAccount has no client id: had the policy processed the request, it would
            // have rejected it.
            let cluster = FakeCluster::serving(&[fixture("sa-workload-no-client-id.json")]);
            assert_decision(&run(&request, &settings, &cluster), &Decision::Accept, case);
            assert_eq!(cluster.calls(), lookups(&[]), "{case}: lookups");
        });
    }
    rows.assert_all_passed();
}
