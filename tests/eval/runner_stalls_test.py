#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""eval/runner: the stall witness (stalls.py) and the metric that discounts its spans
(metrics.compute's late_outside_stalls_pct). Run by CTest as `eval_runner_stalls_test`."""
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
import unittest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "eval"))

from runner import metrics, stalls  # noqa: E402


class FakeScenario:
    """The two things compute() asks a scenario: two links of 20 and 40 ms."""

    def link_one_way_ms(self):
        return [20.0, 40.0]

    def down_events(self):
        return []

    def marked_events(self):
        return []


def wait_for(cond, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


class Spans(unittest.TestCase):
    def test_merged_joins_overlapping_spans_of_any_cpu(self):
        self.assertEqual(stalls.merged([(50, 60), (10, 20), (15, 30), (30, 35)]),
                         [(10, 35), (50, 60)])

    def test_overlap_counts_only_the_part_inside_the_window(self):
        union = [(10, 20), (30, 40), (100, 200)]
        self.assertEqual(stalls.overlap_us(union, 15, 35), 5 + 5)
        self.assertEqual(stalls.overlap_us(union, 40, 100), 0)
        self.assertEqual(stalls.overlap_us(union, 0, 1000), 10 + 10 + 100)


class LateOutsideStalls(unittest.TestCase):
    """Three payloads of 1000 bytes, latency 300 ms, so the budget is 300 + 40 + 20 ms:
    one on time, one 30 ms over the budget inside a 40 ms stall after its playout time,
    one 30 ms over with no stall around it."""

    def compute(self, stall_lines):
        with tempfile.TemporaryDirectory() as d:
            epoch_us = 1_000_000_000
            rows = [(0, 335), (1, 390), (2, 390)]  # (seq, latency ms)
            with open(os.path.join(d, "packets.csv"), "w") as f:
                f.write("arrival_us,link,seq,send_us,bytes,status\n")
                for seq, lat in rows:
                    send = epoch_us + seq * 1_000_000
                    f.write(f"{send + lat * 1000},0,{seq},{send},1000,delivered\n")
            if stall_lines is not None:
                with open(os.path.join(d, "stalls-cpu0.csv"), "w") as f:
                    f.writelines(stall_lines)
            run = {"dir": d, "epoch_mono_s": epoch_us / 1e6, "latency_ms": 300,
                   "mode": "adaptive:latency-aware", "bitrate_bps": 8000, "media_s": 3,
                   "offered_bytes": 3000, "cpu_s": {"sender": 0.0, "receiver": 0.0},
                   "wall_s": 3.0, "packet_log": True}
            return metrics.compute(run, FakeScenario(), None)

    def test_a_payload_late_inside_a_stall_does_not_count(self):
        # Payload 1's playout time is 1.300 s after the epoch, its output 1.390 s.
        stall = f"{1_000_000_000 + 1_000_000 + 345_000},{1_000_000_000 + 1_000_000 + 385_000}\n"
        m = self.compute([stall, "garbage line\n"])
        self.assertAlmostEqual(m["late_pct"], 100.0 * 2 / 3)
        self.assertAlmostEqual(m["late_outside_stalls_pct"], 100.0 * 1 / 3)
        self.assertEqual(m["stalls"], 1)
        self.assertAlmostEqual(m["longest_stall_ms"], 40.0)

    def test_a_stall_shorter_than_the_lateness_does_not_excuse_it(self):
        stall = f"{1_000_000_000 + 1_000_000 + 345_000},{1_000_000_000 + 1_000_000 + 365_000}\n"
        m = self.compute([stall])
        self.assertAlmostEqual(m["late_outside_stalls_pct"], 100.0 * 2 / 3)

    def test_without_a_witness_the_metric_is_not_measured(self):
        m = self.compute(None)
        self.assertIsNone(m["late_outside_stalls_pct"])
        self.assertAlmostEqual(m["late_pct"], 100.0 * 2 / 3)


class Witness(unittest.TestCase):
    def test_a_stopped_witness_writes_the_span_it_stood_still(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "stalls-cpu0.csv")
            cpu = min(os.sched_getaffinity(0))
            proc = subprocess.Popen(stalls.witness_argv(cpu, out))
            try:
                self.assertTrue(wait_for(lambda: os.path.exists(out), 10.0),
                                "the witness never opened its file")
                before = time.monotonic_ns() // 1000
                proc.send_signal(signal.SIGSTOP)
                time.sleep(0.1)  # the stall itself: the witness cannot run for 100 ms
                proc.send_signal(signal.SIGCONT)

                def stopped_span():
                    return [(a, b) for a, b in stalls.read_spans(d)
                            if b - a >= 80_000 and a >= before - 5_000]
                self.assertTrue(wait_for(stopped_span, 10.0),
                                f"no span of 80 ms or more after the SIGSTOP: "
                                f"{stalls.read_spans(d)[-5:]}")
            finally:
                proc.terminate()
                proc.wait(10)
            self.assertEqual(proc.returncode, 0, "SIGTERM ends the witness cleanly")


if __name__ == "__main__":
    unittest.main()
