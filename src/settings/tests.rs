//! Unit tests of `Config::from_settings` as a whole: defaults, and the settings it refuses.

use super::*;

use crate::settings::test_config as config;

const T: &str = "00000000-0000-0000-0000-000000000001";

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
            r#"{"defaultTenantId": "x", "audience": " "}"#,
            "audience \" \" is only whitespace: remove it or set \"\" to use the default \"api://AzureADTokenExchange\", or set the audience your federated identity credentials expect",
        ),
        (
            r#"{"defaultTenantId": "x", "proxyImage": "\t"}"#,
            "proxyImage \"\\t\" is only whitespace",
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
