//! The token volume and its read-only mount (docs/behaviour.md §4.3, §4.5, §5, §8).
//!
//! v1.6 layout: a mount or volume with the planned name is replaced in place by the canonical
//! one; otherwise it is appended. A container that already mounts something at the mount path
//! counts as injected (a project decision, docs/behaviour.md §5.1), so a re-invocation never
//! adds a duplicate mountPath.
//!
//! v1.5 layout: nothing is replaced. The volume is not added when a projected token source
//! with path `azure-identity-token` exists; the mount is not added when the container has a
//! mount named `azure-identity-token`.

use serde_json::{Map, Value, json};

use super::list_mut;
use crate::names::LEGACY_TOKEN_PATH;
use crate::plan::TokenPlan;
use crate::pod::str_field;
use crate::settings::TokenLayout;

pub fn mount(container: &mut Map<String, Value>, token: &TokenPlan) -> bool {
    let canonical =
        json!({"name": token.volume_name, "mountPath": token.mount_path, "readOnly": true});
    let Some(mounts) = list_mut(container, "volumeMounts") else {
        return false;
    };
    let same_name = mounts
        .iter()
        .position(|m| str_field(m, "name") == Some(&token.volume_name));
    match (token.layout, same_name) {
        (TokenLayout::V1_6, Some(i)) => replace(mounts, i, canonical),
        (TokenLayout::V1_5, Some(_)) => false,
        (TokenLayout::V1_6, None)
            if mounts
                .iter()
                .any(|m| str_field(m, "mountPath") == Some(token.mount_path)) =>
        {
            false
        }
        (_, None) => {
            mounts.push(canonical);
            true
        }
    }
}

pub fn volume(spec: &mut Map<String, Value>, token: &TokenPlan) -> bool {
    let Some(volumes) = list_mut(spec, "volumes") else {
        return false;
    };
    match token.layout {
        TokenLayout::V1_6 => match volumes
            .iter()
            .position(|v| str_field(v, "name") == Some(&token.volume_name))
        {
            Some(i) => replace(volumes, i, token.volume.clone()),
            None => {
                volumes.push(token.volume.clone());
                true
            }
        },
        TokenLayout::V1_5 => {
            if volumes.iter().any(has_legacy_token_source) {
                false
            } else {
                volumes.push(token.volume.clone());
                true
            }
        }
    }
}

/// Whether a volume projects a service-account token to `azure-identity-token`.
fn has_legacy_token_source(volume: &Value) -> bool {
    volume
        .pointer("/projected/sources")
        .and_then(Value::as_array)
        .is_some_and(|sources| {
            sources.iter().any(|s| {
                s.pointer("/serviceAccountToken/path")
                    .and_then(Value::as_str)
                    == Some(LEGACY_TOKEN_PATH)
            })
        })
}

fn replace(list: &mut [Value], index: usize, canonical: Value) -> bool {
    match list.get_mut(index) {
        Some(slot) if *slot != canonical => {
            *slot = canonical;
            true
        }
        _ => false,
    }
}
