//! The custom token endpoint ("identity binding") feature: its settings as the user writes them,
//! their validation (upstream's start-up checks, docs/behaviour.md §6.3) and how the CA reaches
//! the Pod (§4.7).

use serde::Deserialize;

use super::DEFAULT_AUDIENCE;
use super::go_fold;
use super::label_selector::label_selector;
use crate::names::CUSTOM_ENDPOINT_ANNOTATION_PREFIX;

/// `customTokenEndpoint` as the user writes it (upstream's flags and env: docs/behaviour.md §6.3).
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
    /// A Kubernetes LabelSelector, as the user wrote it; read by `label_selector`.
    #[serde(default)]
    pub ca_cluster_trust_bundle_label_selector: Option<serde_json::Value>,
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
        /// The selector with canonical field names, as it goes into the projected source.
        label_selector: Option<serde_json::Value>,
    },
}

/// Mirrors upstream's start-up checks of the feature (docs/behaviour.md §6.3). The CA settings
/// are read and checked first and whether or not the feature is on, as upstream parses them with
/// the rest of its configuration before it looks at the feature's flags.
pub(super) fn custom_token_endpoint(
    cte: &CustomTokenEndpointSettings,
) -> Result<Option<CustomTokenEndpoint>, String> {
    let label_selector = label_selector(cte.ca_cluster_trust_bundle_label_selector.as_ref())?;
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
    if label_selector.is_some() && cte.ca_cluster_trust_bundle_signer_name.is_empty() {
        return Err(
            "customTokenEndpoint.caClusterTrustBundleLabelSelector needs \
             customTokenEndpoint.caClusterTrustBundleSignerName: set the signer of the \
             ClusterTrustBundles to select"
                .to_string(),
        );
    }

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
    if go_fold::equal_fold(audience, DEFAULT_AUDIENCE) {
        return Err(format!(
            "customTokenEndpoint.audience must differ from \"{DEFAULT_AUDIENCE}\" (compared \
             ignoring case): set the audience your token endpoint expects"
        ));
    }
    let annotation_key = format!("{CUSTOM_ENDPOINT_ANNOTATION_PREFIX}{suffix}");
    // Upstream, like the API server for every annotation key, validates the lower-cased key, so
    // a suffix that Go lower-cases to ASCII (the Kelvin sign becomes 'k') is valid; the Pod
    // carries the key as written.
    let name = format!("use-{}", go_fold::to_lower(suffix));
    if !is_qualified_name_part(&name) {
        return Err(format!(
            "customTokenEndpoint.annotationSuffix \"{suffix}\" makes the annotation key \
             \"{annotation_key}\", which is not a valid Kubernetes qualified name: after \
             \"azure.workload.identity/\" it must be at most 63 characters of letters, digits, \
             '-', '_' or '.', starting and ending with a letter or digit"
        ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::test_config as config;

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
        // Go lower-cases U+212A to 'k' and U+0130 to 'i'; the key keeps the suffix as written.
        for valid in ["\u{212A}ey", "\u{0130}d"] {
            assert_eq!(
                suffix(valid),
                Ok(Some(format!("azure.workload.identity/use-{valid}")))
            );
        }
        for invalid in ["\u{0131}d", "bind/ing", "bind-", "é"] {
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
}
