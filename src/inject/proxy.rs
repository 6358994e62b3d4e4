//! Inserting the proxy containers (docs/behaviour.md §4.6), before the env vars and mounts are
//! added so that they receive both like any other container.
//!
//! Native-sidecar mode: `initContainers = [azwi-proxy, <existing…>, azwi-proxy-init]`.
//! Legacy mode: `initContainers = [<existing…>, azwi-proxy-init]`, `containers = [azwi-proxy,
//! <existing…>]`. A container is not inserted again when its list already has one of that name.

use serde_json::{Map, Value};

use super::list_mut;
use crate::names::{PROXY_CONTAINER, PROXY_INIT_CONTAINER};
use crate::plan::ProxyPlan;

pub fn insert(spec: &mut Map<String, Value>, proxy: ProxyPlan) -> bool {
    let ProxyPlan {
        init_container,
        sidecar,
        native_sidecar,
    } = proxy;
    let mut changed = false;
    if let Some(init) = list_mut(spec, "initContainers")
        && !has_named(init, PROXY_INIT_CONTAINER)
    {
        init.push(init_container);
        changed = true;
    }
    let target = if native_sidecar {
        "initContainers"
    } else {
        "containers"
    };
    if let Some(list) = list_mut(spec, target)
        && !has_named(list, PROXY_CONTAINER)
    {
        list.insert(0, sidecar);
        changed = true;
    }
    changed
}

fn has_named(list: &[Value], name: &str) -> bool {
    list.iter()
        .any(|c| c.get("name").and_then(Value::as_str) == Some(name))
}
