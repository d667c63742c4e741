# SPDX-License-Identifier: MPL-2.0
"""Times when this machine did not run a process that was due to run.

On a virtual machine one CPU, or the whole guest, can stop for 10-150 ms: CI once saw
the receiver write nothing for 125 ms in S1 and then 0.4% of the run's payloads late,
and this project's own machine, idle, stalls 10-60 ms at random (docs/playout.md,
"Output timing"). A payload the receiver wrote late inside such a span is late for the
machine, not for the playout clock.

`eval/run` starts one witness per CPU for every run (`python3 stalls.py CPU FILE`): pinned
to its CPU, it sleeps 1 ms at a time and writes each wake-up 2 ms or more late as
`due_us,woke_us` (CLOCK_MONOTONIC, the clock of the packet log). A CPU that runs at all
wakes it well within that. The metrics then discount, from each late payload's lateness,
the time the machine stood still (any CPU) between its playout time and its output.
"""
import os
import signal
import sys
import time

SLEEP_S = 0.001
LATE_US = 2000


def stall_files(run_dir):
    return sorted(p for p in os.listdir(run_dir) if p.startswith("stalls-cpu") and
                  p.endswith(".csv"))


def witness_argv(cpu, out_path):
    return [sys.executable, os.path.abspath(__file__), str(cpu), str(out_path)]


def read_spans(run_dir):
    """Every witness's spans in run_dir as (from_us, to_us); None when no witness ran."""
    files = stall_files(run_dir)
    if not files:
        return None
    spans = []
    for name in files:
        with open(os.path.join(run_dir, name)) as f:
            for line in f:
                parts = line.strip().split(",")
                if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
                    spans.append((int(parts[0]), int(parts[1])))
    return spans


def merged(spans):
    """The union of spans, in time order."""
    out = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def overlap_us(union, from_us, to_us):
    """How long the union of spans covers [from_us, to_us]."""
    total = 0
    for a, b in union:
        if a >= to_us:
            break
        total += max(0, min(b, to_us) - max(a, from_us))
    return total


def _witness(cpu, out_path):
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    try:
        os.sched_setaffinity(0, {cpu})
    except (OSError, AttributeError):
        pass  # unpinned: still sees a whole guest's stall
    with open(out_path, "w", buffering=1) as out:
        while not stop:
            due = time.monotonic_ns() // 1000 + int(SLEEP_S * 1e6)
            time.sleep(SLEEP_S)
            woke = time.monotonic_ns() // 1000
            if woke - due >= LATE_US:
                out.write(f"{due},{woke}\n")


if __name__ == "__main__":
    _witness(int(sys.argv[1]), sys.argv[2])
