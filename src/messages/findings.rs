//! The short texts of findings: `<Kind> <namespace>/<name>: <what is wrong, where>; <fix>`.
//! They are read as `Warning: …` lines of kubectl and as PolicyReport messages, so each names
//! one problem and stays well under the 256 characters the API server keeps of a warning.

use crate::expiration::{ExpirationError, Origin};
use crate::go_int::go_quote;
use crate::hints::Hint;
use crate::names::{
    AZURE_CLIENT_ID, CLIENT_ID_ANNOTATION, INJECT_PROXY_ANNOTATION, PROXY_PORT_ANNOTATION,
    SKIP_CONTAINERS_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION, USE_LABEL,
};
use crate::problem::{
    AccountProblem, ClientIdProblem, Difference, Finding, LookupProblem, Problem, Subject,
};

use super::Rejection;

/// Host error texts can be long; a warning keeps their start.
const DETAIL_CHARS: usize = 80;

fn clip(text: &str) -> String {
    match text.char_indices().nth(DETAIL_CHARS) {
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or(text)),
        None => text.to_string(),
    }
}

/// The annotation `key` of the Pod (or template) as a path in the object.
fn pod_annotation(subject: &Subject, key: &str) -> String {
    format!("{}[\"{key}\"]", subject.path("metadata.annotations"))
}

/// A problem that would make the Pod policy reject the Pod, as a finding.
pub fn problem(subject: &Subject, problem: &Problem) -> String {
    let who = subject.short();
    let ns = &subject.namespace;
    match problem {
        Problem::Malformed(detail) => format!("{who}: {detail}; fix the manifest"),
        Problem::MissingNamespace => format!(
            "{who}: the request has no namespace, so the ServiceAccount cannot be looked up"
        ),
        Problem::ServiceAccount {
            name,
            problem: LookupProblem::NotFound(_),
        } => format!(
            "{who}: ServiceAccount {ns}/{name} does not exist; create it with the annotation \
             {CLIENT_ID_ANNOTATION}{}",
            // a workload's Pods are rejected later, by the Pod policy
            match subject.template {
                "" => "",
                _ => ", or its Pods will be rejected",
            }
        ),
        Problem::ServiceAccount {
            name,
            problem: LookupProblem::Unreadable(error),
        } => format!(
            "{who}: ServiceAccount {ns}/{name} could not be read ({}); grant the policy-server \
             get on serviceaccounts",
            clip(error)
        ),
        Problem::NoClientId {
            service_account,
            problem,
        } => {
            let sa = format!("ServiceAccount {ns}/{service_account}");
            match problem {
                ClientIdProblem::Missing => format!(
                    "{who}: {sa} has no {CLIENT_ID_ANNOTATION} annotation; annotate it with the \
                     identity's client ID"
                ),
                ClientIdProblem::Empty => format!(
                    "{who}: {sa} has an empty {CLIENT_ID_ANNOTATION} annotation; set it to the \
                     identity's client ID"
                ),
                ClientIdProblem::NearMiss(key) => format!(
                    "{who}: {sa} has \"{}\" but no {CLIENT_ID_ANNOTATION}; rename the annotation",
                    clip(key)
                ),
            }
        }
        Problem::TokenExpiration {
            service_account,
            error,
        } => {
            let place = |origin: &Origin| match origin {
                Origin::Pod => pod_annotation(subject, TOKEN_EXPIRATION_ANNOTATION),
                Origin::ServiceAccount => format!(
                    "annotation {TOKEN_EXPIRATION_ANNOTATION} of ServiceAccount \
                     {ns}/{service_account}"
                ),
            };
            match error {
                ExpirationError::Syntax(origin, _) => format!(
                    "{who}: {} is not a whole number of seconds; use an integer from 3600 to \
                     86400, e.g. \"3600\"",
                    place(origin)
                ),
                ExpirationError::OutOfRange(origin, value) => format!(
                    "{who}: {} is {value}, outside 3600 to 86400 seconds; set it within that range",
                    place(origin)
                ),
            }
        }
        Problem::ProxyOnHostNetwork => format!(
            "{who}: {} is true, so the proxy sidecar cannot be injected; remove \
             {INJECT_PROXY_ANNOTATION} or hostNetwork",
            subject.path("spec.hostNetwork")
        ),
        Problem::ProxyPort { value, .. } => format!(
            "{who}: {} is {}, not a port number; use e.g. \"8000\"",
            pod_annotation(subject, PROXY_PORT_ANNOTATION),
            clip(&go_quote(value))
        ),
    }
}

/// The opt-in label is on the workload (`place`), not on its Pod template.
pub fn misplaced_label(subject: &Subject, place: &str) -> String {
    format!(
        "{}: {USE_LABEL}: \"true\" is on {place}, so its Pods are not configured; the label must \
         be on {}",
        subject.short(),
        subject.path("metadata.labels")
    )
}

/// `findings: reject`: one message with every finding.
pub fn rejection_of(findings: &[Finding]) -> Rejection {
    let texts: Vec<&str> = findings.iter().map(|f| f.text.as_str()).collect();
    Rejection(format!("azure-workload-identity: {}", texts.join("; ")))
}

/// A hint about a Pod (or Pod template), as a warning.
pub fn hint(subject: &Subject, hint: &Hint) -> String {
    let who = subject.short();
    match hint {
        Hint::UnknownSkippedContainer(name) => format!(
            "{who}: {} names container \"{}\", which the Pod does not have; check the spelling",
            pod_annotation(subject, SKIP_CONTAINERS_ANNOTATION),
            clip(name)
        ),
        Hint::ProxyValueNotRead(value) => format!(
            "{who}: {} is \"{}\", but the proxy is injected whenever the annotation is present; \
             remove it to run without the proxy",
            pod_annotation(subject, INJECT_PROXY_ANNOTATION),
            clip(value)
        ),
        Hint::OwnClientId {
            container,
            value,
            service_account,
            client_id,
        } => format!(
            "{who}: container \"{container}\" sets AZURE_CLIENT_ID to \"{}\", not the client-id \
             \"{}\" of ServiceAccount {}/{service_account}; its own value is kept",
            clip(value),
            clip(client_id),
            subject.namespace
        ),
        Hint::NearMissAnnotation { key, meant } => format!(
            "{who}: annotation \"{}\" is not read; did you mean {meant}?",
            clip(key)
        ),
        Hint::OtherLayoutPath {
            container,
            used,
            mounted,
        } => format!(
            "{who}: container \"{container}\" refers to {used}, but the token is mounted at \
             {mounted}; read AZURE_FEDERATED_TOKEN_FILE instead"
        ),
        Hint::ProxyOnWindows => format!(
            "{who}: the proxy sidecar runs on Linux only, but {} is windows; remove {}",
            subject.path("spec.os.name"),
            INJECT_PROXY_ANNOTATION
        ),
    }
}

/// A problem of a ServiceAccount's annotations or labels, as a finding.
pub fn account_problem(subject: &Subject, problem: &AccountProblem) -> String {
    let who = subject.short();
    match problem {
        AccountProblem::NearMiss { key, meant } => format!(
            "{who}: annotation \"{}\" is not read; rename it to {meant}",
            clip(key)
        ),
        AccountProblem::EmptyClientId => format!(
            "{who}: {CLIENT_ID_ANNOTATION} is empty; set it to the client ID of the managed \
             identity or app registration"
        ),
        AccountProblem::NotGuid { key, value } => format!(
            "{who}: {key} \"{}\" is not a GUID (8-4-4-4-12 hex digits); set the ID shown by \
             Microsoft Entra ID",
            clip(value)
        ),
        AccountProblem::Expiration(ExpirationError::Syntax(..)) => format!(
            "{who}: {TOKEN_EXPIRATION_ANNOTATION} is not a whole number of seconds; use an \
             integer from 3600 to 86400, e.g. \"3600\""
        ),
        AccountProblem::Expiration(ExpirationError::OutOfRange(_, value)) => format!(
            "{who}: {TOKEN_EXPIRATION_ANNOTATION} is {value}, outside 3600 to 86400 seconds; set \
             it within that range"
        ),
        AccountProblem::OldLabel => format!(
            "{who}: the label {USE_LABEL} selects nothing since v1.0; put it on the Pod template \
             (spec.template.metadata.labels) instead"
        ),
    }
}

/// How a container that lacks the policy's env vars or mount gets them: a container added by
/// another injector after the mutation is named in skip-containers; otherwise the Pod was
/// created without the mutating policy.
fn container_fix() -> String {
    format!(
        "list it in {SKIP_CONTAINERS_ANNOTATION} or recreate the Pod with the mutating policy \
         deployed"
    )
}

/// A stored Pod keeps what it was created with; only a new Pod gets the current values.
const ROLL_OUT: &str = "restart the Pod (or roll out its workload)";

/// A difference between a Pod and what the Pod policy would make of it (verify mode).
pub fn difference(subject: &Subject, difference: &Difference) -> String {
    let who = subject.short();
    let volumes = subject.path("spec.volumes");
    match difference {
        Difference::MissingEnv {
            container,
            missing,
            planned,
        } if missing.len() == *planned => format!(
            "{who}: container \"{}\" has none of the {planned} env vars the policy injects; {}",
            clip(container),
            container_fix()
        ),
        Difference::MissingEnv {
            container, missing, ..
        } => format!(
            "{who}: container \"{}\" lacks {}; {}",
            clip(container),
            missing.join(", "),
            container_fix()
        ),
        Difference::MountMissing {
            container,
            mount_path,
        } => format!(
            "{who}: container \"{}\" does not mount the token volume at {mount_path}; {}",
            clip(container),
            container_fix()
        ),
        Difference::MountPath {
            container,
            found,
            mount_path,
        } => format!(
            "{who}: container \"{}\" mounts the token volume at {}, not {mount_path}; mount it \
             at {mount_path}",
            clip(container),
            clip(found)
        ),
        Difference::MountNotReadOnly {
            container,
            mount_path,
        } => format!(
            "{who}: container \"{}\" mounts the token volume at {mount_path} without readOnly: \
             true; set readOnly: true on that mount",
            clip(container)
        ),
        Difference::MountFields { container } => format!(
            "{who}: container \"{}\" mounts the token volume with fields the policy does not set; \
             keep only name, mountPath and readOnly: true",
            clip(container)
        ),
        Difference::VolumeMissing { volume } => format!(
            "{who}: {volumes} has no token volume {volume}; recreate the Pod with the mutating \
             policy deployed"
        ),
        Difference::VolumeWithoutToken { volume } => {
            format!("{who}: token volume {volume} projects no service-account token; {ROLL_OUT}")
        }
        Difference::VolumeField {
            volume,
            field,
            found,
            expected,
        } => {
            let found = match found {
                Some(value) => format!("\"{}\"", clip(value)),
                None => "none".to_string(),
            };
            format!(
                "{who}: token volume {volume} has {field} {found}, not \"{}\"; {ROLL_OUT}",
                clip(expected)
            )
        }
        Difference::VolumeOther { volume } => {
            format!("{who}: token volume {volume} differs from the one the policy sets; {ROLL_OUT}")
        }
        Difference::ProxyMissing { container, list } => format!(
            "{who}: {INJECT_PROXY_ANNOTATION} is set but {} has no {container}; recreate the Pod \
             with the mutating policy deployed",
            subject.path(&format!("spec.{list}"))
        ),
        Difference::Drift {
            container,
            variable,
            found,
            expected,
        } => {
            let (whose, what) = match *variable {
                AZURE_CLIENT_ID => ("the ServiceAccount's", "client-id"),
                _ => ("the current", "tenant-id"),
            };
            format!(
                "{who}: container \"{}\" has {variable} \"{}\", not {whose} \"{}\"; {ROLL_OUT} \
                 to pick up the new {what}",
                clip(container),
                clip(found),
                clip(expected)
            )
        }
    }
}
