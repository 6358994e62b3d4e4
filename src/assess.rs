//! The part every role shares: given a checked Pod (or Pod template), look its ServiceAccount
//! up and plan what the mutation would do. The Pod policy mutates with the plan, the verify
//! mode compares the Pod with it, and the workload checks report its problems.

use crate::client_id::client_id;
use crate::plan::{self, Plan};
use crate::pod::Pod;
use crate::problem::{Problem, Problems};
use crate::service_account::{self, ServiceAccount, ServiceAccountSource};
use crate::settings::Config;

/// The plan, or every problem that prevents it, and the ServiceAccount it was made from.
pub struct Assessment {
    pub plan: Result<Plan, Problems>,
    /// The ServiceAccount's name and, when it could be read, the ServiceAccount.
    pub service_account: Option<(String, ServiceAccount)>,
}

impl Assessment {
    /// The ServiceAccount's name and usable client id, when it has one.
    pub fn client_id(&self) -> Option<(&str, &str)> {
        let (name, sa) = self.service_account.as_ref()?;
        Some((name.as_str(), client_id(sa).ok()?))
    }
}

/// Plans the Pod with its ServiceAccount. When `stale_rejection` says that the problems found
/// would reject the request because of the ServiceAccount's answer, which the host may have
/// cached for a few seconds, the ServiceAccount is read once more past the cache and that
/// answer decides: a Pod created just after its ServiceAccount was fixed is then not rejected
/// for the old state.
pub fn assess(
    config: &Config,
    pod: &Pod,
    cluster: &impl ServiceAccountSource,
    stale_rejection: impl Fn(&Problems) -> bool,
) -> Assessment {
    let failed = |problem| Assessment {
        plan: Err(Problems::one(problem)),
        service_account: None,
    };
    if pod.subject.namespace.is_empty() {
        return failed(Problem::MissingNamespace);
    }
    let sa_name = match pod.service_account_name() {
        Ok(name) => name,
        Err(problem) => return failed(problem),
    };
    let namespace = &pod.subject.namespace;
    let attempt = |fresh| {
        let answer = service_account::lookup(cluster, namespace, sa_name, fresh);
        let plan = plan::plan(config, pod, sa_name, answer.as_ref());
        (plan, answer)
    };
    let (mut planned, mut answer) = attempt(false);
    if let Err(problems) = &planned
        && stale_rejection(problems)
    {
        (planned, answer) = attempt(true);
    }
    Assessment {
        plan: planned,
        service_account: answer.ok().map(|sa| (sa_name.to_string(), sa)),
    }
}
