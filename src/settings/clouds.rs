//! Azure clouds: the cloud table and how `azureEnvironment` and `authorityHost` resolve to
//! `AZURE_AUTHORITY_HOST` (docs/behaviour.md §6.2).

use super::go_fold;

/// Cloud names accepted by `azureEnvironment` and their authority hosts (docs/behaviour.md §6.2).
/// Matching is case-insensitive, as upstream upper-cases the name (Go's `strings.ToUpper`)
/// before the lookup.
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

/// The authority host of a cloud name, upper-cased as Go upper-cases it (U+017F, the long s,
/// is an 'S'); `None` for an unknown name.
fn authority_host_for(cloud: &str) -> Option<&'static str> {
    let upper = go_fold::to_upper(cloud);
    CLOUDS
        .iter()
        .find(|(name, _)| name.to_ascii_uppercase() == upper)
        .map(|(_, host)| *host)
}

fn accepted_clouds() -> String {
    CLOUDS
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn resolve_authority_host(
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
    // An empty name is the public cloud upstream (and in its chart), as if it were not set.
    match environment.filter(|env| !env.is_empty()) {
        None => Ok(authority_host.unwrap_or(PUBLIC_CLOUD_AUTHORITY).to_string()),
        Some(env) => match (authority_host_for(env), authority_host) {
            (_, Some(host)) if go_fold::equal_fold(env, AZURE_STACK_CLOUD) => Ok(host.to_string()),
            (Some(_), Some(host)) => Ok(host.to_string()),
            (Some(cloud_host), None) => Ok(cloud_host.to_string()),
            (None, None) if go_fold::equal_fold(env, AZURE_STACK_CLOUD) => Err(
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
    use crate::settings::test_config as config;

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
            // Go's ToUpper: U+017F (long s) is 'S', U+0131 (dotless i) is 'I'; U+212A (Kelvin)
            // stays itself, so it matches no cloud; an empty name is the public cloud.
            (
                Some("AzureU\u{017F}Government"),
                "https://login.microsoftonline.us/",
            ),
            (
                Some("AzureCh\u{0131}naCloud"),
                "https://login.chinacloudapi.cn/",
            ),
            (Some(""), "https://login.microsoftonline.com/"),
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
    fn rejects_unknown_clouds_and_unusable_authority_hosts() {
        let cases = [
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
            // Go compares the Azure Stack name with EqualFold, so the Kelvin sign is a 'k' there;
            // ToUpper leaves U+0130 as it is, so it matches no cloud.
            (
                r#"{"defaultTenantId": "x", "azureEnvironment": "AzureStac\u212ACloud"}"#,
                "AzureStackCloud needs authorityHost",
            ),
            (
                r#"{"defaultTenantId": "x", "azureEnvironment": "AzurePubl\u0130cCloud"}"#,
                "is not a known Azure cloud",
            ),
            (
                r#"{"defaultTenantId": "x", "authorityHost": ""}"#,
                "authorityHost must not be empty",
            ),
            (
                r#"{"defaultTenantId": "x", "authorityHost": "login.microsoftonline.com"}"#,
                "authorityHost \"login.microsoftonline.com\" is not an https URL",
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
