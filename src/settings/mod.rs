//! Policy settings: what the user writes (`Settings`, camelCase JSON) and what the request path
//! uses (`Config`, every default resolved and every rule checked).
//!
//! `Config::from_settings` is the single place where settings are validated; both
//! `validate_settings` and the request path go through it, so they can never disagree.

use serde::Deserialize;
use serde_json::{Map, Value};

mod clouds;
mod custom_token_endpoint;
pub(crate) mod go_fold;
mod label_selector;

use clouds::resolve_authority_host;
use custom_token_endpoint::custom_token_endpoint;
pub use custom_token_endpoint::{CaSource, CustomTokenEndpoint, CustomTokenEndpointSettings};

/// The default audience of the projected service-account token (docs/behaviour.md §6.1).
pub const DEFAULT_AUDIENCE: &str = "api://AzureADTokenExchange";

/// The settings as the user writes them. Unknown keys are rejected so that a typo in a setting
/// name never passes silently.
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// Tenant injected as `AZURE_TENANT_ID` when the ServiceAccount has no tenant-id annotation.
    #[serde(default)]
    pub default_tenant_id: Option<String>,
    /// Azure cloud name; selects `AZURE_AUTHORITY_HOST`.
    #[serde(default)]
    pub azure_environment: Option<String>,
    /// Explicit authority host (Azure Stack, air-gapped clouds); wins over `azureEnvironment`.
    #[serde(default)]
    pub authority_host: Option<String>,
    /// Audience of the projected token.
    #[serde(default)]
    pub audience: Option<String>,
    /// Where the token volume is mounted: `v1.6` (default) or the older `v1.5` layout.
    #[serde(default)]
    pub token_layout: Option<String>,
    /// Image of the `azwi-proxy` sidecar.
    #[serde(default)]
    pub proxy_image: Option<String>,
    /// Image of the `azwi-proxy-init` init container.
    #[serde(default)]
    pub proxy_init_image: Option<String>,
    /// `--log-level` of the proxy.
    #[serde(default)]
    pub proxy_log_level: Option<String>,
    /// Inject the proxy as a native sidecar (init container with `restartPolicy: Always`).
    #[serde(default)]
    pub use_native_sidecar: Option<bool>,
    /// The custom token endpoint ("identity binding") feature, off unless configured.
    #[serde(default, deserialize_with = "object_only")]
    pub custom_token_endpoint: Option<CustomTokenEndpointSettings>,
    /// How findings of the checks are delivered: `warn` (default) or `reject`.
    #[serde(default)]
    pub findings: Option<String>,
    /// Verify labelled Pods instead of mutating them.
    #[serde(default)]
    pub verify: Option<bool>,
}

/// A nested settings object must be a JSON object: serde's derived impl would also take a list
/// of the fields in order, which no user means.
fn object_only<'de, D>(deserializer: D) -> Result<Option<CustomTokenEndpointSettings>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::{Error, Unexpected};
    let unexpected = match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => return Ok(None),
        Some(object @ Value::Object(_)) => {
            return serde_json::from_value(object)
                .map(Some)
                .map_err(D::Error::custom);
        }
        Some(Value::Array(_)) => Unexpected::Seq,
        Some(Value::Bool(b)) => Unexpected::Bool(b),
        Some(Value::Number(_)) => Unexpected::Other("number"),
        Some(Value::String(_)) => Unexpected::Other("string"),
    };
    Err(D::Error::invalid_type(
        unexpected,
        &"struct CustomTokenEndpointSettings",
    ))
}

/// Where the projected token lives in the Pod (docs/behaviour.md §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenLayout {
    /// Upstream v1.6.0: hashed volume name, mount at `/var/run/secrets/azure/wi`.
    V1_6,
    /// Upstream ≤ v1.5.x: volume `azure-identity-token`, mount at `/var/run/secrets/azure/tokens`.
    V1_5,
}

/// Validated settings with every default resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub default_tenant_id: String,
    /// Value of `AZURE_AUTHORITY_HOST`; injected verbatim.
    pub authority_host: String,
    pub audience: String,
    pub token_layout: TokenLayout,
    pub proxy: ProxyConfig,
    /// `None` when the custom token endpoint feature is off.
    pub custom_token_endpoint: Option<CustomTokenEndpoint>,
    pub findings: Findings,
    /// Pods are verified, never mutated.
    pub verify: bool,
}

/// How the checks of workloads, ServiceAccounts and verified Pods deliver what they find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Findings {
    /// Accept, with one warning per finding.
    Warn,
    /// Reject, with every finding in the message.
    Reject,
}

pub const DEFAULT_PROXY_IMAGE: &str = "mcr.microsoft.com/oss/azure/workload-identity/proxy:v1.6.0";
pub const DEFAULT_PROXY_INIT_IMAGE: &str =
    "mcr.microsoft.com/oss/azure/workload-identity/proxy-init:v1.6.0";
pub const DEFAULT_PROXY_LOG_LEVEL: &str = "info";
/// The proxy's level when `proxyLogLevel` is "": the level upstream's webhook runs at with an
/// empty `--log-level` (docs/behaviour.md §6.1).
const UNSET_LOG_LEVEL: &str = "warning";
/// The levels upstream can pass to the proxy (docs/behaviour.md §6.1).
pub const PROXY_LOG_LEVELS: &[&str] = &["all", "trace", "debug", "info", "warning"];

#[derive(Debug, Clone, PartialEq)]
pub struct ProxyConfig {
    pub image: String,
    pub init_image: String,
    pub log_level: String,
    pub native_sidecar: bool,
}

impl Settings {
    /// Parses settings JSON; the error names the offending key or type.
    pub fn from_json(raw: &str) -> Result<Settings, String> {
        match serde_json::from_str::<Value>(raw) {
            Err(e) => Err(format!("the settings are not valid JSON: {e}")),
            Ok(Value::Null) => Ok(Settings::default()),
            Ok(Value::Object(object)) => from_object::<Settings>(object, "").map_err(|e| {
                format!(
                    "{e}. Accepted settings: defaultTenantId (required), azureEnvironment, \
                     authorityHost, audience, tokenLayout, proxyImage, proxyInitImage, \
                     proxyLogLevel, useNativeSidecar, customTokenEndpoint, findings, verify"
                )
            }),
            Ok(_) => Err(
                "the settings must be a JSON object, e.g. {\"defaultTenantId\": \"<tenant-id>\"}"
                    .to_string(),
            ),
        }
    }
}

/// Deserialises a settings object; on failure the error names the setting (`prefix` + key)
/// that is unknown or has the wrong type, which serde's own message does not.
fn from_object<T: serde::de::DeserializeOwned>(
    object: Map<String, Value>,
    prefix: &str,
) -> Result<T, String> {
    let whole = match serde_json::from_value::<T>(Value::Object(object.clone())) {
        Ok(settings) => return Ok(settings),
        Err(e) => e.to_string(),
    };
    for (key, value) in object {
        let name = format!("{prefix}{key}");
        let single = Value::Object(Map::from_iter([(key.clone(), value.clone())]));
        if let Err(e) = serde_json::from_value::<T>(single) {
            return Err(match (key.as_str(), value) {
                ("customTokenEndpoint", Value::Object(nested)) => {
                    match from_object::<CustomTokenEndpointSettings>(nested, "customTokenEndpoint.")
                    {
                        Err(nested_error) => nested_error,
                        Ok(_) => format!("setting {name}: {e}"),
                    }
                }
                _ => format!("setting {name}: {e}"),
            });
        }
    }
    Err(whole)
}

impl Config {
    /// Validates the settings and resolves the defaults. The error says which setting is wrong
    /// and what is accepted.
    pub fn from_settings(settings: &Settings) -> Result<Config, String> {
        let default_tenant_id = match settings.default_tenant_id.as_deref().map(str::trim) {
            Some(tenant) if !tenant.is_empty() => tenant.to_string(),
            _ => {
                return Err("defaultTenantId is required: set it to the ID of the Microsoft Entra \
                     tenant used for ServiceAccounts that have no azure.workload.identity/tenant-id \
                     annotation (upstream chart value azureTenantID), e.g. \
                     {\"defaultTenantId\": \"00000000-0000-0000-0000-000000000000\"}"
                    .to_string());
            }
        };

        let authority_host = resolve_authority_host(
            settings.azure_environment.as_deref(),
            settings.authority_host.as_deref(),
        )?;

        let audience = or_default(
            "audience",
            settings.audience.as_deref(),
            DEFAULT_AUDIENCE,
            "or set the audience your federated identity credentials expect",
        )?;

        let token_layout = match settings.token_layout.as_deref() {
            None | Some("v1.6") => TokenLayout::V1_6,
            Some("v1.5") => TokenLayout::V1_5,
            Some(other) => {
                return Err(format!(
                    "tokenLayout \"{other}\" is not supported. Accepted values: \"v1.6\" (default: \
                     token at /var/run/secrets/azure/wi/token/azure-identity-token) and \"v1.5\" \
                     (token at /var/run/secrets/azure/tokens/azure-identity-token, as webhook \
                     releases up to v1.5.x injected it)"
                ));
            }
        };

        let findings = match settings.findings.as_deref() {
            None | Some("warn") => Findings::Warn,
            Some("reject") => Findings::Reject,
            Some(other) => {
                return Err(format!(
                    "findings \"{other}\" is not supported. Accepted values: \"warn\" (default: \
                     accept, with a warning per finding) and \"reject\" (reject, with every \
                     finding in the message)"
                ));
            }
        };

        Ok(Config {
            findings,
            verify: settings.verify.unwrap_or(false),
            default_tenant_id,
            authority_host,
            audience,
            token_layout,
            proxy: proxy_config(settings)?,
            custom_token_endpoint: match &settings.custom_token_endpoint {
                Some(cte) => custom_token_endpoint(cte)?,
                None => None,
            },
        })
    }
}

/// A string setting whose empty value means the default, as the matching upstream flag or
/// environment variable does. Only whitespace is refused: upstream would pass it on verbatim and
/// produce Pods that cannot run.
fn or_default(name: &str, value: Option<&str>, default: &str, or: &str) -> Result<String, String> {
    match value {
        None | Some("") => Ok(default.to_string()),
        Some(v) if v.trim().is_empty() => Err(format!(
            "{name} {v:?} is only whitespace: remove it or set \"\" to use the default \
             \"{default}\", {or}"
        )),
        Some(v) => Ok(v.to_string()),
    }
}

fn proxy_config(settings: &Settings) -> Result<ProxyConfig, String> {
    let log_level = match settings.proxy_log_level.as_deref() {
        None => DEFAULT_PROXY_LOG_LEVEL,
        // Upstream's webhook with an empty --log-level logs at "warning" and passes that on.
        Some("") => UNSET_LOG_LEVEL,
        Some(level) => level,
    }
    .to_string();
    if !PROXY_LOG_LEVELS.contains(&log_level.as_str()) {
        return Err(format!(
            "proxyLogLevel \"{log_level}\" is not supported. Accepted values: {}",
            PROXY_LOG_LEVELS.join(", ")
        ));
    }
    Ok(ProxyConfig {
        image: or_default(
            "proxyImage",
            settings.proxy_image.as_deref(),
            DEFAULT_PROXY_IMAGE,
            "or set the image of the azwi-proxy sidecar",
        )?,
        init_image: or_default(
            "proxyInitImage",
            settings.proxy_init_image.as_deref(),
            DEFAULT_PROXY_INIT_IMAGE,
            "or set the image of the azwi-proxy-init container",
        )?,
        log_level,
        native_sidecar: settings.use_native_sidecar.unwrap_or(true),
    })
}

/// The settings check of the unit tests: JSON text to a `Config`, as `validate_settings` does.
#[cfg(test)]
fn test_config(raw: &str) -> Result<Config, String> {
    Settings::from_json(raw).and_then(|s| Config::from_settings(&s))
}

#[cfg(test)]
mod tests;
