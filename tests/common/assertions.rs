//! Assertions on decisions with readable failures, and [`Rows`], which runs every row of a table
//! and reports all the failing ones at once.

use std::panic::{AssertUnwindSafe, catch_unwind};

use azure_workload_identity_policy::{Decision, Rejection};
use serde_json::Value;

use super::harness::first_difference;

pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// Like [`super::harness::describe`], with a pretty-printed Pod.
pub fn describe_pretty(decision: &Decision) -> String {
    match decision {
        Decision::Accept => "Accept".to_string(),
        Decision::Mutate(pod) => format!("Mutate({})", pretty(pod)),
        Decision::Reject(Rejection(message)) => format!("Reject({message:?})"),
    }
}

pub fn assert_decision(actual: &Decision, expected: &Decision, case: &str) {
    if actual == expected {
        return;
    }
    let difference = match (expected, actual) {
        (Decision::Mutate(e), Decision::Mutate(a)) => {
            first_difference(e, a, "").unwrap_or_default()
        }
        _ => String::new(),
    };
    panic!(
        "{case}: wrong decision\nfirst difference: {difference}\nexpected: {}\nactual: {}",
        describe_pretty(expected),
        describe_pretty(actual)
    );
}

/// The rejection message, or a failure naming the case.
pub fn rejection(decision: &Decision, case: &str) -> String {
    match decision {
        Decision::Reject(Rejection(message)) => message.clone(),
        other => panic!(
            "{case}: expected a rejection, got {}",
            describe_pretty(other)
        ),
    }
}

pub fn assert_rejected_with(decision: &Decision, parts: &[&str], case: &str) {
    let message = rejection(decision, case);
    for part in parts {
        assert!(
            message.contains(part),
            "{case}: the message lacks {part:?}\nmessage: {message}"
        );
    }
}

/// The rows of a table test: [`Rows::check`] runs one row, catching the failure of its
/// assertions; [`Rows::assert_all_passed`] then fails once with every failing row.
/// For tables whose rows share setup; independent rows are `#[rstest]` cases.
#[derive(Default)]
#[must_use = "call assert_all_passed after the last row"]
pub struct Rows {
    failures: Vec<String>,
}

impl Rows {
    pub fn new() -> Self {
        Rows::default()
    }

    /// Runs the row `case`; a panic in `row` is recorded, not propagated.
    pub fn check(&mut self, case: impl std::fmt::Display, row: impl FnOnce()) {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(row)) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic without a message".to_string());
            self.failures.push(format!("row {case}: {message}"));
        }
    }

    /// Fails with every failing row, if any.
    pub fn assert_all_passed(self) {
        assert!(
            self.failures.is_empty(),
            "{} failing row(s):\n{}",
            self.failures.len(),
            self.failures.join("\n---\n")
        );
    }
}
