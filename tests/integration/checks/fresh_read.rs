//! The ServiceAccount read again past the host's cache (`get_fresh`) before a rejection: a
//! stale cached answer never rejects, and the fresh one decides and words the rejection.

use super::*;

#[test]
fn a_stale_service_account_does_not_reject() {
    let dep = || {
        payload(
            "CREATE",
            DEPLOYMENT,
            deployment(json!({}), labelled_template(app_spec())),
            settings("reject"),
        )
    };
    check_table(vec![
        (
            "cached without client-id, fresh with it",
            dep(),
            FakeCluster::serving(&[good_account()]).cached("app", "sa", Some(&account(json!({})))),
            accepted(),
            vec![("app", "sa", false), ("app", "sa", true)],
        ),
        (
            "own AZURE_CLIENT_ID in every container: no client-id needed, one read",
            payload(
                "CREATE",
                DEPLOYMENT,
                deployment(
                    json!({}),
                    labelled_template(json!({"serviceAccountName": "sa", "containers": [
                        {"name": "app", "env": [{"name": "AZURE_CLIENT_ID", "value": CLIENT_ID}]}
                    ]})),
                ),
                settings("reject"),
            ),
            FakeCluster::serving(&[account(json!({}))]),
            accepted(),
            vec![("app", "sa", false)],
        ),
    ]);
}

#[test]
fn a_pod_is_rejected_only_on_a_fresh_read_of_its_service_account() {
    let labelled = || {
        pod(
            json!({}),
            json!({"serviceAccountName": "sa", "containers": [{"name": "app"}]}),
        )
    };
    let settings = || json!({"defaultTenantId": TENANT});
    let rejection = "azure-workload-identity: ServiceAccount \"app/sa\" used by Pod \"app/p\" has no \"azure.workload.identity/client-id\" annotation, so AZURE_CLIENT_ID cannot be injected. Annotate the ServiceAccount with the client ID of the managed identity or app registration: kubectl annotate serviceaccount -n app sa azure.workload.identity/client-id=<client-id>. Alternatively set AZURE_CLIENT_ID in the env of every container of the Pod";
    let mutated_client_id = |answer: &Answer| match &answer.decision {
        Decision::Mutate(pod) => pod
            .pointer("/spec/containers/0/env/0/value")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    };
    let reads = |cluster: &FakeCluster| cluster.reads();
    let fresh = [
        ("app".to_string(), "sa".to_string(), false),
        ("app".to_string(), "sa".to_string(), true),
    ];

    // the cache says "no client-id", the API server has one now
    let cluster =
        FakeCluster::serving(&[good_account()]).cached("app", "sa", Some(&account(json!({}))));
    let answer = review(&pod_payload(labelled(), settings()), &cluster);
    assert_eq!(mutated_client_id(&answer), Some(CLIENT_ID.to_string()));
    assert_eq!(reads(&cluster), fresh);

    // the cache says "not found", the ServiceAccount was created since
    let cluster = FakeCluster::serving(&[good_account()]).cached("app", "sa", None);
    let answer = review(&pod_payload(labelled(), settings()), &cluster);
    assert_eq!(mutated_client_id(&answer), Some(CLIENT_ID.to_string()));
    assert_eq!(reads(&cluster), fresh);

    // both answers lack the client-id: the fresh one decides and words the rejection
    let cluster = FakeCluster::serving(&[account(json!({}))]);
    let answer = review(&pod_payload(labelled(), settings()), &cluster);
    assert_eq!(
        answer,
        Answer {
            decision: Decision::Reject(Rejection(rejection.to_string())),
            warnings: vec![],
            message: None
        }
    );
    assert_eq!(reads(&cluster), fresh);

    // a successful lookup is read once, from the cache
    let cluster = FakeCluster::serving(&[good_account()]);
    let answer = review(&pod_payload(labelled(), settings()), &cluster);
    assert_eq!(mutated_client_id(&answer), Some(CLIENT_ID.to_string()));
    assert_eq!(reads(&cluster), fresh[..1].to_vec());
}
