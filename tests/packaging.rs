//! Packaging consistency (issue 5): metadata.yml, artifacthub-pkg.yml, questions-ui.yml, the
//! manifests in deploy/ and the e2e fixtures must agree with Cargo.toml, with each other and with
//! the policy itself. Everything here reads files of the repository; nothing needs the network,
//! kwctl or a cluster.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use azure_workload_identity_policy::{Decision, check_settings, evaluate};
use azure_workload_identity_policy::{ServiceAccount, ServiceAccountSource};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const LICENSE: &str = env!("CARGO_PKG_LICENSE");
const TITLE: &str = "azure-workload-identity";

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

fn yaml<T: DeserializeOwned>(path: &str) -> T {
    serde_yaml::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json_file(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

// ---------------------------------------------------------------------------------------------
// metadata.yml

/// A rule as `kwctl annotate` reads it; the field order is the one kwctl serializes.
#[derive(Deserialize, Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Rule {
    api_groups: Vec<String>,
    api_versions: Vec<String>,
    resources: Vec<String>,
    operations: Vec<String>,
}

#[derive(Deserialize, Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ContextAwareResource {
    api_version: String,
    kind: String,
}

/// The keys kwctl understands. kwctl ignores unknown keys silently, so a misspelt key (or the
/// legacy `contextAware`) would be lost without a word; here it fails the test.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Metadata {
    rules: Vec<Rule>,
    mutating: bool,
    background_audit: bool,
    execution_mode: String,
    context_aware_resources: Vec<ContextAwareResource>,
    host_capabilities: Vec<String>,
    #[serde(default)]
    minimum_kubewarden_version: Option<String>,
    annotations: BTreeMap<String, String>,
}

fn metadata() -> Metadata {
    yaml("metadata.yml")
}

fn pod_create_rule() -> Rule {
    Rule {
        api_groups: vec![String::new()],
        api_versions: vec!["v1".into()],
        resources: vec!["pods".into()],
        operations: vec!["CREATE".into()],
    }
}

fn service_account_resource() -> ContextAwareResource {
    ContextAwareResource {
        api_version: "v1".into(),
        kind: "ServiceAccount".into(),
    }
}

fn annotation<'a>(m: &'a Metadata, key: &str) -> &'a str {
    m.annotations
        .get(key)
        .unwrap_or_else(|| panic!("metadata.yml lacks the annotation {key}"))
}

fn oci_reference(m: &Metadata) -> String {
    format!(
        "{}:v{VERSION}",
        annotation(m, "io.kubewarden.policy.ociUrl")
    )
}

#[test]
fn metadata_declares_a_create_only_pod_mutator_that_reads_service_accounts() {
    let m = metadata();
    assert_eq!(m.rules, vec![pod_create_rule()]);
    assert!(m.mutating);
    assert!(!m.background_audit);
    assert_eq!(m.execution_mode, "kubewarden-wapc");
    assert_eq!(m.context_aware_resources, vec![service_account_resource()]);
    assert_eq!(m.host_capabilities, vec!["kubernetes/get_resource"]);
    assert_eq!(m.minimum_kubewarden_version, None);
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
    assert_eq!(annotation(&m, "io.artifacthub.resources"), "Pod");
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

// ---------------------------------------------------------------------------------------------
// artifacthub-pkg.yml

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Named {
    name: String,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Link {
    name: String,
    url: String,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Image {
    name: String,
    image: String,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Maintainer {
    name: String,
    email: String,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Recommendation {
    url: String,
}

/// The fields `kwctl scaffold artifacthub` writes.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ArtifactHubPkg {
    version: String,
    name: String,
    display_name: String,
    created_at: String,
    description: String,
    license: String,
    #[serde(rename = "homeURL")]
    home_url: String,
    containers_images: Vec<Image>,
    keywords: Vec<String>,
    links: Vec<Link>,
    install: String,
    maintainers: Vec<Maintainer>,
    provider: Named,
    recommendations: Vec<Recommendation>,
    annotations: BTreeMap<String, String>,
}

#[test]
fn artifacthub_pkg_matches_metadata_and_cargo_toml() {
    let m = metadata();
    let pkg: ArtifactHubPkg = yaml("artifacthub-pkg.yml");
    let a = |key| annotation(&m, key).to_string();

    assert_eq!(pkg.version, VERSION);
    assert_eq!(pkg.name, a("io.kubewarden.policy.title"));
    assert_eq!(pkg.display_name, a("io.artifacthub.displayName"));
    assert_eq!(pkg.description, a("io.kubewarden.policy.description"));
    assert_eq!(pkg.license, a("io.kubewarden.policy.license"));
    assert_eq!(pkg.home_url, a("io.kubewarden.policy.url"));
    assert_eq!(
        pkg.containers_images,
        vec![Image {
            name: "policy".into(),
            image: oci_reference(&m)
        }]
    );
    let keywords: Vec<String> = a("io.artifacthub.keywords")
        .split(',')
        .map(|k| k.trim().to_string())
        .collect();
    assert_eq!(pkg.keywords, keywords);
    let source = a("io.kubewarden.policy.source");
    assert_eq!(
        pkg.links,
        vec![
            Link {
                name: "policy".into(),
                url: format!("{source}/releases/download/v{VERSION}/policy.wasm"),
            },
            Link {
                name: "source".into(),
                url: source.clone()
            },
        ]
    );
    let oci = oci_reference(&m);
    assert!(
        pkg.install.contains(&format!("kwctl pull {oci}\n")),
        "{}",
        pkg.install
    );
    assert!(
        pkg.install.contains(&format!(
            "kwctl scaffold manifest -t ClusterAdmissionPolicy registry://{oci}\n"
        )),
        "{}",
        pkg.install
    );
    let author = a("io.kubewarden.policy.author");
    let (name, email) = author
        .trim_end_matches('>')
        .split_once(" <")
        .unwrap_or_default();
    assert_eq!(
        pkg.maintainers,
        vec![Maintainer {
            name: name.into(),
            email: email.into()
        }]
    );
    assert_eq!(
        pkg.provider,
        Named {
            name: "kubewarden".into()
        }
    );
    assert_eq!(
        pkg.recommendations,
        vec![Recommendation {
            url: "https://artifacthub.io/packages/helm/kubewarden/kubewarden-controller".into()
        }]
    );
    let date = pkg.created_at.as_bytes();
    assert!(
        date.len() >= 20 && date[4] == b'-' && date[10] == b'T' && pkg.created_at.ends_with('Z'),
        "createdAt is an RFC 3339 UTC time: {}",
        pkg.created_at
    );

    // The annotations, byte for byte as kwctl derives them (serde_yaml 0.9, like kwctl).
    let expected: BTreeMap<String, String> = [
        (
            "kubewarden/contextAwareResources",
            to_yaml(&m.context_aware_resources),
        ),
        ("kubewarden/mutation", m.mutating.to_string()),
        ("kubewarden/questions-ui", read("questions-ui.yml")),
        ("kubewarden/resources", a("io.artifacthub.resources")),
        ("kubewarden/rules", to_yaml(&m.rules)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (key, value) in &expected {
        assert_eq!(
            pkg.annotations.get(key),
            Some(value),
            "artifacthub-pkg.yml annotation {key}"
        );
    }
    assert_eq!(
        pkg.annotations.len(),
        expected.len(),
        "{:?}",
        pkg.annotations.keys()
    );
}

fn to_yaml<T: Serialize>(value: &T) -> String {
    serde_yaml::to_string(value).unwrap_or_default()
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ArtifactHubRepo {
    #[serde(rename = "repositoryID", default)]
    repository_id: Option<String>,
    owners: Vec<Maintainer>,
}

#[test]
fn artifacthub_repo_names_an_owner() {
    let repo: ArtifactHubRepo = yaml("artifacthub-repo.yml");
    assert_eq!(
        repo.repository_id, None,
        "set repositoryID once ArtifactHub has assigned one"
    );
    assert!(!repo.owners.is_empty() && repo.owners.iter().all(|o| o.email.contains('@')));
}

// ---------------------------------------------------------------------------------------------
// questions-ui.yml

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
struct Question {
    variable: String,
    #[serde(rename = "type")]
    kind: String,
    default: Value,
    label: String,
    description: String,
    group: String,
    required: bool,
    #[serde(default)]
    hide_input: bool,
    #[serde(default)]
    placeholder: Option<String>,
    #[serde(default)]
    show_if: Option<String>,
    #[serde(default)]
    options: Vec<String>,
    #[serde(default)]
    subquestions: Vec<Question>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Questions {
    questions: Vec<Question>,
}

/// Every question, subquestions included, without the leading `description` item.
fn questions() -> Vec<Question> {
    let all: Questions = yaml("questions-ui.yml");
    assert_eq!(
        all.questions
            .first()
            .map(|q| (q.variable.as_str(), q.hide_input, &q.default)),
        Some(("description", true, &Value::Null)),
        "the first question carries the policy description"
    );
    let mut flat = Vec::new();
    let mut stack: Vec<Question> = all.questions.into_iter().skip(1).rev().collect();
    while let Some(q) = stack.pop() {
        stack.extend(q.subquestions.iter().rev().cloned());
        flat.push(q);
    }
    flat
}

/// The names serde lists in its "unknown field" error for the settings struct at `prefix`.
fn accepted_keys(settings_with_unknown_key: Value) -> Vec<String> {
    let error = check_settings(&settings_with_unknown_key.to_string())
        .expect_err("an unknown key must be rejected");
    let list = error
        .split("expected one of ")
        .nth(1)
        .unwrap_or_else(|| panic!("no list of accepted keys in: {error}"));
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// Every setting as a dotted path, taken from the policy's own settings types.
fn setting_paths() -> Vec<String> {
    let top = accepted_keys(json!({"zzUnknown": 0}));
    let nested =
        accepted_keys(json!({"defaultTenantId": "t", "customTokenEndpoint": {"zzUnknown": 0}}));
    assert!(
        top.contains(&"defaultTenantId".to_string()) && nested.contains(&"audience".to_string())
    );
    let mut paths: Vec<String> = top
        .into_iter()
        .filter(|k| k != "customTokenEndpoint")
        .collect();
    paths.extend(
        nested
            .into_iter()
            .map(|k| format!("customTokenEndpoint.{k}")),
    );
    paths
}

fn set_path(settings: &mut Value, path: &str, value: Value) {
    let mut node = settings;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        node = node
            .as_object_mut()
            .expect("settings nest objects")
            .entry(part.to_string())
            .or_insert_with(|| json!({}));
    }
    node[parts[parts.len() - 1]] = value;
}

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// The settings a form left at its defaults produces, with the required tenant filled in.
fn form_defaults() -> Value {
    let mut settings = json!({});
    for q in questions() {
        if q.subquestions.is_empty() && !q.default.is_null() {
            set_path(&mut settings, &q.variable, q.default.clone());
        }
    }
    set_path(&mut settings, "defaultTenantId", json!(TENANT));
    settings
}

#[test]
fn questions_ui_has_a_question_for_every_setting_and_nothing_else() {
    let paths = setting_paths();
    let variables: Vec<String> = questions().into_iter().map(|q| q.variable).collect();
    for path in &paths {
        assert!(
            variables
                .iter()
                .any(|v| v == path || v.starts_with(&format!("{path}."))),
            "questions-ui.yml has no question for the setting {path}"
        );
    }
    for variable in &variables {
        assert!(
            paths.iter().any(|p| {
                p == variable
                    || p.starts_with(&format!("{variable}."))
                    || variable.starts_with(&format!("{p}."))
            }),
            "questions-ui.yml asks for {variable}, which is not a setting"
        );
    }
    let unique: BTreeSet<&String> = variables.iter().collect();
    assert_eq!(unique.len(), variables.len(), "a variable is asked twice");
    for q in questions() {
        assert!(
            q.placeholder.as_deref().is_none_or(|p| !p.is_empty()),
            "{}",
            q.variable
        );
        // show_if reads `variable=value`, joined with && or ||.
        for condition in q
            .show_if
            .iter()
            .flat_map(|s| s.split(['&', '|']))
            .filter(|c| !c.is_empty())
        {
            let (variable, _) = condition
                .split_once('=')
                .unwrap_or_else(|| panic!("{}: show_if {condition}", q.variable));
            assert!(
                variables.iter().any(|v| v == variable),
                "{}: show_if {condition}",
                q.variable
            );
        }
    }
}

#[test]
fn questions_ui_defaults_are_the_policy_defaults() {
    for q in questions() {
        assert!(
            ["string", "boolean", "enum", "map["].contains(&q.kind.as_str()),
            "{}: type {}",
            q.variable,
            q.kind
        );
        assert!(!q.label.is_empty() && !q.description.is_empty() && !q.group.is_empty());
        match q.kind.as_str() {
            "enum" => assert!(
                q.default
                    .as_str()
                    .is_some_and(|d| q.options.iter().any(|o| o == d)),
                "{}: the default must be one of the options",
                q.variable
            ),
            "boolean" => assert!(q.default.is_boolean(), "{}", q.variable),
            "string" => assert!(
                q.default.is_string() || q.default.is_null(),
                "{}",
                q.variable
            ),
            _ => assert!(
                q.default.is_object() || q.default.is_null(),
                "{}",
                q.variable
            ),
        }
        assert_eq!(
            q.required,
            q.variable == "defaultTenantId",
            "{}: required",
            q.variable
        );
        assert_eq!(
            q.options.is_empty(),
            q.kind != "enum",
            "{}: options",
            q.variable
        );
    }
    let defaults = form_defaults();
    let minimal = json!({"defaultTenantId": TENANT});
    assert_eq!(
        check_settings(&defaults.to_string()),
        check_settings(&minimal.to_string()),
        "the form's defaults {defaults} must configure the policy exactly like {minimal}"
    );
}

#[test]
fn questions_ui_enum_options_are_accepted_by_the_policy() {
    for q in questions().into_iter().filter(|q| q.kind == "enum") {
        for option in &q.options {
            let mut settings = form_defaults();
            set_path(&mut settings, &q.variable, json!(option));
            if option == "AzureStackCloud" {
                set_path(
                    &mut settings,
                    "authorityHost",
                    json!("https://login.example.test/"),
                );
            }
            if let Err(e) = check_settings(&settings.to_string()) {
                panic!("{} = {option} is rejected: {e}", q.variable);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// deploy/

/// Parses `value` as `T` and requires that nothing was dropped or altered on the way: the types
/// of k8s-openapi ignore unknown fields, so a misspelt field shows up as a difference here.
fn strict<T: DeserializeOwned + Serialize>(what: &str, value: &Value) -> T {
    let parsed: T = serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{what}: {e}"));
    let again = serde_json::to_value(&parsed).unwrap_or_default();
    assert_eq!(&again, value, "{what}: unknown or misspelt fields");
    parsed
}

fn yaml_documents(path: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(&read(path))
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

/// `spec` of a `policies.kubewarden.io/v1` ClusterAdmissionPolicy: every field of the CRD's v1
/// schema, and nothing else.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClusterAdmissionPolicySpec {
    module: String,
    mutating: bool,
    rules: Vec<Value>,
    #[serde(default)]
    policy_server: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    settings: Option<Value>,
    #[serde(default)]
    failure_policy: Option<String>,
    #[serde(default)]
    background_audit: Option<bool>,
    #[serde(default)]
    match_policy: Option<String>,
    #[serde(default)]
    match_conditions: Option<Vec<Value>>,
    #[serde(default)]
    object_selector: Option<Value>,
    #[serde(default)]
    namespace_selector: Option<Value>,
    #[serde(default)]
    side_effects: Option<String>,
    #[serde(default)]
    timeout_seconds: Option<i64>,
    #[serde(default)]
    timeout_eval_seconds: Option<i64>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    context_aware_resources: Vec<ContextAwareResource>,
    #[serde(default)]
    allow_inside_admission_controller_namespace: Option<bool>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ObjectMeta {
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClusterAdmissionPolicy {
    api_version: String,
    kind: String,
    metadata: ObjectMeta,
    spec: ClusterAdmissionPolicySpec,
}

const KUBEWARDEN_NAMESPACE: &str = "kubewarden";
const POLICY_SERVER_ACCOUNT: &str = "policy-server";

#[test]
fn the_cluster_admission_policy_is_valid_and_matches_metadata() {
    use k8s_openapi::api::admissionregistration::v1::{MatchCondition, RuleWithOperations};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

    let m = metadata();
    let documents = yaml_documents("deploy/cluster-admission-policy.yml");
    assert_eq!(documents.len(), 1);
    let cap: ClusterAdmissionPolicy = serde_json::from_value(documents[0].clone())
        .unwrap_or_else(|e| panic!("deploy/cluster-admission-policy.yml: {e}"));
    let spec = &cap.spec;
    assert_eq!(
        (cap.api_version.as_str(), cap.kind.as_str()),
        ("policies.kubewarden.io/v1", "ClusterAdmissionPolicy")
    );
    assert_eq!(cap.metadata.name, TITLE);
    assert!(cap.metadata.labels.is_empty(), "{:?}", cap.metadata.labels);
    for (key, value) in &cap.metadata.annotations {
        assert!(
            [
                "io.kubewarden.policy.severity",
                "io.kubewarden.policy.category"
            ]
            .contains(&key.as_str()),
            "unexpected annotation {key}"
        );
        assert_eq!(
            value,
            annotation(&m, key),
            "annotation {key} differs from metadata.yml"
        );
    }

    // Field types and ranges of the CRD schema.
    for rule in &spec.rules {
        strict::<RuleWithOperations>("spec.rules[]", rule);
    }
    for condition in spec.match_conditions.iter().flatten() {
        strict::<MatchCondition>("spec.matchConditions[]", condition);
    }
    for (what, selector) in [
        ("spec.objectSelector", &spec.object_selector),
        ("spec.namespaceSelector", &spec.namespace_selector),
    ] {
        if let Some(selector) = selector {
            strict::<LabelSelector>(what, selector);
        }
    }
    let one_of = |what, value: &Option<String>, allowed: &[&str]| {
        if let Some(v) = value {
            assert!(
                allowed.contains(&v.as_str()),
                "{what}: {v} is not one of {allowed:?}"
            );
        }
    };
    one_of("spec.mode", &spec.mode, &["protect", "monitor"]);
    one_of(
        "spec.failurePolicy",
        &spec.failure_policy,
        &["Ignore", "Fail"],
    );
    one_of(
        "spec.matchPolicy",
        &spec.match_policy,
        &["Exact", "Equivalent"],
    );
    one_of(
        "spec.sideEffects",
        &spec.side_effects,
        &["None", "NoneOnDryRun", "Some", "Unknown"],
    );
    for timeout in [spec.timeout_seconds, spec.timeout_eval_seconds]
        .into_iter()
        .flatten()
    {
        assert!(
            (2..=30).contains(&timeout),
            "timeouts are 2 to 30 seconds: {timeout}"
        );
    }
    assert!(
        spec.settings
            .as_ref()
            .is_none_or(|s| s.is_object() || s.is_null())
    );

    // What this policy needs.
    assert_eq!(spec.module, format!("registry://{}", oci_reference(&m)));
    assert!(spec.mutating);
    assert_eq!(spec.background_audit, Some(false));
    assert_eq!(spec.failure_policy.as_deref(), Some("Fail"));
    assert_eq!(spec.mode.as_deref(), Some("protect"));
    assert_eq!(spec.policy_server.as_deref(), Some("default"));
    assert_eq!(spec.allow_inside_admission_controller_namespace, None);
    assert_eq!(
        spec.message, None,
        "spec.message would hide the policy's own explanation"
    );
    let rules: Vec<Rule> = spec
        .rules
        .iter()
        .map(|r| serde_json::from_value(r.clone()).unwrap_or_else(|e| panic!("spec.rules: {e}")))
        .collect();
    assert_eq!(rules, m.rules, "spec.rules and metadata.yml rules");
    assert_eq!(spec.context_aware_resources, m.context_aware_resources);
    assert_eq!(
        spec.object_selector,
        Some(json!({"matchLabels": {"azure.workload.identity/use": "true"}}))
    );
    let namespace_selector = spec.namespace_selector.clone().unwrap_or_default();
    assert_eq!(
        namespace_selector.get("matchLabels"),
        None,
        "the Kubewarden controller drops matchLabels of a namespaceSelector; use matchExpressions"
    );
    assert!(
        namespace_selector["matchExpressions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| *e
                == json!({"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": [KUBEWARDEN_NAMESPACE]})),
        "the namespaceSelector must exclude the {KUBEWARDEN_NAMESPACE} namespace: {namespace_selector}"
    );
    let settings = spec.settings.clone().unwrap_or(Value::Null);
    if let Err(e) = check_settings(&settings.to_string()) {
        panic!("spec.settings are rejected by the policy: {e}");
    }
}

#[test]
fn the_rbac_lets_the_policy_server_get_service_accounts() {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};

    let documents = yaml_documents("deploy/rbac.yml");
    assert_eq!(documents.len(), 2, "a ClusterRole and a ClusterRoleBinding");
    let role: ClusterRole = strict("ClusterRole", &documents[0]);
    let binding: ClusterRoleBinding = strict("ClusterRoleBinding", &documents[1]);

    let rules = role.rules.unwrap_or_default();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].api_groups, Some(vec![String::new()]));
    assert_eq!(
        rules[0].resources,
        Some(vec!["serviceaccounts".to_string()])
    );
    assert_eq!(
        rules[0].verbs,
        vec!["get".to_string()],
        "the host only issues GET requests"
    );
    assert_eq!(rules[0].resource_names, None);

    assert_eq!(
        binding.role_ref.api_group.as_deref(),
        Some("rbac.authorization.k8s.io")
    );
    assert_eq!(binding.role_ref.kind, "ClusterRole");
    assert_eq!(Some(binding.role_ref.name), role.metadata.name);
    let subjects: Vec<(String, String, Option<String>)> = binding
        .subjects
        .unwrap_or_default()
        .into_iter()
        .map(|s| (s.kind, s.name, s.namespace))
        .collect();
    assert_eq!(
        subjects,
        vec![(
            "ServiceAccount".to_string(),
            POLICY_SERVER_ACCOUNT.to_string(),
            Some(KUBEWARDEN_NAMESPACE.to_string())
        )]
    );
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Permission {
    api_group: String,
    resources: Vec<String>,
    #[serde(default)]
    verbs: Option<Vec<String>>,
}

#[test]
fn the_helm_values_add_service_accounts_and_keep_the_chart_defaults() {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct PolicyServer {
        permissions: Vec<Permission>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Values {
        policy_server: PolicyServer,
    }
    let values: Values = yaml("deploy/helm-values-policy-server-permissions.yml");
    let granted: BTreeSet<(String, String, String)> = values
        .policy_server
        .permissions
        .iter()
        .flat_map(|p| {
            let verbs = p.verbs.clone().unwrap_or_else(|| {
                vec!["get".to_string(), "list".to_string(), "watch".to_string()]
            });
            p.resources.iter().flat_map(move |r| {
                let group = p.api_group.clone();
                verbs
                    .clone()
                    .into_iter()
                    .map(move |v| (group.clone(), r.clone(), v))
            })
        })
        .collect();
    let needed = [
        ("", "serviceaccounts", "get"),
        // the chart's defaults, which the list replaces
        ("", "namespaces", "get"),
        ("", "namespaces", "list"),
        ("", "namespaces", "watch"),
        ("", "pods", "get"),
        ("", "pods", "list"),
        ("", "pods", "watch"),
        ("", "services", "get"),
        ("", "services", "list"),
        ("", "services", "watch"),
        ("networking.k8s.io", "ingresses", "get"),
        ("networking.k8s.io", "ingresses", "list"),
        ("networking.k8s.io", "ingresses", "watch"),
        ("authorization.k8s.io", "subjectaccessreviews", "create"),
    ];
    for (group, resource, verb) in needed {
        assert!(
            granted.contains(&(group.to_string(), resource.to_string(), verb.to_string())),
            "policyServer.permissions lacks {verb} on {group}/{resource}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// e2e fixtures: the replay sessions and the expectations of e2e.bats, checked natively

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
enum CallbackRequest {
    /// kwctl compares every field; `field_masks` is left out, so it reads as "no masks", which is
    /// what the policy sends.
    KubernetesGetResource {
        api_version: String,
        kind: String,
        name: String,
        namespace: Option<String>,
        disable_cache: bool,
    },
}

#[derive(Deserialize, Debug)]
#[serde(tag = "type", deny_unknown_fields)]
enum Response {
    Success { payload: String },
    Error { message: String },
}

#[derive(Deserialize, Debug)]
#[serde(tag = "type", deny_unknown_fields)]
enum Exchange {
    Exchange { request: String, response: Response },
}

/// Answers the policy's ServiceAccount lookups from a session file, in order, the way
/// `kwctl run --replay-host-capabilities-interactions` does.
struct Replay {
    session: String,
    exchanges: RefCell<VecDeque<(CallbackRequest, Response)>>,
}

impl Replay {
    fn load(session: &str) -> Replay {
        let exchanges: Vec<Exchange> = yaml(&format!("test_data/{session}"));
        assert!(!exchanges.is_empty(), "{session} is empty");
        let exchanges = exchanges
            .into_iter()
            .map(|Exchange::Exchange { request, response }| {
                let request: CallbackRequest = serde_yaml::from_str(&request)
                    .unwrap_or_else(|e| panic!("{session}: request: {e}"));
                (request, response)
            })
            .collect();
        Replay {
            session: session.to_string(),
            exchanges: RefCell::new(exchanges),
        }
    }

    fn none() -> Replay {
        Replay {
            session: "-".into(),
            exchanges: RefCell::new(VecDeque::new()),
        }
    }
}

impl ServiceAccountSource for Replay {
    fn get(&self, namespace: &str, name: &str) -> Result<ServiceAccount, String> {
        let Some((recorded, response)) = self.exchanges.borrow_mut().pop_front() else {
            panic!(
                "{}: the policy made a lookup the session does not hold",
                self.session
            );
        };
        let sent = CallbackRequest::KubernetesGetResource {
            api_version: "v1".into(),
            kind: "ServiceAccount".into(),
            name: name.into(),
            namespace: Some(namespace.into()),
            disable_cache: false,
        };
        assert_eq!(recorded, sent, "{}: request", self.session);
        match response {
            Response::Success { payload } => Ok(serde_json::from_str(&payload)
                .unwrap_or_else(|e| panic!("{}: payload: {e}", self.session))),
            Response::Error { message } => Err(format!("Callback evaluation failure: {message}")),
        }
    }
}

#[test]
fn every_session_asks_for_a_service_account_the_policy_may_read() {
    let m = metadata();
    let allowed: Vec<(String, String)> = m
        .context_aware_resources
        .iter()
        .map(|r| (r.api_version.clone(), r.kind.clone()))
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data");
    let mut sessions: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("session-") && name.ends_with(".yml"))
        .collect();
    sessions.sort();
    assert!(
        sessions.contains(&"session-mutate.yml".to_string()),
        "used by make run"
    );
    for session in sessions {
        for (request, response) in Replay::load(&session).exchanges.into_inner() {
            let CallbackRequest::KubernetesGetResource {
                api_version,
                kind,
                disable_cache,
                ..
            } = request;
            assert!(
                allowed.contains(&(api_version, kind)),
                "{session}: not in contextAwareResources"
            );
            assert!(!disable_cache, "{session}: the policy uses the host cache");
            if let Response::Success { payload } = response {
                let object: Value =
                    serde_json::from_str(&payload).unwrap_or_else(|e| panic!("{session}: {e}"));
                assert_eq!(object["kind"], "ServiceAccount", "{session}");
            }
        }
    }
}

/// One `@test` of e2e.bats: its `policy_run` arguments and its `assert_*` lines.
#[derive(Debug)]
struct BatsCase {
    name: String,
    run: Vec<String>,
    asserts: Vec<Vec<String>>,
}

/// Splits a shell line into words; only plain words and '…' or "…" without escapes are used in
/// the lines read here.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = line.trim().chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            if c == '\'' || c == '"' {
                for inner in chars.by_ref() {
                    if inner == c {
                        break;
                    }
                    assert!(
                        c == '\'' || !"$`\\".contains(inner),
                        "keep e2e.bats arguments plain: {line}"
                    );
                    word.push(inner);
                }
            } else {
                word.push(c);
            }
        }
        words.push(word);
    }
    words
}

fn bats_cases() -> Vec<BatsCase> {
    let mut cases: Vec<BatsCase> = Vec::new();
    for line in read("e2e.bats").lines() {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("@test ") {
            let name = shell_words(rest.trim_end_matches('{')).join(" ");
            cases.push(BatsCase {
                name,
                run: Vec::new(),
                asserts: Vec::new(),
            });
        } else if let Some(case) = cases.last_mut() {
            let words = shell_words(trimmed);
            match words.first().map(String::as_str) {
                Some("policy_run") => {
                    assert!(
                        case.run.is_empty(),
                        "{}: one policy_run per test",
                        case.name
                    );
                    case.run = words[1..].to_vec();
                }
                Some(a) if a.starts_with("assert_") => case.asserts.push(words),
                _ => {}
            }
        }
    }
    cases
}

/// Applies JSON Patch `add` operations (the only kind the policy's patches hold).
fn apply_adds(document: &mut Value, patch: &Value) {
    for op in patch.as_array().expect("a JSON Patch is an array") {
        assert_eq!(op["op"], "add", "only add operations are expected: {op}");
        let path = op["path"].as_str().expect("path");
        let mut tokens: Vec<String> = path
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();
        let last = tokens.pop().expect("a non-root path");
        let mut node = &mut *document;
        for token in &tokens {
            node = match node {
                Value::Array(items) => &mut items[token.parse::<usize>().expect("index")],
                other => other
                    .get_mut(token.as_str())
                    .unwrap_or_else(|| panic!("{path}")),
            };
        }
        match node {
            Value::Array(items) if last == "-" => items.push(op["value"].clone()),
            Value::Array(items) => items.insert(last.parse().expect("index"), op["value"].clone()),
            Value::Object(map) => {
                map.insert(last, op["value"].clone());
            }
            _ => panic!("{path}: parent is not a container"),
        }
    }
}

/// The operations `json_patch::diff` (what kwctl uses) produces for a change that only adds.
fn diff_adds(left: &Value, right: &Value, path: &str, ops: &mut Vec<Value>) {
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match (left, right) {
        (Value::Object(l), Value::Object(r)) => {
            for (key, value) in r {
                let child = format!("{path}/{}", escape(key));
                match l.get(key) {
                    Some(old) => diff_adds(old, value, &child, ops),
                    None => ops.push(json!({"op": "add", "path": child, "value": value})),
                }
            }
            assert!(
                l.keys().all(|k| r.contains_key(k)),
                "{path}: a key was removed"
            );
        }
        (Value::Array(l), Value::Array(r)) => {
            assert!(l.len() <= r.len(), "{path}: an item was removed");
            for (i, value) in r.iter().enumerate() {
                match l.get(i) {
                    Some(old) => diff_adds(old, value, &format!("{path}/{i}"), ops),
                    None => ops
                        .push(json!({"op": "add", "path": format!("{path}/{i}"), "value": value})),
                }
            }
        }
        (l, r) => assert_eq!(l, r, "{path}: a value was replaced"),
    }
}

fn sorted_by_path(ops: &[Value]) -> Vec<Value> {
    let mut ops = ops.to_vec();
    ops.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    ops
}

#[test]
fn e2e_bats_expectations_hold_for_the_policy() {
    let cases = bats_cases();
    assert!(cases.len() >= 5, "{cases:?}");
    let mut seen = BTreeSet::new();
    for case in &cases {
        let [session, request, settings_file] = &case.run[..] else {
            panic!("{}: policy_run SESSION REQUEST SETTINGS", case.name);
        };
        assert!(!case.asserts.is_empty(), "{}: no assertion", case.name);
        let request_json = json_file(&format!("test_data/{request}"));
        let settings: Value = json_file(&format!("test_data/{settings_file}"));
        let settings_check = check_settings(&settings.to_string());
        let replay = if session == "-" {
            Replay::none()
        } else {
            Replay::load(session)
        };
        let payload = serde_json::to_vec(&json!({"request": request_json, "settings": settings}))
            .unwrap_or_default();
        for assertion in &case.asserts {
            let name = format!("{}: {}", case.name, assertion.join(" "));
            seen.insert(assertion[0].clone());
            match (assertion[0].as_str(), &assertion[1..]) {
                ("assert_settings_rejected", expected) => {
                    let error = settings_check.clone().expect_err(&name);
                    for e in expected {
                        assert!(error.contains(e.as_str()), "{name}: {error}");
                    }
                }
                ("assert_accepted_unchanged", []) => {
                    settings_check
                        .as_ref()
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert_eq!(evaluate(&payload, &replay), Decision::Accept, "{name}");
                }
                ("assert_rejected_with", expected) => {
                    settings_check
                        .as_ref()
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    let Decision::Reject(rejection) = evaluate(&payload, &replay) else {
                        panic!("{name}: not rejected");
                    };
                    for e in expected {
                        assert!(rejection.0.contains(e.as_str()), "{name}: {}", rejection.0);
                    }
                }
                ("assert_patch", [patch_file]) => {
                    settings_check
                        .as_ref()
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    let Decision::Mutate(pod) = evaluate(&payload, &replay) else {
                        panic!("{name}: not mutated");
                    };
                    let expected = json_file(&format!("test_data/{patch_file}"));
                    let object = &request_json["object"];
                    let mut patched = object.clone();
                    apply_adds(&mut patched, &expected);
                    assert_eq!(
                        patched, pod,
                        "{name}: the patch does not yield the policy's Pod"
                    );
                    let mut ops = Vec::new();
                    diff_adds(object, &pod, "", &mut ops);
                    assert_eq!(
                        sorted_by_path(&ops),
                        sorted_by_path(expected.as_array().expect("array")),
                        "{name}: kwctl's diff would differ"
                    );
                }
                _ => panic!("{name}: unknown assertion"),
            }
        }
        assert!(
            replay.exchanges.borrow().is_empty(),
            "{}: the session holds exchanges the policy did not use",
            case.name
        );
    }
    for needed in [
        "assert_patch",
        "assert_accepted_unchanged",
        "assert_rejected_with",
        "assert_settings_rejected",
    ] {
        assert!(seen.contains(needed), "e2e.bats has no {needed} case");
    }
}

#[test]
fn the_e2e_patch_turns_the_request_into_the_expected_pod_fixture() {
    let mut pod = json_file("test_data/request-labelled-pod.json")["object"].clone();
    apply_adds(&mut pod, &json_file("test_data/e2e-patch-mutate.json"));
    assert_eq!(pod, json_file("test_data/expected-labelled-pod.json"));
}

// ---------------------------------------------------------------------------------------------
// .github/workflows

#[test]
fn the_workflows_release_to_the_oci_url_of_metadata_with_one_reusable_workflow_release() {
    let m = metadata();
    let release: Value = yaml(".github/workflows/release.yml");
    let test: Value = yaml(".github/workflows/test.yml");
    let reusable = |job: &Value, workflow: &str| -> String {
        let uses = job["uses"].as_str().unwrap_or_default();
        let prefix = format!("kubewarden/github-actions/.github/workflows/{workflow}@");
        uses.strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{uses} is not {prefix}<ref>"))
            .to_string()
    };
    let refs = [
        reusable(&release["jobs"]["test"], "reusable-test-policy-rust.yml"),
        reusable(
            &release["jobs"]["release"],
            "reusable-release-policy-rust.yml",
        ),
        reusable(&test["jobs"]["kubewarden"], "reusable-test-policy-rust.yml"),
    ];
    assert!(
        refs.iter().all(|r| *r == refs[0]),
        "one release of the reusable workflows: {refs:?}"
    );
    assert_eq!(
        release["jobs"]["release"]["with"]["oci-target"],
        json!(annotation(&m, "io.kubewarden.policy.ociUrl"))
    );
    assert_eq!(release["jobs"]["release"]["needs"], json!("test"));
    for permission in ["contents", "packages", "id-token"] {
        assert_eq!(
            release["jobs"]["release"]["permissions"][permission],
            json!("write"),
            "the release job needs {permission}: write"
        );
    }
    assert!(
        release["on"]["push"]["tags"]
            .as_array()
            .is_some_and(|t| t.contains(&json!("v*"))),
        "releases are cut from tags v*"
    );
}

/// The workflows' version check reads `^version = "…"` lines of Cargo.toml with sed.
#[test]
fn the_tag_version_check_reads_one_version_from_cargo_toml() {
    let versions: Vec<String> = read("Cargo.toml")
        .lines()
        .filter_map(|l| {
            l.strip_prefix("version = \"")?
                .strip_suffix('"')
                .map(str::to_string)
        })
        .collect();
    assert_eq!(versions, vec![VERSION.to_string()]);
}
