//! Tests of the host itself, against hand-written WAT guests.
mod common;

use std::time::{Duration, Instant};

use common::{ACCEPT_RESPONSE, Guest};
use policy_host::{
    FakeCluster, HostError, HostOptions, PolicyHost, WASM_PAGE_BYTES, validation_payload,
};
use serde_json::{Value, json};

const NOT_FOUND: &str = "Cannot find v1/ServiceAccount named 'app' inside of namespace 'default'";

fn sa_lookup(namespace: Option<&str>, name: &str) -> String {
    json!({
        "api_version": "v1",
        "kind": "ServiceAccount",
        "name": name,
        "namespace": namespace,
        "disable_cache": false,
        "field_masks": null,
    })
    .to_string()
}

fn service_account() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {
            "name": "app",
            "namespace": "default",
            "annotations": {"azure.workload.identity/client-id": "00000000-0000-0000-0000-000000000000"}
        }
    })
}

fn host(guest: &Guest, cluster: FakeCluster) -> PolicyHost {
    PolicyHost::from_bytes(&guest.bytes(), cluster, HostOptions::default())
        .expect("test guest loads")
}

fn lookup_host(cluster: FakeCluster) -> PolicyHost {
    host(
        &Guest::host_call(
            "kubewarden",
            "kubernetes",
            "get_resource",
            &sa_lookup(Some("default"), "app"),
        ),
        cluster,
    )
}

#[test]
fn validate_wraps_request_and_settings_and_parses_the_response() {
    let echo = host(&Guest::echo(), FakeCluster::new());
    let request = json!({"uid": "1", "object": {"metadata": {"name": "p"}}});
    let settings = json!({"a": 1});
    let raw = echo
        .validate_raw(&validation_payload(&request, &settings))
        .unwrap();
    let sent: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(sent, json!({"request": request, "settings": settings}));

    let accept = host(&Guest::accept(), FakeCluster::new());
    let response = accept.validate(&request, &settings).unwrap();
    assert_eq!(
        response,
        serde_json::from_str::<Value>(ACCEPT_RESPONSE).unwrap()
    );
    assert!(accept.host_calls().is_empty());
    assert!(accept.violations().is_empty());
}

#[test]
fn validate_settings_and_protocol_version() {
    let guest = Guest::accept().with_settings_response(r#"{"valid":false,"message":"nope"}"#);
    let host = host(&guest, FakeCluster::new());
    assert_eq!(
        host.validate_settings(&json!({})).unwrap(),
        json!({"valid": false, "message": "nope"})
    );
    assert_eq!(host.protocol_version().unwrap(), "v1");
}

#[test]
fn get_resource_answers_the_service_account() {
    let host = lookup_host(FakeCluster::new().with_service_account(service_account()));
    let answer = host.validate_raw(b"{}").unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&answer).unwrap(),
        service_account()
    );

    let calls = host.host_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].binding, "kubewarden");
    assert_eq!(calls[0].namespace, "kubernetes");
    assert_eq!(calls[0].operation, "get_resource");
    assert_eq!(
        calls[0].payload,
        serde_json::from_str::<Value>(&sa_lookup(Some("default"), "app")).unwrap()
    );
    assert_eq!(calls[0].error, None);
    assert!(host.violations().is_empty());

    host.clear_host_calls();
    assert!(host.host_calls().is_empty());
}

#[test]
fn missing_service_account_is_a_not_found_error() {
    let host = lookup_host(FakeCluster::new());
    assert_eq!(
        host.validate_raw(b"{}"),
        Err(HostError::Guest(NOT_FOUND.to_owned()))
    );
    assert_eq!(host.host_calls()[0].error.as_deref(), Some(NOT_FOUND));
    assert!(host.violations().is_empty());
}

#[test]
fn injected_error_wins_over_the_object() {
    let cluster = FakeCluster::new()
        .with_service_account(service_account())
        .with_error("default", "app", "serviceaccounts \"app\" is forbidden");
    let host = lookup_host(cluster);
    assert_eq!(
        host.validate_raw(b"{}"),
        Err(HostError::Guest(
            "serviceaccounts \"app\" is forbidden".to_owned()
        ))
    );
    assert!(host.violations().is_empty());
}

#[test]
fn raw_response_is_passed_through() {
    let host = lookup_host(FakeCluster::new().with_raw_response("default", "app", "not json"));
    assert_eq!(host.validate_raw(b"{}").unwrap(), b"not json");
}

#[test]
fn lookup_without_namespace_is_an_error_not_a_violation() {
    let guest = Guest::host_call(
        "kubewarden",
        "kubernetes",
        "get_resource",
        &sa_lookup(None, "app"),
    );
    let host = host(
        &guest,
        FakeCluster::new().with_service_account(service_account()),
    );
    let err = host.validate_raw(b"{}").unwrap_err();
    assert!(
        matches!(&err, HostError::Guest(m) if m.contains("namespaced")),
        "{err:?}"
    );
    assert!(host.violations().is_empty());
}

#[test]
fn other_host_calls_are_violations() {
    let cases = [
        ("kubewarden", "kubernetes", "list_resources_all".to_owned()),
        ("kubewarden", "kubernetes", "can_i".to_owned()),
        ("kubewarden", "oci", "v1/manifest_digest".to_owned()),
        ("other", "kubernetes", "get_resource".to_owned()),
    ];
    for (binding, namespace, operation) in cases {
        let guest = Guest::host_call(
            binding,
            namespace,
            &operation,
            &sa_lookup(Some("default"), "app"),
        );
        let host = host(
            &guest,
            FakeCluster::new().with_service_account(service_account()),
        );
        let err = host.validate_raw(b"{}").unwrap_err();
        assert!(
            matches!(&err, HostError::Guest(m) if m.contains("forbidden host call")),
            "{err:?}"
        );
        assert_eq!(host.violations().len(), 1, "{operation}");
        assert_eq!(host.host_calls().len(), 1);
        assert!(host.host_calls()[0].error.is_some());
    }
}

#[test]
fn get_resource_of_another_kind_or_malformed_is_a_violation() {
    let payloads = [
        json!({"api_version": "v1", "kind": "Secret", "name": "app", "namespace": "default",
               "disable_cache": false, "field_masks": null})
        .to_string(),
        json!({"api_version": "v1", "kind": "ServiceAccount", "name": "app", "namespace": "default"}).to_string(),
        "not json".to_owned(),
    ];
    for payload in payloads {
        let guest = Guest::host_call("kubewarden", "kubernetes", "get_resource", &payload);
        let host = host(
            &guest,
            FakeCluster::new().with_service_account(service_account()),
        );
        assert!(host.validate_raw(b"{}").is_err());
        assert_eq!(host.violations().len(), 1, "{payload}");
        host.clear_violations();
        assert!(host.violations().is_empty());
    }
}

#[test]
fn sdk_log_calls_are_logs_not_host_calls() {
    let guest = Guest::host_call(
        "kubewarden",
        "tracing",
        "log",
        r#"{"level":"info","msg":"hi"}"#,
    );
    let host = host(&guest, FakeCluster::new());
    assert_eq!(host.validate_raw(b"{}").unwrap(), b"");
    assert!(host.host_calls().is_empty());
    assert!(host.violations().is_empty());
    assert_eq!(
        host.guest_logs(),
        vec![r#"{"level":"info","msg":"hi"}"#.to_owned()]
    );
}

#[test]
fn every_host_call_is_recorded() {
    let guest = Guest::host_calls(
        "kubewarden",
        "kubernetes",
        "get_resource",
        &sa_lookup(Some("default"), "app"),
        3,
    );
    let host = host(
        &guest,
        FakeCluster::new().with_service_account(service_account()),
    );
    host.validate_raw(b"{}").unwrap();
    host.validate_raw(b"{}").unwrap();
    assert_eq!(host.host_calls().len(), 6);
}

#[test]
fn guest_failures_are_errors() {
    let host_for = |guest: Guest| host(&guest, FakeCluster::new());
    assert_eq!(
        host_for(Guest::guest_error("boom")).validate(&json!({}), &json!({})),
        Err(HostError::Guest("boom".to_owned()))
    );
    assert!(matches!(
        host_for(Guest::trap()).validate(&json!({}), &json!({})),
        Err(HostError::Guest(_))
    ));
    assert!(matches!(
        host_for(Guest::answer(b"not json")).validate(&json!({}), &json!({})),
        Err(HostError::Response(_))
    ));
    assert!(matches!(
        host_for(Guest::answer(br#"{"allowed":true}"#)).validate(&json!({}), &json!({})),
        Err(HostError::Response(_))
    ));
    assert!(matches!(
        host_for(Guest::accept().with_settings_response(r#"{"message":"no valid"}"#))
            .validate_settings(&json!({})),
        Err(HostError::Response(_))
    ));
}

#[test]
fn a_trap_does_not_poison_later_calls() {
    let host = host(&Guest::trap(), FakeCluster::new());
    assert!(host.validate_raw(b"{}").is_err());
    // Each call gets a fresh instance, so other functions still work.
    assert_eq!(host.protocol_version().unwrap(), "v1");
}

#[test]
fn wild_guest_pointer_is_an_error_not_a_crash() {
    let host = host(&Guest::wild_pointer(), FakeCluster::new());
    let err = host.validate_raw(b"{}").unwrap_err();
    assert!(
        matches!(err, HostError::HostPanic(_) | HostError::Guest(_)),
        "{err:?}"
    );
}

#[test]
fn runaway_guest_times_out() {
    let options = HostOptions {
        timeout: Some(Duration::from_millis(200)),
        ..HostOptions::default()
    };
    let host = PolicyHost::from_bytes(&Guest::spin().bytes(), FakeCluster::new(), options).unwrap();
    let started = Instant::now();
    let err = host.validate(&json!({}), &json!({})).unwrap_err();
    assert!(matches!(err, HostError::Timeout(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(host.protocol_version().unwrap(), "v1");
}

#[test]
fn linear_memory_is_measured_and_capped() {
    let host = host(&Guest::grow(3), FakeCluster::new());
    let bytes = host.linear_memory_bytes("validate", b"{}").unwrap();
    assert_eq!(bytes, 4 * WASM_PAGE_BYTES);
    assert_eq!(
        host.linear_memory_bytes("protocol_version", b"").unwrap(),
        WASM_PAGE_BYTES
    );

    let options = HostOptions {
        max_memory_bytes: Some(2 * WASM_PAGE_BYTES),
        ..HostOptions::default()
    };
    let capped =
        PolicyHost::from_bytes(&Guest::grow(3).bytes(), FakeCluster::new(), options).unwrap();
    assert!(matches!(
        capped.validate(&json!({}), &json!({})),
        Err(HostError::Guest(_))
    ));
    let roomy = PolicyHost::from_bytes(
        &Guest::grow(1).bytes(),
        FakeCluster::new(),
        HostOptions {
            max_memory_bytes: Some(2 * WASM_PAGE_BYTES),
            ..HostOptions::default()
        },
    )
    .unwrap();
    assert!(roomy.validate(&json!({}), &json!({})).is_ok());
}

#[test]
fn memory_measurement_does_not_record_host_calls() {
    let host = lookup_host(FakeCluster::new().with_service_account(service_account()));
    host.linear_memory_bytes("validate", b"{}").unwrap();
    assert!(host.host_calls().is_empty());
}

#[test]
fn with_cluster_reuses_the_module_with_a_fresh_record() {
    let base = lookup_host(FakeCluster::new());
    assert!(base.validate_raw(b"{}").is_err());
    let other = base
        .with_cluster(FakeCluster::new().with_service_account(service_account()))
        .unwrap();
    assert!(other.validate_raw(b"{}").is_ok());
    assert_eq!(other.host_calls().len(), 1);
    assert_eq!(base.host_calls().len(), 1);
    assert_eq!(other.compile_time(), base.compile_time());

    fn send_sync<T: Send + Sync>() {}
    send_sync::<PolicyHost>();
}

#[test]
fn load_errors() {
    let bad_fixture = FakeCluster::new().with_service_account(json!({"kind": "ServiceAccount"}));
    assert!(matches!(
        PolicyHost::from_bytes(
            &Guest::accept().bytes(),
            bad_fixture,
            HostOptions::default()
        ),
        Err(HostError::Load(_))
    ));
    assert!(matches!(
        PolicyHost::load("/nonexistent/policy.wasm".as_ref(), FakeCluster::new()),
        Err(HostError::Load(_))
    ));
    assert!(matches!(
        PolicyHost::from_bytes(b"\0asm garbage", FakeCluster::new(), HostOptions::default()),
        Err(HostError::Load(_))
    ));
    // A module without the waPC entry point.
    assert!(matches!(
        PolicyHost::from_bytes(
            b"(module (memory (export \"memory\") 1))",
            FakeCluster::new(),
            HostOptions::default()
        )
        .and_then(|h| h.validate_raw(b"{}")),
        Err(HostError::Guest(_))
    ));
}

#[test]
fn load_reads_a_file() {
    let path = std::env::temp_dir().join(format!("policy-host-load-{}.wat", std::process::id()));
    std::fs::write(&path, Guest::accept().wat()).unwrap();
    let loaded = PolicyHost::load(&path, FakeCluster::new());
    let _ = std::fs::remove_file(&path);
    let host = loaded.unwrap();
    assert!(host.compile_time() > Duration::ZERO);
    assert_eq!(
        host.validate(&json!({}), &json!({})).unwrap()["accepted"],
        true
    );
}
