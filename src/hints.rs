//! What a Pod (or Pod template) may do but almost surely did not mean: allowed, so never a
//! rejection, and told as warnings.

use serde_json::Value;

use crate::names::{
    AZURE_CLIENT_ID, INJECT_PROXY_ANNOTATION, PROXY_CONTAINER, PROXY_INIT_CONTAINER,
    PROXY_PORT_ANNOTATION, SKIP_CONTAINERS_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION,
};
use crate::near_miss::near_miss;
use crate::plan::{skip_containers, token_file};
use crate::pod::Pod;
use crate::settings::{Config, TokenLayout};

/// One thing worth a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// skip-containers names a container the Pod does not have.
    UnknownSkippedContainer(String),
    /// inject-proxy-sidecar has a value other than "true", which is not read: its presence
    /// injects the proxy.
    ProxyValueNotRead(String),
    /// A container sets its own AZURE_CLIENT_ID, which the policy keeps, to another value
    /// than the ServiceAccount's client-id.
    OwnClientId {
        container: String,
        value: String,
        service_account: String,
        client_id: String,
    },
    /// An annotation key that looks like a misspelling of one the policy reads.
    NearMissAnnotation { key: String, meant: String },
    /// A container refers to the token path of the other token layout.
    OtherLayoutPath {
        container: String,
        used: String,
        mounted: String,
    },
    /// The proxy is requested on a Windows Pod, where its iptables init container cannot run.
    ProxyOnWindows,
}

/// The hints for `pod`, whose ServiceAccount `service_account` (if it could be read) has the
/// client id `client_id`.
pub fn hints(config: &Config, pod: &Pod, service_account: Option<(&str, &str)>) -> Vec<Hint> {
    let mut hints = Vec::new();
    let skip = skip_containers(pod.annotation(SKIP_CONTAINERS_ANNOTATION));
    let proxy = pod.has_annotation(INJECT_PROXY_ANNOTATION);

    for name in &skip {
        let known = name.is_empty()
            || [PROXY_CONTAINER, PROXY_INIT_CONTAINER].contains(&name.as_str())
            || pod.containers.iter().any(|c| c.name == name);
        if !known {
            hints.push(Hint::UnknownSkippedContainer(name.clone()));
        }
    }

    if let Some(value) = pod.annotation(INJECT_PROXY_ANNOTATION)
        && !value.eq_ignore_ascii_case("true")
    {
        hints.push(Hint::ProxyValueNotRead(value.to_string()));
    }

    if let Some((sa_name, client_id)) = service_account {
        for container in pod
            .containers
            .iter()
            .filter(|c| !skip.iter().any(|s| s == c.name))
        {
            if let Some(own) = container.env_value(AZURE_CLIENT_ID)
                && own != client_id
            {
                hints.push(Hint::OwnClientId {
                    container: container.name.to_string(),
                    value: own.to_string(),
                    service_account: sa_name.to_string(),
                    client_id: client_id.to_string(),
                });
            }
        }
    }

    let mut known = vec![
        SKIP_CONTAINERS_ANNOTATION,
        INJECT_PROXY_ANNOTATION,
        PROXY_PORT_ANNOTATION,
        TOKEN_EXPIRATION_ANNOTATION,
    ];
    if let Some(cte) = &config.custom_token_endpoint {
        known.push(&cte.annotation_key);
    }
    for key in pod.annotation_keys() {
        if let Some(meant) = near_miss(key, &known) {
            hints.push(Hint::NearMissAnnotation {
                key: key.to_string(),
                meant: meant.to_string(),
            });
        }
    }

    let (mounted, other) = match config.token_layout {
        TokenLayout::V1_6 => (token_file(TokenLayout::V1_6), token_file(TokenLayout::V1_5)),
        TokenLayout::V1_5 => (token_file(TokenLayout::V1_5), token_file(TokenLayout::V1_6)),
    };
    for container in &pod.containers {
        if refers_to(container.object, &other) {
            hints.push(Hint::OtherLayoutPath {
                container: container.name.to_string(),
                used: other.clone(),
                mounted: mounted.clone(),
            });
        }
    }

    if proxy && pod.os_name() == Some("windows") {
        hints.push(Hint::ProxyOnWindows);
    }
    hints
}

/// Whether `path` occurs in one of the container's env values, its command or its args.
fn refers_to(container: &serde_json::Map<String, Value>, path: &str) -> bool {
    let strings = |key: &str| {
        container
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|s| s.contains(path))
    };
    let env = container
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("value").and_then(Value::as_str))
        .any(|v| v.contains(path));
    env || strings("command") || strings("args")
}
