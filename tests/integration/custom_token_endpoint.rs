//! The custom token endpoint (docs/behaviour.md §4.7, §6.3): the env vars, audience and CA sources
//! it adds when the `use-<suffix>` annotation asks for it, and together with the proxy.

use azure_workload_identity_policy::Decision;
use serde_json::{Value, json};

use crate::common::Rows;
use crate::common::minimal::*;

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
    let mut rows = Rows::new();
    for (name, extra, value, extra_env, audience, sources) in cases {
        rows.check(name, || {
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
        });
    }
    rows.assert_all_passed();
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
