//! The token expiration (docs/behaviour.md §2.3, §2.4): the precedence of the Pod's and the
//! ServiceAccount's annotations, the accepted range and the rejections, quoting Go's `strconv` like
//! upstream.

use azure_workload_identity_policy::{Decision, Rejection};
use serde_json::json;

use rstest::rstest;

use crate::common::*;

fn expiration_syntax_error(place: &str, parse_error: &str) -> String {
    format!(
        "azure-workload-identity: annotation \
         \"azure.workload.identity/service-account-token-expiration\" of {place} is not a whole \
         number of seconds ({parse_error}). Set it to an integer between 3600 and 86400 without a \
         unit, e.g. \"3600\", or remove it to use 3600"
    )
}

fn expiration_range_error(place: &str, value: i64) -> String {
    format!(
        "azure-workload-identity: annotation \
         \"azure.workload.identity/service-account-token-expiration\" of {place}: token \
         expiration {value} not valid. Expected value to be between 3600 and 86400 (seconds); set \
         it within that range or remove it to use 3600"
    )
}

/// Where the Pod's annotation comes from, in the messages.
const POD: &str = "Pod \"default/web\"";
/// Where the ServiceAccount's annotation comes from, in the messages.
const SA: &str = "ServiceAccount \"default/workload-sa\"";

#[rstest]
#[case(None, None, Ok(3600))]
#[case(Some(""), None, Ok(3600))]
#[case(Some(""), Some(""), Ok(3600))]
#[case(Some("7200"), None, Ok(7200))]
#[case(None, Some("5400"), Ok(5400))]
#[case(Some(""), Some("5400"), Ok(5400))]
#[case(Some("7200"), Some("5400"), Ok(7200))]
#[case(Some("7200"), Some("1h"), Ok(7200))]
#[case(Some("7200"), Some("100"), Ok(7200))]
#[case(Some("3600"), None, Ok(3600))]
#[case(Some("86400"), None, Ok(86400))]
#[case(Some("+4000"), None, Ok(4000))]
#[case(Some("0086400"), None, Ok(86400))]
#[case(Some("3599"), Some("7200"), Err(expiration_range_error(POD, 3599)))]
#[case(Some("86401"), None, Err(expiration_range_error(POD, 86401)))]
#[case(Some("-3600"), None, Err(expiration_range_error(POD, -3600)))]
#[case(None, Some("100"), Err(expiration_range_error(SA, 100)))]
#[case(
    Some("1h"),
    None,
    Err(expiration_syntax_error(POD, "strconv.ParseInt: parsing \"1h\": invalid syntax"))
)]
#[case(
    Some(" 3600"),
    None,
    Err(expiration_syntax_error(POD, "strconv.ParseInt: parsing \" 3600\": invalid syntax"))
)]
#[case(
    Some("3600.0"),
    Some("7200"),
    Err(expiration_syntax_error(POD, "strconv.ParseInt: parsing \"3600.0\": invalid syntax"))
)]
#[case(
    None,
    Some("1d"),
    Err(expiration_syntax_error(SA, "strconv.ParseInt: parsing \"1d\": invalid syntax"))
)]
#[case(
    Some("99999999999999999999"),
    None,
    Err(expiration_syntax_error(
        POD,
        "strconv.ParseInt: parsing \"99999999999999999999\": value out of range"
    ))
)]
fn token_expiration_follows_the_precedence_and_range(
    #[case] pod_value: Option<&str>,
    #[case] sa_value: Option<&str>,
    #[case] expected: Result<i64, String>,
) {
    let case = format!("pod {pod_value:?}, ServiceAccount {sa_value:?}");
    let mut pod = web_pod();
    if let Some(value) = pod_value {
        set(&mut pod, EXPIRATION_ANNOTATION, json!(value));
    }
    let sa = match sa_value {
        Some(value) => workload_sa_with(&[(
            "azure.workload.identity/service-account-token-expiration",
            value,
        )]),
        None => workload_sa_with(&[]),
    };
    let cluster = FakeCluster::serving(&[sa]);
    let expected_is_err = expected.is_err();
    let expected = match expected {
        Ok(seconds) => {
            let mut mutated = web_mutated(
                wi_env(),
                wi_mount(WEB_VOLUME),
                wi_volume(WEB_VOLUME, AUDIENCE, seconds),
            );
            if let Some(annotations) = pod["metadata"].get("annotations") {
                mutated["metadata"]["annotations"] = annotations.clone();
            }
            Decision::Mutate(mutated)
        }
        Err(message) => Decision::Reject(Rejection(message)),
    };
    assert_decision(
        &run(&pod_request(pod), &default_settings(), &cluster),
        &expected,
        &case,
    );
    // rejected for the ServiceAccount's value: read again past the host's cache
    let from_service_account = expected_is_err && pod_value.is_none_or(str::is_empty);
    let expected_lookups = match from_service_account {
        true => lookups_then_fresh(NS, SA_NAME),
        false => lookups(&[(NS, SA_NAME)]),
    };
    assert_eq!(cluster.calls(), expected_lookups, "{case}");
}
