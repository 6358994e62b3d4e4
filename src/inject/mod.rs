//! The mutation: pure edits of the Pod's raw JSON that carry out a `Plan`. Only the paths of
//! docs/behaviour.md §4 are touched (the proxy containers, container `env` and `volumeMounts`,
//! `spec.volumes`); everything else
//! stays as it was. The Pod was checked by `pod::Pod::read` before planning, so every path
//! edited here has the expected type; a path of another type is left alone.

mod env;
mod proxy;
mod token;

use serde_json::{Map, Value};

use crate::plan::Plan;
use crate::pod::MUTATED_LISTS;

/// Applies the plan to the Pod and returns whether anything changed.
pub fn apply(mut plan: Plan, pod: &mut Value) -> bool {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return false;
    };
    let mut changed = match plan.proxy.take() {
        Some(proxy_plan) => proxy::insert(spec, proxy_plan),
        None => false,
    };
    for list in MUTATED_LISTS {
        for container in containers_mut(spec, list) {
            let name = container.get("name").and_then(Value::as_str).unwrap_or("");
            if plan.skips(name) {
                continue;
            }
            changed |= env::merge(container, &plan.env);
            changed |= token::mount(container, &plan.token);
        }
    }
    changed |= token::volume(spec, &plan.token);
    changed
}

fn containers_mut<'a>(
    spec: &'a mut Map<String, Value>,
    list: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    spec.get_mut(list)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// `obj[key]` as a list, created empty when absent or null. `None` when it holds something
/// else.
fn list_mut<'a>(obj: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Vec<Value>> {
    let slot = obj.entry(key).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Array(Vec::new());
    }
    slot.as_array_mut()
}
