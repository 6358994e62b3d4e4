# azure-workload-identity-policy
#   make run     evaluate the example labelled Pod and print the decision and the patch
#   make test    everything CI checks: fmt, clippy, unit and flow tests, tests of the built .wasm
SHELL := /bin/bash
.DEFAULT_GOAL := policy.wasm

CARGO ?= cargo
WASM_TARGET := wasm32-wasip1
CRATE_WASM := target/$(WASM_TARGET)/release/azure_workload_identity_policy.wasm
POLICY_HOST := $(CARGO) run --quiet --locked -p policy-host --bin policy-run --

EXAMPLE_REQUEST := test_data/request-labelled-pod.json
EXAMPLE_SA := test_data/sa-workload.json
EXAMPLE_SETTINGS := $(shell cat test_data/settings-default.json)
SOURCES := $(shell find src -name '*.rs') Cargo.toml Cargo.lock

.PHONY: setup
setup: ## install the toolchain pieces a fresh machine lacks
	@rustup target list --installed | grep -qx $(WASM_TARGET) || rustup target add $(WASM_TARGET)
	@rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy

policy.wasm: $(SOURCES) | setup
	$(CARGO) build --locked --target $(WASM_TARGET) --release -p azure-workload-identity-policy
	cp $(CRATE_WASM) policy.wasm

.PHONY: fmt
fmt:
	$(CARGO) fmt --all

.PHONY: fmt-check
fmt-check: setup
	$(CARGO) fmt --all -- --check

.PHONY: lint
lint: setup
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

.PHONY: unit-tests
unit-tests: setup
	$(CARGO) test --locked -p azure-workload-identity-policy

.PHONY: wasm-tests
wasm-tests: policy.wasm
	POLICY_WASM=$(CURDIR)/policy.wasm $(CARGO) test --locked -p policy-host

.PHONY: test
test: fmt-check lint unit-tests wasm-tests

.PHONY: run
run: policy.wasm
	@if command -v kwctl >/dev/null 2>&1; then \
		echo "# kwctl run (replaying the ServiceAccount lookup from test_data/session-mutate.yml)"; \
		kwctl run --allow-context-aware \
			--replay-host-capabilities-interactions test_data/session-mutate.yml \
			--request-path $(EXAMPLE_REQUEST) --settings-json '$(EXAMPLE_SETTINGS)' policy.wasm \
			| jq '{allowed, message: .status.message, patch: (if .patch then (.patch | @base64d | fromjson) else null end)}'; \
	else \
		echo "# kwctl is not installed: evaluating with the project's own waPC host (wapc + wasmtime)"; \
		$(POLICY_HOST) --policy policy.wasm --request $(EXAMPLE_REQUEST) \
			--service-account $(EXAMPLE_SA) --settings-json '$(EXAMPLE_SETTINGS)'; \
	fi

.PHONY: clean
clean:
	$(CARGO) clean
	rm -f policy.wasm annotated-policy.wasm
