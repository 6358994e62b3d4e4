//! The regression corpus of `test_data/regressions/` (see its README.md): every input that once
//! found a bug keeps its expected outcome. The named tests below are the bugs the reliability
//! tests found, fixed in f1d1710; `regressions_with_open_bugs` (ignored) replays the fixtures of
//! bugs not fixed yet.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use azure_workload_identity_policy::{Decision, Rejection, check_settings};
use serde_json::{Value, json};

use super::*;
use crate::common::oracle::{self};
use crate::common::{data, read_bytes};

fn regression(name: &str) -> Value {
    let path = data("regressions").join(name);
    serde_json::from_slice(&read_bytes(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn reinvocation_with_proxy_and_own_client_id_is_accepted() {
    // mutated once (the proxy containers get no AZURE_CLIENT_ID), then accepted as it is
    let fixture = regression("proxy-with-own-client-id-is-not-idempotent.json");
    let payload = serde_json::to_vec(&fixture["payload"]).unwrap_or_default();
    let sa = oracle::service_account(&fixture["service_account"]);
    let first = oracle::observe(&payload, Some(&sa));
    let Decision::Mutate(pod) = &first.decision else {
        panic!(
            "expected a mutation, got {}",
            oracle::describe(&first.decision)
        );
    };
    let proxies: Vec<_> = pod
        .pointer("/spec/initContainers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .collect();
    assert_eq!(proxies, ["azwi-proxy", "azwi-proxy-init"]);
    let mut request = fixture["payload"]["request"].clone();
    request["object"] = pod.clone();
    let second = oracle::observe(
        &oracle::payload(&request, Some(&fixture["payload"]["settings"])),
        Some(&sa),
    );
    assert_eq!(
        second.decision,
        Decision::Accept,
        "{}",
        oracle::describe(&second.decision)
    );
    assert_eq!(replay(&fixture), Ok(()));
}

#[test]
fn settings_with_custom_token_endpoint_as_a_list_are_invalid() {
    let mut failures = Vec::new();
    for raw in [
        r#"{"defaultTenantId": "t", "customTokenEndpoint": []}"#,
        r#"{"defaultTenantId": "t", "customTokenEndpoint": ["mybinding", "api://x"]}"#,
    ] {
        let result = check_settings(raw).map(|c| c.custom_token_endpoint.is_some());
        let expected = setting_type(
            "customTokenEndpoint",
            "invalid type: sequence, expected struct CustomTokenEndpointSettings",
        );
        if result != Err(expected.clone()) {
            failures.push(format!("{raw}: expected Err({expected:?}), got {result:?}"));
        }
    }
    if let Err(e) = replay(&regression("settings-token-endpoint-as-a-list.json")) {
        failures.push(e);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Fixtures of bugs not fixed yet (`open_bug`): replayed here, not in `make test`.
#[test]
#[ignore = "replays the fixtures of open bugs, if any (test_data/regressions/README.md)"]
fn regressions_with_open_bugs() {
    let failures = replay_regressions(true);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// The regression corpus
// ---------------------------------------------------------------------------------------------

fn hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("bad hex {pair:?}"))
        })
        .collect()
}

/// Replays one regression fixture; `Err` says how it differs from its expected outcome.
fn replay(fixture: &Value) -> Result<(), String> {
    let payload = match (
        fixture.get("payload"),
        fixture.get("payload_text").and_then(Value::as_str),
        fixture.get("payload_hex").and_then(Value::as_str),
    ) {
        (Some(p), None, None) => serde_json::to_vec(p).map_err(|e| e.to_string())?,
        (None, Some(text), None) => text.as_bytes().to_vec(),
        (None, None, Some(h)) => hex(h)?,
        _ => return Err("needs exactly one of payload, payload_text, payload_hex".to_string()),
    };
    let expected = fixture.get("expected").ok_or("no expected")?;
    let text = |key: &str| expected.get(key).and_then(Value::as_str);
    match fixture.get("entry").and_then(Value::as_str) {
        Some("validate") => {
            let sa = match fixture.get("service_account") {
                Some(Value::Null) | None => None,
                Some(annotations) => Some(oracle::service_account(annotations)),
            };
            let observed = catch_unwind(AssertUnwindSafe(|| {
                oracle::check_generic(&payload, sa.as_ref())
            }))
            .map_err(|_| "PANIC".to_string())??;
            let decision = match &observed.decision {
                Decision::Accept => "accept",
                Decision::Mutate(_) => "mutate",
                Decision::Reject(_) => "reject",
            };
            if text("decision") != Some(decision) {
                return Err(format!(
                    "expected {:?}, got {}",
                    text("decision"),
                    oracle::describe(&observed.decision)
                ));
            }
            if let (Some(message), Decision::Reject(Rejection(actual))) =
                (text("message"), &observed.decision)
                && message != actual
            {
                return Err(format!("expected message {message:?}, got {actual:?}"));
            }
            if let Some(lookups) = expected.get("lookups") {
                let actual = json!(observed.calls);
                if *lookups != actual {
                    return Err(format!("expected lookups {lookups}, got {actual}"));
                }
            }
            Ok(())
        }
        Some("validate_settings") => {
            let raw = String::from_utf8(payload).map_err(|e| e.to_string())?;
            let result = catch_unwind(|| check_settings(&raw).map(|_| ()))
                .map_err(|_| "PANIC".to_string())?;
            let valid = expected.get("valid").and_then(Value::as_bool);
            match (valid, &result) {
                (Some(true), Ok(())) => Ok(()),
                (Some(false), Err(m)) if text("message").is_none_or(|e| e == m) => Ok(()),
                _ => Err(format!(
                    "expected valid={valid:?} {:?}, got {result:?}",
                    text("message")
                )),
            }
        }
        other => Err(format!("unknown entry {other:?}")),
    }
}

/// Replays every fixture of `test_data/regressions/` (those with an `open_bug` when
/// `open_bugs`, the others otherwise) and returns the failures.
fn replay_regressions(open_bugs: bool) -> Vec<String> {
    let dir = data("regressions");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    let mut replayed = 0;
    for path in &paths {
        let fixture: Value = match serde_json::from_slice(&read_bytes(path)) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{}: not JSON: {e}", path.display()));
                continue;
            }
        };
        if fixture.get("open_bug").is_some() != open_bugs {
            continue;
        }
        replayed += 1;
        if let Err(e) = replay(&fixture) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    eprintln!("replayed {replayed} of {} regression fixtures", paths.len());
    if replayed == 0 && !open_bugs {
        failures.push(format!("no fixture to replay in {}", dir.display()));
    }
    failures
}

#[test]
fn the_regression_corpus_replays_with_its_expected_outcomes() {
    let failures = replay_regressions(false);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
