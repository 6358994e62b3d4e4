//! `.github/workflows`: the release goes to the OCI URL of metadata.yml, with the version of
//! Cargo.toml.

use super::*;

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
