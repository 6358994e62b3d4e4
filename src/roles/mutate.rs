//! The Pod policy: configure a labelled Pod as the upstream webhook does, or reject it with
//! the first problem in upstream's order; warn about what is allowed but likely a mistake.

use serde_json::Value;

use crate::assess::assess;
use crate::hints::hints;
use crate::inject;
use crate::messages::{self, Rejection};
use crate::pod::Pod;
use crate::response::{Answer, Decision};
use crate::service_account::ServiceAccountSource;
use crate::settings::Config;

pub fn mutate(
    config: &Config,
    raw_pod: &str,
    namespace: &str,
    cluster: &impl ServiceAccountSource,
) -> Result<Answer, Rejection> {
    let mut pod_json: Value =
        serde_json::from_str(raw_pod).map_err(|e| messages::unreadable_request(&e.to_string()))?;
    let (plan, warnings) = {
        let pod = Pod::read(&pod_json, namespace)
            .map_err(|failed| messages::rejection(&failed.0, &failed.1))?;
        // The Pod is rejected for the first problem.
        let assessment = assess(config, &pod, cluster, |problems| {
            problems.first().caused_by_service_account()
        });
        let warnings: Vec<String> = hints(config, &pod, assessment.client_id())
            .iter()
            .map(|hint| messages::hint(&pod.subject, hint))
            .collect();
        match assessment.plan {
            Ok(plan) => (plan, warnings),
            Err(problems) => {
                return Ok(Answer {
                    decision: Decision::Reject(messages::rejection(&pod.subject, problems.first())),
                    warnings,
                    message: None,
                });
            }
        }
    };
    let decision = match inject::apply(plan, &mut pod_json) {
        true => Decision::Mutate(pod_json),
        false => Decision::Accept,
    };
    Ok(Answer {
        decision,
        warnings,
        message: None,
    })
}
