# SPDX-License-Identifier: MPL-2.0
"""Markdown tables of the results and the generated sections of eval/RESULTS.md.

eval/RESULTS.md keeps its hand-written sections; eval/run owns only the text between
`<!-- eval/run: NAME begin -->` and `<!-- eval/run: NAME end -->` markers (one block for
the method, one per scenario), replacing a block when it reruns that scenario and
appending blocks it has not written before.
"""
import re


def _fmt(value, digits=2):
    if value is None:
        return "-"
    if isinstance(value, list):
        return " / ".join(_fmt(v, 1) for v in value) if value else "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _ratio(value, base):
    if value is None or not base:
        return "-"
    return f"{value / base:.3f}"


COLUMNS = [
    ("mode", "mode", None), ("latency ms", "latency_ms", None),
    ("on time %", "on_time_pct", 3), ("late %", "late_pct", 3), ("lost %", "lost_pct", 3),
    ("dup out", "duplicates_out", None),
    ("p50 ms", "latency_p50_ms", 1), ("p99 ms", "latency_p99_ms", 1),
    ("p99.9 ms", "latency_p999_ms", 1), ("max ms", "latency_max_ms", 1),
    ("longest gap ms", "longest_gap_ms", 0),
    ("goodput Mbit/s", "goodput_mbps", 2), ("vs offered", "goodput_vs_offered", 3),
    ("vs capacity", "goodput_vs_capacity", 3), ("overhead %", "overhead_pct", 1),
    ("recover s", "recovery_s", 1), ("CPU s/Gbit", "cpu_s_per_gbit", 1),
]


def table(rows):
    """One table: measured rows, then the simulator rows, with ratios of on-time
    payload to the single SRT link (same latency) and to the simulator's oracle."""
    head = [c[0] for c in COLUMNS] + ["on time / single", "on time / oracle"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    single = {r["latency_ms"]: r.get("on_time_pct") for r in rows if r["mode"] == "single"}
    oracle = {r["latency_ms"]: r.get("on_time_pct") for r in rows
              if r["mode"] == "oracle (sim)"}
    for r in rows:
        label = f"*{r['mode']}*" if r.get("simulated") else r["mode"]
        cells = [label] + [_fmt(r.get(key), d) if d is not None else _fmt(r.get(key))
                           for _, key, d in COLUMNS[1:]]
        cells += [_ratio(r.get("on_time_pct"), single.get(r["latency_ms"])),
                  _ratio(r.get("on_time_pct"), oracle.get(r["latency_ms"]))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def search_table(search):
    """Lowest latency with zero loss, per scenario and mode."""
    lines = ["| scenario | mode | lowest latency with 0 lost (ms) | tried (ms: lost % / late %) |",
             "|---|---|---:|---|"]
    for sc, modes in search.items():
        for mode, res in modes.items():
            tried = ", ".join(f"{l}: {m[0]:.3f} / {m[1]:.3f}"
                              for l, m in sorted(res["tried"].items(), key=lambda x: int(x[0])))
            best = res["lowest_ms"] if res["lowest_ms"] is not None else "none tried"
            lines.append(f"| {sc} | {mode} | {best} | {tried} |")
    return "\n".join(lines)


def replace_block(text, name, body):
    """Replaces (or appends) the generated block `name` in RESULTS.md's text."""
    begin, end = f"<!-- eval/run: {name} begin -->", f"<!-- eval/run: {name} end -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _m: block, text)
    return text.rstrip() + "\n\n" + block + "\n"
