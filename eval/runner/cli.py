# SPDX-License-Identifier: MPL-2.0
"""Command line and orchestration of eval/run (see eval/run's docstring)."""
import argparse
import datetime
import json
import os
import pathlib
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time

from . import bounds, media, metrics, modes, report, scenarios, sim
from .procs import RunError

EVAL_DIR = pathlib.Path(__file__).resolve().parent.parent
REPO = EVAL_DIR.parent
SEARCH_MODES = ["single", "broadcast", "backup", "adaptive:latency-aware"]
SEARCH_DURATION_S = 30.0


def parse_args(argv, known):
    p = argparse.ArgumentParser(
        prog="eval/run", description="Run bondcast's evaluation scenarios with real processes "
        "on loopback and report the metrics (see eval/RESULTS.md).")
    p.add_argument("--quick", action="store_true",
                   help="short runs of the scenarios with a quick block (S0, S1, S2), few "
                   "modes; fails on a passed bound; does not touch eval/RESULTS.md")
    p.add_argument("--scenario", action="append", default=[], metavar="NAME",
                   help=f"run only this scenario (repeatable); known: {', '.join(known)}")
    p.add_argument("--mode", action="append", default=[], metavar="MODE",
                   help="run only this mode (repeatable): single, broadcast, backup, "
                   "adaptive:POLICY, srtla:POLICY (latency-aware or srtla), srtla-ref (the "
                   "reference srtla_send, BUILD/peers/srtla/srtla_send, fed by a one-link "
                   "SRT caller; links told apart by source address 127.0.0.2, ...)")
    p.add_argument("--variant", action="append", default=[], metavar="LABEL",
                   help="run only this bitrate-latency variant (repeatable), e.g. 8mbit-300ms")
    p.add_argument("--out", default=os.environ.get("BONDCAST_EVAL_OUT",
                                                   f"/tmp/bondcast-eval-{os.getuid()}"),
                   help="folder for samples, logs, packet logs (default %(default)s)")
    p.add_argument("--bondcast", default=str(REPO / "build" / "bin" / "bondcast"),
                   help="the bondcast binary (default %(default)s)")
    p.add_argument("--shared", default=os.environ.get("BONDCAST_SHARED_DIR",
                                                      str(REPO.parent / "shared")),
                   help="folder holding traces/ (default $BONDCAST_SHARED_DIR or ../shared)")
    p.add_argument("--duration", type=float, metavar="SECONDS",
                   help="cap every run's duration (events after it do not happen)")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run every mode N times, the modes taking turns, and report each "
                   "metric's median (the on-time share of every run is listed too)")
    p.add_argument("--no-search", action="store_true",
                   help="skip the lowest-latency search (S0, S1; full run only)")
    p.add_argument("--search-only", action="store_true",
                   help="only the lowest-latency search (its own block in RESULTS.md)")
    p.add_argument("--report-only", action="store_true",
                   help="run nothing: recompute the metrics of the runs stored in --out and "
                   "rewrite their RESULTS.md blocks and plots (with the stored command)")
    p.add_argument("--no-results", action="store_true",
                   help="do not write eval/RESULTS.md or eval/results/*.png")
    args = p.parse_args(argv)
    known_modes = (["single", "broadcast", "backup"]
                   + [f"adaptive:{p}" for p in scenarios.POLICIES]
                   + [f"srtla:{p}" for p in scenarios.SRTLA_POLICIES] + ["srtla-ref"])
    bad_modes = [m for m in args.mode if m not in known_modes]
    if bad_modes:
        p.error(f"unknown mode {', '.join(bad_modes)}; known: {', '.join(known_modes)}")
    unknown = [s for s in args.scenario if s not in known]
    if unknown:
        p.error(f"unknown scenario {', '.join(unknown)}; known: {', '.join(known)}")
    return args


def check_tools(args):
    """Fails early, with a clear message, when a binary is missing."""
    problems = []
    if not os.access(args.bondcast, os.X_OK):
        problems.append(f"no bondcast binary at {args.bondcast} (build it, or pass --bondcast)")
    for tool in ("ffmpeg", "srt-live-transmit"):
        if not shutil.which(tool):
            problems.append(f"{tool} not found (tools/setup installs it)")
    return problems


def log(msg):
    print(f"[eval {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run_scenario(tools, scenario, args, out_dir):
    """Every variant x mode of one scenario; returns (rows, runs, failures, skipped)."""
    rows, runs, failures, skipped = [], [], [], []
    if any("${shared}" in str(l) for l in scenario.links) and \
            not (pathlib.Path(tools.shared_dir) / "traces").is_dir():
        return rows, runs, [f"{scenario.name}: no traces/ in {tools.shared_dir} (pass --shared)"], \
            skipped
    duration = min(scenario.duration_s, args.duration or scenario.duration_s)
    capacity = scenario.capacity_bps(tools.shared_dir)
    for variant in scenario.variants:
        if args.variant and variant.label not in args.variant:
            continue
        sample = media.sample(out_dir / "media", variant.bitrate_bps, duration)
        chosen = []
        for mode in scenario.modes:
            if args.mode and mode not in args.mode:
                continue
            if mode.startswith("adaptive:") and not tools.adaptive:
                skipped.append(f"{scenario.name} {mode}: this bondcast has no adaptive mode")
                continue
            if mode.startswith("srtla:") and not tools.srtla:
                skipped.append(f"{scenario.name} {mode}: this bondcast has no srtla mode")
                continue
            if mode == "srtla-ref":
                why = srtla_ref_missing(tools)
                if why:
                    skipped.append(f"{scenario.name} {mode}: {why}")
                    continue
            chosen.append(mode)
        measured = {mode: [] for mode in chosen}
        for repeat in range(args.repeat):  # the modes take turns: noise hits them alike
            for mode in chosen:
                run_dir = out_dir / "runs" / scenario.name / variant.label / run_folder(
                    mode, repeat, args.repeat)
                log(f"{scenario.name} {variant.label} {mode} ({duration:g} s)"
                    + (f" run {repeat + 1}/{args.repeat}" if args.repeat > 1 else ""))
                try:
                    run = modes.run(tools, scenario, variant, mode, sample, duration, run_dir)
                except RunError as e:
                    failures.append(f"{scenario.name} {variant.label} {mode}: {e}")
                    log(f"FAILED: {e}")
                    continue
                run["repeat"] = repeat
                m = metrics.compute(run, scenario, capacity)
                m["variant"] = variant.label
                measured[mode].append(m)
                runs.append(run)
                log(summary_line(m))
        rows += [median_row(ms) for ms in measured.values() if ms]
        rows += sim_rows(tools, scenario, variant, duration, out_dir, failures)
    return rows, runs, failures, skipped


def srtla_ref_missing(tools):
    """Why the srtla-ref mode cannot run here ("" if it can)."""
    if not tools.srtla_send:
        return (f"no reference srtla_send at {modes.srtla_send_expected(tools.bondcast)} "
                "(build the CMake target srtla_send_reference; it needs ../shared/peers/srtla)")
    if not tools.srtla:
        return "this bondcast recv has no srtla:// listener"
    if not tools.emulate_from:
        return "this bondcast emulate has no from= link option (links sharing one port)"
    return ""


def run_folder(mode, repeat, repeats):
    name = mode.replace(":", "-")
    return f"{name}-run{repeat + 1}" if repeats > 1 else name


def median_row(rows):
    """One row for several runs of a mode: each number the median of the runs' (the
    per-run on-time shares kept in on_time_runs); the rest from the first run."""
    out = dict(rows[0])
    if len(rows) == 1:
        return out
    for key, value in rows[0].items():
        values = [r.get(key) for r in rows]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                all(isinstance(v, (int, float)) for v in values):
            out[key] = statistics.median(values)
    out["on_time_runs"] = [r.get("on_time_pct") for r in rows]
    return out


def sim_rows(tools, scenario, variant, duration, out_dir, failures):
    if not scenario.sim:
        return []
    mirrored = scenarios.Scenario(**{**scenario.__dict__, "duration_s": duration})
    try:
        results = sim.bound(tools, mirrored, variant, out_dir / "sim" / scenario.name)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        failures.append(f"{scenario.name} simulator: {e}")
        return []
    return [dict(sim.as_row(label, r, variant.latency_ms), variant=variant.label)
            for label, r in results.items()]


def summary_line(m):
    def f(key, fmt):
        return format(m[key], fmt) if m.get(key) is not None else "-"
    stalls = (f" ({f('late_outside_stalls_pct', '.3f')}% outside {f('stalls', 'd')} stalls, "
              f"the longest {f('longest_stall_ms', '.0f')} ms)"
              if m.get("late_pct") and m.get("stalls") is not None else "")
    return (f"  on time {f('on_time_pct', '.3f')}%  late {f('late_pct', '.3f')}%{stalls}  "
            f"lost {f('lost_pct', '.3f')}%  "
            f"dup {f('duplicates_out', 'd')}  p99 {f('latency_p99_ms', '.0f')} ms  "
            f"gap {f('longest_gap_ms', '.0f')} ms  overhead {f('overhead_pct', '.1f')}%  "
            f"CPU {f('cpu_s_per_gbit', '.1f')} s/Gbit  ({m['wall_s']:.0f} s)")


def latency_search(tools, scenario, args, out_dir):
    """Per mode, the lowest latency in the scenario's list at which nothing is lost
    (late payload is allowed and shown; binary search; assumes more latency never
    hurts)."""
    found = {}
    duration = min(SEARCH_DURATION_S, args.duration or SEARCH_DURATION_S)
    capacity = scenario.capacity_bps(tools.shared_dir)
    bitrate = scenario.variants[0].bitrate_bps
    sample = media.sample(out_dir / "media", bitrate, duration)
    for mode in SEARCH_MODES:
        if (args.mode and mode not in args.mode) or (mode.startswith("adaptive")
                                                     and not tools.adaptive):
            continue
        lats, tried = sorted(scenario.latency_search_ms), {}
        lo, hi, best = 0, len(lats) - 1, None
        while lo <= hi:
            mid = (lo + hi) // 2
            variant = scenarios.Variant(bitrate, lats[mid])
            run_dir = out_dir / "search" / scenario.name / mode.replace(":", "-") / str(lats[mid])
            log(f"search {scenario.name} {mode} {lats[mid]} ms")
            try:
                m = metrics.compute(modes.run(tools, scenario, variant, mode, sample, duration,
                                              run_dir), scenario, capacity)
                lost, late = m["lost_pct"], m["late_pct"]
            except RunError as e:
                log(f"FAILED: {e}")
                lost, late = 100.0, 0.0
            tried[lats[mid]] = [lost, late]
            if lost == 0:
                best, hi = lats[mid], mid - 1
            else:
                lo = mid + 1
        found[mode] = {"lowest_ms": best, "tried": tried}
    return found


def machine():
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} x {model}, Linux {platform.release()}"


def git_commit():
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--",
                                "sender", "receiver", "app", "common", "scheduler", "eval"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return commit + (" with uncommitted changes" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def scenario_markdown(scenario, rows, search, skipped, failures, context):
    body = [f"### {scenario.name}: {scenario.title}", "", scenario.comment, "",
            f"Measured {context['date']} on {context['machine']}, commit {context['commit']}; "
            f"`{context['command']}` ({context['duration'][scenario.name]:g} s per run). "
            "Plots: "
            + ", ".join(f"[{k}](results/{scenario.name}_{k}.png)"
                        for k in ("latency", "share", "loss_cdf")) + ".", ""]
    for label in sorted({r["variant"] for r in rows}, key=lambda v: [r["variant"] for r in
                                                                       rows].index(v)):
        budget = next((r["budget_ms"] for r in rows if r["variant"] == label
                       and r.get("budget_ms")), None)
        budget_text = f"{budget:g} ms" if budget else "n/a"
        body += [f"**{scenario.name}, {label}** (on time: end-to-end latency <= "
                 f"{budget_text}; simulator rows count packets, not bytes)", "",
                 report.table([r for r in rows if r["variant"] == label]), ""]
    if search:
        body += ["Lowest latency with zero loss "
                 f"({SEARCH_DURATION_S:g} s per probe):", "",
                 report.search_table({scenario.name: search}), ""]
    for r in rows:
        if r.get("on_time_runs"):
            body.append(f"- {r['variant']} {r['mode']}: medians of {len(r['on_time_runs'])} "
                        "runs; on time per run: "
                        + " / ".join(f"{v:.3f}" for v in r["on_time_runs"]) + "%")
    for r in rows:
        if r.get("feed_loss_pct"):
            body.append(f"- {r['variant']} single: the ffmpeg -> UDP -> srt-live-transmit feed "
                        f"lost {r['feed_loss_pct']:.3f}% of the bytes before SRT (not counted "
                        "above)")
    for note in skipped + failures:
        body.append(f"- not measured: {note.splitlines()[0]}")
    return "\n".join(body)


def write_results(results_md, scenario, rows, search, skipped, failures, context):
    text = results_md.read_text()
    text = report.replace_block(text, "method", method_markdown())
    text = report.replace_block(text, scenario.name, scenario_markdown(
        scenario, rows, search, skipped, failures, context))
    results_md.write_text(text)


def method_markdown():
    return (pathlib.Path(__file__).with_name("method.md").read_text().rstrip()
            + "\n\nBounds `eval/run --quick` asserts (eval/runner/bounds.py):\n\n"
            + bounds.markdown())


def report_only(tools, scenario, args, out_dir):
    """Recomputes one scenario's metrics from its stored runs and rewrites its block."""
    stored = out_dir / f"{scenario.name}.json"
    if not stored.exists():
        log(f"{scenario.name}: nothing stored in {out_dir}")
        return
    data = json.loads(stored.read_text())
    capacity = scenario.capacity_bps(tools.shared_dir)
    grouped = {}
    for run in data["runs"]:
        label = pathlib.Path(run["dir"]).parent.name
        grouped.setdefault((label, run["mode"]), []).append(
            dict(metrics.compute(run, scenario, capacity), variant=label))
    rows = [median_row(ms) for ms in grouped.values()]
    rows += [r for r in data["rows"] if r.get("simulated")]
    print(f"\n{scenario.name}: {scenario.title}\n{report.table(rows)}\n", flush=True)
    if args.no_results:
        return
    write_results(EVAL_DIR / "RESULTS.md", scenario, rows, data.get("search", {}),
                  data.get("skipped", []), data.get("failures", []), data["context"])
    from . import plots
    plots.scenario_plots(scenario, data["runs"], rows, EVAL_DIR / "results")


def run_search_only(tools, scenario, args, out_dir, context):
    if not scenario.latency_search_ms:
        log(f"{scenario.name} has no latency_search_ms list")
        return
    search = latency_search(tools, scenario, args, out_dir)
    (out_dir / f"{scenario.name}-search.json").write_text(json.dumps(search, indent=1))
    print(report.search_table({scenario.name: search}), flush=True)
    if args.no_results:
        return
    duration = min(SEARCH_DURATION_S, args.duration or SEARCH_DURATION_S)
    body = "\n".join([
        f"### {scenario.name}: lowest latency with zero loss", "",
        f"Measured {context['date']} on {context['machine']}, commit {context['commit']}; "
        f"`{context['command']}` ({duration:g} s per probe, "
        f"{scenario.variants[0].bitrate_bps / 1e6:g} Mbit/s; binary search over "
        f"{scenario.latency_search_ms} ms).", "",
        report.search_table({scenario.name: search})])
    results_md = EVAL_DIR / "RESULTS.md"
    results_md.write_text(report.replace_block(results_md.read_text(),
                                               f"{scenario.name} latency search", body))


def _exit_on_sigterm(signum, _frame):
    """SIGTERM (ctest's timeout) unwinds like Ctrl-C, so every run's processes die."""
    raise SystemExit(128 + signum)


def main(argv):
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    known = scenarios.discover(EVAL_DIR / "scenarios")
    args = parse_args(argv, list(known))
    problems = check_tools(args)
    if problems:
        for p in problems:
            print(f"eval/run: {p}", file=sys.stderr)
        return 1
    out_dir = pathlib.Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    tools = modes.Tools.probe(args.bondcast, args.shared)
    if not tools.packet_log:
        log("this bondcast recv has no --packet-log: only delivered bytes are measured")
    names = args.scenario or [n for n, p in known.items()
                              if not args.quick or scenarios.has_quick(p)]
    context = {"date": datetime.date.today().isoformat(), "machine": machine(),
               "commit": git_commit(), "duration": {},
               "command": "eval/run " + " ".join(shlex.quote(a) for a in argv)}
    started, all_failures, all_rows = time.monotonic(), [], {}
    for name in names:
        scenario = scenarios.load(known[name], quick=args.quick)
        context["duration"][name] = min(scenario.duration_s, args.duration or 1e9)
        if args.report_only:
            report_only(tools, scenario, args, out_dir)
            continue
        if args.search_only:
            run_search_only(tools, scenario, args, out_dir, context)
            continue
        rows, runs, failures, skipped = run_scenario(tools, scenario, args, out_dir)
        search = {}
        if not args.quick and not args.no_search and scenario.latency_search_ms:
            search = latency_search(tools, scenario, args, out_dir)
        failures += bounds.check(name, rows) if args.quick else []
        all_failures += failures
        all_rows[name] = {"rows": rows, "search": search, "skipped": skipped,
                          "failures": failures}
        for note in skipped:
            log(f"skipped: {note}")
        (out_dir / f"{name}.json").write_text(json.dumps(
            {"rows": rows, "runs": runs, "search": search, "skipped": skipped,
             "failures": failures, "context": context}, indent=1, default=str))
        print(f"\n{name}: {scenario.title}\n{report.table(rows)}\n", flush=True)
        if not args.quick and not args.no_results:
            write_results(EVAL_DIR / "RESULTS.md", scenario, rows, search, skipped, failures,
                          context)
            from . import plots
            plots.scenario_plots(scenario, runs, rows, EVAL_DIR / "results")
    log(f"done in {time.monotonic() - started:.0f} s; outputs in {out_dir}")
    if all_failures:
        print("\neval/run: FAILED\n" + "\n".join(f"- {f}" for f in all_failures),
              file=sys.stderr)
        return 1
    return 0
