//! `metadata.yml`: the policy's rules, context-aware resources and annotations.

use super::*;

/// A rule as `kwctl annotate` reads it; the field order is the one kwctl serializes.
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Rule {
    pub(crate) api_groups: Vec<String>,
    pub(crate) api_versions: Vec<String>,
    pub(crate) resources: Vec<String>,
    pub(crate) operations: Vec<String>,
}

#[derive(Deserialize, Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ContextAwareResource {
    pub(crate) api_version: String,
    pub(crate) kind: String,
}

/// The keys kwctl understands. kwctl ignores unknown keys silently, so a misspelt key (or the
/// legacy `contextAware`) would be lost without a word; here it fails the test.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Metadata {
    pub(crate) rules: Vec<Rule>,
    pub(crate) mutating: bool,
    pub(crate) background_audit: bool,
    pub(crate) execution_mode: String,
    pub(crate) context_aware_resources: Vec<ContextAwareResource>,
    pub(crate) host_capabilities: Vec<String>,
    #[serde(default)]
    pub(crate) minimum_kubewarden_version: Option<String>,
    pub(crate) annotations: BTreeMap<String, String>,
}

pub(crate) fn metadata() -> Metadata {
    yaml("metadata.yml")
}

pub(crate) fn rule(group: &str, resources: &[&str], operations: &[&str]) -> Rule {
    let strings = |items: &[&str]| items.iter().map(|i| i.to_string()).collect();
    Rule {
        api_groups: vec![group.to_string()],
        api_versions: vec!["v1".into()],
        resources: strings(resources),
        operations: strings(operations),
    }
}

/// The rule of the Pod policy and of the verify policy: Pods are mutated (or verified) when
/// they are created, never later.
pub(crate) fn pod_create_rule() -> Rule {
    rule("", &["pods"], &["CREATE"])
}

/// The rules of the checks policy: the workloads and ServiceAccounts, one rule per API group.
pub(crate) fn check_rules() -> Vec<Rule> {
    let both = &["CREATE", "UPDATE"];
    vec![
        rule("", &["serviceaccounts", "replicationcontrollers"], both),
        rule(
            "apps",
            &["deployments", "statefulsets", "daemonsets", "replicasets"],
            both,
        ),
        rule("batch", &["jobs", "cronjobs"], both),
    ]
}

/// The Kind of each resource the rules may name.
pub(crate) const KINDS: &[(&str, &str, &str)] = &[
    ("", "pods", "Pod"),
    ("", "serviceaccounts", "ServiceAccount"),
    ("", "replicationcontrollers", "ReplicationController"),
    ("apps", "deployments", "Deployment"),
    ("apps", "statefulsets", "StatefulSet"),
    ("apps", "daemonsets", "DaemonSet"),
    ("apps", "replicasets", "ReplicaSet"),
    ("batch", "jobs", "Job"),
    ("batch", "cronjobs", "CronJob"),
];

pub(crate) fn kind_of(group: &str, resource: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(g, r, _)| *g == group && *r == resource)
        .map(|(_, _, kind)| *kind)
        .unwrap_or_else(|| panic!("no Kind known for {group}/{resource}"))
}

/// One (group, version, resource, operation) that a list of rules matches.
pub(crate) type Match = (String, String, String, String);

/// Everything `rules` match: a rule matches every combination of its groups, versions,
/// resources and operations.
pub(crate) fn matched(rules: &[Rule]) -> BTreeSet<Match> {
    let mut all = BTreeSet::new();
    for r in rules {
        for group in &r.api_groups {
            for version in &r.api_versions {
                for resource in &r.resources {
                    for operation in &r.operations {
                        all.insert((
                            group.clone(),
                            version.clone(),
                            resource.clone(),
                            operation.clone(),
                        ));
                    }
                }
            }
        }
    }
    all
}

pub(crate) fn service_account_resource() -> ContextAwareResource {
    ContextAwareResource {
        api_version: "v1".into(),
        kind: "ServiceAccount".into(),
    }
}

pub(crate) fn annotation<'a>(m: &'a Metadata, key: &str) -> &'a str {
    m.annotations
        .get(key)
        .unwrap_or_else(|| panic!("metadata.yml lacks the annotation {key}"))
}

pub(crate) fn oci_reference(m: &Metadata) -> String {
    format!(
        "{}:v{VERSION}",
        annotation(m, "io.kubewarden.policy.ociUrl")
    )
}

#[test]
fn metadata_declares_every_role_a_mutator_that_reads_service_accounts() {
    let m = metadata();
    let mut expected = vec![pod_create_rule()];
    expected.extend(check_rules());
    assert_eq!(m.rules, expected);
    assert!(m.mutating, "the Pod role mutates");
    assert!(
        !m.background_audit,
        "kwctl scaffold manifest copies it into the mutating policy, whose audit would pass \
         every Pod"
    );
    assert_eq!(m.execution_mode, "kubewarden-wapc");
    assert_eq!(m.context_aware_resources, vec![service_account_resource()]);
    assert_eq!(m.host_capabilities, vec!["kubernetes/get_resource"]);
    assert_eq!(m.minimum_kubewarden_version, None);
}

/// What the audit scanner and the API server need of every rule, in metadata.yml and in the
/// manifests: no wildcard (the audit scanner drops such a rule), `CREATE` spelt out (it audits
/// only rules that literally list it), and one API group per rule, so that every combination
/// the rule matches is a resource that exists (an unknown one makes the whole policy count as
/// errored in audit).
pub(crate) fn assert_auditable(rules: &[Rule], what: &str) {
    for r in rules {
        for field in [&r.api_groups, &r.api_versions, &r.resources, &r.operations] {
            assert!(
                field.iter().all(|v| !v.contains('*')),
                "{what}: wildcard in {r:?}"
            );
        }
        assert!(
            r.operations.iter().any(|o| o == "CREATE"),
            "{what}: {r:?} lacks CREATE"
        );
        assert!(
            r.operations.iter().all(|o| o == "CREATE" || o == "UPDATE"),
            "{what}: the policy handles CREATE and UPDATE only: {r:?}"
        );
        assert_eq!(
            r.api_groups.len(),
            1,
            "{what}: one API group per rule: {r:?}"
        );
        for resource in &r.resources {
            kind_of(&r.api_groups[0], resource);
        }
    }
    let matches = matched(rules);
    let count: usize = rules
        .iter()
        .map(|r| r.api_groups.len() * r.api_versions.len() * r.resources.len() * r.operations.len())
        .sum();
    assert_eq!(matches.len(), count, "{what}: rules overlap: {rules:?}");
}

#[test]
fn metadata_rules_are_auditable_and_name_the_artifacthub_resources() {
    let m = metadata();
    assert_auditable(&m.rules, "metadata.yml");
    let kinds: Vec<&str> = m
        .rules
        .iter()
        .flat_map(|r| r.resources.iter().map(|res| kind_of(&r.api_groups[0], res)))
        .collect();
    let listed: Vec<&str> = annotation(&m, "io.artifacthub.resources")
        .split(',')
        .map(str::trim)
        .collect();
    let sorted = |v: &[&str]| -> BTreeSet<String> { v.iter().map(|k| k.to_string()).collect() };
    assert_eq!(
        listed.len(),
        kinds.len(),
        "io.artifacthub.resources: {listed:?}"
    );
    assert_eq!(
        sorted(&listed),
        sorted(&kinds),
        "io.artifacthub.resources lists the Kind of every resource of the rules"
    );
    assert_eq!(
        listed,
        [
            "Pod",
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "ReplicaSet",
            "ReplicationController",
            "Job",
            "CronJob",
            "ServiceAccount"
        ]
    );
}

/// The rules send the policy exactly what it acts on: every (kind, operation) they match gets
/// an answer with something in it, and the Pod operation they leave out is ignored.
#[test]
fn the_policy_acts_on_every_kind_and_operation_of_the_rules() {
    use crate::common::{FakeCluster, payload};

    let settings = json!({"defaultTenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47"});
    let request = |group: &str, kind: &str, operation: &str, object: Value| {
        let api_version = if group.is_empty() {
            "v1".to_string()
        } else {
            format!("{group}/v1")
        };
        let mut object = object;
        object["apiVersion"] = json!(api_version);
        object["kind"] = json!(kind);
        json!({
            "uid": "0",
            "kind": {"group": group, "version": "v1", "kind": kind},
            "namespace": "default",
            "operation": operation,
            "object": object,
        })
    };
    for (group, _, resource, operation) in matched(&metadata().rules) {
        let kind = kind_of(&group, &resource);
        let object = match kind {
            // a labelled Pod whose ServiceAccount does not exist: rejected
            "Pod" => json!({
                "metadata": {"name": "web", "labels": {"azure.workload.identity/use": "true"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            }),
            // a misspelt client-id annotation: a finding
            "ServiceAccount" => json!({
                "metadata": {"name": "web", "annotations": {"azure.workload.identity/client_id": "x"}},
            }),
            // the label on the workload instead of its Pod template: a finding
            _ => json!({
                "metadata": {"name": "web", "labels": {"azure.workload.identity/use": "true"}},
                "spec": {},
            }),
        };
        let answer = review(
            &payload(&request(&group, kind, &operation, object), Some(&settings)),
            &FakeCluster::empty(),
        );
        assert!(
            answer.decision != Decision::Accept || !answer.warnings.is_empty(),
            "{operation} of {kind}: the policy did nothing: {answer:?}"
        );
    }
    let pod_update = request(
        "",
        "Pod",
        "UPDATE",
        json!({"metadata": {"name": "web", "labels": {"azure.workload.identity/use": "true"}}}),
    );
    let answer = review(
        &payload(&pod_update, Some(&settings)),
        &FakeCluster::empty(),
    );
    assert_eq!(answer, Answer::from(Decision::Accept), "Pod UPDATE");
}

#[test]
fn metadata_annotations_match_cargo_toml() {
    let m = metadata();
    let keys: BTreeSet<&str> = m.annotations.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = [
        "io.artifacthub.displayName",
        "io.artifacthub.keywords",
        "io.artifacthub.resources",
        "io.kubewarden.policy.author",
        "io.kubewarden.policy.category",
        "io.kubewarden.policy.description",
        "io.kubewarden.policy.license",
        "io.kubewarden.policy.ociUrl",
        "io.kubewarden.policy.severity",
        "io.kubewarden.policy.source",
        "io.kubewarden.policy.title",
        "io.kubewarden.policy.url",
        "io.kubewarden.policy.version",
    ]
    .into();
    assert_eq!(keys, expected, "annotations of metadata.yml");

    assert_eq!(annotation(&m, "io.kubewarden.policy.version"), VERSION);
    assert_eq!(annotation(&m, "io.kubewarden.policy.license"), LICENSE);
    assert_eq!(annotation(&m, "io.kubewarden.policy.title"), TITLE);
    let title = annotation(&m, "io.kubewarden.policy.title");
    assert!(
        title.len() <= 63
            && title.starts_with(|c: char| c.is_ascii_lowercase())
            && title.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && title
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "the title must be an RFC 1123 label: {title}"
    );
    for (key, value) in &m.annotations {
        // kwctl push drops multi-line annotations from the OCI manifest.
        assert!(!value.contains('\n') && !value.trim().is_empty(), "{key}");
    }
    for word in annotation(&m, "io.artifacthub.keywords").split(',') {
        assert!(
            !word.trim().is_empty(),
            "empty keyword in io.artifacthub.keywords"
        );
    }
    let url = annotation(&m, "io.kubewarden.policy.url");
    assert!(url.starts_with("https://github.com/"), "{url}");
    assert_eq!(annotation(&m, "io.kubewarden.policy.source"), url);
    let oci = annotation(&m, "io.kubewarden.policy.ociUrl");
    assert!(
        !oci.contains("://")
            && !oci.contains('@')
            && !oci.rsplit('/').next().unwrap_or("").contains(':'),
        "io.kubewarden.policy.ociUrl is a repository without scheme or tag: {oci}"
    );
    assert!(oci.ends_with(&format!("/{TITLE}")), "{oci}");
    let author = annotation(&m, "io.kubewarden.policy.author");
    let (name, email) = author
        .strip_suffix('>')
        .and_then(|a| a.split_once(" <"))
        .unwrap_or_else(|| panic!("author must read `Name <email>`: {author}"));
    assert!(!name.is_empty() && email.contains('@'), "{author}");
}

/// The release workflow's version check reads the version with
/// `grep 'io.kubewarden.policy.version' metadata.yml | awk '{print $2}' | tr -d '"'`.
#[test]
fn the_release_workflow_reads_the_right_version_from_metadata() {
    let text = read("metadata.yml");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("io.kubewarden.policy.version"))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "exactly one line may mention the version key: {lines:?}"
    );
    let second_field = lines[0].split_whitespace().nth(1).unwrap_or("");
    assert_eq!(second_field.replace('"', ""), VERSION);
}
