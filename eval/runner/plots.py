# SPDX-License-Identifier: MPL-2.0
"""PNG plots of one scenario (full run only), small on purpose (tens of kB each):

- <S>_latency.png: latency over time per mode, coloured by the link that delivered
  the payload (adaptive; groups and the single link do not say which member did);
- <S>_share.png: each link's share of the bytes the sender put on the wire over time
  (from the emulator's stats), link events marked;
- <S>_loss_cdf.png: payload missed (lost or late) per second per mode, and the latency
  CDF per mode.
Only the first variant (bitrate x latency) of a scenario is plotted.
"""
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from . import metrics  # noqa: E402

DPI = 60
MAX_POINTS = 2500
LINK_COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]


def _first_variant_runs(runs, rows):
    if not rows:
        return []
    label = rows[0]["variant"]
    labels = {r["dir"]: label for r in runs}
    return [r for r in runs if labels.get(r["dir"]) == label and f"/{label}/" in r["dir"]]


def _mark_events(ax, scenario, duration):
    for at_s, link, what in scenario.marked_events():
        if at_s <= duration:
            ax.axvline(at_s, color="black", linestyle=":", linewidth=1, zorder=5)


def _save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def latency_plot(scenario, series, path):
    fig, axes = plt.subplots(len(series), 1, figsize=(8, 1.3 * len(series) + 0.6),
                             sharex=True, squeeze=False)
    for ax, (mode, (delivered, _rows, _share), _run) in zip(axes[:, 0], series):
        step = max(1, len(delivered) // MAX_POINTS)
        pts = [d for d in delivered[::step] if d["latency_ms"] is not None]
        colours = [LINK_COLOURS[d["link"] % 5] if d["link"] >= 0 else "grey" for d in pts]
        ax.scatter([d["t"] for d in pts], [d["latency_ms"] for d in pts], s=1, c=colours,
                   rasterized=True)
        ax.set_ylabel("ms", fontsize=7)
        ax.set_title(mode, fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
        _mark_events(ax, scenario, _run["media_s"])
    axes[-1, 0].set_xlabel("time since start (s); colour = link (blue 0, orange 1, green 2, red 3; grey: "
                           "group, link unknown); dotted: link events",
                           fontsize=7)
    _save(fig, path)


def share_plot(scenario, series, path):
    fig, axes = plt.subplots(len(series), 1, figsize=(8, 1.1 * len(series) + 0.6),
                             sharex=True, squeeze=False)
    for ax, (mode, (_d, _rows, share), run) in zip(axes[:, 0], series):
        if share:
            times = [t for t, _ in share]
            totals = [max(1, sum(v)) for _, v in share]
            per_link = list(zip(*[v for _, v in share]))
            ax.stackplot(times, [[b / tot for b, tot in zip(link, totals)] for link in per_link],
                         colors=LINK_COLOURS[:len(per_link)], linewidth=0)
        ax.set_ylim(0, 1)
        ax.set_xlim(0, run["media_s"] + 2)
        ax.set_title(mode, fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
        _mark_events(ax, scenario, run["media_s"])
    axes[-1, 0].set_xlabel("time since start (s); share of wire bytes per link "
                           "(blue = link 0); dotted: link events", fontsize=7)
    _save(fig, path)


def loss_cdf_plot(scenario, series, rows, path):
    fig, (ax_loss, ax_cdf) = plt.subplots(1, 2, figsize=(9, 3))
    row_of = {r["mode"]: r for r in rows}
    for mode, (delivered, packet_rows, _share), run in series:
        budget = row_of.get(mode, {}).get("budget_ms", 1e9)
        missed = metrics.missed_times(packet_rows, delivered, run["epoch_mono_s"] * 1e6,
                                      run["latency_ms"], budget)
        seconds = int(run["media_s"]) + 2
        counts = [0] * seconds
        for t in missed:
            if 0 <= t < seconds:
                counts[int(t)] += 1
        ax_loss.plot(range(seconds), counts, label=mode, linewidth=1)
        lat = sorted(d["latency_ms"] for d in delivered if d["latency_ms"] is not None)
        if lat:
            step = max(1, len(lat) // 500)
            ax_cdf.plot(lat[::step], [i / len(lat) for i in range(0, len(lat), step)],
                        label=mode, linewidth=1)
    _mark_events(ax_loss, scenario, max(r["media_s"] for _m, _s, r in series))
    ax_loss.set_xlabel("time (s)", fontsize=8)
    ax_loss.set_ylabel("payloads missed per second", fontsize=8)
    ax_loss.set_yscale("symlog")
    ax_loss.set_ylim(bottom=0)
    ax_cdf.set_xlabel("latency (ms)", fontsize=8)
    ax_cdf.set_ylabel("CDF", fontsize=8)
    for ax in (ax_loss, ax_cdf):
        ax.tick_params(labelsize=7)
    ax_cdf.legend(fontsize=6)
    _save(fig, path)


def scenario_plots(scenario, runs, rows, folder):
    """Writes the three PNGs of one scenario into `folder` (eval/results)."""
    runs = [r for r in _first_variant_runs(runs, rows) if r.get("repeat", 0) == 0]
    if not runs or not runs[0]["packet_log"]:
        return []
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    series = [(r["mode"], metrics.time_series(r, scenario), r) for r in runs]
    paths = [folder / f"{scenario.name}_{k}.png" for k in ("latency", "share", "loss_cdf")]
    latency_plot(scenario, series, paths[0])
    share_plot(scenario, series, paths[1])
    loss_cdf_plot(scenario, series, rows, paths[2])
    return paths


def soak_plot(samples, path, title):
    """eval/soak's plot (eval/results/soak.png): RSS and open fds of both ends, and the
    lost payloads so far, over the soak, per mode (colour) and end (line style)."""
    def series(rows, key):
        return [float("nan") if r.get(key) is None else r[key] for r in rows]
    fig, (ax_rss, ax_fds, ax_lost) = plt.subplots(3, 1, figsize=(8, 6.2), sharex=True)
    for i, mode in enumerate(dict.fromkeys(s["mode"] for s in samples)):
        rows = [s for s in samples if s["mode"] == mode]
        minutes = [r["t_s"] / 60 for r in rows]
        colour = LINK_COLOURS[i % len(LINK_COLOURS)]
        for end, style in (("send", "-"), ("recv", "--")):
            ax_rss.plot(minutes, [v / 1024 for v in series(rows, f"{end}_rss_kb")], style,
                        color=colour, marker=".", linewidth=1, label=f"{mode} {end}")
            ax_fds.plot(minutes, series(rows, f"{end}_fds"), style, color=colour,
                        marker=".", linewidth=1, label=f"{mode} {end}")
        ax_lost.plot(minutes, series(rows, "lost_payloads"), color=colour, marker=".",
                     linewidth=1, label=mode)
    ax_rss.set_ylabel("RSS (MB)", fontsize=8)
    ax_fds.set_ylabel("open fds", fontsize=8)
    ax_lost.set_ylabel("lost payloads\n(cumulative)", fontsize=8)
    ax_lost.set_xlabel("minutes since the sender started (solid: send, dashed: recv)",
                       fontsize=8)
    ax_rss.set_title(title, fontsize=8, loc="left")
    for ax in (ax_rss, ax_fds, ax_lost):
        ax.tick_params(labelsize=7)
        ax.set_ylim(0, max(1.0, ax.get_ylim()[1]) * 1.3)  # room above the lines for the legend
        ax.grid(True, linewidth=0.3)
    ax_rss.legend(fontsize=6, ncol=2, loc="upper left")
    ax_fds.legend(fontsize=6, ncol=2, loc="upper left")
    ax_lost.legend(fontsize=6, loc="upper left")
    _save(fig, path)
