# SPDX-License-Identifier: MPL-2.0
"""Child processes for one run: each in its own process group, logged to a file, bounded
in time, reaped with os.wait4 (for its CPU time) and killed on the way out."""
import ctypes
import os
import re
import signal
import subprocess
import time

POLL_S = 0.02
_PR_SET_PDEATHSIG = 1
try:  # looked up before any fork: the child only calls it
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _PRCTL = None


def _die_with_parent(parent_pid):
    """A preexec_fn: the child gets SIGKILL when the thread that started it dies, however it
    dies (even SIGKILL), so a child with no time bound of its own cannot outlive the
    runner. Start such children from the main thread."""
    kill = int(signal.SIGKILL)

    def hook():
        if _PRCTL is not None:
            _PRCTL(_PR_SET_PDEATHSIG, kill, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl
            os._exit(1)
    return hook


class RunError(Exception):
    """A run that could not be carried out (a process failed, a wait timed out)."""


class Proc:
    """One child process: its own session, stdout+stderr to `log_path`."""

    def __init__(self, name, argv, log_path, die_with_parent=False):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = log_path
        self.started = time.monotonic()
        with open(log_path, "wb") as log:
            self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True,
                                          preexec_fn=_die_with_parent(os.getpid())
                                          if die_with_parent else None)
        self.returncode = None
        self.cpu_s = 0.0

    @property
    def pid(self):
        return self.popen.pid

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines=8):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def poll(self):
        """Reaps the process if it has exited; returns its exit code or None."""
        if self.returncode is not None:
            return self.returncode
        pid, status, usage = os.wait4(self.pid, os.WNOHANG)
        if pid == 0:
            return None
        self.returncode = os.waitstatus_to_exitcode(status)
        self.popen.returncode = self.returncode
        self.cpu_s = usage.ru_utime + usage.ru_stime
        return self.returncode

    def wait(self, timeout_s):
        """Waits for the exit; returns the exit code, or None on timeout."""
        deadline = time.monotonic() + timeout_s
        while self.poll() is None:
            if time.monotonic() >= deadline:
                return None
            time.sleep(POLL_S)
        return self.returncode

    def wait_for_log(self, pattern, timeout_s, count=1):
        """Waits until `pattern` matched `count` times in the log; returns the matches."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout_s
        while True:
            matches = list(regex.finditer(self.log_text()))
            if len(matches) >= count:
                return matches
            if self.poll() is not None:
                raise RunError(f"{self.name} exited ({self.returncode}) before logging "
                               f"'{pattern}':\n{self.log_tail()}")
            if time.monotonic() >= deadline:
                raise RunError(f"{self.name} did not log '{pattern}' within {timeout_s:g} s:\n"
                               f"{self.log_tail()}")
            time.sleep(POLL_S)

    def stop(self, sig=signal.SIGTERM, grace_s=5.0):
        """Signals the process group, then SIGKILLs it after `grace_s`."""
        if self.poll() is not None:
            return self.returncode
        self._signal_group(sig)
        if self.wait(grace_s) is None:
            self._signal_group(signal.SIGKILL)
            self.wait(5.0)
        return self.returncode

    def _signal_group(self, sig):
        try:
            os.killpg(self.pid, sig)
        except ProcessLookupError:
            pass


class Procs:
    """Every process of one run; `with Procs() as p:` kills what is left on exit.
    die_with_parent: every process also dies with the runner (see _die_with_parent)."""

    def __init__(self, die_with_parent=False):
        self.all = []
        self.die_with_parent = die_with_parent

    def start(self, name, argv, log_path):
        proc = Proc(name, argv, log_path, self.die_with_parent)
        self.all.append(proc)
        return proc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for proc in reversed(self.all):
            proc.stop(signal.SIGKILL if exc[0] else signal.SIGTERM, grace_s=3.0)
        return False


def wait_until_quiet(path, quiet_s, timeout_s):
    """Waits until the file at `path` has not grown for `quiet_s` (bounded by timeout_s)."""
    deadline = time.monotonic() + timeout_s
    last_size, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        size = path.stat().st_size if path.exists() else 0
        now = time.monotonic()
        if size != last_size:
            last_size, last_change = size, now
        elif now - last_change >= quiet_s:
            return True
        time.sleep(POLL_S * 5)
    return False


def free_udp_port():
    """A UDP port the kernel reports free on 127.0.0.1 (for ffmpeg -> srt-live-transmit)."""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
