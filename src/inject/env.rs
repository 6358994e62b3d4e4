//! Env var merge (docs/behaviour.md §4.1): an existing entry with the same name wins, whatever
//! its value; missing entries are appended after all existing ones, in the plan's order.
//! Existing entries are never modified, reordered or removed.

use serde_json::{Map, Value, json};

use super::list_mut;

pub fn merge(container: &mut Map<String, Value>, desired: &[(&'static str, String)]) -> bool {
    let missing: Vec<Value> = {
        let existing = container.get("env").and_then(Value::as_array);
        let has = |name: &str| {
            existing.is_some_and(|env| {
                env.iter()
                    .any(|e| e.get("name").and_then(Value::as_str) == Some(name))
            })
        };
        desired
            .iter()
            .filter(|(name, _)| !has(name))
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect()
    };
    if missing.is_empty() {
        return false;
    }
    match list_mut(container, "env") {
        Some(env) => {
            env.extend(missing);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired() -> Vec<(&'static str, String)> {
        vec![
            ("A", "1".to_string()),
            ("B", "2".to_string()),
            ("C", "3".to_string()),
        ]
    }

    #[test]
    fn merges_like_upstream() {
        let cases = [
            // (container, expected env, changed)
            (
                json!({"name": "c"}),
                json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]),
                true,
            ),
            (
                json!({"name": "c", "env": null}),
                json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]),
                true,
            ),
            (
                json!({"name": "c", "env": []}),
                json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]),
                true,
            ),
            // existing wins, even empty or valueFrom; appended after existing ones
            (
                json!({"name": "c", "env": [{"name": "Z", "value": "z"}, {"name": "B", "value": ""}]}),
                json!([{"name": "Z", "value": "z"}, {"name": "B", "value": ""}, {"name": "A", "value": "1"}, {"name": "C", "value": "3"}]),
                true,
            ),
            (
                json!({"name": "c", "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}),
                json!([{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]),
                true,
            ),
            // case-sensitive names
            (
                json!({"name": "c", "env": [{"name": "a", "value": "x"}]}),
                json!([{"name": "a", "value": "x"}, {"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "C", "value": "3"}]),
                true,
            ),
            // all present: unchanged
            (
                json!({"name": "c", "env": [{"name": "C", "value": "x"}, {"name": "B", "value": "y"}, {"name": "A", "value": "z", "extra": 1}]}),
                json!([{"name": "C", "value": "x"}, {"name": "B", "value": "y"}, {"name": "A", "value": "z", "extra": 1}]),
                false,
            ),
        ];
        for (container, expected, expected_changed) in cases {
            let mut c = container.as_object().cloned().unwrap_or_default();
            let changed = merge(&mut c, &desired());
            assert_eq!(changed, expected_changed, "container {container}");
            assert_eq!(c.get("env"), Some(&expected), "container {container}");
        }
    }

    #[test]
    fn envfrom_is_not_considered() {
        let mut c = json!({"name": "c", "envFrom": [{"configMapRef": {"name": "cm"}}]})
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert!(merge(&mut c, &[("A", "1".to_string())]));
        assert_eq!(
            Value::Object(c),
            json!({"name": "c", "envFrom": [{"configMapRef": {"name": "cm"}}], "env": [{"name": "A", "value": "1"}]})
        );
    }
}
