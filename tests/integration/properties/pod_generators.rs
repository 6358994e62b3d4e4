//! Generators of Pods: names, containers, env lists, mounts, volumes, every annotation of the
//! spec with valid and invalid values, labels, metadata and unknown fields at every level.

use super::*;

pub(crate) fn object(entries: Vec<(String, Option<Value>)>) -> Value {
    Value::Object(
        entries
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect::<Map<_, _>>(),
    )
}

pub(crate) fn s(v: &str) -> Value {
    Value::from(v)
}

/// Scalars, with floats that print and parse back exactly.
pub(crate) fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-4000i32..4000).prop_map(|n| Value::from(f64::from(n) / 4.0)),
        ".{0,8}".prop_map(Value::from),
    ]
}

pub(crate) fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(Value::Array),
            btree_map("[a-zA-Z]{1,6}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Fields no version of the Pod API has, to be carried through untouched.
pub(crate) fn unknown_fields() -> impl Strategy<Value = Vec<(String, Option<Value>)>> {
    vec(("zz[A-Za-z]{0,5}", any_json().prop_map(Some)), 0..2)
}

/// A list field: absent, null, or a list of `item`.
pub(crate) fn list_slot<S: Strategy<Value = Value> + 'static>(
    item: S,
    len: std::ops::Range<usize>,
) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        6 => vec(item, len).prop_map(|v| Some(Value::Array(v))),
    ]
}

pub(crate) fn optional<S: Strategy<Value = Value> + 'static>(
    item: S,
) -> impl Strategy<Value = Option<Value>> {
    prop::option::weighted(0.5, item)
}

pub(crate) const CONTAINER_NAMES: &[&str] = &[
    "app", "sidecar", "init", "App", "", "web", PROXY, PROXY_INIT,
];

pub(crate) fn container_name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(CONTAINER_NAMES).prop_map(str::to_string),
        1 => "[a-z][a-z0-9-]{0,6}",
    ]
}

pub(crate) const ENV_NAMES: &[&str] = &[
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

pub(crate) fn env_entry() -> impl Strategy<Value = Value> {
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

pub(crate) fn volume_name() -> impl Strategy<Value = String> {
    let known: Vec<&'static str> = KNOWN_VOLUME_NAMES.iter().map(|(_, n)| *n).collect();
    prop_oneof![
        3 => select(known).prop_map(str::to_string),
        1 => "[0-9a-f]{0,30}".prop_map(|h| format!("{}{h}", oracle::RESERVED_PREFIX)),
        2 => select(vec![LEGACY_NAME, "config", "kube-api-access-x7k2p"]).prop_map(str::to_string),
        1 => "[a-z]{1,8}",
    ]
}

pub(crate) fn mount() -> impl Strategy<Value = Value> {
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

pub(crate) fn volume() -> impl Strategy<Value = Value> {
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

pub(crate) fn container() -> impl Strategy<Value = Value> {
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

pub(crate) const EXPIRATIONS: &[&str] = &[
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
pub(crate) const PORTS: &[&str] = &[
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
pub(crate) const CTE_SUFFIX: &str = "mybinding";

pub(crate) fn annotations() -> impl Strategy<Value = Option<Value>> {
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

pub(crate) fn labels() -> impl Strategy<Value = Option<Value>> {
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

pub(crate) fn metadata() -> impl Strategy<Value = Value> {
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

pub(crate) fn spec() -> impl Strategy<Value = Value> {
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

pub(crate) fn pod() -> impl Strategy<Value = Value> {
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
