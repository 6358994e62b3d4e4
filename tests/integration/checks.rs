//! The checks at `kubectl apply`: workloads and ServiceAccounts (findings delivered as warnings
//! or a rejection), the warnings of the Pod path, and the fresh ServiceAccount read before a
//! rejection. Every test asserts the whole answer: decision, warnings and message.

use std::cell::RefCell;

use azure_workload_identity_policy::{
    Answer, Decision, Rejection, ServiceAccount, ServiceAccountSource, review,
};
use serde_json::{Value, json};

const CLIENT_ID: &str = "5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f";
const TENANT: &str = "d3fa017e-5e7a-4c2b-a0c1-9e8f7d6c5b4a";

/// ServiceAccounts by (namespace, name); `stale` answers the cached read differently from the
/// fresh one. Records every read as (namespace, name, fresh).
#[derive(Default)]
struct Cluster {
    accounts: Vec<(String, String, Value)>,
    stale: Vec<(String, String, Option<Value>)>,
    errors: Vec<(String, String, String)>,
    reads: RefCell<Vec<(String, String, bool)>>,
}

impl Cluster {
    fn with(accounts: &[(&str, &str, Value)]) -> Self {
        Cluster {
            accounts: accounts
                .iter()
                .map(|(ns, n, a)| (ns.to_string(), n.to_string(), a.clone()))
                .collect(),
            ..Cluster::default()
        }
    }

    /// The cached read of namespace/name answers `cached` (`None`: not found).
    fn stale(mut self, namespace: &str, name: &str, cached: Option<Value>) -> Self {
        self.stale
            .push((namespace.to_string(), name.to_string(), cached));
        self
    }

    /// Every read of namespace/name fails with `error`.
    fn failing(mut self, namespace: &str, name: &str, error: &str) -> Self {
        self.errors
            .push((namespace.to_string(), name.to_string(), error.to_string()));
        self
    }

    fn reads(&self) -> Vec<(String, String, bool)> {
        self.reads.borrow().clone()
    }

    fn answer(&self, namespace: &str, name: &str, fresh: bool) -> Result<ServiceAccount, String> {
        self.reads
            .borrow_mut()
            .push((namespace.to_string(), name.to_string(), fresh));
        let not_found = || {
            format!(
                "Cannot find v1/ServiceAccount named '{name}' inside of namespace 'Some(\"{namespace}\")'"
            )
        };
        let key = |ns: &String, n: &String| ns == namespace && n == name;
        if let Some((_, _, error)) = self.errors.iter().find(|(ns, n, _)| key(ns, n)) {
            return Err(error.clone());
        }
        let found = match self.stale.iter().find(|(ns, n, _)| key(ns, n)) {
            Some((_, _, cached)) if !fresh => cached.clone(),
            _ => self
                .accounts
                .iter()
                .find(|(ns, n, _)| key(ns, n))
                .map(|(_, _, a)| a.clone()),
        };
        match found {
            Some(account) => serde_json::from_value(account).map_err(|e| e.to_string()),
            None => Err(not_found()),
        }
    }
}

impl ServiceAccountSource for Cluster {
    fn get(&self, namespace: &str, name: &str) -> Result<ServiceAccount, String> {
        self.answer(namespace, name, false)
    }
    fn get_fresh(&self, namespace: &str, name: &str) -> Result<ServiceAccount, String> {
        self.answer(namespace, name, true)
    }
}

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
    Cluster,
    Answer,
    Vec<(&'a str, &'a str, bool)>,
);

fn check_table(rows: Vec<Row>) {
    let mut failures = Vec::new();
    for (name, payload, cluster, expected, reads) in rows {
        let answer = review(&payload, &cluster);
        if answer != expected {
            failures.push(format!(
                "{name}:\n  got      {answer:?}\n  expected {expected:?}"
            ));
        }
        let expected_reads: Vec<(String, String, bool)> = reads
            .iter()
            .map(|(ns, n, f)| (ns.to_string(), n.to_string(), *f))
            .collect();
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

#[test]
fn workloads_with_a_usable_template_are_accepted_without_warnings() {
    let sa = || Cluster::with(&[("app", "sa", good_account())]);
    let dep = |t| {
        payload(
            "CREATE",
            DEPLOYMENT,
            deployment(json!({}), t),
            settings("warn"),
        )
    };
    check_table(vec![
        (
            "labelled template, annotated ServiceAccount",
            dep(labelled_template(app_spec())),
            sa(),
            accepted(),
            vec![("app", "sa", false)],
        ),
        (
            "unlabelled template: no lookup",
            dep(template(json!({"app": "web"}), json!({}), app_spec())),
            sa(),
            accepted(),
            vec![],
        ),
        (
            "label value other than \"true\": not ours",
            dep(template(
                json!({"azure.workload.identity/use": "false"}),
                json!({}),
                app_spec(),
            )),
            sa(),
            accepted(),
            vec![],
        ),
        (
            "UPDATE is checked too",
            payload(
                "UPDATE",
                DEPLOYMENT,
                deployment(json!({}), labelled_template(app_spec())),
                settings("reject"),
            ),
            sa(),
            accepted(),
            vec![("app", "sa", false)],
        ),
        (
            "a ReplicaSet owned by its Deployment is checked at the Deployment",
            payload(
                "CREATE",
                ("apps", "v1", "ReplicaSet"),
                json!({
                    "metadata": {"name": "web-7d4b9c5f6", "namespace": "app", "ownerReferences": [
                        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "u", "controller": true}
                    ]},
                    "spec": {"template": labelled_template(app_spec())},
                }),
                settings("reject"),
            ),
            Cluster::default(),
            accepted(),
            vec![],
        ),
        (
            "DELETE is not",
            payload(
                "DELETE",
                DEPLOYMENT,
                deployment(json!({}), labelled_template(app_spec())),
                settings("reject"),
            ),
            Cluster::default(),
            accepted(),
            vec![],
        ),
    ]);
}

#[test]
fn workload_findings_are_warnings_or_one_rejection() {
    let no_client_id = || {
        Cluster::with(&[(
            "app",
            "sa",
            account(json!({"azure.workload.identity/tenant-id": TENANT})),
        )])
    };
    let dep = |t, findings| {
        payload(
            "CREATE",
            DEPLOYMENT,
            deployment(json!({}), t),
            settings(findings),
        )
    };
    let missing = "Deployment app/web: ServiceAccount app/sa has no azure.workload.identity/client-id annotation; annotate it with the identity's client ID";
    check_table(vec![
        (
            "no client-id, warn",
            dep(labelled_template(app_spec()), "warn"),
            no_client_id(),
            warned(&[missing]),
            vec![("app", "sa", false)],
        ),
        (
            "no client-id, reject: read again past the cache first",
            dep(labelled_template(app_spec()), "reject"),
            no_client_id(),
            rejected(&[missing]),
            vec![("app", "sa", false), ("app", "sa", true)],
        ),
    ]);
}

#[test]
fn every_workload_kind_is_checked_at_its_template() {
    let no_client_id = || Cluster::with(&[("app", "sa", account(json!({})))]);
    let workload = |kind: &str, template_at_job: bool| {
        let spec = match template_at_job {
            false => json!({"template": labelled_template(app_spec())}),
            true => {
                json!({"schedule": "@daily", "jobTemplate": {"spec": {"template": labelled_template(app_spec())}}})
            }
        };
        json!({"kind": kind, "metadata": {"name": "w", "namespace": "app"}, "spec": spec})
    };
    let text = |kind: &str| {
        format!(
            "{kind} app/w: ServiceAccount app/sa has no azure.workload.identity/client-id \
             annotation; annotate it with the identity's client ID"
        )
    };
    let kinds = [
        ("apps", "StatefulSet", false),
        ("apps", "DaemonSet", false),
        ("apps", "ReplicaSet", false),
        ("", "ReplicationController", false),
        ("batch", "Job", false),
        ("batch", "CronJob", true),
    ];
    let texts: Vec<String> = kinds.iter().map(|(_, kind, _)| text(kind)).collect();
    let rows = kinds
        .iter()
        .zip(&texts)
        .map(|((group, kind, at_job), text)| {
            (
                *kind,
                payload(
                    "CREATE",
                    (group, "v1", kind),
                    workload(kind, *at_job),
                    settings("warn"),
                ),
                no_client_id(),
                warned(&[text.as_str()]),
                vec![("app", "sa", false)],
            )
        })
        .collect();
    check_table(rows);
}

#[test]
fn the_label_on_the_wrong_level_is_a_finding() {
    let on_workload = "Deployment app/web: azure.workload.identity/use: \"true\" is on metadata.labels, so its Pods are not configured; the label must be on spec.template.metadata.labels";
    let as_annotation = "Deployment app/web: azure.workload.identity/use: \"true\" is on spec.template.metadata.annotations, so its Pods are not configured; the label must be on spec.template.metadata.labels";
    let use_true = json!({"azure.workload.identity/use": "true"});
    let unlabelled = || template(json!({"app": "web"}), json!({}), app_spec());
    let cron_job = json!({
        "kind": "CronJob", "metadata": {"name": "nightly", "namespace": "app", "labels": use_true},
        "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": unlabelled()}}},
    });
    check_table(vec![
        (
            "on the Deployment, warn",
            payload(
                "CREATE",
                DEPLOYMENT,
                deployment(use_true.clone(), unlabelled()),
                settings("warn"),
            ),
            Cluster::default(),
            warned(&[on_workload]),
            vec![],
        ),
        (
            "on the Deployment, reject",
            payload(
                "CREATE",
                DEPLOYMENT,
                deployment(use_true.clone(), unlabelled()),
                settings("reject"),
            ),
            Cluster::default(),
            rejected(&[on_workload]),
            vec![],
        ),
        (
            "as a template annotation",
            payload(
                "CREATE",
                DEPLOYMENT,
                deployment(json!({}), template(json!({}), use_true.clone(), app_spec())),
                settings("warn"),
            ),
            Cluster::default(),
            warned(&[as_annotation]),
            vec![],
        ),
        (
            "both",
            payload(
                "CREATE",
                DEPLOYMENT,
                deployment(
                    use_true.clone(),
                    template(json!({}), use_true.clone(), app_spec()),
                ),
                settings("reject"),
            ),
            Cluster::default(),
            rejected(&[on_workload, as_annotation]),
            vec![],
        ),
        (
            "on the CronJob: the path of its job template",
            payload(
                "CREATE",
                ("batch", "v1", "CronJob"),
                cron_job,
                settings("warn"),
            ),
            Cluster::default(),
            warned(&[
                "CronJob app/nightly: azure.workload.identity/use: \"true\" is on metadata.labels, so its Pods are not configured; the label must be on spec.jobTemplate.spec.template.metadata.labels",
            ]),
            vec![],
        ),
        (
            "on both levels: configured, no finding",
            payload(
                "CREATE",
                DEPLOYMENT,
                deployment(use_true.clone(), labelled_template(app_spec())),
                settings("reject"),
            ),
            Cluster::with(&[("app", "sa", good_account())]),
            accepted(),
            vec![("app", "sa", false)],
        ),
    ]);
}

#[test]
fn a_missing_service_account_only_warns_and_an_unreadable_one_is_a_finding() {
    let dep = |findings| {
        payload(
            "CREATE",
            DEPLOYMENT,
            deployment(json!({}), labelled_template(app_spec())),
            settings(findings),
        )
    };
    let missing = "Deployment app/web: ServiceAccount app/sa does not exist; create it with the annotation azure.workload.identity/client-id, or its Pods will be rejected";
    let forbidden = "serviceaccounts \"sa\" is forbidden: User \"system:serviceaccount:kubewarden:policy-server\" cannot get resource \"serviceaccounts\" in API group \"\" in the namespace \"app\"";
    let unreadable = "Deployment app/web: ServiceAccount app/sa could not be read (serviceaccounts \"sa\" is forbidden: User \"system:serviceaccount:kubewarden:policy…); grant the policy-server get on serviceaccounts";
    check_table(vec![
        (
            "missing, warn",
            dep("warn"),
            Cluster::default(),
            warned(&[missing]),
            vec![("app", "sa", false)],
        ),
        (
            "missing, reject: still only a warning, and no second read",
            dep("reject"),
            Cluster::default(),
            warned(&[missing]),
            vec![("app", "sa", false)],
        ),
        (
            "forbidden, reject",
            dep("reject"),
            Cluster::default().failing("app", "sa", forbidden),
            rejected(&[unreadable]),
            vec![("app", "sa", false)],
        ),
    ]);
}

#[test]
fn every_problem_of_the_template_is_reported() {
    let spec = json!({
        "serviceAccountName": "sa", "hostNetwork": true,
        "containers": [{"name": "app", "image": "app:1"}],
    });
    let annotations = json!({
        "azure.workload.identity/inject-proxy-sidecar": "true",
        "azure.workload.identity/service-account-token-expiration": "1h",
        "azure.workload.identity/skip-containers": "ap",
    });
    let labels = json!({"azure.workload.identity/use": "true"});
    let dep = payload(
        "CREATE",
        DEPLOYMENT,
        deployment(json!({}), template(labels, annotations, spec)),
        settings("reject"),
    );
    let near_miss = account(json!({"azure.workload.identity/client_id": CLIENT_ID}));
    check_table(vec![(
        "no client-id, proxy on hostNetwork, bad expiration, and a skip-containers typo",
        dep,
        Cluster::with(&[("app", "sa", near_miss)]),
        rejected(&[
            "Deployment app/web: ServiceAccount app/sa has \"azure.workload.identity/client_id\" but no azure.workload.identity/client-id; rename the annotation",
            "Deployment app/web: spec.template.spec.hostNetwork is true, so the proxy sidecar cannot be injected; remove azure.workload.identity/inject-proxy-sidecar or hostNetwork",
            "Deployment app/web: spec.template.metadata.annotations[\"azure.workload.identity/service-account-token-expiration\"] is not a whole number of seconds; use an integer from 3600 to 86400, e.g. \"3600\"",
            "Deployment app/web: spec.template.metadata.annotations[\"azure.workload.identity/skip-containers\"] names container \"ap\", which the Pod does not have; check the spelling",
        ]),
        vec![("app", "sa", false), ("app", "sa", true)],
    )]);
}

#[test]
fn a_proxy_port_that_does_not_parse_is_a_finding() {
    let annotations = json!({
        "azure.workload.identity/inject-proxy-sidecar": "true",
        "azure.workload.identity/proxy-sidecar-port": "http",
    });
    let labels = json!({"azure.workload.identity/use": "true"});
    check_table(vec![(
        "proxy-sidecar-port \"http\"",
        payload(
            "CREATE",
            DEPLOYMENT,
            deployment(json!({}), template(labels, annotations, app_spec())),
            settings("warn"),
        ),
        Cluster::with(&[("app", "sa", good_account())]),
        warned(&[
            "Deployment app/web: spec.template.metadata.annotations[\"azure.workload.identity/proxy-sidecar-port\"] is \"http\", not a port number; use e.g. \"8000\"",
        ]),
        vec![("app", "sa", false)],
    )]);
}

#[test]
fn a_stale_service_account_does_not_reject() {
    let dep = || {
        payload(
            "CREATE",
            DEPLOYMENT,
            deployment(json!({}), labelled_template(app_spec())),
            settings("reject"),
        )
    };
    check_table(vec![
        (
            "cached without client-id, fresh with it",
            dep(),
            Cluster::with(&[("app", "sa", good_account())]).stale(
                "app",
                "sa",
                Some(account(json!({}))),
            ),
            accepted(),
            vec![("app", "sa", false), ("app", "sa", true)],
        ),
        (
            "own AZURE_CLIENT_ID in every container: no client-id needed, one read",
            payload(
                "CREATE",
                DEPLOYMENT,
                deployment(
                    json!({}),
                    labelled_template(json!({"serviceAccountName": "sa", "containers": [
                        {"name": "app", "env": [{"name": "AZURE_CLIENT_ID", "value": CLIENT_ID}]}
                    ]})),
                ),
                settings("reject"),
            ),
            Cluster::with(&[("app", "sa", account(json!({})))]),
            accepted(),
            vec![("app", "sa", false)],
        ),
    ]);
}

#[test]
fn malformed_templates_name_the_path_in_the_workload() {
    let dep = |spec| {
        payload(
            "CREATE",
            DEPLOYMENT,
            deployment(json!({}), labelled_template(spec)),
            settings("reject"),
        )
    };
    check_table(vec![
        (
            "containers not a list",
            dep(json!({"containers": {"name": "app"}})),
            Cluster::default(),
            rejected(&[
                "Deployment app/web: spec.template.spec.containers must be a list, found an object; fix the manifest",
            ]),
            vec![],
        ),
        (
            "env entry without a name",
            dep(json!({"containers": [{"name": "app", "env": [{"value": "x"}]}]})),
            Cluster::default(),
            rejected(&[
                "Deployment app/web: spec.template.spec.containers[0].env[0] has no name; fix the manifest",
            ]),
            vec![],
        ),
        (
            "serviceAccountName not a string",
            dep(json!({"serviceAccountName": 7, "containers": []})),
            Cluster::default(),
            rejected(&[
                "Deployment app/web: spec.template.spec.serviceAccountName must be a string, found a number; fix the manifest",
            ]),
            vec![],
        ),
    ]);
}

fn service_account_payload(findings: &str, annotations: Value, labels: Value) -> Vec<u8> {
    payload(
        "CREATE",
        ("", "v1", "ServiceAccount"),
        json!({"metadata": {"name": "sa", "namespace": "app", "annotations": annotations, "labels": labels}}),
        settings(findings),
    )
}

#[test]
fn service_accounts_are_checked_without_a_lookup() {
    let sa = |annotations| service_account_payload("warn", annotations, json!({}));
    let rows = vec![
        (
            "no Azure Workload Identity annotation",
            sa(json!({"example.com/owner": "me"})),
            accepted(),
        ),
        (
            "usable",
            sa(json!({
                "azure.workload.identity/client-id": CLIENT_ID,
                "azure.workload.identity/tenant-id": TENANT.to_uppercase(),
                "azure.workload.identity/service-account-token-expiration": "86400",
            })),
            accepted(),
        ),
        (
            "no client-id key at all is not a finding by itself",
            sa(json!({"azure.workload.identity/tenant-id": TENANT})),
            accepted(),
        ),
        (
            "an unknown key of the prefix",
            sa(json!({"azure.workload.identity/owner": "team-a"})),
            accepted(),
        ),
        (
            "near misses of the client-id",
            sa(json!({
                "client_id": CLIENT_ID,
                "clientId": CLIENT_ID,
                "Client-Id": CLIENT_ID,
                "azure.workload.identity/clientid": CLIENT_ID,
            })),
            warned(&[
                "ServiceAccount app/sa: annotation \"Client-Id\" is not read; rename it to azure.workload.identity/client-id",
                "ServiceAccount app/sa: annotation \"azure.workload.identity/clientid\" is not read; rename it to azure.workload.identity/client-id",
                "ServiceAccount app/sa: annotation \"clientId\" is not read; rename it to azure.workload.identity/client-id",
                "ServiceAccount app/sa: annotation \"client_id\" is not read; rename it to azure.workload.identity/client-id",
            ]),
        ),
        (
            "near miss of the tenant-id and the expiration",
            sa(json!({
                "azure.workload.identity/tenantid": TENANT,
                "azure.workload.identity/service-account-token-expiry": "3600",
            })),
            warned(&[
                "ServiceAccount app/sa: annotation \"azure.workload.identity/service-account-token-expiry\" is not read; rename it to azure.workload.identity/service-account-token-expiration",
                "ServiceAccount app/sa: annotation \"azure.workload.identity/tenantid\" is not read; rename it to azure.workload.identity/tenant-id",
            ]),
        ),
        (
            "empty client-id",
            sa(json!({"azure.workload.identity/client-id": ""})),
            warned(&[
                "ServiceAccount app/sa: azure.workload.identity/client-id is empty; set it to the client ID of the managed identity or app registration",
            ]),
        ),
        (
            "ids that are not GUIDs",
            sa(json!({
                "azure.workload.identity/client-id": format!(" {CLIENT_ID}"),
                "azure.workload.identity/tenant-id": "contoso.onmicrosoft.com",
            })),
            warned(&[
                "ServiceAccount app/sa: azure.workload.identity/client-id \" 5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f\" is not a GUID (8-4-4-4-12 hex digits); set the ID shown by Microsoft Entra ID",
                "ServiceAccount app/sa: azure.workload.identity/tenant-id \"contoso.onmicrosoft.com\" is not a GUID (8-4-4-4-12 hex digits); set the ID shown by Microsoft Entra ID",
            ]),
        ),
        (
            "expiration not a number",
            sa(
                json!({"azure.workload.identity/client-id": CLIENT_ID, "azure.workload.identity/service-account-token-expiration": "24h"}),
            ),
            warned(&[
                "ServiceAccount app/sa: azure.workload.identity/service-account-token-expiration is not a whole number of seconds; use an integer from 3600 to 86400, e.g. \"3600\"",
            ]),
        ),
        (
            "expiration out of range",
            sa(
                json!({"azure.workload.identity/client-id": CLIENT_ID, "azure.workload.identity/service-account-token-expiration": "600"}),
            ),
            warned(&[
                "ServiceAccount app/sa: azure.workload.identity/service-account-token-expiration is 600, outside 3600 to 86400 seconds; set it within that range",
            ]),
        ),
        (
            "the pre-1.0 label",
            service_account_payload(
                "warn",
                json!({"azure.workload.identity/client-id": CLIENT_ID}),
                json!({"azure.workload.identity/use": "true"}),
            ),
            warned(&[
                "ServiceAccount app/sa: the label azure.workload.identity/use selects nothing since v1.0; put it on the Pod template (spec.template.metadata.labels) instead",
            ]),
        ),
        (
            "the pre-1.0 label alone",
            service_account_payload(
                "warn",
                json!({}),
                json!({"azure.workload.identity/use": "true"}),
            ),
            warned(&[
                "ServiceAccount app/sa: the label azure.workload.identity/use selects nothing since v1.0; put it on the Pod template (spec.template.metadata.labels) instead",
            ]),
        ),
        (
            "UPDATE is checked too",
            payload(
                "UPDATE",
                ("", "v1", "ServiceAccount"),
                json!({"metadata": {"name": "sa", "namespace": "app", "annotations": {"azure.workload.identity/client-id": ""}}}),
                settings("warn"),
            ),
            warned(&[
                "ServiceAccount app/sa: azure.workload.identity/client-id is empty; set it to the client ID of the managed identity or app registration",
            ]),
        ),
        (
            "reject: every finding in one message",
            service_account_payload(
                "reject",
                json!({"azure.workload.identity/client-id": "", "azure.workload.identity/tenant-id": "x"}),
                json!({}),
            ),
            rejected(&[
                "ServiceAccount app/sa: azure.workload.identity/client-id is empty; set it to the client ID of the managed identity or app registration",
                "ServiceAccount app/sa: azure.workload.identity/tenant-id \"x\" is not a GUID (8-4-4-4-12 hex digits); set the ID shown by Microsoft Entra ID",
            ]),
        ),
    ];
    check_table(
        rows.into_iter()
            .map(|(name, payload, answer)| (name, payload, Cluster::default(), answer, vec![]))
            .collect(),
    );
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

/// Runs a table of Pods and reports every row whose warnings differ, or whose decision is not
/// of the expected kind (the mutation itself is asserted by the mutation tests).
/// (name, Pod, settings, cluster, whether it is mutated, expected warnings)
type PodRow<'a> = (&'a str, Value, Value, Cluster, bool, Vec<&'a str>);

fn check_pod_warnings(rows: Vec<PodRow>) {
    let mut failures = Vec::new();
    for (name, pod, settings, cluster, mutated, warnings) in rows {
        let answer = review(&pod_payload(pod, settings), &cluster);
        if matches!(answer.decision, Decision::Mutate(_)) != mutated {
            failures.push(format!("{name}: decision {:?}", answer.decision));
        }
        if answer.warnings != warnings || answer.message.is_some() {
            failures.push(format!(
                "{name}:\n  got      {:?} {:?}\n  expected {warnings:?}",
                answer.warnings, answer.message
            ));
        }
        if let Some(long) = answer.warnings.iter().find(|w| w.len() > 256) {
            failures.push(format!("{name}: warning over 256 bytes: {long}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pods_get_a_warning_for_what_is_allowed_but_likely_a_mistake() {
    let sa = || Cluster::with(&[("app", "sa", good_account())]);
    let default = || json!({"defaultTenantId": TENANT});
    let app = |extra: Value| {
        let mut container = json!({"name": "app", "image": "app:1"});
        if let (Some(c), Some(e)) = (container.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        json!({"serviceAccountName": "sa", "containers": [container]})
    };
    check_pod_warnings(vec![
        (
            "nothing odd: no warnings",
            pod(json!({}), app(json!({}))),
            default(),
            sa(),
            true,
            vec![],
        ),
        (
            "skip-containers names a container the Pod lacks",
            pod(
                json!({"azure.workload.identity/skip-containers": "app;sidecar;azwi-proxy"}),
                app(json!({})),
            ),
            default(),
            sa(),
            true,
            vec![
                "Pod app/p: metadata.annotations[\"azure.workload.identity/skip-containers\"] names container \"sidecar\", which the Pod does not have; check the spelling",
            ],
        ),
        (
            "inject-proxy-sidecar \"false\" still injects",
            pod(
                json!({"azure.workload.identity/inject-proxy-sidecar": "false"}),
                app(json!({})),
            ),
            default(),
            sa(),
            true,
            vec![
                "Pod app/p: metadata.annotations[\"azure.workload.identity/inject-proxy-sidecar\"] is \"false\", but the proxy is injected whenever the annotation is present; remove it to run without the proxy",
            ],
        ),
        (
            "inject-proxy-sidecar \"True\" is fine",
            pod(
                json!({"azure.workload.identity/inject-proxy-sidecar": "True"}),
                app(json!({})),
            ),
            default(),
            sa(),
            true,
            vec![],
        ),
        (
            "own AZURE_CLIENT_ID differs from the ServiceAccount's",
            pod(
                json!({}),
                app(
                    json!({"env": [{"name": "AZURE_CLIENT_ID", "value": "11111111-2222-3333-4444-555555555555"}]}),
                ),
            ),
            default(),
            sa(),
            true,
            vec![
                "Pod app/p: container \"app\" sets AZURE_CLIENT_ID to \"11111111-2222-3333-4444-555555555555\", not the client-id \"5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f\" of ServiceAccount app/sa; its own value is kept",
            ],
        ),
        (
            "own AZURE_CLIENT_ID from valueFrom is not compared",
            pod(
                json!({}),
                app(
                    json!({"env": [{"name": "AZURE_CLIENT_ID", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}]}),
                ),
            ),
            default(),
            sa(),
            true,
            vec![],
        ),
        (
            "own AZURE_CLIENT_ID equal to the ServiceAccount's",
            pod(
                json!({}),
                app(json!({"env": [{"name": "AZURE_CLIENT_ID", "value": CLIENT_ID}]})),
            ),
            default(),
            sa(),
            true,
            vec![],
        ),
        (
            "near-miss annotation keys",
            pod(
                json!({
                    "azure.workload.identity/skip-container": "app",
                    "azure.workload.identity/service-account-token-expiry": "7200",
                }),
                app(json!({})),
            ),
            default(),
            sa(),
            true,
            vec![
                "Pod app/p: annotation \"azure.workload.identity/service-account-token-expiry\" is not read; did you mean azure.workload.identity/service-account-token-expiration?",
                "Pod app/p: annotation \"azure.workload.identity/skip-container\" is not read; did you mean azure.workload.identity/skip-containers?",
            ],
        ),
        (
            "the v1.5 token path in an env value, with the v1.6 layout",
            pod(
                json!({}),
                app(
                    json!({"env": [{"name": "TOKEN", "value": "file:/var/run/secrets/azure/tokens/azure-identity-token"}]}),
                ),
            ),
            default(),
            sa(),
            true,
            vec![
                "Pod app/p: container \"app\" refers to /var/run/secrets/azure/tokens/azure-identity-token, but the token is mounted at /var/run/secrets/azure/wi/token/azure-identity-token; read AZURE_FEDERATED_TOKEN_FILE instead",
            ],
        ),
        (
            "the v1.6 token path in args, with the v1.5 layout",
            pod(
                json!({}),
                app(
                    json!({"args": ["--token=/var/run/secrets/azure/wi/token/azure-identity-token"]}),
                ),
            ),
            json!({"defaultTenantId": TENANT, "tokenLayout": "v1.5"}),
            sa(),
            true,
            vec![
                "Pod app/p: container \"app\" refers to /var/run/secrets/azure/wi/token/azure-identity-token, but the token is mounted at /var/run/secrets/azure/tokens/azure-identity-token; read AZURE_FEDERATED_TOKEN_FILE instead",
            ],
        ),
        (
            "the other path in the command",
            pod(
                json!({}),
                app(
                    json!({"command": ["cat", "/var/run/secrets/azure/tokens/azure-identity-token"]}),
                ),
            ),
            default(),
            sa(),
            true,
            vec![
                "Pod app/p: container \"app\" refers to /var/run/secrets/azure/tokens/azure-identity-token, but the token is mounted at /var/run/secrets/azure/wi/token/azure-identity-token; read AZURE_FEDERATED_TOKEN_FILE instead",
            ],
        ),
        (
            "the proxy on a Windows Pod",
            pod(
                json!({"azure.workload.identity/inject-proxy-sidecar": "true"}),
                json!({"serviceAccountName": "sa", "os": {"name": "windows"}, "containers": [{"name": "app"}]}),
            ),
            default(),
            sa(),
            true,
            vec![
                "Pod app/p: the proxy sidecar runs on Linux only, but spec.os.name is windows; remove azure.workload.identity/inject-proxy-sidecar",
            ],
        ),
        (
            "a rejected Pod keeps its warnings",
            pod(
                json!({"azure.workload.identity/skip-container": "app"}),
                app(json!({})),
            ),
            default(),
            Cluster::with(&[("app", "sa", account(json!({})))]),
            false,
            vec![
                "Pod app/p: annotation \"azure.workload.identity/skip-container\" is not read; did you mean azure.workload.identity/skip-containers?",
            ],
        ),
    ]);
}

#[test]
fn a_pod_is_rejected_only_on_a_fresh_read_of_its_service_account() {
    let labelled = || {
        pod(
            json!({}),
            json!({"serviceAccountName": "sa", "containers": [{"name": "app"}]}),
        )
    };
    let settings = || json!({"defaultTenantId": TENANT});
    let rejection = "azure-workload-identity: ServiceAccount \"app/sa\" used by Pod \"app/p\" has no \"azure.workload.identity/client-id\" annotation, so AZURE_CLIENT_ID cannot be injected. Annotate the ServiceAccount with the client ID of the managed identity or app registration: kubectl annotate serviceaccount -n app sa azure.workload.identity/client-id=<client-id>. Alternatively set AZURE_CLIENT_ID in the env of every container of the Pod";
    let mutated_client_id = |answer: &Answer| match &answer.decision {
        Decision::Mutate(pod) => pod
            .pointer("/spec/containers/0/env/0/value")
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    };
    let reads = |cluster: &Cluster| cluster.reads();
    let fresh = [
        ("app".to_string(), "sa".to_string(), false),
        ("app".to_string(), "sa".to_string(), true),
    ];

    // the cache says "no client-id", the API server has one now
    let cluster = Cluster::with(&[("app", "sa", good_account())]).stale(
        "app",
        "sa",
        Some(account(json!({}))),
    );
    let answer = review(&pod_payload(labelled(), settings()), &cluster);
    assert_eq!(mutated_client_id(&answer), Some(CLIENT_ID.to_string()));
    assert_eq!(reads(&cluster), fresh);

    // the cache says "not found", the ServiceAccount was created since
    let cluster = Cluster::with(&[("app", "sa", good_account())]).stale("app", "sa", None);
    let answer = review(&pod_payload(labelled(), settings()), &cluster);
    assert_eq!(mutated_client_id(&answer), Some(CLIENT_ID.to_string()));
    assert_eq!(reads(&cluster), fresh);

    // both answers lack the client-id: the fresh one decides and words the rejection
    let cluster = Cluster::with(&[("app", "sa", account(json!({})))]);
    let answer = review(&pod_payload(labelled(), settings()), &cluster);
    assert_eq!(
        answer,
        Answer {
            decision: Decision::Reject(Rejection(rejection.to_string())),
            warnings: vec![],
            message: None
        }
    );
    assert_eq!(reads(&cluster), fresh);

    // a successful lookup is read once, from the cache
    let cluster = Cluster::with(&[("app", "sa", good_account())]);
    let answer = review(&pod_payload(labelled(), settings()), &cluster);
    assert_eq!(mutated_client_id(&answer), Some(CLIENT_ID.to_string()));
    assert_eq!(reads(&cluster), fresh[..1].to_vec());
}
