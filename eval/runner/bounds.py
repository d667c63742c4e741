# SPDX-License-Identifier: MPL-2.0
"""The bounds `eval/run --quick` asserts (CI smoke test). Generous on purpose: the
machine is 2 shared cores and runs other builds; these catch a broken mode, not a
few tenths of a percent. The same list is printed in eval/RESULTS.md.

Each bound: (scenario, mode or '*', metric, 'max' or 'min', limit, why).
"""

BOUNDS = [
    ("*", "*", "duplicates_out", "max", 0, "the output never repeats a payload"),
    ("*", "*", "delivered_bytes", "min", 1, "every mode delivers something"),
    ("S0", "single", "lost_pct", "max", 1.0,
     "one 20 Mbit/s link with 1% loss, 160 ms: SRT's ARQ hides the loss"),
    ("S0", "broadcast", "lost_pct", "max", 1.0, "same link as a one-member group"),
    ("S1", "broadcast", "on_time_pct", "max", 50.0,
     "12 Mbit/s cannot fit a 6 Mbit/s member: the emulator really limits rates"),
    ("S1", "adaptive:latency-aware", "lost_pct", "max", 1.0,
     "10 + 6 Mbit/s carry 12 Mbit/s when the stream is split"),
    ("S1", "adaptive:latency-aware", "on_time_pct", "min", 95.0,
     "... and nearly all of it on time (measured 98.4% on 2026-11-27)"),
    ("*", "adaptive:latency-aware", "late_outside_stalls_pct", "max", 0.1,
     "the playout clock writes nothing after its playout time (a few late payloads allowed "
     "for a loaded machine; those late through the machine's stalls, see stalls.py, do "
     "not count)"),
    ("*", "adaptive:latency-aware", "late_pct", "max", 3.0,
     "... and a machine that stalls the receiver this much (about 450 ms of a 15 s run) is "
     "no test of it"),
    ("S1", "adaptive:latency-aware", "overhead_pct", "max", 30.0,
     "splitting does not mean duplicating everything"),
    ("S2", "broadcast", "lost_pct", "max", 1.0, "two live links of three: hitless"),
    ("S2", "backup", "lost_pct", "max", 5.0, "backup switches within about a second"),
    ("S2", "adaptive:latency-aware", "lost_pct", "max", 1.0,
     "adaptive re-sends what the dead link held"),
]


def check(scenario_name, results):
    """Failure messages for the results of one scenario (list of metric dicts)."""
    failures = []
    for sc, mode, metric, kind, limit, why in BOUNDS:
        if sc not in ("*", scenario_name):
            continue
        for r in results:
            if mode not in ("*", r["mode"]) or r.get(metric) is None:
                continue
            value = r[metric]
            ok = value <= limit if kind == "max" else value >= limit
            if not ok:
                failures.append(
                    f"{scenario_name} {r['mode']} {r['latency_ms']} ms: {metric} = {value:.3f}, "
                    f"bound {'<=' if kind == 'max' else '>='} {limit} ({why})")
    return failures


def markdown():
    lines = ["| scenario | mode | bound | why |", "|---|---|---|---|"]
    for sc, mode, metric, kind, limit, why in BOUNDS:
        lines.append(f"| {sc} | {mode} | {metric} {'<=' if kind == 'max' else '>='} {limit} "
                     f"| {why} |")
    return "\n".join(lines)
