//! The answer to one request and its bytes on the wire.
//!
//! The SDK's `accept_request` and `mutate_request` send no warnings, so the response is built
//! here from the SDK's own `ValidationResponse`.

use kubewarden_policy_sdk::response::ValidationResponse;
use kubewarden_policy_sdk::wapc_guest as guest;
use serde_json::Value;

use crate::messages::Rejection;

/// The outcome of one admission request.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Let the request through unchanged.
    Accept,
    /// Let it through with this Pod instead.
    Mutate(Value),
    Reject(Rejection),
}

/// A decision, the warnings that go with it, and for an accepted request with findings the
/// message that audit reports show next to the result.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub decision: Decision,
    pub warnings: Vec<String>,
    pub message: Option<String>,
}

impl From<Decision> for Answer {
    fn from(decision: Decision) -> Self {
        Answer {
            decision,
            warnings: Vec::new(),
            message: None,
        }
    }
}

impl From<Rejection> for Answer {
    fn from(rejection: Rejection) -> Self {
        Decision::Reject(rejection).into()
    }
}

/// The Kubewarden response for an answer (the bytes `validate` returns). An answer without
/// warnings carries no warnings.
pub fn respond(answer: Answer) -> guest::CallResult {
    let warnings = (!answer.warnings.is_empty()).then_some(answer.warnings);
    let (accepted, message, mutated_object) = match answer.decision {
        Decision::Accept => (true, answer.message, None),
        Decision::Mutate(pod) => (true, answer.message, Some(pod)),
        Decision::Reject(Rejection(message)) => (false, Some(message), None),
    };
    Ok(serde_json::to_vec(&ValidationResponse {
        accepted,
        message,
        code: None,
        mutated_object,
        audit_annotations: None,
        warnings,
    })?)
}
