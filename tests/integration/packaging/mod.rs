//! Packaging consistency: metadata.yml, artifacthub-pkg.yml, questions-ui.yml, the manifests in
//! deploy/, the e2e fixtures and the release workflows must agree with Cargo.toml, with each other
//! and with the policy itself. Everything here reads files of the repository; nothing needs the
//! network, kwctl or a cluster.

mod artifacthub;
mod deploy;
mod e2e_replay;
mod metadata;
mod questions_ui;
mod workflows;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use azure_workload_identity_policy::{Answer, Decision, Rejection, check_settings, review};
use azure_workload_identity_policy::{ServiceAccount, ServiceAccountSource};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::common::{json_file, read_text as read, yaml};
use metadata::*;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const LICENSE: &str = env!("CARGO_PKG_LICENSE");
const TITLE: &str = "azure-workload-identity";
