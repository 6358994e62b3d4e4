//! A test host for Kubewarden policies.
//!
//! Kubewarden's own hosts (policy-server, kwctl) run a policy with the `wapc`
//! crate on top of `wasmtime-provider`. This crate runs a compiled
//! `policy.wasm` through those same two crates, answering the policy's host
//! calls from a [`FakeCluster`] instead of a real Kubernetes API server, and
//! recording every host call the policy makes so tests can assert on them.
//!
//! ```no_run
//! use policy_host::{FakeCluster, PolicyHost};
//! use serde_json::json;
//!
//! let cluster = FakeCluster::new().with_service_account(json!({
//!     "apiVersion": "v1",
//!     "kind": "ServiceAccount",
//!     "metadata": {"name": "app", "namespace": "default"}
//! }));
//! let host = PolicyHost::load("policy.wasm".as_ref(), cluster)?;
//! let response = host.validate(&json!({"uid": "1", "object": {}}), &json!({}))?;
//! assert_eq!(response["accepted"], true);
//! assert!(host.violations().is_empty());
//! # Ok::<(), policy_host::HostError>(())
//! ```
//!
//! Every call to the guest runs in a fresh instance of the (once compiled)
//! module, as policy-server does for each request, so a trap in one call
//! cannot leak state into the next. Only [`PolicyHost::instance`], meant for
//! benchmarks, keeps one instance across calls.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, Once};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use wapc::WapcHost;
use wasmtime_provider::wasmtime::{Config, Engine, Module};
use wasmtime_provider::{
    EpochDeadlines, ResourceLimits, WasmtimeEngineProviderBuilder, WasmtimeEngineProviderPre,
};

/// Environment variable that, when set (to anything), makes the host print the
/// guest's log output (`kubewarden`/`tracing`/`log` host calls and waPC
/// `__console_log`) and wapc/wasmtime-provider diagnostics to stderr.
pub const DEBUG_ENV_VAR: &str = "POLICY_HOST_DEBUG";

/// Size of one WebAssembly page, the unit linear memory grows by.
pub const WASM_PAGE_BYTES: usize = 65_536;

/// Largest number of pages a 32-bit linear memory can have (4 GiB).
const MAX_WASM_PAGES: usize = 65_536;

/// How often the epoch ticker thread advances the engine's epoch.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Errors returned by the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// The module could not be read, compiled or linked, or the
    /// [`FakeCluster`] given to the host is malformed.
    Load(String),
    /// The guest failed: it returned a waPC error, trapped (panic, `unreachable`,
    /// out-of-bounds access, allocation failure...), or its initialisation
    /// (`_start`/`wapc_init`) failed.
    Guest(String),
    /// The guest ran past [`HostOptions::timeout`] and was interrupted.
    Timeout(String),
    /// The guest answered, but not with the JSON document the protocol requires.
    Response(String),
    /// Code on the host side panicked while serving the guest (for instance
    /// wasmtime-provider slicing guest memory with a hostile pointer).
    HostPanic(String),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Load(m) => write!(f, "cannot load policy: {m}"),
            HostError::Guest(m) => write!(f, "guest failure: {m}"),
            HostError::Timeout(m) => write!(f, "guest timed out: {m}"),
            HostError::Response(m) => write!(f, "invalid guest response: {m}"),
            HostError::HostPanic(m) => write!(f, "host panicked: {m}"),
        }
    }
}

impl std::error::Error for HostError {}

/// What the fake cluster holds under one (namespace, name) key.
#[derive(Debug, Clone)]
enum Entry {
    /// A ServiceAccount, answered as its JSON serialisation.
    Object(Value),
    /// Bytes answered verbatim (to feed the guest malformed data).
    Raw(Vec<u8>),
}

/// The ServiceAccounts a [`PolicyHost`] answers `get_resource` calls from.
///
/// Entries are keyed by (namespace, name). An injected error takes precedence
/// over an object stored under the same key.
#[derive(Debug, Clone, Default)]
pub struct FakeCluster {
    entries: BTreeMap<(String, String), Entry>,
    /// What a read from the host's cache answers, where it differs from the cluster.
    cached: BTreeMap<(String, String), Option<Value>>,
    errors: BTreeMap<(String, String), String>,
    /// Problems found while building, reported by `PolicyHost` construction
    /// so that the builder methods can stay chainable and panic-free.
    invalid: Vec<String>,
}

impl FakeCluster {
    /// An empty cluster: every lookup answers "not found".
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a ServiceAccount, keyed by its `metadata.namespace` and
    /// `metadata.name`. A value without both is remembered as invalid and makes
    /// [`PolicyHost`] construction fail with [`HostError::Load`].
    #[must_use]
    pub fn with_service_account(mut self, service_account: Value) -> Self {
        let meta = &service_account["metadata"];
        match (meta["namespace"].as_str(), meta["name"].as_str()) {
            (Some(ns), Some(name)) => {
                let key = (ns.to_owned(), name.to_owned());
                self.entries.insert(key, Entry::Object(service_account));
            }
            _ => self.invalid.push(format!(
                "service account without metadata.namespace and metadata.name: {service_account}"
            )),
        }
        self
    }

    /// Makes a read of `namespace`/`name` from the host's cache (`disable_cache: false`)
    /// answer `cached` (`None`: not found) while a fresh read answers what the cluster holds,
    /// as when the ServiceAccount changed a moment ago.
    #[must_use]
    pub fn with_stale_cache(mut self, namespace: &str, name: &str, cached: Option<Value>) -> Self {
        self.cached
            .insert((namespace.to_owned(), name.to_owned()), cached);
        self
    }

    /// Makes a lookup of `namespace`/`name` fail with `message` (simulating
    /// not-found, RBAC denial, API server timeout...).
    #[must_use]
    pub fn with_error(mut self, namespace: &str, name: &str, message: &str) -> Self {
        self.errors
            .insert((namespace.to_owned(), name.to_owned()), message.to_owned());
        self
    }

    /// Makes a lookup of `namespace`/`name` succeed with exactly `bytes`, which
    /// need not be JSON nor a ServiceAccount: for hostile-host tests.
    #[must_use]
    pub fn with_raw_response(
        mut self,
        namespace: &str,
        name: &str,
        bytes: impl Into<Vec<u8>>,
    ) -> Self {
        self.entries.insert(
            (namespace.to_owned(), name.to_owned()),
            Entry::Raw(bytes.into()),
        );
        self
    }

    fn lookup(&self, namespace: &str, name: &str, fresh: bool) -> Result<Vec<u8>, String> {
        let key = (namespace.to_owned(), name.to_owned());
        if let Some(message) = self.errors.get(&key) {
            return Err(message.clone());
        }
        match self.cached.get(&key) {
            Some(Some(value)) if !fresh => {
                return serde_json::to_vec(value).map_err(|e| e.to_string());
            }
            Some(None) if !fresh => {
                return Err(not_found(namespace, name));
            }
            _ => {}
        }
        match self.entries.get(&key) {
            Some(Entry::Object(value)) => serde_json::to_vec(value).map_err(|e| e.to_string()),
            Some(Entry::Raw(bytes)) => Ok(bytes.clone()),
            None => Err(not_found(namespace, name)),
        }
    }

    fn check(&self) -> Result<(), HostError> {
        if self.invalid.is_empty() {
            Ok(())
        } else {
            Err(HostError::Load(self.invalid.join("; ")))
        }
    }
}

/// What the real host answers for a ServiceAccount that does not exist.
fn not_found(namespace: &str, name: &str) -> String {
    format!("Cannot find v1/ServiceAccount named '{name}' inside of namespace '{namespace}'")
}

/// One host call made by the guest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostCall {
    /// waPC binding, `kubewarden` for Kubewarden's host capabilities.
    pub binding: String,
    /// waPC namespace, e.g. `kubernetes`.
    pub namespace: String,
    /// waPC operation, e.g. `get_resource`.
    pub operation: String,
    /// The payload parsed as JSON; a payload that is not JSON is kept as a
    /// (lossily decoded) JSON string.
    pub payload: Value,
    /// The error the host answered with, `None` when it answered with data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Mirror of kubewarden-policy-sdk 0.17.3's `GetResourceRequest`, deserialised
/// as strictly as the real host does.
#[derive(Deserialize)]
struct GetResourceRequest {
    api_version: String,
    kind: String,
    name: String,
    namespace: Option<String>,
    disable_cache: bool,
    #[allow(dead_code)]
    field_masks: Option<Vec<String>>,
}

#[derive(Debug, Default)]
struct Record {
    calls: Vec<HostCall>,
    violations: Vec<String>,
    logs: Vec<String>,
}

/// State the host callback needs; shared with the callback closure.
#[derive(Debug)]
struct Shared {
    cluster: FakeCluster,
    record: Mutex<Record>,
    debug: bool,
}

impl Shared {
    fn new(cluster: FakeCluster) -> Self {
        Self {
            cluster,
            record: Mutex::new(Record::default()),
            debug: std::env::var_os(DEBUG_ENV_VAR).is_some(),
        }
    }

    fn record(&self) -> MutexGuard<'_, Record> {
        // A poisoned lock only means a test thread panicked while holding it;
        // the record itself is still consistent.
        self.record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Serves one host call from the guest.
    fn host_call(
        &self,
        binding: &str,
        namespace: &str,
        operation: &str,
        payload: &[u8],
    ) -> Result<Vec<u8>, String> {
        if (binding, namespace, operation) == ("kubewarden", "tracing", "log") {
            // The SDK's logging drain; policy-server answers it with an empty
            // payload. Not a capability use, so neither a host call nor a
            // violation (an error here would make slog's Fuse drain panic).
            let line = String::from_utf8_lossy(payload).into_owned();
            if self.debug {
                eprintln!("[policy log] {line}");
            }
            self.record().logs.push(line);
            return Ok(Vec::new());
        }

        let parsed: Option<Value> = serde_json::from_slice(payload).ok();
        let outcome = self.answer(binding, namespace, operation, payload);
        let (answer, violation) = match outcome {
            Answer::Allowed(answer) => (answer, None),
            Answer::Violation(reason) => (
                Err(format!("policy-host: forbidden host call: {reason}")),
                Some(reason),
            ),
        };
        if self.debug {
            eprintln!(
                "[host call] {binding}/{namespace}/{operation} {} -> {}",
                String::from_utf8_lossy(payload),
                match &answer {
                    Ok(bytes) => format!("ok ({} bytes)", bytes.len()),
                    Err(e) => format!("error: {e}"),
                }
            );
        }
        let mut record = self.record();
        record.calls.push(HostCall {
            binding: binding.to_owned(),
            namespace: namespace.to_owned(),
            operation: operation.to_owned(),
            payload: parsed
                .unwrap_or_else(|| Value::String(String::from_utf8_lossy(payload).into_owned())),
            error: answer.as_ref().err().cloned(),
        });
        if let Some(reason) = violation {
            record.violations.push(reason);
        }
        answer
    }

    fn answer(&self, binding: &str, namespace: &str, operation: &str, payload: &[u8]) -> Answer {
        let what = format!("{binding}/{namespace}/{operation}");
        if (binding, namespace, operation) != ("kubewarden", "kubernetes", "get_resource") {
            return Answer::Violation(format!(
                "{what} (only kubewarden/kubernetes/get_resource of v1/ServiceAccount is allowed), payload: {}",
                String::from_utf8_lossy(payload)
            ));
        }
        let request: GetResourceRequest = match serde_json::from_slice(payload) {
            Ok(request) => request,
            Err(e) => {
                return Answer::Violation(format!(
                    "{what} with a payload that is not a GetResourceRequest ({e}): {}",
                    String::from_utf8_lossy(payload)
                ));
            }
        };
        if request.api_version != "v1" || request.kind != "ServiceAccount" {
            return Answer::Violation(format!(
                "{what} of {}/{} (only v1/ServiceAccount is allowed)",
                request.api_version, request.kind
            ));
        }
        Answer::Allowed(match request.namespace {
            // What the real host answers for a namespaced kind without namespace.
            None => Err(
                "Resource v1/ServiceAccount is namespaced, but no namespace was provided"
                    .to_owned(),
            ),
            Some(ns) => self
                .cluster
                .lookup(&ns, &request.name, request.disable_cache),
        })
    }
}

enum Answer {
    Allowed(Result<Vec<u8>, String>),
    Violation(String),
}

/// Tunables for [`PolicyHost`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostOptions {
    /// Wall-clock budget for one guest invocation (and, separately, for the
    /// instance's initialisation), enforced with wasmtime epoch interruption
    /// as policy-server does. `None` disables it (a looping guest then hangs
    /// the caller). Default: 10 s (policy-server's default is 2 s; the slack
    /// is for loaded CI machines).
    pub timeout: Option<Duration>,
    /// Cap on the guest's linear memory in bytes; growing past it fails the
    /// guest's allocation (a Rust guest then traps). Default: none.
    pub max_memory_bytes: Option<usize>,
}

impl Default for HostOptions {
    fn default() -> Self {
        Self {
            timeout: Some(Duration::from_secs(10)),
            max_memory_bytes: None,
        }
    }
}

/// A compiled policy plus the fake cluster that serves its host calls.
///
/// `PolicyHost` is `Send + Sync`: a test binary can compile the policy once
/// (e.g. in a `static OnceLock<PolicyHost>`) and derive per-test hosts with
/// their own cluster and record via [`PolicyHost::with_cluster`].
pub struct PolicyHost {
    engine: Engine,
    module: Module,
    pre: WasmtimeEngineProviderPre,
    options: HostOptions,
    compile_time: Duration,
    shared: Arc<Shared>,
}

impl fmt::Debug for PolicyHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyHost")
            .field("options", &self.options)
            .field("compile_time", &self.compile_time)
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

impl PolicyHost {
    /// Reads and compiles the module at `path` with default [`HostOptions`].
    pub fn load(path: &Path, cluster: FakeCluster) -> Result<Self, HostError> {
        Self::load_with_options(path, cluster, HostOptions::default())
    }

    /// Reads and compiles the module at `path`.
    pub fn load_with_options(
        path: &Path,
        cluster: FakeCluster,
        options: HostOptions,
    ) -> Result<Self, HostError> {
        let bytes = std::fs::read(path)
            .map_err(|e| HostError::Load(format!("cannot read {}: {e}", path.display())))?;
        Self::from_bytes(&bytes, cluster, options)
    }

    /// Compiles a module given as wasm bytes (or as WebAssembly text, which
    /// wasmtime also accepts).
    pub fn from_bytes(
        bytes: &[u8],
        cluster: FakeCluster,
        options: HostOptions,
    ) -> Result<Self, HostError> {
        cluster.check()?;
        init_debug_logging();

        let mut config = Config::new();
        if options.timeout.is_some() {
            config.epoch_interruption(true);
        }
        let engine = Engine::new(&config)
            .map_err(|e| HostError::Load(format!("cannot create engine: {e}")))?;

        let started = Instant::now();
        let module = Module::new(&engine, bytes)
            .map_err(|e| HostError::Load(format!("cannot compile module: {e:?}")))?;
        let compile_time = started.elapsed();

        let pre = build_pre(&engine, &module, options.max_memory_bytes)?;
        if options.timeout.is_some() {
            spawn_epoch_ticker(&engine);
        }
        Ok(Self {
            engine,
            module,
            pre,
            options,
            compile_time,
            shared: Arc::new(Shared::new(cluster)),
        })
    }

    /// A host sharing this one's compiled module, with another cluster and an
    /// empty record. Cheap: nothing is recompiled.
    pub fn with_cluster(&self, cluster: FakeCluster) -> Result<Self, HostError> {
        cluster.check()?;
        Ok(Self {
            engine: self.engine.clone(),
            module: self.module.clone(),
            pre: self.pre.clone(),
            options: self.options,
            compile_time: self.compile_time,
            shared: Arc::new(Shared::new(cluster)),
        })
    }

    /// Time wasmtime took to compile the module (`wasmtime::Module::new`),
    /// the dominant part of loading a policy.
    #[must_use]
    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    /// The options this host was built with.
    #[must_use]
    pub fn options(&self) -> HostOptions {
        self.options
    }

    /// Evaluates `request` (a Kubernetes AdmissionRequest, *not* wrapped in an
    /// AdmissionReview) with `settings`, by calling the guest's `validate`
    /// with `{"request": request, "settings": settings}`.
    ///
    /// Returns the guest's ValidationResponse (`accepted`, `message`, `code`,
    /// `mutated_object`, `warnings`, `audit_annotations`). Any guest error,
    /// trap or timeout, or a response that is not a JSON object with a boolean
    /// `accepted`, is an `Err`.
    pub fn validate(&self, request: &Value, settings: &Value) -> Result<Value, HostError> {
        let response = self.call("validate", &validation_payload(request, settings))?;
        parse_response(&response, "accepted")
    }

    /// Calls the guest's `validate` with arbitrary bytes and returns its raw
    /// answer, for fuzz and hostile-input tests.
    pub fn validate_raw(&self, payload: &[u8]) -> Result<Vec<u8>, HostError> {
        self.call("validate", payload)
    }

    /// Calls the guest's `validate_settings` with `settings` and returns its
    /// SettingsValidationResponse (`valid`, `message`). Invalid settings are an
    /// `Ok` with `valid == false`; only a failing guest is an `Err`.
    pub fn validate_settings(&self, settings: &Value) -> Result<Value, HostError> {
        let payload =
            serde_json::to_vec(settings).map_err(|e| HostError::Response(e.to_string()))?;
        let response = self.call("validate_settings", &payload)?;
        parse_response(&response, "valid")
    }

    /// Calls the guest's `protocol_version` and returns the version string
    /// (`"v1"` for kubewarden-policy-sdk policies).
    pub fn protocol_version(&self) -> Result<String, HostError> {
        let response = self.call("protocol_version", b"")?;
        match serde_json::from_slice::<Value>(&response) {
            Ok(Value::String(version)) => Ok(version),
            _ => Err(HostError::Response(format!(
                "protocol_version answered {}",
                String::from_utf8_lossy(&response)
            ))),
        }
    }

    /// Calls any guest function in a fresh instance and returns its raw answer.
    pub fn call(&self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, HostError> {
        invoke(
            &self.pre,
            self.deadlines(),
            &self.shared,
            operation,
            payload,
        )
    }

    /// One instance of the module, created and initialised now and reused by
    /// every [`PolicyInstance::call`]; its host calls are served and recorded
    /// by this host.
    ///
    /// This is **not** what Kubewarden's policy-server does (it evaluates
    /// every request in a fresh instance, as [`call`](Self::call) does). It
    /// exists for the benchmarks, to separate the cost of creating an
    /// instance from the guest's own work. Guest state (its heap, anything a
    /// previous call left behind) carries over from one call to the next.
    pub fn instance(&self) -> Result<PolicyInstance, HostError> {
        catch_host_panic(|| instantiate(&self.pre, self.deadlines(), &self.shared))
            .map(|host| PolicyInstance { host })
    }

    /// Every host call (other than log lines) the guest made since the last
    /// [`clear_host_calls`](Self::clear_host_calls), violations included.
    #[must_use]
    pub fn host_calls(&self) -> Vec<HostCall> {
        self.shared.record().calls.clone()
    }

    /// Forgets the recorded host calls and guest log lines (not the violations).
    pub fn clear_host_calls(&self) {
        let mut record = self.shared.record();
        record.calls.clear();
        record.logs.clear();
    }

    /// Every forbidden host call since the host was created (or since
    /// [`clear_violations`](Self::clear_violations)), described in one line
    /// each. Only `kubewarden`/`kubernetes`/`get_resource` of a
    /// `v1`/`ServiceAccount` (with a well-formed GetResourceRequest payload)
    /// is allowed; the SDK's log calls are not counted. The guest got an error
    /// for each of them.
    #[must_use]
    pub fn violations(&self) -> Vec<String> {
        self.shared.record().violations.clone()
    }

    /// Forgets the recorded violations.
    pub fn clear_violations(&self) {
        self.shared.record().violations.clear();
    }

    /// Log lines the guest sent through the SDK's logging drain
    /// (`kubewarden`/`tracing`/`log` host calls) since the last
    /// [`clear_host_calls`](Self::clear_host_calls).
    #[must_use]
    pub fn guest_logs(&self) -> Vec<String> {
        self.shared.record().logs.clone()
    }

    /// Measures how much linear memory the guest needs to serve `operation`
    /// with `payload` in a fresh instance (initialisation included), in bytes
    /// (a multiple of [`WASM_PAGE_BYTES`]).
    ///
    /// wasmtime-provider does not expose the instance's memory, so this runs
    /// the call repeatedly (about 17 times) with a bisected memory cap and
    /// returns the smallest cap under which the guest gives the same answer
    /// as uncapped. Since linear memory never shrinks, that equals the memory
    /// size at the end of an uncapped call. Host calls made by these runs are
    /// not recorded. Fails if the uncapped call fails.
    pub fn linear_memory_bytes(&self, operation: &str, payload: &[u8]) -> Result<usize, HostError> {
        let scratch = Arc::new(Shared::new(self.shared.cluster.clone()));
        let deadlines = self.deadlines();
        let reference = invoke(&self.pre, deadlines, &scratch, operation, payload)?;

        let mut fits_pages = self
            .options
            .max_memory_bytes
            .map_or(MAX_WASM_PAGES, |bytes| {
                (bytes / WASM_PAGE_BYTES).min(MAX_WASM_PAGES)
            });
        let mut too_small = None::<usize>;
        // Invariant: `fits_pages` is enough; `too_small` (if any) is not.
        loop {
            let low = too_small.map_or(0, |p| p + 1);
            if low >= fits_pages {
                break;
            }
            let mid = low + (fits_pages - low) / 2;
            let pre = build_pre(&self.engine, &self.module, Some(mid * WASM_PAGE_BYTES))?;
            let answer = invoke(&pre, deadlines, &scratch, operation, payload);
            if matches!(&answer, Ok(bytes) if *bytes == reference) {
                fits_pages = mid;
            } else {
                too_small = Some(mid);
            }
        }
        Ok(fits_pages * WASM_PAGE_BYTES)
    }

    fn deadlines(&self) -> Option<EpochDeadlines> {
        self.options.timeout.map(|timeout| {
            let ticks = timeout.as_millis().div_ceil(EPOCH_TICK.as_millis()).max(1);
            let ticks = u64::try_from(ticks).unwrap_or(u64::MAX);
            EpochDeadlines {
                wapc_init: ticks,
                wapc_func: ticks,
            }
        })
    }
}

/// A long-lived instance of the policy, from [`PolicyHost::instance`].
pub struct PolicyInstance {
    host: WapcHost,
}

impl fmt::Debug for PolicyInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyInstance").finish_non_exhaustive()
    }
}

impl PolicyInstance {
    /// Calls a guest function in this instance and returns its raw answer.
    /// After a trap the instance is unusable; make a new one.
    pub fn call(&self, operation: &str, payload: &[u8]) -> Result<Vec<u8>, HostError> {
        catch_host_panic(|| self.host.call(operation, payload).map_err(guest_error))
    }
}

/// The payload Kubewarden hosts pass to a policy's `validate`:
/// `{"request": request, "settings": settings}`.
#[must_use]
pub fn validation_payload(request: &Value, settings: &Value) -> Vec<u8> {
    // Serialising a `Value` cannot fail (its map keys are always strings).
    serde_json::to_vec(&json!({ "request": request, "settings": settings })).unwrap_or_default()
}

fn build_pre(
    engine: &Engine,
    module: &Module,
    max_memory_bytes: Option<usize>,
) -> Result<WasmtimeEngineProviderPre, HostError> {
    let mut builder = WasmtimeEngineProviderBuilder::new()
        .engine(engine.clone())
        .module(module.clone());
    if max_memory_bytes.is_some() {
        builder = builder.enable_resource_limits(ResourceLimits {
            max_memory_size: max_memory_bytes,
            max_table_elements: None,
        });
    }
    builder
        .build_pre()
        .map_err(|e| HostError::Load(format!("cannot link module: {e}")))
}

/// Runs `operation` in a fresh instance made from `pre`.
fn invoke(
    pre: &WasmtimeEngineProviderPre,
    deadlines: Option<EpochDeadlines>,
    shared: &Arc<Shared>,
    operation: &str,
    payload: &[u8],
) -> Result<Vec<u8>, HostError> {
    catch_host_panic(|| {
        instantiate(pre, deadlines, shared)?
            .call(operation, payload)
            .map_err(guest_error)
    })
}

/// Creates and initialises (`_start`, `wapc_init`) one instance made from
/// `pre`, whose host calls are served by `shared`.
fn instantiate(
    pre: &WasmtimeEngineProviderPre,
    deadlines: Option<EpochDeadlines>,
    shared: &Arc<Shared>,
) -> Result<WapcHost, HostError> {
    let callback_state = Arc::clone(shared);
    let provider = pre
        .rehydrate(deadlines)
        .map_err(|e| HostError::Guest(format!("cannot create instance: {e}")))?;
    let callback: Box<wapc::HostCallback> =
        Box::new(move |_id, binding, namespace, operation, payload| {
            callback_state
                .host_call(binding, namespace, operation, payload)
                .map_err(Into::into)
        });
    WapcHost::new(Box::new(provider), Some(callback)).map_err(guest_error)
}

/// Runs `run`, turning a panic of host-side code into [`HostError::HostPanic`].
fn catch_host_panic<T>(run: impl FnOnce() -> Result<T, HostError>) -> Result<T, HostError> {
    match panic::catch_unwind(AssertUnwindSafe(run)) {
        Ok(result) => result,
        Err(panic) => Err(HostError::HostPanic(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "non-string panic payload".to_owned()),
        )),
    }
}

fn guest_error(error: wapc::errors::Error) -> HostError {
    let message = match error {
        wapc::errors::Error::GuestCallFailure(message) => message,
        other => other.to_string(),
    };
    if message.contains("execution deadline exceeded") {
        HostError::Timeout(message)
    } else {
        HostError::Guest(message)
    }
}

fn parse_response(bytes: &[u8], required_bool: &str) -> Result<Value, HostError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        HostError::Response(format!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(bytes)
        ))
    })?;
    if value.get(required_bool).is_some_and(Value::is_boolean) {
        Ok(value)
    } else {
        Err(HostError::Response(format!(
            "no boolean \"{required_bool}\" in {value}"
        )))
    }
}

/// Advances `engine`'s epoch every [`EPOCH_TICK`] until the engine is dropped
/// (the thread holds only a weak reference).
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    // If the thread cannot be spawned, deadlines simply never fire.
    let _ = thread::Builder::new()
        .name("policy-host-epoch".to_owned())
        .spawn(move || {
            loop {
                thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        });
}

/// Installs a stderr logger for wapc / wasmtime-provider when
/// [`DEBUG_ENV_VAR`] is set. Does nothing if another logger is installed.
fn init_debug_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os(DEBUG_ENV_VAR).is_some() && log::set_logger(&StderrLogger).is_ok() {
            log::set_max_level(log::LevelFilter::Info);
        }
    });
}

struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("wapc") || metadata.target().starts_with("wasmtime_provider")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("[{} {}] {}", record.level(), record.target(), record.args());
        }
    }

    fn flush(&self) {}
}
