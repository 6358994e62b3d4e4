//! Every text a user sees, in one place; this module only formats. Each text says what is
//! wrong, where (namespace, object, ServiceAccount, container, annotation or path) and how to
//! fix it.
//!
//! A Pod that cannot be configured is rejected with the long text of `rejection`. Findings
//! (`findings`) are short, one problem each, because they also travel as admission warnings,
//! which the API server truncates past 256 characters.

mod findings;

pub use findings::*;

use crate::expiration::{ExpirationError, Origin};
use crate::go_int::go_quote;
use crate::names::{
    CLIENT_ID_ANNOTATION, INJECT_PROXY_ANNOTATION, PROXY_PORT_ANNOTATION,
    TOKEN_EXPIRATION_ANNOTATION,
};
use crate::problem::{ClientIdProblem, LookupProblem, Problem, Subject};

/// A decision to reject the request, with the message the user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection(pub String);

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn unreadable_request(error: &str) -> Rejection {
    Rejection(format!(
        "azure-workload-identity: the admission request could not be read ({error}); \
         this is a bug in the caller, please report it"
    ))
}

pub fn invalid_settings(error: &str) -> Rejection {
    Rejection(format!(
        "azure-workload-identity: the policy settings are invalid: {error}. Fix the settings of \
         the policy (kwctl run --settings-json, or spec.settings of the ClusterAdmissionPolicy)"
    ))
}

/// The message that rejects `subject` for `problem`.
pub fn rejection(subject: &Subject, problem: &Problem) -> Rejection {
    let who = subject.described();
    let ns = &subject.namespace;
    Rejection(match problem {
        Problem::Malformed(detail) => format!(
            "azure-workload-identity: {who} is malformed: {detail}. Fix the {} manifest",
            subject.kind
        ),
        Problem::MissingNamespace => format!(
            "azure-workload-identity: the admission request for {} \"{}\" has no namespace, so \
             its ServiceAccount cannot be looked up; create the {} in a namespace",
            subject.kind, subject.name, subject.kind
        ),
        Problem::ServiceAccount { name, problem } => {
            let create = format!(
                "kubectl create serviceaccount -n {ns} {name} && kubectl annotate serviceaccount \
                 -n {ns} {name} {CLIENT_ID_ANNOTATION}=<client-id>"
            );
            match problem {
                LookupProblem::NotFound(error) => format!(
                    "azure-workload-identity: ServiceAccount \"{ns}/{name}\" used by {who} was not \
                     found ({error}). Create it and annotate it with the identity's client ID \
                     ({create}), or set spec.serviceAccountName to an existing ServiceAccount"
                ),
                LookupProblem::Unreadable(error) => format!(
                    "azure-workload-identity: ServiceAccount \"{ns}/{name}\" used by {who} could \
                     not be read ({error}). If the policy-server is not allowed to read it, grant \
                     its ServiceAccount \"get\" on serviceaccounts (see the README, RBAC); if it \
                     does not exist, create it ({create})"
                ),
            }
        }
        Problem::NoClientId {
            service_account,
            problem,
        } => {
            let what = match problem {
                ClientIdProblem::Missing => format!("has no \"{CLIENT_ID_ANNOTATION}\" annotation"),
                ClientIdProblem::Empty => {
                    format!("has an empty \"{CLIENT_ID_ANNOTATION}\" annotation")
                }
                ClientIdProblem::NearMiss(key) => format!(
                    "has no \"{CLIENT_ID_ANNOTATION}\" annotation, but has \"{key}\", which looks \
                     like a misspelling of it"
                ),
            };
            format!(
                "azure-workload-identity: ServiceAccount \"{ns}/{service_account}\" used by {who} \
                 {what}, so AZURE_CLIENT_ID cannot be injected. Annotate the ServiceAccount with \
                 the client ID of the managed identity or app registration: kubectl annotate \
                 serviceaccount -n {ns} {service_account} {CLIENT_ID_ANNOTATION}=<client-id>. \
                 Alternatively set AZURE_CLIENT_ID in the env of every container of the Pod"
            )
        }
        Problem::TokenExpiration {
            service_account,
            error,
        } => {
            let place = |origin: &Origin| match origin {
                Origin::ServiceAccount => format!(
                    "annotation \"{TOKEN_EXPIRATION_ANNOTATION}\" of ServiceAccount \
                     \"{ns}/{service_account}\""
                ),
                Origin::Pod => format!("annotation \"{TOKEN_EXPIRATION_ANNOTATION}\" of {who}"),
            };
            match error {
                ExpirationError::Syntax(origin, upstream) => format!(
                    "azure-workload-identity: {} is not a whole number of seconds ({upstream}). \
                     Set it to an integer between 3600 and 86400 without a unit, e.g. \"3600\", \
                     or remove it to use 3600",
                    place(origin)
                ),
                ExpirationError::OutOfRange(origin, value) => format!(
                    "azure-workload-identity: {}: token expiration {value} not valid. Expected \
                     value to be between 3600 and 86400 (seconds); set it within that range or \
                     remove it to use 3600",
                    place(origin)
                ),
            }
        }
        Problem::ProxyOnHostNetwork => format!(
            "azure-workload-identity: {who}: hostNetwork is set to true, cannot inject proxy \
             sidecar (its init container would rewrite the node's iptables). Remove the \
             annotation \"{INJECT_PROXY_ANNOTATION}\" or set spec.hostNetwork to false"
        ),
        Problem::ProxyPort { value, error } => format!(
            "azure-workload-identity: {who}: annotation \"{PROXY_PORT_ANNOTATION}\" has the value \
             {}: failed to parse proxy sidecar port: {error}. Set it to a port number such as \
             \"8000\", or remove it to use 8000",
            go_quote(value)
        ),
    })
}
