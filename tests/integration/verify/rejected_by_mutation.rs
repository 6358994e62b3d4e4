//! What the mutating path rejects, as verify findings: a missing ServiceAccount (read again
//! fresh before a rejection), one without a client-id, a malformed Pod, an invalid expiration;
//! and the requests verify does not look at.

use super::*;

#[test]
fn a_missing_service_account_is_a_finding_and_with_reject_read_again_fresh() {
    let missing = format!(
        "{WHO}: ServiceAccount default/workload-sa does not exist; create it with the annotation \
         {CLIENT_ID_KEY}"
    );
    let cluster = FakeCluster::serving(&[]);
    assert_eq!(
        run(&mutated(), &verify_settings(), &cluster),
        accepted_with(std::slice::from_ref(&missing))
    );
    assert_eq!(cluster.reads(), cached_lookup());

    let cluster = FakeCluster::serving(&[]);
    assert_eq!(
        run(&mutated(), &reject_settings(), &cluster),
        rejected_with(&[missing])
    );
    let fresh = (NS.to_string(), SA.to_string(), true);
    assert_eq!(
        cluster.reads(),
        [cached_lookup(), vec![fresh.clone()]].concat()
    );

    // Created just now: the fresh read decides.
    let cluster = FakeCluster::serving(&[sa()]).cached(NS, SA, None);
    assert_eq!(
        run(&mutated(), &reject_settings(), &cluster),
        accepted_with(&[])
    );
    assert_eq!(cluster.reads(), [cached_lookup(), vec![fresh]].concat());
}

#[test]
fn a_service_account_without_a_client_id_is_a_finding() {
    let cluster = FakeCluster::serving(&[fixture("sa-workload-no-client-id.json")]);
    assert_eq!(
        run(&unmutated(), &verify_settings(), &cluster),
        accepted_with(&strings(&[
            "Pod default/workload-app: ServiceAccount default/workload-sa has no \
             azure.workload.identity/client-id annotation; annotate it with the identity's \
             client ID"
        ]))
    );
}

#[test]
fn a_malformed_pod_and_an_invalid_expiration_are_findings() {
    let cluster = FakeCluster::serving(&[sa()]);
    let mut malformed = mutated();
    set(&mut malformed, "/spec/containers", json!({"name": "app"}));
    assert_eq!(
        run(&malformed, &reject_settings(), &cluster),
        rejected_with(&strings(&[
            "Pod default/workload-app: spec.containers must be a list, found an object; fix the \
             manifest"
        ]))
    );
    assert_eq!(cluster.reads(), vec![]);

    let mut expiring = mutated();
    annotate(
        &mut expiring,
        "azure.workload.identity/service-account-token-expiration",
        "1h",
    );
    assert_eq!(
        run(&expiring, &verify_settings(), &cluster),
        accepted_with(&strings(&[
            "Pod default/workload-app: metadata.annotations[\"azure.workload.identity/\
             service-account-token-expiration\"] is not a whole number of seconds; use an \
             integer from 3600 to 86400, e.g. \"3600\""
        ]))
    );
}

#[test]
fn other_requests_are_not_verified() {
    let cluster = FakeCluster::serving(&[sa()]);
    let mut unlabelled = unmutated();
    if let Some(labels) = unlabelled
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(USE_LABEL);
    }
    assert_eq!(
        run(&unlabelled, &verify_settings(), &cluster),
        accepted_with(&[])
    );
    assert_eq!(cluster.reads(), vec![]);
}
