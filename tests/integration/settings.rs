//! Settings: those that change the mutation (docs/behaviour.md §6.1, §6.2) and invalid settings
//! (§6), which reject a selected Pod naming the setting, as `validate_settings` does.

use azure_workload_identity_policy::{Decision, check_settings, evaluate};
use serde_json::{Value, json};

use rstest::rstest;

use crate::common::*;

// ---------------------------------------------------------------------------------------------
// Settings that change the mutation (docs/behaviour.md §6.1, §6.2)
// ---------------------------------------------------------------------------------------------

#[rstest]
#[case(json!({}), PUBLIC_AUTHORITY, AUDIENCE)]
#[case(json!({"azureEnvironment": "AzurePublicCloud"}), PUBLIC_AUTHORITY, AUDIENCE)]
#[case(json!({"azureEnvironment": "AZURECLOUD"}), PUBLIC_AUTHORITY, AUDIENCE)]
#[case(json!({"azureEnvironment": "AzureChinaCloud"}), "https://login.chinacloudapi.cn/", AUDIENCE)]
#[case(json!({"azureEnvironment": "azureusgovernment"}), "https://login.microsoftonline.us/", AUDIENCE)]
#[case(json!({"azureEnvironment": "AzureUSGovernmentCloud"}), "https://login.microsoftonline.us/", AUDIENCE)]
#[case(json!({"azureEnvironment": "AzureGermanCloud"}), "https://login.microsoftonline.de/", AUDIENCE)]
#[case(json!({"authorityHost": "https://adfs.stack.example/adfs/"}), "https://adfs.stack.example/adfs/", AUDIENCE)]
#[case(json!({"azureEnvironment": "AzureChinaCloud", "authorityHost": "https://login.partner.example/"}), "https://login.partner.example/", AUDIENCE)]
#[case(json!({"azureEnvironment": "AzureStackCloud", "authorityHost": "https://adfs.stack.example/adfs/"}), "https://adfs.stack.example/adfs/", AUDIENCE)]
#[case(json!({"audience": "api://custom-audience"}), PUBLIC_AUTHORITY, "api://custom-audience")]
#[case(json!({"tokenLayout": "v1.6"}), PUBLIC_AUTHORITY, AUDIENCE)]
fn settings_choose_the_authority_host_and_the_audience(
    #[case] extra: Value,
    #[case] authority: &str,
    #[case] audience: &str,
) {
    let settings = |extra: Value| {
        let mut s = default_settings();
        if let (Some(s), Value::Object(extra)) = (s.as_object_mut(), extra) {
            s.extend(extra);
        }
        s
    };
    // (settings added to the defaults, AZURE_AUTHORITY_HOST, audience)
    let case = extra.to_string();
    let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
    let expected = web_mutated(
        vec![
            env("AZURE_CLIENT_ID", CLIENT_ID),
            env("AZURE_TENANT_ID", SA_TENANT),
            env("AZURE_FEDERATED_TOKEN_FILE", TOKEN_FILE),
            env("AZURE_AUTHORITY_HOST", authority),
        ],
        wi_mount(WEB_VOLUME),
        wi_volume(WEB_VOLUME, audience, 3600),
    );
    assert_decision(
        &run(&pod_request(web_pod()), &settings(extra), &cluster),
        &Decision::Mutate(expected),
        &case,
    );
}

// ---------------------------------------------------------------------------------------------
// Invalid settings (docs/behaviour.md §6, §3.1 step 0)
// ---------------------------------------------------------------------------------------------

#[test]
fn invalid_settings_reject_a_selected_pod_naming_the_setting() {
    const PREFIX: &str = "azure-workload-identity: the policy settings are invalid: ";
    // (case, settings or None for no settings at all, what the message must say)
    let cases: Vec<(&str, Option<Value>, &str)> = vec![
        ("no settings", None, "defaultTenantId is required"),
        (
            "empty settings",
            Some(json!({})),
            "defaultTenantId is required",
        ),
        (
            "empty tenant",
            Some(json!({"defaultTenantId": ""})),
            "defaultTenantId is required",
        ),
        (
            "misspelt key",
            Some(fixture("settings-unknown-key.json")),
            "unknown field `defaultTenantID`",
        ),
        (
            "upstream chart key",
            Some(json!({"defaultTenantId": DEFAULT_TENANT, "azureTenantID": DEFAULT_TENANT})),
            "unknown field `azureTenantID`",
        ),
        (
            "unknown cloud",
            Some(fixture("settings-invalid-environment.json")),
            "azureEnvironment \"AzureMoonCloud\" is not a known Azure cloud. Accepted values \
             (case-insensitive): AzurePublicCloud, AzureCloud, AzureUSGovernmentCloud, \
             AzureUSGovernment, AzureChinaCloud, AzureGermanCloud",
        ),
        (
            "AzureStackCloud without authorityHost",
            Some(json!({"defaultTenantId": DEFAULT_TENANT, "azureEnvironment": "AzureStackCloud"})),
            "azureEnvironment AzureStackCloud needs authorityHost",
        ),
        (
            "authorityHost not https",
            Some(
                json!({"defaultTenantId": DEFAULT_TENANT, "authorityHost": "login.microsoftonline.com"}),
            ),
            "authorityHost \"login.microsoftonline.com\" is not an https URL",
        ),
        (
            "whitespace audience",
            Some(json!({"defaultTenantId": DEFAULT_TENANT, "audience": " "})),
            "audience \" \" is only whitespace",
        ),
        (
            "unknown token layout",
            Some(json!({"defaultTenantId": DEFAULT_TENANT, "tokenLayout": "v2"})),
            "tokenLayout \"v2\" is not supported",
        ),
    ];
    let mut rows = Rows::new();
    for (case, settings, part) in cases {
        rows.check(case, || {
            let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
            let decision = evaluate(
                &payload(&fixture("request-labelled-pod.json"), settings.as_ref()),
                &cluster,
            );
            let message = rejection(&decision, case);
            assert!(message.starts_with(PREFIX), "{case}: {message}");
            assert!(message.contains(part), "{case}: lacks {part:?}: {message}");
            assert_eq!(cluster.calls(), lookups(&[]), "{case}");
        });
    }
    rows.assert_all_passed();
}

#[test]
fn a_setting_of_the_wrong_type_is_named() {
    let mut rows = Rows::new();
    for (key, settings) in [
        ("defaultTenantId", json!({"defaultTenantId": 42})),
        (
            "azureEnvironment",
            json!({"defaultTenantId": DEFAULT_TENANT, "azureEnvironment": ["AzureChinaCloud"]}),
        ),
        (
            "audience",
            json!({"defaultTenantId": DEFAULT_TENANT, "audience": true}),
        ),
    ] {
        rows.check(key, || {
            // The message may end with the list of every accepted setting; the wrong one must be
            // named before that list.
            let names_key = |message: &str| {
                message
                    .split("Accepted settings")
                    .next()
                    .is_some_and(|error| error.contains(key))
            };
            let cluster = FakeCluster::serving(&[fixture("sa-workload.json")]);
            let decision = run(&fixture("request-labelled-pod.json"), &settings, &cluster);
            let message = rejection(&decision, &settings.to_string());
            assert!(names_key(&message), "{settings}: {message}");
            let checked = check_settings(&settings.to_string());
            assert!(
                checked.as_ref().is_err_and(|e| names_key(e)),
                "{settings}: {checked:?}"
            );
        });
    }
    rows.assert_all_passed();
}

#[test]
fn settings_fixtures_are_checked_like_validate_settings() {
    let read = fixture_text;
    let valid = check_settings(&read("settings-default.json"));
    assert!(
        valid
            .as_ref()
            .is_ok_and(|c| c.default_tenant_id == DEFAULT_TENANT
                && c.authority_host == PUBLIC_AUTHORITY
                && c.audience == AUDIENCE),
        "settings-default.json: {valid:?}"
    );
    let mut rows = Rows::new();
    for (name, part) in [
        (
            "settings-invalid-environment.json",
            "azureEnvironment \"AzureMoonCloud\" is not a known Azure cloud",
        ),
        (
            "settings-unknown-key.json",
            "unknown field `defaultTenantID`",
        ),
    ] {
        rows.check(name, || {
            let checked = check_settings(&read(name));
            assert!(
                checked.as_ref().is_err_and(|e| e.contains(part)),
                "{name}: {checked:?}"
            );
        });
    }
    rows.assert_all_passed();
}
