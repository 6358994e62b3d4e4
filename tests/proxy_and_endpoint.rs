//! Flow tests of the proxy sidecar (spec §4.6) and the custom token endpoint (spec §6.3), run
//! natively through `evaluate` with an in-memory ServiceAccount source.

use std::cell::RefCell;

use azure_workload_identity_policy::Rejection;
use azure_workload_identity_policy::{Decision, evaluate};
use azure_workload_identity_policy::{ServiceAccount, ServiceAccountSource};
use serde_json::{Value, json};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const VOLUME: &str = "azure-workload-identity-reserved-425c89ed5bb78a7623fae60fd8a6f6"; // "pod"
const PROXY_IMAGE: &str = "mcr.microsoft.com/oss/azure/workload-identity/proxy:v1.6.0";
const PROXY_INIT_IMAGE: &str = "mcr.microsoft.com/oss/azure/workload-identity/proxy-init:v1.6.0";

struct Cluster {
    calls: RefCell<Vec<(String, String)>>,
}

impl ServiceAccountSource for Cluster {
    fn get(&self, namespace: &str, name: &str) -> Result<ServiceAccount, String> {
        self.calls
            .borrow_mut()
            .push((namespace.to_string(), name.to_string()));
        Ok(ServiceAccount::with_annotations([(
            "azure.workload.identity/client-id",
            CLIENT,
        )]))
    }
}

fn run(pod: &Value, settings: Value) -> (Decision, usize) {
    let payload = json!({
        "request": {
            "uid": "u", "operation": "CREATE", "namespace": "ns",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "object": pod,
        },
        "settings": settings,
    });
    let cluster = Cluster {
        calls: RefCell::new(Vec::new()),
    };
    let bytes = serde_json::to_vec(&payload).unwrap_or_default();
    let decision = evaluate(&bytes, &cluster);
    let calls = cluster.calls.borrow().len();
    (decision, calls)
}

fn settings(extra: Value) -> Value {
    let mut s = json!({"defaultTenantId": TENANT});
    if let (Some(obj), Value::Object(more)) = (s.as_object_mut(), extra) {
        obj.extend(more);
    }
    s
}

fn pod(annotations: Value, spec: Value) -> Value {
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

fn env(extra: &[(&str, &str)]) -> Value {
    let mut list = vec![
        json!({"name": "AZURE_CLIENT_ID", "value": CLIENT}),
        json!({"name": "AZURE_TENANT_ID", "value": TENANT}),
        json!({"name": "AZURE_FEDERATED_TOKEN_FILE", "value": "/var/run/secrets/azure/wi/token/azure-identity-token"}),
        json!({"name": "AZURE_AUTHORITY_HOST", "value": "https://login.microsoftonline.com/"}),
    ];
    list.extend(extra.iter().map(|(n, v)| json!({"name": n, "value": v})));
    Value::Array(list)
}

fn mount() -> Value {
    json!({"name": VOLUME, "mountPath": "/var/run/secrets/azure/wi", "readOnly": true})
}

fn volume(audience: &str, extra_sources: &[Value]) -> Value {
    let mut sources = vec![json!({"serviceAccountToken": {
        "path": "token/azure-identity-token", "audience": audience, "expirationSeconds": 3600}})];
    sources.extend_from_slice(extra_sources);
    json!({"name": VOLUME, "projected": {"sources": sources}})
}

/// The proxy-init container after the whole mutation.
fn proxy_init(port: &str) -> Value {
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
fn proxy(port: i64, native: bool) -> Value {
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

fn app(name: &str) -> Value {
    json!({"name": name, "image": "app"})
}

fn mutated_app(name: &str) -> Value {
    json!({"name": name, "image": "app", "env": env(&[]), "volumeMounts": [mount()]})
}

const INJECT: &str = "azure.workload.identity/inject-proxy-sidecar";
const PORT: &str = "azure.workload.identity/proxy-sidecar-port";

#[test]
fn proxy_placement_in_both_modes() {
    // (case, useNativeSidecar, spec in, expected initContainers, expected containers)
    let cases = [
        (
            "native, no init containers",
            true,
            json!({"containers": [app("app")]}),
            json!([proxy(8000, true), proxy_init("8000")]),
            json!([mutated_app("app")]),
        ),
        (
            "native, existing init containers",
            true,
            json!({"initContainers": [app("init-a"), app("init-b")], "containers": [app("app")]}),
            json!([
                proxy(8000, true),
                mutated_app("init-a"),
                mutated_app("init-b"),
                proxy_init("8000")
            ]),
            json!([mutated_app("app")]),
        ),
        (
            "legacy, no init containers",
            false,
            json!({"containers": [app("app"), app("second")]}),
            json!([proxy_init("8000")]),
            json!([
                proxy(8000, false),
                mutated_app("app"),
                mutated_app("second")
            ]),
        ),
        (
            "legacy, existing init containers",
            false,
            json!({"initContainers": [app("init-a")], "containers": [app("app")]}),
            json!([mutated_app("init-a"), proxy_init("8000")]),
            json!([proxy(8000, false), mutated_app("app")]),
        ),
    ];
    for (name, native, spec, init, containers) in cases {
        let (decision, calls) = run(
            &pod(json!({INJECT: "true"}), spec),
            settings(json!({"useNativeSidecar": native})),
        );
        assert_eq!(calls, 1, "{name}");
        let expected = pod(
            json!({INJECT: "true"}),
            json!({"initContainers": init, "containers": containers, "volumes": [volume("api://AzureADTokenExchange", &[])]}),
        );
        assert_eq!(decision, Decision::Mutate(expected), "{name}");
    }
}

#[test]
fn proxy_annotation_value_is_ignored_and_port_parsed_like_upstream() {
    // (inject value, port annotation, expected port number, expected PROXY_PORT)
    let cases = [
        ("false", None, 8000, "8000"),
        ("", None, 8000, "8000"),
        ("true", Some("9000"), 9000, "9000"),
        ("true", Some("+9000"), 9000, "9000"),
        ("true", Some("09000"), 9000, "9000"),
        ("true", Some("0"), 0, "0"),
        ("true", Some("70000"), 70000, "70000"),
        ("true", Some("-1"), -1, "-1"),
    ];
    for (value, port, number, text) in cases {
        let mut annotations = json!({INJECT: value});
        if let (Some(p), Some(obj)) = (port, annotations.as_object_mut()) {
            obj.insert(PORT.into(), json!(p));
        }
        let (decision, _) = run(
            &pod(annotations.clone(), json!({"containers": [app("app")]})),
            settings(json!({})),
        );
        let expected = pod(
            annotations,
            json!({
                "initContainers": [proxy(number, true), proxy_init(text)],
                "containers": [mutated_app("app")],
                "volumes": [volume("api://AzureADTokenExchange", &[])],
            }),
        );
        assert_eq!(
            decision,
            Decision::Mutate(expected),
            "inject {value:?}, port {port:?}"
        );
    }
}

#[test]
fn proxy_rejections() {
    let cases = [
        (
            json!({INJECT: "true", PORT: "80a"}),
            json!({"containers": [app("app")]}),
            "azure-workload-identity: Pod \"ns/pod\": annotation \"azure.workload.identity/proxy-sidecar-port\" has the value \"80a\": failed to parse proxy sidecar port: strconv.ParseInt: parsing \"80a\": invalid syntax. Set it to a port number such as \"8000\", or remove it to use 8000",
        ),
        (
            json!({INJECT: "true", PORT: ""}),
            json!({"containers": [app("app")]}),
            "azure-workload-identity: Pod \"ns/pod\": annotation \"azure.workload.identity/proxy-sidecar-port\" has the value \"\": failed to parse proxy sidecar port: strconv.ParseInt: parsing \"\": invalid syntax. Set it to a port number such as \"8000\", or remove it to use 8000",
        ),
        (
            json!({INJECT: "true", PORT: "2147483648"}),
            json!({"containers": [app("app")]}),
            "azure-workload-identity: Pod \"ns/pod\": annotation \"azure.workload.identity/proxy-sidecar-port\" has the value \"2147483648\": failed to parse proxy sidecar port: strconv.ParseInt: parsing \"2147483648\": value out of range. Set it to a port number such as \"8000\", or remove it to use 8000",
        ),
        (
            // hostNetwork is checked before the port (upstream step 4)
            json!({INJECT: "true", PORT: "bad"}),
            json!({"hostNetwork": true, "containers": [app("app")]}),
            "azure-workload-identity: Pod \"ns/pod\": hostNetwork is set to true, cannot inject proxy sidecar (its init container would rewrite the node's iptables). Remove the annotation \"azure.workload.identity/inject-proxy-sidecar\" or set spec.hostNetwork to false",
        ),
        (
            // the proxy checks come before the token expiration (upstream steps 4 and 5)
            json!({INJECT: "true", PORT: "x", "azure.workload.identity/service-account-token-expiration": "1"}),
            json!({"containers": [app("app")]}),
            "azure-workload-identity: Pod \"ns/pod\": annotation \"azure.workload.identity/proxy-sidecar-port\" has the value \"x\": failed to parse proxy sidecar port: strconv.ParseInt: parsing \"x\": invalid syntax. Set it to a port number such as \"8000\", or remove it to use 8000",
        ),
    ];
    for (annotations, spec, message) in cases {
        let (decision, _) = run(&pod(annotations.clone(), spec), settings(json!({})));
        assert_eq!(
            decision,
            Decision::Reject(Rejection(message.to_string())),
            "{annotations}"
        );
    }
    // hostNetwork without the proxy is fine
    let (decision, _) = run(
        &pod(
            json!({}),
            json!({"hostNetwork": true, "containers": [app("app")]}),
        ),
        settings(json!({})),
    );
    assert!(matches!(decision, Decision::Mutate(_)));
}

#[test]
fn skip_containers_can_name_the_injected_proxy_containers() {
    let annotations = json!({INJECT: "true", "azure.workload.identity/skip-containers": "azwi-proxy; azwi-proxy-init"});
    let (decision, _) = run(
        &pod(annotations.clone(), json!({"containers": [app("app")]})),
        settings(json!({})),
    );
    let mut bare_proxy = proxy(8000, true);
    let mut bare_init = proxy_init("8000");
    for c in [&mut bare_proxy, &mut bare_init] {
        if let Some(obj) = c.as_object_mut() {
            obj.remove("volumeMounts");
            if obj.get("name") == Some(&json!("azwi-proxy")) {
                obj.remove("env");
            } else {
                obj.insert(
                    "env".into(),
                    json!([{"name": "PROXY_PORT", "value": "8000"}]),
                );
            }
        }
    }
    let expected = pod(
        annotations,
        json!({
            "initContainers": [bare_proxy, bare_init],
            "containers": [mutated_app("app")],
            "volumes": [volume("api://AzureADTokenExchange", &[])],
        }),
    );
    assert_eq!(decision, Decision::Mutate(expected));
}

#[test]
fn reinvocation_with_the_proxy_present_changes_nothing() {
    for native in [true, false] {
        let s = settings(json!({"useNativeSidecar": native}));
        let first = run(
            &pod(json!({INJECT: "true"}), json!({"containers": [app("app")]})),
            s.clone(),
        );
        let Decision::Mutate(mutated) = first.0 else {
            panic!("first pass did not mutate: {first:?}");
        };
        let (second, _) = run(&mutated, s);
        assert_eq!(second, Decision::Accept, "native {native}");
    }
}

#[test]
fn existing_proxy_containers_are_not_injected_again() {
    // legacy mode: an azwi-proxy already in containers; native mode looks in initContainers
    let user_proxy = json!({"name": "azwi-proxy", "image": "mine"});
    let (decision, _) = run(
        &pod(
            json!({INJECT: "true"}),
            json!({"containers": [user_proxy.clone(), app("app")]}),
        ),
        settings(json!({"useNativeSidecar": false})),
    );
    let expected = pod(
        json!({INJECT: "true"}),
        json!({
            "initContainers": [proxy_init("8000")],
            "containers": [
                json!({"name": "azwi-proxy", "image": "mine", "env": env(&[]), "volumeMounts": [mount()]}),
                mutated_app("app"),
            ],
            "volumes": [volume("api://AzureADTokenExchange", &[])],
        }),
    );
    assert_eq!(decision, Decision::Mutate(expected));

    // native mode: an azwi-proxy in containers does not count, one in initContainers does
    let (decision, _) = run(
        &pod(
            json!({INJECT: "true"}),
            json!({"initContainers": [user_proxy.clone()], "containers": [app("app")]}),
        ),
        settings(json!({"useNativeSidecar": true})),
    );
    let expected = pod(
        json!({INJECT: "true"}),
        json!({
            "initContainers": [
                json!({"name": "azwi-proxy", "image": "mine", "env": env(&[]), "volumeMounts": [mount()]}),
                proxy_init("8000"),
            ],
            "containers": [mutated_app("app")],
            "volumes": [volume("api://AzureADTokenExchange", &[])],
        }),
    );
    assert_eq!(decision, Decision::Mutate(expected));
}

fn cte_settings(extra: Value) -> Value {
    let mut cte = json!({
        "annotationSuffix": "binding",
        "audience": "api://identity-binding",
        "tokenProxy": "https://token-proxy.example:8443",
        "sniName": "sni.example",
    });
    if let (Some(obj), Value::Object(more)) = (cte.as_object_mut(), extra) {
        obj.extend(more);
    }
    settings(json!({"customTokenEndpoint": cte}))
}

#[test]
fn custom_token_endpoint_pods() {
    let ca_file = (
        "AZURE_KUBERNETES_CA_FILE",
        "/var/run/secrets/azure/wi/ca-cert/ca.crt",
    );
    let proxy_vars = [
        (
            "AZURE_KUBERNETES_TOKEN_PROXY",
            "https://token-proxy.example:8443",
        ),
        ("AZURE_KUBERNETES_SNI_NAME", "sni.example"),
    ];
    let all = |extra: &[(&'static str, &'static str)]| {
        let mut v = proxy_vars.to_vec();
        v.push(ca_file);
        v.extend_from_slice(extra);
        v
    };
    // (case, customTokenEndpoint extra settings, annotation value, expected extra env, audience, extra sources)
    type Case<'a> = (
        &'a str,
        Value,
        &'a str,
        Vec<(&'a str, &'a str)>,
        &'a str,
        Vec<Value>,
    );
    let cases: Vec<Case> = vec![
        (
            "no CA",
            json!({}),
            "true",
            all(&[]),
            "api://identity-binding",
            vec![],
        ),
        (
            "value compared ignoring case",
            json!({}),
            "TRUE",
            all(&[]),
            "api://identity-binding",
            vec![],
        ),
        (
            "inline CA data: env only, no projected file",
            json!({"caData": "-----BEGIN CERTIFICATE-----"}),
            "true",
            all(&[("AZURE_KUBERNETES_CA_DATA", "-----BEGIN CERTIFICATE-----")]),
            "api://identity-binding",
            vec![],
        ),
        (
            "ConfigMap CA",
            json!({"caConfigMapName": "token-ca"}),
            "True",
            all(&[]),
            "api://identity-binding",
            vec![
                json!({"configMap": {"name": "token-ca", "items": [{"key": "ca.crt", "path": "ca-cert/ca.crt"}], "optional": false}}),
            ],
        ),
        (
            "ClusterTrustBundle CA with selector",
            json!({"caClusterTrustBundleSignerName": "example.com/signer", "caClusterTrustBundleLabelSelector": {"matchLabels": {"ca": "token"}}}),
            "true",
            all(&[]),
            "api://identity-binding",
            vec![
                json!({"clusterTrustBundle": {"signerName": "example.com/signer", "labelSelector": {"matchLabels": {"ca": "token"}}, "path": "ca-cert/ca.crt", "optional": false}}),
            ],
        ),
        (
            "ClusterTrustBundle CA without selector",
            json!({"caClusterTrustBundleSignerName": "example.com/signer"}),
            "true",
            all(&[]),
            "api://identity-binding",
            vec![
                json!({"clusterTrustBundle": {"signerName": "example.com/signer", "path": "ca-cert/ca.crt", "optional": false}}),
            ],
        ),
        (
            "only tokenProxy empty: skipped, CA file still added",
            json!({"tokenProxy": ""}),
            "true",
            vec![("AZURE_KUBERNETES_SNI_NAME", "sni.example"), ca_file],
            "api://identity-binding",
            vec![],
        ),
        (
            "annotation false: normal pod",
            json!({"caConfigMapName": "token-ca"}),
            "false",
            vec![],
            "api://AzureADTokenExchange",
            vec![],
        ),
        (
            "annotation yes: normal pod",
            json!({}),
            "yes",
            vec![],
            "api://AzureADTokenExchange",
            vec![],
        ),
    ];
    for (name, extra, value, extra_env, audience, sources) in cases {
        let annotations = json!({"azure.workload.identity/use-binding": value});
        let (decision, _) = run(
            &pod(annotations.clone(), json!({"containers": [app("app")]})),
            cte_settings(extra),
        );
        let expected = pod(
            annotations,
            json!({
                "containers": [json!({"name": "app", "image": "app", "env": env(&extra_env), "volumeMounts": [mount()]})],
                "volumes": [volume(audience, &sources)],
            }),
        );
        assert_eq!(decision, Decision::Mutate(expected), "{name}");
    }
}

#[test]
fn custom_token_endpoint_needs_the_exact_annotation_key_and_the_feature() {
    // feature off: the annotation does nothing
    let annotations = json!({"azure.workload.identity/use-binding": "true"});
    let (decision, _) = run(
        &pod(annotations.clone(), json!({"containers": [app("app")]})),
        settings(json!({})),
    );
    let expected = pod(
        annotations,
        json!({"containers": [mutated_app("app")], "volumes": [volume("api://AzureADTokenExchange", &[])]}),
    );
    assert_eq!(decision, Decision::Mutate(expected));

    // another suffix does not trigger it
    let annotations = json!({"azure.workload.identity/use-other": "true"});
    let (decision, _) = run(
        &pod(annotations.clone(), json!({"containers": [app("app")]})),
        cte_settings(json!({})),
    );
    let expected = pod(
        annotations,
        json!({"containers": [mutated_app("app")], "volumes": [volume("api://AzureADTokenExchange", &[])]}),
    );
    assert_eq!(decision, Decision::Mutate(expected));
}

#[test]
fn proxy_and_custom_token_endpoint_together_are_idempotent() {
    let annotations = json!({INJECT: "true", "azure.workload.identity/use-binding": "true"});
    let s = cte_settings(json!({"caConfigMapName": "token-ca"}));
    let (first, _) = run(
        &pod(annotations, json!({"containers": [app("app")]})),
        s.clone(),
    );
    let Decision::Mutate(mutated) = first else {
        panic!("first pass did not mutate: {first:?}");
    };
    assert_eq!(run(&mutated, s).0, Decision::Accept);
}
