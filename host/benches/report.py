#!/usr/bin/env python3
"""Turn the output of `cargo bench -p policy-host --bench evaluate` into BENCHMARKS.md.

Reads criterion's estimates (<criterion>/<input>/<engine>/new/{benchmark,estimates}.json), the
facts the benchmark writes (module size, compile time, linear memory), Cargo.lock and the
toolchain, and writes a Markdown report with the medians, the ratios and the performance targets.
With --check it exits 1 when a target is missed. Python 3.11+ standard library only.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tomllib
from datetime import datetime, timezone
from pathlib import Path

INPUTS = [
    ("unlabelled", "unlabelled Pod (1 container)"),
    ("basic", "basic labelled Pod (1 container)"),
    ("init3-containers10", "3 init + 10 containers"),
    ("containers50", "50 containers"),
    ("already-mutated", "already-mutated Pod (re-invocation, no change)"),
    ("proxy", "proxy Pod (inject-proxy-sidecar)"),
    ("rejected-no-client-id", "rejected Pod (missing client-id)"),
]
# The other roles (workload and ServiceAccount checks, warnings, verify mode): reported in their
# own table, against the unlabelled and the basic labelled Pod of the same run.
ROLE_INPUTS = [
    ("unmarked-deployment", "Deployment without any marker (same Pod template as the unlabelled Pod)"),
    ("unmarked-serviceaccount", "ServiceAccount without any marker (kubectl apply)"),
    ("labelled-deployment", "labelled Deployment template (lookup, no finding)"),
    ("deployment-label-misplaced", "Deployment labelled on the wrong level (warning, no lookup)"),
    ("cronjob-no-client-id", "CronJob, ServiceAccount without client-id (lookup, warning)"),
    ("serviceaccount-misspelt", "ServiceAccount with a misspelt key (warning)"),
    ("pod-warning", "labelled Pod with a skip-containers typo (mutation + warning)"),
    ("verify-mutated", "verify mode, the mutated Pod (lookup, no finding)"),
    ("verify-unmutated", "verify mode, an unmutated Pod (lookup, 7 warnings)"),
]
# Requests the checks see on every write of their kind: each must cost no more than the
# unlabelled Pod.
UNMARKED = ["unmarked-deployment", "unmarked-serviceaccount"]
ENGINES = ["wasm-fresh", "wasm-reused", "native", "floor"]
ENGINE_NOTES = {
    "wasm-fresh": "policy.wasm via wapc + wasmtime-provider, fresh instance per request (as policy-server)",
    "wasm-reused": "policy.wasm, one instance reused across requests (guest work + waPC call only)",
    "native": "the same Rust logic compiled natively: respond(evaluate(payload, &source))",
    "floor": "serde_json: parse the payload into a Value, serialise the Pod back",
}
CRATES = [
    "wasmtime",
    "wasmtime-provider",
    "wapc",
    "kubewarden-policy-sdk",
    "k8s-openapi",
    "serde_json",
    "criterion",
]
BUDGET_KIB = 400



def load_estimates(criterion: Path):
    """{(group, function): {"median": ns, "low": ns, "high": ns, "mtime": float}}"""
    results = {}
    for bench in criterion.glob("*/*/new/benchmark.json"):
        estimates = bench.with_name("estimates.json")
        if not estimates.exists():
            continue
        meta = json.loads(bench.read_text())
        median = json.loads(estimates.read_text())["median"]
        key = (meta["group_id"], meta.get("function_id") or meta.get("value_str"))
        results[key] = {
            "median": median["point_estimate"],
            "low": median["confidence_interval"]["lower_bound"],
            "high": median["confidence_interval"]["upper_bound"],
            "mtime": estimates.stat().st_mtime,
        }
    return results


def fmt_time(ns):
    if ns is None:
        return "—"
    us = ns / 1000.0
    if us >= 100:
        return f"{us:,.0f} µs"
    if us >= 10:
        return f"{us:.1f} µs"
    return f"{us:.2f} µs"


def fmt_ratio(value):
    return "—" if value is None else f"{value:.2f}×"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def command(*args):
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine():
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} logical CPUs{memory}, {platform.system()} {platform.release()}"


def crate_versions(lock: Path):
    try:
        packages = tomllib.loads(lock.read_text()).get("package", [])
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    versions = {}
    for package in packages:
        versions.setdefault(package["name"], []).append(package["version"])
    return {name: ", ".join(sorted(set(versions.get(name, ["—"])))) for name in CRATES}


def release_profile(cargo_toml: Path):
    try:
        profile = tomllib.loads(cargo_toml.read_text())["profile"]["release"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"
    return ", ".join(f"{k} = {json.dumps(v)}" for k, v in profile.items())


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--criterion", type=Path, required=True, help="criterion output dir")
    parser.add_argument("--facts", type=Path, required=True, help="policy-facts.json")
    parser.add_argument("--workspace", type=Path, default=Path("."), help="workspace root")
    parser.add_argument("--analysis", type=Path, help="hand-written Markdown appended verbatim")
    parser.add_argument("--command", default="make bench", help="reproduction command")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()

    est = load_estimates(args.criterion)
    facts = json.loads(args.facts.read_text()) if args.facts.exists() else {}

    def median(group, engine):
        entry = est.get((group, engine))
        return entry["median"] if entry else None

    missing = [(g, e) for g, _ in INPUTS + ROLE_INPUTS for e in ENGINES if (g, e) not in est]
    if missing:
        sys.exit(f"report.py: no criterion results for {missing} under {args.criterion}; run the benchmark first")

    # Variants measured in this run: the facts file is rewritten by every run, criterion's
    # results of earlier runs stay on disk.
    variants = sorted(
        e for (g, e) in est
        if g == "basic" and e.startswith(("wasm-fresh-", "wasm-reused-"))
        and e.split("-", 2)[2] in facts
    )
    newest = max(v["mtime"] for v in est.values())
    out = []
    w = out.append

    w("# Benchmarks")
    w("")
    w("Generated by `host/benches/report.py` from the criterion results of")
    w(f"`{args.command}` (run finished {datetime.fromtimestamp(newest, timezone.utc):%Y-%m-%d %H:%M} UTC). "
      "Do not edit by hand: rerun the command.")
    w("")
    w("Each benchmark is one admission request evaluated end to end: parse the waPC payload "
      "`{request, settings}`, decide (ServiceAccount lookup included), build the response bytes. "
      "Figures are criterion **medians** of wall-clock time per request; the engines of one input "
      "were measured in the same run, so their ratios are meaningful even on a busy machine.")
    w("")
    w("| engine | what is measured |")
    w("| --- | --- |")
    for engine in ENGINES:
        w(f"| `{engine}` | {ENGINE_NOTES[engine]} |")
    w("")

    # ---- medians
    w("## Medians per input and engine")
    w("")
    w("| input | " + " | ".join(f"`{e}`" for e in ENGINES) + " | wasm-fresh / native | wasm-reused / native | native / floor |")
    w("| --- | " + " | ".join("---:" for _ in ENGINES) + " | ---: | ---: | ---: |")
    for group, label in INPUTS:
        m = {e: median(group, e) for e in ENGINES}
        w(f"| {label} | " + " | ".join(fmt_time(m[e]) for e in ENGINES)
          + f" | {fmt_ratio(ratio(m['wasm-fresh'], m['native']))}"
          + f" | {fmt_ratio(ratio(m['wasm-reused'], m['native']))}"
          + f" | {fmt_ratio(ratio(m['native'], m['floor']))} |")
    w("")
    fresh_fixed = median("overhead", "wasm-fresh")
    reused_fixed = median("overhead", "wasm-reused")
    minimal_fixed = median("overhead", "minimal-guest-fresh")
    if fresh_fixed is not None:
        w(f"Fixed cost of a request in policy-server's model (fresh instance, `wapc_init`, then the "
          f"cheapest call, `protocol_version`): **{fmt_time(fresh_fixed)}**; the same call in a reused "
          f"instance: {fmt_time(reused_fixed)}. The smallest possible waPC guest (one page of memory, "
          f"answers without reading its payload) costs {fmt_time(minimal_fixed)} per request in a fresh "
          f"instance: that much is wasmtime and wapc, whatever the policy.")
        w("")

    # ---- other roles
    w("## The other roles")
    w("")
    w("Workload and ServiceAccount checks, warnings and verify mode, in the same run. "
      "The ratios are to the unlabelled Pod (the guard's cheapest path) and to the basic "
      "labelled Pod (one lookup and a mutation).")
    w("")
    w("| input | `wasm-fresh` | `wasm-reused` | `native` | `floor` | fresh / unlabelled | reused / unlabelled | fresh / basic | reused / basic |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for group, label in ROLE_INPUTS:
        m = {e: median(group, e) for e in ENGINES}
        w(f"| {label} | " + " | ".join(fmt_time(m[e]) for e in ENGINES)
          + f" | {fmt_ratio(ratio(m['wasm-fresh'], median('unlabelled', 'wasm-fresh')))}"
          + f" | {fmt_ratio(ratio(m['wasm-reused'], median('unlabelled', 'wasm-reused')))}"
          + f" | {fmt_ratio(ratio(m['wasm-fresh'], median('basic', 'wasm-fresh')))}"
          + f" | {fmt_ratio(ratio(m['wasm-reused'], median('basic', 'wasm-reused')))} |")
    w("")

    # ---- per container
    w("## Cost per container")
    w("")
    w("| engine | 1 container | 50 containers | 50 / 1 | per extra container ((50 − 1) / 49) |")
    w("| --- | ---: | ---: | ---: | ---: |")
    for engine in ["wasm-fresh", "wasm-reused", "native", "floor"]:
        one, fifty = median("basic", engine), median("containers50", engine)
        per = (fifty - one) / 49 if one is not None and fifty is not None else None
        w(f"| `{engine}` | {fmt_time(one)} | {fmt_time(fifty)} | {fmt_ratio(ratio(fifty, one))} | {fmt_time(per)} |")
    w("")

    # ---- targets
    w("## Targets")
    w("")
    w("| target | limit | measured | |")
    w("| --- | ---: | ---: | --- |")
    missed = []

    def target(name, limit, value, note=""):
        ok = value is not None and value <= limit
        if not ok:
            missed.append(name)
        w(f"| {name}{note} | ≤ {limit:g}× | {fmt_ratio(value)} | {'met' if ok else '**missed**'} |")

    b = {e: median("basic", e) for e in ENGINES}
    target("wasm / native, basic Pod: the same work in both engines (`wasm-reused`)", 2.5,
           ratio(b["wasm-reused"], b["native"]))
    selected = [g for g, _ in INPUTS if g != "unlabelled"]
    worst = max(selected, key=lambda g: ratio(median(g, "native"), median(g, "floor")) or 0)
    target("native / serde floor, basic Pod", 2, ratio(b["native"], b["floor"]))
    target(f"native / serde floor, worst input ({worst})", 2,
           ratio(median(worst, "native"), median(worst, "floor")))
    for engine in ["wasm-fresh", "wasm-reused", "native"]:
        target(f"50 containers / 1 container, `{engine}`", 60,
               ratio(median("containers50", engine), b[engine]))
    for engine in ["wasm-fresh", "wasm-reused"]:
        target(f"unlabelled / basic labelled, `{engine}`", 0.5,
               ratio(median("unlabelled", engine), b[engine]))
    labels = dict(ROLE_INPUTS)
    for group in UNMARKED:
        for engine in ["wasm-fresh", "wasm-reused", "native"]:
            target(f"{labels[group].split(' (')[0]} / unlabelled Pod, `{engine}`", 1,
                   ratio(median(group, engine), median("unlabelled", engine)))
    w("")
    if fresh_fixed is not None and minimal_fixed is not None:
        w(f"Not a target, for the record: with a fresh instance per request, as policy-server runs "
          f"it, the basic Pod costs {fmt_ratio(ratio(b['wasm-fresh'], b['native']))} the native "
          f"logic. Instantiation is not policy logic: {fmt_time(minimal_fixed)} of every fresh "
          f"request is paid by any waPC guest, and {fmt_time(fresh_fixed - minimal_fixed)} more "
          f"by this module's instantiation and `wapc_init`. Without those "
          f"{fmt_time(fresh_fixed)} the basic Pod costs "
          f"{fmt_ratio(ratio(b['wasm-fresh'] - fresh_fixed, b['native']))} the native logic in a "
          f"fresh instance; the remainder over `wasm-reused` is the first touch of the guest's "
          f"memory pages (see the profile below).")
        w("")

    # ---- size, compile, memory
    w("## Module size, compile time, linear memory")
    w("")
    main_facts = facts.get("policy.wasm")
    if main_facts:
        size = main_facts["size_bytes"]
        w(f"- `policy.wasm`: **{size:,} bytes ({size / 1024:.1f} KiB)**, budget {BUDGET_KIB} KiB "
          f"(`make size-check`, part of `make test`).")
        w(f"- wasmtime compile time (`wasmtime::Module::new`, what policy-server pays per module at "
          f"start; median of 5): **{main_facts['compile_ms_median_of_5']:.0f} ms** "
          f"(all: {', '.join(f'{x:.0f}' for x in main_facts['compile_ms_all'])} ms).")
        mem = main_facts["linear_memory_bytes"]
        w(f"- Peak linear memory of one request in a fresh instance (initialisation included), "
          f"50-container Pod: **{mem['containers50'] / 1024:.0f} KiB** "
          f"({mem['containers50'] // 65536} pages of 64 KiB).")
        w("")
        w("| input | payload | linear memory |")
        w("| --- | ---: | ---: |")
        for group, label in INPUTS + ROLE_INPUTS:
            w(f"| {label} | {main_facts['payload_bytes'][group]:,} B | {mem[group] / 1024:.0f} KiB |")
        w("")
    w(f"Release profile (root `Cargo.toml`): `{release_profile(args.workspace / 'Cargo.toml')}`.")
    w("")

    # ---- variants
    if variants:
        w("## Module variants measured in the same run")
        w("")
        w(f"`policy.wasm` is the shipped build (`{release_profile(args.workspace / 'Cargo.toml')}`); "
          f"`opt-<level>` are the same sources built with only `opt-level` changed "
          f"(`make bench OPT_LEVELS=\"s z 3\"`).")
        w("")
        w("| module | size | compile | basic, fresh | basic, reused | basic, reused / native | 50 containers, reused | unlabelled, fresh |")
        w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        labels = [""] + sorted({v.split("-", 2)[2] for v in variants})
        for label in labels:
            suffix = f"-{label}" if label else ""
            f = facts.get(label or "policy.wasm", {})
            w(f"| {label or 'policy.wasm'} | {f.get('size_bytes', 0):,} B | "
              f"{f.get('compile_ms_median_of_5', 0):.0f} ms | "
              f"{fmt_time(median('basic', 'wasm-fresh' + suffix))} | "
              f"{fmt_time(median('basic', 'wasm-reused' + suffix))} | "
              f"{fmt_ratio(ratio(median('basic', 'wasm-reused' + suffix), median('basic', 'native')))} | "
              f"{fmt_time(median('containers50', 'wasm-reused' + suffix))} | "
              f"{fmt_time(median('unlabelled', 'wasm-fresh' + suffix))} |")
        w("")

    # ---- environment
    w("## Environment")
    w("")
    w(f"- Machine: {machine()}.")
    w(f"- Toolchain: `{command('rustc', '-V')}`, `{command('cargo', '-V')}`; "
      f"the native engines and the host are built with the `bench` profile (inherits `release`).")
    versions = crate_versions(args.workspace / "Cargo.lock")
    w("- Crates: " + ", ".join(f"{name} {version}" for name, version in versions.items()) + ".")
    w("- criterion: warm-up 1 s, measurement 3 s, 100 samples per benchmark; "
      "`wasm-*` engines time batches with the host's call record cleared first.")
    w("")
    w("## Reproduce")
    w("")
    w("```console")
    w(f"{args.command}   # builds policy.wasm, runs the benchmarks, rewrites BENCHMARKS.md")
    w("cargo bench -p policy-host --bench evaluate -- basic   # one input only (criterion filter)")
    w("```")
    w("")
    if args.analysis and args.analysis.exists():
        w(args.analysis.read_text().rstrip())
        w("")

    args.output.write_text("\n".join(out))
    print(f"wrote {args.output}")
    if missed:
        print("missed targets: " + "; ".join(missed), file=sys.stderr)
        if args.check:
            sys.exit(1)


if __name__ == "__main__":
    main()
