//! Verify mode: prove that a labelled Pod is configured as the Pod policy would configure it,
//! without changing it. Run as a validating policy it sees the final Pod at admission (after
//! every mutating webhook, sidecars of other injectors included) and, in the audit scanner's
//! runs, every stored Pod.
//!
//! The comparison applies the plan to a copy of the Pod and reports each edit the mutation would
//! make, so verify and the mutation agree by construction: a Pod the mutation leaves unchanged
//! has no difference, whatever the re-invocation rules accept. On top of that, a value the
//! mutation keeps but no longer injects (a client-id changed on the ServiceAccount after the Pod
//! was created) is drift.

use serde_json::Value;

use crate::assess::assess;
use crate::inject;
use crate::messages::{self, Rejection};
use crate::names::{AZURE_CLIENT_ID, AZURE_TENANT_ID};
use crate::plan::{Plan, TokenPlan};
use crate::pod::{Container, MUTATED_LISTS, Pod, str_field};
use crate::problem::{Difference, Finding, Problem};
use crate::response::Answer;
use crate::service_account::ServiceAccountSource;
use crate::settings::{Config, Findings};

use super::deliver;

pub fn verify(
    config: &Config,
    raw_pod: &str,
    namespace: &str,
    cluster: &impl ServiceAccountSource,
) -> Result<Answer, Rejection> {
    let pod_json: Value =
        serde_json::from_str(raw_pod).map_err(|e| messages::unreadable_request(&e.to_string()))?;
    let findings = match Pod::read(&pod_json, namespace) {
        Err(failed) => vec![Finding {
            text: messages::problem(&failed.0, &failed.1),
            blocks: true,
        }],
        Ok(pod) => findings(config, &pod, &pod_json, cluster),
    };
    Ok(deliver(config.findings, findings))
}

/// Everything the Pod policy would reject the Pod for, or else every difference. A Pod is never
/// "almost" configured, so every finding blocks with `findings: reject`.
fn findings(
    config: &Config,
    pod: &Pod,
    pod_json: &Value,
    cluster: &impl ServiceAccountSource,
) -> Vec<Finding> {
    // Only a rejection is worth a second, uncached read of the ServiceAccount.
    let reject = config.findings == Findings::Reject;
    let assessment = assess(config, pod, cluster, |problems| {
        reject && problems.iter().any(Problem::caused_by_service_account)
    });
    match assessment.plan {
        Err(problems) => problems
            .iter()
            .map(|problem| Finding {
                text: messages::problem(&pod.subject, problem),
                blocks: true,
            })
            .collect(),
        Ok(plan) => differences(pod, pod_json, plan)
            .iter()
            .map(|difference| Finding {
                text: messages::difference(&pod.subject, difference),
                blocks: true,
            })
            .collect(),
    }
}

/// What the mutation would change in the Pod, then the drift of the values it would keep.
fn differences(pod: &Pod, pod_json: &Value, plan: Plan) -> Vec<Difference> {
    let drift = drift(pod, &plan);
    let token = plan.token.clone();
    let planned = plan.env.len();
    let mut configured = pod_json.clone();
    let mut found = match inject::apply(plan, &mut configured) {
        true => edits(pod, &configured, &token, planned),
        false => Vec::new(),
    };
    found.extend(drift);
    found
}

fn spec_list<'a>(pod: &'a Value, key: &str) -> &'a [Value] {
    pod.get("spec")
        .and_then(|s| s.get(key))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The edits that turned the Pod into `after`, one difference each. The mutation only prepends
/// or appends containers (the proxy), appends env vars, and adds or replaces the token mount and
/// volume, so walking each container list in step with the Pod's pairs every container with
/// itself, and an unpaired one is a proxy container the Pod lacks.
fn edits(pod: &Pod, after: &Value, token: &TokenPlan, planned: usize) -> Vec<Difference> {
    let mut found = Vec::new();
    for list in MUTATED_LISTS {
        let mut old = pod.containers.iter().filter(|c| c.list == list).peekable();
        for new in spec_list(after, list) {
            let name = str_field(new, "name").unwrap_or("");
            match old.next_if(|o| o.name == name) {
                Some(old) => container_edits(old, new, token, planned, &mut found),
                None => found.push(Difference::ProxyMissing {
                    container: name.to_string(),
                    list,
                }),
            }
        }
    }
    if pod.volumes != spec_list(after, "volumes") {
        found.extend(volume_edits(pod.volumes, token));
    }
    found
}

fn container_edits(
    old: &Container,
    new: &Value,
    token: &TokenPlan,
    planned: usize,
    found: &mut Vec<Difference>,
) {
    let container = old.name.to_string();
    let added: Vec<String> = new
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .skip(old.env.len())
        .filter_map(|e| str_field(e, "name"))
        .map(str::to_string)
        .collect();
    if !added.is_empty() {
        found.push(Difference::MissingEnv {
            container: container.clone(),
            missing: added,
            planned,
        });
    }
    let new_mounts = new
        .get("volumeMounts")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if old.volume_mounts == new_mounts {
        return;
    }
    let mount_path = token.mount_path;
    let Some(mount) = old
        .volume_mounts
        .iter()
        .find(|m| str_field(m, "name") == Some(&token.volume_name))
    else {
        found.push(Difference::MountMissing {
            container,
            mount_path,
        });
        return;
    };
    let before = found.len();
    match str_field(mount, "mountPath") {
        Some(path) if path == mount_path => {}
        path => found.push(Difference::MountPath {
            container: container.clone(),
            found: path.unwrap_or("").to_string(),
            mount_path,
        }),
    }
    if mount.get("readOnly") != Some(&Value::Bool(true)) {
        found.push(Difference::MountNotReadOnly {
            container: container.clone(),
            mount_path,
        });
    }
    if found.len() == before {
        found.push(Difference::MountFields { container });
    }
}

/// The first projected service-account token of a volume.
fn token_source(volume: &Value) -> Option<&Value> {
    volume
        .pointer("/projected/sources")
        .and_then(Value::as_array)?
        .iter()
        .find_map(|s| s.get("serviceAccountToken"))
}

fn volume_edits(old: &[Value], token: &TokenPlan) -> Vec<Difference> {
    let volume = token.volume_name.clone();
    let Some(existing) = old.iter().find(|v| str_field(v, "name") == Some(&volume)) else {
        return vec![Difference::VolumeMissing { volume }];
    };
    let (Some(found), Some(planned)) = (token_source(existing), token_source(&token.volume)) else {
        return vec![Difference::VolumeWithoutToken { volume }];
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let fields: Vec<Difference> = ["audience", "path", "expirationSeconds"]
        .into_iter()
        .filter(|field| found.get(*field) != planned.get(*field))
        .map(|field| Difference::VolumeField {
            volume: volume.clone(),
            field,
            found: found.get(field).map(text),
            expected: planned.get(field).map(text).unwrap_or_default(),
        })
        .collect();
    match fields.is_empty() {
        true => vec![Difference::VolumeOther { volume }],
        false => fields,
    }
}

/// Containers whose own AZURE_CLIENT_ID or AZURE_TENANT_ID `value` is not the one the plan
/// injects. The mutation keeps such a value; verify says that the Pod runs with an identity the
/// ServiceAccount no longer names. `valueFrom` is the Pod's own choice and is not compared.
fn drift(pod: &Pod, plan: &Plan) -> Vec<Difference> {
    let planned = |variable| {
        plan.env
            .iter()
            .find(|(name, _)| *name == variable)
            .map(|(_, value)| value.as_str())
    };
    let mut found = Vec::new();
    for container in pod.containers.iter().filter(|c| !plan.skips(c.name)) {
        for variable in [AZURE_CLIENT_ID, AZURE_TENANT_ID] {
            if let (Some(own), Some(expected)) = (container.env_value(variable), planned(variable))
                && own != expected
            {
                found.push(Difference::Drift {
                    container: container.name.to_string(),
                    variable,
                    found: own.to_string(),
                    expected: expected.to_string(),
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check_settings;
    use crate::names::{
        AZURE_AUTHORITY_HOST, AZURE_FEDERATED_TOKEN_FILE, CLIENT_ID_ANNOTATION,
        INJECT_PROXY_ANNOTATION, PROXY_CONTAINER, PROXY_INIT_CONTAINER, SKIP_CONTAINERS_ANNOTATION,
        TENANT_ID_ANNOTATION, USE_LABEL,
    };
    use crate::plan;
    use crate::service_account::ServiceAccount;
    use crate::volume_name::volume_name;
    use serde_json::json;

    const CLIENT_ID: &str = "11111111-1111-1111-1111-111111111111";
    const TENANT_ID: &str = "22222222-2222-2222-2222-222222222222";
    const MOUNT: &str = "/var/run/secrets/azure/wi";

    fn config(extra: Value) -> Config {
        let mut settings = json!({"defaultTenantId": "33333333-3333-3333-3333-333333333333"});
        if let (Some(s), Some(e)) = (settings.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        match check_settings(&settings.to_string()) {
            Ok(config) => config,
            Err(e) => panic!("settings {settings}: {e}"),
        }
    }

    fn sa() -> ServiceAccount {
        ServiceAccount::with_annotations([
            (CLIENT_ID_ANNOTATION, CLIENT_ID),
            (TENANT_ID_ANNOTATION, TENANT_ID),
        ])
    }

    /// A labelled Pod `web` with these annotations and containers.
    fn pod(annotations: Value, containers: Value) -> Value {
        json!({
            "metadata": {"name": "web", "labels": {USE_LABEL: "true"}, "annotations": annotations},
            "spec": {"serviceAccountName": "sa", "containers": containers},
        })
    }

    fn plan_for(config: &Config, pod: &Value) -> (Plan, Value) {
        let view = Pod::read(pod, "ns").unwrap_or_else(|e| panic!("{e:?}"));
        let plan = plan::plan(config, &view, "sa", Ok(&sa())).unwrap_or_else(|e| panic!("{e:?}"));
        let mut configured = pod.clone();
        inject::apply(plan.clone(), &mut configured);
        (plan, configured)
    }

    /// The Pod as the mutation leaves it.
    fn configured(config: &Config, pod: &Value) -> Value {
        plan_for(config, pod).1
    }

    fn differences_of(config: &Config, pod: &Value) -> Vec<Difference> {
        let view = Pod::read(pod, "ns").unwrap_or_else(|e| panic!("{e:?}"));
        let plan = plan_for(config, pod).0;
        differences(&view, pod, plan)
    }

    fn edit(mut pod: Value, pointer: &str, value: Value) -> Value {
        match pod.pointer_mut(pointer) {
            Some(slot) => *slot = value,
            None => panic!("no {pointer} in {pod}"),
        }
        pod
    }

    fn app() -> Value {
        json!([{"name": "app", "image": "app"}])
    }

    fn web_volume() -> String {
        volume_name("web")
    }

    fn mount(container: &str) -> Difference {
        Difference::MountMissing {
            container: container.to_string(),
            mount_path: MOUNT,
        }
    }

    fn all_env(container: &str) -> Difference {
        Difference::MissingEnv {
            container: container.to_string(),
            missing: [
                AZURE_CLIENT_ID,
                AZURE_TENANT_ID,
                AZURE_FEDERATED_TOKEN_FILE,
                AZURE_AUTHORITY_HOST,
            ]
            .map(str::to_string)
            .to_vec(),
            planned: 4,
        }
    }

    fn field(name: &'static str, found: Option<&str>, expected: &str) -> Difference {
        Difference::VolumeField {
            volume: web_volume(),
            field: name,
            found: found.map(str::to_string),
            expected: expected.to_string(),
        }
    }

    #[test]
    fn each_edit_the_mutation_would_make_is_one_difference() {
        let c = config(json!({}));
        let done = configured(&c, &pod(json!({}), app()));
        let container = "/spec/containers/0";
        let token = "/spec/volumes/0/projected/sources/0/serviceAccountToken";
        let env_without = |name: &str| {
            let env: Vec<Value> = done
                .pointer(&format!("{container}/env"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|e| e.get("name").and_then(Value::as_str) != Some(name))
                .cloned()
                .collect();
            edit(done.clone(), &format!("{container}/env"), Value::from(env))
        };
        let mount_as = |m: Value| edit(done.clone(), &format!("{container}/volumeMounts/0"), m);
        let cases: Vec<(&str, Value, Vec<Difference>)> = vec![
            ("configured", done.clone(), vec![]),
            (
                "unconfigured",
                pod(json!({}), app()),
                vec![
                    all_env("app"),
                    mount("app"),
                    Difference::VolumeMissing {
                        volume: web_volume(),
                    },
                ],
            ),
            (
                "one env var missing",
                env_without(AZURE_AUTHORITY_HOST),
                vec![Difference::MissingEnv {
                    container: "app".into(),
                    missing: vec![AZURE_AUTHORITY_HOST.into()],
                    planned: 4,
                }],
            ),
            (
                "mount without readOnly",
                mount_as(json!({"name": web_volume(), "mountPath": MOUNT})),
                vec![Difference::MountNotReadOnly {
                    container: "app".into(),
                    mount_path: MOUNT,
                }],
            ),
            (
                "mount elsewhere and writable",
                mount_as(json!({"name": web_volume(), "mountPath": "/wi", "readOnly": false})),
                vec![
                    Difference::MountPath {
                        container: "app".into(),
                        found: "/wi".into(),
                        mount_path: MOUNT,
                    },
                    Difference::MountNotReadOnly {
                        container: "app".into(),
                        mount_path: MOUNT,
                    },
                ],
            ),
            (
                "mount with a subPath",
                mount_as(
                    json!({"name": web_volume(), "mountPath": MOUNT, "readOnly": true, "subPath": "token"}),
                ),
                vec![Difference::MountFields {
                    container: "app".into(),
                }],
            ),
            (
                "another audience",
                edit(
                    done.clone(),
                    &format!("{token}/audience"),
                    json!("api://other"),
                ),
                vec![field(
                    "audience",
                    Some("api://other"),
                    "api://AzureADTokenExchange",
                )],
            ),
            (
                "another expiration and no path",
                edit(
                    edit(
                        done.clone(),
                        &format!("{token}/expirationSeconds"),
                        json!(7200),
                    ),
                    token,
                    json!({"audience": "api://AzureADTokenExchange", "expirationSeconds": 7200}),
                ),
                vec![
                    field("path", None, "token/azure-identity-token"),
                    field("expirationSeconds", Some("7200"), "3600"),
                ],
            ),
            (
                "a volume of that name without a token",
                edit(
                    done.clone(),
                    "/spec/volumes/0",
                    json!({"name": web_volume(), "emptyDir": {}}),
                ),
                vec![Difference::VolumeWithoutToken {
                    volume: web_volume(),
                }],
            ),
            (
                "the token and a field the policy does not set",
                edit(
                    done.clone(),
                    "/spec/volumes/0/projected",
                    json!({"defaultMode": 420, "sources": done.pointer("/spec/volumes/0/projected/sources")}),
                ),
                vec![Difference::VolumeOther {
                    volume: web_volume(),
                }],
            ),
        ];
        for (name, pod, expected) in cases {
            assert_eq!(differences_of(&c, &pod), expected, "{name}");
        }
    }

    #[test]
    fn missing_proxy_containers_are_named_with_their_list() {
        let annotations = json!({INJECT_PROXY_ANNOTATION: "true"});
        let missing = |container: &str, list| Difference::ProxyMissing {
            container: container.to_string(),
            list,
        };
        for (native, sidecar_list) in [(true, "initContainers"), (false, "containers")] {
            let c = config(json!({"useNativeSidecar": native}));
            let unconfigured = pod(annotations.clone(), app());
            let mut expected = vec![
                missing(PROXY_CONTAINER, sidecar_list),
                missing(PROXY_INIT_CONTAINER, "initContainers"),
                all_env("app"),
                mount("app"),
                Difference::VolumeMissing {
                    volume: web_volume(),
                },
            ];
            if !native {
                // The init container's list is walked first.
                expected.swap(0, 1);
            }
            assert_eq!(
                differences_of(&c, &unconfigured),
                expected,
                "native {native}"
            );
            let done = configured(&c, &unconfigured);
            assert_eq!(differences_of(&c, &done), vec![], "native {native}");

            // Configured but for the proxy (the annotation was added afterwards).
            let mut without_proxy = configured(&c, &pod(json!({}), app()));
            if let Some(meta) = without_proxy
                .pointer_mut("/metadata/annotations")
                .and_then(Value::as_object_mut)
            {
                meta.insert(INJECT_PROXY_ANNOTATION.into(), json!("true"));
            }
            let mut expected = vec![
                missing(PROXY_CONTAINER, sidecar_list),
                missing(PROXY_INIT_CONTAINER, "initContainers"),
            ];
            if !native {
                expected.swap(0, 1);
            }
            assert_eq!(
                differences_of(&c, &without_proxy),
                expected,
                "native {native}"
            );
        }
    }

    #[test]
    fn skipped_containers_and_a_reused_volume_name_are_configured() {
        let c = config(json!({}));
        let two = json!([{"name": "app"}, {"name": "istio-proxy"}]);
        let done = configured(
            &c,
            &pod(json!({SKIP_CONTAINERS_ANNOTATION: "istio-proxy"}), two),
        );
        assert_eq!(differences_of(&c, &done), vec![]);

        // A ReplicaSet's Pod: mutated under its generateName, then named by the API server.
        let mut from_template = pod(json!({}), app());
        if let Some(meta) = from_template
            .get_mut("metadata")
            .and_then(Value::as_object_mut)
        {
            meta.remove("name");
            meta.insert("generateName".into(), json!("web-7d4b9c5f6-"));
        }
        let mut named = configured(&c, &from_template);
        if let Some(meta) = named.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("name".into(), json!("web-7d4b9c5f6-x7k2p"));
        }
        assert_eq!(differences_of(&c, &named), vec![]);
    }

    #[test]
    fn own_values_that_are_not_the_injected_ones_are_drift() {
        let c = config(json!({}));
        let own = |env: Value| {
            configured(
                &c,
                &pod(
                    json!({}),
                    json!([{"name": "app", "env": env}, {"name": "side"}]),
                ),
            )
        };
        let drift = |variable, found: &str, expected: &str| Difference::Drift {
            container: "app".into(),
            variable,
            found: found.into(),
            expected: expected.into(),
        };
        let cases = [
            (
                own(json!([{"name": AZURE_CLIENT_ID, "value": "old"}])),
                vec![drift(AZURE_CLIENT_ID, "old", CLIENT_ID)],
            ),
            (
                own(json!([{"name": AZURE_TENANT_ID, "value": "t"}])),
                vec![drift(AZURE_TENANT_ID, "t", TENANT_ID)],
            ),
            (
                own(json!([{"name": AZURE_CLIENT_ID, "value": CLIENT_ID}])),
                vec![],
            ),
            (
                own(
                    json!([{"name": AZURE_CLIENT_ID, "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]),
                ),
                vec![],
            ),
        ];
        for (pod, expected) in cases {
            assert_eq!(differences_of(&c, &pod), expected, "{pod}");
        }
    }

    #[test]
    fn the_v1_5_layout_follows_its_reinvocation_rules() {
        let c = config(json!({"tokenLayout": "v1.5"}));
        let done = configured(&c, &pod(json!({}), app()));
        assert_eq!(differences_of(&c, &done), vec![]);
        assert_eq!(
            differences_of(&c, &pod(json!({}), app())),
            vec![
                Difference::MissingEnv {
                    container: "app".into(),
                    missing: [
                        AZURE_CLIENT_ID,
                        AZURE_TENANT_ID,
                        AZURE_FEDERATED_TOKEN_FILE,
                        AZURE_AUTHORITY_HOST
                    ]
                    .map(str::to_string)
                    .to_vec(),
                    planned: 4,
                },
                Difference::MountMissing {
                    container: "app".into(),
                    mount_path: "/var/run/secrets/azure/tokens",
                },
                Difference::VolumeMissing {
                    volume: "azure-identity-token".into(),
                },
            ]
        );
    }
}
