//! The minimal labelled Pod `pod` of the proxy and custom token endpoint tests (no namespace, the
//! request's is `ns`), and what the policy adds to it when the ServiceAccount has only a client id
//! and the default tenant is used.

use azure_workload_identity_policy::{Decision, ServiceAccount, evaluate};
use serde_json::{Value, json};

use super::harness::{FakeCluster, payload};

pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
pub const VOLUME: &str = "azure-workload-identity-reserved-425c89ed5bb78a7623fae60fd8a6f6"; // "pod"
pub const PROXY_IMAGE: &str = "mcr.microsoft.com/oss/azure/workload-identity/proxy:v1.6.0";
pub const PROXY_INIT_IMAGE: &str =
    "mcr.microsoft.com/oss/azure/workload-identity/proxy-init:v1.6.0";

/// Evaluates a CREATE of `pod` in namespace `ns` with these settings, every lookup finding a
/// ServiceAccount with only the client id; returns the decision and the number of lookups.
pub fn run(pod: &Value, settings: Value) -> (Decision, usize) {
    let request = json!({
        "uid": "u", "operation": "CREATE", "namespace": "ns",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "object": pod,
    });
    let cluster = FakeCluster::serving_every_lookup(Some(ServiceAccount::with_annotations([(
        "azure.workload.identity/client-id",
        CLIENT,
    )])));
    let decision = evaluate(&payload(&request, Some(&settings)), &cluster);
    (decision, cluster.calls().len())
}

pub fn settings(extra: Value) -> Value {
    let mut s = json!({"defaultTenantId": TENANT});
    if let (Some(obj), Value::Object(more)) = (s.as_object_mut(), extra) {
        obj.extend(more);
    }
    s
}

pub fn pod(annotations: Value, spec: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "pod",
            "labels": {"azure.workload.identity/use": "true"},
            "annotations": annotations,
        },
        "spec": spec,
    })
}

pub fn env(extra: &[(&str, &str)]) -> Value {
    let mut list = vec![
        json!({"name": "AZURE_CLIENT_ID", "value": CLIENT}),
        json!({"name": "AZURE_TENANT_ID", "value": TENANT}),
        json!({"name": "AZURE_FEDERATED_TOKEN_FILE", "value": "/var/run/secrets/azure/wi/token/azure-identity-token"}),
        json!({"name": "AZURE_AUTHORITY_HOST", "value": "https://login.microsoftonline.com/"}),
    ];
    list.extend(extra.iter().map(|(n, v)| json!({"name": n, "value": v})));
    Value::Array(list)
}

pub fn mount() -> Value {
    json!({"name": VOLUME, "mountPath": "/var/run/secrets/azure/wi", "readOnly": true})
}

pub fn volume(audience: &str, extra_sources: &[Value]) -> Value {
    let mut sources = vec![json!({"serviceAccountToken": {
        "path": "token/azure-identity-token", "audience": audience, "expirationSeconds": 3600}})];
    sources.extend_from_slice(extra_sources);
    json!({"name": VOLUME, "projected": {"sources": sources}})
}

/// The proxy-init container after the whole mutation.
pub fn proxy_init(port: &str) -> Value {
    let mut e = vec![json!({"name": "PROXY_PORT", "value": port})];
    e.extend(env(&[]).as_array().cloned().unwrap_or_default());
    json!({
        "name": "azwi-proxy-init",
        "image": PROXY_INIT_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {
            "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
            "privileged": true, "runAsNonRoot": false, "runAsUser": 0,
        },
        "env": e,
        "volumeMounts": [mount()],
    })
}

/// The proxy sidecar after the whole mutation.
pub fn proxy(port: i64, native: bool) -> Value {
    let mut c = json!({
        "name": "azwi-proxy",
        "image": PROXY_IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": [format!("--proxy-port={port}"), "--log-level=info"],
        "ports": [{"containerPort": port}],
        "lifecycle": {"postStart": {"exec": {"command": ["/proxy", format!("--proxy-port={port}"), "--probe", "--log-level=info"]}}},
        "securityContext": {
            "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
            "privileged": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true,
        },
        "env": env(&[]),
        "volumeMounts": [mount()],
    });
    if let (true, Some(obj)) = (native, c.as_object_mut()) {
        obj.insert("restartPolicy".into(), json!("Always"));
    }
    c
}

pub fn app(name: &str) -> Value {
    json!({"name": name, "image": "app"})
}

pub fn mutated_app(name: &str) -> Value {
    json!({"name": name, "image": "app", "env": env(&[]), "volumeMounts": [mount()]})
}

pub const INJECT: &str = "azure.workload.identity/inject-proxy-sidecar";
pub const PORT: &str = "azure.workload.identity/proxy-sidecar-port";
