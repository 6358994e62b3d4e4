//! What can be wrong, as data: the reading, lookup and planning code return these, and
//! `messages` turns them into text. Keeping them apart lets every role (Pod mutation, Pod
//! verification, workload checks) report the same problem in the form that fits it.

use crate::expiration::{ExpirationError, Origin};

/// The object a problem is about: a Pod, or the Pod template of a workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// `Pod`, `Deployment`, `CronJob`, …
    pub kind: &'static str,
    pub namespace: String,
    /// `metadata.name`, `generateName*` before the API server named the object, or
    /// `<unnamed>`.
    pub name: String,
    /// Where the Pod template sits in the object, with a trailing dot (`spec.template.`);
    /// empty for a Pod.
    pub template: &'static str,
}

impl Subject {
    /// `kind "namespace/name"`, as every message names the object; a workload's Pod template
    /// is named by its path.
    pub fn described(&self) -> String {
        let template = self.template.trim_end_matches('.');
        match template {
            "" => format!("{} \"{}/{}\"", self.kind, self.namespace, self.name),
            path => format!(
                "{} \"{}/{}\" (Pod template {path})",
                self.kind, self.namespace, self.name
            ),
        }
    }

    /// `kind namespace/name`, the short form used in warnings.
    pub fn short(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }

    /// A path inside the Pod (`spec.containers[0]`) as a path inside the object.
    pub fn path(&self, in_pod: &str) -> String {
        format!("{}{in_pod}", self.template)
    }
}

/// Why the ServiceAccount has no usable client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientIdProblem {
    Missing,
    Empty,
    /// The ServiceAccount has a key that looks like a misspelling of the annotation.
    NearMiss(String),
}

/// Why the ServiceAccount could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupProblem {
    /// The host says it does not exist; the host's text.
    NotFound(String),
    /// Any other failure (RBAC, API server, an answer that is not a ServiceAccount).
    Unreadable(String),
}

/// A reason the policy cannot configure a Pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The Pod is malformed where the policy reads it; the detail names the path in the Pod.
    Malformed(String),
    /// The request has no namespace, so the ServiceAccount cannot be looked up.
    MissingNamespace,
    ServiceAccount {
        name: String,
        problem: LookupProblem,
    },
    NoClientId {
        service_account: String,
        problem: ClientIdProblem,
    },
    TokenExpiration {
        service_account: String,
        error: ExpirationError,
    },
    ProxyOnHostNetwork,
    ProxyPort {
        value: String,
        error: String,
    },
}

impl Problem {
    /// Whether the ServiceAccount's answer caused it, so that a fresh read may remove it.
    pub fn caused_by_service_account(&self) -> bool {
        match self {
            Problem::ServiceAccount { problem, .. } => {
                matches!(problem, LookupProblem::NotFound(_))
            }
            Problem::NoClientId { .. } => true,
            Problem::TokenExpiration { error, .. } => matches!(
                error,
                ExpirationError::Syntax(Origin::ServiceAccount, _)
                    | ExpirationError::OutOfRange(Origin::ServiceAccount, _)
            ),
            _ => false,
        }
    }
}

/// At least one problem, in the order upstream checks them: the first is the one a Pod is
/// rejected for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems {
    first: Problem,
    rest: Vec<Problem>,
}

impl Problems {
    pub fn one(problem: Problem) -> Self {
        Problems {
            first: problem,
            rest: Vec::new(),
        }
    }

    /// `None` when there is no problem.
    pub fn from_vec(problems: Vec<Problem>) -> Option<Self> {
        let mut problems = problems.into_iter();
        let first = problems.next()?;
        Some(Problems {
            first,
            rest: problems.collect(),
        })
    }

    pub fn first(&self) -> &Problem {
        &self.first
    }

    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        std::iter::once(&self.first).chain(&self.rest)
    }
}

/// One thing a check found, as the text the user reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub text: String,
    /// Whether `findings: reject` rejects the object for it. Problems that are allowed but
    /// almost surely a mistake, and a ServiceAccount that may still be created, only warn.
    pub blocks: bool,
}

/// Something wrong with a ServiceAccount's Azure Workload Identity annotations or labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountProblem {
    /// An annotation key that looks like a misspelling of `meant`.
    NearMiss {
        key: String,
        meant: &'static str,
    },
    EmptyClientId,
    /// The client-id or tenant-id annotation `key` is not a GUID.
    NotGuid {
        key: &'static str,
        value: String,
    },
    Expiration(ExpirationError),
    /// The ServiceAccount label that selected Pods before v1.0.
    OldLabel,
}

/// How a Pod differs from what the Pod policy would make of it: what verify mode reports. Each
/// is one edit the mutation would make (or, for `Drift`, a value it would keep but that is no
/// longer the one it injects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// The container lacks these env vars of the `planned` ones the policy injects.
    MissingEnv {
        container: String,
        missing: Vec<String>,
        planned: usize,
    },
    /// The container does not mount the token volume.
    MountMissing {
        container: String,
        mount_path: &'static str,
    },
    /// The container mounts the token volume elsewhere.
    MountPath {
        container: String,
        found: String,
        mount_path: &'static str,
    },
    MountNotReadOnly {
        container: String,
        mount_path: &'static str,
    },
    /// The mount has fields the policy does not set (`subPath`, …).
    MountFields {
        container: String,
    },
    VolumeMissing {
        volume: String,
    },
    /// The volume has the token volume's name but projects no service-account token.
    VolumeWithoutToken {
        volume: String,
    },
    /// A field of the projected token (`audience`, `path`, `expirationSeconds`) differs;
    /// `found` is `None` when the field is absent.
    VolumeField {
        volume: String,
        field: &'static str,
        found: Option<String>,
        expected: String,
    },
    /// The token is projected as planned, but the volume differs otherwise (CA source, …).
    VolumeOther {
        volume: String,
    },
    /// The proxy is requested but this proxy container is not in `list`.
    ProxyMissing {
        container: String,
        list: &'static str,
    },
    /// The container's own value of `variable` (AZURE_CLIENT_ID or AZURE_TENANT_ID) is not the
    /// one the policy would inject now.
    Drift {
        container: String,
        variable: &'static str,
        found: String,
        expected: String,
    },
}
