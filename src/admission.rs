//! Parsing the waPC payload and the guard that routes a request to its role, or to nothing.
//!
//! The payload is `{"request": AdmissionRequest, "settings": …}`. Only the fields the guard
//! needs are decoded; the settings and the object stay raw JSON text until the guard has
//! selected the request, so a request the policy does not handle costs one scan of the payload
//! and one of the object, and no host call.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::names::{PREFIX, USE_LABEL};
use crate::near_miss::near_miss;
use crate::peek;

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

/// The role a request is routed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// A labelled Pod `CREATE`: mutated, or verified.
    Pod,
    /// A workload `CREATE` or `UPDATE` whose Pod template is at this path (with a trailing dot)
    /// and that carries the opt-in label somewhere.
    Workload(&'static Workload),
    /// A ServiceAccount `CREATE` or `UPDATE` that carries Azure Workload Identity annotations or
    /// the old label.
    ServiceAccount,
    /// Not ours: accepted without a look.
    Ignore,
}

/// A kind of workload, and where its Pod template is.
#[derive(Debug, PartialEq, Eq)]
pub struct Workload {
    pub group: &'static str,
    pub kind: &'static str,
    pub template: &'static str,
}

/// The workloads the checks look at.
pub const WORKLOADS: &[Workload] = &[
    workload("apps", "Deployment", "spec.template."),
    workload("apps", "StatefulSet", "spec.template."),
    workload("apps", "DaemonSet", "spec.template."),
    workload("apps", "ReplicaSet", "spec.template."),
    workload("", "ReplicationController", "spec.template."),
    workload("batch", "Job", "spec.template."),
    workload("batch", "CronJob", "spec.jobTemplate.spec.template."),
];

impl Workload {
    /// The keys from the top of the object down to its Pod template.
    pub fn template_keys(&self) -> impl Iterator<Item = &'static str> {
        self.template.split_terminator('.')
    }
}

const fn workload(group: &'static str, kind: &'static str, template: &'static str) -> Workload {
    Workload {
        group,
        kind,
        template,
    }
}

/// ServiceAccount annotations the policy reads; a key that looks like one of them makes a
/// ServiceAccount worth checking.
pub const SERVICE_ACCOUNT_ANNOTATIONS: &[&str] = &[
    crate::names::CLIENT_ID_ANNOTATION,
    crate::names::TENANT_ID_ANNOTATION,
    crate::names::TOKEN_EXPIRATION_ANNOTATION,
];

pub fn route(request: &Request) -> Route {
    let gvk = &request.kind;
    let (Some(object), "v1") = (request.object, gvk.version.as_str()) else {
        return Route::Ignore;
    };
    match (
        request.operation.as_str(),
        gvk.group.as_str(),
        gvk.kind.as_str(),
    ) {
        ("CREATE", "", "Pod") if selects(request) => Route::Pod,
        ("CREATE" | "UPDATE", "", "ServiceAccount") if service_account_marked(object) => {
            Route::ServiceAccount
        }
        ("CREATE" | "UPDATE", group, kind) => WORKLOADS
            .iter()
            .find(|w| w.group == group && w.kind == kind)
            .filter(|w| workload_marked(object, w))
            .map_or(Route::Ignore, Route::Workload),
        _ => Route::Ignore,
    }
}

pub fn parse(payload: &[u8]) -> Result<Payload<'_>, String> {
    serde_json::from_slice(payload).map_err(|e| e.to_string())
}

/// Whether the policy handles this request: a core/v1 Pod CREATE whose label
/// `azure.workload.identity/use` is exactly the string `"true"` (docs/behaviour.md §1.1; the
/// policy re-checks what the webhook's objectSelector is meant to guarantee). Anything that
/// cannot be read as such a Pod is not selected.
pub fn selects(request: &Request) -> bool {
    let gvk = &request.kind;
    if request.operation != "CREATE"
        || gvk.kind != "Pod"
        || !gvk.group.is_empty()
        || gvk.version != "v1"
    {
        return false;
    }
    request.object.is_some_and(|object| {
        may_hold_use_label(object) && use_label_is_true(object, &["metadata", "labels"])
    })
}

/// Whether the object's JSON text can hold a string equal to the opt-in label key: the key
/// written out, or an escape that could spell one of its characters (`\/`, `\u`; the key has no
/// other character JSON escapes). When it cannot, no key is the label and the object is not
/// marked, which one pass over the text tells without parsing it: most Pods and workloads the
/// policy sees carry no marker.
fn may_hold_use_label(object: &RawValue) -> bool {
    let text = object.get();
    text.contains(USE_LABEL)
        || text
            .split('\\')
            .skip(1)
            .any(|escaped| escaped.starts_with(['/', 'u']))
}

/// Whether the map at `path` of `object` has the opt-in label, exactly `"true"`.
fn use_label_is_true(object: &RawValue, path: &[&str]) -> bool {
    peek::path(object, path)
        .and_then(|map| peek::field(map, USE_LABEL))
        .and_then(peek::string)
        .is_some_and(|value| value == "true")
}

/// The opt-in label on the workload, on its template, or as a template annotation.
fn workload_marked(object: &RawValue, workload: &Workload) -> bool {
    if !may_hold_use_label(object) {
        return false;
    }
    // A ReplicaSet of a Deployment, a Job of a CronJob: checked at its owner, and never
    // blocked when its controller updates it.
    let owned = peek::path(object, &["metadata", "ownerReferences"])
        .map(peek::items)
        .unwrap_or_default()
        .into_iter()
        .any(|owner| peek::field(owner, "controller").is_some_and(|c| c.get() == "true"));
    let template: Vec<&str> = workload.template_keys().collect();
    let at_template = |what: &'static str| [template.as_slice(), &["metadata", what]].concat();
    !owned
        && (use_label_is_true(object, &["metadata", "labels"])
            || use_label_is_true(object, &at_template("labels"))
            || use_label_is_true(object, &at_template("annotations")))
}

/// Annotation keys that look like the policy's, or the old opt-in label.
fn service_account_marked(object: &RawValue) -> bool {
    let ours = |key: &str| {
        key.get(..PREFIX.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(PREFIX))
            || near_miss(key, SERVICE_ACCOUNT_ANNOTATIONS).is_some()
    };
    let metadata = peek::field(object, "metadata");
    metadata
        .and_then(|m| peek::field(m, "labels"))
        .is_some_and(|labels| peek::any_key(labels, &|k| k == USE_LABEL))
        || metadata
            .and_then(|m| peek::field(m, "annotations"))
            .is_some_and(|annotations| peek::any_key(annotations, &ours))
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
    fn escaped_label_key_is_the_same_key() {
        let pod = |key: &str| {
            format!(
                r#"{{"request":{{"operation":"CREATE","kind":{{"group":"","version":"v1","kind":"Pod"}},"object":{{"metadata":{{"labels":{{"{key}":"true"}}}}}}}}}}"#
            )
        };
        for key in [
            r"azure.workload.identity\/use",
            r"\u0061zure.workload.identity/use",
            r"azure.workload.identity\u002fuse",
        ] {
            let payload = pod(key);
            assert!(
                parse(payload.as_bytes()).is_ok_and(|p| selects(&p.request)),
                "{key}"
            );
        }
        for key in [
            r"azure.workload.identity/us",
            r"azure.workload.identity\\/use",
        ] {
            let payload = pod(key);
            assert!(
                parse(payload.as_bytes()).is_ok_and(|p| !selects(&p.request)),
                "{key}"
            );
        }
        let deployment = |key: &str| {
            format!(
                r#"{{"request":{{"operation":"CREATE","kind":{{"group":"apps","version":"v1","kind":"Deployment"}},"object":{{"spec":{{"template":{{"metadata":{{"labels":{{"{key}":"true"}}}}}}}}}}}}}}"#
            )
        };
        for key in [
            "azure.workload.identity/use",
            r"azure.workload.identity\/use",
            r"\u0061zure.workload.identity/use",
        ] {
            let payload = deployment(key);
            assert!(
                parse(payload.as_bytes())
                    .is_ok_and(|p| matches!(route(&p.request), Route::Workload(_))),
                "{key}"
            );
        }
        let payload = deployment("azure.workload.identity/usE");
        assert!(parse(payload.as_bytes()).is_ok_and(|p| route(&p.request) == Route::Ignore));
    }

    #[test]
    fn escaped_label_value_is_the_same_string() {
        let payload = br#"{"request":{"operation":"CREATE","kind":{"group":"","version":"v1","kind":"Pod"},"object":{"metadata":{"labels":{"azure.workload.identity/use":"\u0074rue"}}}}}"#;
        assert!(parse(payload).is_ok_and(|p| selects(&p.request)));
    }
}
