//! The values of the fixtures and of the documented behaviour, and what the policy injects,
//! written from docs/behaviour.md (§4.1, §4.3, §4.5), not from `src/`. Section numbers (§) in the
//! tests refer to docs/behaviour.md.

use serde_json::{Value, json};

use super::json::set;

pub const NS: &str = "default";
pub const SA_NAME: &str = "workload-sa";
/// `azure.workload.identity/client-id` of `test_data/sa-workload.json`.
pub const CLIENT_ID: &str = "5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f";
/// `azure.workload.identity/tenant-id` of `test_data/sa-workload.json`.
pub const SA_TENANT: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
/// `defaultTenantId` of `test_data/settings-default.json`.
pub const DEFAULT_TENANT: &str = "d3fa017e-5e7a-4c2b-a0c1-9e8f7d6c5b4a";

pub const PUBLIC_AUTHORITY: &str = "https://login.microsoftonline.com/";
pub const AUDIENCE: &str = "api://AzureADTokenExchange";
pub const MOUNT_PATH: &str = "/var/run/secrets/azure/wi";
pub const TOKEN_FILE: &str = "/var/run/secrets/azure/wi/token/azure-identity-token";
pub const TOKEN_PATH: &str = "token/azure-identity-token";
pub const LEGACY_NAME: &str = "azure-identity-token";
pub const LEGACY_MOUNT_PATH: &str = "/var/run/secrets/azure/tokens";
pub const LEGACY_TOKEN_FILE: &str = "/var/run/secrets/azure/tokens/azure-identity-token";

pub const CLIENT_ID_KEY: &str = "azure.workload.identity/client-id";
pub const USE_LABEL: &str = "/metadata/labels/azure.workload.identity~1use";
pub const SKIP_ANNOTATION: &str = "/metadata/annotations/azure.workload.identity~1skip-containers";
pub const EXPIRATION_ANNOTATION: &str =
    "/metadata/annotations/azure.workload.identity~1service-account-token-expiration";

// Volume names, docs/behaviour.md §4.5: prefix + first 30 hex chars of SHA-256 of the hash
// input, computed with `printf %s INPUT | sha256sum | cut -c1-30`; the first four are the worked
// examples of that section.
/// hash input `web`
pub const WEB_VOLUME: &str = "azure-workload-identity-reserved-4b5e57f6eb2f42b9039b3d1e139292";
/// hash input `pod`
pub const POD_VOLUME: &str = "azure-workload-identity-reserved-425c89ed5bb78a7623fae60fd8a6f6";
/// hash input `web-7d4b9c5f6- (prefix)`
pub const WEB_PREFIX_VOLUME: &str =
    "azure-workload-identity-reserved-7a75b2d9436388dbbb56003231b852";
/// hash input ` (prefix)`
pub const NO_NAME_VOLUME: &str = "azure-workload-identity-reserved-7ae265465cf68a19ccd3c91d70dc31";
/// hash input `workload-app` (the Pod of `test_data/request-labelled-pod.json`)
pub const WORKLOAD_APP_VOLUME: &str =
    "azure-workload-identity-reserved-549d3c1935f5b955c7b85a81ea1a28";
/// hash input `workload-app- (prefix)`
pub const WORKLOAD_APP_PREFIX_VOLUME: &str =
    "azure-workload-identity-reserved-726d01eadb43268d4ff9b363091e68";
/// hash input `workload-app-x7k2p`
pub const WORKLOAD_APP_X7K2P_VOLUME: &str =
    "azure-workload-identity-reserved-6700aef8947ecbcf8f57d1901e986f";

/// A ServiceAccount object as the host returns it.
pub fn service_account_object(namespace: &str, name: &str, annotations: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": "0c5e6a8e-34b1-4f7e-9d1a-2b3c4d5e6f70",
            "annotations": annotations
        }
    })
}

/// `default/workload-sa` with a client id, the SA tenant and these extra annotations.
pub fn workload_sa_with(extra: &[(&str, &str)]) -> Value {
    let mut annotations =
        json!({CLIENT_ID_KEY: CLIENT_ID, "azure.workload.identity/tenant-id": SA_TENANT});
    for (key, value) in extra {
        set(
            &mut annotations,
            &format!("/{}", key.replace('/', "~1")),
            json!(value),
        );
    }
    service_account_object(NS, SA_NAME, annotations)
}

pub fn env(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

/// The four env vars for `default/workload-sa` with the default settings.
pub fn wi_env() -> Vec<Value> {
    vec![
        env("AZURE_CLIENT_ID", CLIENT_ID),
        env("AZURE_TENANT_ID", SA_TENANT),
        env("AZURE_FEDERATED_TOKEN_FILE", TOKEN_FILE),
        env("AZURE_AUTHORITY_HOST", PUBLIC_AUTHORITY),
    ]
}

/// `wi_env()` without AZURE_CLIENT_ID.
pub fn wi_env_without_client_id() -> Vec<Value> {
    vec![
        env("AZURE_TENANT_ID", SA_TENANT),
        env("AZURE_FEDERATED_TOKEN_FILE", TOKEN_FILE),
        env("AZURE_AUTHORITY_HOST", PUBLIC_AUTHORITY),
    ]
}

pub fn wi_mount(volume: &str) -> Value {
    json!({"name": volume, "mountPath": MOUNT_PATH, "readOnly": true})
}

pub fn wi_volume(name: &str, audience: &str, expiration: i64) -> Value {
    json!({
        "name": name,
        "projected": {"sources": [{"serviceAccountToken": {
            "path": TOKEN_PATH,
            "audience": audience,
            "expirationSeconds": expiration
        }}]}
    })
}

pub fn legacy_mount() -> Value {
    json!({"name": LEGACY_NAME, "mountPath": LEGACY_MOUNT_PATH, "readOnly": true})
}

pub fn legacy_volume() -> Value {
    json!({
        "name": LEGACY_NAME,
        "projected": {"sources": [{"serviceAccountToken": {
            "path": LEGACY_NAME,
            "audience": AUDIENCE,
            "expirationSeconds": 3600
        }}]}
    })
}

pub fn concat(a: Vec<Value>, b: Vec<Value>) -> Value {
    Value::Array(a.into_iter().chain(b).collect())
}
