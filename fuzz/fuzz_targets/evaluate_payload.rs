//! Raw bytes as the payload of the waPC `validate` call, through `evaluate`, with every lookup
//! answered by a ServiceAccount that has a client id and a tenant id.
//!
//! Beyond "no panic", every input must pass the generic properties of
//! `tests/common/oracle.rs`: deterministic, at most one lookup, a rejection that names the
//! policy, not JSON ⇒ rejected as unreadable, unselected ⇒ accepted without a lookup, a mutation
//! lossless and idempotent.
#![no_main]

#[path = "../../tests/common/harness.rs"]
mod harness;
#[path = "../../tests/common/oracle.rs"]
mod oracle;

use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let sa = oracle::service_account(&json!({
        "azure.workload.identity/client-id": "5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f",
        "azure.workload.identity/tenant-id": "c0ffee00-1234-4abc-8def-0123456789ab",
    }));
    if let Err(e) = oracle::check_generic(data, Some(&sa)) {
        panic!("{e}");
    }
});
