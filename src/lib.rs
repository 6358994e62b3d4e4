//! Azure Workload Identity for Kubewarden: a policy that configures Pods labelled
//! `azure.workload.identity/use: "true"` the way the upstream webhook does, and tells users
//! at `kubectl apply` (and in audit reports) about workloads and ServiceAccounts that would
//! not work.
//!
//! One request flows top to bottom: parse → guard (route by kind) → the role (`roles/`: read,
//! look up the ServiceAccount, plan, then mutate or report) → respond. This file only wires
//! the steps together.

// No panics on input: every problem a request can cause must become a decision.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

mod admission;
mod assess;
mod client_id;
mod expiration;
mod go_int;
mod hints;
mod inject;
mod messages;
mod names;
mod near_miss;
mod peek;
mod plan;
mod pod;
mod problem;
mod response;
mod roles;
mod service_account;
mod settings;
mod volume_name;

// The public surface: what the tests, benchmarks and fuzz targets drive the policy through.
pub use messages::Rejection;
pub use response::{Answer, Decision, respond};
pub use service_account::{ServiceAccount, ServiceAccountSource};
pub use settings::Config;
pub use volume_name::volume_name;

use kubewarden_policy_sdk::protocol_version_guest;
use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest as guest;

use admission::Route;
use service_account::HostServiceAccounts;
use settings::Settings;

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    guest::register_function("validate", validate);
    guest::register_function("validate_settings", validate_settings);
    guest::register_function("protocol_version", protocol_version_guest);
}

fn validate(payload: &[u8]) -> guest::CallResult {
    respond(review(payload, &HostServiceAccounts))
}

/// The decision for a `validate` payload, reading ServiceAccounts from `cluster`.
pub fn evaluate(payload: &[u8], cluster: &impl ServiceAccountSource) -> Decision {
    review(payload, cluster).decision
}

/// The whole answer to a `validate` payload: the decision and its warnings. Never panics on
/// input: every problem becomes a rejection or a warning with a message for the user.
pub fn review(payload: &[u8], cluster: &impl ServiceAccountSource) -> Answer {
    decide(payload, cluster).unwrap_or_else(Answer::from)
}

fn decide(payload: &[u8], cluster: &impl ServiceAccountSource) -> Result<Answer, Rejection> {
    // parse
    let payload = admission::parse(payload).map_err(|e| messages::unreadable_request(&e))?;
    let request = &payload.request;
    // guard: no further work, and no host call, for requests that are not ours
    let route = admission::route(request);
    if route == Route::Ignore {
        return Ok(Decision::Accept.into());
    }
    let config = payload
        .settings
        .map(|raw| Settings::from_json(raw.get()))
        .unwrap_or_else(|| Ok(Settings::default()))
        .and_then(|s| Config::from_settings(&s))
        .map_err(|e| messages::invalid_settings(&e))?;
    let object = request.object.map(|o| o.get()).unwrap_or("null");
    let namespace = &request.namespace;
    // the role
    match route {
        Route::Pod if config.verify => roles::verify::verify(&config, object, namespace, cluster),
        Route::Pod => roles::mutate::mutate(&config, object, namespace, cluster),
        Route::Workload(workload) => {
            roles::workloads::check(&config, workload, object, namespace, cluster)
        }
        Route::ServiceAccount => roles::service_accounts::check(&config, object, namespace),
        Route::Ignore => Ok(Decision::Accept.into()),
    }
}

/// `validate_settings`: invalid settings, including unknown keys and wrong types, are reported
/// as `valid: false` with a message that names the setting.
fn validate_settings(payload: &[u8]) -> guest::CallResult {
    let result = std::str::from_utf8(payload)
        .map_err(|e| e.to_string())
        .and_then(check_settings);
    let response = SettingsValidationResponse {
        valid: result.is_ok(),
        message: result.err(),
    };
    Ok(serde_json::to_vec(&response)?)
}

/// The settings check of `validate_settings`, for native callers.
pub fn check_settings(raw: &str) -> Result<Config, String> {
    Settings::from_json(raw).and_then(|s| Config::from_settings(&s))
}
