//! The verify manifest of `deploy/`: it selects what the mutating one does and never mutates.

use super::*;
use crate::common::yaml;

fn manifest(name: &str) -> Value {
    yaml(&format!("deploy/{name}"))
}

#[test]
fn the_verify_manifest_selects_what_the_mutating_one_does_and_never_mutates() {
    let mutating = manifest("cluster-admission-policy.yml");
    let verify = manifest("cluster-admission-policy-verify.yml");
    assert_eq!(
        verify["metadata"]["name"],
        json!("azure-workload-identity-verify")
    );
    let spec = &verify["spec"];
    assert_eq!(spec["mutating"], json!(false));
    assert_eq!(spec["backgroundAudit"], json!(true));
    assert_eq!(spec["mode"], json!("protect"));
    for same in [
        "module",
        "policyServer",
        "rules",
        "objectSelector",
        "namespaceSelector",
        "contextAwareResources",
        "matchPolicy",
        "sideEffects",
        "timeoutSeconds",
    ] {
        assert_eq!(spec[same], mutating["spec"][same], "spec.{same}");
    }
    let settings = &spec["settings"];
    assert_eq!(settings["verify"], json!(true));
    assert_eq!(settings["findings"], json!("warn"));
    for same in ["defaultTenantId", "azureEnvironment"] {
        assert_eq!(
            settings[same], mutating["spec"]["settings"][same],
            "settings.{same}"
        );
    }
    let config = azure_workload_identity_policy::check_settings(&settings.to_string());
    assert!(config.is_ok(), "{config:?}");
}
