//! Azure Workload Identity for Kubewarden: a mutating policy that configures Pods labelled
//! `azure.workload.identity/use: "true"` the way the upstream webhook does.
//!
//! One request flows top to bottom: parse → guard → look up the ServiceAccount → plan → apply →
//! respond. Each step lives in its own module; this file only wires them together.

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
mod client_id;
mod expiration;
mod go_int;
mod inject;
mod messages;
mod names;
mod plan;
mod pod;
mod service_account;
mod settings;
mod volume_name;

// The public surface: what the tests, benchmarks and fuzz targets drive the policy through.
pub use messages::Rejection;
pub use service_account::{ServiceAccount, ServiceAccountSource};
pub use settings::Config;
pub use volume_name::volume_name;

use kubewarden_policy_sdk::settings::SettingsValidationResponse;
use kubewarden_policy_sdk::wapc_guest as guest;
use kubewarden_policy_sdk::{
    accept_request, mutate_request, protocol_version_guest, reject_request,
};
use serde_json::Value;

use pod::Pod;
use service_account::HostServiceAccounts;
use settings::Settings;

#[unsafe(no_mangle)]
pub extern "C" fn wapc_init() {
    guest::register_function("validate", validate);
    guest::register_function("validate_settings", validate_settings);
    guest::register_function("protocol_version", protocol_version_guest);
}

/// The outcome of one admission request.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Let the request through unchanged.
    Accept,
    /// Let it through with this Pod instead.
    Mutate(Value),
    Reject(Rejection),
}

fn validate(payload: &[u8]) -> guest::CallResult {
    respond(evaluate(payload, &HostServiceAccounts))
}

/// The Kubewarden response for a decision (the bytes `validate` returns).
pub fn respond(decision: Decision) -> guest::CallResult {
    match decision {
        Decision::Accept => accept_request(),
        Decision::Mutate(pod) => mutate_request(pod),
        Decision::Reject(Rejection(message)) => reject_request(Some(message), None, None, None),
    }
}

/// Evaluates a `validate` payload, reading ServiceAccounts from `cluster`. Never panics on
/// input: every problem becomes `Decision::Reject` with a message for the user.
pub fn evaluate(payload: &[u8], cluster: &impl ServiceAccountSource) -> Decision {
    match decide(payload, cluster) {
        Ok(decision) => decision,
        Err(rejection) => Decision::Reject(rejection),
    }
}

fn decide(payload: &[u8], cluster: &impl ServiceAccountSource) -> Result<Decision, Rejection> {
    // parse
    let payload = admission::parse(payload).map_err(|e| messages::unreadable_request(&e))?;
    // guard: no further work, and no host call, for requests that are not ours
    if !admission::selects(&payload.request) {
        return Ok(Decision::Accept);
    }
    let config = payload
        .settings
        .map(|raw| Settings::from_json(raw.get()))
        .unwrap_or_else(|| Ok(Settings::default()))
        .and_then(|s| Config::from_settings(&s))
        .map_err(|e| messages::invalid_settings(&e))?;
    let raw_pod = payload.request.object.map(|o| o.get()).unwrap_or("null");
    let mut pod_json: Value =
        serde_json::from_str(raw_pod).map_err(|e| messages::unreadable_request(&e.to_string()))?;

    // look up the ServiceAccount
    let plan = {
        let pod = Pod::read(&pod_json, &payload.request.namespace)?;
        if pod.reference.namespace.is_empty() {
            return Err(messages::missing_namespace(&pod.reference.name));
        }
        let sa_name = pod.service_account_name()?;
        let sa = cluster
            .get(&pod.reference.namespace, sa_name)
            .map_err(|e| messages::service_account_unavailable(&pod.reference, sa_name, &e))?;
        // plan
        plan::plan(&config, &pod, sa_name, &sa)?
    };

    // apply and respond
    Ok(if inject::apply(plan, &mut pod_json) {
        Decision::Mutate(pod_json)
    } else {
        Decision::Accept
    })
}

/// `validate_settings`: invalid settings, including unknown keys and wrong types, are reported
/// as `valid: false` with a message that names the setting.
fn validate_settings(payload: &[u8]) -> guest::CallResult {
    let result = std::str::from_utf8(payload)
        .map_err(|e| e.to_string())
        .and_then(Settings::from_json)
        .and_then(|s| Config::from_settings(&s));
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
