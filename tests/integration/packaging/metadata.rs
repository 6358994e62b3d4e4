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

pub(crate) fn pod_create_rule() -> Rule {
    Rule {
        api_groups: vec![String::new()],
        api_versions: vec!["v1".into()],
        resources: vec!["pods".into()],
        operations: vec!["CREATE".into()],
    }
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
