//! Which ServiceAccount is looked up and where (docs/behaviour.md §1.5), and how a failed lookup
//! is reported (§3.1 step 4, §3.3).

use azure_workload_identity_policy::{Decision, Rejection};
use serde_json::{Value, json};

use crate::common::*;

// ---------------------------------------------------------------------------------------------
// Which ServiceAccount, in which namespace
// ---------------------------------------------------------------------------------------------

/// A JSON pointer and its new value; `None` removes the field.
type Edit<'a> = (&'a str, Option<Value>);

#[test]
fn empty_or_absent_service_account_name_looks_up_default() {
    let default_sa = service_account_object(
        NS,
        "default",
        json!({CLIENT_ID_KEY: CLIENT_ID, "azure.workload.identity/tenant-id": SA_TENANT}),
    );
    // The same edits are made to the input and to the expected Pod: the policy leaves the
    // serviceAccountName/serviceAccount fields as they were.
    let cases: Vec<(&str, Vec<Edit>)> = vec![
        ("absent", vec![("/spec/serviceAccountName", None)]),
        ("empty", vec![("/spec/serviceAccountName", Some(json!("")))]),
        (
            "null",
            vec![("/spec/serviceAccountName", Some(Value::Null))],
        ),
        (
            "only the deprecated spec.serviceAccount",
            vec![
                ("/spec/serviceAccountName", None),
                ("/spec/serviceAccount", Some(json!("workload-sa"))),
            ],
        ),
    ];
    let mut rows = Rows::new();
    for (case, edits) in cases {
        rows.check(case, || {
            let edited = |mut value: Value| {
                for (pointer, new) in &edits {
                    match new {
                        Some(new) => set(&mut value, pointer, new.clone()),
                        None => remove(&mut value, pointer),
                    }
                }
                value
            };
            let cluster = FakeCluster::serving(&[default_sa.clone(), fixture("sa-workload.json")]);
            assert_decision(
                &run(
                    &pod_request(edited(web_pod())),
                    &default_settings(),
                    &cluster,
                ),
                &Decision::Mutate(edited(web_mutated_default())),
                case,
            );
            assert_eq!(cluster.calls(), lookups(&[(NS, "default")]), "{case}");
        });
    }
    rows.assert_all_passed();
}

#[test]
fn service_account_is_looked_up_in_the_request_namespace() {
    const PAYMENTS_CLIENT_ID: &str = "7e1f4c2a-9b3d-4e5f-8a6b-1c2d3e4f5a6b";
    let payments_sa = service_account_object(
        "payments",
        SA_NAME,
        json!({CLIENT_ID_KEY: PAYMENTS_CLIENT_ID, "azure.workload.identity/tenant-id": SA_TENANT}),
    );
    let without_namespace = without(&web_pod(), &["/metadata/namespace"]);
    // (case, request namespace or None for an absent key, pod)
    let cases: Vec<(&str, Option<&str>, Value)> = vec![
        (
            "pod without namespace (created by a controller)",
            Some("payments"),
            without_namespace.clone(),
        ),
        (
            "request namespace wins over the pod's",
            Some("payments"),
            web_pod(),
        ),
    ];
    let mut rows = Rows::new();
    for (case, namespace, pod) in cases {
        rows.check(case, || {
            let cluster = FakeCluster::serving(&[payments_sa.clone(), fixture("sa-workload.json")]);
            let mut request = pod_request(pod.clone());
            match namespace {
                Some(ns) => request["namespace"] = json!(ns),
                None => remove(&mut request, "/namespace"),
            }
            let decision = run(&request, &default_settings(), &cluster);
            assert_eq!(cluster.calls(), lookups(&[("payments", SA_NAME)]), "{case}");
            let mut expected = web_mutated(
                vec![
                    env("AZURE_CLIENT_ID", PAYMENTS_CLIENT_ID),
                    env("AZURE_TENANT_ID", SA_TENANT),
                    env("AZURE_FEDERATED_TOKEN_FILE", TOKEN_FILE),
                    env("AZURE_AUTHORITY_HOST", PUBLIC_AUTHORITY),
                ],
                wi_mount(WEB_VOLUME),
                wi_volume(WEB_VOLUME, AUDIENCE, 3600),
            );
            expected["metadata"] = pod["metadata"].clone();
            // docs/behaviour.md §1.5: filling metadata.namespace with the request namespace would
            // be harmless (upstream does); undo such a fill so that the comparison covers
            // everything else exactly.
            let decision = match decision {
                Decision::Mutate(mut mutated)
                    if mutated.pointer("/metadata/namespace") == Some(&json!("payments"))
                        && pod.pointer("/metadata/namespace") != Some(&json!("payments")) =>
                {
                    match pod.pointer("/metadata/namespace") {
                        Some(original) => mutated["metadata"]["namespace"] = original.clone(),
                        None => remove(&mut mutated, "/metadata/namespace"),
                    }
                    Decision::Mutate(mutated)
                }
                other => other,
            };
            assert_decision(&decision, &Decision::Mutate(expected), case);
        });
    }
    rows.assert_all_passed();
}

#[test]
fn request_without_any_namespace_is_rejected_without_a_lookup() {
    let pod = without(&web_pod(), &["/metadata/namespace"]);
    let mut rows = Rows::new();
    for (case, request) in [
        (
            "empty namespace",
            with(&pod_request(pod.clone()), &[("/namespace", json!(""))]),
        ),
        (
            "absent namespace",
            without(&pod_request(pod.clone()), &["/namespace"]),
        ),
    ] {
        rows.check(case, || {
            let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
            assert_decision(
                &run(&request, &default_settings(), &cluster),
                &Decision::Reject(Rejection(
                    "azure-workload-identity: the admission request for Pod \"web\" has no namespace, \
                     so its ServiceAccount cannot be looked up; create the Pod in a namespace"
                        .to_string(),
                )),
                case,
            );
            assert_eq!(cluster.calls(), lookups(&[]), "{case}");
        });
    }
    rows.assert_all_passed();
}

// ---------------------------------------------------------------------------------------------
// Lookup failures
// ---------------------------------------------------------------------------------------------

#[test]
fn missing_service_account_is_rejected_with_the_exact_message() {
    let cluster = FakeCluster::empty();
    let decision = run_labelled_fixture(&cluster);
    assert_decision(
        &decision,
        &Decision::Reject(Rejection(
            "azure-workload-identity: ServiceAccount \"default/workload-sa\" used by Pod \
             \"default/workload-app\" was not found (Cannot find v1/ServiceAccount named \
             'workload-sa' inside of namespace 'Some(\"default\")'). Create it and annotate it \
             with the identity's client ID (kubectl create serviceaccount -n default workload-sa \
             && kubectl annotate serviceaccount -n default workload-sa \
             azure.workload.identity/client-id=<client-id>), or set spec.serviceAccountName to an \
             existing ServiceAccount"
                .to_string(),
        )),
        "missing ServiceAccount",
    );
    assert_eq!(cluster.calls(), lookups_then_fresh(NS, SA_NAME));
}

#[test]
fn service_account_lookup_failures_are_rejections_naming_the_service_account() {
    let forbidden = "error invoking host capability kubernetes.get_resource: Callback evaluation \
        failure: serviceaccounts \"workload-sa\" is forbidden: User \
        \"system:serviceaccount:kubewarden:policy-server-default\" cannot get resource \
        \"serviceaccounts\" in API group \"\" in the namespace \"default\"";
    let timeout = "error invoking host capability kubernetes.get_resource: Callback evaluation \
        failure: operation timed out";
    let payments_sa =
        service_account_object("payments", SA_NAME, json!({CLIENT_ID_KEY: CLIENT_ID}));
    // (case, cluster, host error, what the message says happened)
    let cases: Vec<(&str, FakeCluster, String, &str)> = vec![
        (
            "not found",
            FakeCluster::empty(),
            not_found(NS, SA_NAME),
            "was not found",
        ),
        (
            "same name in another namespace only",
            FakeCluster::serving(&[payments_sa]),
            not_found(NS, SA_NAME),
            "was not found",
        ),
        (
            "forbidden",
            FakeCluster::empty().failing(NS, SA_NAME, forbidden),
            forbidden.to_string(),
            "could not be read",
        ),
        (
            "timeout",
            FakeCluster::empty().failing(NS, SA_NAME, timeout),
            timeout.to_string(),
            "could not be read",
        ),
    ];
    let mut rows = Rows::new();
    for (case, cluster, host_error, what) in cases {
        rows.check(case, || {
            let decision = run_labelled_fixture(&cluster);
            assert_rejected_with(
                &decision,
                &[
                    "ServiceAccount \"default/workload-sa\"",
                    "Pod \"default/workload-app\"",
                    what,
                    &format!("({host_error})"),
                    "kubectl annotate serviceaccount -n default workload-sa \
                     azure.workload.identity/client-id=<client-id>",
                ],
                case,
            );
            // not found may be stale: read again past the host's cache; a failed read is not
            // cached
            let expected = match what {
                "was not found" => lookups_then_fresh(NS, SA_NAME),
                _ => lookups(&[(NS, SA_NAME)]),
            };
            assert_eq!(cluster.calls(), expected, "{case}");
        });
    }
    rows.assert_all_passed();
}
