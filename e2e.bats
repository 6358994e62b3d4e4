#!/usr/bin/env bats
# End-to-end tests of annotated-policy.wasm with a real kwctl (make e2e-tests).
#
# The ServiceAccount lookup is replayed from test_data/session-*.yml, so no
# cluster is needed. A case without a session runs without
# --allow-context-aware: any host call would then be denied and fail the case.
#
# tests/packaging.rs reads the policy_run and assert_* lines below and checks
# the same expectations against the policy's native code in `make test`, so
# keep to one policy_run per test and plain quoted arguments.

bats_require_minimum_version 1.5.0

POLICY=annotated-policy.wasm
KWCTL=${KWCTL:-kwctl}

setup_file() {
	if ! command -v "$KWCTL" >/dev/null 2>&1; then
		echo "$KWCTL is not on PATH: install kwctl to run the e2e tests" >&2
		return 1
	fi
	if [ ! -f "$POLICY" ]; then
		echo "$POLICY is missing: run make annotated-policy.wasm" >&2
		return 1
	fi
}

# policy_run SESSION REQUEST SETTINGS: evaluate test_data/REQUEST with the
# settings in test_data/SETTINGS, replaying test_data/SESSION ("-": none).
policy_run() {
	local session=$1 request=$2 settings=$3
	local args=(run -r "test_data/$request" --settings-json "$(cat "test_data/$settings")")
	if [ "$session" != "-" ]; then
		args+=(--allow-context-aware --replay-host-capabilities-interactions "test_data/$session")
	fi
	run --separate-stderr "$KWCTL" "${args[@]}" "$POLICY"
	echo "exit status: $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
}

# The request is accepted, the Pod is not changed, and there is no warning.
assert_accepted_unchanged() {
	[ "$status" -eq 0 ]
	jq -e '.allowed == true and (has("patch") | not) and (has("patchType") | not) and (has("status") | not) and .warnings == null' <<<"$output" >/dev/null
}

# The request is accepted unchanged with exactly these warnings, in order.
assert_accepted_with_warnings() {
	[ "$status" -eq 0 ]
	jq -e '.allowed == true and (has("patch") | not) and (has("patchType") | not)' <<<"$output" >/dev/null
	diff <(jq -c .warnings <<<"$output") <(jq -cn '$ARGS.positional' --args "$@")
}

# The request is accepted with exactly the JSON Patch operations in FILE
# (compared as a set; the order is the one kwctl's diff produces).
assert_patch() {
	local expected=$1
	[ "$status" -eq 0 ]
	jq -e '.allowed == true and .patchType == "JSONPatch"' <<<"$output" >/dev/null
	local ops
	ops=$(jq -r .patch <<<"$output" | base64 -d)
	echo "decoded patch: $ops"
	diff <(jq -S 'sort_by(.path)' <<<"$ops") <(jq -S 'sort_by(.path)' "test_data/$expected")
}

# The request is rejected and the message contains every argument.
assert_rejected_with() {
	[ "$status" -eq 0 ]
	jq -e '.allowed == false and (has("patch") | not)' <<<"$output" >/dev/null
	local message expected
	message=$(jq -r .status.message <<<"$output")
	for expected in "$@"; do
		grep -qF -- "$expected" <<<"$message" || {
			echo "message lacks: $expected"
			return 1
		}
	done
}

# kwctl refuses the settings: exit status 1, nothing on stdout, and stderr
# says so and contains every argument.
assert_settings_rejected() {
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	local expected
	for expected in "Provided settings are not valid: " "$@"; do
		grep -qF -- "$expected" <<<"$stderr" || {
			echo "stderr lacks: $expected"
			return 1
		}
	done
}

@test "mutate: a labelled Pod whose ServiceAccount has a client ID gets the identity" {
	policy_run session-mutate.yml request-labelled-pod.json e2e-settings.json
	assert_patch e2e-patch-mutate.json
}

@test "not selected: a Pod without the label is accepted unchanged, without a lookup" {
	policy_run - request-unlabelled-pod.json e2e-settings.json
	assert_accepted_unchanged
}

@test "ServiceAccount not found: the Pod is rejected" {
	policy_run session-sa-not-found.yml request-labelled-pod.json e2e-settings.json
	assert_rejected_with 'ServiceAccount "default/workload-sa" used by Pod "default/workload-app" was not found (' "Cannot find v1/ServiceAccount named 'workload-sa' inside of namespace" 'kubectl create serviceaccount -n default workload-sa'
}

@test "ServiceAccount not readable: the Pod is rejected and RBAC named" {
	policy_run session-sa-forbidden.yml request-labelled-pod.json e2e-settings.json
	assert_rejected_with 'ServiceAccount "default/workload-sa" used by Pod "default/workload-app" could not be read (' 'cannot get resource "serviceaccounts"' 'grant its ServiceAccount "get" on serviceaccounts'
}

@test "missing client ID: the Pod is rejected" {
	policy_run session-missing-client-id.yml request-labelled-pod.json e2e-settings.json
	assert_rejected_with 'ServiceAccount "default/workload-sa" used by Pod "default/workload-app" has no "azure.workload.identity/client-id" annotation'
}

@test "misspelt client ID annotation: the Pod is rejected and the typo named" {
	policy_run session-misspelt-client-id.yml request-labelled-pod.json e2e-settings.json
	assert_rejected_with 'has "azure.workload.identity/client_id", which looks like a misspelling of it'
}

@test "verify: an unmutated labelled Pod is accepted with a warning per difference" {
	policy_run session-mutate.yml request-labelled-pod.json e2e-settings-verify.json
	assert_accepted_with_warnings 'Pod default/workload-app: container "init-config" has none of the 4 env vars the policy injects; list it in azure.workload.identity/skip-containers or recreate the Pod with the mutating policy deployed' 'Pod default/workload-app: container "init-config" does not mount the token volume at /var/run/secrets/azure/wi; list it in azure.workload.identity/skip-containers or recreate the Pod with the mutating policy deployed' 'Pod default/workload-app: container "app" has none of the 4 env vars the policy injects; list it in azure.workload.identity/skip-containers or recreate the Pod with the mutating policy deployed' 'Pod default/workload-app: container "app" does not mount the token volume at /var/run/secrets/azure/wi; list it in azure.workload.identity/skip-containers or recreate the Pod with the mutating policy deployed' 'Pod default/workload-app: container "log-shipper" has none of the 4 env vars the policy injects; list it in azure.workload.identity/skip-containers or recreate the Pod with the mutating policy deployed' 'Pod default/workload-app: container "log-shipper" does not mount the token volume at /var/run/secrets/azure/wi; list it in azure.workload.identity/skip-containers or recreate the Pod with the mutating policy deployed' 'Pod default/workload-app: spec.volumes has no token volume azure-workload-identity-reserved-549d3c1935f5b955c7b85a81ea1a28; recreate the Pod with the mutating policy deployed'
}

@test "verify: the Pod the mutation produced is accepted without a warning" {
	policy_run session-mutate.yml request-mutated-pod.json e2e-settings-verify.json
	assert_accepted_unchanged
}

@test "invalid settings: unknown cloud" {
	policy_run - request-labelled-pod.json e2e-settings-invalid-environment.json
	assert_settings_rejected 'azureEnvironment "AzureMoonCloud" is not a known Azure cloud'
}

@test "invalid settings: no default tenant" {
	policy_run - request-labelled-pod.json e2e-settings-missing-tenant.json
	assert_settings_rejected 'defaultTenantId is required'
}

@test "invalid settings: upstream chart value name instead of the setting" {
	policy_run - request-labelled-pod.json e2e-settings-unknown-key.json
	assert_settings_rejected 'unknown field `azureTenantID`'
}
