//! The ServiceAccount checks: at `kubectl apply` of a ServiceAccount with Azure Workload
//! Identity annotations, tell what the Pod policy would trip over. No host call; never mutated.

use serde_json::Value;

use crate::admission::SERVICE_ACCOUNT_ANNOTATIONS;
use crate::expiration::token_expiration;
use crate::messages::{self, Rejection};
use crate::names::{
    CLIENT_ID_ANNOTATION, TENANT_ID_ANNOTATION, TOKEN_EXPIRATION_ANNOTATION, USE_LABEL,
};
use crate::near_miss::near_miss;
use crate::pod::object_name;
use crate::problem::{AccountProblem, Finding, Subject};
use crate::response::Answer;
use crate::settings::Config;

use super::deliver;

pub fn check(config: &Config, raw: &str, namespace: &str) -> Result<Answer, Rejection> {
    let object: Value =
        serde_json::from_str(raw).map_err(|e| messages::unreadable_request(&e.to_string()))?;
    let subject = Subject {
        kind: "ServiceAccount",
        namespace: namespace.to_string(),
        name: object_name(&object),
        template: "",
    };
    let findings = problems(&object)
        .iter()
        .map(|problem| Finding {
            text: messages::account_problem(&subject, problem),
            blocks: true,
        })
        .collect();
    Ok(deliver(config.findings, findings))
}

/// One problem per annotation or label, in the order of the keys.
fn problems(object: &Value) -> Vec<AccountProblem> {
    let meta = object.get("metadata");
    let strings = |key| {
        meta.and_then(|m| m.get(key))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
    };
    let mut problems = Vec::new();
    for (key, value) in strings("annotations") {
        if let Some(meant) = near_miss(key, SERVICE_ACCOUNT_ANNOTATIONS) {
            problems.push(AccountProblem::NearMiss {
                key: key.to_string(),
                meant,
            });
            continue;
        }
        match key {
            CLIENT_ID_ANNOTATION if value.is_empty() => {
                problems.push(AccountProblem::EmptyClientId)
            }
            CLIENT_ID_ANNOTATION | TENANT_ID_ANNOTATION if !is_guid(value) => {
                problems.push(AccountProblem::NotGuid {
                    key: if key == CLIENT_ID_ANNOTATION {
                        CLIENT_ID_ANNOTATION
                    } else {
                        TENANT_ID_ANNOTATION
                    },
                    value: value.to_string(),
                })
            }
            TOKEN_EXPIRATION_ANNOTATION => {
                if let Err(error) = token_expiration(None, Some(value)) {
                    problems.push(AccountProblem::Expiration(error));
                }
            }
            _ => {}
        }
    }
    if strings("labels").any(|(key, _)| key == USE_LABEL) {
        problems.push(AccountProblem::OldLabel);
    }
    problems
}

/// 8-4-4-4-12 hexadecimal digits, either case, nothing around.
fn is_guid(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guid_is_8_4_4_4_12_hex_digits() {
        let cases = [
            ("00000000-0000-0000-0000-000000000000", true),
            ("72f988bf-86f1-41af-91ab-2d7cd011db47", true),
            ("72F988BF-86F1-41AF-91AB-2D7CD011DB47", true),
            (" 72f988bf-86f1-41af-91ab-2d7cd011db47", false),
            ("72f988bf-86f1-41af-91ab-2d7cd011db47 ", false),
            ("{72f988bf-86f1-41af-91ab-2d7cd011db47}", false),
            ("72f988bf86f141af91ab2d7cd011db47", false),
            ("72f988bf-86f1-41af-91ab-2d7cd011db4", false),
            ("72f988bf-86f1-41af-91ab-2d7cd011db47-0", false),
            ("g2f988bf-86f1-41af-91ab-2d7cd011db47", false),
            ("", false),
        ];
        let failures: Vec<_> = cases
            .iter()
            .filter(|(value, expected)| is_guid(value) != *expected)
            .collect();
        assert!(failures.is_empty(), "{failures:?}");
    }
}
