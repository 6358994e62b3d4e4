//! Property tests of the request flow (issue 7), native, through `evaluate`.
//!
//! The generators build AdmissionRequests for arbitrary Pods — labelled and unlabelled, random
//! container and init container names (including `azwi-proxy`/`azwi-proxy-init`), env lists with
//! `value`, `valueFrom`, empty and null values, volume mounts and volumes with reserved-prefix,
//! hashed and legacy names, every annotation of the spec with valid and invalid values, and
//! unknown fields at every level — plus arbitrary ServiceAccounts (client id present, missing,
//! empty or misspelt; tenant id; expiration) and valid settings (token layout, native sidecar,
//! custom token endpoint with each CA source, cloud, audience, proxy images). A quarter of the
//! Pods get one type confusion (a list where an object belongs, a number for a name, …), and
//! some are replaced by the expected result of a first evaluation (re-invocation).
//!
//! Properties, each a test below:
//! 1. no crash: accept, mutate or reject, never a panic; rejections name the policy; every
//!    truncation of a payload is rejected as unreadable;
//! 2. idempotent: evaluating a mutated Pod again accepts it unchanged;
//! 3. lossless: the mutated Pod differs from the input only where the spec says
//!    (`oracle::diff`); nothing of the input is removed or altered;
//! 4. deterministic: the same payload, also pretty-printed, gives the same decision and lookups;
//! 5. unselected ⇒ accepted, with no ServiceAccount lookup;
//! 6. the outcome is the one the spec predicts (`oracle::model`): the exact mutated Pod, or a
//!    rejection with the right reason and lookups; and the generators reach every outcome.
//!
//! Each property runs `PROPTEST_CASES` cases (default 256); failures are shrunk and printed,
//! not persisted (add the shrunk input to `test_data/regressions/` instead). `PROPTEST_RNG_SEED`
//! replays a run.

#[path = "properties/oracle.rs"]
mod oracle;

use std::collections::BTreeMap;

use azure_workload_identity_policy::Rejection;
use azure_workload_identity_policy::ServiceAccount;
use azure_workload_identity_policy::{Decision, check_settings};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::{RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{Map, Value, json};

use oracle::{
    CLIENT_ID_KEY, Class, EXPIRATION_KEY, INJECT_PROXY_KEY, KNOWN_VOLUME_NAMES, LEGACY_MOUNT_PATH,
    LEGACY_NAME, MOUNT_PATH, PROXY, PROXY_INIT, PROXY_PORT_KEY, SKIP_KEY, TENANT_ID_KEY,
    UNREADABLE, USE_LABEL,
};

fn config() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// A case
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Case {
    request: Value,
    settings: Value,
    /// The annotations of the ServiceAccount served for every lookup; `None`: not found.
    service_account: Option<Value>,
}

impl Case {
    fn sa(&self) -> Option<ServiceAccount> {
        self.service_account.as_ref().map(oracle::service_account)
    }

    fn bytes(&self) -> Vec<u8> {
        oracle::payload(&self.request, Some(&self.settings))
    }

    fn pod(&self) -> &Value {
        self.request.get("object").unwrap_or(&Value::Null)
    }
}

// ---------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------

fn object(entries: Vec<(String, Option<Value>)>) -> Value {
    Value::Object(
        entries
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect::<Map<_, _>>(),
    )
}

fn s(v: &str) -> Value {
    Value::from(v)
}

/// Scalars, with floats that print and parse back exactly.
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-4000i32..4000).prop_map(|n| Value::from(f64::from(n) / 4.0)),
        ".{0,8}".prop_map(Value::from),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(Value::Array),
            btree_map("[a-zA-Z]{1,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Fields no version of the Pod API has, to be carried through untouched.
fn unknown_fields() -> impl Strategy<Value = Vec<(String, Option<Value>)>> {
    vec(("zz[A-Za-z]{0,5}", any_json().prop_map(Some)), 0..2)
}

/// A list field: absent, null, or a list of `item`.
fn list_slot<S: Strategy<Value = Value> + 'static>(
    item: S,
    len: std::ops::Range<usize>,
) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        6 => vec(item, len).prop_map(|v| Some(Value::Array(v))),
    ]
}

fn optional<S: Strategy<Value = Value> + 'static>(item: S) -> impl Strategy<Value = Option<Value>> {
    prop::option::weighted(0.5, item)
}

const CONTAINER_NAMES: &[&str] = &[
    "app", "sidecar", "init", "App", "", "web", PROXY, PROXY_INIT,
];

fn container_name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(CONTAINER_NAMES).prop_map(str::to_string),
        1 => "[a-z][a-z0-9-]{0,6}",
    ]
}

const ENV_NAMES: &[&str] = &[
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "AZURE_KUBERNETES_TOKEN_PROXY",
    "AZURE_KUBERNETES_SNI_NAME",
    "AZURE_KUBERNETES_CA_FILE",
    "AZURE_KUBERNETES_CA_DATA",
    "azure_client_id",
    "LOG_LEVEL",
    "PROXY_PORT",
];

fn env_entry() -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        5 => select(ENV_NAMES).prop_map(str::to_string),
        1 => "[A-Z_]{1,6}",
    ];
    let secret = json!({"secretKeyRef": {"name": "identity", "key": "client-id"}});
    let value = prop_oneof![
        3 => ".{0,6}".prop_map(|v| vec![("value".to_string(), Some(Value::from(v)))]),
        1 => Just(vec![("value".to_string(), Some(s("")))]),
        2 => Just(vec![("valueFrom".to_string(), Some(secret.clone()))]),
        1 => Just(vec![]),
        1 => Just(vec![("value".to_string(), Some(Value::Null))]),
        1 => Just(vec![("valueFrom".to_string(), Some(Value::Null))]),
        1 => Just(vec![("valueFrom".to_string(), Some(json!({})))]),
        1 => Just(vec![
            ("value".to_string(), Some(s("x"))),
            ("valueFrom".to_string(), Some(secret)),
        ]),
    ];
    (name, value, unknown_fields()).prop_map(|(name, mut value, unknown)| {
        value.insert(0, ("name".to_string(), Some(Value::from(name))));
        value.extend(unknown);
        object(value)
    })
}

fn volume_name() -> impl Strategy<Value = String> {
    let known: Vec<&'static str> = KNOWN_VOLUME_NAMES.iter().map(|(_, n)| *n).collect();
    prop_oneof![
        3 => select(known).prop_map(str::to_string),
        1 => "[0-9a-f]{0,30}".prop_map(|h| format!("{}{h}", oracle::RESERVED_PREFIX)),
        2 => select(vec![LEGACY_NAME, "config", "kube-api-access-x7k2p"]).prop_map(str::to_string),
        1 => "[a-z]{1,8}",
    ]
}

fn mount() -> impl Strategy<Value = Value> {
    let path = prop_oneof![
        3 => select(vec![MOUNT_PATH, LEGACY_MOUNT_PATH, "/config", "/var/run/secrets/azure/wi/token"])
            .prop_map(str::to_string),
        1 => "/[a-z]{1,5}",
    ];
    (
        volume_name(),
        path,
        optional(any::<bool>().prop_map(Value::from)),
        optional(Just(s("sub"))),
        unknown_fields(),
    )
        .prop_map(|(name, path, read_only, sub_path, unknown)| {
            let mut fields = vec![
                ("name".to_string(), Some(Value::from(name))),
                ("mountPath".to_string(), Some(Value::from(path))),
                ("readOnly".to_string(), read_only),
                ("subPath".to_string(), sub_path),
            ];
            fields.extend(unknown);
            object(fields)
        })
}

fn volume() -> impl Strategy<Value = Value> {
    let token_path = select(vec![
        "token/azure-identity-token",
        "azure-identity-token",
        "token",
    ]);
    let content = prop_oneof![
        Just(("emptyDir".to_string(), json!({}))),
        Just(("configMap".to_string(), json!({"name": "config"}))),
        (token_path, 3600i64..90000).prop_map(|(path, seconds)| (
            "projected".to_string(),
            json!({"sources": [{"serviceAccountToken": {
                "path": path, "audience": "api://AzureADTokenExchange", "expirationSeconds": seconds}}],
                "defaultMode": 420})
        )),
    ];
    (volume_name(), content, unknown_fields()).prop_map(|(name, (key, value), unknown)| {
        let mut fields = vec![
            ("name".to_string(), Some(Value::from(name))),
            (key, Some(value)),
        ];
        fields.extend(unknown);
        object(fields)
    })
}

fn container() -> impl Strategy<Value = Value> {
    (
        container_name(),
        list_slot(env_entry(), 0..5),
        list_slot(mount(), 0..3),
        optional(Just(s("Always"))),
        unknown_fields(),
    )
        .prop_map(|(name, env, mounts, restart, unknown)| {
            let mut fields = vec![
                ("name".to_string(), Some(Value::from(name))),
                ("image".to_string(), Some(s("registry.example/app:1"))),
                ("env".to_string(), env),
                ("volumeMounts".to_string(), mounts),
                ("restartPolicy".to_string(), restart),
            ];
            fields.extend(unknown);
            object(fields)
        })
}

const EXPIRATIONS: &[&str] = &[
    "",
    "3600",
    "86400",
    "7200",
    "3599",
    "86401",
    "1h",
    "+4000",
    "0003600",
    "-4000",
    "99999999999999999999",
    " 3600",
    "3600.0",
];
const PORTS: &[&str] = &[
    "8000",
    "",
    "abc",
    "-1",
    "0",
    "65536",
    "2147483647",
    "2147483648",
    " 80",
    "+80",
];
const CTE_SUFFIX: &str = "mybinding";

fn annotations() -> impl Strategy<Value = Option<Value>> {
    let expiration = prop_oneof![
        4 => select(EXPIRATIONS).prop_map(str::to_string),
        1 => "[0-9]{1,6}",
        1 => ".{0,4}",
    ];
    let skip = (
        vec(
            prop_oneof![
                4 => select(CONTAINER_NAMES).prop_map(str::to_string),
                1 => "[a-z]{1,4}"
            ],
            0..3,
        ),
        select(vec![";", " ; ", ",", ";;"]),
    )
        .prop_map(|(names, sep)| names.join(sep));
    let port = prop_oneof![
        3 => select(PORTS).prop_map(str::to_string),
        1 => "[0-9]{1,6}",
    ];
    let flag = select(vec!["true", "TRUE", "True", "false", "", "yes"]).prop_map(s);
    let fields = (
        optional(expiration.prop_map(Value::from)),
        optional(skip.prop_map(Value::from)),
        prop::option::weighted(0.4, select(vec!["true", "false", ""]).prop_map(s)),
        optional(port.prop_map(Value::from)),
        optional(flag.clone()),
        optional(flag),
        optional(Just(s("pod-level-client-id"))),
        btree_map("example\\.com/[a-z]{1,5}", ".{0,10}", 0..2),
    );
    let map = fields.prop_map(
        |(expiration, skip, inject, port, cte, other, client_id, extra)| {
            let mut entries = vec![
                (EXPIRATION_KEY.to_string(), expiration),
                (SKIP_KEY.to_string(), skip),
                (INJECT_PROXY_KEY.to_string(), inject),
                (PROXY_PORT_KEY.to_string(), port),
                (format!("azure.workload.identity/use-{CTE_SUFFIX}"), cte),
                ("azure.workload.identity/use-other".to_string(), other),
                (CLIENT_ID_KEY.to_string(), client_id),
            ];
            entries.extend(extra.into_iter().map(|(k, v)| (k, Some(Value::from(v)))));
            object(entries)
        },
    );
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        8 => map.prop_map(Some),
    ]
}

fn labels() -> impl Strategy<Value = Option<Value>> {
    let use_label = prop_oneof![
        12 => Just(Some(s("true"))),
        1 => select(vec!["True", "false", "", " true"]).prop_map(|v| Some(s(v))),
        1 => Just(None),
    ];
    let map = (use_label, btree_map("app[a-z]{0,3}", "[a-z]{0,5}", 0..2)).prop_map(
        |(use_label, extra)| {
            let mut entries = vec![(USE_LABEL.to_string(), use_label)];
            entries.extend(extra.into_iter().map(|(k, v)| (k, Some(Value::from(v)))));
            object(entries)
        },
    );
    prop_oneof![
        1 => Just(None),
        20 => map.prop_map(Some),
    ]
}

fn metadata() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just(None),
            Just(Some(s(""))),
            select(vec!["web", "pod", "workload-app"]).prop_map(|n| Some(s(n))),
            select(vec!["web", "pod"]).prop_map(|n| Some(s(n))),
        ],
        optional(select(vec!["", "web-7d4b9c5f6-", "workload-app-"]).prop_map(s)),
        prop_oneof![
            Just(None),
            Just(Some(s("default"))),
            Just(Some(s(""))),
            Just(Some(s("other"))),
        ],
        labels(),
        annotations(),
        unknown_fields(),
    )
        .prop_map(
            |(name, generate_name, namespace, labels, annotations, unknown)| {
                let mut fields = vec![
                    ("name".to_string(), name),
                    ("generateName".to_string(), generate_name),
                    ("namespace".to_string(), namespace),
                    ("labels".to_string(), labels),
                    ("annotations".to_string(), annotations),
                ];
                fields.extend(unknown);
                object(fields)
            },
        )
}

fn spec() -> impl Strategy<Value = Value> {
    (
        optional(select(vec!["workload-sa", "", "default"]).prop_map(s)),
        prop::option::weighted(0.5, prop::bool::weighted(0.6).prop_map(Value::from)),
        list_slot(container(), 0..3),
        list_slot(container(), 1..4),
        prop::option::weighted(0.2, vec(container(), 0..2).prop_map(Value::Array)),
        list_slot(volume(), 0..4),
        unknown_fields(),
    )
        .prop_map(
            |(sa_name, host_network, init, containers, ephemeral, volumes, unknown)| {
                let mut fields = vec![
                    ("serviceAccountName".to_string(), sa_name),
                    ("hostNetwork".to_string(), host_network),
                    ("initContainers".to_string(), init),
                    ("containers".to_string(), containers),
                    ("ephemeralContainers".to_string(), ephemeral),
                    ("volumes".to_string(), volumes),
                    (
                        "tolerations".to_string(),
                        Some(json!([{"key": "k", "operator": "Exists"}])),
                    ),
                ];
                fields.extend(unknown);
                object(fields)
            },
        )
}

fn pod() -> impl Strategy<Value = Value> {
    (metadata(), spec(), unknown_fields()).prop_map(|(metadata, spec, unknown)| {
        let mut fields = vec![
            ("apiVersion".to_string(), Some(s("v1"))),
            ("kind".to_string(), Some(s("Pod"))),
            ("metadata".to_string(), Some(metadata)),
            ("spec".to_string(), Some(spec)),
            ("status".to_string(), Some(json!({}))),
        ];
        fields.extend(unknown);
        object(fields)
    })
}

/// One type confusion at a path the policy reads: (JSON pointer, new value; `None` removes).
fn corruptions() -> Vec<(&'static str, Option<Value>)> {
    vec![
        ("", Some(json!([]))),
        ("", Some(json!("pod"))),
        ("/spec", Some(json!("spec"))),
        ("/spec", Some(Value::Null)),
        ("/spec", Some(json!([]))),
        ("/spec", None),
        ("/spec/containers", Some(json!({}))),
        ("/spec/containers", Some(json!("app"))),
        ("/spec/initContainers", Some(json!(1))),
        ("/spec/containers/0", Some(json!("app"))),
        ("/spec/containers/0/name", None),
        ("/spec/containers/0/name", Some(json!(5))),
        ("/spec/containers/0/env", Some(json!({"name": "X"}))),
        ("/spec/containers/0/env/0", Some(json!("X=1"))),
        ("/spec/containers/0/env/0/name", None),
        ("/spec/containers/0/env/0/name", Some(Value::Null)),
        ("/spec/containers/0/volumeMounts", Some(json!("m"))),
        ("/spec/containers/0/volumeMounts/0", Some(json!(1))),
        (
            "/spec/containers/0/volumeMounts/0/mountPath",
            Some(json!(false)),
        ),
        ("/spec/containers/0/volumeMounts/0/name", Some(json!(["x"]))),
        ("/spec/volumes", Some(json!({}))),
        ("/spec/volumes/0", Some(json!("v"))),
        ("/spec/serviceAccountName", Some(json!(7))),
        ("/metadata", Some(json!("x"))),
        ("/metadata/name", Some(json!(1))),
        ("/metadata/generateName", Some(json!([]))),
        ("/metadata/namespace", Some(json!({}))),
        ("/metadata/annotations", Some(json!(["a"]))),
        (
            "/metadata/annotations/azure.workload.identity~1service-account-token-expiration",
            Some(json!(3600)),
        ),
        (
            "/metadata/annotations/azure.workload.identity~1inject-proxy-sidecar",
            Some(json!(true)),
        ),
        (
            "/metadata/annotations/azure.workload.identity~1skip-containers",
            Some(Value::Null),
        ),
        (
            "/metadata/annotations/azure.workload.identity~1proxy-sidecar-port",
            Some(Value::Null),
        ),
        ("/metadata/labels", Some(Value::Null)),
        (
            "/metadata/labels/azure.workload.identity~1use",
            Some(json!(true)),
        ),
        ("/metadata/labels/app", Some(json!(1))),
    ]
}

/// Sets (or removes) the value at `pointer` when its parent exists.
fn edit(target: &mut Value, pointer: &str, new: Option<Value>) {
    if pointer.is_empty() {
        if let Some(new) = new {
            *target = new;
        }
        return;
    }
    let (parent, last) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    let key = last.replace("~1", "/").replace("~0", "~");
    match (target.pointer_mut(parent), new) {
        (Some(Value::Object(map)), Some(new)) => {
            map.insert(key, new);
        }
        (Some(Value::Object(map)), None) => {
            map.remove(&key);
        }
        (Some(Value::Array(list)), Some(new)) => {
            if let Some(slot) = key.parse::<usize>().ok().and_then(|i| list.get_mut(i)) {
                *slot = new;
            }
        }
        _ => {}
    }
}

fn service_account() -> impl Strategy<Value = Option<Value>> {
    let client_id = prop_oneof![
        1 => Just(None),
        1 => Just(Some((CLIENT_ID_KEY.to_string(), s("")))),
        8 => select(vec!["5b2d8c1e-3f4a-4b6c-9d7e-0a1b2c3d4e5f", " spaced ", "x"])
            .prop_map(|v| Some((CLIENT_ID_KEY.to_string(), s(v)))),
        2 => select(vec![
            "azure.workload.identity/client_id",
            "azure.workload.identity/clientId",
            "client-id",
            "Azure.Workload.Identity/Client-ID",
        ])
        .prop_map(|k| Some((k.to_string(), s("5b2d8c1e")))),
    ];
    let tenant = prop_oneof![
        2 => Just(None),
        1 => Just(Some(s(""))),
        2 => Just(Some(s("c0ffee00-1234-4abc-8def-0123456789ab"))),
    ];
    let expiration = prop::option::weighted(
        0.3,
        prop_oneof![
            3 => select(EXPIRATIONS).prop_map(str::to_string),
            1 => "[0-9]{1,6}",
        ],
    );
    let annotations = (
        client_id,
        tenant,
        expiration,
        btree_map("example\\.com/[a-z]{1,5}", ".{0,6}", 0..2),
    )
        .prop_map(|(client_id, tenant, expiration, extra)| {
            let mut entries: Vec<(String, Option<Value>)> =
                client_id.map(|(k, v)| (k, Some(v))).into_iter().collect();
            entries.push((TENANT_ID_KEY.to_string(), tenant));
            entries.push((EXPIRATION_KEY.to_string(), expiration.map(Value::from)));
            entries.extend(extra.into_iter().map(|(k, v)| (k, Some(Value::from(v)))));
            object(entries)
        });
    prop_oneof![
        1 => Just(None),
        5 => annotations.prop_map(Some),
    ]
}

fn settings() -> impl Strategy<Value = Value> {
    let ca = prop_oneof![
        Just(vec![]),
        Just(vec![(
            "caData".to_string(),
            Some(s(
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
            ))
        )]),
        Just(vec![(
            "caConfigMapName".to_string(),
            Some(s("token-endpoint-ca"))
        )]),
        optional(Just(json!({"matchLabels": {"example.com/ca": "true"}}))).prop_map(
            |selector| vec![
                (
                    "caClusterTrustBundleSignerName".to_string(),
                    Some(s("example.com/token-endpoint"))
                ),
                ("caClusterTrustBundleLabelSelector".to_string(), selector),
            ]
        ),
    ];
    let cte = (
        optional(select(vec!["https://10.0.0.1:8443", ""]).prop_map(s)),
        optional(select(vec!["token-proxy.example", ""]).prop_map(s)),
        ca,
    )
        .prop_map(|(proxy, sni, ca)| {
            let mut fields = vec![
                ("annotationSuffix".to_string(), Some(s(CTE_SUFFIX))),
                ("audience".to_string(), Some(s("api://identity-binding"))),
                ("tokenProxy".to_string(), proxy),
                ("sniName".to_string(), sni),
            ];
            fields.extend(ca);
            object(fields)
        });
    let cte = prop_oneof![
        3 => Just(None),
        1 => Just(Some(json!({}))),
        4 => cte.prop_map(Some),
    ];
    (
        select(vec![
            "d3fa017e-5e7a-4c2b-a0c1-9e8f7d6c5b4a",
            "  72f988bf-86f1-41af-91ab-2d7cd011db47  ",
        ]),
        optional(select(vec!["v1.6", "v1.5"]).prop_map(s)),
        optional(any::<bool>().prop_map(Value::from)),
        optional(
            select(vec![
                "AzurePublicCloud",
                "azurechinacloud",
                "AzureUSGovernment",
            ])
            .prop_map(s),
        ),
        prop::option::weighted(0.2, Just(s("https://login.example.test/"))),
        prop::option::weighted(0.2, Just(s("api://custom-audience"))),
        prop::option::weighted(0.2, Just(s("registry.example/proxy:1"))),
        prop::option::weighted(0.2, Just(s("registry.example/proxy-init:1"))),
        prop::option::weighted(
            0.2,
            select(vec!["all", "trace", "debug", "warning"]).prop_map(s),
        ),
        cte,
    )
        .prop_map(
            |(
                tenant,
                layout,
                native,
                cloud,
                authority,
                audience,
                image,
                init_image,
                level,
                cte,
            )| {
                object(vec![
                    ("defaultTenantId".to_string(), Some(s(tenant))),
                    ("tokenLayout".to_string(), layout),
                    ("useNativeSidecar".to_string(), native),
                    ("azureEnvironment".to_string(), cloud),
                    ("authorityHost".to_string(), authority),
                    ("audience".to_string(), audience),
                    ("proxyImage".to_string(), image),
                    ("proxyInitImage".to_string(), init_image),
                    ("proxyLogLevel".to_string(), level),
                    ("customTokenEndpoint".to_string(), cte),
                ])
            },
        )
}

fn request(pod: Value) -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        16 => Just(json!({"group": "", "version": "v1", "kind": "Pod"})),
        1 => select(vec![
            json!({"group": "apps", "version": "v1", "kind": "Deployment"}),
            json!({"group": "example.com", "version": "v1", "kind": "Pod"}),
            json!({"group": "", "version": "v1beta1", "kind": "Pod"}),
        ]),
    ];
    let operation = prop_oneof![
        16 => Just("CREATE"),
        1 => select(vec!["UPDATE", "DELETE", "CONNECT"]),
    ];
    let namespace = prop_oneof![
        7 => Just("default"),
        1 => Just("team-a"),
        2 => Just(""),
    ];
    (kind, operation, namespace, unknown_fields()).prop_map(
        move |(kind, operation, namespace, unknown)| {
            let mut fields = vec![
                ("uid".to_string(), Some(s("705ab4f5-6393-11e8-b7cc-42010a800002"))),
                ("kind".to_string(), Some(kind.clone())),
                ("resource".to_string(), Some(json!({"group": "", "version": "v1", "resource": "pods"}))),
                ("namespace".to_string(), Some(s(namespace))),
                ("operation".to_string(), Some(s(operation))),
                ("userInfo".to_string(), Some(json!({"username": "system:serviceaccount:kube-system:replicaset-controller"}))),
                ("object".to_string(), Some(pod.clone())),
                ("oldObject".to_string(), Some(Value::Null)),
                ("dryRun".to_string(), Some(Value::Bool(false))),
            ];
            fields.extend(unknown);
            object(fields)
        },
    )
}

/// A case: a request with a Pod (possibly with one type confusion, possibly already through a
/// first evaluation), valid settings and a ServiceAccount.
fn arb_case() -> impl Strategy<Value = Case> {
    let corruption = prop::option::weighted(0.25, select(corruptions()));
    (pod(), corruption)
        .prop_flat_map(|(mut pod, corruption)| {
            if let Some((pointer, value)) = corruption {
                edit(&mut pod, pointer, value);
            }
            (
                request(pod),
                settings(),
                service_account(),
                prop::bool::weighted(0.35),
            )
        })
        .prop_map(|(request, settings, service_account, reinvoke)| {
            let mut case = Case {
                request,
                settings,
                service_account,
            };
            if reinvoke {
                // re-invocation: the Pod as the spec says a first evaluation leaves it
                let sa = case.sa();
                if let (oracle::Expected::Pod { pod, .. }, _) =
                    oracle::model(&case.request, &case.settings, sa.as_ref())
                    && let Some(object) = case.request.get_mut("object")
                {
                    *object = pod;
                }
            }
            case
        })
}

/// A case the policy must not handle: another operation, another kind, or no exact label.
fn arb_unselected_case() -> impl Strategy<Value = Case> {
    let unselect = prop_oneof![
        select(vec!["UPDATE", "DELETE", "CONNECT", "create", ""])
            .prop_map(|op| ("/operation", s(op))),
        select(vec![
            json!({"group": "apps", "version": "v1", "kind": "Deployment"}),
            json!({"group": "", "version": "v1", "kind": "pod"}),
            json!({"group": "", "version": "v1", "kind": "Service"}),
            json!({"version": "v1beta1", "kind": "Pod"}),
            json!({}),
        ])
        .prop_map(|kind| ("/kind", kind)),
        select(vec![
            json!("True"),
            json!("1"),
            json!(true),
            json!(null),
            json!(""),
            json!(["true"])
        ])
        .prop_map(|value| (
            "/object/metadata/labels/azure.workload.identity~1use",
            value
        )),
        Just(("/object/metadata/labels", Value::Null)),
        Just(("/object", Value::Null)),
    ];
    (arb_case(), unselect).prop_map(|(mut case, (pointer, value))| {
        if pointer == "/object/metadata/labels/azure.workload.identity~1use" {
            // make sure the label exists to be edited (there may be no labels map)
            if let Some(meta) = case
                .request
                .pointer_mut("/object/metadata")
                .and_then(Value::as_object_mut)
            {
                meta.insert("labels".to_string(), json!({USE_LABEL: value}));
            }
        } else {
            edit(&mut case.request, pointer, Some(value));
        }
        case
    })
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

fn fail(e: String) -> TestCaseError {
    TestCaseError::fail(e)
}

/// Runs `test` on generated values in a thread with a large stack: the generators' nested
/// strategies need more than the 2 MiB of a test thread in debug builds (the policy does not).
fn check<S: Strategy + 'static>(
    make: fn() -> S,
    test: fn(S::Value) -> Result<(), TestCaseError>,
) -> Result<(), String> {
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let mut runner = TestRunner::new(config());
            runner.run(&make(), test).map_err(|e| e.to_string())
        })
        .map_err(|e| e.to_string())?
        .join()
        .map_err(|_| "the property panicked".to_string())?
}

fn assert_property<S: Strategy + 'static>(
    make: fn() -> S,
    test: fn(S::Value) -> Result<(), TestCaseError>,
) {
    if let Err(e) = check(make, test) {
        panic!("{e}");
    }
}

/// Property 1: No crash: accept, mutate (with a Pod object) or reject (with a message naming the
/// policy); every strict prefix of the payload is rejected as unreadable, without a lookup.
#[test]
fn evaluation_never_crashes() {
    assert_property(
        || (arb_case(), any::<prop::sample::Index>()),
        |(case, cut)| {
            let sa = case.sa();
            let bytes = case.bytes();
            let observed = oracle::observe(&bytes, sa.as_ref());
            match &observed.decision {
                Decision::Accept => {}
                Decision::Mutate(pod) => {
                    prop_assert!(pod.get("spec").is_some_and(Value::is_object))
                }
                Decision::Reject(Rejection(message)) => {
                    prop_assert!(message.starts_with(oracle::MESSAGE_PREFIX), "{message}");
                }
            }
            let prefix = bytes.get(..cut.index(bytes.len())).unwrap_or_default();
            let truncated = oracle::observe(prefix, sa.as_ref());
            let unreadable = matches!(&truncated.decision,
                Decision::Reject(Rejection(m)) if m.starts_with(UNREADABLE));
            prop_assert!(
                unreadable && truncated.calls.is_empty(),
                "prefix of {} bytes: {}",
                prefix.len(),
                oracle::describe(&truncated.decision)
            );
            Ok(())
        },
    );
}

/// Property 2: Idempotent: a mutated Pod, evaluated again, is accepted unchanged.
#[test]
fn mutation_is_idempotent() {
    assert_property(arb_case, |case| {
        let sa = case.sa();
        let first = oracle::observe(&case.bytes(), sa.as_ref());
        if let Decision::Mutate(pod) = first.decision {
            let mut request = case.request.clone();
            if let Some(object) = request.get_mut("object") {
                *object = pod;
            }
            let second = oracle::observe(
                &oracle::payload(&request, Some(&case.settings)),
                sa.as_ref(),
            );
            prop_assert_eq!(
                &second.decision,
                &Decision::Accept,
                "second evaluation: {}",
                oracle::describe(&second.decision)
            );
            prop_assert_eq!(second.calls.len(), 1);
        }
        Ok(())
    });
}

/// Property 3: Lossless: every value of the input Pod is in the output unchanged, except the
/// same-named token volume and mount the spec replaces; nothing is removed.
#[test]
fn mutation_is_lossless() {
    assert_property(arb_case, |case| {
        let sa = case.sa();
        if let Decision::Mutate(output) = oracle::observe(&case.bytes(), sa.as_ref()).decision {
            prop_assert_ne!(&output, case.pod(), "a mutation that changes nothing");
            let changes = oracle::diff(case.pod(), &output).map_err(fail)?;
            prop_assert!(!changes.is_empty());
        }
        Ok(())
    });
}

/// Property 4: Deterministic: the same payload gives the same decision and lookups, also when it is
/// pretty-printed.
#[test]
fn evaluation_is_deterministic() {
    assert_property(arb_case, |case| {
        let sa = case.sa();
        let bytes = case.bytes();
        let first = oracle::observe(&bytes, sa.as_ref());
        let second = oracle::observe(&bytes, sa.as_ref());
        prop_assert_eq!(&first, &second);
        let pretty =
            serde_json::to_vec_pretty(&json!({"request": case.request, "settings": case.settings}))
                .map_err(|e| fail(e.to_string()))?;
        prop_assert_eq!(&first, &oracle::observe(&pretty, sa.as_ref()));
        Ok(())
    });
}

/// Property 5: Unselected ⇒ accepted untouched, and the ServiceAccount is not looked up.
#[test]
fn unselected_requests_are_accepted_without_a_lookup() {
    assert_property(arb_unselected_case, |case| {
        prop_assert!(!oracle::selected(&case.request));
        let observed = oracle::observe(&case.bytes(), case.sa().as_ref());
        prop_assert_eq!(
            &observed.decision,
            &Decision::Accept,
            "{}",
            oracle::describe(&observed.decision)
        );
        prop_assert!(observed.calls.is_empty(), "lookups: {:?}", observed.calls);
        Ok(())
    });
}

/// Runs `body` in a thread with a large stack (see [`check`]).
fn in_big_stack<T: Send + 'static>(body: impl FnOnce() -> Result<T, String> + Send + 'static) -> T {
    let result = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(body)
        .map_err(|e| e.to_string())
        .and_then(|h| h.join().map_err(|_| "panicked".to_string()))
        .and_then(|r| r);
    result.unwrap_or_else(|e| panic!("{e}"))
}

/// Property 6: the outcome is the one the spec predicts (`oracle::model`): the exact mutated
/// Pod, or the rejection with the right reason and lookups.
#[test]
fn outcome_is_the_one_the_spec_predicts() {
    let cases = config().cases;
    let counts = in_big_stack(|| {
        let mut runner = TestRunner::new(config());
        let counts = std::cell::RefCell::new(BTreeMap::<Class, u32>::new());
        runner
            .run(&arb_case(), |case| {
                check_settings(&case.settings.to_string())
                    .map_err(|e| fail(format!("generated settings are invalid: {e}")))?;
                let sa = case.sa();
                let class =
                    oracle::check_case(&case.request, &case.settings, sa.as_ref()).map_err(fail)?;
                *counts.borrow_mut().entry(class).or_default() += 1;
                Ok(())
            })
            .map(|()| counts.into_inner())
            .map_err(|e| e.to_string())
    });
    eprintln!("outcomes over {cases} cases: {counts:?}");
}

/// The generators reach every kind of outcome, each in at least 2 % of the cases, so that the
/// properties above are not vacuous. A fixed seed and 500 cases classified by the model only,
/// so the census does not depend on the run.
#[test]
fn the_generators_reach_every_outcome() {
    let counts = in_big_stack(|| {
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[7u8; 32]);
        let mut runner = TestRunner::new_with_rng(config(), rng);
        let strategy = arb_case();
        let mut counts = BTreeMap::<Class, u32>::new();
        for _ in 0..500 {
            let case = strategy
                .new_tree(&mut runner)
                .map_err(|e| e.to_string())?
                .current();
            let sa = case.sa();
            let (_, class) = oracle::model(&case.request, &case.settings, sa.as_ref());
            *counts.entry(class).or_default() += 1;
        }
        Ok(counts)
    });
    eprintln!("outcomes over 500 generated cases: {counts:?}");
    let all = [
        Class::Unselected,
        Class::Malformed,
        Class::NoNamespace,
        Class::NotFound,
        Class::ClientId,
        Class::Proxy,
        Class::Expiration,
        Class::AlreadyInjected,
        Class::Mutated,
    ];
    let rare: Vec<_> = all
        .iter()
        .filter(|c| counts.get(c).copied().unwrap_or(0) < 10)
        .collect();
    assert!(
        rare.is_empty(),
        "the generators reach {rare:?} in less than 2 % of 500 cases: {counts:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The oracle can fail: it rejects what it must reject
// ---------------------------------------------------------------------------------------------

fn sample_pod() -> Value {
    json!({
        "metadata": {"name": "web", "labels": {USE_LABEL: "true"}, "annotations": {"a": "b"}},
        "spec": {
            "containers": [{"name": "app", "env": [{"name": "A", "value": "1"}],
                            "volumeMounts": [{"name": "config", "mountPath": "/config"}]}],
            "volumes": [{"name": "config", "emptyDir": {}}],
            "nodeSelector": {"disk": "ssd"}
        }
    })
}

#[test]
fn the_lossless_check_accepts_the_changes_the_spec_defines() {
    let input = sample_pod();
    let volume = KNOWN_VOLUME_NAMES
        .first()
        .map(|(_, n)| *n)
        .unwrap_or_default();
    let mut output = input.clone();
    edit(
        &mut output,
        "/spec/containers/0/env",
        Some(json!([{"name": "A", "value": "1"}, {"name": "AZURE_TENANT_ID", "value": "t"}])),
    );
    edit(
        &mut output,
        "/spec/containers/0/volumeMounts",
        Some(json!([{"name": "config", "mountPath": "/config"},
                    {"name": volume, "mountPath": MOUNT_PATH, "readOnly": true}])),
    );
    let token = json!({"name": volume, "projected": {"sources": [{"serviceAccountToken": {
        "path": "token/azure-identity-token", "audience": "a", "expirationSeconds": 3600}}]}});
    edit(
        &mut output,
        "/spec/volumes",
        Some(json!([{"name": "config", "emptyDir": {}}, token])),
    );
    let changes = oracle::diff(&input, &output);
    assert_eq!(
        changes.as_ref().map(|c| (
            c.env_appended.len(),
            c.mounts_appended.len(),
            c.volumes_appended.len()
        )),
        Ok((1, 1, 1)),
        "{changes:?}"
    );
}

#[test]
fn the_lossless_check_rejects_every_other_change() {
    let input = sample_pod();
    let cases: Vec<(&str, Option<Value>, &str)> = vec![
        (
            "/metadata/annotations/a",
            None,
            "/metadata was changed or removed",
        ),
        (
            "/metadata/labels/x",
            Some(json!("y")),
            "/metadata was changed or removed",
        ),
        (
            "/spec/nodeSelector/disk",
            Some(json!("hdd")),
            "/spec/nodeSelector was changed",
        ),
        ("/spec/nodeSelector", None, "/spec/nodeSelector was removed"),
        (
            "/spec/hostNetwork",
            Some(json!(true)),
            "/spec/hostNetwork was added",
        ),
        (
            "/spec/containers/0/image",
            Some(json!("x")),
            "/spec/containers/0/image was added",
        ),
        (
            "/spec/containers/0/env/0/value",
            Some(json!("2")),
            "/spec/containers/0/env/0 was changed",
        ),
        (
            "/spec/containers/0/env",
            Some(json!([])),
            "/spec/containers/0/env lost entries",
        ),
        (
            "/spec/containers/0/env",
            Some(json!([{"name": "A", "value": "1"}, {"name": "A", "value": "2"}])),
            "which is not a new AZURE_* entry",
        ),
        (
            "/spec/containers/0/env",
            Some(json!([{"name": "A", "value": "1"}, {"name": "AZURE_X", "value": "2", "x": 1}])),
            "which is not a new AZURE_* entry",
        ),
        (
            "/spec/containers/0/volumeMounts/0",
            Some(json!({"name": "config", "mountPath": MOUNT_PATH, "readOnly": true})),
            "/spec/containers/0/volumeMounts/0 was changed",
        ),
        (
            "/spec/volumes/0",
            Some(
                json!({"name": "config", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}),
            ),
            "/spec/volumes/0 was changed",
        ),
        (
            "/spec/volumes",
            Some(json!([])),
            "/spec/volumes went from 1 to 0 entries",
        ),
        (
            "/spec/containers",
            Some(json!([{"name": "azwi-proxy"}])),
            "/spec/containers/0/name was changed",
        ),
        (
            "/spec/containers",
            Some(json!([{"name": "other"}, {"name": "app"}])),
            "/spec/containers went from 1 to 2 entries",
        ),
        (
            "/spec/volumes",
            Some(json!({})),
            "/spec/volumes became {}, not a list",
        ),
        ("/status", Some(json!({})), "/status was added"),
    ];
    for (pointer, value, expected) in cases {
        let mut output = input.clone();
        edit(&mut output, pointer, value.clone());
        let result = oracle::diff(&input, &output);
        assert!(
            matches!(&result, Err(e) if e.contains(expected)),
            "{pointer} := {value:?}: expected an error containing {expected:?}, got {result:?}"
        );
    }
}

#[test]
fn the_model_predicts_a_known_mutation_exactly() {
    // the example of tests/flow.rs: a labelled Pod, a ServiceAccount with client and tenant id
    let pod = json!({
        "metadata": {"name": "web", "labels": {USE_LABEL: "true"}},
        "spec": {"serviceAccountName": "workload-sa", "containers": [{"name": "app"}]}
    });
    let request = json!({"operation": "CREATE", "namespace": "default",
        "kind": {"group": "", "version": "v1", "kind": "Pod"}, "object": pod});
    let settings = json!({"defaultTenantId": "d"});
    let sa = oracle::service_account(&json!({CLIENT_ID_KEY: "c", TENANT_ID_KEY: "t"}));
    let volume = "azure-workload-identity-reserved-4b5e57f6eb2f42b9039b3d1e139292";
    let expected = json!({
        "metadata": {"name": "web", "labels": {USE_LABEL: "true"}},
        "spec": {
            "serviceAccountName": "workload-sa",
            "containers": [{
                "name": "app",
                "env": [
                    {"name": "AZURE_CLIENT_ID", "value": "c"},
                    {"name": "AZURE_TENANT_ID", "value": "t"},
                    {"name": "AZURE_FEDERATED_TOKEN_FILE", "value": "/var/run/secrets/azure/wi/token/azure-identity-token"},
                    {"name": "AZURE_AUTHORITY_HOST", "value": "https://login.microsoftonline.com/"}
                ],
                "volumeMounts": [{"name": volume, "mountPath": MOUNT_PATH, "readOnly": true}]
            }],
            "volumes": [{"name": volume, "projected": {"sources": [{"serviceAccountToken": {
                "path": "token/azure-identity-token", "audience": "api://AzureADTokenExchange",
                "expirationSeconds": 3600}}]}}]
        }
    });
    assert_eq!(
        oracle::model(&request, &settings, Some(&sa)),
        (
            oracle::Expected::Pod {
                lookup: ("default".to_string(), "workload-sa".to_string()),
                pod: expected
            },
            Class::Mutated
        )
    );
    assert_eq!(
        oracle::check_case(&request, &settings, Some(&sa)),
        Ok(Class::Mutated)
    );
    // the model follows the settings: another audience is another Pod
    let other = json!({"defaultTenantId": "d", "audience": "api://other"});
    assert_ne!(
        oracle::model(&request, &other, Some(&sa)),
        oracle::model(&request, &settings, Some(&sa))
    );
}
