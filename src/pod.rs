//! Read-only access to the Pod's raw JSON, with errors that name the malformed path.
//!
//! The Pod is never converted to typed structs: reading and editing `serde_json::Value` keeps
//! every field this code does not know.

use serde_json::{Map, Value};

use crate::problem::{Problem, Subject};

/// The two container lists the policy mutates, in the order it mutates them
/// (docs/behaviour.md §4.2).
/// Ephemeral containers are never touched.
pub const MUTATED_LISTS: [&str; 2] = ["initContainers", "containers"];

/// What a JSON value is, as messages say it ("a list", "an object").
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// `value[key]` if it is a string, for the edits and comparisons that skip what the reading
/// already rejected or tolerates (a list item that is not an object, a name that is not a string).
pub fn str_field<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// `obj[key]` as an optional string: absent or null is `None`, anything but a string is an error.
pub fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "{path}.{key} must be a string, found {}",
            kind_of(other)
        )),
    }
}

/// `obj[key]` as an optional object.
pub fn opt_object<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(other) => Err(format!(
            "{path}.{key} must be an object, found {}",
            kind_of(other)
        )),
    }
}

/// `obj[key]` as an optional list; absent or null is an empty list.
pub fn opt_list<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a [Value], String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(format!(
            "{path}.{key} must be a list, found {}",
            kind_of(other)
        )),
    }
}

/// How messages name an object: `metadata.name`, `generateName*` before the API server named
/// it, or `<unnamed>`.
fn display_name(name: Option<&str>, generate_name: Option<&str>) -> String {
    match (name, generate_name) {
        (Some(n), _) if !n.is_empty() => n.to_string(),
        (_, Some(g)) if !g.is_empty() => format!("{g}*"),
        _ => "<unnamed>".to_string(),
    }
}

/// The name of an object (a workload, a ServiceAccount) as messages say it; a name that is not
/// a string counts as absent.
pub fn object_name(object: &Value) -> String {
    let field = |key| {
        object
            .get("metadata")
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
    };
    display_name(field("name"), field("generateName"))
}

/// The checked view of a Pod (or of a workload's Pod template) that the planner reads.
#[derive(Debug)]
pub struct Pod<'a> {
    pub subject: Subject,
    metadata: Option<&'a Map<String, Value>>,
    annotations: Option<&'a Map<String, Value>>,
    pub spec: &'a Map<String, Value>,
    /// Init containers, then containers: the order in which they are mutated.
    pub containers: Vec<Container<'a>>,
    pub volumes: &'a [Value],
}

impl<'a> Pod<'a> {
    /// Checks the parts of a Pod the policy reads or edits, before anything else happens
    /// (upstream decodes the Pod first). `namespace` is the request's namespace, where the
    /// ServiceAccount is looked up; the Pod's own `metadata.namespace` is not trusted for it.
    pub fn read(pod: &'a Value, namespace: &str) -> Result<Pod<'a>, Box<(Subject, Problem)>> {
        let fallback = Subject {
            kind: "Pod",
            namespace: namespace.to_string(),
            name: "<unnamed>".to_string(),
            template: "",
        };
        let metadata = match pod {
            Value::Object(root) => opt_object(root, "metadata", "")
                .map_err(|e| Box::new((fallback.clone(), Problem::Malformed(trim_dot(e)))))?,
            _ => None,
        };
        let field = |key| match metadata {
            Some(meta) => opt_str(meta, key, "metadata")
                .map_err(|e| Box::new((fallback.clone(), Problem::Malformed(e)))),
            None => Ok(None),
        };
        let (name, generate_name) = (field("name")?, field("generateName")?);
        field("namespace")?;
        let subject = Subject {
            name: display_name(name, generate_name),
            ..fallback
        };
        match Pod::read_as(pod, subject.clone()) {
            Ok(pod) => Ok(pod),
            Err(problem) => Err(Box::new((subject, problem))),
        }
    }

    /// Checks a Pod template (`{metadata, spec}`) of the workload `subject`; the paths in a
    /// problem are paths in the workload.
    pub fn read_as(pod: &'a Value, subject: Subject) -> Result<Pod<'a>, Problem> {
        let base = subject.template;
        let malformed = |detail: String| Problem::Malformed(detail);
        let root = pod.as_object().ok_or_else(|| {
            malformed(match base.trim_end_matches('.') {
                "" => format!("the Pod is {}", kind_of(pod)),
                path => format!("{path} must be an object, found {}", kind_of(pod)),
            })
        })?;
        let at = |path: &str| format!("{base}{path}");
        let metadata = opt_object(root, "metadata", base.trim_end_matches('.'))
            .map_err(|e| malformed(trim_dot(e)))?;
        if let Some(meta) = metadata {
            for key in ["name", "generateName"] {
                opt_str(meta, key, &at("metadata")).map_err(malformed)?;
            }
        }
        let annotations = match metadata {
            Some(meta) => opt_object(meta, "annotations", &at("metadata")).map_err(malformed)?,
            None => None,
        };
        let spec = match root.get("spec") {
            Some(Value::Object(spec)) => spec,
            None | Some(Value::Null) => {
                return Err(malformed(format!("{} is missing", at("spec"))));
            }
            Some(other) => {
                return Err(malformed(format!(
                    "{} must be an object, found {}",
                    at("spec"),
                    kind_of(other)
                )));
            }
        };
        for (key, what) in [("labels", "label"), ("annotations", "annotation")] {
            let map = match metadata {
                Some(meta) => opt_object(meta, key, &at("metadata")).map_err(malformed)?,
                None => None,
            };
            // null reads as "" (as Go decodes it into map[string]string)
            if let Some((name, value)) = map
                .into_iter()
                .flatten()
                .find(|(_, v)| !(v.is_string() || v.is_null()))
            {
                return Err(malformed(format!(
                    "{what} \"{name}\" must be a string, found {}",
                    kind_of(value)
                )));
            }
        }
        let mut containers = Vec::new();
        for list in MUTATED_LISTS {
            let items = opt_list(spec, list, &at("spec")).map_err(malformed)?;
            for (i, item) in items.iter().enumerate() {
                containers.push(
                    Container::read(item, list, &at(&format!("spec.{list}[{i}]")))
                        .map_err(malformed)?,
                );
            }
        }
        let volumes = opt_list(spec, "volumes", &at("spec")).map_err(malformed)?;
        if let Some((i, v)) = volumes.iter().enumerate().find(|(_, v)| !v.is_object()) {
            return Err(malformed(format!(
                "{} must be an object, found {}",
                at(&format!("spec.volumes[{i}]")),
                kind_of(v)
            )));
        }
        Ok(Pod {
            subject,
            metadata,
            annotations,
            spec,
            containers,
            volumes,
        })
    }

    /// The input of the volume-name hash (docs/behaviour.md §1.5): `metadata.name`, or, when it
    /// is empty, `metadata.generateName + " (prefix)"`.
    pub fn hash_input(&self) -> String {
        let field = |key| {
            self.metadata
                .and_then(|m| m.get(key))
                .and_then(Value::as_str)
                .unwrap_or("")
        };
        match field("name") {
            "" => format!("{} (prefix)", field("generateName")),
            name => name.to_string(),
        }
    }

    /// A Pod annotation (every annotation value was checked to be a string or null; null reads
    /// as "", as Go decodes it).
    pub fn annotation(&self, key: &str) -> Option<&'a str> {
        match self.annotations.and_then(|a| a.get(key)) {
            Some(Value::String(s)) => Some(s),
            Some(_) => Some(""),
            None => None,
        }
    }

    pub fn has_annotation(&self, key: &str) -> bool {
        self.annotations.is_some_and(|a| a.contains_key(key))
    }

    /// `spec.serviceAccountName`, or `default` when it is empty or absent.
    pub fn service_account_name(&self) -> Result<&'a str, Problem> {
        let name = opt_str(self.spec, "serviceAccountName", &self.subject.path("spec"))
            .map_err(Problem::Malformed)?;
        Ok(match name {
            Some(n) if !n.is_empty() => n,
            _ => "default",
        })
    }

    /// The keys of the Pod's annotations.
    pub fn annotation_keys(&self) -> impl Iterator<Item = &'a str> {
        self.annotations
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
    }

    /// `spec.os.name`, when it is a string.
    pub fn os_name(&self) -> Option<&'a str> {
        self.spec.get("os")?.get("name")?.as_str()
    }

    pub fn host_network(&self) -> bool {
        self.spec.get("hostNetwork") == Some(&Value::Bool(true))
    }
}

fn trim_dot(s: String) -> String {
    s.strip_prefix('.').map(str::to_string).unwrap_or(s)
}

/// A checked container.
#[derive(Debug)]
pub struct Container<'a> {
    /// `initContainers` or `containers`.
    pub list: &'static str,
    pub name: &'a str,
    pub env: &'a [Value],
    #[allow(dead_code)] // read by the verify role
    pub volume_mounts: &'a [Value],
    /// The whole container, for the checks that read more than the policy edits.
    pub object: &'a Map<String, Value>,
}

impl<'a> Container<'a> {
    fn read(item: &'a Value, list: &'static str, path: &str) -> Result<Container<'a>, String> {
        let obj = item
            .as_object()
            .ok_or_else(|| format!("{path} must be an object, found {}", kind_of(item)))?;
        let name = opt_str(obj, "name", path)?.ok_or_else(|| format!("{path} has no name"))?;
        let env = opt_list(obj, "env", path)?;
        for (i, entry) in env.iter().enumerate() {
            let entry_path = format!("{path}.env[{i}]");
            let entry = entry.as_object().ok_or_else(|| {
                format!("{entry_path} must be an object, found {}", kind_of(entry))
            })?;
            opt_str(entry, "name", &entry_path)?
                .ok_or_else(|| format!("{entry_path} has no name"))?;
        }
        let volume_mounts = opt_list(obj, "volumeMounts", path)?;
        for (i, mount) in volume_mounts.iter().enumerate() {
            let mount_path = format!("{path}.volumeMounts[{i}]");
            let mount = mount.as_object().ok_or_else(|| {
                format!("{mount_path} must be an object, found {}", kind_of(mount))
            })?;
            opt_str(mount, "name", &mount_path)?;
            opt_str(mount, "mountPath", &mount_path)?;
        }
        Ok(Container {
            list,
            name,
            env,
            volume_mounts,
            object: obj,
        })
    }

    /// The `value` of the container's env entry `name`, when it is a string.
    pub fn env_value(&self, name: &str) -> Option<&'a str> {
        self.env
            .iter()
            .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
            .and_then(|e| e.get("value"))
            .and_then(Value::as_str)
    }

    /// Whether the container itself gives `name` a usable value: a non-empty `value`, or a
    /// `valueFrom`.
    pub fn sets_env(&self, name: &str) -> bool {
        self.env.iter().any(|e| {
            e.get("name").and_then(Value::as_str) == Some(name)
                && (e
                    .get("value")
                    .and_then(Value::as_str)
                    .is_some_and(|v| !v.is_empty())
                    || e.get("valueFrom").is_some_and(|v| !v.is_null()))
        })
    }
}
