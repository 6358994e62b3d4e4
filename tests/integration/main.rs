//! The policy's integration tests, one crate with one module per behaviour area, driving the
//! policy natively through `evaluate(payload, &cluster)` from the waPC `validate` payload to the
//! `Decision`, with ServiceAccounts served by an in-memory fake cluster that records every
//! lookup. The shared helpers are `tests/common/` (its header says how to add an area).
//!
//! Run one area with a name filter: `cargo test --test integration proxy::`.

#[path = "../common/mod.rs"]
mod common;

mod checks;
mod client_id;
mod custom_token_endpoint;
mod env_injection;
mod expiration;
mod hostile;
mod malformed;
mod packaging;
mod properties;
mod proxy;
mod reinvocation;
mod selection;
mod service_account_lookup;
mod settings;
mod settings_parity;
mod token_layout;
mod token_volume;
mod verify;
