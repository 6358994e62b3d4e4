//! Structured Pods through `arbitrary`: the fuzzer's bytes choose a Pod (names, containers, env,
//! mounts, volumes, every annotation of docs/behaviour.md §2, unknown fields, one optional type
//! confusion), a ServiceAccount and valid settings, the same space as the proptest generators of
//! the property tests (`tests/integration/properties/`) but steered by coverage. Each case must match the model of
//! `tests/common/oracle.rs` exactly (`check_case`), including losslessness, idempotence,
//! determinism and "unselected ⇒ no lookup".
#![no_main]

#[path = "../../tests/common/harness.rs"]
mod harness;
#[path = "../../tests/common/oracle.rs"]
mod oracle;

use arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

fn pick<'a, T: Clone>(u: &mut Unstructured<'a>, items: &[T]) -> Result<T> {
    u.choose(items).cloned()
}

/// A short string: usually from `pool`, sometimes arbitrary.
fn text(u: &mut Unstructured, pool: &[&str]) -> Result<String> {
    if u.ratio(1, 5)? {
        let len = u.int_in_range(0..=8)?;
        let mut s = String::new();
        for _ in 0..len {
            s.push(u.arbitrary::<char>()?);
        }
        Ok(s)
    } else {
        pick(u, pool).map(str::to_string)
    }
}

fn any_json(u: &mut Unstructured, depth: u32) -> Result<Value> {
    let max = if depth == 0 { 5 } else { 7 };
    Ok(match u.int_in_range(0..=max)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<i64>()?),
        3 => Value::from(u.arbitrary::<u64>()?),
        4 => Value::from(f64::from(u.arbitrary::<i16>()?) / 4.0),
        5 => Value::from(text(u, &["", "x", "true"])?),
        6 => {
            let n = u.int_in_range(0..=3)?;
            Value::Array(
                (0..n)
                    .map(|_| any_json(u, depth - 1))
                    .collect::<Result<_>>()?,
            )
        }
        _ => {
            let n = u.int_in_range(0..=3)?;
            let mut m = Map::new();
            for _ in 0..n {
                m.insert(text(u, &["a", "b", "name"])?, any_json(u, depth - 1)?);
            }
            Value::Object(m)
        }
    })
}

fn unknown(u: &mut Unstructured, obj: &mut Map<String, Value>) -> Result<()> {
    for _ in 0..u.int_in_range(0..=2)? {
        let key = format!("zz{}", text(u, &["Future", "x", ""])?);
        obj.insert(key, any_json(u, 3)?);
    }
    Ok(())
}

/// Absent, null or a list of `item`s.
fn list(
    u: &mut Unstructured,
    obj: &mut Map<String, Value>,
    key: &str,
    max: u32,
    item: fn(&mut Unstructured) -> Result<Value>,
) -> Result<()> {
    match u.int_in_range(0..=7)? {
        0 => {}
        1 => {
            obj.insert(key.to_string(), Value::Null);
        }
        _ => {
            let n = u.int_in_range(0..=max)?;
            let items = (0..n).map(|_| item(u)).collect::<Result<_>>()?;
            obj.insert(key.to_string(), Value::Array(items));
        }
    }
    Ok(())
}

const NAMES: &[&str] = &[
    "app",
    "sidecar",
    "init",
    "App",
    "",
    "web",
    "azwi-proxy",
    "azwi-proxy-init",
];
const ENV_NAMES: &[&str] = &[
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "AZURE_KUBERNETES_TOKEN_PROXY",
    "AZURE_KUBERNETES_SNI_NAME",
    "AZURE_KUBERNETES_CA_FILE",
    "AZURE_KUBERNETES_CA_DATA",
    "LOG_LEVEL",
];

fn volume_name(u: &mut Unstructured) -> Result<String> {
    let mut pool: Vec<&str> = oracle::KNOWN_VOLUME_NAMES.iter().map(|(_, n)| *n).collect();
    pool.extend([
        "azure-workload-identity-reserved-0123456789",
        "azure-identity-token",
        "config",
    ]);
    text(u, &pool)
}

fn env_entry(u: &mut Unstructured) -> Result<Value> {
    let mut e = Map::new();
    e.insert("name".to_string(), Value::from(text(u, ENV_NAMES)?));
    match u.int_in_range(0..=6)? {
        0 => {
            e.insert("value".to_string(), Value::from(text(u, &["x", "id"])?));
        }
        1 => {
            e.insert("value".to_string(), json!(""));
        }
        2 => {
            e.insert(
                "valueFrom".to_string(),
                json!({"secretKeyRef": {"name": "s", "key": "k"}}),
            );
        }
        3 => {
            e.insert("value".to_string(), Value::Null);
        }
        4 => {
            e.insert("valueFrom".to_string(), Value::Null);
        }
        5 => {
            e.insert("valueFrom".to_string(), json!({}));
        }
        _ => {}
    }
    unknown(u, &mut e)?;
    Ok(Value::Object(e))
}

fn mount(u: &mut Unstructured) -> Result<Value> {
    let mut m = Map::new();
    m.insert("name".to_string(), Value::from(volume_name(u)?));
    let paths = [oracle::MOUNT_PATH, oracle::LEGACY_MOUNT_PATH, "/config"];
    m.insert("mountPath".to_string(), Value::from(text(u, &paths)?));
    if u.arbitrary()? {
        m.insert("readOnly".to_string(), Value::Bool(u.arbitrary()?));
    }
    unknown(u, &mut m)?;
    Ok(Value::Object(m))
}

fn volume(u: &mut Unstructured) -> Result<Value> {
    let mut v = Map::new();
    v.insert("name".to_string(), Value::from(volume_name(u)?));
    match u.int_in_range(0..=2)? {
        0 => {
            v.insert("emptyDir".to_string(), json!({}));
        }
        1 => {
            let path = pick(
                u,
                &[
                    "token/azure-identity-token",
                    "azure-identity-token",
                    "token",
                ],
            )?;
            v.insert(
                "projected".to_string(),
                json!({"sources": [{"serviceAccountToken": {"path": path, "expirationSeconds": 3600}}]}),
            );
        }
        _ => {
            v.insert("configMap".to_string(), json!({"name": "config"}));
        }
    }
    unknown(u, &mut v)?;
    Ok(Value::Object(v))
}

fn container(u: &mut Unstructured) -> Result<Value> {
    let mut c = Map::new();
    c.insert("name".to_string(), Value::from(text(u, NAMES)?));
    c.insert("image".to_string(), json!("registry.example/app:1"));
    list(u, &mut c, "env", 4, env_entry)?;
    list(u, &mut c, "volumeMounts", 3, mount)?;
    unknown(u, &mut c)?;
    Ok(Value::Object(c))
}

fn annotations(u: &mut Unstructured) -> Result<Value> {
    let mut a = Map::new();
    let expirations = [
        "",
        "3600",
        "86400",
        "7200",
        "3599",
        "86401",
        "1h",
        "+4000",
        "-1",
        "99999999999999999999",
    ];
    let ports = ["8000", "", "abc", "-1", "0", "65536", "2147483648", "+80"];
    let flags = ["true", "TRUE", "false", ""];
    let mut maybe = |u: &mut Unstructured, key: &str, pool: &[&str]| -> Result<()> {
        if u.arbitrary()? {
            a.insert(key.to_string(), Value::from(text(u, pool)?));
        }
        Ok(())
    };
    maybe(u, oracle::EXPIRATION_KEY, &expirations)?;
    maybe(
        u,
        oracle::SKIP_KEY,
        &[
            "app",
            "app;sidecar",
            " init ; azwi-proxy ;",
            "azwi-proxy;azwi-proxy-init",
            "app,web",
        ],
    )?;
    maybe(u, oracle::INJECT_PROXY_KEY, &flags)?;
    maybe(u, oracle::PROXY_PORT_KEY, &ports)?;
    maybe(u, "azure.workload.identity/use-mybinding", &flags)?;
    maybe(u, "example.com/owner", &["team"])?;
    Ok(Value::Object(a))
}

fn pod(u: &mut Unstructured) -> Result<Value> {
    let mut meta = Map::new();
    if u.arbitrary()? {
        meta.insert(
            "name".to_string(),
            Value::from(text(u, &["web", "pod", "workload-app", ""])?),
        );
    }
    if u.arbitrary()? {
        meta.insert(
            "generateName".to_string(),
            Value::from(text(u, &["web-7d4b9c5f6-", "workload-app-", ""])?),
        );
    }
    if u.arbitrary()? {
        meta.insert(
            "namespace".to_string(),
            Value::from(text(u, &["default", "", "other"])?),
        );
    }
    let mut labels = Map::new();
    if u.ratio(7, 8)? {
        labels.insert(
            oracle::USE_LABEL.to_string(),
            Value::from(text(u, &["true", "true", "true", "True", "false"])?),
        );
    }
    meta.insert("labels".to_string(), Value::Object(labels));
    if u.ratio(7, 8)? {
        meta.insert("annotations".to_string(), annotations(u)?);
    }
    unknown(u, &mut meta)?;

    let mut spec = Map::new();
    if u.arbitrary()? {
        spec.insert(
            "serviceAccountName".to_string(),
            Value::from(text(u, &["workload-sa", "", "default"])?),
        );
    }
    if u.arbitrary()? {
        spec.insert("hostNetwork".to_string(), Value::Bool(u.arbitrary()?));
    }
    list(u, &mut spec, "initContainers", 2, container)?;
    list(u, &mut spec, "containers", 3, container)?;
    if u.ratio(1, 5)? {
        spec.insert(
            "ephemeralContainers".to_string(),
            json!([{"name": "debug", "image": "busybox"}]),
        );
    }
    list(u, &mut spec, "volumes", 3, volume)?;
    unknown(u, &mut spec)?;

    let mut pod = Map::new();
    pod.insert("apiVersion".to_string(), json!("v1"));
    pod.insert("kind".to_string(), json!("Pod"));
    pod.insert("metadata".to_string(), Value::Object(meta));
    pod.insert("spec".to_string(), Value::Object(spec));
    unknown(u, &mut pod)?;
    let mut pod = Value::Object(pod);

    // one type confusion at a path the policy reads
    if u.ratio(1, 4)? {
        let pointers = [
            "",
            "/spec",
            "/spec/containers",
            "/spec/initContainers",
            "/spec/containers/0",
            "/spec/containers/0/name",
            "/spec/containers/0/env",
            "/spec/containers/0/env/0",
            "/spec/containers/0/env/0/name",
            "/spec/containers/0/volumeMounts",
            "/spec/containers/0/volumeMounts/0",
            "/spec/containers/0/volumeMounts/0/mountPath",
            "/spec/volumes",
            "/spec/volumes/0",
            "/spec/serviceAccountName",
            "/metadata",
            "/metadata/name",
            "/metadata/namespace",
            "/metadata/annotations",
            "/metadata/annotations/azure.workload.identity~1skip-containers",
            "/metadata/annotations/azure.workload.identity~1proxy-sidecar-port",
            "/metadata/labels",
            "/metadata/labels/azure.workload.identity~1use",
        ];
        let pointer = pick(u, &pointers)?;
        let value = any_json(u, 1)?;
        if let Some(slot) = pod.pointer_mut(pointer) {
            *slot = value;
        }
    }
    Ok(pod)
}

fn service_account(u: &mut Unstructured) -> Result<Option<Value>> {
    if u.ratio(1, 10)? {
        return Ok(None);
    }
    let mut a = Map::new();
    match u.int_in_range(0..=4)? {
        0 => {}
        1 => {
            a.insert(oracle::CLIENT_ID_KEY.to_string(), json!(""));
        }
        2 => {
            a.insert("azure.workload.identity/client_id".to_string(), json!("x"));
        }
        _ => {
            a.insert(
                oracle::CLIENT_ID_KEY.to_string(),
                Value::from(text(u, &["5b2d8c1e", " x "])?),
            );
        }
    }
    if u.arbitrary()? {
        a.insert(
            oracle::TENANT_ID_KEY.to_string(),
            Value::from(text(u, &["", "c0ffee00"])?),
        );
    }
    if u.ratio(1, 3)? {
        a.insert(
            oracle::EXPIRATION_KEY.to_string(),
            Value::from(text(u, &["7200", "", "1h", "100"])?),
        );
    }
    Ok(Some(Value::Object(a)))
}

fn settings(u: &mut Unstructured) -> Result<Value> {
    let mut s = Map::new();
    s.insert(
        "defaultTenantId".to_string(),
        Value::from(pick(u, &["d3fa017e", "  padded  "])?),
    );
    if u.arbitrary()? {
        s.insert(
            "tokenLayout".to_string(),
            Value::from(pick(u, &["v1.6", "v1.5"])?),
        );
    }
    if u.arbitrary()? {
        s.insert("useNativeSidecar".to_string(), Value::Bool(u.arbitrary()?));
    }
    if u.ratio(1, 4)? {
        s.insert(
            "azureEnvironment".to_string(),
            Value::from(pick(u, &["AzureChinaCloud", "azureusgovernment"])?),
        );
    }
    if u.ratio(1, 5)? {
        s.insert("audience".to_string(), json!("api://custom"));
    }
    if u.ratio(1, 5)? {
        s.insert("proxyImage".to_string(), json!("registry.example/proxy:1"));
    }
    if u.ratio(1, 5)? {
        s.insert(
            "proxyLogLevel".to_string(),
            Value::from(pick(u, &["debug", "all"])?),
        );
    }
    if u.arbitrary()? {
        let mut c = Map::new();
        c.insert("annotationSuffix".to_string(), json!("mybinding"));
        c.insert("audience".to_string(), json!("api://identity-binding"));
        if u.arbitrary()? {
            c.insert(
                "tokenProxy".to_string(),
                Value::from(pick(u, &["https://10.0.0.1:8443", ""])?),
            );
        }
        if u.arbitrary()? {
            c.insert("sniName".to_string(), json!("proxy.example"));
        }
        match u.int_in_range(0..=3)? {
            1 => {
                c.insert("caData".to_string(), json!("-----BEGIN CERTIFICATE-----"));
            }
            2 => {
                c.insert("caConfigMapName".to_string(), json!("ca"));
            }
            3 => {
                c.insert(
                    "caClusterTrustBundleSignerName".to_string(),
                    json!("example.com/s"),
                );
                if u.arbitrary()? {
                    c.insert(
                        "caClusterTrustBundleLabelSelector".to_string(),
                        json!({"matchLabels": {"a": "b"}}),
                    );
                }
            }
            _ => {}
        }
        s.insert("customTokenEndpoint".to_string(), Value::Object(c));
    }
    Ok(Value::Object(s))
}

fn case(u: &mut Unstructured) -> Result<(Value, Value, Option<Value>)> {
    let pod = pod(u)?;
    let kind = if u.ratio(1, 10)? {
        json!({"group": "apps", "version": "v1", "kind": "Deployment"})
    } else {
        json!({"group": "", "version": "v1", "kind": "Pod"})
    };
    let operation = if u.ratio(1, 10)? { "UPDATE" } else { "CREATE" };
    let namespace = pick(u, &["default", "default", "default", "team-a", ""])?;
    let request = json!({
        "uid": "0f0e0d0c-0b0a-4909-8807-060504030201",
        "kind": kind,
        "namespace": namespace,
        "operation": operation,
        "object": pod,
    });
    Ok((request, settings(u)?, service_account(u)?))
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok((mut request, settings, sa)) = case(&mut u) else {
        return;
    };
    let sa = sa.as_ref().map(oracle::service_account);
    // sometimes a re-invocation: the Pod as the model says a first evaluation leaves it
    if u.ratio(1, 4).unwrap_or(false)
        && let (oracle::Expected::Pod { pod, .. }, _) =
            oracle::model(&request, &settings, sa.as_ref())
        && let Some(object) = request.get_mut("object")
    {
        *object = pod;
    }
    if let Err(e) = oracle::check_case(&request, &settings, sa.as_ref()) {
        panic!("{e}\nrequest: {request}\nsettings: {settings}\nservice account: {sa:?}");
    }
});
