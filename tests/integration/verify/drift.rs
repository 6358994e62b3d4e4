//! Other injectors, re-invocation and drift: sidecars added after the mutation, volumes named
//! from a generateName, and a client-id or tenant-id that changed since the Pod was mutated.

use super::*;

/// An Istio-style sidecar appended by another mutating webhook after this policy ran.
fn with_sidecar(mut pod: Value) -> Value {
    if let Some(containers) = pod
        .pointer_mut("/spec/containers")
        .and_then(Value::as_array_mut)
    {
        containers.push(json!({"name": "istio-proxy", "image": "istio/proxyv2:1.24.0"}));
    }
    pod
}

#[test]
fn a_sidecar_added_after_the_mutation_is_a_finding_unless_skipped() {
    let cluster = FakeCluster::serving(&[sa()]);
    let answer = run(&with_sidecar(mutated()), &verify_settings(), &cluster);
    assert_eq!(
        answer,
        accepted_with(&[no_env("istio-proxy"), no_mount("istio-proxy")])
    );

    let mut skipped = with_sidecar(mutated());
    annotate(&mut skipped, SKIP_KEY, "istio-proxy");
    assert_eq!(
        run(&skipped, &verify_settings(), &cluster),
        accepted_with(&[])
    );
}

#[test]
fn a_volume_named_from_the_generate_name_is_configured() {
    // A ReplicaSet's Pod: mutated while it had only a generateName, then named.
    let mut template = unmutated();
    if let Some(meta) = template.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("name");
        meta.insert("generateName".into(), json!("workload-app-"));
    }
    let cluster = FakeCluster::serving(&[sa()]);
    let Decision::Mutate(mut pod) = run(&template, &settings(false, json!({})), &cluster).decision
    else {
        panic!("not mutated");
    };
    if let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("name".into(), json!("workload-app-x7k2p"));
    }
    // hash input `workload-app- (prefix)`, not the name
    let volume = "azure-workload-identity-reserved-726d01eadb43268d4ff9b363091e68";
    assert_eq!(pod.pointer("/spec/volumes/2/name"), Some(&json!(volume)));
    assert_eq!(run(&pod, &verify_settings(), &cluster), accepted_with(&[]));
}

#[test]
fn a_client_id_changed_on_the_service_account_is_drift_in_every_container() {
    let cluster = FakeCluster::serving(&[sa_with(json!({
        CLIENT_ID_KEY: NEW_CLIENT_ID,
        "azure.workload.identity/tenant-id": TENANT_ID,
    }))]);
    let drift = |container: &str| {
        format!(
            "Pod default/workload-app: container \"{container}\" has AZURE_CLIENT_ID \
             \"{CLIENT_ID}\", not the ServiceAccount's \"{NEW_CLIENT_ID}\"; restart the Pod (or \
             roll out its workload) to pick up the new client-id"
        )
    };
    let expected = [drift("init-config"), drift("app"), drift("log-shipper")];
    // Exactly these: the mutating path's hint about the same value is not repeated.
    let answer = run(&mutated(), &verify_settings(), &cluster);
    assert_eq!(answer, accepted_with(&expected));
    // Within what the API server keeps of a warning.
    assert!(expected.iter().all(|w| w.len() <= 256), "{expected:?}");
    assert_eq!(
        run(&mutated(), &reject_settings(), &cluster),
        rejected_with(&expected)
    );
}

#[test]
fn a_tenant_id_that_changed_is_drift() {
    let cluster = FakeCluster::serving(&[sa_with(json!({CLIENT_ID_KEY: CLIENT_ID}))]);
    // Without the ServiceAccount's tenant-id the policy injects defaultTenantId.
    let default_tenant = "d3fa017e-5e7a-4c2b-a0c1-9e8f7d6c5b4a";
    let answer = run(&mutated(), &verify_settings(), &cluster);
    let drift = |container: &str| {
        format!(
            "{WHO}: container \"{container}\" has AZURE_TENANT_ID \"{TENANT_ID}\", not the \
             current \"{default_tenant}\"; restart the Pod (or roll out its workload) to pick up \
             the new tenant-id"
        )
    };
    assert_eq!(
        answer,
        accepted_with(&[drift("init-config"), drift("app"), drift("log-shipper")])
    );
}

#[test]
fn own_client_ids_without_a_client_id_on_the_service_account_are_no_finding() {
    // Every container carries its identity; the ServiceAccount has none to compare with.
    let cluster = FakeCluster::serving(&[fixture("sa-workload-no-client-id.json")]);
    assert_eq!(
        run(&mutated(), &verify_settings(), &cluster),
        accepted_with(&[])
    );
    assert_eq!(cluster.reads(), cached_lookup());
}
