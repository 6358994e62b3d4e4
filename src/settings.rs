//! Policy settings: what the user writes (`Settings`, camelCase JSON) and what the request path
//! uses (`Config`, every default resolved and every rule checked).
//!
//! `Config::from_settings` is the single place where settings are validated; both
//! `validate_settings` and the request path go through it, so they can never disagree.

use serde::Deserialize;

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
        serde_json::from_str(raw).map_err(|e| {
            format!(
                "the settings could not be read: {e}. Accepted settings: defaultTenantId (required), \
                 azureEnvironment, authorityHost, audience, tokenLayout."
            )
        })
    }
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

        Ok(Config {
            default_tenant_id,
            authority_host,
            audience,
            token_layout,
        })
    }
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
