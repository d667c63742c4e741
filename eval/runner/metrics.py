# SPDX-License-Identifier: MPL-2.0
"""Metrics of one run, from the receiver's packet log, the emulator's and the sender's
stats, and the processes' CPU time.

Definitions (also in eval/RESULTS.md):
- offered: payload bytes the sender took in (bondcast: its input_bytes; single link:
  what srt-live-transmit handed to SRT = delivered + message-number gaps; what ffmpeg
  wrote to UDP but never reached SRT is reported apart as feed_loss_pct);
- latency of a payload: arrival_us - send_us from the packet log (see RESULTS.md for
  what send_us means per mode);
- on time: delivered with latency <= budget = SRT latency + the largest one-way link
  delay + 20 ms; late: delivered after that; lost: offered bytes never delivered;
- late outside stalls: late, less the payloads that would have been on time but for the
  spans in which this machine ran nothing (stalls.py: a witness per CPU);
- longest gap: the longest time between two consecutive payloads written out (up to
  1 s before the input's end: the group modes release their last packets at close);
- overhead: bytes the sender put on the links (UDP payload into the emulator, every
  link, control packets and retransmissions included) / offered payload bytes - 1;
- recovery after a link dies: from the outage start to the last payload sent in the
  following 10 s that was lost or late (0 = hitless);
- CPU: (sender + receiver user+system seconds) / delivered gigabits.
"""
import csv
import json
import math

from . import stalls

BUDGET_SLACK_MS = 20
RECOVERY_WINDOW_S = 10.0


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[k]


def read_packet_log(path):
    """Rows of the receiver's packet log as dicts of ints (status stays a string)."""
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows.append({"arrival_us": int(r["arrival_us"]), "link": int(r["link"]),
                         "seq": int(r["seq"]), "send_us": int(r["send_us"]),
                         "bytes": int(r["bytes"]), "status": r["status"]})
    return rows


def read_json_lines(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    pass
    except OSError:
        pass
    return out


def emulator_wire_bytes(emu_lines):
    """Per link, bytes the sender put into the link (fwd bytes_in), from the last line."""
    if not emu_lines:
        return []
    return [l["fwd"]["bytes_in"] for l in emu_lines[-1]["links"]]


def group_offset_ms(run, scenario):
    """What to add to arrival_us - send_us for SRT groups and the single link.

    There send_us is libsrt's srctime on the receiver's clock, which turned out to be
    the packet's delivery (TSBPD) time: source time + one-way delay at connection +
    latency. Adding back the latency and the first link's one-way delay (the link the
    single connection uses, and the first member a group connects) estimates the end-to-
    end latency."""
    return run["latency_ms"] + scenario.link_one_way_ms()[0]


def _deliveries(rows, epoch_us, offset_ms):
    """Delivered rows with t (s since the emulator's start, when the payload was sent)
    and latency_ms (None when the log has no send time: SRT's last packets at close)."""
    out = []
    for r in rows:
        if r["status"] != "delivered":
            continue
        extra_ms = offset_ms if r["link"] < 0 else 0.0
        if r["send_us"] > 0:
            latency = (r["arrival_us"] - r["send_us"]) / 1000 + extra_ms
        else:
            latency = None
        sent_us = r["arrival_us"] - (latency if latency is not None else extra_ms) * 1000
        out.append(dict(r, t=(sent_us - epoch_us) / 1e6, latency_ms=latency))
    return out


def _late_through_stalls(d, latency_ms, budget_ms, stood_still):
    """A late payload that would have been on time had the machine not stood still
    between its playout time (send + latency) and its output (stalls.py)."""
    due_us = d["arrival_us"] - (d["latency_ms"] - latency_ms) * 1000
    stood_ms = stalls.overlap_us(stood_still, due_us, d["arrival_us"]) / 1000
    return stood_ms > 0 and d["latency_ms"] - stood_ms <= budget_ms


def missed_times(rows, delivered, epoch_us, latency_ms, budget_ms):
    """Times (s since the emulator's start) of payloads lost or late.

    Adaptive logs every sequence number it gave up on; for SRT's groups and single
    links a gap in the message numbers is a loss, placed between its neighbours."""
    times = [d["t"] for d in delivered
             if d["latency_ms"] is not None and d["latency_ms"] > budget_ms]
    times += [(r["arrival_us"] - epoch_us) / 1e6 - latency_ms / 1000
              for r in rows if r["status"] == "lost"]
    by_seq = sorted(delivered, key=lambda d: d["seq"])
    if all(d["link"] < 0 for d in delivered):
        for a, b in zip(by_seq, by_seq[1:]):
            for k in range(1, b["seq"] - a["seq"]):
                frac = k / (b["seq"] - a["seq"])
                times.append(a["t"] + frac * (b["t"] - a["t"]))
    return sorted(times)


def recovery_s(missed, down_events, event_times):
    """Per link outage (not flaps): time from its start to the last miss before the
    next event or 10 s, whichever comes first."""
    out = []
    for at_s, _link, _down_s in down_events:
        end = min([at_s + RECOVERY_WINDOW_S] + [t for t in event_times if t > at_s])
        inside = [t for t in missed if at_s - 0.2 <= t < end]
        out.append(max(0.0, inside[-1] - at_s) if inside else 0.0)
    return out


def compute(run, scenario, capacity_bps):
    """Every metric of one run as a flat dict (None where not measurable)."""
    run_dir = run["dir"]
    epoch_us = run["epoch_mono_s"] * 1e6
    budget_ms = run["latency_ms"] + max(scenario.link_one_way_ms()) + BUDGET_SLACK_MS
    offered = run["offered_bytes"] or 0
    emu = read_json_lines(f"{run_dir}/emu.jsonl")
    wire = emulator_wire_bytes(emu)
    m = {"mode": run["mode"], "latency_ms": run["latency_ms"],
         "bitrate_mbps": run["bitrate_bps"] / 1e6, "budget_ms": budget_ms,
         "offered_bytes": offered, "wire_bytes_per_link": wire,
         "overhead_pct": (100.0 * (sum(wire) / offered - 1)) if offered and wire else None,
         "cpu_s": run["cpu_s"]["sender"] + run["cpu_s"]["receiver"],
         "wall_s": run["wall_s"]}
    if not run["packet_log"]:
        return _without_packet_log(m, run, offered, capacity_bps)
    rows = read_packet_log(f"{run_dir}/packets.csv")
    delivered = _deliveries(rows, epoch_us, group_offset_ms(run, scenario))
    spans = stalls.read_spans(run_dir)
    stood_still = stalls.merged(spans or [])
    seen, dups, unique_bytes, on_time_bytes, late_through_stalls = set(), 0, 0, 0, 0
    for d in delivered:
        if d["seq"] in seen:
            dups += 1
            continue
        seen.add(d["seq"])
        unique_bytes += d["bytes"]
        if d["latency_ms"] is None or d["latency_ms"] <= budget_ms:
            on_time_bytes += d["bytes"]
        elif _late_through_stalls(d, run["latency_ms"], budget_ms, stood_still):
            late_through_stalls += d["bytes"]
    if run["mode"] == "single":
        offered = _single_link_offered(m, delivered, unique_bytes, offered)
    offered = max(offered, unique_bytes)
    timed = [d for d in delivered if d["latency_ms"] is not None]
    lat = sorted(d["latency_ms"] for d in timed)
    # Gaps while the input flows: SRT's last packets come out late at close.
    streaming_end = (timed[0]["t"] + run["media_s"] - 1.0) if timed else 0
    arrivals = [d["arrival_us"] for d in timed if d["t"] <= streaming_end]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    missed = missed_times(rows, delivered, epoch_us, run["latency_ms"], budget_ms)
    delivered_gbit = unique_bytes * 8 / 1e9
    m.update({
        "offered_bytes": offered,
        "delivered_bytes": unique_bytes,
        "on_time_pct": 100.0 * on_time_bytes / offered if offered else 0.0,
        "late_pct": 100.0 * (unique_bytes - on_time_bytes) / offered if offered else 0.0,
        "late_outside_stalls_pct": None if spans is None or not offered else
        100.0 * (unique_bytes - on_time_bytes - late_through_stalls) / offered,
        "stalls": None if spans is None else len(spans),
        "longest_stall_ms": None if spans is None else
        max((b - a for a, b in spans), default=0) / 1000,
        "lost_pct": 100.0 * (offered - unique_bytes) / offered if offered else 100.0,
        "missed_payloads": len(missed),
        "duplicates_out": dups,
        "latency_p50_ms": percentile(lat, 0.5), "latency_p99_ms": percentile(lat, 0.99),
        "latency_p999_ms": percentile(lat, 0.999), "latency_max_ms": lat[-1] if lat else None,
        "longest_gap_ms": max(gaps) / 1000 if gaps else None,
        "goodput_mbps": unique_bytes * 8 / run["media_s"] / 1e6,
        "goodput_vs_offered": unique_bytes / offered if offered else 0.0,
        "goodput_vs_capacity": unique_bytes * 8 / run["media_s"] / capacity_bps
        if capacity_bps else None,
        "recovery_s": recovery_s(missed, scenario.down_events(),
                                 [at for at, _l, _w in scenario.marked_events()]),
        "cpu_s_per_gbit": m["cpu_s"] / delivered_gbit if delivered_gbit else None,
    })
    return m


def _single_link_offered(m, delivered, unique_bytes, feed_bytes):
    """What srt-live-transmit handed to SRT: delivered + message-number gaps.

    The ffmpeg -re -> UDP -> srt-live-transmit feed itself drops datagrams (a few per
    run at 8 Mbit/s, most at 40 Mbit/s: ffmpeg's bursts overflow the UDP socket
    buffer); that is the harness, not SRT, so it is reported apart as feed_loss_pct."""
    seqs = sorted({d["seq"] for d in delivered})
    if not seqs:
        return feed_bytes
    gaps = seqs[-1] - seqs[0] + 1 - len(seqs)
    offered = unique_bytes + gaps * unique_bytes / len(seqs)
    m["feed_loss_pct"] = 100.0 * max(0.0, feed_bytes - offered) / feed_bytes if feed_bytes else None
    return offered


def _without_packet_log(m, run, offered, capacity_bps):
    """A receiver without --packet-log: only delivered bytes (output size) are known."""
    import os
    out = os.path.getsize(f"{run['dir']}/out.ts") if os.path.exists(f"{run['dir']}/out.ts") else 0
    m.update({"delivered_bytes": out,
              "lost_pct": 100.0 * max(0, offered - out) / offered if offered else 100.0,
              "goodput_mbps": out * 8 / run["media_s"] / 1e6,
              "goodput_vs_offered": out / offered if offered else 0.0,
              "goodput_vs_capacity": out * 8 / run["media_s"] / capacity_bps
              if capacity_bps else None,
              "cpu_s_per_gbit": m["cpu_s"] / (out * 8 / 1e9) if out else None})
    return m


def time_series(run, scenario):
    """For plots: delivered rows (with t, latency), all rows, per-link wire bytes per
    stats interval."""
    epoch_us = run["epoch_mono_s"] * 1e6
    rows = read_packet_log(f"{run['dir']}/packets.csv") if run["packet_log"] else []
    delivered = _deliveries(rows, epoch_us, group_offset_ms(run, scenario))
    emu = read_json_lines(f"{run['dir']}/emu.jsonl")
    share = []
    prev = None
    for line in emu:
        cur = [l["fwd"]["bytes_in"] for l in line["links"]]
        if prev is not None:
            share.append((line["elapsed_s"], [c - p for c, p in zip(cur, prev)]))
        prev = cur
    return delivered, rows, share
