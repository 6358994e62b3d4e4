//! `customTokenEndpoint.caClusterTrustBundleLabelSelector`, read as upstream reads it: Go's
//! `json.Unmarshal` into a Kubernetes `LabelSelector`, so a wrongly typed selector is refused at
//! `validate_settings` instead of making the API server refuse every Pod that gets it.
//!
//! Go matches field names ignoring case (`MatchLabels` is `matchLabels`); the selector is written
//! back with the canonical names, so the API server reads what the user meant. Go drops an
//! unknown field, which widens the selector (`{"matchLabel": …}` becomes `{}`, every bundle of
//! the signer): the policy refuses it instead (docs/behaviour.md §6.3). Requirements are also
//! checked as the API server checks them (operator, values), since a selector it refuses would
//! again break every Pod.

use serde_json::{Map, Value};

use super::go_fold::json_name_matches;
use crate::pod::kind_of;

const PATH: &str = "customTokenEndpoint.caClusterTrustBundleLabelSelector";

/// The operators of a requirement, and whether each takes values.
const OPERATORS: [(&str, bool); 4] = [
    ("In", true),
    ("NotIn", true),
    ("Exists", false),
    ("DoesNotExist", false),
];

/// The selector with canonical field names; `None` when it is absent or null.
pub(super) fn label_selector(selector: Option<&Value>) -> Result<Option<Value>, String> {
    let object = match selector {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(object)) => object,
        Some(_) => {
            return Err(format!(
                "{PATH} must be a Kubernetes LabelSelector object, e.g. {{\"matchLabels\": \
                 {{\"example.com/ca\": \"true\"}}}}"
            ));
        }
    };
    let [labels, expressions] = fields(
        object,
        ["matchLabels", "matchExpressions"],
        PATH,
        "a LabelSelector has only matchLabels and matchExpressions",
    )?;
    let mut canonical = Map::new();
    match labels {
        None | Some(Value::Null) => {}
        Some(Value::Object(labels)) => {
            let mut out = Map::new();
            for (name, value) in labels {
                out.insert(
                    name.clone(),
                    string(value, &format!("{PATH}.matchLabels.{name}"))?,
                );
            }
            // Go's encoder leaves out an empty map, and so does this.
            if !out.is_empty() {
                canonical.insert("matchLabels".to_string(), Value::Object(out));
            }
        }
        Some(other) => {
            return Err(format!(
                "{PATH}.matchLabels must be an object of label names to values, found {}, e.g. \
                 {{\"matchLabels\": {{\"example.com/ca\": \"true\"}}}}",
                kind_of(other)
            ));
        }
    }
    match expressions {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            let mut out = Vec::new();
            for (i, item) in list.iter().enumerate() {
                out.push(requirement(item, &format!("{PATH}.matchExpressions[{i}]"))?);
            }
            if !out.is_empty() {
                canonical.insert("matchExpressions".to_string(), Value::Array(out));
            }
        }
        Some(other) => {
            return Err(format!(
                "{PATH}.matchExpressions must be a list of requirements, found {}, e.g. \
                 [{{\"key\": \"example.com/ca\", \"operator\": \"In\", \"values\": [\"true\"]}}]",
                kind_of(other)
            ));
        }
    }
    Ok(Some(Value::Object(canonical)))
}

/// One `matchExpressions` item.
fn requirement(item: &Value, path: &str) -> Result<Value, String> {
    let object = match item {
        Value::Object(object) => object,
        // Go decodes null into an empty requirement, which has no key.
        Value::Null => &Map::new(),
        other => {
            return Err(format!(
                "{path} must be an object with key, operator and values, found {}",
                kind_of(other)
            ));
        }
    };
    let [key, operator, values] = fields(
        object,
        ["key", "operator", "values"],
        path,
        "a requirement has only key, operator and values",
    )?;
    let key = key.map_or(Ok(Value::from("")), |k| string(k, &format!("{path}.key")))?;
    let operator = operator.map_or(Ok(Value::from("")), |o| {
        string(o, &format!("{path}.operator"))
    })?;
    let values = match values {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .enumerate()
            .map(|(i, v)| string(v, &format!("{path}.values[{i}]")))
            .collect::<Result<Vec<_>, _>>()?,
        Some(other) => {
            return Err(format!(
                "{path}.values must be a list of strings, found {}",
                kind_of(other)
            ));
        }
    };
    if key.as_str().is_none_or(str::is_empty) {
        return Err(format!(
            "{path}.key is required: set the name of the label to test"
        ));
    }
    let op = operator.as_str().unwrap_or("");
    match OPERATORS.iter().find(|(name, _)| *name == op) {
        None => {
            return Err(format!(
                "{path}.operator \"{op}\" is not a selector operator: use In, NotIn, Exists or \
                 DoesNotExist"
            ));
        }
        Some((_, true)) if values.is_empty() => {
            return Err(format!(
                "{path}.values must list at least one value when the operator is In or NotIn"
            ));
        }
        Some((_, false)) if !values.is_empty() => {
            return Err(format!(
                "{path}.values must be empty when the operator is Exists or DoesNotExist"
            ));
        }
        Some(_) => {}
    }
    let mut out = Map::from_iter([("key".to_string(), key), ("operator".to_string(), operator)]);
    if !values.is_empty() {
        out.insert("values".to_string(), Value::Array(values));
    }
    Ok(Value::Object(out))
}

/// A string, or null which Go decodes as "".
fn string(value: &Value, path: &str) -> Result<Value, String> {
    match value {
        Value::String(_) => Ok(value.clone()),
        Value::Null => Ok(Value::from("")),
        other => Err(format!("{path} must be a string, found {}", kind_of(other))),
    }
}

/// The values of `names` in `object`, each key matched as Go's decoder matches field names.
fn fields<'a, const N: usize>(
    object: &'a Map<String, Value>,
    names: [&str; N],
    path: &str,
    known: &str,
) -> Result<[Option<&'a Value>; N], String> {
    let mut found: [Option<(&str, &Value)>; N] = [None; N];
    for (key, value) in object {
        let slot = names
            .iter()
            .position(|name| json_name_matches(key, name))
            .and_then(|i| found.get_mut(i).zip(names.get(i)));
        match slot {
            None => {
                return Err(format!(
                    "{path} has the unknown field \"{key}\": {known} (upstream would drop the \
                     field, and the selector would then select more ClusterTrustBundles than \
                     written)"
                ));
            }
            Some((Some((first, _)), name)) => {
                return Err(format!(
                    "{path} sets {name} twice, as \"{first}\" and \"{key}\" (field names are \
                     compared ignoring case): keep one"
                ));
            }
            Some((slot, _)) => *slot = Some((key, value)),
        }
    }
    Ok(found.map(|f| f.map(|(_, value)| value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_like_go_and_writes_canonical_names() {
        let cases = [
            (json!(null), None),
            (json!({}), Some(json!({}))),
            (
                json!({"matchLabels": {}, "matchExpressions": []}),
                Some(json!({})),
            ),
            (
                json!({"matchLabels": null, "matchExpressions": null}),
                Some(json!({})),
            ),
            (
                json!({"matchLabels": {"a": null}}),
                Some(json!({"matchLabels": {"a": ""}})),
            ),
            (
                json!({"matchExpre\u{017F}\u{017F}\u{0131}ons": [
                    {"\u{212A}ey": "a", "operator": "In", "values": ["x", null]},
                    {"key": "b", "operator": "Exists", "values": null}]}),
                Some(json!({"matchExpressions": [
                    {"key": "a", "operator": "In", "values": ["x", ""]},
                    {"key": "b", "operator": "Exists"}]})),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(label_selector(Some(&input)), Ok(expected), "{input}");
        }
        assert_eq!(label_selector(None), Ok(None));
    }

    #[test]
    fn refuses_what_go_or_the_api_server_would_refuse() {
        let cases = [
            (
                json!("app=x"),
                format!(
                    "{PATH} must be a Kubernetes LabelSelector object, e.g. {{\"matchLabels\": {{\"example.com/ca\": \"true\"}}}}"
                ),
            ),
            (
                json!({"matchExpressions": [null]}),
                format!(
                    "{PATH}.matchExpressions[0].key is required: set the name of the label to test"
                ),
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": "x"}]}),
                format!(
                    "{PATH}.matchExpressions[0].values must be a list of strings, found a string"
                ),
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": null}]}),
                format!(
                    "{PATH}.matchExpressions[0].operator \"\" is not a selector operator: use In, NotIn, Exists or DoesNotExist"
                ),
            ),
            (
                json!({"matchExpressions": [{"key": "a", "operator": "Exists", "Key": "b"}]}),
                format!(
                    "{PATH}.matchExpressions[0] sets key twice, as \"Key\" and \"key\" (field names are compared ignoring case): keep one"
                ),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(label_selector(Some(&input)), Err(expected), "{input}");
        }
    }
}
