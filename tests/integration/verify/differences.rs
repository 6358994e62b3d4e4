//! Configured and unconfigured Pods: the Pod the mutation produced has no finding, and each
//! difference from it (env, mounts, token volume, proxy) is named with its container.

use rstest::rstest;

use super::*;

/// The fixtures' Pod before and after the mutation, each read once from the cache.
#[rstest]
#[case::the_pod_the_mutation_produced_has_no_finding(mutated(), verify_settings(), accepted_with(&[]))]
#[case::an_unmutated_pod_is_accepted_with_a_finding_per_container_and_the_volume(
    unmutated(),
    verify_settings(),
    accepted_with(&unmutated_findings())
)]
#[case::with_findings_reject_an_unmutated_pod_is_rejected_with_every_finding(
    unmutated(),
    reject_settings(),
    rejected_with(&unmutated_findings())
)]
fn the_fixtures_pod(#[case] pod: Value, #[case] settings: Value, #[case] expected: Answer) {
    let cluster = FakeCluster::serving(&[sa()]);
    assert_eq!(run(&pod, &settings, &cluster), expected);
    assert_eq!(cluster.reads(), cached_lookup());
}

#[test]
fn verify_false_still_mutates() {
    let cluster = FakeCluster::serving(&[sa()]);
    let answer = run(&unmutated(), &settings(false, json!({})), &cluster);
    assert_eq!(answer, Decision::Mutate(mutated()).into());
}

#[test]
fn a_missing_env_var_and_a_writable_mount_are_named_with_their_container() {
    let mut pod = mutated();
    // app: without AZURE_AUTHORITY_HOST and AZURE_TENANT_ID; log-shipper: writable mount
    set(
        &mut pod,
        "/spec/containers/0/env",
        json!([
            {"name": "LOG_LEVEL", "value": "debug"},
            {"name": "AZURE_CLIENT_ID", "value": CLIENT_ID},
            {"name": "AZURE_FEDERATED_TOKEN_FILE", "value": "/var/run/secrets/azure/wi/token/azure-identity-token"}
        ]),
    );
    set(
        &mut pod,
        "/spec/containers/1/volumeMounts/1/readOnly",
        json!(false),
    );
    let cluster = FakeCluster::serving(&[sa()]);
    let answer = run(&pod, &verify_settings(), &cluster);
    assert_eq!(
        answer,
        accepted_with(&[
            format!(
                "{WHO}: container \"app\" lacks AZURE_TENANT_ID, AZURE_AUTHORITY_HOST; {SKIP_FIX}"
            ),
            format!(
                "{WHO}: container \"log-shipper\" mounts the token volume at {MOUNT_PATH} without \
                 readOnly: true; set readOnly: true on that mount"
            ),
        ])
    );
}

#[test]
fn a_token_volume_with_another_audience_path_or_expiration_is_named() {
    let token = "/spec/volumes/2/projected/sources/0/serviceAccountToken";
    let mut pod = mutated();
    set(
        &mut pod,
        token,
        json!({"path": "token", "audience": "api://other", "expirationSeconds": 86400}),
    );
    let cluster = FakeCluster::serving(&[sa()]);
    let answer = run(&pod, &verify_settings(), &cluster);
    let roll_out = "restart the Pod (or roll out its workload)";
    assert_eq!(
        answer,
        accepted_with(&[
            format!(
                "{WHO}: token volume {VOLUME} has audience \"api://other\", not \
                 \"api://AzureADTokenExchange\"; {roll_out}"
            ),
            format!(
                "{WHO}: token volume {VOLUME} has path \"token\", not \
                 \"token/azure-identity-token\"; {roll_out}"
            ),
            format!(
                "{WHO}: token volume {VOLUME} has expirationSeconds \"86400\", not \"3600\"; \
                 {roll_out}"
            ),
        ])
    );

    // The same Pod is configured once the ServiceAccount asks for that expiration and the
    // settings for that audience, except for the path.
    let cluster = FakeCluster::serving(&[sa_with(json!({
        CLIENT_ID_KEY: CLIENT_ID,
        "azure.workload.identity/tenant-id": TENANT_ID,
        "azure.workload.identity/service-account-token-expiration": "86400",
    }))]);
    let answer = run(
        &pod,
        &settings(true, json!({"audience": "api://other"})),
        &cluster,
    );
    assert_eq!(
        answer,
        accepted_with(&[format!(
            "{WHO}: token volume {VOLUME} has path \"token\", not \
             \"token/azure-identity-token\"; {roll_out}"
        )])
    );
}

#[test]
fn a_missing_token_volume_is_named() {
    let mut pod = mutated();
    if let Some(volumes) = pod
        .pointer_mut("/spec/volumes")
        .and_then(Value::as_array_mut)
    {
        volumes.pop();
    }
    let cluster = FakeCluster::serving(&[sa()]);
    let answer = run(&pod, &verify_settings(), &cluster);
    assert_eq!(
        answer,
        accepted_with(&[format!(
            "{WHO}: spec.volumes has no token volume {VOLUME}; recreate the Pod with the \
             mutating policy deployed"
        )])
    );
}

#[test]
fn a_requested_proxy_that_is_absent_is_named_per_container() {
    let mut pod = mutated();
    annotate(&mut pod, PROXY_KEY, "true");
    let cluster = FakeCluster::serving(&[sa()]);
    let missing = |container: &str, list: &str| {
        format!(
            "{WHO}: {PROXY_KEY} is set but spec.{list} has no {container}; recreate the Pod with \
             the mutating policy deployed"
        )
    };
    let answer = run(&pod, &verify_settings(), &cluster);
    assert_eq!(
        answer,
        accepted_with(&[
            missing("azwi-proxy", "initContainers"),
            missing("azwi-proxy-init", "initContainers"),
        ])
    );
    let answer = run(
        &pod,
        &settings(true, json!({"useNativeSidecar": false})),
        &cluster,
    );
    assert_eq!(
        answer,
        accepted_with(&[
            missing("azwi-proxy-init", "initContainers"),
            missing("azwi-proxy", "containers"),
        ])
    );

    // The Pod the mutation makes of it is configured.
    let Decision::Mutate(with_proxy) = run(&pod, &settings(false, json!({})), &cluster).decision
    else {
        panic!("the proxy Pod is not mutated");
    };
    assert_eq!(
        run(&with_proxy, &verify_settings(), &cluster),
        accepted_with(&[])
    );
}
