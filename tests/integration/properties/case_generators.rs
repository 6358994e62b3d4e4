//! Generators of whole cases: type confusions (`corruptions`), ServiceAccounts, valid settings,
//! the AdmissionRequest around a Pod, re-invocations and the unselected cases.

use super::*;

pub(crate) fn corruptions() -> Vec<(&'static str, Option<Value>)> {
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
pub(crate) fn edit(target: &mut Value, pointer: &str, new: Option<Value>) {
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

pub(crate) fn service_account() -> impl Strategy<Value = Option<Value>> {
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

pub(crate) fn settings() -> impl Strategy<Value = Value> {
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

pub(crate) fn request(pod: Value) -> impl Strategy<Value = Value> {
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
pub(crate) fn arb_case() -> impl Strategy<Value = Case> {
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
                // re-invocation: the Pod as docs/behaviour.md says a first evaluation leaves it
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
pub(crate) fn arb_unselected_case() -> impl Strategy<Value = Case> {
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
