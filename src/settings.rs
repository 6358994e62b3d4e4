//! Policy settings: what the user writes (`Settings`, camelCase JSON) and what the request path
//! uses (`Config`, every default resolved and every rule checked).
//!
//! `Config::from_settings` is the single place where settings are validated; both
//! `validate_settings` and the request path go through it, so they can never disagree.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::names::CUSTOM_ENDPOINT_ANNOTATION_PREFIX;

/// The default audience of the projected service-account token (spec §6.1).
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

/// `customTokenEndpoint` as the user writes it (upstream flags and env of spec §6.1, §6.3).
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomTokenEndpointSettings {
    #[serde(default)]
    pub annotation_suffix: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default)]
    pub token_proxy: String,
    #[serde(default)]
    pub sni_name: String,
    #[serde(default)]
    pub ca_data: String,
    #[serde(default)]
    pub ca_config_map_name: String,
    #[serde(default)]
    pub ca_cluster_trust_bundle_signer_name: String,
    /// A Kubernetes LabelSelector, copied verbatim into the projected source.
    #[serde(default)]
    pub ca_cluster_trust_bundle_label_selector: Option<serde_json::Value>,
}

/// Where the projected token lives in the Pod (spec §4.3, §4.5 and §9).
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
/// The levels upstream can pass to the proxy (spec §4.6).
pub const PROXY_LOG_LEVELS: &[&str] = &["all", "trace", "debug", "info", "warning"];

#[derive(Debug, Clone, PartialEq)]
pub struct ProxyConfig {
    pub image: String,
    pub init_image: String,
    pub log_level: String,
    pub native_sidecar: bool,
}

/// The validated custom token endpoint configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomTokenEndpoint {
    /// `azure.workload.identity/use-<suffix>`, the per-Pod trigger.
    pub annotation_key: String,
    pub audience: String,
    pub token_proxy: String,
    pub sni_name: String,
    pub ca: CaSource,
}

/// How the token endpoint's CA reaches the Pod; at most one source.
#[derive(Debug, Clone, PartialEq)]
pub enum CaSource {
    None,
    /// Inline PEM, injected as `AZURE_KUBERNETES_CA_DATA`; no projected file.
    Data(String),
    ConfigMap(String),
    ClusterTrustBundle {
        signer_name: String,
        label_selector: Option<serde_json::Value>,
    },
}

/// Cloud names accepted by `azureEnvironment` and their authority hosts (spec §6.2).
/// Matching is case-insensitive, as upstream upper-cases the name before the lookup.
pub const CLOUDS: &[(&str, &str)] = &[
    ("AzurePublicCloud", PUBLIC_CLOUD_AUTHORITY),
    ("AzureCloud", PUBLIC_CLOUD_AUTHORITY),
    (
        "AzureUSGovernmentCloud",
        "https://login.microsoftonline.us/",
    ),
    ("AzureUSGovernment", "https://login.microsoftonline.us/"),
    ("AzureChinaCloud", "https://login.chinacloudapi.cn/"),
    ("AzureGermanCloud", "https://login.microsoftonline.de/"),
];

/// The authority host used when `azureEnvironment` is not set.
pub const PUBLIC_CLOUD_AUTHORITY: &str = "https://login.microsoftonline.com/";

const AZURE_STACK_CLOUD: &str = "AzureStackCloud";

/// The authority host of a cloud name, ignoring case; `None` for an unknown name.
pub fn authority_host_for(cloud: &str) -> Option<&'static str> {
    CLOUDS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(cloud))
        .map(|(_, host)| *host)
}

fn accepted_clouds() -> String {
    CLOUDS
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
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

        let audience = match settings.audience.as_deref() {
            None => DEFAULT_AUDIENCE.to_string(),
            Some(a) if a.trim().is_empty() => {
                return Err(format!(
                    "audience must not be empty: remove it to use the default \"{DEFAULT_AUDIENCE}\", \
                     or set the audience your federated identity credentials expect"
                ));
            }
            Some(a) => a.to_string(),
        };

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

fn non_empty(name: &str, value: Option<&str>, default: &str) -> Result<String, String> {
    match value {
        None => Ok(default.to_string()),
        Some(v) if v.trim().is_empty() => Err(format!(
            "{name} must not be empty: remove it to use the default \"{default}\""
        )),
        Some(v) => Ok(v.to_string()),
    }
}

fn proxy_config(settings: &Settings) -> Result<ProxyConfig, String> {
    let log_level = non_empty(
        "proxyLogLevel",
        settings.proxy_log_level.as_deref(),
        DEFAULT_PROXY_LOG_LEVEL,
    )?;
    if !PROXY_LOG_LEVELS.contains(&log_level.as_str()) {
        return Err(format!(
            "proxyLogLevel \"{log_level}\" is not supported. Accepted values: {}",
            PROXY_LOG_LEVELS.join(", ")
        ));
    }
    Ok(ProxyConfig {
        image: non_empty(
            "proxyImage",
            settings.proxy_image.as_deref(),
            DEFAULT_PROXY_IMAGE,
        )?,
        init_image: non_empty(
            "proxyInitImage",
            settings.proxy_init_image.as_deref(),
            DEFAULT_PROXY_INIT_IMAGE,
        )?,
        log_level,
        native_sidecar: settings.use_native_sidecar.unwrap_or(true),
    })
}

/// Mirrors upstream's start-up checks of the feature (spec §6.3).
fn custom_token_endpoint(
    cte: &CustomTokenEndpointSettings,
) -> Result<Option<CustomTokenEndpoint>, String> {
    let (suffix, audience) = (cte.annotation_suffix.as_str(), cte.audience.as_str());
    match (suffix.is_empty(), audience.is_empty()) {
        (true, true) => return Ok(None),
        (false, false) => {}
        _ => {
            return Err(
                "customTokenEndpoint.annotationSuffix and customTokenEndpoint.audience \
                 must be set together: set both to enable the custom token endpoint, or neither to \
                 disable it"
                    .to_string(),
            );
        }
    }
    if audience.eq_ignore_ascii_case(DEFAULT_AUDIENCE) {
        return Err(format!(
            "customTokenEndpoint.audience must differ from \"{DEFAULT_AUDIENCE}\" (compared \
             ignoring case): set the audience your token endpoint expects"
        ));
    }
    let annotation_key = format!("{CUSTOM_ENDPOINT_ANNOTATION_PREFIX}{suffix}");
    // ASCII only: a qualified name is ASCII, and Unicode lowercasing would turn e.g. the Kelvin
    // sign into an ASCII 'k' and let an invalid annotation key through.
    let name = format!("use-{}", suffix.to_ascii_lowercase());
    if !is_qualified_name_part(&name) {
        return Err(format!(
            "customTokenEndpoint.annotationSuffix \"{suffix}\" makes the annotation key \
             \"{annotation_key}\", which is not a valid Kubernetes qualified name: after \
             \"azure.workload.identity/\" it must be at most 63 characters of letters, digits, \
             '-', '_' or '.', starting and ending with a letter or digit"
        ));
    }
    let sources = [
        !cte.ca_data.is_empty(),
        !cte.ca_config_map_name.is_empty(),
        !cte.ca_cluster_trust_bundle_signer_name.is_empty(),
    ];
    if sources.iter().filter(|set| **set).count() > 1 {
        return Err(
            "customTokenEndpoint: set at most one of caData, caConfigMapName and \
             caClusterTrustBundleSignerName; they are alternative ways to deliver the same CA"
                .to_string(),
        );
    }
    let label_selector = match &cte.ca_cluster_trust_bundle_label_selector {
        None | Some(serde_json::Value::Null) => None,
        Some(selector @ serde_json::Value::Object(_)) => Some(selector.clone()),
        Some(_) => {
            return Err("customTokenEndpoint.caClusterTrustBundleLabelSelector must be a \
                 Kubernetes LabelSelector object, e.g. {\"matchLabels\": {\"example.com/ca\": \"true\"}}"
                .to_string());
        }
    };
    if label_selector.is_some() && cte.ca_cluster_trust_bundle_signer_name.is_empty() {
        return Err(
            "customTokenEndpoint.caClusterTrustBundleLabelSelector needs \
             customTokenEndpoint.caClusterTrustBundleSignerName: set the signer of the \
             ClusterTrustBundles to select"
                .to_string(),
        );
    }
    let ca = if !cte.ca_data.is_empty() {
        CaSource::Data(cte.ca_data.clone())
    } else if !cte.ca_config_map_name.is_empty() {
        CaSource::ConfigMap(cte.ca_config_map_name.clone())
    } else if !cte.ca_cluster_trust_bundle_signer_name.is_empty() {
        CaSource::ClusterTrustBundle {
            signer_name: cte.ca_cluster_trust_bundle_signer_name.clone(),
            label_selector,
        }
    } else {
        CaSource::None
    };
    Ok(Some(CustomTokenEndpoint {
        annotation_key,
        audience: audience.to_string(),
        token_proxy: cte.token_proxy.clone(),
        sni_name: cte.sni_name.clone(),
        ca,
    }))
}

/// The name part of a Kubernetes qualified name: 1 to 63 characters of `[A-Za-z0-9_.-]`,
/// beginning and ending with a letter or digit.
fn is_qualified_name_part(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge_ok = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    (1..=63).contains(&bytes.len())
        && edge_ok(bytes.first())
        && edge_ok(bytes.last())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn resolve_authority_host(
    environment: Option<&str>,
    authority_host: Option<&str>,
) -> Result<String, String> {
    if let Some(host) = authority_host {
        if host.trim().is_empty() {
            return Err("authorityHost must not be empty: remove it to derive the authority host \
                 from azureEnvironment, or set the full URL, e.g. \"https://login.microsoftonline.com/\""
                .to_string());
        }
        if !host.starts_with("https://") || host.chars().any(char::is_whitespace) {
            return Err(format!(
                "authorityHost \"{host}\" is not an https URL: set the Microsoft Entra authority of \
                 your cloud, e.g. \"https://login.microsoftonline.com/\" (it is injected verbatim as \
                 AZURE_AUTHORITY_HOST)"
            ));
        }
    }
    match environment {
        None => Ok(authority_host.unwrap_or(PUBLIC_CLOUD_AUTHORITY).to_string()),
        Some(env) => match (authority_host_for(env), authority_host) {
            (_, Some(host)) if env.eq_ignore_ascii_case(AZURE_STACK_CLOUD) => Ok(host.to_string()),
            (Some(_), Some(host)) => Ok(host.to_string()),
            (Some(cloud_host), None) => Ok(cloud_host.to_string()),
            (None, None) if env.eq_ignore_ascii_case(AZURE_STACK_CLOUD) => Err(
                "azureEnvironment AzureStackCloud needs authorityHost: a policy cannot read the \
                 AZURE_ENVIRONMENT_FILEPATH file, so set authorityHost to the \
                 activeDirectoryEndpoint of your Azure Stack Hub"
                    .to_string(),
            ),
            (None, _) => Err(format!(
                "azureEnvironment \"{env}\" is not a known Azure cloud. Accepted values \
                 (case-insensitive): {}. For Azure Stack or an air-gapped cloud, set authorityHost.",
                accepted_clouds()
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(raw: &str) -> Result<Config, String> {
        Settings::from_json(raw).and_then(|s| Config::from_settings(&s))
    }

    const T: &str = "00000000-0000-0000-0000-000000000001";

    #[test]
    fn resolves_the_cloud_table_case_insensitively() {
        let cases = [
            (None, "https://login.microsoftonline.com/"),
            (
                Some("AzurePublicCloud"),
                "https://login.microsoftonline.com/",
            ),
            (Some("AzureCloud"), "https://login.microsoftonline.com/"),
            (
                Some("azurepubliccloud"),
                "https://login.microsoftonline.com/",
            ),
            (Some("AZURECLOUD"), "https://login.microsoftonline.com/"),
            (
                Some("AzureUSGovernmentCloud"),
                "https://login.microsoftonline.us/",
            ),
            (
                Some("AzureUSGovernment"),
                "https://login.microsoftonline.us/",
            ),
            (
                Some("azureusgovernment"),
                "https://login.microsoftonline.us/",
            ),
            (Some("AzureChinaCloud"), "https://login.chinacloudapi.cn/"),
            (
                Some("AzureGermanCloud"),
                "https://login.microsoftonline.de/",
            ),
        ];
        for (env, host) in cases {
            let raw = match env {
                Some(e) => format!(r#"{{"defaultTenantId": "{T}", "azureEnvironment": "{e}"}}"#),
                None => format!(r#"{{"defaultTenantId": "{T}"}}"#),
            };
            assert_eq!(
                config(&raw).map(|c| c.authority_host),
                Ok(host.to_string()),
                "{env:?}"
            );
        }
    }

    #[test]
    fn custom_token_endpoint_is_off_unless_configured() {
        for raw in [
            r#"{"defaultTenantId": "x"}"#,
            r#"{"defaultTenantId": "x", "customTokenEndpoint": {}}"#,
            r#"{"defaultTenantId": "x", "customTokenEndpoint": null}"#,
            r#"{"defaultTenantId": "x", "customTokenEndpoint": {"tokenProxy": "https://p"}}"#,
        ] {
            assert_eq!(
                config(raw).map(|c| c.custom_token_endpoint),
                Ok(None),
                "{raw}"
            );
        }
        let ca = |cte: &str| {
            config(&format!(
                r#"{{"defaultTenantId": "x", "customTokenEndpoint": {{"annotationSuffix": "b", "audience": "api://x"{cte}}}}}"#
            ))
            .map(|c| c.custom_token_endpoint.map(|e| e.ca))
        };
        assert_eq!(ca(""), Ok(Some(CaSource::None)));
        assert_eq!(
            ca(r#", "caData": "pem""#),
            Ok(Some(CaSource::Data("pem".to_string())))
        );
        assert_eq!(
            ca(r#", "caConfigMapName": "cm""#),
            Ok(Some(CaSource::ConfigMap("cm".to_string())))
        );
        assert_eq!(
            ca(r#", "caClusterTrustBundleSignerName": "s""#),
            Ok(Some(CaSource::ClusterTrustBundle {
                signer_name: "s".to_string(),
                label_selector: None
            }))
        );
    }

    #[test]
    fn annotation_suffix_must_make_a_qualified_name() {
        let suffix = |suffix: &str| {
            config(&format!(
                r#"{{"defaultTenantId": "x", "customTokenEndpoint": {{"annotationSuffix": "{suffix}", "audience": "api://x"}}}}"#
            ))
            .map(|c| c.custom_token_endpoint.map(|e| e.annotation_key))
        };
        assert_eq!(
            suffix("Binding"),
            Ok(Some("azure.workload.identity/use-Binding".to_string()))
        );
        for invalid in ["\u{212A}ey", "bind/ing", "bind-", "é"] {
            let message = suffix(invalid).err().unwrap_or_default();
            assert!(
                message.starts_with("customTokenEndpoint.annotationSuffix \""),
                "{invalid}: {message}"
            );
            assert!(
                message.contains("is not a valid Kubernetes qualified name"),
                "{invalid}: {message}"
            );
        }
    }

    #[test]
    fn qualified_name_rule() {
        let cases = [
            ("use-b", true),
            ("use-my.binding_1", true),
            ("use-", false),
            ("use-b.", false),
            ("use-b/c", false),
            ("use-é", false),
            ("", false),
        ];
        for (name, expected) in cases {
            assert_eq!(is_qualified_name_part(name), expected, "{name}");
        }
        assert!(is_qualified_name_part(&"a".repeat(63)));
        assert!(!is_qualified_name_part(&"a".repeat(64)));
    }

    #[test]
    fn resolves_defaults() {
        assert_eq!(
            config(&format!(r#"{{"defaultTenantId": " {T} "}}"#)),
            Ok(Config {
                default_tenant_id: T.to_string(),
                authority_host: "https://login.microsoftonline.com/".to_string(),
                audience: "api://AzureADTokenExchange".to_string(),
                token_layout: TokenLayout::V1_6,
                proxy: ProxyConfig {
                    image: DEFAULT_PROXY_IMAGE.to_string(),
                    init_image: DEFAULT_PROXY_INIT_IMAGE.to_string(),
                    log_level: "info".to_string(),
                    native_sidecar: true,
                },
                custom_token_endpoint: None,
                findings: Findings::Warn,
                verify: false,
            })
        );
        assert_eq!(
            config(&format!(
                r#"{{"defaultTenantId": "{T}", "azureEnvironment": "AzureChinaCloud",
                    "authorityHost": "https://login.example.test/adfs", "audience": "custom",
                    "tokenLayout": "v1.5", "proxyImage": "registry.local/proxy:v1",
                    "proxyInitImage": "registry.local/proxy-init:v1", "proxyLogLevel": "debug",
                    "useNativeSidecar": false,
                    "customTokenEndpoint": {{"annotationSuffix": "Binding", "audience": "api://custom",
                        "tokenProxy": "https://proxy.local:8443", "sniName": "sni.local",
                        "caClusterTrustBundleSignerName": "example.com/signer",
                        "caClusterTrustBundleLabelSelector": {{"matchLabels": {{"a": "b"}}}}}}}}"#
            )),
            Ok(Config {
                default_tenant_id: T.to_string(),
                authority_host: "https://login.example.test/adfs".to_string(),
                audience: "custom".to_string(),
                token_layout: TokenLayout::V1_5,
                proxy: ProxyConfig {
                    image: "registry.local/proxy:v1".to_string(),
                    init_image: "registry.local/proxy-init:v1".to_string(),
                    log_level: "debug".to_string(),
                    native_sidecar: false,
                },
                custom_token_endpoint: Some(CustomTokenEndpoint {
                    annotation_key: "azure.workload.identity/use-Binding".to_string(),
                    audience: "api://custom".to_string(),
                    token_proxy: "https://proxy.local:8443".to_string(),
                    sni_name: "sni.local".to_string(),
                    ca: CaSource::ClusterTrustBundle {
                        signer_name: "example.com/signer".to_string(),
                        label_selector: Some(serde_json::json!({"matchLabels": {"a": "b"}})),
                    },
                }),
                findings: Findings::Warn,
                verify: false,
            })
        );
        assert_eq!(
            config(&format!(
                r#"{{"defaultTenantId": "{T}", "azureEnvironment": "AzureStackCloud", "authorityHost": "https://adfs.local/"}}"#
            ))
            .map(|c| c.authority_host),
            Ok("https://adfs.local/".to_string())
        );
    }

    #[test]
    fn rejects_invalid_settings_with_a_message_that_names_the_setting() {
        let cases = [
            ("{}", "defaultTenantId is required"),
            (r#"{"defaultTenantId": ""}"#, "defaultTenantId is required"),
            (
                r#"{"defaultTenantId": "  "}"#,
                "defaultTenantId is required",
            ),
            (
                r#"{"defaultTenantId": null}"#,
                "defaultTenantId is required",
            ),
            (
                r#"{"defaultTenantId": 5}"#,
                "invalid type: integer `5`, expected a string",
            ),
            (
                r#"{"defaultTenantID": "x"}"#,
                "unknown field `defaultTenantID`",
            ),
            (
                r#"{"defaultTenantId": "x", "azureTenantID": "x"}"#,
                "unknown field `azureTenantID`",
            ),
            (r#"[]"#, "the settings must be a JSON object"),
            (r#""x""#, "the settings must be a JSON object"),
            (r#"{"#, "the settings are not valid JSON"),
            ("null", "defaultTenantId is required"),
            (
                r#"{"defaultTenantId": "x", "azureEnvironment": "AzureMoonCloud"}"#,
                "azureEnvironment \"AzureMoonCloud\" is not a known Azure cloud. Accepted values (case-insensitive): AzurePublicCloud, AzureCloud, AzureUSGovernmentCloud, AzureUSGovernment, AzureChinaCloud, AzureGermanCloud. For Azure Stack or an air-gapped cloud, set authorityHost.",
            ),
            (
                r#"{"defaultTenantId": "x", "azureEnvironment": "AzureMoonCloud", "authorityHost": "https://a/"}"#,
                "azureEnvironment \"AzureMoonCloud\" is not a known Azure cloud",
            ),
            (
                r#"{"defaultTenantId": "x", "azureEnvironment": "AzureStackCloud"}"#,
                "AzureStackCloud needs authorityHost",
            ),
            (
                r#"{"defaultTenantId": "x", "authorityHost": ""}"#,
                "authorityHost must not be empty",
            ),
            (
                r#"{"defaultTenantId": "x", "authorityHost": "login.microsoftonline.com"}"#,
                "authorityHost \"login.microsoftonline.com\" is not an https URL",
            ),
            (
                r#"{"defaultTenantId": "x", "audience": ""}"#,
                "audience must not be empty",
            ),
            (
                r#"{"defaultTenantId": "x", "tokenLayout": "v2"}"#,
                "tokenLayout \"v2\" is not supported. Accepted values: \"v1.6\"",
            ),
            (
                r#"{"defaultTenantId": "x", "tokenLayout": "V1.5"}"#,
                "tokenLayout \"V1.5\" is not supported",
            ),
        ];
        for (raw, expected) in cases {
            match config(raw) {
                Ok(c) => panic!("{raw} was accepted as {c:?}"),
                Err(message) => assert!(message.contains(expected), "{raw}: {message}"),
            }
        }
    }
}
