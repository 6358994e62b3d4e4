//! `policy-run`: evaluate one admission request with a compiled policy, the
//! way `kwctl run` would, against a fake cluster made of ServiceAccount files.
//!
//! ```text
//! policy-run --policy policy.wasm --request req.json
//!            [--settings-json '<json>' | --settings <file.json>]
//!            [--service-account <sa.json>]... [--settings-only]
//! ```
//!
//! Prints a pretty JSON object to stdout:
//! `{"accepted", "message", "code"?, "patch"?, "host_calls", "violations"?}`
//! where `patch` is the RFC 6902 JSON patch from the request's `object` to
//! the policy's `mutated_object` (absent when the policy did not mutate).
//! With `--settings-only` it prints the settings validation response instead.
//!
//! Exit status: 0 when the policy answered (accepted or not), 1 on a host,
//! guest or I/O error, 2 on invalid settings or a bad command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use policy_host::{FakeCluster, HostCall, PolicyHost};
use serde::Serialize;
use serde_json::Value;

const USAGE: &str = "usage: policy-run --policy <policy.wasm> --request <request.json> \
[--settings-json '<json>' | --settings <settings.json>] [--service-account <sa.json>]... [--settings-only]

  --request          an AdmissionRequest, or an AdmissionReview wrapping one in \"request\"
  --service-account  a ServiceAccount JSON file (or a JSON array of them); repeatable
  --settings-only    only validate the settings and print the result

Set POLICY_HOST_DEBUG=1 to see the policy's log lines and host calls on stderr.";

#[derive(Debug, Default)]
struct Args {
    policy: Option<PathBuf>,
    request: Option<PathBuf>,
    settings_json: Option<String>,
    settings_file: Option<PathBuf>,
    service_accounts: Vec<PathBuf>,
    settings_only: bool,
}

/// A failure, with the exit status it maps to.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: format!("{}\n\n{USAGE}", message.into()),
        }
    }

    fn runtime(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
}

#[derive(Serialize)]
struct Output {
    accepted: Value,
    message: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch: Option<json_patch::Patch>,
    host_calls: Vec<HostCall>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    violations: Vec<String>,
}

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) if failure.code == 0 => {
            println!("{}", failure.message);
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("policy-run: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}

fn parse_args(raw: Vec<String>) -> Result<Args, Failure> {
    let mut args = Args::default();
    let mut iter = raw.into_iter();
    while let Some(flag) = iter.next() {
        let mut value = |name: &str| {
            iter.next()
                .ok_or_else(|| Failure::usage(format!("{name} needs a value")))
        };
        match flag.as_str() {
            "--policy" => args.policy = Some(value("--policy")?.into()),
            "--request" => args.request = Some(value("--request")?.into()),
            "--settings-json" => args.settings_json = Some(value("--settings-json")?),
            "--settings" => args.settings_file = Some(value("--settings")?.into()),
            "--service-account" => args
                .service_accounts
                .push(value("--service-account")?.into()),
            "--settings-only" => args.settings_only = true,
            "-h" | "--help" => {
                return Err(Failure {
                    code: 0,
                    message: USAGE.to_owned(),
                });
            }
            other => return Err(Failure::usage(format!("unknown argument '{other}'"))),
        }
    }
    if args.settings_json.is_some() && args.settings_file.is_some() {
        return Err(Failure::usage(
            "--settings-json and --settings are mutually exclusive",
        ));
    }
    if args.policy.is_none() {
        return Err(Failure::usage("--policy is required"));
    }
    if args.request.is_none() && !args.settings_only {
        return Err(Failure::usage(
            "--request is required (unless --settings-only)",
        ));
    }
    Ok(args)
}

fn read_json(path: &Path, what: &str) -> Result<Value, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::runtime(format!("cannot read {what} {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| Failure::runtime(format!("{what} {} is not valid JSON: {e}", path.display())))
}

fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::runtime(e.to_string()))?;
    println!("{text}");
    Ok(())
}

fn run(raw: Vec<String>) -> Result<(), Failure> {
    let args = parse_args(raw)?;

    let settings: Value = match (&args.settings_json, &args.settings_file) {
        (Some(text), _) => serde_json::from_str(text)
            .map_err(|e| Failure::usage(format!("--settings-json is not valid JSON: {e}")))?,
        (None, Some(path)) => read_json(path, "settings file")?,
        (None, None) => Value::Object(Default::default()),
    };

    let mut cluster = FakeCluster::new();
    for path in &args.service_accounts {
        match read_json(path, "service account file")? {
            Value::Array(items) => {
                for item in items {
                    cluster = cluster.with_service_account(item);
                }
            }
            single => cluster = cluster.with_service_account(single),
        }
    }

    let Some(policy) = &args.policy else {
        return Err(Failure::usage("--policy is required"));
    };
    let host = PolicyHost::load(policy, cluster).map_err(|e| Failure::runtime(e.to_string()))?;

    let settings_response = host
        .validate_settings(&settings)
        .map_err(|e| Failure::runtime(format!("validate_settings: {e}")))?;
    let valid = settings_response["valid"].as_bool() == Some(true);
    if args.settings_only {
        print_json(&settings_response)?;
        return if valid {
            Ok(())
        } else {
            Err(Failure {
                code: 2,
                message: "settings are not valid".to_owned(),
            })
        };
    }
    if !valid {
        return Err(Failure {
            code: 2,
            message: format!(
                "invalid settings: {}",
                settings_response["message"]
                    .as_str()
                    .unwrap_or("(no message)")
            ),
        });
    }

    let Some(request_path) = &args.request else {
        return Err(Failure::usage(
            "--request is required (unless --settings-only)",
        ));
    };
    let mut request = read_json(request_path, "request file")?;
    // An AdmissionReview carries the AdmissionRequest in "request".
    if let Some(inner) = request.get_mut("request").filter(|inner| inner.is_object()) {
        request = inner.take();
    }

    host.clear_host_calls();
    let response = host
        .validate(&request, &settings)
        .map_err(|e| Failure::runtime(format!("validate: {e}")))?;

    let patch = match response.get("mutated_object") {
        None | Some(Value::Null) => None,
        Some(mutated) => Some(json_patch::diff(
            request.get("object").unwrap_or(&Value::Null),
            mutated,
        )),
    };
    let code = response.get("code").filter(|code| !code.is_null()).cloned();
    print_json(&Output {
        accepted: response["accepted"].clone(),
        message: response["message"].clone(),
        code,
        patch,
        host_calls: host.host_calls(),
        violations: host.violations(),
    })
}
