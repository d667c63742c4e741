# SPDX-License-Identifier: MPL-2.0
"""One run = one scenario variant x one mode, with real processes on 127.0.0.1:

    bondcast recv  <--  bondcast emulate (one UDP relay per link)  <--  sender

The sender is `bondcast send --mode broadcast|backup|adaptive|srtla` reading the sample
file (paced by its PCR; srtla: the receiver listens on srtla:// and every link's emulator
relay forwards to that one port, each from its own source port), or, for the single SRT
link, Debian's `srt-live-transmit` fed over UDP by `bondcast feed` (the paced feeder,
eval/feeder; through the scenario's first link only), or, for srtla-ref, the reference SRTLA sender (BELABOX `srtla_send`,
built from ../shared/peers/srtla into BUILD/peers/srtla) fed by a one-link
`bondcast send --mode broadcast` SRT caller: srtla_send sends every link to one
emulator port from source addresses 127.0.0.2, 127.0.0.3, ..., and the emulator's
links (`from=`) tell them apart by that address. A scenario whose _eval block says
`"feed": "udp"` (S5, CPU) gives every bondcast sender the same paced UDP feed as
srt-live-transmit instead of the file, so that their CPU figures compare the same work.
Every file a run writes stays in its folder; `run()` returns what the metrics need.
"""
import json
import os
import pathlib
import signal
import subprocess
import time
from dataclasses import dataclass

from . import scenarios, stalls
from .procs import Procs, RunError, free_udp_port, wait_until_quiet

CONNECT_S = 10.0


@dataclass
class Tools:
    """The binaries and what they support (probed once from --help)."""
    bondcast: str
    shared_dir: str
    packet_log: bool = False
    adaptive: bool = False
    srtla: bool = False
    srtla_send: str = ""  # the reference SRTLA sender; "" if not built
    emulate_from: bool = False  # the emulator's from= (links sharing one listen port)

    @classmethod
    def probe(cls, bondcast, shared_dir):
        def help_of(sub):
            done = subprocess.run([bondcast, sub, "--help"], capture_output=True, text=True,
                                  timeout=30)
            return done.stdout + done.stderr
        return cls(bondcast, shared_dir, packet_log="--packet-log" in help_of("recv"),
                   adaptive="--policy" in help_of("send"),
                   srtla="srtla://" in help_of("send"),
                   srtla_send=srtla_send_path(bondcast),
                   emulate_from="from=ADDR" in help_of("emulate"))


def srtla_send_expected(bondcast):
    """BUILD/peers/srtla/srtla_send for BUILD/bin/bondcast (CMake target
    srtla_send_reference, built when ../shared/peers/srtla exists)."""
    return pathlib.Path(bondcast).resolve().parent.parent / "peers" / "srtla" / "srtla_send"


def srtla_send_path(bondcast):
    """The reference srtla_send next to this bondcast; "" if it is not there."""
    path = srtla_send_expected(bondcast)
    return str(path) if os.access(path, os.X_OK) else ""


def srtla_source_ip(link_index):
    """The source address srtla_send uses for link i (and the emulator's from= for it)."""
    return f"127.0.0.{link_index + 2}"


def _start_receiver(procs, tools, variant, run_dir, bound_s, scheme="srt"):
    argv = [tools.bondcast, "recv", "--listen", f"{scheme}://127.0.0.1:0",
            "--output", run_dir / "out.ts", "--latency", variant.latency_ms,
            "--stats", run_dir / "recv.jsonl", "--duration", f"{bound_s:.0f}s"]
    if tools.packet_log:
        argv += ["--packet-log", run_dir / "packets.csv"]
    recv = procs.start("bondcast recv", argv, run_dir / "recv.log")
    match = recv.wait_for_log(r"listening on .*\(port (\d+)\)", CONNECT_S)[0]
    return recv, int(match.group(1))


def _start_emulator(procs, tools, scenario, receiver_port, run_dir, bound_s, by_source=False):
    """by_source: every link listens on one shared port and takes the datagrams from
    srtla_source_ip(i) (the emulator's from=), as the reference SRTLA sender needs."""
    config = scenarios.run_config(scenario, bound_s)
    if by_source:
        for i, link in enumerate(config["links"]):
            link["listen"] = "127.0.0.1:0"  # one port for the whole group
            link["from"] = srtla_source_ip(i)
    path = run_dir / "emulator.json"
    path.write_text(json.dumps(config, indent=1))
    emu = procs.start("bondcast emulate",
                      [tools.bondcast, "emulate", "--scenario", path,
                       "--to", f"127.0.0.1:{receiver_port}", "--shared-dir", tools.shared_dir,
                       "--stats", run_dir / "emu.jsonl", "--stats-interval", "500ms"],
                      run_dir / "emu.log")
    n = len(scenario.links)
    matches = emu.wait_for_log(r"emulate: link (\d+): 127\.0\.0\.1:(\d+) ->", CONNECT_S, count=n)
    # The emulator's clock starts just before it logs its links: the event timeline's zero.
    epoch = time.monotonic() - 0.01
    ports = {int(m.group(1)): int(m.group(2)) for m in matches}
    return emu, [ports[i] for i in range(n)], epoch


def _sender_argv(tools, mode, variant, sample, ports, run_dir):
    argv = [tools.bondcast, "send", "--input", sample, "--latency", variant.latency_ms,
            "--stats", run_dir / "send.jsonl"]
    if mode.startswith("adaptive:"):
        argv += ["--mode", "adaptive", "--policy", mode.split(":", 1)[1]]
        argv += [x for p in ports for x in ("--link", f"srt://127.0.0.1:{p}")]
    elif mode.startswith("srtla:"):
        argv += ["--mode", "srtla", "--policy", mode.split(":", 1)[1]]
        argv += [x for p in ports for x in ("--link", f"srtla://127.0.0.1:{p}")]
    else:
        argv += ["--mode", mode]
        n = len(ports)  # backup: the first link is preferred
        argv += [x for i, p in enumerate(ports)
                 for x in ("--link", f"srt://127.0.0.1:{p}?weight={n - i}")]
    return argv


def _wait_for_receiver_end(recv, run_dir, latency_ms):
    """The receiver has written what it will: its stream ended, or its output went quiet."""
    try:
        recv.wait_for_log(r"stream .* ended", latency_ms / 1000 + 5)
    except RunError:
        wait_until_quiet(run_dir / "out.ts", 1.0 + latency_ms / 1000, 15)


def _final_stats(path):
    """The last line with "final": true of a JSON-lines stats file ({} if none)."""
    final = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("final"):
                final = record
    return final


def _start_feeder(procs, tools, sample, udp_port, media_s, run_dir):
    """`bondcast feed`: the sample into 127.0.0.1:udp_port at its own mean rate."""
    rate_bps = os.path.getsize(sample) * 8 / media_s
    return procs.start("bondcast feed", [tools.bondcast, "feed", "--input", sample,
                                         "--to", f"127.0.0.1:{udp_port}",
                                         "--bitrate", f"{rate_bps:.0f}bit"],
                       run_dir / "feed.log")


def _finish_feeder(feed, media_s, run_dir):
    """Waits for the feed to end; returns its summary (bytes sent, lateness)."""
    if feed.wait(media_s + 20) != 0:
        raise RunError(f"bondcast feed failed or hung:\n{feed.log_tail()}")
    for line in reversed((run_dir / "feed.log").read_text().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RunError(f"bondcast feed printed no summary:\n{feed.log_tail()}")


def _run_fed_bondcast_sender(procs, tools, mode, variant, sample, ports, recv, run_dir, media_s):
    """bondcast send reading UDP from the paced feeder; it never sees an end on UDP, so it
    is stopped (SIGINT: it writes its final stats) once the receiver has everything."""
    udp_port = free_udp_port()
    argv = _sender_argv(tools, mode, variant, f"udp://127.0.0.1:{udp_port}", ports, run_dir)
    send = procs.start("bondcast send", argv, run_dir / "send.log")
    send.wait_for_log(r"link .*: connected", CONNECT_S, count=len(ports))
    feed = _finish_feeder(_start_feeder(procs, tools, sample, udp_port, media_s, run_dir),
                          media_s, run_dir)
    wait_until_quiet(run_dir / "out.ts", 1.0 + variant.latency_ms / 1000, 20)
    send.stop(signal.SIGINT)
    if send.returncode not in (0, -signal.SIGINT):
        raise RunError(f"bondcast send ({mode}) exited {send.returncode}:\n{send.log_tail()}")
    stats = _final_stats(run_dir / "send.jsonl")
    return send, feed["bytes"], stats.get("payloads"), stats


def _run_bondcast_sender(procs, tools, mode, variant, sample, ports, run_dir, media_s):
    send = procs.start("bondcast send", _sender_argv(tools, mode, variant, sample, ports, run_dir),
                       run_dir / "send.log")
    limit = media_s + CONNECT_S + 4 * variant.latency_ms / 1000 + 15
    code = send.wait(limit)
    if code is None:
        raise RunError(f"bondcast send ({mode}) still running after {limit:.0f} s:\n"
                       f"{send.log_tail()}")
    if code != 0:
        raise RunError(f"bondcast send ({mode}) exited {code}:\n{send.log_tail()}")
    stats = _final_stats(run_dir / "send.jsonl")
    return send, stats.get("input_bytes"), stats.get("payloads"), stats


def _run_single_link(procs, tools, variant, ports, run_dir, sample, recv, media_s):
    """srt-live-transmit over the first link, fed in real time by bondcast feed over UDP."""
    udp_port = free_udp_port()
    slt = procs.start("srt-live-transmit",
                      ["srt-live-transmit", "-a:no", "-t", f"{media_s + 60:.0f}",
                       f"udp://127.0.0.1:{udp_port}",
                       f"srt://127.0.0.1:{ports[0]}?latency={variant.latency_ms}"],
                      run_dir / "send.log")
    recv.wait_for_log(r"accepted single-link stream", CONNECT_S)
    feed = _finish_feeder(_start_feeder(procs, tools, sample, udp_port, media_s, run_dir),
                          media_s, run_dir)
    # srt-live-transmit never sees an end on UDP: stop it once the receiver has it all.
    wait_until_quiet(run_dir / "out.ts", 1.0 + variant.latency_ms / 1000, 20)
    slt.stop(signal.SIGINT)
    return slt, feed["bytes"], None, {}


def _run_srtla_ref(procs, tools, variant, sample, ports, n_links, recv, run_dir, media_s):
    """The reference srtla_send into the emulator's shared port, fed by a one-link SRT
    caller (`bondcast send --mode broadcast`, whose stats give the offered bytes)."""
    if len(set(ports)) != 1:
        raise RunError(f"srtla-ref: the emulator's links listen on {ports}, not one port")
    local_port = free_udp_port()
    ips = run_dir / "srtla_ips.txt"
    ips.write_text("".join(srtla_source_ip(i) + "\n" for i in range(n_links)))
    relay = procs.start("srtla_send", [tools.srtla_send, local_port, "127.0.0.1", ports[0], ips],
                        run_dir / "srtla_send.log")
    # srtla_send registers its links only after its SRT caller's first packet, and the
    # caller retries its handshake until then: no need to wait here.
    argv = [tools.bondcast, "send", "--mode", "broadcast", "--latency", variant.latency_ms,
            "--input", sample, "--stats", run_dir / "send.jsonl",
            "--link", f"srt://127.0.0.1:{local_port}"]
    send = procs.start("bondcast send", argv, run_dir / "send.log")
    limit = media_s + CONNECT_S + 4 * variant.latency_ms / 1000 + 15
    code = send.wait(limit)
    if code is None:
        raise RunError(f"bondcast send (srtla-ref caller) still running after {limit:.0f} s:\n"
                       f"{send.log_tail()}\nsrtla_send:\n{relay.log_tail()}")
    if code != 0:
        raise RunError(f"bondcast send (srtla-ref caller) exited {code}:\n{send.log_tail()}\n"
                       f"srtla_send:\n{relay.log_tail()}")
    _wait_for_receiver_end(recv, run_dir, variant.latency_ms)
    relay.stop(signal.SIGTERM)  # it never ends by itself
    stats = _final_stats(run_dir / "send.jsonl")
    return send, relay, stats.get("input_bytes"), stats.get("payloads"), stats


def run(tools, scenario, variant, mode, sample, media_s, run_dir):
    """Runs one mode; returns a dict of file paths, offered bytes, CPU time and timing."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for stale in run_dir.iterdir():
        stale.unlink()
    bound_s = media_s + 90
    started = time.monotonic()
    with Procs() as procs:
        for cpu in sorted(os.sched_getaffinity(0)):  # stopped with the run's processes
            procs.start(f"stall witness {cpu}",
                        stalls.witness_argv(cpu, run_dir / f"stalls-cpu{cpu}.csv"),
                        run_dir / f"stalls-cpu{cpu}.log")
        srtla_ref = mode == "srtla-ref"
        scheme = "srtla" if mode.startswith("srtla:") or srtla_ref else "srt"
        recv, recv_port = _start_receiver(procs, tools, variant, run_dir, bound_s, scheme)
        emu, ports, epoch = _start_emulator(procs, tools, scenario, recv_port, run_dir, bound_s,
                                            by_source=srtla_ref)
        helper = None  # a second sender-side process whose CPU counts as the sender's
        if srtla_ref:
            sender, helper, offered_bytes, payloads, send_stats = _run_srtla_ref(
                procs, tools, variant, sample, ports, len(scenario.links), recv, run_dir,
                media_s)
        elif mode == "single":
            sender, offered_bytes, payloads, send_stats = _run_single_link(
                procs, tools, variant, ports, run_dir, sample, recv, media_s)
        elif scenario.feed == "udp":
            sender, offered_bytes, payloads, send_stats = _run_fed_bondcast_sender(
                procs, tools, mode, variant, sample, ports, recv, run_dir, media_s)
            _wait_for_receiver_end(recv, run_dir, variant.latency_ms)
        else:
            sender, offered_bytes, payloads, send_stats = _run_bondcast_sender(
                procs, tools, mode, variant, sample, ports, run_dir, media_s)
            _wait_for_receiver_end(recv, run_dir, variant.latency_ms)
        recv.stop(signal.SIGTERM)
        emu.stop(signal.SIGTERM)
        if recv.returncode not in (0, -signal.SIGTERM):
            raise RunError(f"bondcast recv exited {recv.returncode}:\n{recv.log_tail()}")
    return {"mode": mode, "latency_ms": variant.latency_ms, "bitrate_bps": variant.bitrate_bps,
            "media_s": media_s, "epoch_mono_s": epoch, "dir": str(run_dir),
            "offered_bytes": offered_bytes, "offered_payloads": payloads,
            "sender_stats": send_stats, "wall_s": time.monotonic() - started,
            "cpu_s": {"sender": sender.cpu_s + (helper.cpu_s if helper else 0.0),
                      "receiver": recv.cpu_s},
            "packet_log": tools.packet_log}
