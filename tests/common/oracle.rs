//! The oracle of the reliability tests, shared by the property tests
//! (`tests/integration/properties/`), the hostile inputs and regressions
//! (`tests/integration/hostile/`, `tests/integration/regressions.rs`) and the fuzz targets in
//! `fuzz/`, which include this file by path together with `tests/common/harness.rs` (so this file
//! uses nothing of `tests/common/` but `super::harness`).
//!
//! Three parts, each independent of the policy's own code (only `evaluate`, `Decision` and the
//! `ServiceAccountSource` trait are used):
//!
//! - [`diff`]: the lossless check. It compares the input Pod with the Pod the policy returns and
//!   fails on any change docs/behaviour.md §4 does not define. Allowed: `azwi-proxy`
//!   prepended and `azwi-proxy-init` appended to a container list, `AZURE_*` env entries
//!   appended, one token mount appended or a reserved-prefix mount replaced in place, one token
//!   volume appended or a reserved-prefix volume replaced in place, and a `null` list becoming a
//!   list. Everything else, at any depth, must be equal.
//! - [`check_generic`]: properties that hold for any payload, even bytes that are not JSON: no
//!   panic, one of accept/mutate/reject, deterministic, at most one lookup, a rejection message
//!   that says it comes from this policy, unselected ⇒ accept without a lookup, and a mutation
//!   that is lossless and idempotent.
//! - [`model`]: the expected outcome of a well-typed case, written from the tables of
//!   docs/behaviour.md (§1–§6): which rejection, or the exact mutated Pod. [`check_case`]
//!   compares the policy's decision with it.
#![allow(dead_code)]

use azure_workload_identity_policy::Rejection;
use azure_workload_identity_policy::ServiceAccount;
use azure_workload_identity_policy::{Decision, evaluate};
use serde_json::{Map, Value, json};

pub const USE_LABEL: &str = "azure.workload.identity/use";
pub const CLIENT_ID_KEY: &str = "azure.workload.identity/client-id";
pub const TENANT_ID_KEY: &str = "azure.workload.identity/tenant-id";
pub const EXPIRATION_KEY: &str = "azure.workload.identity/service-account-token-expiration";
pub const SKIP_KEY: &str = "azure.workload.identity/skip-containers";
pub const INJECT_PROXY_KEY: &str = "azure.workload.identity/inject-proxy-sidecar";
pub const PROXY_PORT_KEY: &str = "azure.workload.identity/proxy-sidecar-port";
pub const RESERVED_PREFIX: &str = "azure-workload-identity-reserved-";
pub const MOUNT_PATH: &str = "/var/run/secrets/azure/wi";
pub const TOKEN_PATH: &str = "token/azure-identity-token";
pub const LEGACY_NAME: &str = "azure-identity-token";
pub const LEGACY_MOUNT_PATH: &str = "/var/run/secrets/azure/tokens";
pub const PROXY: &str = "azwi-proxy";
pub const PROXY_INIT: &str = "azwi-proxy-init";
pub const DEFAULT_AUDIENCE: &str = "api://AzureADTokenExchange";
pub const PUBLIC_AUTHORITY: &str = "https://login.microsoftonline.com/";
pub const DEFAULT_PROXY_IMAGE: &str = "mcr.microsoft.com/oss/azure/workload-identity/proxy:v1.6.0";
pub const DEFAULT_PROXY_INIT_IMAGE: &str =
    "mcr.microsoft.com/oss/azure/workload-identity/proxy-init:v1.6.0";
/// Every rejection of the policy starts with this.
pub const MESSAGE_PREFIX: &str = "azure-workload-identity: ";
/// The part of the rejection for a payload that is not a readable AdmissionRequest.
pub const UNREADABLE: &str = "azure-workload-identity: the admission request could not be read (";

/// Volume names of docs/behaviour.md §4.5 for the hash inputs the generators use, computed
/// independently with `printf %s INPUT | sha256sum | cut -c1-30`.
pub const KNOWN_VOLUME_NAMES: &[(&str, &str)] = &[
    (
        "web",
        "azure-workload-identity-reserved-4b5e57f6eb2f42b9039b3d1e139292",
    ),
    (
        "pod",
        "azure-workload-identity-reserved-425c89ed5bb78a7623fae60fd8a6f6",
    ),
    (
        "web-7d4b9c5f6- (prefix)",
        "azure-workload-identity-reserved-7a75b2d9436388dbbb56003231b852",
    ),
    (
        " (prefix)",
        "azure-workload-identity-reserved-7ae265465cf68a19ccd3c91d70dc31",
    ),
    (
        "workload-app",
        "azure-workload-identity-reserved-549d3c1935f5b955c7b85a81ea1a28",
    ),
    (
        "workload-app- (prefix)",
        "azure-workload-identity-reserved-726d01eadb43268d4ff9b363091e68",
    ),
];

// The fake cluster, the payload and the description of decisions (`tests/common/harness.rs`,
// which the fuzz targets include beside this file).
pub use super::harness::{FakeCluster, describe, first_difference, payload, service_account};

// ---------------------------------------------------------------------------------------------
// The lossless check
// ---------------------------------------------------------------------------------------------

/// What the policy changed, as found by [`diff`].
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Changes {
    /// Proxy containers inserted: (list, name).
    pub inserted_containers: Vec<(String, String)>,
    /// Env entries appended: (list, index in the input list, entry).
    pub env_appended: Vec<(String, usize, Value)>,
    /// Mounts appended: (list, index in the input list, mount).
    pub mounts_appended: Vec<(String, usize, Value)>,
    /// Mounts replaced in place: (list, index in the input list, old, new).
    pub mounts_replaced: Vec<(String, usize, Value, Value)>,
    pub volumes_appended: Vec<Value>,
    /// Volumes replaced in place: (old, new).
    pub volumes_replaced: Vec<(Value, Value)>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }
}

fn name_of(v: &Value) -> Option<&str> {
    v.get("name").and_then(Value::as_str)
}

/// A list field: absent or null is empty; `None` for anything that is not a list.
fn list_of<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a [Value]> {
    match obj.get(key) {
        None | Some(Value::Null) => Some(&[]),
        Some(Value::Array(a)) => Some(a),
        Some(_) => None,
    }
}

/// Compares every key of `input` with `output`: equal, except the keys in `editable`, which
/// `check` compares. Keys may be added only if they are in `editable`.
fn compare_object(
    input: &Map<String, Value>,
    output: &Map<String, Value>,
    editable: &[&str],
    at: &str,
    check: &mut dyn FnMut(&str) -> Result<(), String>,
) -> Result<(), String> {
    for (key, value) in input {
        if editable.contains(&key.as_str()) {
            continue;
        }
        match output.get(key) {
            None => return Err(format!("{at}/{key} was removed")),
            Some(out) if out != value => {
                return Err(format!("{at}/{key} was changed from {value} to {out}"));
            }
            Some(_) => {}
        }
    }
    for key in output.keys() {
        if !input.contains_key(key) && !editable.contains(&key.as_str()) {
            return Err(format!("{at}/{key} was added"));
        }
    }
    for key in editable {
        let (i, o) = (input.get(*key), output.get(*key));
        if i == o {
            continue;
        }
        match (i, o) {
            (Some(_), None) => return Err(format!("{at}/{key} was removed")),
            // a list the policy edits: only null/absent may turn into a list
            (Some(i), Some(_)) if !(i.is_array() || i.is_null()) => {
                return Err(format!("{at}/{key} was changed from {i} (not a list)"));
            }
            (None, Some(o)) | (Some(_), Some(o)) if !o.is_array() => {
                return Err(format!("{at}/{key} became {o}, not a list"));
            }
            _ => check(key)?,
        }
    }
    Ok(())
}

fn is_token_mount(m: &Value) -> bool {
    let Some(obj) = m.as_object() else {
        return false;
    };
    obj.len() == 3
        && name_of(m).is_some()
        && matches!(
            obj.get("mountPath").and_then(Value::as_str),
            Some(MOUNT_PATH | LEGACY_MOUNT_PATH)
        )
        && obj.get("readOnly") == Some(&Value::Bool(true))
}

fn is_token_volume(v: &Value) -> bool {
    let Some(obj) = v.as_object() else {
        return false;
    };
    let named = name_of(v).is_some_and(|n| n.starts_with(RESERVED_PREFIX) || n == LEGACY_NAME);
    let projected = v
        .pointer("/projected/sources/0/serviceAccountToken/path")
        .and_then(Value::as_str)
        .is_some()
        && v.get("projected").and_then(Value::as_object).map(Map::len) == Some(1);
    obj.len() == 2 && named && projected
}

/// The lossless check: `Ok` with what changed when every difference between the input Pod and
/// the output Pod is one docs/behaviour.md defines, otherwise the first forbidden difference.
pub fn diff(input: &Value, output: &Value) -> Result<Changes, String> {
    let (Some(input), Some(output)) = (input.as_object(), output.as_object()) else {
        return Err(format!(
            "the Pod and the result must be objects: {input} / {output}"
        ));
    };
    let mut changes = Changes::default();
    let empty = Map::new();
    let (in_spec, out_spec) = match (input.get("spec"), output.get("spec")) {
        (Some(Value::Object(i)), Some(Value::Object(o))) => (i, o),
        (i, o) if i == o => (&empty, &empty),
        (i, o) => return Err(format!("/spec changed from {i:?} to {o:?}")),
    };
    // `spec` is compared below; every other top-level key must be equal
    for (key, value) in input {
        if key != "spec" && output.get(key) != Some(value) {
            return Err(format!("/{key} was changed or removed"));
        }
    }
    for key in output.keys() {
        if !input.contains_key(key) {
            return Err(format!("/{key} was added"));
        }
    }
    let lists = ["initContainers", "containers", "volumes"];
    compare_object(in_spec, out_spec, &lists, "/spec", &mut |key| {
        let (Some(i), Some(o)) = (list_of(in_spec, key), list_of(out_spec, key)) else {
            return Err(format!("/spec/{key} is not a list"));
        };
        match key {
            "volumes" => diff_volumes(i, o, &mut changes),
            list => diff_containers(list, i, o, &mut changes),
        }
    })?;
    Ok(changes)
}

fn diff_volumes(input: &[Value], output: &[Value], changes: &mut Changes) -> Result<(), String> {
    if output.len() < input.len() || output.len() > input.len() + 1 {
        return Err(format!(
            "/spec/volumes went from {} to {} entries",
            input.len(),
            output.len()
        ));
    }
    for (i, (old, new)) in input.iter().zip(output).enumerate() {
        if old == new {
            continue;
        }
        let same_reserved_name =
            name_of(old).is_some_and(|n| n.starts_with(RESERVED_PREFIX) && name_of(new) == Some(n));
        if !(same_reserved_name && is_token_volume(new)) {
            return Err(format!("/spec/volumes/{i} was changed from {old} to {new}"));
        }
        changes.volumes_replaced.push((old.clone(), new.clone()));
    }
    for new in output.iter().skip(input.len()) {
        if !is_token_volume(new) {
            return Err(format!("/spec/volumes: appended {new}, not a token volume"));
        }
        changes.volumes_appended.push(new.clone());
    }
    Ok(())
}

fn diff_containers(
    list: &str,
    input: &[Value],
    output: &[Value],
    changes: &mut Changes,
) -> Result<(), String> {
    let has = |name: &str| input.iter().any(|c| name_of(c) == Some(name));
    let front = usize::from(
        !has(PROXY)
            && output.len() > input.len()
            && output.first().and_then(name_of) == Some(PROXY),
    );
    let back = usize::from(
        !has(PROXY_INIT)
            && output.len() == input.len() + front + 1
            && output.last().and_then(name_of) == Some(PROXY_INIT),
    );
    if output.len() != input.len() + front + back {
        return Err(format!(
            "/spec/{list} went from {} to {} entries",
            input.len(),
            output.len()
        ));
    }
    if front == 1 {
        changes
            .inserted_containers
            .push((list.to_string(), PROXY.to_string()));
    }
    if back == 1 {
        changes
            .inserted_containers
            .push((list.to_string(), PROXY_INIT.to_string()));
    }
    for (i, old) in input.iter().enumerate() {
        let at = format!("/spec/{list}/{i}");
        let new = output.get(i + front).unwrap_or(&Value::Null);
        if old == new {
            continue;
        }
        let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
            return Err(format!("{at} was changed from {old} to {new}"));
        };
        compare_object(o, n, &["env", "volumeMounts"], &at, &mut |key| {
            let (Some(oi), Some(ni)) = (list_of(o, key), list_of(n, key)) else {
                return Err(format!("{at}/{key} is not a list"));
            };
            match key {
                "env" => diff_env(&at, list, i, oi, ni, changes),
                _ => diff_mounts(&at, list, i, oi, ni, changes),
            }
        })?;
    }
    Ok(())
}

fn diff_env(
    at: &str,
    list: &str,
    index: usize,
    input: &[Value],
    output: &[Value],
    changes: &mut Changes,
) -> Result<(), String> {
    if output.len() < input.len() {
        return Err(format!("{at}/env lost entries"));
    }
    for (i, (old, new)) in input.iter().zip(output).enumerate() {
        if old != new {
            return Err(format!("{at}/env/{i} was changed from {old} to {new}"));
        }
    }
    let mut names: Vec<&str> = input.iter().filter_map(name_of).collect();
    for new in output.iter().skip(input.len()) {
        let shape_ok = new.as_object().is_some_and(|o| o.len() == 2)
            && new.get("value").is_some_and(Value::is_string)
            && name_of(new).is_some_and(|n| n.starts_with("AZURE_"));
        let name = name_of(new).unwrap_or("");
        if !shape_ok || names.contains(&name) {
            return Err(format!(
                "{at}/env: appended {new}, which is not a new AZURE_* entry"
            ));
        }
        names.push(name);
        changes
            .env_appended
            .push((list.to_string(), index, new.clone()));
    }
    Ok(())
}

fn diff_mounts(
    at: &str,
    list: &str,
    index: usize,
    input: &[Value],
    output: &[Value],
    changes: &mut Changes,
) -> Result<(), String> {
    if output.len() < input.len() || output.len() > input.len() + 1 {
        return Err(format!(
            "{at}/volumeMounts went from {} to {} entries",
            input.len(),
            output.len()
        ));
    }
    for (i, (old, new)) in input.iter().zip(output).enumerate() {
        if old == new {
            continue;
        }
        let same_reserved_name =
            name_of(old).is_some_and(|n| n.starts_with(RESERVED_PREFIX) && name_of(new) == Some(n));
        if !(same_reserved_name && is_token_mount(new)) {
            return Err(format!(
                "{at}/volumeMounts/{i} was changed from {old} to {new}"
            ));
        }
        changes
            .mounts_replaced
            .push((list.to_string(), index, old.clone(), new.clone()));
    }
    for new in output.iter().skip(input.len()) {
        if !is_token_mount(new) {
            return Err(format!(
                "{at}/volumeMounts: appended {new}, not a token mount"
            ));
        }
        changes
            .mounts_appended
            .push((list.to_string(), index, new.clone()));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Properties of any payload
// ---------------------------------------------------------------------------------------------

/// Whether the policy must handle the request (docs/behaviour.md §1.1): a core/v1 Pod CREATE whose
/// label `azure.workload.identity/use` is the string `"true"`. Read from the payload as JSON,
/// without the policy's code.
pub fn selected(request: &Value) -> bool {
    let field = |pointer: &str| request.pointer(pointer).and_then(Value::as_str);
    field("/operation") == Some("CREATE")
        && field("/kind/group").unwrap_or("").is_empty()
        && field("/kind/version") == Some("v1")
        && field("/kind/kind") == Some("Pod")
        && request
            .get("object")
            .and_then(|o| o.get("metadata"))
            .and_then(|m| m.get("labels"))
            .and_then(|l| l.get(USE_LABEL))
            == Some(&json!("true"))
}

/// serde_json's limits of `Value`, as opposed to text that is not JSON.
pub fn is_too_deep_or_too_big(e: &serde_json::Error) -> bool {
    let text = e.to_string();
    text.starts_with("recursion limit exceeded") || text.starts_with("number out of range")
}

/// What one evaluation did.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub decision: Decision,
    pub calls: Vec<(String, String)>,
}

pub fn observe(payload: &[u8], service_account: Option<&ServiceAccount>) -> Observed {
    let cluster = FakeCluster::serving_every_lookup(service_account.cloned());
    let decision = evaluate(payload, &cluster);
    Observed {
        decision,
        calls: cluster.calls(),
    }
}

/// The properties that hold for any payload (see the module documentation). Returns what the
/// first evaluation did.
pub fn check_generic(
    payload: &[u8],
    service_account: Option<&ServiceAccount>,
) -> Result<Observed, String> {
    let first = observe(payload, service_account);
    let again = observe(payload, service_account);
    if first != again {
        return Err(format!(
            "not deterministic: {} then {}",
            describe(&first.decision),
            describe(&again.decision)
        ));
    }
    // one lookup, and its repetition past the host's cache before a rejection
    let repeated = matches!(first.calls.as_slice(), [a, b] if a == b)
        && matches!(first.decision, Decision::Reject(_));
    if first.calls.len() > 1 && !repeated {
        return Err(format!("more than one lookup: {:?}", first.calls));
    }
    if let Decision::Reject(Rejection(message)) = &first.decision
        && !message.starts_with(MESSAGE_PREFIX)
    {
        return Err(format!(
            "a rejection that does not name the policy: {message:?}"
        ));
    }
    // serde_json does not check UTF-8 in the strings it skips, and the policy skips what it does
    // not need: read invalid UTF-8 as U+FFFD, which is what such a payload means to the policy
    let strict = serde_json::from_slice::<Value>(payload);
    let lossy = || serde_json::from_str::<Value>(&String::from_utf8_lossy(payload));
    let parsed = match strict.or_else(|_| lossy()) {
        Ok(parsed) => parsed,
        // JSON that serde_json's `Value` cannot hold (nesting deeper than 128, a number beyond
        // f64): the policy may still read the request, as it skips the parts it does not need
        // without building values; nothing more can be said here.
        Err(e) if is_too_deep_or_too_big(&e) => return Ok(first),
        // not JSON: it must be rejected as unreadable, without a lookup
        Err(_) => {
            return match &first.decision {
                Decision::Reject(Rejection(m))
                    if m.starts_with(UNREADABLE) && first.calls.is_empty() =>
                {
                    Ok(first)
                }
                other => Err(format!(
                    "a payload that is not JSON was not rejected as unreadable: {}",
                    describe(other)
                )),
            };
        }
    };
    let request = parsed.get("request").unwrap_or(&Value::Null);
    if !selected(request) {
        let unreadable =
            matches!(&first.decision, Decision::Reject(Rejection(m)) if m.starts_with(UNREADABLE));
        if !(first.decision == Decision::Accept || unreadable) || !first.calls.is_empty() {
            return Err(format!(
                "an unselected request was not accepted untouched: {}, lookups {:?}",
                describe(&first.decision),
                first.calls
            ));
        }
    }
    if let Decision::Mutate(output) = &first.decision {
        let input = request.get("object").unwrap_or(&Value::Null);
        if output == input {
            return Err("a mutation that changes nothing".to_string());
        }
        diff(input, output).map_err(|e| format!("lossy mutation: {e}"))?;
        let mut request = request.clone();
        if let Some(object) = request.get_mut("object") {
            *object = output.clone();
        }
        let second = observe(
            &self::payload(&request, parsed.get("settings")),
            service_account,
        );
        if second.decision != Decision::Accept {
            return Err(format!(
                "not idempotent: evaluating the mutated Pod again gave {}",
                describe(&second.decision)
            ));
        }
    }
    Ok(first)
}

// ---------------------------------------------------------------------------------------------
// The model: the expected outcome of a well-typed case
// ---------------------------------------------------------------------------------------------

/// What docs/behaviour.md says the policy answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// Not selected: accept, no lookup.
    Unselected,
    /// Rejected; the message contains every fragment; `lookups` ServiceAccount reads happened.
    Reject {
        fragments: Vec<String>,
        lookups: usize,
    },
    /// Selected and processed with one lookup of `lookup`: the resulting Pod (accept when it
    /// equals the input, mutate otherwise).
    Pod {
        lookup: (String, String),
        pod: Value,
    },
}

/// A coarse class of outcome, for counting what a generator reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Unselected,
    Malformed,
    NoNamespace,
    NotFound,
    ClientId,
    Proxy,
    Expiration,
    AlreadyInjected,
    Mutated,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The first structural problem of a selected Pod, as a fragment the rejection must contain
/// (docs/behaviour.md §3.1 step 1: the Pod is decoded before anything else). Covers the paths the
/// policy reads.
pub fn malformation(pod: &Value) -> Option<String> {
    let Some(root) = pod.as_object() else {
        return Some(format!("the Pod is {}", kind_of(pod)));
    };
    let not = |path: &str, what: &str, v: &Value| {
        Some(format!("{path} must be {what}, found {}", kind_of(v)))
    };
    let metadata = match root.get("metadata") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(v) => return not("metadata", "an object", v),
    };
    for key in ["name", "generateName", "namespace"] {
        match metadata.and_then(|m| m.get(key)) {
            None | Some(Value::Null | Value::String(_)) => {}
            Some(v) => return not(&format!("metadata.{key}"), "a string", v),
        }
    }
    if let Some(v) = metadata.and_then(|m| m.get("annotations"))
        && !(v.is_null() || v.is_object())
    {
        return not("metadata.annotations", "an object", v);
    }
    let spec = match root.get("spec") {
        Some(Value::Object(s)) => s,
        None | Some(Value::Null) => return Some("spec is missing".to_string()),
        Some(v) => return not("spec", "an object", v),
    };
    for (key, what) in [("labels", "label"), ("annotations", "annotation")] {
        match metadata.and_then(|m| m.get(key)) {
            None | Some(Value::Null) => {}
            Some(Value::Object(map)) => {
                if let Some((k, v)) = map.iter().find(|(_, v)| !(v.is_string() || v.is_null())) {
                    return Some(format!(
                        "{what} \"{k}\" must be a string, found {}",
                        kind_of(v)
                    ));
                }
            }
            Some(v) => return not(&format!("metadata.{key}"), "an object", v),
        }
    }
    for list in ["initContainers", "containers"] {
        let items = match spec.get(list) {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(a)) => a,
            Some(v) => return not(&format!("spec.{list}"), "a list", v),
        };
        for (i, c) in items.iter().enumerate() {
            let path = format!("spec.{list}[{i}]");
            let Some(obj) = c.as_object() else {
                return not(&path, "an object", c);
            };
            match obj.get("name") {
                Some(Value::String(_)) => {}
                None | Some(Value::Null) => return Some(format!("{path} has no name")),
                Some(v) => return not(&format!("{path}.name"), "a string", v),
            }
            for (field, keys) in [
                ("env", &["name"][..]),
                ("volumeMounts", &["name", "mountPath"][..]),
            ] {
                let entries = match obj.get(field) {
                    None | Some(Value::Null) => &[][..],
                    Some(Value::Array(a)) => a,
                    Some(v) => return not(&format!("{path}.{field}"), "a list", v),
                };
                for (j, e) in entries.iter().enumerate() {
                    let epath = format!("{path}.{field}[{j}]");
                    let Some(eobj) = e.as_object() else {
                        return not(&epath, "an object", e);
                    };
                    for key in keys {
                        match eobj.get(*key) {
                            Some(Value::String(_)) => {}
                            None | Some(Value::Null) if field == "env" => {
                                return Some(format!("{epath} has no name"));
                            }
                            None | Some(Value::Null) => {}
                            Some(v) => return not(&format!("{epath}.{key}"), "a string", v),
                        }
                    }
                }
            }
        }
    }
    match spec.get("volumes") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            if let Some((i, v)) = a.iter().enumerate().find(|(_, v)| !v.is_object()) {
                return not(&format!("spec.volumes[{i}]"), "an object", v);
            }
        }
        Some(v) => return not("spec.volumes", "a list", v),
    }
    None
}

/// The settings the model understands (those of the generators; always valid).
struct ModelSettings {
    default_tenant: String,
    authority_host: String,
    audience: String,
    v1_5: bool,
    native_sidecar: bool,
    proxy_image: String,
    proxy_init_image: String,
    log_level: String,
    cte: Option<Value>,
}

fn model_settings(settings: &Value) -> ModelSettings {
    let s = |key: &str| settings.get(key).and_then(Value::as_str);
    let clouds = [
        ("azurepubliccloud", PUBLIC_AUTHORITY),
        ("azurecloud", PUBLIC_AUTHORITY),
        (
            "azureusgovernmentcloud",
            "https://login.microsoftonline.us/",
        ),
        ("azureusgovernment", "https://login.microsoftonline.us/"),
        ("azurechinacloud", "https://login.chinacloudapi.cn/"),
        ("azuregermancloud", "https://login.microsoftonline.de/"),
    ];
    let authority_host = match (s("authorityHost"), s("azureEnvironment")) {
        (Some(host), _) => host.to_string(),
        (None, Some(env)) => clouds
            .iter()
            .find(|(name, _)| *name == env.to_ascii_lowercase())
            .map_or("<unknown cloud>", |(_, host)| host)
            .to_string(),
        (None, None) => PUBLIC_AUTHORITY.to_string(),
    };
    let cte = settings
        .get("customTokenEndpoint")
        .filter(|c| {
            c.get("annotationSuffix")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        })
        .cloned();
    ModelSettings {
        default_tenant: s("defaultTenantId").unwrap_or("").trim().to_string(),
        authority_host,
        audience: s("audience").unwrap_or(DEFAULT_AUDIENCE).to_string(),
        v1_5: s("tokenLayout") == Some("v1.5"),
        native_sidecar: settings.get("useNativeSidecar") != Some(&Value::Bool(false)),
        proxy_image: s("proxyImage").unwrap_or(DEFAULT_PROXY_IMAGE).to_string(),
        proxy_init_image: s("proxyInitImage")
            .unwrap_or(DEFAULT_PROXY_INIT_IMAGE)
            .to_string(),
        log_level: s("proxyLogLevel").unwrap_or("info").to_string(),
        cte,
    }
}

/// The volume name of docs/behaviour.md §4.5 for a hash input: from [`KNOWN_VOLUME_NAMES`], else
/// (fuzzing only) the policy's own function.
pub fn volume_name_for(hash_input: &str) -> String {
    KNOWN_VOLUME_NAMES
        .iter()
        .find(|(input, _)| *input == hash_input)
        .map(|(_, name)| name.to_string())
        .unwrap_or_else(|| azure_workload_identity_policy::volume_name(hash_input))
}

/// Go's `strconv.ParseInt(s, 10, bits)` accepts exactly what Rust's `from_str` accepts for
/// base 10 (optional sign, ASCII digits, no whitespace).
fn go_parse_i64(s: &str) -> Option<i64> {
    s.parse::<i64>().ok()
}

/// Whether a container gives `AZURE_CLIENT_ID` a usable value itself.
fn sets_client_id(container: &Value) -> bool {
    container
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|e| {
            name_of(e) == Some("AZURE_CLIENT_ID")
                && (e
                    .get("value")
                    .and_then(Value::as_str)
                    .is_some_and(|v| !v.is_empty())
                    || e.get("valueFrom").is_some_and(|v| !v.is_null()))
        })
}

/// The expected outcome of a request whose Pod, settings and ServiceAccount the model can read
/// (the settings must be valid; SA annotations are a string map). `sa` is `None` when the
/// ServiceAccount does not exist.
pub fn model(request: &Value, settings: &Value, sa: Option<&ServiceAccount>) -> (Expected, Class) {
    if !selected(request) {
        return (Expected::Unselected, Class::Unselected);
    }
    let reject = |fragments: Vec<String>, lookups: usize, class: Class| {
        (Expected::Reject { fragments, lookups }, class)
    };
    let pod = request.get("object").unwrap_or(&Value::Null);
    if let Some(problem) = malformation(pod) {
        return reject(
            vec!["is malformed: ".to_string(), problem],
            0,
            Class::Malformed,
        );
    }
    let config = model_settings(settings);
    let meta = |key: &str| {
        pod.pointer(&format!("/metadata/{key}"))
            .and_then(Value::as_str)
    };
    // the request's namespace only, as upstream: the Pod's own is not a fallback
    let namespace = request
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    if namespace.is_empty() {
        return reject(vec!["has no namespace".to_string()], 0, Class::NoNamespace);
    }
    let sa_name = match pod.pointer("/spec/serviceAccountName") {
        None | Some(Value::Null) => "default",
        Some(Value::String(s)) if s.is_empty() => "default",
        Some(Value::String(s)) => s.as_str(),
        Some(v) => {
            return reject(
                vec![format!(
                    "is malformed: spec.serviceAccountName must be a string, found {}",
                    kind_of(v)
                )],
                0,
                Class::Malformed,
            );
        }
    };
    let lookup = (namespace.to_string(), sa_name.to_string());
    let sa_ref = format!("ServiceAccount \"{namespace}/{sa_name}\"");
    let Some(sa) = sa else {
        // a rejection for the ServiceAccount's answer reads it again past the host's cache
        return reject(
            vec![sa_ref, "was not found".to_string()],
            2,
            Class::NotFound,
        );
    };
    // annotations: absent ⇒ None, null ⇒ "" (Go), string ⇒ itself
    let annotation = |key: &str| match pod
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
    {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => Some(""),
    };
    // an empty item is kept (it skips a container named ""), an empty annotation skips none
    let skip: Vec<&str> = match annotation(SKIP_KEY) {
        None | Some("") => vec![],
        Some(list) => list.split(';').map(str::trim).collect(),
    };
    let skipped = |c: &Value| name_of(c).is_some_and(|n| skip.contains(&n));
    let spec = pod.get("spec").cloned().unwrap_or(Value::Null);
    let input_containers: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .flat_map(|l| spec.get(*l).and_then(Value::as_array).into_iter().flatten())
        .collect();

    // client id (project rule, docs/behaviour.md §3.2): required unless every container the policy
    // mutates sets AZURE_CLIENT_ID itself; the proxy containers are the policy's own and do not
    // count when it injects the proxy (fixed in f1d1710: before, a re-invocation was rejected)
    let inject = pod
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .is_some_and(|a| a.contains_key(INJECT_PROXY_KEY));
    let own_proxy = |c: &Value| inject && matches!(name_of(c), Some(PROXY | PROXY_INIT));
    let client_id = sa.annotation(CLIENT_ID_KEY).filter(|v| !v.is_empty());
    if client_id.is_none()
        && !input_containers
            .iter()
            .filter(|c| !skipped(c) && !own_proxy(c))
            .all(|c| sets_client_id(c))
    {
        return reject(vec![sa_ref, CLIENT_ID_KEY.to_string()], 2, Class::ClientId);
    }

    // proxy (docs/behaviour.md §2.1, §4.6)
    let mut port = 8000;
    if inject {
        if spec.get("hostNetwork") == Some(&Value::Bool(true)) {
            return reject(
                vec!["hostNetwork is set to true, cannot inject proxy sidecar".to_string()],
                1,
                Class::Proxy,
            );
        }
        if let Some(raw) = annotation(PROXY_PORT_KEY) {
            match raw.parse::<i32>() {
                Ok(p) => port = i64::from(p),
                Err(_) => {
                    return reject(
                        vec!["failed to parse proxy sidecar port: strconv.ParseInt".to_string()],
                        1,
                        Class::Proxy,
                    );
                }
            }
        }
    }

    // token expiration (docs/behaviour.md §2.3); the ServiceAccount's value is read again past
    // the cache (§3.3)
    let reads = |place: &str| if place == "of ServiceAccount" { 2 } else { 1 };
    let expiration = {
        let (raw, place) = match (annotation(EXPIRATION_KEY), sa.annotation(EXPIRATION_KEY)) {
            (Some(v), _) if !v.is_empty() => (Some(v), "of Pod"),
            (_, Some(v)) if !v.is_empty() => (Some(v), "of ServiceAccount"),
            _ => (None, ""),
        };
        match raw.map(|r| (r, go_parse_i64(r))) {
            None => 3600,
            Some((_, None)) => {
                return reject(
                    vec![
                        place.to_string(),
                        "is not a whole number of seconds".to_string(),
                    ],
                    reads(place),
                    Class::Expiration,
                );
            }
            Some((_, Some(v))) if !(3600..=86400).contains(&v) => {
                return reject(
                    vec![
                        place.to_string(),
                        format!(
                            "token expiration {v} not valid. Expected value to be between 3600 and 86400"
                        ),
                    ],
                    reads(place),
                    Class::Expiration,
                );
            }
            Some((_, Some(v))) => v,
        }
    };

    // custom token endpoint (docs/behaviour.md §4.7, §6.3)
    let cte = config.cte.as_ref().filter(|cte| {
        let suffix = cte
            .get("annotationSuffix")
            .and_then(Value::as_str)
            .unwrap_or("");
        annotation(&format!("azure.workload.identity/use-{suffix}"))
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    });
    let cte_str = |key: &str| {
        cte.and_then(|c| c.get(key))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };

    // the token volume (docs/behaviour.md §4.5, §5, §8)
    let volumes: Vec<Value> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let (volume_name, mount_path, token_path) = if config.v1_5 {
        (LEGACY_NAME.to_string(), LEGACY_MOUNT_PATH, LEGACY_NAME)
    } else {
        let hash_input = match meta("name").unwrap_or("") {
            "" => format!("{} (prefix)", meta("generateName").unwrap_or("")),
            name => name.to_string(),
        };
        let computed = volume_name_for(&hash_input);
        let names: Vec<&str> = volumes.iter().filter_map(name_of).collect();
        let name = if names.contains(&computed.as_str()) {
            computed
        } else {
            names
                .iter()
                .find(|n| n.starts_with(RESERVED_PREFIX))
                .map_or(computed, |n| n.to_string())
        };
        (name, MOUNT_PATH, TOKEN_PATH)
    };
    let audience = match cte {
        Some(c) => c
            .get("audience")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        None => config.audience.clone(),
    };
    let mut sources = vec![json!({"serviceAccountToken": {
        "path": token_path, "audience": audience, "expirationSeconds": expiration}})];
    if cte.is_some() {
        let config_map = cte_str("caConfigMapName");
        let signer = cte_str("caClusterTrustBundleSignerName");
        if !config_map.is_empty() {
            sources.push(json!({"configMap": {"name": config_map,
                "items": [{"key": "ca.crt", "path": "ca-cert/ca.crt"}], "optional": false}}));
        } else if !signer.is_empty() {
            let mut bundle =
                json!({"signerName": signer, "path": "ca-cert/ca.crt", "optional": false});
            if let Some(selector) = cte
                .and_then(|c| c.get("caClusterTrustBundleLabelSelector"))
                .filter(|s| s.is_object())
                && let Some(b) = bundle.as_object_mut()
            {
                b.insert("labelSelector".to_string(), selector.clone());
            }
            sources.push(json!({ "clusterTrustBundle": bundle }));
        }
    }
    let canonical_volume = json!({"name": volume_name, "projected": {"sources": sources}});
    let canonical_mount = json!({"name": volume_name, "mountPath": mount_path, "readOnly": true});

    // the env vars (docs/behaviour.md §4.1), empty values left out
    let tenant = sa
        .annotation(TENANT_ID_KEY)
        .unwrap_or(&config.default_tenant)
        .to_string();
    let mut env: Vec<(&str, String)> = vec![
        ("AZURE_CLIENT_ID", client_id.unwrap_or("").to_string()),
        ("AZURE_TENANT_ID", tenant),
        (
            "AZURE_FEDERATED_TOKEN_FILE",
            format!("{mount_path}/{token_path}"),
        ),
        ("AZURE_AUTHORITY_HOST", config.authority_host.clone()),
    ];
    if cte.is_some() {
        env.extend([
            ("AZURE_KUBERNETES_TOKEN_PROXY", cte_str("tokenProxy")),
            ("AZURE_KUBERNETES_SNI_NAME", cte_str("sniName")),
            (
                "AZURE_KUBERNETES_CA_FILE",
                format!("{mount_path}/ca-cert/ca.crt"),
            ),
            ("AZURE_KUBERNETES_CA_DATA", cte_str("caData")),
        ]);
    }
    env.retain(|(_, v)| !v.is_empty());

    // apply
    let mut out = pod.clone();
    let Some(out_spec) = out.get_mut("spec").and_then(Value::as_object_mut) else {
        return reject(vec!["<model: no spec>".to_string()], 1, Class::Malformed);
    };
    let list_mut = |spec: &mut Map<String, Value>, key: &str| -> Vec<Value> {
        spec.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    if inject {
        let (p, l) = (
            format!("--proxy-port={port}"),
            format!("--log-level={}", config.log_level),
        );
        let init = json!({
            "name": PROXY_INIT,
            "image": config.proxy_init_image,
            "imagePullPolicy": "IfNotPresent",
            "securityContext": {
                "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
                "privileged": true, "runAsNonRoot": false, "runAsUser": 0,
            },
            "env": [{"name": "PROXY_PORT", "value": port.to_string()}],
        });
        let mut sidecar = json!({
            "name": PROXY,
            "image": config.proxy_image,
            "imagePullPolicy": "IfNotPresent",
            "args": [p, l],
            "ports": [{"containerPort": port}],
            "lifecycle": {"postStart": {"exec": {"command": ["/proxy", p, "--probe", l]}}},
            "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
                "privileged": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true,
            },
        });
        if config.native_sidecar
            && let Some(s) = sidecar.as_object_mut()
        {
            s.insert("restartPolicy".to_string(), json!("Always"));
        }
        let mut init_list = list_mut(out_spec, "initContainers");
        if !init_list.iter().any(|c| name_of(c) == Some(PROXY_INIT)) {
            init_list.push(init);
        }
        out_spec.insert("initContainers".to_string(), Value::Array(init_list));
        let target = if config.native_sidecar {
            "initContainers"
        } else {
            "containers"
        };
        let mut target_list = list_mut(out_spec, target);
        if !target_list.iter().any(|c| name_of(c) == Some(PROXY)) {
            target_list.insert(0, sidecar);
        }
        out_spec.insert(target.to_string(), Value::Array(target_list));
    }
    for list in ["initContainers", "containers"] {
        let Some(containers) = out_spec.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in containers.iter_mut() {
            if skipped(c) {
                continue;
            }
            let Some(c) = c.as_object_mut() else { continue };
            let present: Vec<String> = c
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| name_of(e).map(str::to_string))
                .collect();
            let missing: Vec<Value> = env
                .iter()
                .filter(|(n, _)| !present.iter().any(|p| p == n))
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect();
            if !missing.is_empty() {
                let mut list = c
                    .get("env")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                list.extend(missing);
                c.insert("env".to_string(), Value::Array(list));
            }
            let mut mounts = c
                .get("volumeMounts")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let same_name = mounts
                .iter()
                .position(|m| name_of(m) == Some(volume_name.as_str()));
            let at_path = mounts
                .iter()
                .any(|m| m.get("mountPath").and_then(Value::as_str) == Some(mount_path));
            match (config.v1_5, same_name) {
                (false, Some(i)) => {
                    if let Some(slot) = mounts.get_mut(i) {
                        *slot = canonical_mount.clone();
                    }
                }
                (true, Some(_)) => {}
                (false, None) if at_path => {}
                (_, None) => mounts.push(canonical_mount.clone()),
            }
            if c.get("volumeMounts").and_then(Value::as_array) != Some(&mounts) {
                c.insert("volumeMounts".to_string(), Value::Array(mounts));
            }
        }
    }
    let mut volumes = volumes;
    if config.v1_5 {
        let has_token = volumes.iter().any(|v| {
            v.pointer("/projected/sources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|s| {
                    s.pointer("/serviceAccountToken/path")
                        .and_then(Value::as_str)
                        == Some(LEGACY_NAME)
                })
        });
        if !has_token {
            volumes.push(canonical_volume);
        }
    } else {
        match volumes
            .iter()
            .position(|v| name_of(v) == Some(volume_name.as_str()))
        {
            Some(i) => {
                if let Some(slot) = volumes.get_mut(i) {
                    *slot = canonical_volume;
                }
            }
            None => volumes.push(canonical_volume),
        }
    }
    if out_spec.get("volumes").and_then(Value::as_array) != Some(&volumes) {
        out_spec.insert("volumes".to_string(), Value::Array(volumes));
    }
    let class = if &out == pod {
        Class::AlreadyInjected
    } else {
        Class::Mutated
    };
    (Expected::Pod { lookup, pod: out }, class)
}

/// Runs a well-typed case through the policy and checks it against [`check_generic`] and the
/// [`model`]. Returns the class of the expected outcome.
pub fn check_case(
    request: &Value,
    settings: &Value,
    sa: Option<&ServiceAccount>,
) -> Result<Class, String> {
    let bytes = payload(request, Some(settings));
    let observed = check_generic(&bytes, sa)?;
    // whitespace and key order of the payload do not matter
    let pretty = serde_json::to_vec_pretty(&json!({"settings": settings, "request": request}))
        .unwrap_or_default();
    let again = observe(&pretty, sa);
    if again != observed {
        return Err(format!(
            "the pretty-printed payload gave {} instead of {}",
            describe(&again.decision),
            describe(&observed.decision)
        ));
    }
    let (expected, class) = model(request, settings, sa);
    let Observed { decision, calls } = &observed;
    match expected {
        Expected::Unselected => {
            if *decision != Decision::Accept || !calls.is_empty() {
                return Err(format!(
                    "unselected: expected Accept without lookups, got {} with {calls:?}",
                    describe(decision)
                ));
            }
        }
        Expected::Reject { fragments, lookups } => {
            let Decision::Reject(Rejection(message)) = decision else {
                return Err(format!(
                    "expected a rejection containing {fragments:?}, got {}",
                    describe(decision)
                ));
            };
            if let Some(missing) = fragments.iter().find(|f| !message.contains(f.as_str())) {
                return Err(format!("the rejection lacks {missing:?}: {message:?}"));
            }
            if calls.len() != lookups {
                return Err(format!(
                    "expected {lookups} lookups before the rejection, got {calls:?}"
                ));
            }
        }
        Expected::Pod { lookup, pod } => {
            if calls.as_slice() != [lookup.clone()] {
                return Err(format!("expected one lookup of {lookup:?}, got {calls:?}"));
            }
            let input = request.get("object").unwrap_or(&Value::Null);
            let expected_decision = if pod == *input {
                Decision::Accept
            } else {
                Decision::Mutate(pod.clone())
            };
            if *decision != expected_decision {
                let difference = match decision {
                    Decision::Mutate(actual) => first_difference(&pod, actual, ""),
                    _ => None,
                };
                return Err(format!(
                    "wrong outcome; first difference {difference:?}\nexpected {}\nactual   {}",
                    describe(&expected_decision),
                    describe(decision)
                ));
            }
        }
    }
    Ok(class)
}
