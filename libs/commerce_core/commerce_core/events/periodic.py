"""Jobs a service's worker runs every few seconds beside consuming events (for
example cancelling orders stuck past a timeout). Declared in an app's `jobs.py`:

    @every(seconds=5)
    def cancel_stale_orders(): ...

Each runs in the worker's housekeeping thread; a failing job is logged and tried
again next time. Jobs must be safe to run concurrently with themselves in another
worker process (lock rows with select_for_update(skip_locked=True)).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class PeriodicJob:
    name: str
    seconds: float
    func: Callable[[], object]
    next_run: float = field(default=0.0)

    def due(self, now: float) -> bool:
        return now >= self.next_run

    def ran(self, now: float) -> None:
        self.next_run = now + self.seconds


_JOBS: dict[str, PeriodicJob] = {}


def every(*, seconds: float):
    def register(func):
        name = f"{func.__module__}.{func.__qualname__}"
        _JOBS.setdefault(name, PeriodicJob(name, seconds, func, next_run=time.monotonic() + seconds))
        return func

    return register


def registered_jobs() -> list[PeriodicJob]:
    return list(_JOBS.values())
