# SPDX-License-Identifier: MPL-2.0
"""Evaluation scenarios (eval/scenarios/*.json) and what the runner derives from them.

A scenario file is a network scenario (common/netmodel/scenario.h: seed, duration, links,
events, and the simulator's latency and video), which `bondcast emulate` and `bondcast sim`
both read, plus an `_eval` block both skip: name, bitrate(s), latencies, modes, whether the
simulator's bound is wanted, a latency-search list, and a `quick` block of overrides for
`eval/run --quick` (only scenarios with a `quick` block run in quick mode).
"""
import json
import pathlib
import random
import re
from dataclasses import dataclass, field

POLICIES = ["broadcast", "backup", "round-robin", "min-rtt", "srtla", "latency-aware"]
SRTLA_POLICIES = ["latency-aware", "srtla"]
QUICK_POLICIES = ["latency-aware"]

_DURATION = re.compile(r"^\s*([0-9.]+)\s*(us|ms|s|min)?\s*$")
_RATE = re.compile(r"^\s*([0-9.]+)\s*(bit|kbit|mbit|gbit)?\s*$", re.IGNORECASE)


class ScenarioError(Exception):
    """A scenario file that cannot be used; the message names the file and the field."""


def parse_seconds(text):
    """'60s', '200ms', '1.5s', '2min' -> seconds (float)."""
    m = _DURATION.match(str(text))
    if not m:
        raise ScenarioError(f"expected a time such as 30s or 200ms, got '{text}'")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, None: 1.0}[m.group(2)]
    return float(m.group(1)) * scale


def parse_bps(text):
    """'12mbit', '500kbit' -> bits per second."""
    m = _RATE.match(str(text))
    if not m:
        raise ScenarioError(f"expected a rate such as 12mbit, got '{text}'")
    unit = (m.group(2) or "bit").lower()
    return float(m.group(1)) * {"bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9}[unit]


def parse_event(event):
    """An emulator event (string 'at=5s,link=0,down=5s' or object) -> dict of strings."""
    if isinstance(event, dict):
        return {k: str(v) for k, v in event.items()}
    out = {}
    for part in event.split(","):
        key, _, value = part.partition("=")
        out[key.strip()] = value.strip()
    return out


def trace_mean_bps(path):
    """Mean rate of a mahimahi trace: one 1500-byte opportunity per line."""
    stamps = [int(line) for line in pathlib.Path(path).read_text().split() if line.strip()]
    return len(stamps) * 1500 * 8 / (stamps[-1] / 1000.0)


@dataclass
class Variant:
    """One bitrate x latency combination of a scenario."""
    bitrate_bps: float
    latency_ms: int

    @property
    def label(self):
        return f"{self.bitrate_bps / 1e6:g}mbit-{self.latency_ms}ms"


@dataclass
class Scenario:
    name: str
    title: str
    path: pathlib.Path
    comment: str
    seed: int
    duration_s: float
    links: list
    events: list
    variants: list
    modes: list
    sim: bool
    latency_search_ms: list = field(default_factory=list)
    shared_bursts: dict = None
    video: dict = None
    feed: str = "file"  # "udp": every sender reads the paced UDP feed (modes.py)

    def link_one_way_ms(self):
        return [parse_seconds(l.get("delay", "0ms")) * 1000 for l in self.links]

    def capacity_bps(self, shared_dir):
        """Sum of the links' nominal rates (trace means for traces; events ignored)."""
        total = 0.0
        for link in self.links:
            rate = link.get("rate", "unlimited")
            if rate.startswith("trace:"):
                total += trace_mean_bps(resolve_shared(rate[len("trace:"):], shared_dir))
            elif rate != "unlimited":
                total += parse_bps(rate)
        return total

    def down_events(self):
        """(at_s, link, down_s) of every outage that is not a flap."""
        out = []
        for e in map(parse_event, self.events):
            if "down" in e and e["down"]:
                out.append((parse_seconds(e["at"]), int(e["link"]), parse_seconds(e["down"])))
        return out

    def marked_events(self):
        """(at_s, link, short text) for plots."""
        marks = []
        for e in map(parse_event, self.events):
            what = next((f"{k}={v}" if v else k for k, v in e.items()
                         if k not in ("at", "link", "dir")), "?")
            marks.append((parse_seconds(e["at"]), int(e["link"]), what))
        return marks


def resolve_shared(path, shared_dir):
    return path.replace("${shared}", str(shared_dir))


def _link_dicts(raw_links):
    links = []
    for item in raw_links:
        links.append(dict(item) if isinstance(item, dict) else parse_event(item))
    return links


def _expand_modes(modes, policies):
    out = []
    for mode in modes:
        if mode == "adaptive":
            out += [f"adaptive:{p}" for p in policies]
        elif mode == "srtla":  # SRTLA with bondcast's scheduler, and with the reference's
            out += [f"srtla:{p}" for p in SRTLA_POLICIES]
        else:
            out.append(mode)
    return out


def load(path, quick=False):
    """Reads one scenario file; quick=True applies its `quick` overrides."""
    path = pathlib.Path(path)
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ScenarioError(f"{path}: {e}") from e
    ev = raw.get("_eval")
    if not isinstance(ev, dict) or "name" not in ev:
        raise ScenarioError(f"{path}: no _eval block with a name")
    settings = dict(ev)
    if quick:
        settings.update(ev.get("quick", {}))
    events = settings.get("events", raw.get("events", []))
    bitrates = settings.get("bitrates") or [settings["bitrate"]]
    latencies = settings.get("latencies_ms", [200])
    policies = settings.get("policies", QUICK_POLICIES if quick else POLICIES)
    try:
        return Scenario(
            name=ev["name"], title=ev.get("title", ""), path=path,
            comment=raw.get("comment", ""), seed=int(raw.get("seed", 1)),
            duration_s=parse_seconds(settings.get("duration", raw.get("duration", "60s"))),
            links=_link_dicts(raw["links"]), events=list(events),
            variants=[Variant(parse_bps(b), int(l)) for b in bitrates for l in latencies],
            modes=_expand_modes(settings.get("modes", ["single", "broadcast", "backup"]),
                                policies),
            sim=bool(settings.get("sim", False)),
            latency_search_ms=list(settings.get("latency_search_ms", [])),
            shared_bursts=settings.get("shared_bursts"), video=raw.get("video"),
            feed=settings.get("feed", "file"))
    except (KeyError, ValueError, ScenarioError) as e:
        raise ScenarioError(f"{path}: {e}") from e


def discover(folder):
    """name -> file for every scenario file with an _eval block (example.json has none)."""
    found = {}
    for path in sorted(pathlib.Path(folder).glob("*.json")):
        try:
            raw = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(raw.get("_eval"), dict) and "name" in raw["_eval"]:
            found[raw["_eval"]["name"]] = path
    return found


def has_quick(path):
    return "quick" in json.loads(pathlib.Path(path).read_text())["_eval"]


def shared_burst_events(scenario):
    """The seeded shared-loss timeline: the same outages on every link (see S3b)."""
    spec = scenario.shared_bursts
    rng = random.Random(spec.get("seed", scenario.seed))
    t_ms, events = 0.0, []
    while True:
        t_ms += rng.expovariate(1.0 / spec["mean_gap_ms"])
        if t_ms >= scenario.duration_s * 1000:
            return events
        burst_ms = max(1, round(rng.expovariate(1.0 / spec["mean_burst_ms"])))
        for link in range(len(scenario.links)):
            events.append({"at": f"{round(t_ms)}ms", "link": link, "down": f"{burst_ms}ms"})


def run_config(scenario, duration_s):
    """The scenario for one run, in the file's own schema (the one `bondcast sim` and
    `bondcast emulate` both read): its links as written, the run's duration, and its events
    (the quick block's when in quick mode) with the shared loss bursts drawn for S3b. The
    receiver's address comes from `bondcast emulate --to`, the stream from `bondcast sim
    --bitrate/--latency`."""
    events = list(scenario.events)
    if scenario.shared_bursts:
        events += shared_burst_events(scenario)
    config = {"comment": f"generated by eval/run from {scenario.path.name}",
              "seed": scenario.seed, "duration": f"{duration_s:.3f}s",
              "links": [dict(link) for link in scenario.links], "events": events}
    if scenario.video:
        config["video"] = dict(scenario.video)
    return config
