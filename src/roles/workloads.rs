//! The workload checks: at `kubectl apply` of a Deployment, StatefulSet, DaemonSet, ReplicaSet,
//! ReplicationController, Job or CronJob, tell what the Pod policy would do with the Pods it
//! creates, and whether the opt-in label is where it must be. Workloads are never mutated.

use serde_json::Value;

use crate::admission::Workload;
use crate::assess::assess;
use crate::hints::hints;
use crate::messages::{self, Rejection};
use crate::names::USE_LABEL;
use crate::pod::{Pod, object_name};
use crate::problem::{Finding, LookupProblem, Problem, Problems, Subject};
use crate::response::Answer;
use crate::service_account::ServiceAccountSource;
use crate::settings::{Config, Findings};

use super::deliver;

pub fn check(
    config: &Config,
    workload: &Workload,
    raw: &str,
    namespace: &str,
    cluster: &impl ServiceAccountSource,
) -> Result<Answer, Rejection> {
    let object: Value =
        serde_json::from_str(raw).map_err(|e| messages::unreadable_request(&e.to_string()))?;
    let subject = Subject {
        kind: workload.kind,
        namespace: namespace.to_string(),
        name: object_name(&object),
        template: workload.template,
    };
    Ok(deliver(
        config.findings,
        findings(config, &object, workload, subject, cluster),
    ))
}

fn findings(
    config: &Config,
    object: &Value,
    workload: &Workload,
    subject: Subject,
    cluster: &impl ServiceAccountSource,
) -> Vec<Finding> {
    let template = workload
        .template_keys()
        .try_fold(object, |value, key| value.get(key))
        .unwrap_or(&Value::Null);
    let marked = |value: Option<&Value>, key| {
        value
            .and_then(|v| v.get(key))
            .and_then(|m| m.get(USE_LABEL))
            .and_then(Value::as_str)
            == Some("true")
    };
    let template_meta = template.get("metadata");
    if !marked(template_meta, "labels") {
        let places = [
            (
                object.get("metadata"),
                "labels",
                "metadata.labels".to_string(),
            ),
            (
                template_meta,
                "annotations",
                subject.path("metadata.annotations"),
            ),
        ];
        return places
            .into_iter()
            .filter(|(value, key, _)| marked(*value, key))
            .map(|(_, _, place)| Finding {
                text: messages::misplaced_label(&subject, &place),
                blocks: true,
            })
            .collect();
    }

    let pod = match Pod::read_as(template, subject.clone()) {
        Ok(pod) => pod,
        Err(problem) => return vec![finding(&subject, &problem)],
    };
    let reject = config.findings == Findings::Reject;
    let assessment = assess(config, &pod, cluster, |problems| {
        reject
            && problems
                .iter()
                .any(|p| blocks(p) && p.caused_by_service_account())
    });
    let mut found: Vec<Finding> = assessment
        .plan
        .as_ref()
        .err()
        .into_iter()
        .flat_map(Problems::iter)
        .map(|problem| finding(&subject, problem))
        .collect();
    found.extend(
        hints(config, &pod, assessment.client_id())
            .iter()
            .map(|hint| Finding {
                text: messages::hint(&subject, hint),
                blocks: false,
            }),
    );
    found
}

/// A ServiceAccount that does not exist may be created later in the same apply: it only warns.
fn blocks(problem: &Problem) -> bool {
    !matches!(
        problem,
        Problem::ServiceAccount {
            problem: LookupProblem::NotFound(_),
            ..
        }
    )
}

fn finding(subject: &Subject, problem: &Problem) -> Finding {
    Finding {
        text: messages::problem(subject, problem),
        blocks: blocks(problem),
    }
}
