//! The decision: a pure function of (settings, Pod, ServiceAccount) that returns everything the
//! mutation needs, or the rejection. Checks run in upstream's order (spec §3), with the
//! project's client-id rule right after the ServiceAccount lookup.

use serde_json::{Value, json};

use crate::client_id::client_id;
use crate::expiration::{self, token_expiration};
use crate::messages::{self, Rejection};
use crate::pod::Pod;
use crate::service_account::ServiceAccount;
use crate::settings::{Config, TokenLayout};
use crate::volume_name::{RESERVED_PREFIX, volume_name};

pub const SKIP_CONTAINERS_ANNOTATION: &str = "azure.workload.identity/skip-containers";
pub const TENANT_ID_ANNOTATION: &str = "azure.workload.identity/tenant-id";

pub const AZURE_CLIENT_ID: &str = "AZURE_CLIENT_ID";
pub const AZURE_TENANT_ID: &str = "AZURE_TENANT_ID";
pub const AZURE_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
pub const AZURE_AUTHORITY_HOST: &str = "AZURE_AUTHORITY_HOST";

/// The v1.6 layout (spec §4.3, §4.5).
pub const MOUNT_PATH: &str = "/var/run/secrets/azure/wi";
pub const TOKEN_PATH: &str = "token/azure-identity-token";
/// The ≤ v1.5 layout (spec §9).
pub const LEGACY_VOLUME_NAME: &str = "azure-identity-token";
pub const LEGACY_MOUNT_PATH: &str = "/var/run/secrets/azure/tokens";
pub const LEGACY_TOKEN_PATH: &str = "azure-identity-token";

/// Everything the mutation needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The env vars to add where missing, in order; empty values are already left out.
    pub env: Vec<(&'static str, String)>,
    /// Names of the containers that get neither env vars nor the mount.
    pub skip: Vec<String>,
    pub token: TokenPlan,
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

/// `skip-containers` (spec §2.1): split on `;` only, items trimmed, empty items ignored.
pub fn skip_containers(annotation: Option<&str>) -> Vec<String> {
    annotation
        .unwrap_or("")
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Decides the mutation of a selected Pod whose ServiceAccount `sa_name` was read as `sa`.
pub fn plan(
    config: &Config,
    pod: &Pod,
    sa_name: &str,
    sa: &ServiceAccount,
) -> Result<Plan, Rejection> {
    let skip = skip_containers(pod.annotation(SKIP_CONTAINERS_ANNOTATION)?);
    let containers = pod.all_containers()?;

    // Project rule (spec §5): a usable client id is required, unless every container the
    // policy mutates already gives AZURE_CLIENT_ID a value itself.
    let client_id = match client_id(sa) {
        Ok(id) => Some(id),
        Err(problem) => {
            let all_set = containers
                .iter()
                .filter(|c| !skip.iter().any(|s| s == c.name))
                .all(|c| c.sets_env(AZURE_CLIENT_ID));
            if !all_set {
                return Err(messages::missing_client_id(
                    &pod.reference,
                    sa_name,
                    &problem,
                ));
            }
            None
        }
    };

    let expiration = token_expiration(
        pod.annotation(expiration::ANNOTATION)?,
        sa.annotation(expiration::ANNOTATION),
    )
    .map_err(|e| messages::token_expiration(&pod.reference, sa_name, &e))?;

    let tenant_id = sa
        .annotation(TENANT_ID_ANNOTATION)
        .unwrap_or(&config.default_tenant_id);
    let token = token_plan(config, pod, &config.audience, expiration)?;
    let token_file = format!("{}/{}", token.mount_path, token_path(config.token_layout));

    let env = [
        (AZURE_CLIENT_ID, client_id.unwrap_or("")),
        (AZURE_TENANT_ID, tenant_id),
        (AZURE_FEDERATED_TOKEN_FILE, &token_file),
        (AZURE_AUTHORITY_HOST, &config.authority_host),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .map(|(name, value)| (name, value.to_string()))
    .collect();

    Ok(Plan { env, skip, token })
}

fn token_path(layout: TokenLayout) -> &'static str {
    match layout {
        TokenLayout::V1_6 => TOKEN_PATH,
        TokenLayout::V1_5 => LEGACY_TOKEN_PATH,
    }
}

fn token_plan(
    config: &Config,
    pod: &Pod,
    audience: &str,
    expiration: i64,
) -> Result<TokenPlan, Rejection> {
    let (volume_name, mount_path) = match config.token_layout {
        TokenLayout::V1_6 => (v1_6_volume_name(pod)?, MOUNT_PATH),
        TokenLayout::V1_5 => (LEGACY_VOLUME_NAME.to_string(), LEGACY_MOUNT_PATH),
    };
    let volume = json!({
        "name": volume_name,
        "projected": {
            "sources": [{
                "serviceAccountToken": {
                    "path": token_path(config.token_layout),
                    "audience": audience,
                    "expirationSeconds": expiration,
                }
            }]
        }
    });
    Ok(TokenPlan {
        layout: config.token_layout,
        volume_name,
        mount_path,
        volume,
    })
}

/// The hashed name of spec §4.5, except that a Pod which already has a volume with the reserved
/// prefix keeps that volume's name [project decision, spec §7]: a re-invocation after another
/// webhook changed `metadata.name` then reuses the existing volume instead of adding a second
/// one.
fn v1_6_volume_name(pod: &Pod) -> Result<String, Rejection> {
    let computed = volume_name(&pod.hash_input());
    let names = pod
        .volumes()?
        .iter()
        .filter_map(|v| v.get("name").and_then(Value::as_str));
    let mut existing = None;
    for name in names {
        if name == computed {
            return Ok(computed);
        }
        if existing.is_none() && name.starts_with(RESERVED_PREFIX) {
            existing = Some(name);
        }
    }
    Ok(existing.map(str::to_string).unwrap_or(computed))
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
            (Some(" a ; b ;"), &["a", "b"]),
            (Some(";;a;;"), &["a"]),
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
