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

# The answer carries no warnings (kwctl prints "warnings": null).
assert_no_warnings() {
	jq -e '.warnings == null' <<<"$output" >/dev/null
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

# The request is accepted unchanged with exactly the warnings of FILE (a JSON
# list), which are also the message (what audit reports show).
assert_warned() {
	local expected=$1
	[ "$status" -eq 0 ]
	jq -e '.allowed == true and (has("patch") | not)' <<<"$output" >/dev/null
	diff <(jq -S .warnings <<<"$output") <(jq -S . "test_data/$expected")
	jq -e --slurpfile w "test_data/$expected" '.status.message == "azure-workload-identity: " + ($w[0] | join("; "))' <<<"$output" >/dev/null
}

# The request is accepted with the patch of PATCH and exactly the warnings of
# WARNINGS (a JSON list).
assert_patch_and_warnings() {
	local expected_patch=$1 expected_warnings=$2
	assert_patch "$expected_patch"
	diff <(jq -S .warnings <<<"$output") <(jq -S . "test_data/$expected_warnings")
}

# The request is rejected with exactly "azure-workload-identity: " and the
# findings of FILE (a JSON list) joined by "; ".
assert_rejected_with_findings() {
	local expected=$1
	[ "$status" -eq 0 ]
	jq -e --slurpfile w "test_data/$expected" '.allowed == false and (has("patch") | not) and .status.message == "azure-workload-identity: " + ($w[0] | join("; "))' <<<"$output" >/dev/null
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
	assert_no_warnings
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
	assert_warned e2e-warnings-verify-unmutated.json
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

@test "workload: the label on the Deployment instead of its Pod template is a warning" {
	policy_run - request-deployment-label-on-deployment.json e2e-settings.json
	assert_warned e2e-warnings-deployment-label.json
}

@test "workload: a CronJob whose ServiceAccount has no client ID is a warning" {
	policy_run session-missing-client-id-cached.yml request-cronjob.json e2e-settings.json
	assert_warned e2e-warnings-cronjob-no-client-id.json
}

@test "workload: with findings reject, the same CronJob is rejected after a fresh read" {
	policy_run session-missing-client-id.yml request-cronjob.json e2e-settings-reject.json
	assert_rejected_with_findings e2e-warnings-cronjob-no-client-id.json
}

@test "ServiceAccount: a misspelt client ID key is a warning, without a lookup" {
	policy_run - request-serviceaccount-misspelt.json e2e-settings.json
	assert_warned e2e-warnings-serviceaccount-misspelt.json
}

@test "Pod warning: skip-containers naming a container the Pod lacks" {
	policy_run session-mutate.yml request-labelled-pod-skip-typo.json e2e-settings.json
	assert_patch_and_warnings e2e-patch-mutate.json e2e-warnings-pod-skip-typo.json
}
