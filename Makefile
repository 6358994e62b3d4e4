# azure-workload-identity-policy
#   make run     evaluate the example labelled Pod and print the decision and the patch
#   make test    everything CI checks (the list is at the `test` target below)
SHELL := /bin/bash
.DEFAULT_GOAL := policy.wasm

CARGO ?= cargo
WASM_TARGET := wasm32-wasip1
CRATE_WASM := $(or $(CARGO_TARGET_DIR),target)/$(WASM_TARGET)/release/azure_workload_identity_policy.wasm
# host/ (the waPC test host) is a workspace of its own; see the root Cargo.toml.
# With CARGO_TARGET_DIR set, the host gets a directory of its own below it: the two workspaces
# lock different versions of some crates, and one directory for both mixes them up.
HOST_TARGET_DIR := $(if $(CARGO_TARGET_DIR),$(CARGO_TARGET_DIR)/host,host/target)
HOST_MANIFEST := --manifest-path host/Cargo.toml
HOST := $(HOST_MANIFEST) --target-dir $(HOST_TARGET_DIR)
POLICY_HOST := $(CARGO) run --quiet --locked $(HOST) --bin policy-run --

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
fmt: ## rewrite the sources with rustfmt (CI only checks: fmt-check)
	$(CARGO) fmt --all
	$(CARGO) fmt --all $(HOST_MANIFEST)

# What `make test` (and so CI) runs, in this order:
#   kubewarden-checks  the cargo commands of Kubewarden's reusable test workflow
#                      (reusable-test-policy-rust.yml), verbatim, on the policy's workspace
#   lint               clippy on every target (tests, benches) of both workspaces
#   fmt-check          rustfmt of the host workspace
#   wasm-tests         the built policy.wasm through the project's waPC host
#   size-check         policy.wasm within its size budget
.PHONY: test
test: kubewarden-checks lint fmt-check wasm-tests size-check

.PHONY: kubewarden-checks
kubewarden-checks: setup
	$(CARGO) check --workspace --locked
	$(CARGO) test --workspace --locked
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --locked -- -D warnings

.PHONY: fmt-check
fmt-check: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) fmt --all $(HOST_MANIFEST) -- --check

.PHONY: lint
lint: setup
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) clippy --locked $(HOST) --all-targets -- -D warnings

.PHONY: unit-tests
unit-tests: setup ## the policy's own tests (unit, flow, properties, hostile, packaging)
	$(CARGO) test --locked --workspace

.PHONY: wasm-tests
wasm-tests: policy.wasm
	POLICY_WASM=$(CURDIR)/policy.wasm $(CARGO) test --locked $(HOST)

.PHONY: run
run: policy.wasm
	@if command -v kwctl >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory annotated-policy.wasm >/dev/null && \
		echo "# kwctl run (replaying the ServiceAccount lookup from test_data/session-mutate.yml)" && \
		kwctl run --allow-context-aware \
			--replay-host-capabilities-interactions test_data/session-mutate.yml \
			--request-path $(EXAMPLE_REQUEST) --settings-json '$(EXAMPLE_SETTINGS)' annotated-policy.wasm \
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

# --- packaging ---
# Kubewarden packaging. The packaging tests (tests/integration/packaging/: metadata.yml,
# artifacthub-pkg.yml, questions-ui.yml, deploy/, the e2e fixtures and the workflows) already
# run in `make test` through unit-tests; packaging-tests runs them alone (a name filter on the
# one integration test crate). The targets that need
# kwctl fail with a message when it is missing; `make test` does not need it.
KWCTL ?= kwctl
BATS ?= bats

.PHONY: packaging-tests
packaging-tests: setup ## consistency of the packaging files with Cargo.toml and the policy
	$(CARGO) test --locked -p azure-workload-identity-policy --test integration packaging::

.PHONY: require-kwctl
require-kwctl:
	@command -v $(KWCTL) >/dev/null 2>&1 || { \
		echo "error: '$(KWCTL)' is not on PATH. Install kwctl (https://docs.kubewarden.io/howtos/install-kwctl) to build annotated-policy.wasm and run the e2e tests." >&2; \
		exit 1; }

annotated-policy.wasm: policy.wasm metadata.yml README.md | require-kwctl
	$(KWCTL) annotate -m metadata.yml -u README.md -o annotated-policy.wasm policy.wasm

.PHONY: e2e-tests
e2e-tests: annotated-policy.wasm ## e2e.bats with a real kwctl; ServiceAccount lookups are replayed, no cluster needed
	@for tool in $(BATS) jq base64; do \
		command -v $$tool >/dev/null 2>&1 || { echo "error: '$$tool' is not on PATH; it is needed by e2e.bats" >&2; exit 1; }; \
	done
	KWCTL=$(KWCTL) $(BATS) e2e.bats

.PHONY: artifacthub-pkg
artifacthub-pkg: | require-kwctl ## regenerate artifacthub-pkg.yml (the release workflow does the same for the artifacthub branch)
	$(KWCTL) scaffold artifacthub -m metadata.yml -q questions-ui.yml -o artifacthub-pkg.yml
# --- end packaging ---

# --- reliability ---
# The property tests (tests/integration/properties/), the hostile inputs and the regression
# corpus (tests/integration/hostile/, test_data/regressions/) run in `make test` through
# unit-tests; see TESTING.md. reliability-tests runs them alone (name filters on the one
# integration test crate). PROPTEST_CASES (default 256) sets the cases per property:
#   make reliability-tests PROPTEST_CASES=10000
# `make fuzz` runs each cargo-fuzz target of fuzz/ (a workspace of its own, nightly) for
# FUZZ_SECONDS seconds, one after the other; new corpus entries go to fuzz/corpus/<target>,
# crashes to fuzz/artifacts/<target>/ (turn each into a fixture of test_data/regressions/).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := evaluate_payload check_settings structured_pod
FUZZ_ARGS_evaluate_payload := test_data/hostile fuzz/seeds/evaluate_payload -- -dict=fuzz/dict/payload.dict
FUZZ_ARGS_check_settings := fuzz/seeds/check_settings -- -dict=fuzz/dict/settings.dict
FUZZ_ARGS_structured_pod := -- -max_len=4096

.PHONY: reliability-tests
reliability-tests: setup ## the property tests, hostile inputs and regression corpus alone
	$(CARGO) test --locked -p azure-workload-identity-policy --test integration -- properties:: hostile::

.PHONY: fuzz-setup
fuzz-setup:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install --locked cargo-fuzz

.PHONY: fuzz
fuzz: fuzz-setup ## every fuzz target for FUZZ_SECONDS seconds (default 60)
	@set -e; for target in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/corpus/$$target; \
		echo "# fuzz $$target for $(FUZZ_SECONDS) s"; \
		case $$target in \
			evaluate_payload) args="$(FUZZ_ARGS_evaluate_payload)" ;; \
			check_settings) args="$(FUZZ_ARGS_check_settings)" ;; \
			*) args="$(FUZZ_ARGS_structured_pod)" ;; \
		esac; \
		$(CARGO) +nightly fuzz run $$target fuzz/corpus/$$target $$args \
			-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1; \
	done
# --- end reliability ---

# --- performance ---
# `make bench`: criterion benchmarks (host/benches/evaluate.rs) of policy.wasm through
# wapc + wasmtime-provider, of the same logic compiled natively and of a serde_json floor,
# measured in one run; host/benches/report.py writes the medians, ratios, targets, module
# size, compile time and linear memory to BENCHMARKS.md. Takes a while the first time: the
# benchmark is built with the release profile (fat LTO over wasmtime).
# `make size-check` (part of `make test`) fails when the release policy.wasm is over budget.
PYTHON ?= python3
SIZE_BUDGET_KIB ?= 400
CRITERION_DIR := $(HOST_TARGET_DIR)/criterion
# `make bench OPT_LEVELS="s z 3"` also builds policy.wasm with each of these opt-levels (in
# target/opt-level-<level>) and measures them in the same run, for the comparison in
# BENCHMARKS.md. Empty by default: the plain run measures the shipped profile only.
OPT_LEVELS ?=
OPT_LEVEL_DIR = $(abspath $(or $(CARGO_TARGET_DIR),target))/opt-level-$(1)
OPT_LEVEL_WASM = $(call OPT_LEVEL_DIR,$(1))/$(WASM_TARGET)/release/azure_workload_identity_policy.wasm
comma := ,
empty :=
space := $(empty) $(empty)
BENCH_WASM_VARIANTS := $(subst $(space),$(comma),$(strip $(foreach l,$(OPT_LEVELS),opt-$(l)=$(call OPT_LEVEL_WASM,$(l)))))

.PHONY: bench opt-level-variants
opt-level-variants: | setup
	@for level in $(OPT_LEVELS); do \
		echo "building policy.wasm with opt-level=$$level"; \
		CARGO_PROFILE_RELEASE_OPT_LEVEL=$$level $(CARGO) build --locked --target $(WASM_TARGET) \
			--release -p azure-workload-identity-policy \
			--target-dir $(call OPT_LEVEL_DIR,$$level) || exit 1; \
	done

bench: policy.wasm opt-level-variants
	POLICY_WASM=$(CURDIR)/policy.wasm BENCH_FACTS=$(abspath $(CRITERION_DIR))/policy-facts.json \
		BENCH_WASM_VARIANTS="$(BENCH_WASM_VARIANTS)" \
		$(CARGO) bench --locked $(HOST) --bench evaluate
	$(PYTHON) host/benches/report.py --workspace . --criterion $(CRITERION_DIR) \
		--facts $(CRITERION_DIR)/policy-facts.json --analysis host/benches/analysis.md \
		--command 'make bench$(if $(strip $(OPT_LEVELS)), OPT_LEVELS="$(strip $(OPT_LEVELS))")' \
		-o BENCHMARKS.md

.PHONY: size-check
size-check: policy.wasm
	@size=$$(wc -c < policy.wasm); budget=$$(( $(SIZE_BUDGET_KIB) * 1024 )); \
	if [ "$$size" -gt "$$budget" ]; then \
		echo "error: policy.wasm is $$size bytes ($$(( size / 1024 )) KiB), over the $(SIZE_BUDGET_KIB) KiB budget." >&2; \
		echo "       Find what grew with twiggy on a build with names (see BENCHMARKS.md, 'Size')." >&2; \
		exit 1; \
	fi; \
	echo "size-check: policy.wasm is $$size bytes ($$(( size / 1024 )) KiB), budget $(SIZE_BUDGET_KIB) KiB"

# --- end performance ---
