"""The open-loop schedule: checkouts offered at a fixed rate, whatever the platform does.

Slot k is due at `start + k / rate`. A shopper that is free claims the next slot,
waits for its time and checks out; its latency counts from the slot's time, not
from the moment the request actually left. When every shopper is busy, the next
slot is claimed late, and the wait for a free shopper is part of that order's
latency: a slow platform cannot slow the offered load down and hide its own
slowness (coordinated omission), which is what happens when each simulated user
paces itself from its previous request (Locust's `constant_pacing` /
`constant_throughput`). wrk2 measures the same way.
"""

from __future__ import annotations

import math


class OpenLoopSchedule:
    def __init__(self, rate: float, start: float):
        if rate <= 0:
            raise ValueError(f"an open-loop rate must be positive, not {rate}")
        self.rate = rate
        self.start = start
        self.claimed = 0

    def claim(self) -> float:
        """The time (on the run's monotonic clock) at which the next checkout is due."""
        due = self.start + self.claimed / self.rate
        self.claimed += 1
        return due

    def due_by(self, moment: float) -> int:
        """How many slots fell due up to `moment` (inclusive)."""
        if moment < self.start:
            return 0
        return math.floor((moment - self.start) * self.rate + 1e-9) + 1

    def unclaimed_by(self, moment: float) -> int:
        """Slots due by `moment` that no shopper had claimed: checkouts the load
        generator owed the platform but could not send for want of a free shopper.
        More than zero means the run offered less than its rate."""
        return max(0, self.due_by(moment) - self.claimed)
