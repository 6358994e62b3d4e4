//! Editing JSON values by JSON pointer (`~1` is `/`, `-` appends to a list): the small edits
//! the tests make to fixtures and expected Pods.

use serde_json::{Value, json};

pub fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Sets `pointer` in `target`, creating missing objects on the way.
pub fn set(target: &mut Value, pointer: &str, new: Value) {
    let tokens: Vec<String> = pointer.split('/').skip(1).map(unescape).collect();
    let Some((last, parents)) = tokens.split_last() else {
        *target = new;
        return;
    };
    let mut current = target;
    for token in parents {
        if current.is_null() {
            *current = json!({});
        }
        current = match current {
            Value::Object(map) => map.entry(token.clone()).or_insert(Value::Null),
            Value::Array(items) => {
                let index: usize = token
                    .parse()
                    .unwrap_or_else(|_| panic!("{pointer}: {token} is not an index"));
                items
                    .get_mut(index)
                    .unwrap_or_else(|| panic!("{pointer}: no item {index}"))
            }
            other => panic!("{pointer}: cannot descend into {other}"),
        };
    }
    if current.is_null() {
        *current = json!({});
    }
    match current {
        Value::Object(map) => {
            map.insert(last.clone(), new);
        }
        Value::Array(items) if last == "-" => items.push(new),
        Value::Array(items) => {
            let index: usize = last
                .parse()
                .unwrap_or_else(|_| panic!("{pointer}: {last} is not an index"));
            let slot = items
                .get_mut(index)
                .unwrap_or_else(|| panic!("{pointer}: no item {index}"));
            *slot = new;
        }
        other => panic!("{pointer}: cannot set a field of {other}"),
    }
}

/// Removes the field or list item at `pointer`.
pub fn remove(target: &mut Value, pointer: &str) {
    let (parent, last) = pointer
        .rsplit_once('/')
        .unwrap_or_else(|| panic!("{pointer} is not a pointer"));
    let last = unescape(last);
    match target.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&last)
                .unwrap_or_else(|| panic!("{pointer}: nothing to remove"));
        }
        Some(Value::Array(items)) => {
            let index: usize = last
                .parse()
                .unwrap_or_else(|_| panic!("{pointer}: {last} is not an index"));
            assert!(index < items.len(), "{pointer}: no item {index}");
            items.remove(index);
        }
        _ => panic!("{pointer}: no such parent"),
    }
}

/// A copy of `value` with these edits.
pub fn with(value: &Value, edits: &[(&str, Value)]) -> Value {
    let mut value = value.clone();
    for (pointer, new) in edits {
        set(&mut value, pointer, new.clone());
    }
    value
}

/// A copy of `value` without these fields.
pub fn without(value: &Value, pointers: &[&str]) -> Value {
    let mut value = value.clone();
    for pointer in pointers {
        remove(&mut value, pointer);
    }
    value
}

/// A copy of `value` with every string equal to `from` replaced by `to`.
pub fn renamed(value: &Value, from: &str, to: &str) -> Value {
    match value {
        Value::String(s) if s == from => Value::String(to.to_string()),
        Value::Array(items) => Value::Array(items.iter().map(|v| renamed(v, from, to)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), renamed(v, from, to)))
                .collect(),
        ),
        other => other.clone(),
    }
}
