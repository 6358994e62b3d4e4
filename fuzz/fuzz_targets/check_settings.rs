//! Raw bytes as the settings of `validate_settings`, through `check_settings` (which
//! `validate_settings` calls after checking that the bytes are UTF-8).
//!
//! The answer must be deterministic and an invalid answer must say something; settings that are
//! valid must then work: a labelled Pod evaluated with them is mutated into exactly the Pod the
//! model of `tests/common/oracle.rs` predicts, losslessly and idempotently.
#![no_main]

#[path = "../../tests/common/harness.rs"]
mod harness;
#[path = "../../tests/common/oracle.rs"]
mod oracle;

use azure_workload_identity_policy::check_settings;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let first = check_settings(text);
    assert_eq!(first, check_settings(text), "not deterministic");
    match first {
        Err(message) => assert!(!message.is_empty(), "an empty error"),
        Ok(_) => {
            let Ok(settings) = serde_json::from_str::<Value>(text) else {
                panic!("valid settings that are not JSON: {text:?}");
            };
            let request = json!({
                "uid": "0f0e0d0c-0b0a-4909-8807-060504030201",
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "namespace": "default",
                "operation": "CREATE",
                "object": {
                    "metadata": {"name": "web", "labels": {"azure.workload.identity/use": "true"}},
                    "spec": {"serviceAccountName": "workload-sa",
                             "containers": [{"name": "app", "image": "registry.example/app:1"}]}
                }
            });
            let sa = oracle::service_account(&json!({
                "azure.workload.identity/client-id": "5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f",
            }));
            match oracle::check_case(&request, &settings, Some(&sa)) {
                Ok(oracle::Class::Mutated) => {}
                other => panic!("valid settings {text:?}: {other:?}"),
            }
        }
    }
});
