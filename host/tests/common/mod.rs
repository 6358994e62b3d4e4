//! Hand-written waPC guests in WebAssembly text, so the host's tests need no
//! wasm toolchain: wasmtime compiles WAT directly.
#![allow(dead_code)]

/// Where the guest keeps things in its one page of linear memory.
const BINDING: u32 = 256;
const NAMESPACE: u32 = 320;
const OPERATION: u32 = 384;
const PAYLOAD: u32 = 512;
const ACCEPT: u32 = 3072;
const SETTINGS: u32 = 4096;
const VERSION: u32 = 4600;
const MESSAGE: u32 = 8192;
const SCRATCH: u32 = 32768;

/// The `validate` answer of [`Guest::accept`]: accepts and mutates.
pub const ACCEPT_RESPONSE: &str = r#"{"accepted":true,"message":null,"mutated_object":{"metadata":{"name":"p","labels":{"x":"y"}}}}"#;

/// A waPC guest. `validate` runs `body`; `validate_settings` answers
/// `settings_response`; `protocol_version` answers `"v1"`.
pub struct Guest {
    body: String,
    data: Vec<(u32, Vec<u8>)>,
    settings_response: String,
}

impl Guest {
    fn new(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            data: vec![(ACCEPT, ACCEPT_RESPONSE.as_bytes().to_vec())],
            settings_response: r#"{"valid":true}"#.to_owned(),
        }
    }

    /// `validate` answers [`ACCEPT_RESPONSE`].
    pub fn accept() -> Self {
        Self::new(respond(ACCEPT, ACCEPT_RESPONSE.len()))
    }

    /// `validate` answers its own payload.
    pub fn echo() -> Self {
        Self::new(format!(
            "(call $guest_response (i32.const {MESSAGE}) (local.get $msg_len)) (return (i32.const 1))"
        ))
    }

    /// `validate` answers exactly `bytes`.
    pub fn answer(bytes: &[u8]) -> Self {
        let mut guest = Self::new(respond(SCRATCH, bytes.len()));
        guest.data.push((SCRATCH, bytes.to_vec()));
        guest
    }

    /// `validate` makes one host call; it answers the host's response, or
    /// fails with the host's error message as guest error.
    pub fn host_call(binding: &str, namespace: &str, operation: &str, payload: &str) -> Self {
        Self::host_calls(binding, namespace, operation, payload, 1)
    }

    /// Like [`Guest::host_call`] but repeats the call `times` times.
    pub fn host_calls(
        binding: &str,
        namespace: &str,
        operation: &str,
        payload: &str,
        times: usize,
    ) -> Self {
        let call = format!(
            "(local.set $rc (call $host_call (i32.const {BINDING}) (i32.const {}) (i32.const {NAMESPACE}) (i32.const {}) (i32.const {OPERATION}) (i32.const {}) (i32.const {PAYLOAD}) (i32.const {})))",
            binding.len(),
            namespace.len(),
            operation.len(),
            payload.len()
        );
        let body = format!(
            "{}
            (if (i32.eq (local.get $rc) (i32.const 1))
              (then
                (call $host_response (i32.const {SCRATCH}))
                (call $guest_response (i32.const {SCRATCH}) (call $host_response_len))
                (return (i32.const 1)))
              (else
                (call $host_error (i32.const {SCRATCH}))
                (call $guest_error (i32.const {SCRATCH}) (call $host_error_len))
                (return (i32.const 0))))",
            call.repeat(times)
        );
        let mut guest = Self::new(body);
        guest.data.extend([
            (BINDING, binding.as_bytes().to_vec()),
            (NAMESPACE, namespace.as_bytes().to_vec()),
            (OPERATION, operation.as_bytes().to_vec()),
            (PAYLOAD, payload.as_bytes().to_vec()),
        ]);
        guest
    }

    /// `validate` fails with guest error `message`.
    pub fn guest_error(message: &str) -> Self {
        let mut guest = Self::new(format!(
            "(call $guest_error (i32.const {SCRATCH}) (i32.const {})) (return (i32.const 0))",
            message.len()
        ));
        guest.data.push((SCRATCH, message.as_bytes().to_vec()));
        guest
    }

    /// `validate` traps.
    pub fn trap() -> Self {
        Self::new("unreachable")
    }

    /// `validate` never returns.
    pub fn spin() -> Self {
        Self::new("(loop $forever (br $forever)) unreachable")
    }

    /// `validate` grows memory by `pages` (trapping if that fails), then accepts.
    pub fn grow(pages: u32) -> Self {
        Self::new(format!(
            "(if (i32.eq (memory.grow (i32.const {pages})) (i32.const -1)) (then unreachable)) {}",
            respond(ACCEPT, ACCEPT_RESPONSE.len())
        ))
    }

    /// `validate` answers with a pointer far outside its memory.
    pub fn wild_pointer() -> Self {
        Self::new(
            "(call $guest_response (i32.const 0x7fff0000) (i32.const 16)) (return (i32.const 1))",
        )
    }

    /// Makes `validate_settings` answer `response`.
    pub fn with_settings_response(mut self, response: &str) -> Self {
        self.settings_response = response.to_owned();
        self
    }

    /// The module in WebAssembly text.
    pub fn wat(&self) -> String {
        let mut data = self.data.clone();
        data.push((SETTINGS, self.settings_response.as_bytes().to_vec()));
        data.push((VERSION, b"\"v1\"".to_vec()));
        let segments: String = data
            .iter()
            .map(|(offset, bytes)| format!("(data (i32.const {offset}) \"{}\")\n", escape(bytes)))
            .collect();
        let settings = respond(SETTINGS, self.settings_response.len());
        let version = respond(VERSION, 4);
        format!(
            r#"(module
  (import "wapc" "__guest_request" (func $guest_request (param i32 i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__guest_error" (func $guest_error (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__host_response_len" (func $host_response_len (result i32)))
  (import "wapc" "__host_response" (func $host_response (param i32)))
  (import "wapc" "__host_error_len" (func $host_error_len (result i32)))
  (import "wapc" "__host_error" (func $host_error (param i32)))
  (memory (export "memory") 1)
  {segments}
  (func (export "__guest_call") (param $op_len i32) (param $msg_len i32) (result i32)
    (local $rc i32)
    (call $guest_request (i32.const 0) (i32.const {MESSAGE}))
    (if (i32.eq (local.get $op_len) (i32.const 17)) (then {settings}))
    (if (i32.eq (local.get $op_len) (i32.const 16)) (then {version}))
    {body}
    (i32.const 1)))"#,
            body = self.body
        )
    }

    /// The module as bytes for `PolicyHost::from_bytes` (WAT is accepted).
    pub fn bytes(&self) -> Vec<u8> {
        self.wat().into_bytes()
    }
}

/// `(call $guest_response ptr len) (return 1)`.
fn respond(ptr: u32, len: usize) -> String {
    format!("(call $guest_response (i32.const {ptr}) (i32.const {len})) (return (i32.const 1))")
}

fn escape(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:02x}")).collect()
}
