//! The warnings of the Pod path: what is allowed but likely a mistake, delivered beside the
//! mutation (or the rejection).

use super::*;

/// Runs a table of Pods and reports every row whose warnings differ, or whose decision is not
/// of the expected kind (the mutation itself is asserted by the mutation tests).
/// (name, Pod, settings, cluster, whether it is mutated, expected warnings)
type PodRow<'a> = (&'a str, Value, Value, FakeCluster, bool, Vec<&'a str>);

fn check_pod_warnings(rows: Vec<PodRow>) {
    let mut failures = Vec::new();
    for (name, pod, settings, cluster, mutated, warnings) in rows {
        let answer = review(&pod_payload(pod, settings), &cluster);
        if matches!(answer.decision, Decision::Mutate(_)) != mutated {
            failures.push(format!("{name}: decision {:?}", answer.decision));
        }
        if answer.warnings != warnings || answer.message.is_some() {
            failures.push(format!(
                "{name}:\n  got      {:?} {:?}\n  expected {warnings:?}",
                answer.warnings, answer.message
            ));
        }
        if let Some(long) = answer.warnings.iter().find(|w| w.len() > 256) {
            failures.push(format!("{name}: warning over 256 bytes: {long}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pods_get_a_warning_for_what_is_allowed_but_likely_a_mistake() {
    let sa = || FakeCluster::serving(&[good_account()]);
    let default = || json!({"defaultTenantId": TENANT});
    let app = |extra: Value| {
        let mut container = json!({"name": "app", "image": "app:1"});
        if let (Some(c), Some(e)) = (container.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        json!({"serviceAccountName": "sa", "containers": [container]})
    };
    check_pod_warnings(vec![
        (
            "nothing odd: no warnings",
            pod(json!({}), app(json!({}))),
            default(),
            sa(),
            true,
            vec![],
        ),
        (
            "skip-containers names a container the Pod lacks",
            pod(
                json!({"azure.workload.identity/skip-containers": "app;sidecar;azwi-proxy"}),
                app(json!({})),
            ),
            default(),
            sa(),
            true,
            vec![
                "Pod app/p: metadata.annotations[\"azure.workload.identity/skip-containers\"] names container \"sidecar\", which the Pod does not have; check the spelling",
            ],
        ),
        (
            "inject-proxy-sidecar \"false\" still injects",
            pod(
                json!({"azure.workload.identity/inject-proxy-sidecar": "false"}),
                app(json!({})),
            ),
            default(),
            sa(),
            true,
            vec![
                "Pod app/p: metadata.annotations[\"azure.workload.identity/inject-proxy-sidecar\"] is \"false\", but the proxy is injected whenever the annotation is present; remove it to run without the proxy",
            ],
        ),
        (
            "inject-proxy-sidecar \"True\" is fine",
            pod(
                json!({"azure.workload.identity/inject-proxy-sidecar": "True"}),
                app(json!({})),
            ),
            default(),
            sa(),
            true,
            vec![],
        ),
        (
            "own AZURE_CLIENT_ID differs from the ServiceAccount's",
            pod(
                json!({}),
                app(
                    json!({"env": [{"name": "AZURE_CLIENT_ID", "value": "11111111-2222-3333-4444-555555555555"}]}),
                ),
            ),
            default(),
            sa(),
            true,
            vec![
                "Pod app/p: container \"app\" sets AZURE_CLIENT_ID to \"11111111-2222-3333-4444-555555555555\", not the client-id \"5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f\" of ServiceAccount app/sa; its own value is kept",
            ],
        ),
        (
            "own AZURE_CLIENT_ID from valueFrom is not compared",
            pod(
                json!({}),
                app(
                    json!({"env": [{"name": "AZURE_CLIENT_ID", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}]}),
                ),
            ),
            default(),
            sa(),
            true,
            vec![],
        ),
        (
            "own AZURE_CLIENT_ID equal to the ServiceAccount's",
            pod(
                json!({}),
                app(json!({"env": [{"name": "AZURE_CLIENT_ID", "value": CLIENT_ID}]})),
            ),
            default(),
            sa(),
            true,
            vec![],
        ),
        (
            "near-miss annotation keys",
            pod(
                json!({
                    "azure.workload.identity/skip-container": "app",
                    "azure.workload.identity/service-account-token-expiry": "7200",
                }),
                app(json!({})),
            ),
            default(),
            sa(),
            true,
            vec![
                "Pod app/p: annotation \"azure.workload.identity/service-account-token-expiry\" is not read; did you mean azure.workload.identity/service-account-token-expiration?",
                "Pod app/p: annotation \"azure.workload.identity/skip-container\" is not read; did you mean azure.workload.identity/skip-containers?",
            ],
        ),
        (
            "the v1.5 token path in an env value, with the v1.6 layout",
            pod(
                json!({}),
                app(
                    json!({"env": [{"name": "TOKEN", "value": "file:/var/run/secrets/azure/tokens/azure-identity-token"}]}),
                ),
            ),
            default(),
            sa(),
            true,
            vec![
                "Pod app/p: container \"app\" refers to /var/run/secrets/azure/tokens/azure-identity-token, but the token is mounted at /var/run/secrets/azure/wi/token/azure-identity-token; read AZURE_FEDERATED_TOKEN_FILE instead",
            ],
        ),
        (
            "the v1.6 token path in args, with the v1.5 layout",
            pod(
                json!({}),
                app(
                    json!({"args": ["--token=/var/run/secrets/azure/wi/token/azure-identity-token"]}),
                ),
            ),
            json!({"defaultTenantId": TENANT, "tokenLayout": "v1.5"}),
            sa(),
            true,
            vec![
                "Pod app/p: container \"app\" refers to /var/run/secrets/azure/wi/token/azure-identity-token, but the token is mounted at /var/run/secrets/azure/tokens/azure-identity-token; read AZURE_FEDERATED_TOKEN_FILE instead",
            ],
        ),
        (
            "the other path in the command",
            pod(
                json!({}),
                app(
                    json!({"command": ["cat", "/var/run/secrets/azure/tokens/azure-identity-token"]}),
                ),
            ),
            default(),
            sa(),
            true,
            vec![
                "Pod app/p: container \"app\" refers to /var/run/secrets/azure/tokens/azure-identity-token, but the token is mounted at /var/run/secrets/azure/wi/token/azure-identity-token; read AZURE_FEDERATED_TOKEN_FILE instead",
            ],
        ),
        (
            "the proxy on a Windows Pod",
            pod(
                json!({"azure.workload.identity/inject-proxy-sidecar": "true"}),
                json!({"serviceAccountName": "sa", "os": {"name": "windows"}, "containers": [{"name": "app"}]}),
            ),
            default(),
            sa(),
            true,
            vec![
                "Pod app/p: the proxy sidecar runs on Linux only, but spec.os.name is windows; remove azure.workload.identity/inject-proxy-sidecar",
            ],
        ),
        (
            "a rejected Pod keeps its warnings",
            pod(
                json!({"azure.workload.identity/skip-container": "app"}),
                app(json!({})),
            ),
            default(),
            FakeCluster::serving(&[account(json!({}))]),
            false,
            vec![
                "Pod app/p: annotation \"azure.workload.identity/skip-container\" is not read; did you mean azure.workload.identity/skip-containers?",
            ],
        ),
    ]);
}
