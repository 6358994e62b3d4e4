//! One module per role the policy plays, chosen by the request's kind and the settings. Each
//! reads with `pod`, plans with `assess`, and words what it finds with `messages`.

pub mod mutate;
pub mod service_accounts;
pub mod verify;
pub mod workloads;

use crate::messages;
use crate::problem::Finding;
use crate::response::{Answer, Decision};
use crate::settings::Findings;

/// Delivers findings as the `findings` setting says: with `warn`, accepted with one warning
/// per finding (and the findings as the message, which is what audit reports show); with
/// `reject`, rejected with every finding in the message when one of them blocks.
pub fn deliver(mode: Findings, findings: Vec<Finding>) -> Answer {
    if findings.is_empty() {
        return Decision::Accept.into();
    }
    if mode == Findings::Reject && findings.iter().any(|f| f.blocks) {
        return messages::rejection_of(&findings).into();
    }
    let message = messages::rejection_of(&findings).0;
    Answer {
        decision: Decision::Accept,
        warnings: findings.into_iter().map(|f| f.text).collect(),
        message: Some(message),
    }
}
