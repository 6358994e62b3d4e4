//! `artifacthub-pkg.yml` and `artifacthub-repo.yml`.

use super::*;

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Named {
    pub(crate) name: String,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Link {
    pub(crate) name: String,
    pub(crate) url: String,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Image {
    pub(crate) name: String,
    pub(crate) image: String,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Maintainer {
    pub(crate) name: String,
    pub(crate) email: String,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct Recommendation {
    pub(crate) url: String,
}

/// The fields `kwctl scaffold artifacthub` writes.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ArtifactHubPkg {
    pub(crate) version: String,
    pub(crate) name: String,
    pub(crate) display_name: String,
    pub(crate) created_at: String,
    pub(crate) description: String,
    pub(crate) license: String,
    #[serde(rename = "homeURL")]
    pub(crate) home_url: String,
    pub(crate) containers_images: Vec<Image>,
    pub(crate) keywords: Vec<String>,
    pub(crate) links: Vec<Link>,
    pub(crate) install: String,
    pub(crate) maintainers: Vec<Maintainer>,
    pub(crate) provider: Named,
    pub(crate) recommendations: Vec<Recommendation>,
    pub(crate) annotations: BTreeMap<String, String>,
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

pub(crate) fn to_yaml<T: Serialize>(value: &T) -> String {
    serde_yaml::to_string(value).unwrap_or_default()
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub(crate) struct ArtifactHubRepo {
    #[serde(rename = "repositoryID", default)]
    pub(crate) repository_id: Option<String>,
    pub(crate) owners: Vec<Maintainer>,
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
