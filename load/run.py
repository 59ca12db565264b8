"""The state of one load run inside the Locust process: the start gate, the measured
window, the orders and errors the users record, and the open-loop schedule.

The measured window opens once every spawned user has set itself up (shoppers
registered or logged in, sockets open and subscribed), so that logging in twenty
accounts (a slow password hash each) is not counted as the platform's throughput;
it closes when Locust starts stopping the users. One process, one clock: every
time here is `time.monotonic()` of the load generator's host.
"""

from __future__ import annotations

import logging
import resource
import time
from collections import Counter
from dataclasses import dataclass

import gevent
from gevent.event import Event

from . import report
from .schedule import OpenLoopSchedule
from .stock import Catalog

logger = logging.getLogger(__name__)

MAX_EXAMPLES = 10


@dataclass(frozen=True)
class Options:
    """The scenario's own command-line options (locustfile.py declares them)."""

    shoppers: int = 20
    browsers: int = 0
    listeners: int = 0
    rate: float = 0.0
    duration: float = 60.0
    push_timeout: float = 30.0
    products: int = 10
    accounts: str = "load"
    summary_json: str = ""

    def setup(self) -> report.Setup:
        return report.Setup(
            mode="open" if self.rate > 0 else "closed",
            shoppers=self.shoppers,
            browsers=self.browsers,
            listeners=self.listeners,
            rate=self.rate,
        )


class LoadRun:
    def __init__(self):
        self.options = Options()
        self.catalog = Catalog(items=[], browsable=[], search_words=[], pages=1)
        self.reset()

    def reset(self) -> None:
        """A new test (Locust's test_start): forget the previous one."""
        if getattr(self, "_timer", None) is not None:  # a test stopped early in the web UI
            self._timer.kill(block=False)
        self._timer: gevent.Greenlet | None = None
        self.setup = self.options.setup()
        self.orders: list[report.Order] = []
        self.errors: Counter = Counter()
        self.error_examples: list[str] = []
        self.listener_events = 0
        self.started = Event()  # the gate
        self.window_start: float | None = None
        self.window_end: float | None = None
        self._cpu_at_start = self._cpu_at_end = 0.0
        self.unsent = 0
        self.stopping = False
        self.schedule: OpenLoopSchedule | None = None
        self._expected_users: int | None = None
        self._settled_users = 0
        self._stop_after: float | None = None
        self._on_window_elapsed = None

    # --- the gate and the window --------------------------------------------------------
    def limit(self, seconds: float | None, on_elapsed) -> None:
        """Call `on_elapsed()` `seconds` after the window opens (None: never)."""
        self._stop_after, self._on_window_elapsed = seconds, on_elapsed

    def users_spawned(self, count: int) -> None:
        """Locust spawned `count` users in all; the gate waits for each to settle."""
        self._expected_users = count
        self._maybe_open()

    def user_settled(self) -> None:
        """One user is set up (or gave up trying: that is an error of its own)."""
        self._settled_users += 1
        self._maybe_open()

    def _maybe_open(self) -> None:
        if self.started.is_set() or self._expected_users is None or self.stopping:
            return
        if self._settled_users >= self._expected_users:
            self.window_start = time.monotonic()
            self._cpu_at_start = _cpu_seconds()
            if self.setup.mode == "open":
                self.schedule = OpenLoopSchedule(self.setup.rate, self.window_start)
            logger.info("every user is set up: measuring from now")
            self.started.set()
            if self._stop_after is not None and self._on_window_elapsed is not None:
                self._timer = gevent.spawn_later(self._stop_after, self._on_window_elapsed)

    def wait_for_start(self) -> bool:
        """Block a user until the window opens; False when the run stops first."""
        while not self.started.wait(timeout=0.5):
            if self.stopping:
                return False
        return not self.stopping

    def stop(self) -> None:
        """Locust is stopping the users: the window closes, no new order starts."""
        if not self.stopping:
            self.stopping = True
            self.window_end = time.monotonic()
            self._cpu_at_end = _cpu_seconds()
            if self.schedule is not None:
                self.unsent = self.schedule.unclaimed_by(self.window_end)

    # --- what users record --------------------------------------------------------------
    def record_order(self, order: report.Order) -> None:
        self.orders.append(order)

    def record_error(self, kind: str, example: str) -> None:
        self.errors[kind] += 1
        if len(self.error_examples) < MAX_EXAMPLES:
            self.error_examples.append(f"{kind}: {example}")
        logger.warning("%s: %s", kind, example)

    def example(self, text: str) -> None:
        """Keep an example of an error counted elsewhere (an order's outcome)."""
        if len(self.error_examples) < MAX_EXAMPLES:
            self.error_examples.append(text)
        logger.warning("%s", text)

    def summary(self) -> report.Summary:
        start = self.window_start
        end = self.window_end if self.window_end is not None else time.monotonic()
        return report.summarize(
            self.setup,
            self.orders,
            window=(start, end) if start is not None else (end, end),
            other_errors=self.errors,
            error_examples=self.error_examples,
            listener_events=self.listener_events,
            unsent=self.unsent,
            generator_cpu_seconds=max(0.0, self._cpu_at_end - self._cpu_at_start) if start is not None else 0.0,
        )


def _cpu_seconds() -> float:
    """User + system CPU time of this process: on a machine shared with the platform,
    what the load generator took from it."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# The one run of this Locust process, shared by the users and the event hooks.
RUN = LoadRun()
