# SPDX-License-Identifier: MPL-2.0
"""The simulator's view of a scenario: `bondcast sim` on the run's scenario file (the one
the emulator gets), for the latency-aware policy and the pooled oracle bound (no scheduler
can do better)."""
import json
import subprocess

from . import scenarios


def bound(tools, scenario, variant, folder):
    """{'latency-aware (sim)': result, 'oracle (sim)': result} or {} if not mirrored."""
    if not scenario.sim:
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"sim-{variant.label}.json"
    path.write_text(json.dumps(scenarios.run_config(scenario, scenario.duration_s), indent=1))
    done = subprocess.run([tools.bondcast, "sim", "--scenario", str(path), "--policy",
                           "latency-aware", "--compact", "--shared-dir", str(tools.shared_dir),
                           "--bitrate", f"{variant.bitrate_bps:.0f}bit",
                           "--latency", f"{variant.latency_ms}ms"],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"bondcast sim --scenario {path}: {done.stderr.strip()}")
    out = json.loads(done.stdout)
    return {"latency-aware (sim)": out["result"], "oracle (sim)": out["bounds"]["pooled_oracle"]}


def as_row(label, result, latency_ms):
    """A simulator result in the shape of a measured row (packets, not bytes)."""
    total = result.get("packets") or (result.get("on_time", 0) + result.get("late", 0)
                                      + result.get("lost", 0))
    lat = result.get("latency_ms", {})
    return {"mode": label, "latency_ms": latency_ms, "on_time_pct": result.get("on_time_pct"),
            "late_pct": 100.0 * result.get("late", 0) / total if total else None,
            "lost_pct": 100.0 * result.get("lost", 0) / total if total else None,
            "overhead_pct": result.get("overhead_pct"),
            "latency_p50_ms": lat.get("p50"), "latency_p99_ms": lat.get("p99"),
            "latency_p999_ms": lat.get("p999") or lat.get("p99.9"),
            "latency_max_ms": lat.get("max"), "simulated": True}
