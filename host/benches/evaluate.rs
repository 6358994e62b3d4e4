//! Criterion benchmarks of one admission request evaluated end to end (parse, decide, build the
//! response), for each input the performance targets are stated for, by each engine, in one run
//! so that ratios are meaningful:
//!
//! - `wasm-fresh`: the built `policy.wasm` through [`PolicyHost`] (`wapc` + `wasmtime-provider`),
//!   a fresh instance per request as policy-server does (instantiate, `_start`, `wapc_init`,
//!   `validate`), the ServiceAccount served by the fake host;
//! - `wasm-reused`: the same module, one instance kept across requests
//!   ([`PolicyHost::instance`]): the guest's own work plus the waPC call, no instantiation;
//! - `native`: the same Rust logic compiled natively, `respond(review(payload, &source))`, the
//!   ServiceAccount deserialised from the same JSON bytes the host answers with;
//! - `floor`: serde_json parses the same payload into a `Value` and serialises the Pod back, no
//!   policy logic.
//!
//! Before measuring, every input is checked: the wasm and native engines must return the same
//! bytes, and the decision must be the expected one (accept / mutate / reject), so a benchmark
//! can never silently measure an error path.
//!
//! Environment:
//! - `POLICY_WASM`: the module (default `policy.wasm` at the workspace root);
//! - `BENCH_WASM_VARIANTS`: `label=path,label=path`: other builds of the module (e.g. other
//!   opt-levels) measured in the same run as engines `wasm-fresh-<label>` and
//!   `wasm-reused-<label>`;
//! - `BENCH_ITERATE`: see [`iterate`] (instruction counts with callgrind);
//! - `BENCH_FACTS`: where to write the module's size, compile time and linear memory (default
//!   `<target>/criterion/policy-facts.json`).
//!
//! `make bench` runs this and turns the results into `BENCHMARKS.md`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use azure_workload_identity_policy::{ServiceAccount, ServiceAccountSource};
use azure_workload_identity_policy::{respond, review};
use criterion::{BenchmarkId, Criterion, criterion_group};
use policy_host::{FakeCluster, HostOptions, PolicyHost, PolicyInstance, validation_payload};
use serde_json::{Value, json};

const NAMESPACE: &str = "default";
const SERVICE_ACCOUNT: &str = "workload-sa";
const CLIENT_ID: &str = "5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f";
const TENANT_ID: &str = "c0ffee00-1234-4abc-8def-0123456789ab";
const USE_LABEL: &str = "azure.workload.identity/use";
const PROXY_ANNOTATION: &str = "azure.workload.identity/inject-proxy-sidecar";

/// The smallest waPC guest: one page of memory, an empty `wapc_init`, and a `__guest_call` that
/// answers `{"accepted":true}` without reading its payload. Its fresh-instance cost is the
/// floor any policy pays per request in policy-server's model.
const MINIMAL_GUEST: &str = r#"(module
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "{\"accepted\":true}")
  (func (export "wapc_init"))
  (func (export "__guest_call") (param i32 i32) (result i32)
    (call $guest_response (i32.const 0) (i32.const 17))
    (i32.const 1)))"#;

/// What the policy must answer for an input.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// `accepted: true`, no `mutated_object`.
    Accept,
    /// `accepted: true` with a `mutated_object` whose JSON text contains `contains` and, when
    /// `client_id_in` is given, an `AZURE_CLIENT_ID` env var in exactly that many containers.
    Mutate {
        contains: &'static str,
        client_id_in: Option<usize>,
    },
    /// `accepted: false`, with a message containing this text.
    Reject(&'static str),
}

struct Input {
    name: &'static str,
    payload: Vec<u8>,
    service_account: Value,
    expect: Expect,
    /// The answer's warnings, exactly and in order (none for most inputs).
    warnings: Vec<String>,
    /// ServiceAccount lookups the guest makes for one request.
    lookups: usize,
}

fn settings() -> Value {
    json!({"defaultTenantId": "d3fa017e-5e7a-4c2b-a0c1-9e8f7d6c5b4a"})
}

fn service_account(with_client_id: bool) -> Value {
    let mut annotations = json!({ "azure.workload.identity/tenant-id": TENANT_ID });
    if with_client_id {
        annotations["azure.workload.identity/client-id"] = json!(CLIENT_ID);
    }
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": SERVICE_ACCOUNT,
            "namespace": NAMESPACE,
            "uid": "3f6c1c2e-8e3b-4d0e-9b55-6f1a0d2c7e41",
            "resourceVersion": "48213",
            "creationTimestamp": "2026-11-20T08:30:00Z",
            "annotations": annotations
        }
    })
}

/// A container as the API server hands it to admission webhooks (defaults filled in).
fn container(name: &str) -> Value {
    json!({
        "name": name,
        "image": format!("registry.example.com/team/{name}:1.4.2"),
        "command": ["/app/server", "--config", "/config/app.yaml"],
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}
        ],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "volumeMounts": [
            {"name": "config", "mountPath": "/config", "readOnly": true},
            {"name": "kube-api-access-x7k2p", "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
        ],
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true}
    })
}

/// A Pod with `init` init containers and `containers` containers, as `kubectl apply` of a
/// Deployment's Pod would send it.
fn pod(init: usize, containers: usize, labelled: bool, annotations: Value) -> Value {
    let mut labels =
        json!({"app.kubernetes.io/name": "workload-app", "pod-template-hash": "7c9f8d6b5"});
    if labelled {
        labels[USE_LABEL] = json!("true");
    }
    let mut spec = json!({
        "serviceAccountName": SERVICE_ACCOUNT,
        "serviceAccount": SERVICE_ACCOUNT,
        "containers": (0..containers).map(|i| container(&format!("app-{i}"))).collect::<Vec<_>>(),
        "volumes": [
            {"name": "config", "configMap": {"name": "workload-app-config", "defaultMode": 420}},
            {
                "name": "kube-api-access-x7k2p",
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
                    ],
                    "defaultMode": 420
                }
            }
        ],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ],
        "priority": 0,
        "enableServiceLinks": true,
        "preemptionPolicy": "PreemptLowerPriority"
    });
    if init > 0 {
        spec["initContainers"] =
            Value::Array((0..init).map(|i| container(&format!("init-{i}"))).collect());
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": "workload-app-7c9f8d6b5-",
            "namespace": NAMESPACE,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "workload-app-7c9f8d6b5",
                "uid": "0d4c9f1e-2b7a-4c3e-8f6d-5a1b2c3d4e5f", "controller": true, "blockOwnerDeletion": true
            }]
        },
        "spec": spec,
        "status": {}
    })
}

/// The AdmissionRequest of a Pod CREATE.
fn request(pod: Value) -> Value {
    request_of(("", "Pod", "pods"), pod)
}

/// The AdmissionRequest of a CREATE of `object`, of kind `(group, kind, resource)` (v1).
fn request_of((group, kind, resource): (&str, &str, &str), object: Value) -> Value {
    json!({
        "uid": "1299d386-525b-4032-98ae-1949f69f9cfc",
        "kind": {"group": group, "version": "v1", "kind": kind},
        "resource": {"group": group, "version": "v1", "resource": resource},
        "requestKind": {"group": group, "version": "v1", "kind": kind},
        "requestResource": {"group": group, "version": "v1", "resource": resource},
        "namespace": NAMESPACE,
        "operation": "CREATE",
        "userInfo": {
            "username": "system:serviceaccount:kube-system:replicaset-controller",
            "uid": "a1b2c3d4-0000-4000-8000-000000000001",
            "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]
        },
        "object": object,
        "oldObject": null,
        "dryRun": false,
        "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}
    })
}

fn input(name: &'static str, pod: Value, with_client_id: bool, expect: Expect) -> Input {
    // A labelled Pod is looked up once (and again bypassing the host's cache before a rejection
    // the ServiceAccount causes), an unlabelled one not at all.
    let labelled = usize::from(pod["metadata"]["labels"][USE_LABEL] == "true");
    let lookups = match expect {
        Expect::Reject(_) => 2 * labelled,
        _ => labelled,
    };
    Input {
        name,
        payload: validation_payload(&request(pod), &settings()),
        service_account: service_account(with_client_id),
        expect,
        warnings: Vec::new(),
        lookups,
    }
}

/// A Deployment whose Pod template is the benchmark's 1-container Pod, with the opt-in label on
/// the template (`template_label`) or on the Deployment itself (`own_label`).
fn deployment(template_label: bool, own_label: bool) -> Value {
    let pod = pod(0, 1, template_label, json!({}));
    let mut labels = json!({"app.kubernetes.io/name": "workload-app"});
    if own_label {
        labels[USE_LABEL] = json!("true");
    }
    let mut template_labels = pod["metadata"]["labels"].clone();
    if let Some(map) = template_labels.as_object_mut() {
        map.remove("pod-template-hash");
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "workload-app",
            "namespace": NAMESPACE,
            "labels": labels,
            "annotations": {"deployment.kubernetes.io/revision": "3"}
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "workload-app"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "template": {
                "metadata": {"labels": template_labels, "annotations": pod["metadata"]["annotations"]},
                "spec": pod["spec"]
            }
        }
    })
}

/// A ServiceAccount without any Azure Workload Identity marker, as `kubectl apply` sends it.
fn unmarked_service_account() -> Value {
    let applied = json!({
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {
            "name": SERVICE_ACCOUNT, "namespace": NAMESPACE,
            "labels": {"app.kubernetes.io/name": "workload-app"},
            "annotations": {"example.com/owner": "team-payments"}
        }
    });
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": SERVICE_ACCOUNT,
            "namespace": NAMESPACE,
            "labels": {"app.kubernetes.io/name": "workload-app", "app.kubernetes.io/part-of": "payments"},
            "annotations": {
                "example.com/owner": "team-payments",
                "kubectl.kubernetes.io/last-applied-configuration": format!("{applied}\n")
            }
        }
    })
}

fn fixture(name: &str) -> Value {
    let path = workspace_root().join("test_data").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An input of the other roles: a request of test_data/ (a fixture name) or a built one, the
/// settings of a test_data/ file, the ServiceAccount the fake host serves, the exact outcome,
/// the warnings of a test_data/ file (or none) and the lookups.
struct Role {
    name: &'static str,
    request: Value,
    settings: &'static str,
    service_account: &'static str,
    expect: Expect,
    warnings: Option<&'static str>,
    lookups: usize,
}

fn role(r: Role) -> Input {
    Input {
        name: r.name,
        payload: validation_payload(&r.request, &fixture(r.settings)),
        service_account: fixture(r.service_account),
        expect: r.expect,
        warnings: r.warnings.map_or_else(Vec::new, |file| {
            serde_json::from_value(fixture(file)).expect("a warnings file is a list of strings")
        }),
        lookups: r.lookups,
    }
}

/// The inputs of the other roles: workload and ServiceAccount checks (unmarked, marked without
/// finding, with a warning), a mutated Pod with a warning, verify mode.
fn role_inputs() -> Vec<Input> {
    const DEPLOYMENT: (&str, &str, &str) = ("apps", "Deployment", "deployments");
    const SERVICE_ACCOUNT_KIND: (&str, &str, &str) = ("", "ServiceAccount", "serviceaccounts");
    let base = |name, request| Role {
        name,
        request,
        settings: "e2e-settings.json",
        service_account: "sa-workload.json",
        expect: Expect::Accept,
        warnings: None,
        lookups: 0,
    };
    [
        base(
            "unmarked-deployment",
            request_of(DEPLOYMENT, deployment(false, false)),
        ),
        base(
            "unmarked-serviceaccount",
            request_of(SERVICE_ACCOUNT_KIND, unmarked_service_account()),
        ),
        Role {
            lookups: 1,
            ..base(
                "labelled-deployment",
                request_of(DEPLOYMENT, deployment(true, false)),
            )
        },
        Role {
            warnings: Some("e2e-warnings-deployment-label.json"),
            ..base(
                "deployment-label-misplaced",
                fixture("request-deployment-label-on-deployment.json"),
            )
        },
        Role {
            service_account: "sa-workload-no-client-id.json",
            warnings: Some("e2e-warnings-cronjob-no-client-id.json"),
            lookups: 1,
            ..base("cronjob-no-client-id", fixture("request-cronjob.json"))
        },
        Role {
            warnings: Some("e2e-warnings-serviceaccount-misspelt.json"),
            ..base(
                "serviceaccount-misspelt",
                fixture("request-serviceaccount-misspelt.json"),
            )
        },
        Role {
            expect: Expect::Mutate {
                contains: "azure-workload-identity-reserved-",
                client_id_in: Some(3),
            },
            warnings: Some("e2e-warnings-pod-skip-typo.json"),
            lookups: 1,
            ..base(
                "pod-warning",
                fixture("request-labelled-pod-skip-typo.json"),
            )
        },
        Role {
            settings: "e2e-settings-verify.json",
            lookups: 1,
            ..base("verify-mutated", fixture("request-mutated-pod.json"))
        },
        Role {
            settings: "e2e-settings-verify.json",
            warnings: Some("e2e-warnings-verify-unmutated.json"),
            lookups: 1,
            ..base("verify-unmutated", fixture("request-labelled-pod.json"))
        },
    ]
    .into_iter()
    .map(role)
    .collect()
}

/// The inputs of the performance targets. The already-mutated Pod is the policy's own output for
/// the basic Pod, computed natively here (and checked to be accepted unchanged by both engines).
fn inputs() -> Vec<Input> {
    let basic = pod(0, 1, true, json!({}));
    let basic_payload = validation_payload(&request(basic.clone()), &settings());
    let mutated = native_response(&basic_payload, &service_account(true));
    let mutated: Value = serde_json::from_slice(&mutated).expect("native response is JSON");
    let mutated_pod = mutated["mutated_object"].clone();
    assert!(mutated_pod.is_object(), "the basic Pod must be mutated");
    vec![
        input(
            "unlabelled",
            pod(0, 1, false, json!({})),
            true,
            Expect::Accept,
        ),
        input("basic", basic, true, mutate(1)),
        input(
            "init3-containers10",
            pod(3, 10, true, json!({})),
            true,
            mutate(13),
        ),
        input(
            "containers50",
            pod(0, 50, true, json!({})),
            true,
            mutate(50),
        ),
        input("already-mutated", mutated_pod, true, Expect::Accept),
        input(
            "proxy",
            pod(0, 1, true, json!({ PROXY_ANNOTATION: "true" })),
            true,
            Expect::Mutate {
                contains: r#""name":"azwi-proxy-init""#,
                client_id_in: None,
            },
        ),
        input(
            "rejected-no-client-id",
            pod(0, 1, true, json!({})),
            false,
            Expect::Reject("azure.workload.identity/client-id"),
        ),
    ]
    .into_iter()
    .chain(role_inputs())
    .collect()
}

/// A mutation that adds the env vars (and so `AZURE_CLIENT_ID`) to `containers` containers.
fn mutate(containers: usize) -> Expect {
    Expect::Mutate {
        contains: "azure-workload-identity-reserved-",
        client_id_in: Some(containers),
    }
}

/// The native engine's ServiceAccount source: deserialises the same JSON bytes the fake host
/// answers the guest's `get_resource` with, on every lookup, as the guest does.
struct JsonServiceAccounts {
    bytes: Vec<u8>,
}

impl ServiceAccountSource for JsonServiceAccounts {
    fn get(&self, _namespace: &str, _name: &str) -> Result<ServiceAccount, String> {
        serde_json::from_slice(&self.bytes).map_err(|e| e.to_string())
    }
}

fn native(payload: &[u8], source: &JsonServiceAccounts) -> Vec<u8> {
    respond(review(payload, source)).expect("respond builds the response")
}

fn native_response(payload: &[u8], service_account: &Value) -> Vec<u8> {
    let source = JsonServiceAccounts {
        bytes: serde_json::to_vec(service_account).expect("a Value serialises"),
    };
    native(payload, &source)
}

/// The floor: parse the payload into a `Value` and serialise the Pod back.
fn floor(payload: &[u8]) -> Vec<u8> {
    let value: Value = serde_json::from_slice(payload).expect("the payload is JSON");
    serde_json::to_vec(&value["request"]["object"]).expect("a Value serialises")
}

fn check(input: &Input, engine: &str, response: &[u8]) {
    let (name, expect) = (input.name, input.expect);
    let value: Value = serde_json::from_slice(response)
        .unwrap_or_else(|e| panic!("{name}/{engine}: response is not JSON ({e})"));
    let accepted = value["accepted"].as_bool();
    let mutated = value.get("mutated_object").is_some_and(|m| !m.is_null());
    let message = value["message"].as_str().unwrap_or("");
    let ok = match expect {
        Expect::Accept => accepted == Some(true) && !mutated,
        Expect::Mutate {
            contains,
            client_id_in,
        } => {
            let pod = value["mutated_object"].to_string();
            accepted == Some(true)
                && mutated
                && pod.contains(contains)
                && client_id_in
                    .is_none_or(|n| pod.matches(r#""name":"AZURE_CLIENT_ID""#).count() == n)
        }
        Expect::Reject(text) => accepted == Some(false) && !mutated && message.contains(text),
    };
    assert!(ok, "{name}/{engine}: expected {expect:?}, got {value}");
    let warnings: Vec<String> = match &value["warnings"] {
        Value::Null => Vec::new(),
        other => serde_json::from_value(other.clone())
            .unwrap_or_else(|e| panic!("{name}/{engine}: warnings are not strings ({e})")),
    };
    assert_eq!(warnings, input.warnings, "{name}/{engine}: warnings");
}

struct Wasm {
    label: String,
    path: PathBuf,
    host: PolicyHost,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

fn load(label: String, path: PathBuf) -> Wasm {
    let host = PolicyHost::load(&path, FakeCluster::new()).unwrap_or_else(|e| {
        panic!(
            "{e}\n(build it first: `make policy.wasm`, or set POLICY_WASM; `make bench` does both)"
        )
    });
    Wasm { label, path, host }
}

fn modules() -> Vec<Wasm> {
    let main = std::env::var_os("POLICY_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("policy.wasm"));
    let mut modules = vec![load(String::new(), main)];
    if let Ok(variants) = std::env::var("BENCH_WASM_VARIANTS") {
        for variant in variants.split(',').filter(|v| !v.trim().is_empty()) {
            let (label, path) = variant
                .split_once('=')
                .expect("BENCH_WASM_VARIANTS is label=path,label=path");
            modules.push(load(
                format!("-{}", label.trim()),
                PathBuf::from(path.trim()),
            ));
        }
    }
    modules
}

fn cluster(service_account: &Value) -> FakeCluster {
    FakeCluster::new().with_service_account(service_account.clone())
}

/// Times `iterations` calls, with the host's call record emptied first (it grows by one entry
/// per ServiceAccount lookup).
fn timed(host: &PolicyHost, iterations: u64, mut call: impl FnMut() -> Vec<u8>) -> Duration {
    host.clear_host_calls();
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(call());
    }
    start.elapsed()
}

fn benchmarks(c: &mut Criterion) {
    let modules = modules();
    let inputs = inputs();

    for input in &inputs {
        let source = JsonServiceAccounts {
            bytes: serde_json::to_vec(&input.service_account).expect("a Value serialises"),
        };
        let native_bytes = native(&input.payload, &source);
        check(input, "native", &native_bytes);

        let mut group = c.benchmark_group(input.name);
        // The native engines first: measured after thousands of wasm instances have come and
        // gone, the native code ran up to 1.6x slower on the same input (the host allocator's
        // state, not the policy), which skewed the native/floor ratio.
        group.bench_function(BenchmarkId::from_parameter("native"), |b| {
            b.iter(|| native(black_box(&input.payload), &source))
        });
        group.bench_function(BenchmarkId::from_parameter("floor"), |b| {
            b.iter(|| floor(black_box(&input.payload)))
        });
        for module in &modules {
            let host = module
                .host
                .with_cluster(cluster(&input.service_account))
                .expect("valid fake cluster");
            host.clear_host_calls();
            let fresh = host
                .validate_raw(&input.payload)
                .expect("the guest answers");
            assert_eq!(
                host.host_calls().len(),
                input.lookups,
                "{}: host calls {:?}",
                input.name,
                host.host_calls()
            );
            assert_eq!(
                String::from_utf8_lossy(&fresh),
                String::from_utf8_lossy(&native_bytes),
                "{}: wasm{} and native answers differ",
                input.name,
                module.label
            );
            assert!(host.violations().is_empty(), "{:?}", host.violations());
            let instance: PolicyInstance = host.instance().expect("an instance");
            let reused = instance
                .call("validate", &input.payload)
                .expect("the guest answers");
            assert_eq!(reused, fresh, "{}: reused instance differs", input.name);

            group.bench_function(
                BenchmarkId::from_parameter(format!("wasm-fresh{}", module.label)),
                |b| {
                    b.iter_custom(|iterations| {
                        timed(&host, iterations, || {
                            host.validate_raw(black_box(&input.payload))
                                .expect("the guest answers")
                        })
                    })
                },
            );
            group.bench_function(
                BenchmarkId::from_parameter(format!("wasm-reused{}", module.label)),
                |b| {
                    b.iter_custom(|iterations| {
                        timed(&host, iterations, || {
                            instance
                                .call("validate", black_box(&input.payload))
                                .expect("the guest answers")
                        })
                    })
                },
            );
        }
        group.finish();
    }

    // The fixed cost of a request in policy-server's model: a fresh instance answering the
    // cheapest call, and the same call in a reused instance; and the same fixed cost for the
    // smallest possible waPC guest, which any policy pays.
    let mut group = c.benchmark_group("overhead");
    let minimal = PolicyHost::from_bytes(
        MINIMAL_GUEST.as_bytes(),
        FakeCluster::new(),
        HostOptions::default(),
    )
    .expect("the minimal guest compiles");
    let answer = minimal
        .validate_raw(&inputs[0].payload)
        .expect("the minimal guest answers");
    assert_eq!(answer, br#"{"accepted":true}"#);
    group.bench_function(BenchmarkId::from_parameter("minimal-guest-fresh"), |b| {
        b.iter(|| {
            minimal
                .validate_raw(black_box(&inputs[0].payload))
                .expect("the minimal guest answers")
        })
    });
    for module in &modules {
        let host = &module.host;
        let instance = host.instance().expect("an instance");
        group.bench_function(
            BenchmarkId::from_parameter(format!("wasm-fresh{}", module.label)),
            |b| b.iter(|| host.protocol_version().expect("protocol_version")),
        );
        group.bench_function(
            BenchmarkId::from_parameter(format!("wasm-reused{}", module.label)),
            |b| {
                b.iter(|| {
                    instance
                        .call("protocol_version", b"")
                        .expect("protocol_version")
                })
            },
        );
    }
    group.finish();

    write_facts(&modules, &inputs);
}

/// Size, compile time (median of 5 compilations) and linear memory of each module.
fn write_facts(modules: &[Wasm], inputs: &[Input]) {
    eprintln!(
        "measuring compile time and linear memory (the guest's \"memory allocation of N bytes \
         failed\" lines are expected: the memory is found by bisecting a memory cap)"
    );
    let mut facts = BTreeMap::new();
    for module in modules {
        let bytes = std::fs::read(&module.path).expect("readable module");
        let mut compile: Vec<Duration> = (0..5)
            .map(|_| {
                PolicyHost::from_bytes(&bytes, FakeCluster::new(), HostOptions::default())
                    .expect("compiles")
                    .compile_time()
            })
            .collect();
        compile.sort();
        let mut memory = BTreeMap::new();
        for input in inputs {
            let host = module
                .host
                .with_cluster(cluster(&input.service_account))
                .expect("valid fake cluster");
            let bytes = host
                .linear_memory_bytes("validate", &input.payload)
                .expect("the guest answers");
            memory.insert(input.name, bytes);
        }
        let payloads: BTreeMap<_, _> = inputs.iter().map(|i| (i.name, i.payload.len())).collect();
        facts.insert(
            if module.label.is_empty() {
                "policy.wasm".to_owned()
            } else {
                module.label[1..].to_owned()
            },
            json!({
                "path": module.path.display().to_string(),
                "size_bytes": bytes.len(),
                "compile_ms_median_of_5": compile[2].as_secs_f64() * 1e3,
                "compile_ms_all": compile.iter().map(|d| d.as_secs_f64() * 1e3).collect::<Vec<_>>(),
                "linear_memory_bytes": memory,
                "payload_bytes": payloads,
            }),
        );
    }
    let path = std::env::var_os("BENCH_FACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_root().join("target"))
                .join("criterion")
                .join("policy-facts.json")
        });
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("facts directory");
    }
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(&facts).expect("a Value serialises"),
    )
    .expect("facts written");
    eprintln!("wrote {}", path.display());
}

/// `BENCH_ITERATE=<engine>:<input>:<n>`: instead of benchmarking, evaluate one input `n` times
/// with one engine (`wasm-fresh`, `wasm-reused`, `native`, `floor`) and exit, for instruction
/// counts under `valgrind --tool=callgrind`: the count of `n` runs minus the count of 0 runs
/// (same set-up) divided by `n` is the cost of one evaluation.
fn iterate(spec: &str) {
    let mut parts = spec.splitn(3, ':');
    let (engine, name, n) = match (parts.next(), parts.next(), parts.next()) {
        (Some(e), Some(i), Some(n)) => (e, i, n.parse::<u64>().expect("n is a number")),
        _ => panic!("BENCH_ITERATE is <engine>:<input>:<n>"),
    };
    let inputs = inputs();
    let input = inputs
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no input {name}"));
    let source = JsonServiceAccounts {
        bytes: serde_json::to_vec(&input.service_account).expect("a Value serialises"),
    };
    let mut last = Vec::new();
    match engine {
        "native" => (0..n).for_each(|_| last = native(black_box(&input.payload), &source)),
        "floor" => (0..n).for_each(|_| last = floor(black_box(&input.payload))),
        "wasm-fresh" | "wasm-reused" => {
            let module = modules().remove(0);
            let host = module
                .host
                .with_cluster(cluster(&input.service_account))
                .expect("valid fake cluster");
            let instance = host.instance().expect("an instance");
            for _ in 0..n {
                last = if engine == "wasm-fresh" {
                    host.validate_raw(black_box(&input.payload))
                } else {
                    instance.call("validate", black_box(&input.payload))
                }
                .expect("the guest answers");
            }
        }
        other => panic!("unknown engine {other}"),
    }
    if n > 0 && engine != "floor" {
        check(input, engine, &last);
    }
    eprintln!("{engine} {name} x{n}: {} response bytes", last.len());
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benchmarks
}

fn main() {
    match std::env::var("BENCH_ITERATE") {
        Ok(spec) => iterate(&spec),
        Err(_) => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
