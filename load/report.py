"""The figures of a load run, computed from what the simulated shoppers recorded.

Pure arithmetic on plain records (no Locust, no network), so that every figure the
tool prints is covered by unit tests (`load/tests/test_report.py`):

- paid orders/s: final `paid` pushes received inside the measured window, divided
  by the window's length;
- checkout → final push latency: nearest-rank percentiles of (push received −
  checkout due), both read from one monotonic clock of the load generator's host;
- errors: failed HTTP requests, orders whose final push never came, orders that
  ended in another state than `paid`, sockets that closed under a user, users
  that could not set themselves up, exceptions in the load generator's own code.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

PAID = "paid"

# The targets the platform is measured against (README, "Load").
TARGET_PAID_PER_SECOND = 25.0
TARGET_THROUGHPUT_SHOPPERS = 20
TARGET_THROUGHPUT_SECONDS = 60.0
TARGET_P99_MS = 300.0
TARGET_LATENCY_RATE = 10.0

# Error kinds, as printed in the breakdown.
HTTP_ERROR = "HTTP errors"
PUSH_TIMEOUT = "pushes that never came"
UNEXPECTED_STATE = "orders in an unexpected state"
SOCKET_CLOSED = "sockets closed under a user"
SETUP_FAILED = "users that could not set up"
USER_EXCEPTION = "exceptions in simulated users"
ERROR_KINDS = (HTTP_ERROR, PUSH_TIMEOUT, UNEXPECTED_STATE, SOCKET_CLOSED, SETUP_FAILED, USER_EXCEPTION)


@dataclass(frozen=True)
class Order:
    """One checkout as a shopper saw it; every time is `time.monotonic()` seconds.

    due: when the checkout was meant to leave (open loop: its slot in the schedule;
        closed loop: the moment it left);
    sent: when the request actually left;
    pushed: when the final `order.status_changed` frame reached the shopper's
        socket, or None when none came within the timeout;
    status: that frame's status (`paid`, `failed`, `cancelled`), or None.
    """

    due: float
    sent: float
    pushed: float | None = None
    status: str | None = None

    @property
    def latency(self) -> float | None:
        return None if self.pushed is None else self.pushed - self.due


@dataclass(frozen=True)
class Setup:
    """How the run was shaped, for the title and to know which targets apply."""

    mode: str  # "closed" or "open"
    shoppers: int
    browsers: int = 0
    listeners: int = 0
    rate: float = 0.0  # orders/s offered, open loop only


@dataclass
class Summary:
    setup: Setup
    seconds: float  # length of the measured window
    orders: int  # checkouts sent
    paid: int  # paid orders whose final push arrived inside the window
    paid_per_second: float
    latency_ms: dict[str, float | None]  # p50, p90, p99, max
    late_starts: int  # open loop: checkouts that left more than LATE_AFTER after their slot
    unsent: int  # open loop: slots due in the window that no free shopper took
    listener_events: int
    generator_cpu_seconds: float  # CPU time of the Locust process during the window
    errors: dict[str, int]  # every kind, zeros included
    error_total: int
    error_examples: list[str] = field(default_factory=list)
    #: (start, end) of the measured window on the host's monotonic clock, which every
    #: process of the host shares: what another process measured meanwhile (the
    #: benchmark's CPU per paid order) can be cut to the same window.
    window: tuple[float, float] | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> Summary:
        data = json.loads(text)
        window = data.get("window")
        return cls(**{**data, "setup": Setup(**data["setup"]), "window": tuple(window) if window else None})


# Open loop: a checkout that leaves this much after its slot was held back because
# no shopper was free; its latency still counts from the slot.
LATE_AFTER = 0.010


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100] of a non-empty sequence: the smallest value
    with at least q% of the values at or below it. It is always a measured value,
    never an interpolation between two."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 < q <= 100:
        raise ValueError(f"q must be in (0, 100], not {q}")
    ordered = sorted(values)
    rank = math.ceil(q * len(ordered) / 100)
    return ordered[max(1, rank) - 1]


def rate(count: int, seconds: float) -> float:
    """Events per second over a window; 0 for an empty window."""
    return count / seconds if seconds > 0 else 0.0


def paid_in_window(orders: Iterable[Order], start: float, end: float) -> int:
    """Paid orders whose final push arrived inside [start, end]. Orders settled while
    the run was draining (after `end`) count for latency and errors, not for the rate."""
    return sum(1 for o in orders if o.status == PAID and o.pushed is not None and start <= o.pushed <= end)


def latency_percentiles_ms(orders: Iterable[Order]) -> dict[str, float | None]:
    """p50, p90, p99 and max of checkout → final push, in ms, over the orders whose
    final push came (whatever its status). None when no push came at all."""
    latencies = [o.latency * 1000 for o in orders if o.latency is not None]
    if not latencies:
        return {"p50": None, "p90": None, "p99": None, "max": None}
    return {
        "p50": percentile(latencies, 50),
        "p90": percentile(latencies, 90),
        "p99": percentile(latencies, 99),
        "max": max(latencies),
    }


def order_errors(orders: Iterable[Order]) -> Counter:
    """A push that never came is one error; a push with a final status other than
    `paid` (every shopper pays with `tok_visa`) is another kind."""
    errors: Counter = Counter()
    for order in orders:
        if order.pushed is None:
            errors[PUSH_TIMEOUT] += 1
        elif order.status != PAID:
            errors[UNEXPECTED_STATE] += 1
    return errors


def summarize(
    setup: Setup,
    orders: Sequence[Order],
    *,
    window: tuple[float, float],
    other_errors: Counter | None = None,
    error_examples: Sequence[str] = (),
    listener_events: int = 0,
    generator_cpu_seconds: float = 0.0,
    unsent: int = 0,
) -> Summary:
    start, end = window
    seconds = max(0.0, end - start)
    paid = paid_in_window(orders, start, end)
    errors = Counter({kind: 0 for kind in ERROR_KINDS})
    errors.update(order_errors(orders))
    errors.update(other_errors or Counter())
    late = sum(1 for o in orders if o.sent - o.due > LATE_AFTER) if setup.mode == "open" else 0
    return Summary(
        setup=setup,
        seconds=seconds,
        orders=len(orders),
        paid=paid,
        paid_per_second=rate(paid, seconds),
        latency_ms=latency_percentiles_ms(orders),
        late_starts=late,
        unsent=unsent if setup.mode == "open" else 0,
        listener_events=listener_events,
        generator_cpu_seconds=generator_cpu_seconds,
        errors=dict(errors),
        error_total=sum(errors.values()),
        error_examples=list(error_examples)[:10],
        window=(start, end),
    )


# --- against the targets -------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def throughput_target_applies(summary: Summary) -> bool:
    """≥ 25 paid orders/s is a claim about 20 closed-loop shoppers sustained for 60 s."""
    setup = summary.setup
    return (
        setup.mode == "closed"
        and setup.shoppers == TARGET_THROUGHPUT_SHOPPERS
        and summary.seconds >= TARGET_THROUGHPUT_SECONDS - 1
    )


def latency_target_applies(summary: Summary) -> bool:
    """p99 ≤ 300 ms is a claim about 10 orders/s offered open-loop."""
    return summary.setup.mode == "open" and math.isclose(summary.setup.rate, TARGET_LATENCY_RATE)


def throughput_met(summary: Summary) -> bool:
    return summary.paid_per_second >= TARGET_PAID_PER_SECOND and summary.error_total == 0


def latency_met(summary: Summary) -> bool:
    # Checkouts never sent were owed at this rate: the rate was not really offered.
    p99 = summary.latency_ms["p99"]
    return p99 is not None and p99 <= TARGET_P99_MS and summary.error_total == 0 and summary.unsent == 0


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


def rows(summary: Summary) -> list[tuple[str, str, str]]:
    """`(figure, value, target)` for the table the run ends with."""
    throughput = f"≥ {TARGET_PAID_PER_SECOND:g}/s with {TARGET_THROUGHPUT_SHOPPERS} closed-loop shoppers for "
    throughput += f"{TARGET_THROUGHPUT_SECONDS:g} s"
    if throughput_target_applies(summary):
        throughput += f": {verdict(throughput_met(summary))}"
    else:
        throughput += " (not this run's shape)"
    p99 = summary.latency_ms["p99"]
    latency = f"≤ {TARGET_P99_MS:g} ms at {TARGET_LATENCY_RATE:g} orders/s offered open-loop"
    if latency_target_applies(summary):
        latency += f": {verdict(latency_met(summary))}"
    else:
        latency += " (not this run's shape)"

    table = [
        (
            "paid orders/s",
            f"{summary.paid_per_second:.1f} ({summary.paid} paid in {summary.seconds:.1f} s)",
            throughput,
        ),
        ("checkout → final push p50", _ms(summary.latency_ms["p50"]), ""),
        ("checkout → final push p90", _ms(summary.latency_ms["p90"]), ""),
        ("checkout → final push p99", _ms(p99), latency),
        ("checkout → final push max", _ms(summary.latency_ms["max"]), ""),
        ("orders checked out", str(summary.orders), ""),
    ]
    if summary.setup.mode == "open":
        table.append(("checkouts late for their slot (no free shopper)", str(summary.late_starts), ""))
        table.append(("checkouts due but never sent (no free shopper)", str(summary.unsent), "0"))
    if summary.setup.listeners:
        table.append(("public events pushed to listeners", str(summary.listener_events), ""))
    share = rate(summary.generator_cpu_seconds, summary.seconds) * 100
    table.append(
        ("load generator's CPU (this process)", f"{summary.generator_cpu_seconds:.1f} s, {share:.0f}% of one core", "")
    )
    breakdown = ", ".join(f"{kind} {count}" for kind, count in summary.errors.items() if count)
    value = f"{summary.error_total} ({breakdown})" if breakdown else "0"
    table.append(("errors", value, f"0: {verdict(summary.error_total == 0)}"))
    return table


def title(summary: Summary) -> str:
    setup = summary.setup
    if setup.mode == "open":
        shape = f"open loop, {setup.rate:g} orders/s offered by {setup.shoppers} shoppers"
    else:
        shape = f"closed loop, {setup.shoppers} shoppers"
    extras = [f"{n} {what}" for n, what in ((setup.browsers, "browsers"), (setup.listeners, "listeners")) if n]
    return f"load: {shape}" + (f", {', '.join(extras)}" if extras else "") + f"; {summary.seconds:.0f} s measured"


def markdown(summary: Summary) -> str:
    """The first errors, if any, then the table `| figure | value | target |`, whose
    last row is the error count: the last line a run prints."""
    lines = []
    if summary.error_examples:
        lines += ["First errors:", *(f"- {example}" for example in summary.error_examples), ""]
    header = ("figure", "value", "target")
    body = rows(summary)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(3)]
    lines += [f"### {title(summary)}", ""]
    for cells in [header, tuple("-" * w for w in widths), *body]:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |")
    return "\n".join(lines)
