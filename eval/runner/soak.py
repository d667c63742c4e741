# SPDX-License-Identifier: MPL-2.0
"""The soak benchmark (issue 16, item 8): eval/soak. Not part of CI.

One run = one mode, for --duration seconds (default an hour), with real processes on
127.0.0.1, started like eval/run starts them (eval/runner/modes.py):

    bondcast recv  <--  bondcast emulate (3 links)  <--  bondcast send --loop CLIP

- links: 10 Mbit/s each, 20 / 30 / 45 ms one way (S2's); link 0, the fastest, flaps for
  the whole run: down 1 s out of every 10 (the emulator's flap event);
- input: eval/run's H.264 + AAC sample (eval/runner/media.py), 6 Mbit/s, CLIP_S long,
  looped by the sender (`--input CLIP --loop`, paced by its PCR), 200 ms latency;
- output: the receiver writes into a FIFO that this script reads and throws away,
  counting bytes and checking the MPEG-TS (sync bytes, per-PID continuity counters);
  the receiver's packet log (a file, ~60 bytes per payload: ~130 MB an hour at 6 Mbit/s)
  is read as it grows, keeping running figures only.

Every SAMPLE_S (and at the start and the end) it samples both ends (send and recv; the
emulator too, in the CSV): VmRSS (/proc/PID/status), open fds (/proc/PID/fd), threads,
user+system CPU seconds (/proc/PID/stat); cumulative lost payloads and the longest gap
in the output so far. At the end it stops the sender (SIGTERM), lets the receiver write
out what it holds, and compares the sender's payload count with the receiver's.

Lost payloads (the table's figure) come from the packet log, which the receiver writes
as it writes each payload out: groups (broadcast, backup) log SRT's message number, and
a message number skipped is a payload lost; adaptive logs a "lost" line per sequence
number its merge gave up on (its stats' "lost" counter, shown beside it), and a skipped
sequence number would count too. Independent checks: the TS continuity counters of
what came out of the FIFO (a jump is a TS packet missing; the clip's loop seam, where
each PID jumps from the clip's last counter to its first, is recognised and not
counted) and, after the drain, the sender's payloads minus the receiver's. Longest gap:
the longest time between two consecutive payloads written out (the packet log's
arrival_us), up to the moment the sender is stopped.
"""
import argparse
import csv
import datetime
import fcntl
import json
import math
import os
import pathlib
import select
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import ExitStack

import numpy as np

from . import media, modes, scenarios
from .cli import EVAL_DIR, REPO, _exit_on_sigterm, git_commit, machine
from .procs import Procs, RunError

SEED = 16
BITRATE_BPS = 6_000_000
LATENCY_MS = 200
CLIP_S = 65  # not a multiple of the 10 s flap period: loop seams meet every phase of it
LINKS = [("10mbit", "20ms"), ("10mbit", "30ms"), ("10mbit", "45ms")]
FLAP_LINK = 0
FLAP_START_S = 5  # down 5-6 s, 15-16 s, ...: runs of whole tens of seconds end with it up
FLAP_DOWN_S, FLAP_UP_S = 1, 9
SAMPLE_S = 60.0
BASELINE_S = 60.0  # "after the first minute": samples from here on are compared
FLAT_PCT = 5.0
MARGIN_S = 120  # the receiver's and the emulator's own time bound: duration + this
PIPE_BYTES = 1 << 20
ENDS = ("send", "recv", "emu")
MODES = ("broadcast", "backup", "adaptive")
TS = 188


def log(msg):
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------- /proc


def proc_sample(pid):
    """RSS (kB), open fds, threads and user+system CPU seconds of a live process, or
    Nones once it has gone."""
    out = {"rss_kb": None, "fds": None, "threads": None, "cpu_s": None}
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                out["rss_kb"] = int(line.split()[1])
            elif line.startswith("Threads:"):
                out["threads"] = int(line.split()[1])
        out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
        stat = open(f"/proc/{pid}/stat").read()
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        out["cpu_s"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        pass
    return out


def last_json_line(path, final=False):
    """The last complete JSON line of a stats file ({} if none); with final=True the
    last one with "final": true, if any."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            start = max(0, f.tell() - (1 << 18))
            f.seek(start)
            lines = f.read().split(b"\n")
    except OSError:
        return {}
    for line in reversed(lines[1:] if start else lines):  # from mid-file: the first is cut
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if not final or record.get("final"):
            return record
    return {}


# ---------------------------------------------------------------- the output


def ts_continuity(chunk):
    """(pids, ccs) of the payload-carrying packets of whole TS packets (null packets
    left out), and the number of rows whose sync byte is wrong."""
    a = np.frombuffer(chunk, np.uint8).reshape(-1, TS)
    sync_ok = a[:, 0] == 0x47
    a = a[sync_ok]
    pids = ((a[:, 1].astype(np.uint16) & 0x1F) << 8) | a[:, 2]
    keep = ((a[:, 3] & 0x10) != 0) & (pids != 0x1FFF)
    return pids[keep], (a[keep, 3] & 0x0F).astype(np.int16), int((~sync_ok).sum())


def clip_seams(path):
    """Per PID, (its last continuity counter, its first) in the clip: what the counter
    does where the looped input starts again."""
    data = pathlib.Path(path).read_bytes()
    pids, ccs, _bad = ts_continuity(data[:len(data) // TS * TS])
    seams = {}
    for pid in np.unique(pids):
        c = ccs[pids == pid]
        seams[int(pid)] = (int(c[-1]), int(c[0]))
    return seams


class TsSink(threading.Thread):
    """Reads the receiver's output from a FIFO and discards it: counts bytes, TS sync
    errors and continuity-counter jumps (not those of the clip's loop seam)."""

    def __init__(self, path, seams):
        super().__init__(daemon=True, name=f"sink {path}")
        self.path, self.seams = path, seams
        self.stop_event = threading.Event()
        self.bytes = self.ts_packets = self.sync_errors = self.cc_errors = self.loop_seams = 0
        self.last_cc = {}
        self.rest = b""
        self.error = None

    def run(self):
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as e:
            self.error = str(e)
            return
        try:
            try:
                fcntl.fcntl(fd, 1031, PIPE_BYTES)  # F_SETPIPE_SZ: room for 100 ms and more
            except OSError:
                pass
            while not self.stop_event.is_set():
                ready, _, _ = select.select([fd], [], [], 0.5)
                if not ready:
                    continue
                data = self._read_all(fd)
                if data:
                    self._check(data)
                self.stop_event.wait(0.1)  # batch: ~75 kB per read at 6 Mbit/s
            data = self._read_all(fd)
            if data:
                self._check(data)
        finally:
            os.close(fd)

    @staticmethod
    def _read_all(fd):
        parts = []
        while True:
            try:
                part = os.read(fd, PIPE_BYTES)
            except BlockingIOError:
                break
            if not part:  # no writer (yet, or any more)
                break
            parts.append(part)
        return b"".join(parts)

    def _check(self, data):
        self.bytes += len(data)
        buf = self.rest + data
        whole = len(buf) // TS * TS
        self.rest = buf[whole:]
        if not whole:
            return
        pids, ccs, bad = ts_continuity(buf[:whole])
        self.ts_packets += whole // TS
        self.sync_errors += bad
        for pid in np.unique(pids):
            pid = int(pid)
            c = ccs[pids == pid]
            if pid in self.last_cc:
                c = np.concatenate(([self.last_cc[pid]], c))
            self.last_cc[pid] = int(c[-1])
            if len(c) < 2:
                continue
            jump = (np.diff(c) % 16) != 1
            if not jump.any():
                continue
            before, after = c[:-1][jump], c[1:][jump]
            last, first = self.seams.get(pid, (-1, -1))
            seam = (before == last) & (after == first)
            self.loop_seams += int(seam.sum())
            self.cc_errors += int((~seam).sum())


# ---------------------------------------------------------------- the packet log


class PacketLogTail:
    """The receiver's packet log read as it grows; only running figures are kept."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = b""
        self.delivered = self.delivered_bytes = 0
        self.lost_logged = 0    # adaptive: "lost" lines (sequence numbers given up on)
        self.seq_skipped = 0    # sequence / message numbers never logged
        self.out_of_order = 0   # a number not above the last one (duplicates included)
        self.last_seq = {}
        self.last_arrival_us = None
        self.longest_gap_us = 0
        self.longest_gap_at_us = None
        self.gaps_until_us = None  # arrivals after this count for loss, not for gaps

    @property
    def lost(self):
        return self.lost_logged + self.seq_skipped

    def update(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            parts = line.split(b",")
            if len(parts) < 7 or parts[0] == b"arrival_us":
                continue
            try:
                arrival, seq, size = int(parts[0]), int(parts[-4]), int(parts[-2])
            except ValueError:
                continue
            stream, status = b",".join(parts[1:-5]), parts[-1]
            last = self.last_seq.get(stream)
            if last is not None and seq <= last:
                self.out_of_order += 1
                continue
            if last is not None:
                self.seq_skipped += seq - last - 1
            self.last_seq[stream] = seq
            if status == b"lost":
                self.lost_logged += 1
                continue
            self.delivered += 1
            self.delivered_bytes += size
            if self.last_arrival_us is not None and (self.gaps_until_us is None
                                                     or arrival <= self.gaps_until_us):
                gap = arrival - self.last_arrival_us
                if gap > self.longest_gap_us:
                    self.longest_gap_us, self.longest_gap_at_us = gap, arrival
            self.last_arrival_us = arrival


# ---------------------------------------------------------------- one run


def soak_scenario(duration_s):
    """The topology as an eval scenario (for modes.py's emulator start)."""
    flaps = math.ceil((duration_s + MARGIN_S) / (FLAP_DOWN_S + FLAP_UP_S))
    return scenarios.Scenario(
        name="soak", title="soak", path=pathlib.Path("eval/runner/soak.py"),
        comment="", seed=SEED, duration_s=duration_s,
        links=[{"rate": r, "delay": d} for r, d in LINKS],
        events=[f"at={FLAP_START_S}s,link={FLAP_LINK},"
                f"flap={flaps}x{FLAP_DOWN_S}s/{FLAP_UP_S}s"],
        variants=[scenarios.Variant(BITRATE_BPS, LATENCY_MS)], modes=[], sim=False)


class SoakRun:
    """One mode: its processes, its sink, its samples."""

    def __init__(self, mode, args, tools, clip, seams, out_dir):
        self.mode = mode
        self.args = args
        self.tools = tools
        self.clip = clip
        self.seams = seams
        self.dir = out_dir / mode
        self.samples = []
        self.problems = []
        self.final = {}
        self.t0 = None
        self.next_at = None
        self.sender_stopped = False

    # -- start

    def start(self, stack):
        """Receiver, emulator and sender (in `stack`, which kills them on the way out)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        for stale in self.dir.iterdir():
            stale.unlink()
        os.mkfifo(self.dir / "out.ts")
        self.sink = TsSink(self.dir / "out.ts", self.seams)
        self.sink.start()
        stack.callback(self._stop_sink)
        self.plog = PacketLogTail(self.dir / "packets.csv")
        procs = stack.enter_context(Procs(die_with_parent=True))
        bound_s = self.args.duration + MARGIN_S
        variant = scenarios.Variant(BITRATE_BPS, LATENCY_MS)
        scenario = soak_scenario(self.args.duration)
        self.recv, port = modes._start_receiver(procs, self.tools, variant, self.dir, bound_s)
        self.emu, ports, _epoch = modes._start_emulator(procs, self.tools, scenario, port,
                                                        self.dir, bound_s)
        send_mode = "adaptive:latency-aware" if self.mode == "adaptive" else self.mode
        argv = modes._sender_argv(self.tools, send_mode, variant, self.clip, ports, self.dir)
        self.send = procs.start("bondcast send", argv + ["--loop"], self.dir / "send.log")
        self.t0 = time.monotonic()
        self.procs = {"send": self.send, "recv": self.recv, "emu": self.emu}
        deadline = self.t0 + modes.CONNECT_S + LATENCY_MS / 1000
        while self.sink.bytes == 0:
            self.check_alive()
            if time.monotonic() > deadline:
                raise RunError(f"{self.mode}: nothing came out within "
                               f"{deadline - self.t0:.0f} s:\n{self.recv.log_tail()}\n"
                               f"{self.send.log_tail()}")
            time.sleep(0.1)
        log(f"{self.mode}: streaming ({self.dir})")
        self.take_sample("start")
        self.next_at = self.t0 + self.args.interval

    def _stop_sink(self):
        self.sink.stop_event.set()
        self.sink.join(timeout=5)

    def check_alive(self):
        for end, proc in self.procs.items():
            if proc.poll() is not None and not (end == "send" and self.sender_stopped):
                raise RunError(f"{self.mode}: bondcast {end} exited ({proc.returncode}) "
                               f"mid-run:\n{proc.log_tail()}")

    # -- samples

    @property
    def elapsed(self):
        return time.monotonic() - self.t0

    @property
    def sampling_done(self):
        return bool(self.samples) and self.samples[-1]["label"] == "end"

    def due(self):
        """The monotonic time of the next sample: every interval, the end at duration."""
        return min(self.next_at, self.t0 + self.args.duration)

    def sample_if_due(self):
        now = time.monotonic()
        if now >= self.t0 + self.args.duration:
            self.take_sample("end")
        elif now >= self.next_at:
            self.take_sample("minute")
            while self.next_at <= now:
                self.next_at += self.args.interval

    def take_sample(self, label):
        self.plog.update()
        recv = last_json_line(self.dir / "recv.jsonl")
        send = last_json_line(self.dir / "send.jsonl")
        row = {"mode": self.mode, "label": label, "t_s": round(self.elapsed, 1),
               "time": datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M:%S")}
        for end, proc in self.procs.items():
            for key, value in proc_sample(proc.pid).items():
                row[f"{end}_{key}"] = value
        row.update(self.figures(recv, send))
        self.samples.append(row)
        log(f"{self.mode} {label:6} t={row['t_s']:7.1f} s  "
            f"send {kb_mb(row['send_rss_kb'])} MB {row['send_fds']} fds  "
            f"recv {kb_mb(row['recv_rss_kb'])} MB {row['recv_fds']} fds  "
            f"lost {row['lost_payloads']}  gap {row['longest_gap_ms']} ms  "
            f"cc {row['out_cc_errors']}")
        return row

    def figures(self, recv, send):
        """Loss, gap and output figures so far (the receiver's and sender's latest stats
        lines beside the packet log's and the FIFO's counts)."""
        streams = recv.get("streams", [])
        adaptive = [s for s in streams if s.get("mode") == "adaptive"]
        links = [l for s in streams for l in s.get("links", [])]
        p = self.plog
        return {
            "delivered_payloads": p.delivered,
            "lost_payloads": p.lost,
            "lost_logged": p.lost_logged,
            "seq_skipped": p.seq_skipped,
            "out_of_order": p.out_of_order,
            "longest_gap_ms": round(p.longest_gap_us / 1000, 1),
            "longest_gap_at_s": round(p.longest_gap_at_us / 1e6 - self.t0, 1)
            if p.longest_gap_at_us else None,
            "recv_stats_payloads": sum(s.get("payloads", 0) for s in streams),
            "recv_stats_lost": sum(s.get("lost", 0) for s in adaptive) if adaptive else None,
            "recv_stats_late": sum(s.get("late", 0) for s in adaptive) if adaptive else None,
            "recv_output_dropped": sum(s.get("output_dropped", 0) for s in streams),
            "srt_pkts_lost_recv": sum(l.get("pkts_lost_recv", 0) for l in links),
            "srt_pkts_dropped_recv": sum(l.get("pkts_dropped_recv", 0) for l in links),
            "send_payloads": send.get("payloads"),
            "send_input_bytes": send.get("input_bytes"),
            "send_payloads_dropped": send.get("payloads_dropped"),
            "out_bytes": self.sink.bytes,
            "out_sync_errors": self.sink.sync_errors,
            "out_cc_errors": self.sink.cc_errors,
            "out_loop_seams": self.sink.loop_seams,
        }

    # -- the end

    def stop(self):
        """Stops the sender, lets the receiver write out what it holds, stops the rest;
        the final figures go to self.final."""
        self.plog.update()
        self.plog.gaps_until_us = time.monotonic() * 1e6
        self.sender_stopped = True
        code = self.send.stop(signal.SIGTERM, grace_s=10.0)
        if code not in (0, -signal.SIGTERM):
            self.problems.append(f"bondcast send exited {code} when stopped")
        # A group stream ends when its connection does; an adaptive session stays open for
        # a restarted sender, so there it is its links that end.
        pattern, count = (r"adaptive session [0-9a-f]+: link \d+ ended", len(LINKS)) \
            if self.mode == "adaptive" else (r"stream '.*' ended", 1)
        try:
            self.recv.wait_for_log(pattern, LATENCY_MS / 1000 + 10, count=count)
        except RunError as e:
            self.problems.append(f"the receiver did not see the sender go: {e}".splitlines()[0])
        quiet_since, last = time.monotonic(), self.sink.bytes
        while time.monotonic() - quiet_since < 1.0 + LATENCY_MS / 1000:
            time.sleep(0.1)
            if self.sink.bytes != last:
                quiet_since, last = time.monotonic(), self.sink.bytes
        for end in ("recv", "emu"):
            code = self.procs[end].stop(signal.SIGTERM)
            if code not in (0, -signal.SIGTERM):
                self.problems.append(f"bondcast {end} exited {code} when stopped")
        self._stop_sink()
        self.plog.update()
        send = last_json_line(self.dir / "send.jsonl", final=True) or \
            last_json_line(self.dir / "send.jsonl")
        recv = last_json_line(self.dir / "recv.jsonl", final=True) or \
            last_json_line(self.dir / "recv.jsonl")
        self.final = self.figures(recv, send)
        for key in ("srt_pkts_lost_recv", "srt_pkts_dropped_recv"):  # ended links read 0
            self.final[key] = max(self.final[key], self.samples[-1][key])
        self.final["cpu_s"] = {end: round(proc.cpu_s, 1) for end, proc in self.procs.items()}
        self.final["exit"] = {end: proc.returncode for end, proc in self.procs.items()}
        sent = self.final["send_payloads"]
        self.final["end_check_payloads"] = (sent - self.plog.delivered) if sent is not None \
            else None
        input_bytes = self.final["send_input_bytes"]
        self.final["end_check_bytes"] = (input_bytes - self.sink.bytes) \
            if input_bytes is not None else None
        if self.sink.error:
            self.problems.append(f"output FIFO: {self.sink.error}")
        if self.sink.rest:
            self.problems.append(f"output ended {len(self.sink.rest)} bytes into a TS packet")

    # -- summary

    def summary(self):
        """The table row and the flatness verdict of this run."""
        s = self.samples
        end = s[-1] if s else {}
        # The baseline: the sample at one minute (at the end of a run shorter than that).
        baseline_s = min(BASELINE_S, self.args.duration) - 1
        base = next((x for x in s if x["t_s"] >= baseline_s), None)
        after = [x for x in s if base and x["t_s"] >= base["t_s"]]
        final = self.final or end  # an interrupted run: its last sample
        row = {"mode": self.mode, "duration_s": end.get("t_s"),
               "lost_payloads": final.get("lost_payloads"),
               "delivered_payloads": final.get("delivered_payloads"),
               "recv_stats_lost": final.get("recv_stats_lost"),
               "out_cc_errors": final.get("out_cc_errors"),
               "end_check_payloads": self.final.get("end_check_payloads"),
               "longest_gap_ms": end.get("longest_gap_ms"),
               "longest_gap_at_s": end.get("longest_gap_at_s"),
               "baseline_t_s": base["t_s"] if base else None,
               "problems": list(self.problems)}
        if not base:
            row["problems"].append("no sample after the first minute: no verdict")
            base = {}
        verdict, worst = bool(after), []
        for side in ("send", "recv"):
            for key in ("rss_kb", "fds"):
                values = [x[f"{side}_{key}"] for x in after if x[f"{side}_{key}"] is not None]
                first = base.get(f"{side}_{key}")
                row[f"{side}_{key}"] = (first, end.get(f"{side}_{key}"),
                                        max(values) if values else None)
                if not values or not first:
                    verdict = False
                    continue
                dev = max(abs(v - first) for v in values) / first * 100
                row[f"{side}_{key}_dev_pct"] = round(dev, 1)
                worst.append(f"{side} {'RSS' if key == 'rss_kb' else 'fds'} "
                             f"{dev:.1f}%")
                verdict = verdict and dev <= FLAT_PCT
        row["flat"] = verdict
        row["deviations"] = worst
        return row


def kb_mb(kb):
    return f"{kb / 1024:.1f}" if kb is not None else "-"


def triple(values, fmt):
    return " / ".join(fmt(v) if v is not None else "-" for v in values)


def table(rows):
    head = ["mode", "duration s", "lost payloads", "adaptive stats lost", "TS CC errors",
            "sender - receiver payloads", "longest gap ms (at s)",
            "send RSS MB 1 min / end / max", "recv RSS MB 1 min / end / max",
            "send fds 1 min / end / max", "recv fds 1 min / end / max"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        def f(v):
            return "-" if v is None else str(v)
        total = (r["delivered_payloads"] or 0) + (r["lost_payloads"] or 0)
        lost = f(r["lost_payloads"]) + (f" ({100 * r['lost_payloads'] / total:.4f}%)"
                                        if total and r["lost_payloads"] is not None else "")
        out.append("| " + " | ".join([
            r["mode"], f"{r['duration_s']:.0f}" if r["duration_s"] is not None else "-", lost,
            f(r["recv_stats_lost"]), f(r["out_cc_errors"]), f(r["end_check_payloads"]),
            f"{f(r['longest_gap_ms'])} ({f(r['longest_gap_at_s'])})",
            triple(r["send_rss_kb"], kb_mb), triple(r["recv_rss_kb"], kb_mb),
            triple(r["send_fds"], str), triple(r["recv_fds"], str)]) + " |")
    return "\n".join(out)


def verdicts(rows):
    lines = []
    for r in rows:
        if r["baseline_t_s"] is not None:
            lines.append(f"{r['mode']}: RSS and fds within {FLAT_PCT:g}% after the first "
                         f"minute (every sample from t={r['baseline_t_s']} s vs that one) on "
                         f"both ends: {'yes' if r['flat'] else 'NO'} (largest deviation: "
                         f"{', '.join(r['deviations']) or '-'})")
        for p in r["problems"]:
            lines.append(f"{r['mode']}: problem: {p}")
    return "\n".join(lines)


# ---------------------------------------------------------------- command line


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="eval/soak", description="Soak benchmark (issue 16): 3 emulated links on "
        "127.0.0.1, link 0 down 1 s out of every 10, a looped 6 Mbit/s TS, for --duration; "
        "samples RSS, fds and CPU of both ends, lost payloads and the longest output gap "
        "once a minute; writes samples (CSV, JSON), a plot and a summary table. "
        "Not part of CI.")
    p.add_argument("--mode", action="append", choices=MODES, default=[],
                   help="mode to soak (repeatable; default: broadcast, then adaptive)")
    p.add_argument("--parallel", action="store_true",
                   help="run the modes at the same time instead of one after the other "
                   "(every port is the kernel's pick; they share the cores)")
    p.add_argument("--duration", type=float, default=3600.0, metavar="SECONDS",
                   help="length of each run (default %(default)g)")
    p.add_argument("--interval", type=float, default=SAMPLE_S, metavar="SECONDS",
                   help="time between samples (default %(default)g)")
    p.add_argument("--out", default=f"/tmp/bondcast-soak-{os.getuid()}",
                   help="folder for logs, stats, packet logs, samples and the plot "
                   "(default %(default)s)")
    p.add_argument("--bondcast", default=str(REPO / "build" / "bin" / "bondcast"),
                   help="the bondcast binary (default %(default)s)")
    p.add_argument("--results", action="store_true",
                   help="also copy the plot to eval/results/soak.png")
    args = p.parse_args(argv)
    args.mode = list(dict.fromkeys(args.mode)) or ["broadcast", "adaptive"]
    if args.duration < 10 or args.interval < 1:
        p.error("--duration must be at least 10 s and --interval at least 1 s")
    return args


def write_outputs(out_dir, runs, rows, context, results):
    samples = [s for r in runs for s in r.samples]
    if samples:
        keys = list(dict.fromkeys(k for s in samples for k in s))
        with open(out_dir / "soak-samples.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(samples)
    (out_dir / "soak.json").write_text(json.dumps(
        {"context": context, "summary": rows, "final": {r.mode: r.final for r in runs},
         "samples": samples}, indent=1, default=str))
    if samples:
        from . import plots
        png = out_dir / "soak.png"
        plots.soak_plot(samples, png, context["title"])
        if results:
            shutil.copyfile(png, EVAL_DIR / "results" / "soak.png")


def run_group(group):
    """Starts every run of the group, samples them until their ends, stops them."""
    with ExitStack() as stack:
        for run in group:
            run.start(stack)
        while not all(r.sampling_done for r in group):
            pending = [r for r in group if not r.sampling_done]
            wake = min(r.due() for r in pending)
            while time.monotonic() < wake:
                for r in pending:
                    r.check_alive()
                time.sleep(min(1.0, max(0.0, wake - time.monotonic())))
            for r in pending:
                r.sample_if_due()
                r.plog.update()
        for run in group:
            log(f"{run.mode}: stopping the sender, draining")
            run.stop()


def main(argv):
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    signal.signal(signal.SIGHUP, _exit_on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with it ignored
    args = parse_args(argv)
    if not os.access(args.bondcast, os.X_OK):
        print(f"eval/soak: no bondcast binary at {args.bondcast} (pass --bondcast)",
              file=sys.stderr)
        return 2
    if not shutil.which("ffmpeg"):
        print("eval/soak: ffmpeg not found (tools/setup installs it)", file=sys.stderr)
        return 2
    out_dir = pathlib.Path(args.out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    tools = modes.Tools.probe(args.bondcast, "")
    if not tools.packet_log:
        print("eval/soak: this bondcast recv has no --packet-log", file=sys.stderr)
        return 2
    clip = media.sample(out_dir / "media", BITRATE_BPS, CLIP_S)
    seams = clip_seams(clip)
    version = subprocess.run([args.bondcast, "--version"], capture_output=True,
                                   text=True, timeout=30).stdout.strip()
    context = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(), "commit": git_commit(), "bondcast": args.bondcast,
        "bondcast_version": version,
        "command": "eval/soak " + " ".join(shlex.quote(a) for a in argv),
        "setup": {"seed": SEED, "bitrate_bps": BITRATE_BPS, "latency_ms": LATENCY_MS,
                  "clip_s": CLIP_S, "links": LINKS, "flap": {
                      "link": FLAP_LINK, "from_s": FLAP_START_S, "down_s": FLAP_DOWN_S,
                      "up_s": FLAP_UP_S}, "interval_s": args.interval},
        "title": f"soak: {', '.join(args.mode)}, {args.duration:g} s each"
                 f"{' (parallel)' if args.parallel else ''}; link 0 down 1 s of every 10"}
    runs = [SoakRun(m, args, tools, clip, seams, out_dir) for m in args.mode]
    groups = [runs] if args.parallel else [[r] for r in runs]
    log(f"{len(runs)} run(s) of {args.duration:g} s"
        f"{' in parallel' if args.parallel else ', one after the other'}; out {out_dir}")
    failed, interrupted = [], False
    try:
        for group in groups:
            try:
                run_group(group)
            except RunError as e:
                failed.append(str(e))
                log(f"FAILED: {e}")
    except (KeyboardInterrupt, SystemExit):
        interrupted = True
        log("interrupted: every child killed; writing what was sampled")
    usage = os.times()
    context["runner_cpu_s"] = round(usage.user + usage.system, 1)  # this script's own
    done = [r for r in runs if r.samples]
    rows = [r.summary() for r in done]
    write_outputs(out_dir, done, rows, dict(context, failed=failed, interrupted=interrupted),
                  args.results)
    if rows:
        print(f"\n{context['title']}\n\n{table(rows)}\n\n{verdicts(rows)}\n", flush=True)
    log(f"samples: {out_dir / 'soak-samples.csv'}, {out_dir / 'soak.json'}; "
        f"plot: {out_dir / 'soak.png'}")
    if interrupted:
        return 130
    return 1 if failed else 0
