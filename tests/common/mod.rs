//! What the integration tests share: the fake cluster, payloads and requests, the values of the
//! spec and what the policy injects, JSON editing, fixture loading, assertions, and the oracle of
//! the reliability tests.
//!
//! | file | what |
//! | --- | --- |
//! | `harness.rs` | [`FakeCluster`] (an in-memory `ServiceAccountSource` that records lookups, cached or fresh, and can answer the cached read differently from the fresh one), the `validate` payload, describing decisions; standalone, the fuzz targets include it |
//! | `oracle.rs` | the lossless check, the properties of any payload and the model of docs/behaviour.md (property tests, hostile inputs, fuzz targets) |
//! | `fixtures.rs` | files of `test_data/` and of the repository (JSON, YAML, text, bytes) |
//! | `json.rs` | editing JSON by pointer: `set`, `remove`, `with`, `without`, `renamed` |
//! | `spec.rs` | the values of the fixtures and of docs/behaviour.md, what the policy injects (`wi_env`, `wi_mount`, `wi_volume`, …) |
//! | `pods.rs` | `run`, `pod_request`, the small Pods `web_pod`/`trio_pod` and the Pods the policy makes of them |
//! | `minimal.rs` | the minimal Pod of the proxy and custom token endpoint tests (import it by name: its helpers are called `run`, `env`, `pod`, …) |
//! | `assertions.rs` | `assert_decision`, `assert_rejected_with`, `rejection`, and [`Rows`] for tables whose rows share setup |
//!
//! Tests import the policy only from the crate root
//! (`azure_workload_identity_policy::{Decision, evaluate, respond, check_settings, Config,
//! ServiceAccount, ServiceAccountSource, Rejection, volume_name}`).
//!
//! # Adding a behaviour area
//!
//! All integration tests are one crate, `tests/integration/main.rs` (`cargo test --test
//! integration`), one file (or folder) per behaviour area. To add one:
//!
//! 1. create `tests/integration/<area>.rs` (named after the behaviour, e.g. `workload_checks.rs`,
//!    `verify_mode.rs`), starting with a `//!` line that says what it covers, and keep it under
//!    about 500 lines (split it into `tests/integration/<area>/mod.rs` + files when it grows);
//! 2. declare it in `tests/integration/main.rs` (`mod <area>;`, alphabetical);
//! 3. `use crate::common::*;` for the shared helpers (and `crate::common::minimal::*` or
//!    `crate::common::oracle` when needed); add a helper here only when a second area needs it;
//! 4. write a table of independent rows as `#[rstest]` with one `#[case::name(…)]` per row, so
//!    every failing row is reported; rows that share setup go through [`Rows`].
//!
//! Run one area with a name filter: `cargo test --test integration <area>::`. A separate test
//! crate (`tests/<name>.rs`) can use these helpers too with `mod common;`.
#![allow(dead_code)]

pub mod assertions;
pub mod fixtures;
pub mod harness;
pub mod json;
pub mod minimal;
pub mod oracle;
pub mod pods;
pub mod spec;

pub use assertions::*;
pub use fixtures::*;
pub use harness::*;
pub use json::*;
pub use pods::*;
pub use spec::*;
