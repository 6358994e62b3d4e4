//! Property tests of the request flow, native, through `evaluate`.
//!
//! The generators build AdmissionRequests for arbitrary Pods — labelled and unlabelled, random
//! container and init container names (including `azwi-proxy`/`azwi-proxy-init`), env lists with
//! `value`, `valueFrom`, empty and null values, volume mounts and volumes with reserved-prefix,
//! hashed and legacy names, every annotation of docs/behaviour.md §2 with valid and invalid
//! values, and unknown fields at every level — plus arbitrary ServiceAccounts (client id present,
//! missing, empty or misspelt; tenant id; expiration) and valid settings (token layout, native
//! sidecar, custom token endpoint with each CA source, cloud, audience, proxy images). A quarter of
//! the Pods get one type confusion (a list where an object belongs, a number for a name, …), and
//! some are replaced by the expected result of a first evaluation (re-invocation).
//!
//! Properties, each a test below:
//! 1. no crash: accept, mutate or reject, never a panic; rejections name the policy; every
//!    truncation of a payload is rejected as unreadable;
//! 2. idempotent: evaluating a mutated Pod again accepts it unchanged;
//! 3. lossless: the mutated Pod differs from the input only where docs/behaviour.md §4 says
//!    (`oracle::diff`); nothing of the input is removed or altered;
//! 4. deterministic: the same payload, also pretty-printed, gives the same decision and lookups;
//! 5. unselected ⇒ accepted, with no ServiceAccount lookup;
//! 6. the outcome is the one docs/behaviour.md predicts (`oracle::model`): the exact mutated
//!    Pod, or a rejection with the right reason and lookups; and the generators reach every
//!    outcome.
//!
//! Each property runs `PROPTEST_CASES` cases (default 256); failures are shrunk and printed,
//! not persisted (add the shrunk input to `test_data/regressions/` instead). `PROPTEST_RNG_SEED`
//! replays a run.
//!
//! Files: `pod_generators.rs` and `case_generators.rs` (the generators), `invariants.rs` (the
//! properties and the census of outcomes), `oracle_self_checks.rs` (the oracle can fail). The
//! oracle itself is `tests/common/oracle.rs`, shared with the hostile inputs and the fuzz targets.

mod case_generators;
mod invariants;
mod oracle_self_checks;
mod pod_generators;

use std::collections::BTreeMap;

use azure_workload_identity_policy::{Decision, Rejection, ServiceAccount, check_settings};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::{RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{Map, Value, json};

use crate::common::oracle::{
    self, CLIENT_ID_KEY, Class, EXPIRATION_KEY, INJECT_PROXY_KEY, KNOWN_VOLUME_NAMES,
    LEGACY_MOUNT_PATH, LEGACY_NAME, MOUNT_PATH, PROXY, PROXY_INIT, PROXY_PORT_KEY, SKIP_KEY,
    TENANT_ID_KEY, UNREADABLE, USE_LABEL,
};
use case_generators::*;
use pod_generators::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// A case
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Case {
    request: Value,
    settings: Value,
    /// The annotations of the ServiceAccount served for every lookup; `None`: not found.
    service_account: Option<Value>,
}

impl Case {
    fn sa(&self) -> Option<ServiceAccount> {
        self.service_account.as_ref().map(oracle::service_account)
    }

    fn bytes(&self) -> Vec<u8> {
        oracle::payload(&self.request, Some(&self.settings))
    }

    fn pod(&self) -> &Value {
        self.request.get("object").unwrap_or(&Value::Null)
    }
}

fn fail(e: String) -> TestCaseError {
    TestCaseError::fail(e)
}

/// Runs `test` on generated values in a thread with a large stack: the generators' nested
/// strategies need more than the 2 MiB of a test thread in debug builds (the policy does not).
fn check<S: Strategy + 'static>(
    make: fn() -> S,
    test: fn(S::Value) -> Result<(), TestCaseError>,
) -> Result<(), String> {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let mut runner = TestRunner::new(config());
            runner.run(&make(), test).map_err(|e| e.to_string())
        })
        .map_err(|e| e.to_string())?
        .join()
        .map_err(|_| "the property panicked".to_string())?
}

fn assert_property<S: Strategy + 'static>(
    make: fn() -> S,
    test: fn(S::Value) -> Result<(), TestCaseError>,
) {
    if let Err(e) = check(make, test) {
        panic!("{e}");
    }
}

/// Runs `body` in a thread with a large stack (see [`check`]).
fn in_big_stack<T: Send + 'static>(body: impl FnOnce() -> Result<T, String> + Send + 'static) -> T {
    let result = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(body)
        .map_err(|e| e.to_string())
        .and_then(|h| h.join().map_err(|_| "panicked".to_string()))
        .and_then(|r| r);
    result.unwrap_or_else(|e| panic!("{e}"))
}
