//! Every text a user sees when a Pod is rejected, in one place. Each says what is wrong, where
//! (namespace, Pod, ServiceAccount, container or annotation) and how to fix it.

use crate::expiration::{ExpirationError, Origin};
use crate::names::{CLIENT_ID_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION};
use crate::pod::PodRef;

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

pub fn missing_namespace(pod_name: &str) -> Rejection {
    Rejection(format!(
        "azure-workload-identity: the admission request for Pod \"{pod_name}\" has no namespace, \
         so its ServiceAccount cannot be looked up; create the Pod in a namespace"
    ))
}

pub fn malformed(pod: &PodRef, detail: String) -> Rejection {
    Rejection(format!(
        "azure-workload-identity: Pod \"{pod}\" is malformed: {detail}. Fix the Pod manifest"
    ))
}

/// The text of Kubewarden's host when the object does not exist.
const HOST_NOT_FOUND: &str = "Cannot find v1/ServiceAccount named";

pub fn service_account_unavailable(pod: &PodRef, sa_name: &str, error: &str) -> Rejection {
    let ns = &pod.namespace;
    let create = format!(
        "kubectl create serviceaccount -n {ns} {sa_name} && kubectl annotate serviceaccount -n \
         {ns} {sa_name} {CLIENT_ID_ANNOTATION}=<client-id>"
    );
    Rejection(if error.contains(HOST_NOT_FOUND) {
        format!(
            "azure-workload-identity: ServiceAccount \"{ns}/{sa_name}\" used by Pod \"{pod}\" was \
             not found ({error}). Create it and annotate it with the identity's client ID \
             ({create}), or set spec.serviceAccountName to an existing ServiceAccount"
        )
    } else {
        format!(
            "azure-workload-identity: ServiceAccount \"{ns}/{sa_name}\" used by Pod \"{pod}\" could \
             not be read ({error}). If the policy-server is not allowed to read it, grant its \
             ServiceAccount \"get\" on serviceaccounts (see the README, RBAC); if it does not \
             exist, create it ({create})"
        )
    })
}

/// Why the ServiceAccount has no usable client id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientIdProblem {
    Missing,
    Empty,
    /// The ServiceAccount has a key that looks like a misspelling of the annotation.
    NearMiss(String),
}

pub fn missing_client_id(pod: &PodRef, sa_name: &str, problem: &ClientIdProblem) -> Rejection {
    let ns = &pod.namespace;
    let what = match problem {
        ClientIdProblem::Missing => format!("has no \"{CLIENT_ID_ANNOTATION}\" annotation"),
        ClientIdProblem::Empty => format!("has an empty \"{CLIENT_ID_ANNOTATION}\" annotation"),
        ClientIdProblem::NearMiss(key) => format!(
            "has no \"{CLIENT_ID_ANNOTATION}\" annotation, but has \"{key}\", which looks like a \
             misspelling of it"
        ),
    };
    Rejection(format!(
        "azure-workload-identity: ServiceAccount \"{ns}/{sa_name}\" used by Pod \"{pod}\" {what}, \
         so AZURE_CLIENT_ID cannot be injected. Annotate the ServiceAccount with the client ID of \
         the managed identity or app registration: kubectl annotate serviceaccount -n {ns} \
         {sa_name} {CLIENT_ID_ANNOTATION}=<client-id>. Alternatively set AZURE_CLIENT_ID in the \
         env of every container of the Pod"
    ))
}

pub fn token_expiration(pod: &PodRef, sa_name: &str, error: &ExpirationError) -> Rejection {
    let place = |origin: &Origin| match origin {
        Origin::ServiceAccount => format!(
            "annotation \"{}\" of ServiceAccount \"{}/{sa_name}\"",
            TOKEN_EXPIRATION_ANNOTATION, pod.namespace
        ),
        Origin::Pod => {
            format!(
                "annotation \"{}\" of Pod \"{pod}\"",
                TOKEN_EXPIRATION_ANNOTATION
            )
        }
    };
    Rejection(match error {
        ExpirationError::Syntax(origin, upstream) => format!(
            "azure-workload-identity: {} is not a whole number of seconds ({upstream}). Set it to \
             an integer between 3600 and 86400 without a unit, e.g. \"3600\", or remove it to \
             use 3600",
            place(origin)
        ),
        ExpirationError::OutOfRange(origin, value) => format!(
            "azure-workload-identity: {}: token expiration {value} not valid. Expected value to be \
             between 3600 and 86400 (seconds); set it within that range or remove it to use 3600",
            place(origin)
        ),
    })
}

pub fn proxy_on_host_network(pod: &PodRef) -> Rejection {
    Rejection(format!(
        "azure-workload-identity: Pod \"{pod}\": hostNetwork is set to true, cannot inject proxy \
         sidecar (its init container would rewrite the node's iptables). Remove the annotation \
         \"azure.workload.identity/inject-proxy-sidecar\" or set spec.hostNetwork to false"
    ))
}

pub fn proxy_port(pod: &PodRef, value: &str, error: &str) -> Rejection {
    Rejection(format!(
        "azure-workload-identity: Pod \"{pod}\": annotation \
         \"azure.workload.identity/proxy-sidecar-port\" has the value {}: failed to parse proxy \
         sidecar port: {error}. Set it to a port number such as \"8000\", or remove it to use 8000",
        crate::go_int::go_quote(value)
    ))
}
