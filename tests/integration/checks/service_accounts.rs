//! ServiceAccounts checked at their own CREATE and UPDATE: the annotations of Azure Workload
//! Identity and their near misses, without a lookup.

use super::*;

fn service_account_payload(findings: &str, annotations: Value, labels: Value) -> Vec<u8> {
    payload(
        "CREATE",
        ("", "v1", "ServiceAccount"),
        json!({"metadata": {"name": "sa", "namespace": "app", "annotations": annotations, "labels": labels}}),
        settings(findings),
    )
}

#[test]
fn service_accounts_are_checked_without_a_lookup() {
    let sa = |annotations| service_account_payload("warn", annotations, json!({}));
    let rows = vec![
        (
            "no Azure Workload Identity annotation",
            sa(json!({"example.com/owner": "me"})),
            accepted(),
        ),
        (
            "usable",
            sa(json!({
                "azure.workload.identity/client-id": CLIENT_ID,
                "azure.workload.identity/tenant-id": TENANT.to_uppercase(),
                "azure.workload.identity/service-account-token-expiration": "86400",
            })),
            accepted(),
        ),
        (
            "no client-id key at all is not a finding by itself",
            sa(json!({"azure.workload.identity/tenant-id": TENANT})),
            accepted(),
        ),
        (
            "an unknown key of the prefix",
            sa(json!({"azure.workload.identity/owner": "team-a"})),
            accepted(),
        ),
        (
            "near misses of the client-id",
            sa(json!({
                "client_id": CLIENT_ID,
                "clientId": CLIENT_ID,
                "Client-Id": CLIENT_ID,
                "azure.workload.identity/clientid": CLIENT_ID,
            })),
            warned(&[
                "ServiceAccount app/sa: annotation \"Client-Id\" is not read; rename it to azure.workload.identity/client-id",
                "ServiceAccount app/sa: annotation \"azure.workload.identity/clientid\" is not read; rename it to azure.workload.identity/client-id",
                "ServiceAccount app/sa: annotation \"clientId\" is not read; rename it to azure.workload.identity/client-id",
                "ServiceAccount app/sa: annotation \"client_id\" is not read; rename it to azure.workload.identity/client-id",
            ]),
        ),
        (
            "near miss of the tenant-id and the expiration",
            sa(json!({
                "azure.workload.identity/tenantid": TENANT,
                "azure.workload.identity/service-account-token-expiry": "3600",
            })),
            warned(&[
                "ServiceAccount app/sa: annotation \"azure.workload.identity/service-account-token-expiry\" is not read; rename it to azure.workload.identity/service-account-token-expiration",
                "ServiceAccount app/sa: annotation \"azure.workload.identity/tenantid\" is not read; rename it to azure.workload.identity/tenant-id",
            ]),
        ),
        (
            "empty client-id",
            sa(json!({"azure.workload.identity/client-id": ""})),
            warned(&[
                "ServiceAccount app/sa: azure.workload.identity/client-id is empty; set it to the client ID of the managed identity or app registration",
            ]),
        ),
        (
            "ids that are not GUIDs",
            sa(json!({
                "azure.workload.identity/client-id": format!(" {CLIENT_ID}"),
                "azure.workload.identity/tenant-id": "contoso.onmicrosoft.com",
            })),
            warned(&[
                "ServiceAccount app/sa: azure.workload.identity/client-id \" 5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f\" is not a GUID (8-4-4-4-12 hex digits); set the ID shown by Microsoft Entra ID",
                "ServiceAccount app/sa: azure.workload.identity/tenant-id \"contoso.onmicrosoft.com\" is not a GUID (8-4-4-4-12 hex digits); set the ID shown by Microsoft Entra ID",
            ]),
        ),
        (
            "expiration not a number",
            sa(
                json!({"azure.workload.identity/client-id": CLIENT_ID, "azure.workload.identity/service-account-token-expiration": "24h"}),
            ),
            warned(&[
                "ServiceAccount app/sa: azure.workload.identity/service-account-token-expiration is not a whole number of seconds; use an integer from 3600 to 86400, e.g. \"3600\"",
            ]),
        ),
        (
            "expiration out of range",
            sa(
                json!({"azure.workload.identity/client-id": CLIENT_ID, "azure.workload.identity/service-account-token-expiration": "600"}),
            ),
            warned(&[
                "ServiceAccount app/sa: azure.workload.identity/service-account-token-expiration is 600, outside 3600 to 86400 seconds; set it within that range",
            ]),
        ),
        (
            "the pre-1.0 label",
            service_account_payload(
                "warn",
                json!({"azure.workload.identity/client-id": CLIENT_ID}),
                json!({"azure.workload.identity/use": "true"}),
            ),
            warned(&[
                "ServiceAccount app/sa: the label azure.workload.identity/use selects nothing since v1.0; put it on the Pod template (spec.template.metadata.labels) instead",
            ]),
        ),
        (
            "the pre-1.0 label alone",
            service_account_payload(
                "warn",
                json!({}),
                json!({"azure.workload.identity/use": "true"}),
            ),
            warned(&[
                "ServiceAccount app/sa: the label azure.workload.identity/use selects nothing since v1.0; put it on the Pod template (spec.template.metadata.labels) instead",
            ]),
        ),
        (
            "UPDATE is checked too",
            payload(
                "UPDATE",
                ("", "v1", "ServiceAccount"),
                json!({"metadata": {"name": "sa", "namespace": "app", "annotations": {"azure.workload.identity/client-id": ""}}}),
                settings("warn"),
            ),
            warned(&[
                "ServiceAccount app/sa: azure.workload.identity/client-id is empty; set it to the client ID of the managed identity or app registration",
            ]),
        ),
        (
            "reject: every finding in one message",
            service_account_payload(
                "reject",
                json!({"azure.workload.identity/client-id": "", "azure.workload.identity/tenant-id": "x"}),
                json!({}),
            ),
            rejected(&[
                "ServiceAccount app/sa: azure.workload.identity/client-id is empty; set it to the client ID of the managed identity or app registration",
                "ServiceAccount app/sa: azure.workload.identity/tenant-id \"x\" is not a GUID (8-4-4-4-12 hex digits); set the ID shown by Microsoft Entra ID",
            ]),
        ),
    ];
    check_table(
        rows.into_iter()
            .map(|(name, payload, answer)| (name, payload, FakeCluster::empty(), answer, vec![]))
            .collect(),
    );
}
