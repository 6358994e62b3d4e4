//! The checks at `kubectl apply`: workloads and ServiceAccounts (findings delivered as warnings
//! or a rejection), the warnings of the Pod path, and the fresh ServiceAccount read before a
//! rejection. Every test asserts the whole answer: decision, warnings and message, and every
//! ServiceAccount read of the shared [`FakeCluster`] with whether it bypassed the host's cache.
//!
//! | file | what |
//! | --- | --- |
//! | `mod.rs` | the workloads, Pods and settings of the tests, the expected answers, and the table runner [`check_table`] |
//! | `workloads.rs` | workloads (Deployment, StatefulSet, …, CronJob) checked at their Pod template |
//! | `service_accounts.rs` | ServiceAccounts checked at their own CREATE and UPDATE, without a lookup |
//! | `pod_warnings.rs` | the warnings of the Pod path, for what is allowed but likely a mistake |
//! | `fresh_read.rs` | the ServiceAccount read again past the host's cache before a rejection |

mod fresh_read;
mod pod_warnings;
mod service_accounts;
mod workloads;

use azure_workload_identity_policy::{Answer, Decision, Rejection, review};
use serde_json::{Value, json};

use crate::common::{CLIENT_ID, DEFAULT_TENANT as TENANT, FakeCluster, reads};

fn account(annotations: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa", "namespace": "app", "annotations": annotations}})
}

fn good_account() -> Value {
    account(json!({"azure.workload.identity/client-id": CLIENT_ID}))
}

fn payload(operation: &str, gvk: (&str, &str, &str), object: Value, settings: Value) -> Vec<u8> {
    let (group, version, kind) = gvk;
    serde_json::to_vec(&json!({
        "request": {
            "uid": "1", "operation": operation, "namespace": "app",
            "kind": {"group": group, "version": version, "kind": kind},
            "object": object,
        },
        "settings": settings,
    }))
    .unwrap_or_default()
}

fn settings(findings: &str) -> Value {
    json!({"defaultTenantId": TENANT, "findings": findings})
}

fn template(labels: Value, annotations: Value, spec: Value) -> Value {
    json!({"metadata": {"labels": labels, "annotations": annotations}, "spec": spec})
}

fn labelled_template(spec: Value) -> Value {
    template(
        json!({"app": "web", "azure.workload.identity/use": "true"}),
        json!({}),
        spec,
    )
}

fn app_spec() -> Value {
    json!({"serviceAccountName": "sa", "containers": [{"name": "app", "image": "app:1"}]})
}

fn deployment(metadata_labels: Value, template: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "app", "labels": metadata_labels},
        "spec": {"replicas": 1, "template": template},
    })
}

fn accepted() -> Answer {
    Answer {
        decision: Decision::Accept,
        warnings: vec![],
        message: None,
    }
}

fn warned(warnings: &[&str]) -> Answer {
    Answer {
        decision: Decision::Accept,
        warnings: warnings.iter().map(|w| w.to_string()).collect(),
        message: Some(format!("azure-workload-identity: {}", warnings.join("; "))),
    }
}

fn rejected(findings: &[&str]) -> Answer {
    Answer {
        decision: Decision::Reject(Rejection(format!(
            "azure-workload-identity: {}",
            findings.join("; ")
        ))),
        warnings: vec![],
        message: None,
    }
}

const DEPLOYMENT: (&str, &str, &str) = ("apps", "v1", "Deployment");

/// Runs a table of (name, payload, cluster, expected answer, expected reads) and reports every
/// row that differs, not only the first.
/// (name, payload, cluster, expected answer, expected reads as (namespace, name, fresh))
type Row<'a> = (
    &'a str,
    Vec<u8>,
    FakeCluster,
    Answer,
    Vec<(&'a str, &'a str, bool)>,
);

fn check_table(rows: Vec<Row>) {
    let mut failures = Vec::new();
    for (name, payload, cluster, expected, expected_reads) in rows {
        let answer = review(&payload, &cluster);
        if answer != expected {
            failures.push(format!(
                "{name}:\n  got      {answer:?}\n  expected {expected:?}"
            ));
        }
        let expected_reads = reads(&expected_reads);
        if cluster.reads() != expected_reads {
            failures.push(format!(
                "{name}: reads {:?}, expected {expected_reads:?}",
                cluster.reads()
            ));
        }
        for warning in &answer.warnings {
            if warning.len() > 256 {
                failures.push(format!("{name}: warning over 256 bytes: {warning}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn pod(annotations: Value, spec: Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "app", "labels": {"azure.workload.identity/use": "true"}, "annotations": annotations},
        "spec": spec,
    })
}

fn pod_payload(pod: Value, settings: Value) -> Vec<u8> {
    payload("CREATE", ("", "v1", "Pod"), pod, settings)
}
