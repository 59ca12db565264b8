"""CPU time of each of the platform's processes over a window another process chose.

The load benchmark's Locust run decides when its measured window opens and closes
(once every shopper has logged in, and after its seconds), on the host's monotonic
clock. `CpuMeter` samples, on a thread of the benchmark, every process group the
platform's supervisor started, plus Redis (its own `INFO cpu`) and, on PostgreSQL,
the server's processes, and afterwards reads off each one's CPU over that window by
interpolating between the samples around its ends.

CPU time is the figure that travels between machines of one speed, where paid
orders/s on a shared 2-core machine also measures the load generator and the
scheduler: CPU per paid order, process by process, says where an order's cost lies.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable

import redis

from devtools.supervisor import cpu_seconds_by_group_and_command

REDIS = "Redis"
POSTGRES = "PostgreSQL server"


class CpuMeter:
    """Samples the CPU time of named process groups (and Redis, and PostgreSQL's
    server) every `interval` seconds while running, as a context manager."""

    def __init__(
        self,
        groups: Callable[[], dict[str, int]],
        *,
        redis_url: str | None = None,
        postgres: bool = False,
        interval: float = 0.5,
    ):
        self._groups = groups  # name → process group id, read at each sample (a restarted child is followed)
        self._redis = redis.Redis.from_url(redis_url) if redis_url else None
        self._postgres = postgres
        self._interval = interval
        self._times: list[float] = []
        self._samples: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-meter", daemon=True)

    def __enter__(self) -> CpuMeter:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def _sample(self) -> None:
        by_group, by_command = cpu_seconds_by_group_and_command()
        sample = {name: by_group.get(group, 0.0) for name, group in self._groups().items()}
        if self._redis is not None:
            try:
                info = self._redis.info("cpu")
                sample[REDIS] = info["used_cpu_user"] + info["used_cpu_sys"]
            except redis.RedisError:
                pass
        if self._postgres:
            sample[POSTGRES] = by_command.get("postgres", 0.0)
        self._times.append(time.monotonic())
        self._samples.append(sample)

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each process used from `start` to `end` (monotonic clock times
        inside the sampled span), largest first."""
        used = {name: self._at(name, end) - self._at(name, start) for name in self._samples[-1]}
        return dict(sorted(used.items(), key=lambda item: -item[1]))

    def _at(self, name: str, moment: float) -> float:
        times = self._times
        after = min(max(bisect.bisect_left(times, moment), 1), len(times) - 1)
        before = after - 1
        low, high = self._samples[before].get(name, 0.0), self._samples[after].get(name, 0.0)
        span = times[after] - times[before]
        share = 0.0 if span <= 0 else min(max((moment - times[before]) / span, 0.0), 1.0)
        return low + (high - low) * share
