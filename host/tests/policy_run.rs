//! Tests of the `policy-run` binary.
mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::Guest;
use serde_json::{Value, json};

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("policy-run-test-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn policy_run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_policy-run"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn request() -> Value {
    json!({"uid": "1", "namespace": "default", "object": {"metadata": {"name": "p"}}})
}

#[test]
fn prints_response_with_patch() {
    let dir = Scratch::new("patch");
    let policy = dir.file("policy.wat", Guest::accept().wat());
    let bare = dir.file("bare.json", request().to_string());
    let review = dir.file(
        "review.json",
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request()}).to_string(),
    );
    for req in [&bare, &review] {
        let output = policy_run(&[
            "--policy",
            &policy,
            "--request",
            req,
            "--settings-json",
            "{}",
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            stdout_json(&output),
            json!({
                "accepted": true,
                "message": null,
                "patch": [{"op": "add", "path": "/metadata/labels", "value": {"x": "y"}}],
                "host_calls": []
            })
        );
    }
}

#[test]
fn answers_lookups_from_service_account_files() {
    let dir = Scratch::new("sa");
    let lookup = json!({"api_version": "v1", "kind": "ServiceAccount", "name": "app", "namespace": "default",
                        "disable_cache": false, "field_masks": null});
    let guest = Guest::host_call(
        "kubewarden",
        "kubernetes",
        "get_resource",
        &lookup.to_string(),
    );
    let policy = dir.file("policy.wat", guest.wat());
    let req = dir.file("req.json", request().to_string());
    let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "app", "namespace": "default"}});
    let sa_file = dir.file("sa.json", json!([sa]).to_string());
    // The guest answers the ServiceAccount itself, which has no "accepted".
    let output = policy_run(&[
        "--policy",
        &policy,
        "--request",
        &req,
        "--service-account",
        &sa_file,
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("accepted"));

    // Without the file, the lookup fails and so does the guest.
    let output = policy_run(&["--policy", &policy, "--request", &req]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("Cannot find v1/ServiceAccount named 'app'")
    );
}

#[test]
fn invalid_settings_exit_2() {
    let dir = Scratch::new("settings");
    let guest =
        Guest::accept().with_settings_response(r#"{"valid":false,"message":"bad setting"}"#);
    let policy = dir.file("policy.wat", guest.wat());
    let req = dir.file("req.json", request().to_string());
    let settings = dir.file("settings.json", "{}");

    let output = policy_run(&[
        "--policy",
        &policy,
        "--request",
        &req,
        "--settings",
        &settings,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("bad setting"));
    assert!(output.stdout.is_empty());

    let output = policy_run(&["--policy", &policy, "--settings-only"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stdout_json(&output),
        json!({"valid": false, "message": "bad setting"})
    );

    let good = dir.file("good.wat", Guest::accept().wat());
    let output = policy_run(&[
        "--policy",
        &good,
        "--settings-only",
        "--settings-json",
        "{\"x\":1}",
    ]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout_json(&output), json!({"valid": true}));
}

#[test]
fn guest_failure_exits_1() {
    let dir = Scratch::new("failure");
    let policy = dir.file("policy.wat", Guest::guest_error("boom").wat());
    let req = dir.file("req.json", request().to_string());
    let output = policy_run(&["--policy", &policy, "--request", &req]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("boom"));
}

#[test]
fn bad_command_lines_exit_2() {
    let dir = Scratch::new("usage");
    let policy = dir.file("policy.wat", Guest::accept().wat());
    for args in [
        vec!["--request", "x.json"],
        vec!["--policy", policy.as_str()],
        vec!["--policy", policy.as_str(), "--bogus"],
        vec![
            "--policy",
            policy.as_str(),
            "--settings-only",
            "--settings-json",
            "{}",
            "--settings",
            "s.json",
        ],
        vec![
            "--policy",
            policy.as_str(),
            "--settings-only",
            "--settings-json",
            "{",
        ],
    ] {
        let output = policy_run(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
    let output = policy_run(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("usage"));
}
