//! Parity with upstream's start-up parsing and request edges: the label selector decoded as Go's
//! `json.Unmarshal` decodes a `LabelSelector`, empty values meaning "the default", the CA-source
//! rules checked whether or not the feature is on, Go's Unicode case rules, the request's
//! namespace, and empty `skip-containers` items.

use std::cell::RefCell;

use azure_workload_identity_policy::{Decision, Rejection, check_settings, evaluate};
use azure_workload_identity_policy::{ServiceAccount, ServiceAccountSource};
use serde_json::{Value, json};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SELECTOR: &str = "customTokenEndpoint.caClusterTrustBundleLabelSelector";

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

/// The decision on `pod` in the request namespace `namespace`, and the lookups it made.
fn run_in(namespace: &str, pod: &Value, settings: &Value) -> (Decision, Vec<(String, String)>) {
    let payload = json!({
        "request": {
            "uid": "u", "operation": "CREATE", "namespace": namespace,
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
    (decision, cluster.calls.take())
}

/// The mutated Pod, or a description of the other decision (so a mismatch shows why).
fn mutated(pod: &Value, settings: &Value) -> Value {
    match run_in("ns", pod, settings).0 {
        Decision::Mutate(pod) => pod,
        other => json!(format!("not mutated: {other:?}")),
    }
}

fn settings(extra: Value) -> Value {
    let mut s = json!({"defaultTenantId": TENANT});
    if let (Some(obj), Value::Object(more)) = (s.as_object_mut(), extra) {
        obj.extend(more);
    }
    s
}

fn pod(annotations: Value, containers: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "pod",
            "labels": {"azure.workload.identity/use": "true"},
            "annotations": annotations,
        },
        "spec": {"containers": containers},
    })
}

fn app_pod(annotations: Value) -> Value {
    pod(annotations, json!([{"name": "app", "image": "app"}]))
}

/// Settings with the custom token endpoint on and the CA from a ClusterTrustBundle `selector`.
fn bundle_settings(selector: Value) -> Value {
    settings(json!({"customTokenEndpoint": {
        "annotationSuffix": "binding", "audience": "api://binding",
        "caClusterTrustBundleSignerName": "example.com/signer",
        "caClusterTrustBundleLabelSelector": selector,
    }}))
}

fn check(settings: &Value) -> Result<(), String> {
    check_settings(&settings.to_string()).map(|_| ())
}

// 1. The label selector is decoded as a LabelSelector, whether or not the feature is on.

#[test]
fn wrongly_typed_label_selector_is_rejected_naming_the_field() {
    let cases = [
        (
            json!({"matchLabels": "app=x"}),
            format!(
                "{SELECTOR}.matchLabels must be an object of label names to values, found a \
                 string, e.g. {{\"matchLabels\": {{\"example.com/ca\": \"true\"}}}}"
            ),
        ),
        (
            json!({"matchLabels": {"app": 5}}),
            format!("{SELECTOR}.matchLabels.app must be a string, found a number"),
        ),
        (
            json!({"matchExpressions": {"key": "app", "operator": "Exists"}}),
            format!(
                "{SELECTOR}.matchExpressions must be a list of requirements, found an object, \
                 e.g. [{{\"key\": \"example.com/ca\", \"operator\": \"In\", \"values\": [\"true\"]}}]"
            ),
        ),
        (
            json!({"matchExpressions": ["app"]}),
            format!(
                "{SELECTOR}.matchExpressions[0] must be an object with key, operator and values, \
                 found a string"
            ),
        ),
        (
            json!({"matchExpressions": [{"key": "app", "operator": "In"}]}),
            format!(
                "{SELECTOR}.matchExpressions[0].values must list at least one value when the \
                 operator is In or NotIn"
            ),
        ),
        (
            json!({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": []}]}),
            format!(
                "{SELECTOR}.matchExpressions[0].values must list at least one value when the \
                 operator is In or NotIn"
            ),
        ),
        (
            json!({"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["x"]}]}),
            format!(
                "{SELECTOR}.matchExpressions[0].values must be empty when the operator is Exists \
                 or DoesNotExist"
            ),
        ),
        (
            json!({"matchExpressions": [{"key": "app", "operator": "in", "values": ["x"]}]}),
            format!(
                "{SELECTOR}.matchExpressions[0].operator \"in\" is not a selector operator: use \
                 In, NotIn, Exists or DoesNotExist"
            ),
        ),
        (
            json!({"matchExpressions": [{"operator": "Exists"}]}),
            format!(
                "{SELECTOR}.matchExpressions[0].key is required: set the name of the label to test"
            ),
        ),
        (
            json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["x", 1]}]}),
            format!("{SELECTOR}.matchExpressions[0].values[1] must be a string, found a number"),
        ),
        (
            json!({"matchExpressions": [{"key": 1, "operator": "Exists"}]}),
            format!("{SELECTOR}.matchExpressions[0].key must be a string, found a number"),
        ),
    ];
    for (selector, message) in cases {
        assert_eq!(
            check(&bundle_settings(selector.clone())),
            Err(message.clone()),
            "{selector}"
        );
        // The same decode runs with the feature off, as upstream decodes it at start-up.
        let off = settings(json!({"customTokenEndpoint": {
            "caClusterTrustBundleSignerName": "example.com/signer",
            "caClusterTrustBundleLabelSelector": selector,
        }}));
        assert_eq!(check(&off), Err(message), "off: {selector}");
    }
}

// 2. Field names match ignoring case as Go's decoder matches them; unknown ones are refused.

#[test]
fn label_selector_field_names_are_normalised_and_unknown_ones_refused() {
    let annotated = app_pod(json!({"azure.workload.identity/use-binding": "true"}));
    let selector = json!({
        "MatchLabels": {"example.com/ca": "token"},
        "MATCHEXPRESSIONS": [{"Key": "tier", "OPERATOR": "In", "Values": ["a", "b"]},
                             {"key": "legacy", "operator": "DoesNotExist"}],
    });
    assert_eq!(
        mutated(&annotated, &bundle_settings(selector))["spec"]["volumes"][0]["projected"]["sources"]
            [1],
        json!({"clusterTrustBundle": {
            "signerName": "example.com/signer",
            "labelSelector": {
                "matchLabels": {"example.com/ca": "token"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]},
                                     {"key": "legacy", "operator": "DoesNotExist"}],
            },
            "path": "ca-cert/ca.crt",
            "optional": false,
        }})
    );
    let cases = [
        (
            json!({"matchLabel": {"example.com/ca": "token"}}),
            format!(
                "{SELECTOR} has the unknown field \"matchLabel\": a LabelSelector has only \
                 matchLabels and matchExpressions (upstream would drop the field, and the selector \
                 would then select more ClusterTrustBundles than written)"
            ),
        ),
        (
            json!({"matchExpressions": [{"key": "tier", "operator": "In", "value": ["a"]}]}),
            format!(
                "{SELECTOR}.matchExpressions[0] has the unknown field \"value\": a requirement has \
                 only key, operator and values (upstream would drop the field, and the selector \
                 would then select more ClusterTrustBundles than written)"
            ),
        ),
        (
            json!({"matchLabels": {"a": "b"}, "MatchLabels": {"c": "d"}}),
            format!(
                "{SELECTOR} sets matchLabels twice, as \"MatchLabels\" and \"matchLabels\" (field \
                 names are compared ignoring case): keep one"
            ),
        ),
    ];
    for (selector, message) in cases {
        assert_eq!(
            check(&bundle_settings(selector.clone())),
            Err(message),
            "{selector}"
        );
    }
}

// 3. Empty strings mean the default, as upstream reads them.

#[test]
fn empty_values_select_the_defaults_as_upstream() {
    let empty = settings(json!({
        "azureEnvironment": "", "audience": "", "proxyImage": "", "proxyInitImage": "",
        "proxyLogLevel": "",
    }));
    let pod = mutated(
        &app_pod(json!({"azure.workload.identity/inject-proxy-sidecar": "true"})),
        &empty,
    );
    let spec = &pod["spec"];
    assert_eq!(
        spec["containers"][0]["env"][3],
        json!({"name": "AZURE_AUTHORITY_HOST", "value": "https://login.microsoftonline.com/"})
    );
    assert_eq!(
        spec["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["audience"],
        json!("api://AzureADTokenExchange")
    );
    assert_eq!(
        spec["initContainers"][0]["image"],
        json!("mcr.microsoft.com/oss/azure/workload-identity/proxy:v1.6.0")
    );
    assert_eq!(
        spec["initContainers"][1]["image"],
        json!("mcr.microsoft.com/oss/azure/workload-identity/proxy-init:v1.6.0")
    );
    // An empty --log-level runs upstream's webhook, and so its proxy, at "warning".
    assert_eq!(
        spec["initContainers"][0]["args"],
        json!(["--proxy-port=8000", "--log-level=warning"])
    );
    // An empty cloud name beside authorityHost: authorityHost, as without a cloud name.
    assert_eq!(
        mutated(
            &app_pod(json!({})),
            &settings(json!({"azureEnvironment": "", "authorityHost": "https://adfs.local/"}))
        )["spec"]["containers"][0]["env"][3],
        json!({"name": "AZURE_AUTHORITY_HOST", "value": "https://adfs.local/"})
    );
}

// 4. The CA-source rules hold whether or not the custom token endpoint is on.

#[test]
fn ca_source_rules_apply_with_the_feature_off() {
    let exclusive = "customTokenEndpoint: set at most one of caData, caConfigMapName and \
                     caClusterTrustBundleSignerName; they are alternative ways to deliver the \
                     same CA";
    let needs_signer = "customTokenEndpoint.caClusterTrustBundleLabelSelector needs \
                        customTokenEndpoint.caClusterTrustBundleSignerName: set the signer of \
                        the ClusterTrustBundles to select";
    let cases = [
        (json!({"caData": "pem", "caConfigMapName": "cm"}), exclusive),
        (
            json!({"caConfigMapName": "cm", "caClusterTrustBundleSignerName": "example.com/s"}),
            exclusive,
        ),
        (
            json!({"caClusterTrustBundleLabelSelector": {"matchLabels": {"a": "b"}}}),
            needs_signer,
        ),
        (
            json!({"caClusterTrustBundleLabelSelector": {}}),
            needs_signer,
        ),
    ];
    for (cte, message) in cases {
        assert_eq!(
            check(&settings(json!({"customTokenEndpoint": cte}))),
            Err(message.to_string()),
            "{cte}"
        );
    }
}

// 5. Go's Unicode case rules.

#[test]
fn case_insensitive_comparisons_follow_go() {
    // U+212A KELVIN SIGN equal-folds to 'k': the audience is the default one.
    assert_eq!(
        check(&settings(json!({"customTokenEndpoint": {
            "annotationSuffix": "binding", "audience": "API://azureadto\u{212A}enexchange",
        }}))),
        Err(
            "customTokenEndpoint.audience must differ from \"api://AzureADTokenExchange\" \
             (compared ignoring case): set the audience your token endpoint expects"
                .to_string()
        )
    );
    // Lower-cased, the Kelvin sign is 'k', so the annotation key is valid; the Pod carries the
    // key as written.
    let kelvin = settings(json!({"customTokenEndpoint": {
        "annotationSuffix": "\u{212A}ey", "audience": "api://binding",
    }}));
    assert_eq!(
        mutated(
            &app_pod(json!({"azure.workload.identity/use-\u{212A}ey": "TRUE"})),
            &kelvin
        )["spec"]["volumes"][0]["projected"]["sources"][0]["serviceAccountToken"]["audience"],
        json!("api://binding")
    );
    // U+017F LATIN SMALL LETTER LONG S upper-cases to 'S': the US Government cloud.
    assert_eq!(
        mutated(
            &app_pod(json!({})),
            &settings(json!({"azureEnvironment": "AzureU\u{017F}Government"}))
        )["spec"]["containers"][0]["env"][3],
        json!({"name": "AZURE_AUTHORITY_HOST", "value": "https://login.microsoftonline.us/"})
    );
}

// 6. The request's namespace is the one the API server authorised.

#[test]
fn empty_request_namespace_is_rejected_even_when_the_pod_names_one() {
    let mut pod = app_pod(json!({}));
    pod["metadata"]["namespace"] = json!("ns");
    let (decision, lookups) = run_in("", &pod, &settings(json!({})));
    assert_eq!(
        decision,
        Decision::Reject(Rejection(
            "azure-workload-identity: the admission request for Pod \"pod\" has no namespace, so \
             its ServiceAccount cannot be looked up; create the Pod in a namespace"
                .to_string()
        ))
    );
    assert_eq!(lookups, Vec::<(String, String)>::new());
    // With a namespace the ServiceAccount is looked up there, whatever the Pod says.
    let (_, lookups) = run_in("team-a", &pod, &settings(json!({})));
    assert_eq!(lookups, [("team-a".to_string(), "default".to_string())]);
}

// 7. An empty skip-containers item is kept.

#[test]
fn empty_skip_containers_item_skips_a_container_named_empty() {
    let containers = json!([
        {"name": "", "image": "x"},
        {"name": "app", "image": "app"},
        {"name": "sidecar", "image": "s"},
    ]);
    let names_with_env = |annotation: &str| -> Vec<String> {
        let pod = pod(
            json!({"azure.workload.identity/skip-containers": annotation}),
            containers.clone(),
        );
        mutated(&pod, &settings(json!({})))["spec"]["containers"]
            .as_array()
            .map(|list| {
                list.iter()
                    .filter(|c| c.get("env").is_some())
                    .filter_map(|c| c["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(names_with_env("sidecar;"), ["app"]);
    assert_eq!(names_with_env(" ; app"), ["sidecar"]);
    // No item at all: nothing is skipped.
    assert_eq!(names_with_env(""), ["", "app", "sidecar"]);
    assert_eq!(names_with_env("sidecar"), ["", "app"]);
}
