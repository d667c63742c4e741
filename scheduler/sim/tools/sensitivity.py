#!/usr/bin/env python3
# SPDX-License-Identifier: MPL-2.0
"""How much latency-aware's result on one scenario depends on its settings: runs
`bondcast sim` over a grid of scheduler settings around the defaults (the scenario's
"scheduler" section, scheduler/config.h) and prints, per point, the packets missed and
their ratio to the pooled oracle's, then the spread. A scheduler change that moves one
point across a bar has not moved the spread; compare spreads, not points.

usage: sensitivity.py BONDCAST_BINARY [SCENARIO.json] [--bar RATIO] [KEY=V1,V2,... ...]
  default scenario: ../scenarios/real_uplinks.json; default bar: 2.25 (the test's)
  default grid: rtt_trend_window=10ms,20ms,40ms rtt_trend_lead=40ms,50ms,70ms
                queue_uncertainty=0.5,0.6,0.7 (27 points)
  KEY is any field of a scenario's "scheduler" section; values are JSON numbers or
  durations ("20ms"). Given keys replace the whole default grid.
"""
import itertools
import json
import pathlib
import statistics
import sys
import tempfile

from compare import run

DEFAULT_GRID = {
    "rtt_trend_window": ["10ms", "20ms", "40ms"],
    "rtt_trend_lead": ["40ms", "50ms", "70ms"],
    "queue_uncertainty": [0.5, 0.6, 0.7],
}


def parse_value(text):
    try:
        return float(text)
    except ValueError:
        return text


def missed(result):
    return result["late"] + result["lost"]


def absolute_traces(scenario, base):
    """Relative trace paths are read from the scenario's folder: keep them readable from
    the temporary copy."""
    for link in scenario.get("links", []):
        rate = link.get("rate", "")
        if rate.startswith("trace:"):
            path = rate[len("trace:"):]
            if not path.startswith("${shared}") and not pathlib.Path(path).is_absolute():
                link["rate"] = "trace:" + str((base / path).resolve())


def main(argv):
    args = argv[1:]
    bar = 2.25
    if "--bar" in args:
        i = args.index("--bar")
        bar = float(args[i + 1])
        del args[i:i + 2]
    if "-h" in args or "--help" in args:
        print(__doc__)
        return
    if not args:
        sys.stderr.write(__doc__)
        sys.exit(2)
    binary = args.pop(0)
    here = pathlib.Path(__file__).resolve().parent.parent / "scenarios"
    path = here / "real_uplinks.json"
    if args and "=" not in args[0]:
        path = pathlib.Path(args.pop(0))
    grid = {}
    for arg in args:
        key, _, values = arg.partition("=")
        if not key or not values:
            sys.exit(f"sensitivity.py: expected KEY=V1,V2,... got '{arg}'")
        grid[key] = [parse_value(v) for v in values.split(",")]
    grid = grid or DEFAULT_GRID

    try:
        base = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        sys.exit(f"sensitivity.py: cannot read scenario {path}: {e}")
    absolute_traces(base, path.resolve().parent)
    oracle = missed(run(binary, path, "latency-aware", None, True)["bounds"]["pooled_oracle"])
    keys = list(grid)
    print(f"scenario {path.name}: pooled oracle misses {oracle}; bar {bar}x = "
          f"{bar * oracle:.0f}\n")
    print("| " + " | ".join(keys) + " | missed | / oracle |")
    print("|" + "---|" * (len(keys) + 2))
    counts, ratios = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for values in itertools.product(*(grid[k] for k in keys)):
            variant = json.loads(json.dumps(base))
            variant.setdefault("scheduler", {}).update(dict(zip(keys, values)))
            file = pathlib.Path(tmp) / "variant.json"
            file.write_text(json.dumps(variant))
            m = missed(run(binary, file, "latency-aware", None, False)["result"])
            counts.append(m)
            ratio = f"{m / oracle:.3f}" if oracle else "-"
            print("| " + " | ".join(str(v) for v in values) + f" | {m} | {ratio} |")
    print(f"\n{len(counts)} points: missed min {min(counts)}, median "
          f"{statistics.median(counts):g}, max {max(counts)}", end="")
    if oracle:
        passing = sum(m <= bar * oracle for m in counts)
        print(f"; / oracle min {min(counts) / oracle:.3f}, median "
              f"{statistics.median(counts) / oracle:.3f}, max {max(counts) / oracle:.3f}; "
              f"{passing} at or below {bar}x")
    else:
        print("; the oracle misses nothing, so no ratio")


if __name__ == "__main__":
    main(sys.argv)
