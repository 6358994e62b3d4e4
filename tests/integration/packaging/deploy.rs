//! `deploy/`: the three ClusterAdmissionPolicies (Pod policy, checks, verify), the RBAC they
//! share and the Helm values.

use super::*;

/// Parses `value` as `T` and requires that nothing was dropped or altered on the way: the types
/// of k8s-openapi ignore unknown fields, so a misspelt field shows up as a difference here.
pub(crate) fn strict<T: DeserializeOwned + Serialize>(what: &str, value: &Value) -> T {
    let parsed: T = serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{what}: {e}"));
    let again = serde_json::to_value(&parsed).unwrap_or_default();
    assert_eq!(&again, value, "{what}: unknown or misspelt fields");
    parsed
}

pub(crate) fn yaml_documents(path: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(&read(path))
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

/// `spec` of a `policies.kubewarden.io/v1` ClusterAdmissionPolicy: every field of the CRD's v1
/// schema, and nothing else.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ClusterAdmissionPolicySpec {
    pub(crate) module: String,
    pub(crate) mutating: bool,
    pub(crate) rules: Vec<Value>,
    #[serde(default)]
    pub(crate) policy_server: Option<String>,
    #[serde(default)]
    pub(crate) mode: Option<String>,
    #[serde(default)]
    pub(crate) settings: Option<Value>,
    #[serde(default)]
    pub(crate) failure_policy: Option<String>,
    #[serde(default)]
    pub(crate) background_audit: Option<bool>,
    #[serde(default)]
    pub(crate) match_policy: Option<String>,
    #[serde(default)]
    pub(crate) match_conditions: Option<Vec<Value>>,
    #[serde(default)]
    pub(crate) object_selector: Option<Value>,
    #[serde(default)]
    pub(crate) namespace_selector: Option<Value>,
    #[serde(default)]
    pub(crate) side_effects: Option<String>,
    #[serde(default)]
    pub(crate) timeout_seconds: Option<i64>,
    #[serde(default)]
    pub(crate) timeout_eval_seconds: Option<i64>,
    #[serde(default)]
    pub(crate) message: Option<String>,
    #[serde(default)]
    pub(crate) context_aware_resources: Vec<ContextAwareResource>,
    #[serde(default)]
    pub(crate) allow_inside_admission_controller_namespace: Option<bool>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct ObjectMeta {
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) labels: BTreeMap<String, String>,
    #[serde(default)]
    pub(crate) annotations: BTreeMap<String, String>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ClusterAdmissionPolicy {
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) metadata: ObjectMeta,
    pub(crate) spec: ClusterAdmissionPolicySpec,
}

pub(crate) const KUBEWARDEN_NAMESPACE: &str = "kubewarden";
pub(crate) const POLICY_SERVER_ACCOUNT: &str = "policy-server";

/// The ClusterAdmissionPolicies of deploy/: the Pod policy, the checks, the verify policy.
pub(crate) const POD_POLICY: &str = "deploy/cluster-admission-policy.yml";
pub(crate) const CHECKS_POLICY: &str = "deploy/cluster-admission-policy-checks.yml";
pub(crate) const VERIFY_POLICY: &str = "deploy/cluster-admission-policy-verify.yml";
pub(crate) const POLICIES: [&str; 3] = [POD_POLICY, CHECKS_POLICY, VERIFY_POLICY];

/// The only label the Pod and verify policies select on.
fn use_label_selector() -> Option<Value> {
    Some(json!({"matchLabels": {"azure.workload.identity/use": "true"}}))
}

pub(crate) fn cluster_admission_policy(path: &str) -> ClusterAdmissionPolicy {
    let documents = yaml_documents(path);
    assert_eq!(documents.len(), 1, "{path}: one document");
    serde_json::from_value(documents[0].clone()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub(crate) fn rules_of(path: &str, spec: &ClusterAdmissionPolicySpec) -> Vec<Rule> {
    spec.rules
        .iter()
        .map(|r| {
            serde_json::from_value(r.clone()).unwrap_or_else(|e| panic!("{path}: spec.rules: {e}"))
        })
        .collect()
}

/// The settings without `findings` and `verify`: what configures the Pod role.
fn pod_role_settings(spec: &ClusterAdmissionPolicySpec) -> Value {
    let mut settings = spec.settings.clone().unwrap_or(Value::Null);
    if let Some(object) = settings.as_object_mut() {
        object.remove("findings");
        object.remove("verify");
    }
    settings
}

#[test]
fn deploy_holds_the_three_cluster_admission_policies() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("cluster-admission-policy"))
        .map(|name| format!("deploy/{name}"))
        .collect();
    found.sort();
    let mut expected: Vec<String> = POLICIES.iter().map(|p| p.to_string()).collect();
    expected.sort();
    assert_eq!(found, expected);
}

/// Every manifest against the CRD's v1 schema, and what all three share.
#[test]
fn every_cluster_admission_policy_is_valid_and_matches_metadata() {
    use k8s_openapi::api::admissionregistration::v1::{MatchCondition, RuleWithOperations};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

    let m = metadata();
    let mut deployed = BTreeSet::new();
    let mut names = BTreeSet::new();
    for path in POLICIES {
        let cap = cluster_admission_policy(path);
        let spec = &cap.spec;
        assert_eq!(
            (cap.api_version.as_str(), cap.kind.as_str()),
            ("policies.kubewarden.io/v1", "ClusterAdmissionPolicy"),
            "{path}"
        );
        assert!(
            cap.metadata.name == TITLE || cap.metadata.name.starts_with(&format!("{TITLE}-")),
            "{path}: name {}",
            cap.metadata.name
        );
        assert!(
            names.insert(cap.metadata.name.clone()),
            "{path}: name taken"
        );
        assert!(
            cap.metadata.labels.is_empty(),
            "{path}: {:?}",
            cap.metadata.labels
        );
        let keys: Vec<&str> = cap
            .metadata
            .annotations
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "io.kubewarden.policy.category",
                "io.kubewarden.policy.severity"
            ],
            "{path}: annotations"
        );
        for (key, value) in &cap.metadata.annotations {
            assert_eq!(
                value,
                annotation(&m, key),
                "{path}: annotation {key} differs from metadata.yml"
            );
        }

        // Field types and ranges of the CRD schema.
        for rule in &spec.rules {
            strict::<RuleWithOperations>(&format!("{path}: spec.rules[]"), rule);
        }
        for condition in spec.match_conditions.iter().flatten() {
            strict::<MatchCondition>(&format!("{path}: spec.matchConditions[]"), condition);
        }
        for (what, selector) in [
            ("spec.objectSelector", &spec.object_selector),
            ("spec.namespaceSelector", &spec.namespace_selector),
        ] {
            if let Some(selector) = selector {
                strict::<LabelSelector>(&format!("{path}: {what}"), selector);
            }
        }
        let one_of = |what, value: &Option<String>, allowed: &[&str]| {
            if let Some(v) = value {
                assert!(
                    allowed.contains(&v.as_str()),
                    "{path}: {what}: {v} is not one of {allowed:?}"
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
                "{path}: timeouts are 2 to 30 seconds: {timeout}"
            );
        }
        assert!(
            spec.settings
                .as_ref()
                .is_none_or(|s| s.is_object() || s.is_null()),
            "{path}: settings"
        );

        // What every role of this policy needs.
        assert_eq!(
            spec.module,
            format!("registry://{}", oci_reference(&m)),
            "{path}"
        );
        assert_eq!(spec.mode.as_deref(), Some("protect"), "{path}");
        assert_eq!(spec.policy_server.as_deref(), Some("default"), "{path}");
        assert_eq!(spec.match_policy.as_deref(), Some("Equivalent"), "{path}");
        assert_eq!(spec.side_effects.as_deref(), Some("None"), "{path}");
        assert_eq!(spec.timeout_seconds, Some(10), "{path}");
        assert_eq!(spec.match_conditions, None, "{path}: audit ignores them");
        assert_eq!(
            spec.allow_inside_admission_controller_namespace, None,
            "{path}"
        );
        assert_eq!(
            spec.message, None,
            "{path}: spec.message would hide the policy's own explanation"
        );
        let rules = rules_of(path, spec);
        assert_auditable(&rules, path);
        let matches = matched(&rules);
        let allowed = matched(&m.rules);
        assert!(
            matches.is_subset(&allowed),
            "{path}: spec.rules match more than metadata.yml rules: {:?}",
            matches.difference(&allowed).collect::<Vec<_>>()
        );
        deployed.extend(matches);
        assert_eq!(
            spec.context_aware_resources, m.context_aware_resources,
            "{path}"
        );
        let namespace_selector = spec.namespace_selector.clone().unwrap_or_default();
        assert_eq!(
            namespace_selector.get("matchLabels"),
            None,
            "{path}: the Kubewarden controller drops matchLabels of a namespaceSelector; use \
             matchExpressions"
        );
        assert!(
            namespace_selector["matchExpressions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| *e
                    == json!({"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": [KUBEWARDEN_NAMESPACE]})),
            "{path}: the namespaceSelector must exclude the {KUBEWARDEN_NAMESPACE} namespace: \
             {namespace_selector}"
        );
        let settings = spec.settings.clone().unwrap_or(Value::Null);
        if let Err(e) = check_settings(&settings.to_string()) {
            panic!("{path}: spec.settings are rejected by the policy: {e}");
        }
    }
    assert_eq!(
        deployed,
        matched(&m.rules),
        "together the manifests deploy every rule of metadata.yml"
    );

    // The checks and the verify policy judge by what the Pod policy does: the same settings,
    // apart from the two that choose the role, and the same namespaces.
    let pod = cluster_admission_policy(POD_POLICY).spec;
    for path in [CHECKS_POLICY, VERIFY_POLICY] {
        let spec = cluster_admission_policy(path).spec;
        assert_eq!(pod_role_settings(&spec), pod_role_settings(&pod), "{path}");
        assert_eq!(spec.namespace_selector, pod.namespace_selector, "{path}");
    }
}

#[test]
fn the_pod_policy_mutates_labelled_pods_at_creation() {
    let cap = cluster_admission_policy(POD_POLICY);
    let spec = &cap.spec;
    assert_eq!(cap.metadata.name, TITLE);
    assert!(spec.mutating, "with false Kubewarden refuses every patch");
    assert_eq!(rules_of(POD_POLICY, spec), vec![pod_create_rule()]);
    assert_eq!(spec.object_selector, use_label_selector());
    assert_eq!(
        spec.background_audit,
        Some(false),
        "audit discards the patch: every Pod would pass"
    );
    assert_eq!(spec.failure_policy.as_deref(), Some("Fail"));
    let settings = spec.settings.clone().unwrap_or(Value::Null);
    assert_eq!(settings.get("verify"), None);
    assert_eq!(settings.get("findings"), None);
    assert!(settings["defaultTenantId"].is_string());
}

#[test]
fn the_checks_policy_checks_workloads_and_service_accounts_without_an_object_selector() {
    let cap = cluster_admission_policy(CHECKS_POLICY);
    let spec = &cap.spec;
    assert_eq!(cap.metadata.name, format!("{TITLE}-checks"));
    assert!(!spec.mutating, "the checks never mutate");
    assert_eq!(rules_of(CHECKS_POLICY, spec), check_rules());
    assert_eq!(
        spec.object_selector, None,
        "a misplaced label is what the checks catch"
    );
    assert_eq!(spec.background_audit, Some(true));
    assert_eq!(spec.failure_policy.as_deref(), Some("Ignore"));
    let settings = spec.settings.clone().unwrap_or(Value::Null);
    assert_eq!(settings.get("verify"), None);
    assert_eq!(settings["findings"], json!("warn"));
    let text = read(CHECKS_POLICY);
    assert!(
        text.contains("# findings: reject"),
        "the alternative is shown"
    );
}

#[test]
fn the_verify_policy_verifies_labelled_pods_at_creation_and_in_audit() {
    let cap = cluster_admission_policy(VERIFY_POLICY);
    let spec = &cap.spec;
    assert_eq!(cap.metadata.name, format!("{TITLE}-verify"));
    assert!(!spec.mutating, "verify never mutates");
    assert_eq!(rules_of(VERIFY_POLICY, spec), vec![pod_create_rule()]);
    assert_eq!(spec.object_selector, use_label_selector());
    assert_eq!(spec.background_audit, Some(true));
    assert_eq!(spec.failure_policy.as_deref(), Some("Ignore"));
    let settings = spec.settings.clone().unwrap_or(Value::Null);
    assert_eq!(settings["verify"], json!(true));
    assert_eq!(settings["findings"], json!("warn"));
    let text = read(VERIFY_POLICY);
    assert!(
        text.contains("# findings: reject"),
        "the alternative is shown"
    );
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
pub(crate) struct Permission {
    pub(crate) api_group: String,
    pub(crate) resources: Vec<String>,
    #[serde(default)]
    pub(crate) verbs: Option<Vec<String>>,
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
