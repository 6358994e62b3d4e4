//! Settings of the wrong types, through `check_settings` (what `validate_settings` answers).

use azure_workload_identity_policy::check_settings;

use super::*;

#[test]
fn settings_of_the_wrong_types_are_invalid_naming_the_setting() {
    let cases: Vec<(String, String)> = vec![
        (
            r#"{"defaultTenantId": 42}"#.to_string(),
            setting_type(
                "defaultTenantId",
                "invalid type: integer `42`, expected a string",
            ),
        ),
        (
            r#"{"defaultTenantId": "t", "useNativeSidecar": "yes"}"#.to_string(),
            setting_type(
                "useNativeSidecar",
                "invalid type: string \"yes\", expected a boolean",
            ),
        ),
        (
            r#"{"defaultTenantId": ["t"]}"#.to_string(),
            setting_type(
                "defaultTenantId",
                "invalid type: sequence, expected a string",
            ),
        ),
        (
            r#""defaultTenantId""#.to_string(),
            "the settings must be a JSON object, e.g. {\"defaultTenantId\": \"<tenant-id>\"}"
                .to_string(),
        ),
        (
            format!(r#"{{"defaultTenantId": "t", "zz": {}}}"#, nested(200)),
            "the settings are not valid JSON: recursion limit exceeded at line 1 column 158"
                .to_string(),
        ),
    ];
    let mut failures = Vec::new();
    for (raw, expected) in cases {
        let result = catch_unwind(|| check_settings(&raw).map(|_| ()));
        if result.as_ref().ok() != Some(&Err(expected.clone())) {
            failures.push(format!(
                "{}: expected Err({expected:?}), got {result:?}",
                raw.get(..80).unwrap_or(&raw)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
