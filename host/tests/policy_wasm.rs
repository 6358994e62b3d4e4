//! Tests of the built artifact: `policy.wasm` run through wapc + wasmtime-provider (the engine
//! Kubewarden's host is built on) with a fake cluster. Any host call other than
//! `kubernetes/get_resource` for a `v1/ServiceAccount` is a violation and fails the test, and
//! every request makes at most one lookup, and a second one past the host's cache only before
//! it rejects.
//!
//! The module is taken from `POLICY_WASM` (set by `make wasm-tests`), else `../policy.wasm`.

use std::path::PathBuf;
use std::sync::OnceLock;

use policy_host::{FakeCluster, PolicyHost};
use serde_json::{Value, json};

fn data(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../test_data")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn compiled() -> &'static PolicyHost {
    static HOST: OnceLock<PolicyHost> = OnceLock::new();
    HOST.get_or_init(|| {
        let path = std::env::var_os("POLICY_WASM")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policy.wasm"));
        PolicyHost::load(&path, FakeCluster::new()).unwrap_or_else(|e| {
            panic!(
                "cannot load {} (run `make policy.wasm`): {e}",
                path.display()
            )
        })
    })
}

/// A host over the compiled module, serving these ServiceAccounts.
fn host(service_accounts: &[Value]) -> PolicyHost {
    let cluster = service_accounts.iter().fold(FakeCluster::new(), |c, sa| {
        c.with_service_account(sa.clone())
    });
    compiled()
        .with_cluster(cluster)
        .unwrap_or_else(|e| panic!("cannot instantiate: {e}"))
}

/// Evaluates and checks the host-call rules: no violation, at most one lookup from the cache
/// and, after it, one of the same ServiceAccount past the cache.
fn evaluate(host: &PolicyHost, request: &Value, settings: &Value) -> Value {
    let response = host
        .validate(request, settings)
        .unwrap_or_else(|e| panic!("validate returned an error (would be a 500): {e}"));
    assert_eq!(
        host.violations(),
        Vec::<String>::new(),
        "host-call violations"
    );
    let reads = reads(host);
    let allowed = match reads.as_slice() {
        [] | [(_, _, false)] => true,
        [(ns, name, false), (ns2, name2, true)] => ns == ns2 && name == name2,
        _ => false,
    };
    assert!(allowed, "unexpected host calls: {:?}", host.host_calls());
    response
}

/// The lookups as (namespace, name, disable_cache).
fn reads(host: &PolicyHost) -> Vec<(String, String, bool)> {
    host.host_calls()
        .iter()
        .map(|c| {
            let field = |k: &str| {
                c.payload
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let fresh = c.payload.get("disable_cache") == Some(&Value::Bool(true));
            (field("namespace"), field("name"), fresh)
        })
        .collect()
}

fn lookups(host: &PolicyHost) -> Vec<(String, String)> {
    host.host_calls()
        .iter()
        .map(|c| {
            let field = |k: &str| {
                c.payload
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            (field("namespace"), field("name"))
        })
        .collect()
}

fn settings() -> Value {
    data("settings-default.json")
}

fn with_object(request: &Value, object: Value) -> Value {
    let mut r = request.clone();
    if let Some(obj) = r.as_object_mut() {
        obj.insert("object".to_string(), object);
    }
    r
}

/// The example request with a labelled Pod `web` of one container, annotated with `annotations`.
fn web_pod_request(annotations: Value) -> Value {
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "labels": {"azure.workload.identity/use": "true"},
                     "annotations": annotations},
        "spec": {"serviceAccountName": "workload-sa", "containers": [{"name": "app", "image": "app"}]},
    });
    with_object(&data("request-labelled-pod.json"), pod)
}

#[test]
fn speaks_protocol_v1() {
    assert_eq!(compiled().protocol_version().ok().as_deref(), Some("v1"));
}

#[test]
fn labelled_pod_is_mutated_exactly() {
    let host = host(&[data("sa-workload.json")]);
    let response = evaluate(&host, &data("request-labelled-pod.json"), &settings());
    assert_eq!(
        response,
        json!({
            "accepted": true,
            "message": null,
            "code": null,
            "mutated_object": data("expected-labelled-pod.json"),
            "audit_annotations": null,
            "warnings": null,
        })
    );
    assert_eq!(
        lookups(&host),
        vec![("default".to_string(), "workload-sa".to_string())]
    );
    assert_eq!(
        host.host_calls().first().map(|c| c.payload.clone()),
        Some(json!({
            "api_version": "v1", "kind": "ServiceAccount", "name": "workload-sa",
            "namespace": "default", "disable_cache": false, "field_masks": null,
        }))
    );
}

#[test]
fn mutated_pod_is_accepted_unchanged_on_reinvocation() {
    let host = host(&[data("sa-workload.json")]);
    let request = with_object(
        &data("request-labelled-pod.json"),
        data("expected-labelled-pod.json"),
    );
    let response = evaluate(&host, &request, &settings());
    assert_eq!(response.get("accepted"), Some(&json!(true)));
    assert_eq!(response.get("mutated_object"), Some(&Value::Null));
}

#[test]
fn unlabelled_pod_is_accepted_without_any_host_call() {
    let host = host(&[data("sa-workload.json")]);
    let response = evaluate(&host, &data("request-unlabelled-pod.json"), &settings());
    assert_eq!(response.get("accepted"), Some(&json!(true)));
    assert_eq!(response.get("mutated_object"), Some(&Value::Null));
    assert_eq!(host.host_calls().len(), 0);
}

#[test]
fn missing_service_account_is_rejected() {
    let host = host(&[]);
    let response = evaluate(&host, &data("request-labelled-pod.json"), &settings());
    assert_eq!(response.get("accepted"), Some(&json!(false)));
    let message = response
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("");
    assert!(
        message.starts_with(
            "azure-workload-identity: ServiceAccount \"default/workload-sa\" used by Pod \
             \"default/workload-app\" was not found ("
        ),
        "{message}"
    );
    assert!(
        message.contains("Cannot find v1/ServiceAccount named 'workload-sa'"),
        "{message}"
    );
    assert!(
        message.contains("kubectl create serviceaccount -n default workload-sa"),
        "{message}"
    );
    assert_eq!(
        reads(&host),
        vec![
            ("default".to_string(), "workload-sa".to_string(), false),
            ("default".to_string(), "workload-sa".to_string(), true),
        ]
    );
}

#[test]
fn missing_client_id_is_rejected_with_the_fix() {
    let host = host(&[data("sa-workload-no-client-id.json")]);
    let response = evaluate(&host, &data("request-labelled-pod.json"), &settings());
    assert_eq!(
        response,
        json!({
            "accepted": false,
            "message": "azure-workload-identity: ServiceAccount \"default/workload-sa\" used by Pod \
                \"default/workload-app\" has no \"azure.workload.identity/client-id\" annotation, so \
                AZURE_CLIENT_ID cannot be injected. Annotate the ServiceAccount with the client ID of \
                the managed identity or app registration: kubectl annotate serviceaccount -n default \
                workload-sa azure.workload.identity/client-id=<client-id>. Alternatively set \
                AZURE_CLIENT_ID in the env of every container of the Pod",
            "code": null,
            "mutated_object": null,
            "audit_annotations": null,
            "warnings": null,
        })
    );
}

#[test]
fn misspelt_client_id_is_named() {
    let host = host(&[data("sa-workload-misspelt-client-id.json")]);
    let response = evaluate(&host, &data("request-labelled-pod.json"), &settings());
    let message = response
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("");
    assert!(
        message.contains(
            "has no \"azure.workload.identity/client-id\" annotation, but has \
             \"azure.workload.identity/client_id\", which looks like a misspelling of it"
        ),
        "{message}"
    );
}

#[test]
fn settings_are_validated() {
    let host = compiled();
    let cases = [
        (settings(), json!({"valid": true, "message": null})),
        (
            json!({}),
            json!({"valid": false, "message": "defaultTenantId is required: set it to the ID of the \
                Microsoft Entra tenant used for ServiceAccounts that have no \
                azure.workload.identity/tenant-id annotation (upstream chart value azureTenantID), \
                e.g. {\"defaultTenantId\": \"00000000-0000-0000-0000-000000000000\"}"}),
        ),
    ];
    for (input, expected) in cases {
        let response = host
            .validate_settings(&input)
            .unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(response, expected, "{input}");
    }
    for (input, part) in [
        (
            data("settings-invalid-environment.json"),
            "azureEnvironment \"AzureMoonCloud\" is not a known Azure cloud",
        ),
        (
            data("settings-unknown-key.json"),
            "setting defaultTenantID: unknown field `defaultTenantID`",
        ),
        (
            json!({"defaultTenantId": "t", "tokenLayout": "v1.4"}),
            "tokenLayout \"v1.4\" is not supported",
        ),
        (json!([1]), "the settings must be a JSON object"),
    ] {
        let response = host
            .validate_settings(&input)
            .unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(response.get("valid"), Some(&json!(false)), "{input}");
        let message = response
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("");
        assert!(message.contains(part), "{input}: {message}");
    }
}

#[test]
fn token_layout_v1_5_uses_the_old_paths() {
    let host = host(&[data("sa-workload.json")]);
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default", "labels": {"azure.workload.identity/use": "true"}},
        "spec": {"serviceAccountName": "workload-sa", "containers": [{"name": "app", "image": "app"}]},
    });
    let request = with_object(&data("request-labelled-pod.json"), pod.clone());
    let mut v15 = settings();
    if let Some(obj) = v15.as_object_mut() {
        obj.insert("tokenLayout".to_string(), json!("v1.5"));
    }
    let response = evaluate(&host, &request, &v15);
    let mut expected = pod;
    expected["spec"] = json!({
        "serviceAccountName": "workload-sa",
        "containers": [{
            "name": "app", "image": "app",
            "env": [
                {"name": "AZURE_CLIENT_ID", "value": "5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f"},
                {"name": "AZURE_TENANT_ID", "value": "c0ffee00-1234-4abc-8def-0123456789ab"},
                {"name": "AZURE_FEDERATED_TOKEN_FILE", "value": "/var/run/secrets/azure/tokens/azure-identity-token"},
                {"name": "AZURE_AUTHORITY_HOST", "value": "https://login.microsoftonline.com/"},
            ],
            "volumeMounts": [{"name": "azure-identity-token", "mountPath": "/var/run/secrets/azure/tokens", "readOnly": true}],
        }],
        "volumes": [{"name": "azure-identity-token", "projected": {"sources": [{"serviceAccountToken": {
            "path": "azure-identity-token", "audience": "api://AzureADTokenExchange", "expirationSeconds": 3600}}]}}],
    });
    assert_eq!(response.get("mutated_object"), Some(&expected));

    // re-invocation in v1.5 mode changes nothing
    host.clear_host_calls();
    let again = evaluate(&host, &with_object(&request, expected), &v15);
    assert_eq!(again.get("accepted"), Some(&json!(true)));
    assert_eq!(again.get("mutated_object"), Some(&Value::Null));
}

#[test]
fn proxy_pod_gets_both_proxy_containers() {
    let host = host(&[data("sa-workload.json")]);
    let response = evaluate(
        &host,
        &web_pod_request(json!({"azure.workload.identity/inject-proxy-sidecar": "true"})),
        &settings(),
    );
    let names = |list: &str| -> Vec<String> {
        response["mutated_object"]["spec"][list]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(names("initContainers"), ["azwi-proxy", "azwi-proxy-init"]);
    assert_eq!(names("containers"), ["app"]);
    assert_eq!(
        response["mutated_object"]["spec"]["initContainers"][0]["restartPolicy"],
        json!("Always")
    );
}

#[test]
fn hostile_payloads_never_trap() {
    let host = host(&[data("sa-workload.json")]);
    for payload in [
        &b""[..],
        b"not json",
        b"{}",
        b"{\"request\": null}",
        b"{\"request\": {\"operation\": \"CREATE\", \"kind\": {\"kind\": \"Pod\", \"version\": \"v1\"}, \
           \"object\": {\"metadata\": {\"labels\": {\"azure.workload.identity/use\": \"true\"}}, \"spec\": 5}}}",
    ] {
        let raw = host
            .validate_raw(payload)
            .unwrap_or_else(|e| panic!("{:?} trapped: {e}", String::from_utf8_lossy(payload)));
        let response: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        assert!(response.get("accepted").is_some_and(Value::is_boolean), "{response}");
    }
    assert_eq!(host.violations(), Vec::<String>::new());
}

/// Every hostile payload of `test_data/hostile/` through the built module: never a trap or a guest
/// error, always a response with a boolean `accepted`, at most one lookup and its fresh repetition.
#[test]
fn the_hostile_corpus_never_traps_in_wasm() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test_data/hostile");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    assert!(
        entries.len() >= 40,
        "expected the hostile corpus, found {} files",
        entries.len()
    );
    let host = host(&[data("sa-workload.json")]);
    for path in entries {
        let payload = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        host.clear_host_calls();
        let raw = host
            .validate_raw(&payload)
            .unwrap_or_else(|e| panic!("{} trapped or failed: {e}", path.display()));
        // The mutated Pod may nest deeper than serde_json reads by default, so look at the
        // response's first field (the SDK serialises `accepted` first).
        let text = String::from_utf8_lossy(&raw);
        assert!(
            text.starts_with("{\"accepted\":true,") || text.starts_with("{\"accepted\":false,"),
            "{}: {}",
            path.display(),
            text.get(..200).unwrap_or(&text)
        );
        assert!(
            host.host_calls().len() <= 2,
            "{}: {:?}",
            path.display(),
            host.host_calls()
        );
    }
    assert_eq!(host.violations(), Vec::<String>::new());
}

/// The warnings of a response (`[]` when it has none: the field is null).
fn warnings(response: &Value) -> Vec<String> {
    response
        .get("warnings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn settings_with(findings: &str) -> Value {
    let mut s = settings();
    if let Some(obj) = s.as_object_mut() {
        obj.insert("findings".to_string(), json!(findings));
    }
    s
}

#[test]
fn workload_findings_are_warnings_or_a_rejection() {
    let label_on_deployment = "Deployment default/web: azure.workload.identity/use: \"true\" is on \
        metadata.labels, so its Pods are not configured; the label must be on \
        spec.template.metadata.labels";
    let host = host(&[]);
    let request = data("request-deployment-label-on-deployment.json");
    let response = evaluate(&host, &request, &settings_with("warn"));
    assert_eq!(
        response,
        json!({
            "accepted": true,
            "message": format!("azure-workload-identity: {label_on_deployment}"),
            "code": null,
            "mutated_object": null,
            "audit_annotations": null,
            "warnings": [label_on_deployment],
        })
    );
    assert_eq!(host.host_calls().len(), 0);

    let response = evaluate(&host, &request, &settings_with("reject"));
    assert_eq!(
        response,
        json!({
            "accepted": false,
            "message": format!("azure-workload-identity: {label_on_deployment}"),
            "code": null,
            "mutated_object": null,
            "audit_annotations": null,
            "warnings": null,
        })
    );
}

#[test]
fn a_cron_job_is_checked_with_a_fresh_read_before_it_is_rejected() {
    let no_client_id = "CronJob default/nightly-report: ServiceAccount default/workload-sa has no \
        azure.workload.identity/client-id annotation; annotate it with the identity's client ID";
    let request = data("request-cronjob.json");

    let host = host(&[data("sa-workload-no-client-id.json")]);
    let response = evaluate(&host, &request, &settings_with("warn"));
    assert_eq!(warnings(&response), vec![no_client_id.to_string()]);
    assert_eq!(response.get("accepted"), Some(&json!(true)));
    assert_eq!(reads(&host).len(), 1);

    let host = self::host(&[data("sa-workload-no-client-id.json")]);
    let response = evaluate(&host, &request, &settings_with("reject"));
    assert_eq!(
        response.get("message"),
        Some(&json!(format!("azure-workload-identity: {no_client_id}")))
    );
    assert_eq!(response.get("accepted"), Some(&json!(false)));
    assert_eq!(
        reads(&host),
        vec![
            ("default".to_string(), "workload-sa".to_string(), false),
            ("default".to_string(), "workload-sa".to_string(), true),
        ]
    );

    // annotated a moment ago: the cache still has the old ServiceAccount, the fresh read wins
    let cluster = FakeCluster::new()
        .with_service_account(data("sa-workload.json"))
        .with_stale_cache(
            "default",
            "workload-sa",
            Some(data("sa-workload-no-client-id.json")),
        );
    let host = compiled()
        .with_cluster(cluster)
        .unwrap_or_else(|e| panic!("cannot instantiate: {e}"));
    let response = evaluate(&host, &request, &settings_with("reject"));
    assert_eq!(response.get("accepted"), Some(&json!(true)));
    assert_eq!(response.get("warnings"), Some(&Value::Null));
    assert_eq!(reads(&host).len(), 2);
}

#[test]
fn a_pod_created_just_after_its_service_account_is_mutated() {
    let cluster = FakeCluster::new()
        .with_service_account(data("sa-workload.json"))
        .with_stale_cache("default", "workload-sa", None);
    let host = compiled()
        .with_cluster(cluster)
        .unwrap_or_else(|e| panic!("cannot instantiate: {e}"));
    let response = evaluate(&host, &data("request-labelled-pod.json"), &settings());
    assert_eq!(
        response.get("mutated_object"),
        Some(&data("expected-labelled-pod.json"))
    );
}

#[test]
fn service_accounts_and_pods_get_their_warnings() {
    let host = host(&[data("sa-workload.json")]);
    let response = evaluate(
        &host,
        &data("request-serviceaccount-misspelt.json"),
        &settings(),
    );
    assert_eq!(
        warnings(&response),
        vec![
            "ServiceAccount default/workload-sa: annotation \"azure.workload.identity/client_id\" \
             is not read; rename it to azure.workload.identity/client-id"
                .to_string()
        ]
    );
    assert_eq!(host.host_calls().len(), 0);

    let response = evaluate(
        &host,
        &data("request-labelled-pod-skip-typo.json"),
        &settings(),
    );
    assert_eq!(
        warnings(&response),
        vec![
            "Pod default/workload-app: metadata.annotations[\"azure.workload.identity/skip-containers\"] \
             names container \"sidecar\", which the Pod does not have; check the spelling"
                .to_string()
        ]
    );
    assert!(response.get("mutated_object").is_some_and(Value::is_object));
}

/// The ClusterTrustBundle label selector is decoded as upstream decodes a LabelSelector: a wrongly
/// typed one is refused by `validate_settings` naming the field, and field names in another
/// case reach the Pod with their canonical names, never dropped.
#[test]
fn label_selector_is_decoded_like_a_label_selector() {
    let with_selector = |selector: Value| {
        let mut s = settings();
        if let Some(obj) = s.as_object_mut() {
            obj.insert(
                "customTokenEndpoint".to_string(),
                json!({"annotationSuffix": "binding", "audience": "api://binding",
                       "caClusterTrustBundleSignerName": "example.com/signer",
                       "caClusterTrustBundleLabelSelector": selector}),
            );
        }
        s
    };
    let response = compiled()
        .validate_settings(&with_selector(json!({"matchLabels": "app=x"})))
        .unwrap_or_else(|e| panic!("validate_settings: {e}"));
    assert_eq!(
        response,
        json!({"valid": false, "message": "customTokenEndpoint.caClusterTrustBundleLabelSelector\
            .matchLabels must be an object of label names to values, found a string, e.g. \
            {\"matchLabels\": {\"example.com/ca\": \"true\"}}"})
    );

    let host = host(&[data("sa-workload.json")]);
    let response = evaluate(
        &host,
        &web_pod_request(json!({"azure.workload.identity/use-binding": "true"})),
        &with_selector(json!({"MatchLabels": {"example.com/ca": "token"},
                              "matchExpressions": [{"Key": "tier", "Operator": "Exists"}]})),
    );
    assert_eq!(
        response["mutated_object"]["spec"]["volumes"][0]["projected"]["sources"][1],
        json!({"clusterTrustBundle": {
            "signerName": "example.com/signer",
            "labelSelector": {"matchLabels": {"example.com/ca": "token"},
                              "matchExpressions": [{"key": "tier", "operator": "Exists"}]},
            "path": "ca-cert/ca.crt",
            "optional": false,
        }})
    );
}

// ---------------------------------------------------------------------------------------------
// Verify mode

const VERIFY_WHO: &str = "Pod default/workload-app";
const VERIFY_VOLUME: &str = "azure-workload-identity-reserved-549d3c1935f5b955c7b85a81ea1a28";
const SKIP_FIX: &str = "list it in azure.workload.identity/skip-containers or recreate the Pod \
                        with the mutating policy deployed";

fn verify_settings(findings: &str) -> Value {
    let mut s = settings();
    if let Some(obj) = s.as_object_mut() {
        obj.insert("verify".to_string(), json!(true));
        obj.insert("findings".to_string(), json!(findings));
    }
    s
}

/// The response that accepts with these warnings (the findings are also the message).
fn accepted_with(warnings: &[String]) -> Value {
    json!({
        "accepted": true,
        "message": (!warnings.is_empty())
            .then(|| format!("azure-workload-identity: {}", warnings.join("; "))),
        "code": null,
        "mutated_object": null,
        "audit_annotations": null,
        "warnings": (!warnings.is_empty()).then_some(warnings),
    })
}

fn mutated_request(pod: Value) -> Value {
    with_object(&data("request-labelled-pod.json"), pod)
}

#[test]
fn verify_reports_each_difference_of_an_unmutated_pod() {
    let host = host(&[data("sa-workload.json")]);
    let response = evaluate(
        &host,
        &data("request-labelled-pod.json"),
        &verify_settings("warn"),
    );
    let mut expected = Vec::new();
    for c in ["init-config", "app", "log-shipper"] {
        expected.push(format!(
            "{VERIFY_WHO}: container \"{c}\" has none of the 4 env vars the policy injects; \
             {SKIP_FIX}"
        ));
        expected.push(format!(
            "{VERIFY_WHO}: container \"{c}\" does not mount the token volume at \
             /var/run/secrets/azure/wi; {SKIP_FIX}"
        ));
    }
    expected.push(format!(
        "{VERIFY_WHO}: spec.volumes has no token volume {VERIFY_VOLUME}; recreate the Pod with \
         the mutating policy deployed"
    ));
    assert_eq!(response, accepted_with(&expected));
    assert_eq!(
        lookups(&host),
        vec![("default".to_string(), "workload-sa".to_string())]
    );
}

#[test]
fn verify_accepts_what_the_mutation_produced_without_a_warning() {
    let host = host(&[data("sa-workload.json")]);
    let request = mutated_request(data("expected-labelled-pod.json"));
    assert_eq!(
        evaluate(&host, &request, &verify_settings("reject")),
        accepted_with(&[])
    );
    // The module's own mutation of a proxy Pod, verified by the same module.
    let mut proxy_pod = data("request-labelled-pod.json")["object"].clone();
    proxy_pod["metadata"]["annotations"]["azure.workload.identity/inject-proxy-sidecar"] =
        json!("true");
    host.clear_host_calls();
    let mutation = evaluate(&host, &mutated_request(proxy_pod), &settings());
    let produced = mutation["mutated_object"].clone();
    assert!(produced.is_object(), "{mutation}");
    host.clear_host_calls();
    assert_eq!(
        evaluate(
            &host,
            &mutated_request(produced),
            &verify_settings("reject")
        ),
        accepted_with(&[])
    );
}

#[test]
fn verify_names_a_sidecar_added_later_and_a_missing_proxy() {
    let host = host(&[data("sa-workload.json")]);
    let mut pod = data("expected-labelled-pod.json");
    if let Some(containers) = pod["spec"]["containers"].as_array_mut() {
        containers.push(json!({"name": "istio-proxy", "image": "istio/proxyv2:1.24.0"}));
    }
    pod["metadata"]["annotations"]["azure.workload.identity/inject-proxy-sidecar"] = json!("true");
    let response = evaluate(&host, &mutated_request(pod), &verify_settings("warn"));
    let proxy = |c: &str| {
        format!(
            "{VERIFY_WHO}: azure.workload.identity/inject-proxy-sidecar is set but \
             spec.initContainers has no {c}; recreate the Pod with the mutating policy deployed"
        )
    };
    assert_eq!(
        response,
        accepted_with(&[
            proxy("azwi-proxy"),
            proxy("azwi-proxy-init"),
            format!(
                "{VERIFY_WHO}: container \"istio-proxy\" has none of the 4 env vars the policy \
                 injects; {SKIP_FIX}"
            ),
            format!(
                "{VERIFY_WHO}: container \"istio-proxy\" does not mount the token volume at \
                 /var/run/secrets/azure/wi; {SKIP_FIX}"
            ),
        ])
    );
}

#[test]
fn verify_reports_a_token_volume_and_a_client_id_that_drifted() {
    let mut sa = data("sa-workload.json");
    let new_id = "9e8d7c6b-5a49-4838-a726-15f4e3d2c1b0";
    sa["metadata"]["annotations"]["azure.workload.identity/client-id"] = json!(new_id);
    let host = host(&[sa]);
    let mut pod = data("expected-labelled-pod.json");
    pod["spec"]["volumes"][2]["projected"]["sources"][0]["serviceAccountToken"]["audience"] =
        json!("api://other");
    let response = evaluate(&host, &mutated_request(pod), &verify_settings("warn"));
    let mut expected = vec![format!(
        "{VERIFY_WHO}: token volume {VERIFY_VOLUME} has audience \"api://other\", not \
         \"api://AzureADTokenExchange\"; restart the Pod (or roll out its workload)"
    )];
    for c in ["init-config", "app", "log-shipper"] {
        expected.push(format!(
            "{VERIFY_WHO}: container \"{c}\" has AZURE_CLIENT_ID \
             \"5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f\", not the ServiceAccount's \"{new_id}\"; \
             restart the Pod (or roll out its workload) to pick up the new client-id"
        ));
    }
    assert_eq!(response, accepted_with(&expected));
}

#[test]
fn verify_with_findings_reject_reads_a_missing_service_account_again_before_rejecting() {
    let host = host(&[]);
    let response = host
        .validate(
            &mutated_request(data("expected-labelled-pod.json")),
            &verify_settings("reject"),
        )
        .unwrap_or_else(|e| panic!("validate returned an error: {e}"));
    assert_eq!(host.violations(), Vec::<String>::new());
    assert_eq!(
        response,
        json!({
            "accepted": false,
            "message": format!(
                "azure-workload-identity: {VERIFY_WHO}: ServiceAccount default/workload-sa does \
                 not exist; create it with the annotation azure.workload.identity/client-id"
            ),
            "code": null,
            "mutated_object": null,
            "audit_annotations": null,
            "warnings": null,
        })
    );
    let caches: Vec<Value> = host
        .host_calls()
        .iter()
        .map(|c| c.payload["disable_cache"].clone())
        .collect();
    assert_eq!(caches, vec![json!(false), json!(true)]);
}
