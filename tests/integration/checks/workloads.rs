//! Workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job,
//! CronJob) checked at their Pod template: the label, the ServiceAccount and the annotations.

use super::*;

#[test]
fn workloads_with_a_usable_template_are_accepted_without_warnings() {
    let sa = || FakeCluster::serving(&[good_account()]);
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
            FakeCluster::empty(),
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
            FakeCluster::empty(),
            accepted(),
            vec![],
        ),
    ]);
}

#[test]
fn workload_findings_are_warnings_or_one_rejection() {
    let no_client_id = || {
        FakeCluster::serving(&[account(
            json!({"azure.workload.identity/tenant-id": TENANT}),
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
    let no_client_id = || FakeCluster::serving(&[account(json!({}))]);
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
            FakeCluster::empty(),
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
            FakeCluster::empty(),
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
            FakeCluster::empty(),
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
            FakeCluster::empty(),
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
            FakeCluster::empty(),
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
            FakeCluster::serving(&[good_account()]),
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
            FakeCluster::empty(),
            warned(&[missing]),
            vec![("app", "sa", false)],
        ),
        (
            "missing, reject: still only a warning, and no second read",
            dep("reject"),
            FakeCluster::empty(),
            warned(&[missing]),
            vec![("app", "sa", false)],
        ),
        (
            "forbidden, reject",
            dep("reject"),
            FakeCluster::empty().failing("app", "sa", forbidden),
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
        FakeCluster::serving(&[near_miss]),
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
        FakeCluster::serving(&[good_account()]),
        warned(&[
            "Deployment app/web: spec.template.metadata.annotations[\"azure.workload.identity/proxy-sidecar-port\"] is \"http\", not a port number; use e.g. \"8000\"",
        ]),
        vec![("app", "sa", false)],
    )]);
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
            FakeCluster::empty(),
            rejected(&[
                "Deployment app/web: spec.template.spec.containers must be a list, found an object; fix the manifest",
            ]),
            vec![],
        ),
        (
            "env entry without a name",
            dep(json!({"containers": [{"name": "app", "env": [{"value": "x"}]}]})),
            FakeCluster::empty(),
            rejected(&[
                "Deployment app/web: spec.template.spec.containers[0].env[0] has no name; fix the manifest",
            ]),
            vec![],
        ),
        (
            "serviceAccountName not a string",
            dep(json!({"serviceAccountName": 7, "containers": []})),
            FakeCluster::empty(),
            rejected(&[
                "Deployment app/web: spec.template.spec.serviceAccountName must be a string, found a number; fix the manifest",
            ]),
            vec![],
        ),
    ]);
}
