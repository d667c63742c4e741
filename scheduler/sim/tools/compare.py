#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""Runs every scheduler policy on every scenario with `bondcast sim` and prints one
Markdown table: on-time %, overhead %, p99 latency and frames on time, next to the
pooled-capacity oracle and ideal broadcast of each scenario.

usage: compare.py BONDCAST_BINARY [SCENARIO.json ...] [--seed N]
(default scenarios: aggregation, outage, real_uplinks from this folder's ../scenarios)
"""
import json
import pathlib
import subprocess
import sys

POLICIES = ["broadcast", "backup", "round-robin", "min-rtt", "srtla", "latency-aware"]


def run(binary, scenario, policy, seed, bounds):
    cmd = [binary, "sim", "--scenario", str(scenario), "--policy", policy, "--compact"]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    if not bounds:
        cmd.append("--no-bounds")
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {done.stderr.strip()}")
    return json.loads(done.stdout)


def row(scenario, label, r):
    return (f"| {scenario} | {label} | {r['on_time_pct']:.3f} | {r['late'] + r['lost']} | "
            f"{r['overhead_pct']:.2f} | {r['latency_ms']['p99']:.1f} | "
            f"{r['frames_on_time']}/{r['frames']} |")


def main(argv):
    seed = None
    if "--seed" in argv:
        i = argv.index("--seed")
        seed = int(argv[i + 1])
        del argv[i:i + 2]
    binary = argv[1]
    here = pathlib.Path(__file__).resolve().parent.parent / "scenarios"
    scenarios = [pathlib.Path(p) for p in argv[2:]] or [
        here / "aggregation.json", here / "outage.json", here / "real_uplinks.json"]
    print("| scenario | policy | on time % | missed | overhead % | p99 ms | frames on time |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for scenario in scenarios:
        name = scenario.stem
        bounds = None
        for policy in POLICIES:
            out = run(binary, scenario, policy, seed, bounds is None)
            bounds = bounds or out["bounds"]
            print(row(name, policy, out["result"]))
        print(row(name, "*pooled oracle*", bounds["pooled_oracle"]))
        print(row(name, "*ideal broadcast*", bounds["ideal_broadcast"]))


if __name__ == "__main__":
    main(sys.argv)
