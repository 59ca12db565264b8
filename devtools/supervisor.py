"""Child processes that are always stopped: the one process supervisor of the
launcher (`make run`), the end-to-end tests, the drills and the benchmarks.

Every child runs in its own process group, so that stopping it stops whatever it
spawned too (Granian's, gunicorn's and Celery's own children, nginx's worker),
and so that a Ctrl-C in the terminal reaches only the supervising process, which
then stops its children in order. A child's output is copied line by line to the
supervisor's output behind its name (`catalog-web | ...`), to a file per child
when `log_dir` is given, or nowhere; its last lines are kept either way, for the
message when it fails.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

#: /proc counts CPU time in these per second.
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class SupervisorError(RuntimeError):
    """A child could not be run, or failed."""


@dataclass
class Child:
    name: str
    argv: list[str]
    cwd: Path
    process: subprocess.Popen | None = None
    pump: threading.Thread | None = None
    recent: collections.deque = field(default_factory=lambda: collections.deque(maxlen=200))
    #: Stopped on purpose: its exit is not a failure.
    stopping: bool = False

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.process.returncode if self.process is not None else None

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by every live process of its group."""
        return group_cpu_seconds(self.process.pid) if self.process is not None else 0.0

    def tail(self, lines: int = 30) -> str:
        return "".join(f"    {line}\n" for line in list(self.recent)[-lines:])


class Supervisor:
    """Starts, runs to completion, stops and kills named children."""

    def __init__(self, *, output: TextIO | None = sys.stdout, log_dir: Path | None = None, name_width: int = 16):
        self.output = output
        self.log_dir = Path(log_dir) if log_dir else None
        self.name_width = name_width
        self.children: dict[str, Child] = {}
        self._lock = threading.Lock()

    # --- life cycle ----------------------------------------------------------------------
    def start(self, name: str, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> Child:
        """Start a child (a stopped one of the same name is started again)."""
        child = self.children.get(name)
        if child is not None and child.running:
            raise SupervisorError(f"{name} is running already")
        child = Child(name=name, argv=list(argv), cwd=Path(cwd))
        self.children[name] = child
        child.process = subprocess.Popen(
            child.argv,
            cwd=child.cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        child.pump = self._pump(child)
        return child

    def run(self, name: str, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float = 300.0) -> str:
        """Run a child to completion; its output. SupervisorError if it fails or takes too long."""
        child = self.start(name, argv, cwd=cwd, env=env)
        try:
            code = child.process.wait(timeout)
        except subprocess.TimeoutExpired:
            code = f"timeout after {timeout:.0f}s"
        except BaseException:  # Ctrl-C: do not leave it running
            self.kill(name)
            raise
        finally:
            if child.running:
                self.kill(name)
            child.pump.join(timeout=5)
            child.stopping = True
        if code != 0:
            raise SupervisorError(f"{name} failed ({code}):\n{child.tail()}")
        return "\n".join(child.recent)

    def stop(self, names: Sequence[str] | None = None, *, timeout: float = 10.0) -> None:
        """SIGTERM to each child's group, SIGKILL to whatever is left after `timeout`."""
        children = (
            [self.children[n] for n in names if n in self.children]
            if names is not None
            else list(self.children.values())
        )
        running = [child for child in children if child.running]
        for child in children:
            child.stopping = True
        for child in running:
            signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in running:
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{child.name} did not stop within {timeout:.0f}s: killing it")
                signal_group(child.process, signal.SIGKILL)
                child.process.wait()
        for child in children:
            if child.process is not None:
                signal_group(child.process, signal.SIGKILL)  # whatever the leader left in its group
            if child.pump is not None:
                child.pump.join(timeout=5)

    def kill(self, name: str) -> None:
        """SIGKILL to a child's group at once, as a crash would."""
        child = self.children.get(name)
        if child is None or child.process is None:
            return
        child.stopping = True
        signal_group(child.process, signal.SIGKILL)
        child.process.wait()
        if child.pump is not None:
            child.pump.join(timeout=5)

    def exited(self) -> list[Child]:
        """Children that exited without being asked to."""
        return [c for c in self.children.values() if c.process is not None and not c.stopping and not c.running]

    # --- output ----------------------------------------------------------------------------
    def say(self, message: str) -> None:
        self._write("platform", message)

    def _pump(self, child: Child) -> threading.Thread:
        log = open(self.log_dir / f"{child.name}.log", "a", buffering=1) if self.log_dir else None  # noqa: SIM115

        def copy_lines():
            with child.process.stdout, log or contextlib.nullcontext():
                for raw in iter(child.process.stdout.readline, b""):
                    line = raw.decode(errors="replace").rstrip("\r\n")
                    child.recent.append(line)
                    if log is not None:
                        log.write(line + "\n")
                    self._write(child.name, line)

        thread = threading.Thread(target=copy_lines, name=f"output-{child.name}", daemon=True)
        thread.start()
        return thread

    def _write(self, name: str, line: str) -> None:
        if self.output is None:
            return
        with self._lock:
            try:
                self.output.write(f"{name:<{self.name_width}} | {line}\n")
                self.output.flush()
            except (ValueError, OSError):  # the stream was closed under us (interpreter exit)
                pass


@contextlib.contextmanager
def sigint_ignored():
    """Ctrl-C ignored meanwhile (stopping children takes seconds; a second Ctrl-C must
    not leave half of them running)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of the live processes in process group `pgid` (Linux /proc).

    CPU time barely depends on what else the machine is doing, so CPU per request or
    per event stays comparable where wall-clock rates on a busy machine do not."""
    return cpu_seconds_by_group_and_command()[0].get(pgid, 0.0)


def cpu_seconds_by_group_and_command() -> tuple[dict[int, float], dict[str, float]]:
    """User + system CPU seconds of every live process, summed by process group and by
    command name (`postgres`, say), from one pass over /proc."""
    by_group: dict[int, float] = {}
    by_command: dict[str, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        command = text[text.find("(") + 1 : text.rfind(")")]
        fields = text[text.rfind(")") + 2 :].split()  # state, ppid, pgrp, ..., utime (11), stime (12)
        seconds = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        by_group[int(fields[2])] = by_group.get(int(fields[2]), 0.0) + seconds
        by_command[command] = by_command.get(command, 0.0) + seconds
    return by_group, by_command
