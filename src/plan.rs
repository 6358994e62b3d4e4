//! The decision: a pure function of (settings, Pod, ServiceAccount) that returns everything the
//! mutation needs, or the rejection. Checks run in upstream's order (docs/behaviour.md §3.1),
//! with the project's client-id rule (§3.2) right after the ServiceAccount lookup.

use serde_json::{Value, json};

use crate::client_id::client_id;
use crate::expiration::{DEFAULT_SECONDS, token_expiration};
use crate::go_int;
use crate::names::{
    AZURE_AUTHORITY_HOST, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_KUBERNETES_CA_DATA,
    AZURE_KUBERNETES_CA_FILE, AZURE_KUBERNETES_SNI_NAME, AZURE_KUBERNETES_TOKEN_PROXY,
    AZURE_TENANT_ID, CA_PATH, DEFAULT_PROXY_PORT, INJECT_PROXY_ANNOTATION, LEGACY_MOUNT_PATH,
    LEGACY_TOKEN_PATH, LEGACY_VOLUME_NAME, MOUNT_PATH, PROXY_CONTAINER, PROXY_INIT_CONTAINER,
    PROXY_PORT_ANNOTATION, RESERVED_PREFIX, SKIP_CONTAINERS_ANNOTATION, TENANT_ID_ANNOTATION,
    TOKEN_EXPIRATION_ANNOTATION, TOKEN_PATH,
};
use crate::pod::Pod;
use crate::problem::{LookupProblem, Problem, Problems};
use crate::service_account::ServiceAccount;
use crate::settings::go_fold::equal_fold;
use crate::settings::{CaSource, Config, CustomTokenEndpoint, TokenLayout};
use crate::volume_name::volume_name;

/// Everything the mutation needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The env vars to add where missing, in order; empty values are already left out.
    pub env: Vec<(&'static str, String)>,
    /// Names of the containers that get neither env vars nor the mount.
    pub skip: Vec<String>,
    pub token: TokenPlan,
    /// The proxy containers to insert before the env vars and mounts are added.
    pub proxy: Option<ProxyPlan>,
}

/// The proxy containers of docs/behaviour.md §4.6, ready to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyPlan {
    /// `azwi-proxy-init`, appended to the init containers.
    pub init_container: Value,
    /// `azwi-proxy`, prepended to the init containers (native sidecar) or the containers.
    pub sidecar: Value,
    pub native_sidecar: bool,
}

/// The token volume, its mount, and how an earlier injection is recognised.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenPlan {
    pub layout: TokenLayout,
    pub volume_name: String,
    pub mount_path: &'static str,
    /// The canonical volume, as it is added to `spec.volumes`.
    pub volume: Value,
}

impl Plan {
    pub fn skips(&self, container: &str) -> bool {
        self.skip.iter().any(|s| s == container)
    }
}

/// `skip-containers` (docs/behaviour.md §2.5): split on `;` only, items trimmed. An empty item
/// is kept, as upstream keeps it (`"a;"` also skips a container named ""); an empty annotation
/// skips none.
pub fn skip_containers(annotation: Option<&str>) -> Vec<String> {
    match annotation {
        None | Some("") => Vec::new(),
        Some(list) => list.split(';').map(|s| s.trim().to_string()).collect(),
    }
}

/// Decides the mutation of a Pod whose ServiceAccount `sa_name` was looked up as `sa`, or
/// returns every problem that prevents it, in the order upstream checks them (the first is
/// the one a Pod is rejected for).
pub fn plan(
    config: &Config,
    pod: &Pod,
    sa_name: &str,
    sa: Result<&ServiceAccount, &LookupProblem>,
) -> Result<Plan, Problems> {
    let mut problems = Vec::new();
    let skip = skip_containers(pod.annotation(SKIP_CONTAINERS_ANNOTATION));
    let sa = match sa {
        Ok(sa) => Some(sa),
        Err(problem) => {
            problems.push(Problem::ServiceAccount {
                name: sa_name.to_string(),
                problem: problem.clone(),
            });
            None
        }
    };

    // Project rule: a usable client id is required, unless every container the policy
    // mutates already gives AZURE_CLIENT_ID a value itself.
    let client_id = match sa.map(client_id) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(problem)) => {
            // The proxy containers are the policy's own and do not count, whether it adds
            // them now or added them in an earlier pass.
            let proxy = pod.has_annotation(INJECT_PROXY_ANNOTATION);
            let all_set = pod
                .containers
                .iter()
                .filter(|c| !skip.iter().any(|s| s == c.name))
                .filter(|c| !(proxy && [PROXY_CONTAINER, PROXY_INIT_CONTAINER].contains(&c.name)))
                .all(|c| c.sets_env(AZURE_CLIENT_ID));
            if !all_set {
                problems.push(Problem::NoClientId {
                    service_account: sa_name.to_string(),
                    problem,
                });
            }
            None
        }
    };

    // As upstream: the proxy checks come before the token expiration.
    let proxy = match pod.has_annotation(INJECT_PROXY_ANNOTATION) {
        true => proxy_plan(config, pod).map_err(|p| problems.push(p)).ok(),
        false => None,
    };

    // An unreadable ServiceAccount leaves only the Pod's own annotation to check.
    let expiration = token_expiration(
        pod.annotation(TOKEN_EXPIRATION_ANNOTATION),
        sa.and_then(|sa| sa.annotation(TOKEN_EXPIRATION_ANNOTATION)),
    )
    .map_err(|error| {
        problems.push(Problem::TokenExpiration {
            service_account: sa_name.to_string(),
            error,
        })
    })
    .unwrap_or(DEFAULT_SECONDS);
    if let Some(problems) = Problems::from_vec(problems) {
        return Err(problems);
    }

    let custom_endpoint = match &config.custom_token_endpoint {
        Some(cte) => pod
            .annotation(&cte.annotation_key)
            .filter(|v| equal_fold(v, "true"))
            .map(|_| cte),
        None => None,
    };
    let tenant_id = sa
        .and_then(|sa| sa.annotation(TENANT_ID_ANNOTATION))
        .unwrap_or(&config.default_tenant_id);
    let token = token_plan(config, pod, custom_endpoint, expiration);
    let token_file = token_file(config.token_layout);
    let ca_file = format!("{}/{CA_PATH}", token.mount_path);

    let mut env: Vec<(&'static str, &str)> = vec![
        (AZURE_CLIENT_ID, client_id.unwrap_or("")),
        (AZURE_TENANT_ID, tenant_id),
        (AZURE_FEDERATED_TOKEN_FILE, &token_file),
        (AZURE_AUTHORITY_HOST, &config.authority_host),
    ];
    if let Some(cte) = custom_endpoint {
        let ca_data = match &cte.ca {
            CaSource::Data(data) => data.as_str(),
            _ => "",
        };
        env.extend([
            (AZURE_KUBERNETES_TOKEN_PROXY, cte.token_proxy.as_str()),
            (AZURE_KUBERNETES_SNI_NAME, cte.sni_name.as_str()),
            (AZURE_KUBERNETES_CA_FILE, ca_file.as_str()),
            (AZURE_KUBERNETES_CA_DATA, ca_data),
        ]);
    }
    let env = env
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| (name, value.to_string()))
        .collect();

    Ok(Plan {
        env,
        skip,
        token,
        proxy,
    })
}

/// The proxy containers (docs/behaviour.md §4.6): a Pod on the host network cannot get the
/// proxy, and the port annotation is parsed as upstream parses it.
fn proxy_plan(config: &Config, pod: &Pod) -> Result<ProxyPlan, Problem> {
    if pod.host_network() {
        return Err(Problem::ProxyOnHostNetwork);
    }
    let port = match pod.annotation(PROXY_PORT_ANNOTATION) {
        None => DEFAULT_PROXY_PORT,
        Some(raw) => go_int::parse_int(raw, 32).map_err(|error| Problem::ProxyPort {
            value: raw.to_string(),
            error,
        })?,
    };
    let proxy = &config.proxy;
    // Written as JSON text and parsed: for the few Pods that ask for the proxy this costs a
    // parse, and the module stays smaller than with the containers built field by field.
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let (port_arg, log_arg) = (
        quote(&format!("--proxy-port={port}")),
        quote(&format!("--log-level={}", proxy.log_level)),
    );
    let init_container = format!(
        r#"{{"name": "{PROXY_INIT_CONTAINER}", "image": {image}, "imagePullPolicy": "IfNotPresent",
            "securityContext": {{"capabilities": {{"add": ["NET_ADMIN"], "drop": ["ALL"]}},
                "privileged": true, "runAsNonRoot": false, "runAsUser": 0}},
            "env": [{{"name": "PROXY_PORT", "value": "{port}"}}]}}"#,
        image = quote(&proxy.init_image),
    );
    let restart_policy = match proxy.native_sidecar {
        true => r#", "restartPolicy": "Always""#,
        false => "",
    };
    let sidecar = format!(
        r#"{{"name": "{PROXY_CONTAINER}", "image": {image}, "imagePullPolicy": "IfNotPresent",
            "args": [{port_arg}, {log_arg}], "ports": [{{"containerPort": {port}}}],
            "lifecycle": {{"postStart": {{"exec": {{"command":
                ["/proxy", {port_arg}, "--probe", {log_arg}]}}}}}},
            "securityContext": {{"allowPrivilegeEscalation": false,
                "capabilities": {{"drop": ["ALL"]}}, "privileged": false,
                "readOnlyRootFilesystem": true, "runAsNonRoot": true}}{restart_policy}}}"#,
        image = quote(&proxy.image),
    );
    let parse = |text: &str| serde_json::from_str(text).unwrap_or(Value::Null);
    let (init_container, sidecar) = (parse(&init_container), parse(&sidecar));
    Ok(ProxyPlan {
        init_container,
        sidecar,
        native_sidecar: proxy.native_sidecar,
    })
}

fn token_path(layout: TokenLayout) -> &'static str {
    match layout {
        TokenLayout::V1_6 => TOKEN_PATH,
        TokenLayout::V1_5 => LEGACY_TOKEN_PATH,
    }
}

fn mount_path(layout: TokenLayout) -> &'static str {
    match layout {
        TokenLayout::V1_6 => MOUNT_PATH,
        TokenLayout::V1_5 => LEGACY_MOUNT_PATH,
    }
}

/// `AZURE_FEDERATED_TOKEN_FILE` of a token layout.
pub fn token_file(layout: TokenLayout) -> String {
    format!("{}/{}", mount_path(layout), token_path(layout))
}

fn token_plan(
    config: &Config,
    pod: &Pod,
    custom_endpoint: Option<&CustomTokenEndpoint>,
    expiration: i64,
) -> TokenPlan {
    let volume_name = match config.token_layout {
        TokenLayout::V1_6 => v1_6_volume_name(pod),
        TokenLayout::V1_5 => LEGACY_VOLUME_NAME.to_string(),
    };
    let mount_path = mount_path(config.token_layout);
    let audience = custom_endpoint.map_or(config.audience.as_str(), |c| c.audience.as_str());
    let mut sources = vec![json!({
        "serviceAccountToken": {
            "path": token_path(config.token_layout),
            "audience": audience,
            "expirationSeconds": expiration,
        }
    })];
    match custom_endpoint.map(|c| &c.ca) {
        Some(CaSource::ConfigMap(name)) => sources.push(json!({
            "configMap": {
                "name": name,
                "items": [{"key": "ca.crt", "path": CA_PATH}],
                "optional": false,
            }
        })),
        Some(CaSource::ClusterTrustBundle {
            signer_name,
            label_selector,
        }) => {
            let mut bundle = json!({"signerName": signer_name, "path": CA_PATH, "optional": false});
            if let (Some(selector), Some(obj)) = (label_selector, bundle.as_object_mut()) {
                obj.insert("labelSelector".to_string(), selector.clone());
            }
            sources.push(json!({ "clusterTrustBundle": bundle }));
        }
        Some(CaSource::Data(_) | CaSource::None) | None => {}
    }
    let volume = json!({"name": volume_name, "projected": {"sources": sources}});
    TokenPlan {
        layout: config.token_layout,
        volume_name,
        mount_path,
        volume,
    }
}

/// The hashed name of docs/behaviour.md §4.5, except that a Pod which already has a volume with
/// the reserved prefix keeps that volume's name (a project decision, §5.1): a re-invocation after
/// another webhook changed `metadata.name` then reuses the existing volume instead of adding a
/// second one.
fn v1_6_volume_name(pod: &Pod) -> String {
    let computed = volume_name(&pod.hash_input());
    let names = pod
        .volumes
        .iter()
        .filter_map(|v| v.get("name").and_then(Value::as_str));
    let mut existing = None;
    for name in names {
        if name == computed {
            return computed;
        }
        if existing.is_none() && name.starts_with(RESERVED_PREFIX) {
            existing = Some(name);
        }
    }
    existing.map(str::to_string).unwrap_or(computed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_skip_containers_like_upstream() {
        let cases: &[(Option<&str>, &[&str])] = &[
            (None, &[]),
            (Some(""), &[]),
            (Some("a"), &["a"]),
            (Some("a;b"), &["a", "b"]),
            (Some(" a ; b ;"), &["a", "b", ""]),
            (Some(";;a;;"), &["", "", "a", "", ""]),
            (Some(" "), &[""]),
            (Some("a,b"), &["a,b"]),
            (Some("a b"), &["a b"]),
            (Some("\ta\n;B"), &["a", "B"]),
        ];
        for (annotation, expected) in cases {
            assert_eq!(
                &skip_containers(*annotation),
                expected,
                "annotation {annotation:?}"
            );
        }
    }
}
