//! Re-invocation (docs/behaviour.md §5): evaluating a mutated Pod again changes nothing, also after
//! another webhook named the Pod or added a container.

use azure_workload_identity_policy::Decision;
use serde_json::json;

use crate::common::*;

#[test]
fn evaluating_the_mutated_pod_again_changes_nothing() {
    let request = fixture("request-labelled-pod.json");
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    let Decision::Mutate(first) = run(&request, &default_settings(), &cluster) else {
        panic!("the labelled pod was not mutated");
    };
    let again = with(&request, &[("/object", first)]);
    assert_decision(
        &run(&again, &default_settings(), &cluster),
        &Decision::Accept,
        "second pass",
    );
    assert_eq!(cluster.calls(), lookups(&[(NS, SA_NAME), (NS, SA_NAME)]));
}

#[test]
fn reinvocation_after_the_name_was_set_adds_no_second_volume_or_mount() {
    // docs/behaviour.md §5.1 (a project decision): the first pass sees a generateName Pod,
    // another webhook then sets metadata.name, and the policy is invoked again.
    let request = without(
        &with(
            &fixture("request-labelled-pod.json"),
            &[("/object/metadata/generateName", json!("workload-app-"))],
        ),
        &["/object/metadata/name", "/name"],
    );
    let expected_first = renamed(
        &without(
            &with(
                &fixture("expected-labelled-pod.json"),
                &[("/metadata/generateName", json!("workload-app-"))],
            ),
            &["/metadata/name"],
        ),
        WORKLOAD_APP_VOLUME,
        WORKLOAD_APP_PREFIX_VOLUME,
    );
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    let first = run(&request, &default_settings(), &cluster);
    assert_decision(
        &first,
        &Decision::Mutate(expected_first.clone()),
        "first pass",
    );

    // Named now; the hash of the new name would be another volume name.
    assert_ne!(WORKLOAD_APP_X7K2P_VOLUME, WORKLOAD_APP_PREFIX_VOLUME);
    let named = with(
        &expected_first,
        &[("/metadata/name", json!("workload-app-x7k2p"))],
    );
    let second = with(&request, &[("/object", named.clone())]);
    assert_decision(
        &run(&second, &default_settings(), &cluster),
        &Decision::Accept,
        "second pass after the name change",
    );

    // Another webhook also added a sidecar: only the sidecar is mutated, with the existing volume.
    let sidecar = json!({"name": "daprd", "image": "daprio/daprd:1.14"});
    let with_sidecar = with(&named, &[("/spec/containers/-", sidecar)]);
    let third = with(&request, &[("/object", with_sidecar.clone())]);
    let expected_third = with(
        &with_sidecar,
        &[(
            "/spec/containers/2",
            json!({"name": "daprd", "image": "daprio/daprd:1.14", "env": wi_env(),
                   "volumeMounts": [wi_mount(WORKLOAD_APP_PREFIX_VOLUME)]}),
        )],
    );
    assert_decision(
        &run(&third, &default_settings(), &cluster),
        &Decision::Mutate(expected_third),
        "third pass with a new sidecar",
    );
    assert_eq!(
        cluster.calls(),
        lookups(&[(NS, SA_NAME), (NS, SA_NAME), (NS, SA_NAME)])
    );
}

#[test]
fn reinvocation_after_another_webhook_added_a_container_mutates_only_that_container() {
    // The reason for reinvocationPolicy IfNeeded (docs/behaviour.md §5).
    let Decision::Mutate(first) = run(
        &fixture("request-labelled-pod.json"),
        &default_settings(),
        &FakeCluster::serving(&[fixture("sa-workload.json")]),
    ) else {
        panic!("the labelled pod was not mutated");
    };
    let sidecar = json!({"name": "daprd", "image": "daprio/daprd:1.14",
                         "env": [{"name": "DAPR_HTTP_PORT", "value": "3500"}]});
    let pod = with(&first, &[("/spec/containers/-", sidecar)]);
    let expected = with(
        &pod,
        &[(
            "/spec/containers/2",
            json!({"name": "daprd", "image": "daprio/daprd:1.14",
                   "env": concat(vec![env("DAPR_HTTP_PORT", "3500")], wi_env()),
                   "volumeMounts": [wi_mount(WORKLOAD_APP_VOLUME)]}),
        )],
    );
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    let request = with(&fixture("request-labelled-pod.json"), &[("/object", pod)]);
    assert_decision(
        &run(&request, &default_settings(), &cluster),
        &Decision::Mutate(expected),
        "sidecar added by another webhook",
    );
    assert_eq!(cluster.calls(), lookups(&[(NS, SA_NAME)]));
}
