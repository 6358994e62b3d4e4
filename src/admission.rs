//! Parsing the waPC payload and the guard that decides whether a request is ours.
//!
//! The payload is `{"request": AdmissionRequest, "settings": …}`. Only the fields the guard
//! needs are decoded; the settings and the Pod stay raw JSON text until the guard has selected
//! the request, so a request the policy does not handle costs one scan of the payload.

use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
pub struct Payload<'a> {
    #[serde(borrow)]
    pub request: Request<'a>,
    #[serde(borrow, default)]
    pub settings: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Request<'a> {
    pub operation: String,
    pub kind: GroupVersionKind,
    pub namespace: String,
    #[serde(borrow)]
    pub object: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct GroupVersionKind {
    pub group: String,
    pub version: String,
    pub kind: String,
}

/// Just enough of a Pod to read the selection label; everything else is skipped unparsed.
#[derive(Deserialize)]
struct LabelPeek {
    metadata: Option<MetadataPeek>,
}

#[derive(Deserialize)]
struct MetadataPeek {
    labels: Option<LabelsPeek>,
}

#[derive(Deserialize)]
struct LabelsPeek {
    // names::USE_LABEL (serde needs the literal)
    #[serde(rename = "azure.workload.identity/use")]
    use_label: Option<serde_json::Value>,
}

pub fn parse(payload: &[u8]) -> Result<Payload<'_>, String> {
    serde_json::from_slice(payload).map_err(|e| e.to_string())
}

/// Whether the policy handles this request: a core/v1 Pod CREATE whose label
/// `azure.workload.identity/use` is exactly the string `"true"` (spec §1.1; the policy re-checks
/// what the webhook's objectSelector is meant to guarantee). Anything that cannot be read as
/// such a Pod is not selected.
pub fn selects(request: &Request) -> bool {
    let gvk = &request.kind;
    if request.operation != "CREATE"
        || gvk.kind != "Pod"
        || !gvk.group.is_empty()
        || gvk.version != "v1"
    {
        return false;
    }
    let Some(object) = request.object else {
        return false;
    };
    match serde_json::from_str::<LabelPeek>(object.get()) {
        Ok(LabelPeek {
            metadata:
                Some(MetadataPeek {
                    labels:
                        Some(LabelsPeek {
                            use_label: Some(serde_json::Value::String(value)),
                        }),
                }),
        }) => value == "true",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(operation: &str, kind: serde_json::Value, object: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "request": {"operation": operation, "kind": kind, "namespace": "ns", "object": object},
            "settings": {}
        }))
        .unwrap_or_default()
    }

    fn pod_kind() -> serde_json::Value {
        json!({"group": "", "version": "v1", "kind": "Pod"})
    }

    fn labelled(value: serde_json::Value) -> serde_json::Value {
        json!({"metadata": {"name": "p", "labels": {"app": "x", crate::names::USE_LABEL: value}}, "spec": {}})
    }

    #[test]
    fn selects_only_labelled_pod_creates() {
        let cases = [
            (
                "labelled pod create",
                request("CREATE", pod_kind(), labelled(json!("true"))),
                true,
            ),
            (
                "value True",
                request("CREATE", pod_kind(), labelled(json!("True"))),
                false,
            ),
            (
                "value 1",
                request("CREATE", pod_kind(), labelled(json!("1"))),
                false,
            ),
            (
                "value true with spaces",
                request("CREATE", pod_kind(), labelled(json!(" true"))),
                false,
            ),
            (
                "boolean true",
                request("CREATE", pod_kind(), labelled(json!(true))),
                false,
            ),
            (
                "null value",
                request("CREATE", pod_kind(), labelled(json!(null))),
                false,
            ),
            (
                "update",
                request("UPDATE", pod_kind(), labelled(json!("true"))),
                false,
            ),
            (
                "delete",
                request("DELETE", pod_kind(), labelled(json!("true"))),
                false,
            ),
            (
                "connect",
                request("CONNECT", pod_kind(), labelled(json!("true"))),
                false,
            ),
            (
                "deployment",
                request(
                    "CREATE",
                    json!({"group": "apps", "version": "v1", "kind": "Deployment"}),
                    labelled(json!("true")),
                ),
                false,
            ),
            (
                "pod kind of another group",
                request(
                    "CREATE",
                    json!({"group": "example.com", "version": "v1", "kind": "Pod"}),
                    labelled(json!("true")),
                ),
                false,
            ),
            (
                "no labels",
                request(
                    "CREATE",
                    pod_kind(),
                    json!({"metadata": {"name": "p"}, "spec": {}}),
                ),
                false,
            ),
            (
                "labels null",
                request("CREATE", pod_kind(), json!({"metadata": {"labels": null}})),
                false,
            ),
            (
                "labels not an object",
                request(
                    "CREATE",
                    pod_kind(),
                    json!({"metadata": {"labels": ["azure.workload.identity/use"]}}),
                ),
                false,
            ),
            (
                "metadata not an object",
                request("CREATE", pod_kind(), json!({"metadata": "x"})),
                false,
            ),
            (
                "annotation instead of label",
                request(
                    "CREATE",
                    pod_kind(),
                    json!({"metadata": {"annotations": {"azure.workload.identity/use": "true"}}}),
                ),
                false,
            ),
            (
                "object null",
                request("CREATE", pod_kind(), json!(null)),
                false,
            ),
            (
                "object a string",
                request("CREATE", pod_kind(), json!("pod")),
                false,
            ),
        ];
        for (name, payload, expected) in cases {
            let parsed = parse(&payload);
            assert!(
                parsed.is_ok(),
                "{name}: {parsed:?}",
                parsed = parsed.as_ref().err()
            );
            if let Ok(p) = parsed {
                assert_eq!(selects(&p.request), expected, "{name}");
            }
        }
    }

    #[test]
    fn escaped_label_value_is_the_same_string() {
        let payload = br#"{"request":{"operation":"CREATE","kind":{"group":"","version":"v1","kind":"Pod"},"object":{"metadata":{"labels":{"azure.workload.identity/use":"\u0074rue"}}}}}"#;
        assert!(parse(payload).is_ok_and(|p| selects(&p.request)));
    }
}
