"""Load benchmark: `make load`'s Locust scenario, two fixed runs against a platform of
its own.

1. Closed loop: 20 shoppers, each adding an item, checking out with tok_visa and
   waiting for the order's final `order.status_changed` push, for 60 s. Figure:
   paid orders/s (target ≥ 25 with no error), and the CPU time each of the
   platform's processes spent per paid order in that window (`cpu_meter`).
2. Open loop: checkouts offered at 10 orders/s for 30 s, whatever the platform
   does. Figure: checkout → final push p99 (target ≤ 300 ms).

The platform runs as `make run` runs it (devtools.launcher) on ports 30000-30005,
with a private Redis on 30090, SQLite in a temp dir, or PostgreSQL when
`DATABASE_URL` says so, with the database names prefixed `bench_load_` (created
afresh and dropped at the end). Locust runs as a child process, exactly as
`make load` runs it, and hands its figures over as JSON (`--summary-json`).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from commerce_core.settings.topology import PROJECTS
from devtools import databases
from devtools.launcher import Platform
from load import report

from .cpu_meter import CpuMeter
from .harness import PYTHON, REPO_ROOT, BenchError, Table, ensure_free, note, verdict, whole_platform

PORT_OFFSET = 22_000  # gateway 30000, auth 30001, ... review 30005
REDIS_PORT = 30_090
# Locust's own set-up (the operator's products, twenty log-ins) and its draining
# after the window come on top of the measured seconds.
LOCUST_OVERHEAD_SECONDS = 180


@dataclass
class Options:
    seconds: float = 60.0  # the closed-loop run
    open_seconds: float = 30.0  # the open-loop run
    shoppers: int = 20
    rate: float = 10.0


def run(options: Options) -> Table:
    for project in PROJECTS:
        ensure_free(project.default_port + PORT_OFFSET)
    ensure_free(REDIS_PORT)
    with whole_platform("load", port_offset=PORT_OFFSET, redis_port=REDIS_PORT) as platform:
        cart_database = databases.database_url("cart", platform.child_env(), platform.state_dir)
        kind = "PostgreSQL" if databases.is_postgres(cart_database) else "SQLite"
        note(f"closed loop: {options.shoppers} shoppers for {options.seconds:g} s")
        with _platform_cpu(platform, postgres=kind == "PostgreSQL") as meter:
            closed = _locust(
                platform, platform.state_dir / "closed", shoppers=options.shoppers, seconds=options.seconds
            )
        cpu = meter.between(*closed.window) if closed.window and closed.seconds > 0 else {}
        note(f"open loop: {options.rate:g} orders/s for {options.open_seconds:g} s")
        opened = _locust(
            platform,
            platform.state_dir / "open",
            shoppers=options.shoppers,
            seconds=options.open_seconds,
            rate=options.rate,
        )
    return _table(closed, opened, kind, cpu)


def _platform_cpu(platform: Platform, *, postgres: bool) -> CpuMeter:
    def groups() -> dict[str, int]:
        return {name: child.process.pid for name, child in platform.children.items() if child.process is not None}

    return CpuMeter(groups, redis_url=platform.redis_url, postgres=postgres)


def _locust(platform: Platform, prefix: Path, *, shoppers: int, seconds: float, rate: float = 0.0) -> report.Summary:
    """One headless run of the scenario, as `make load` runs it; its figures. A run
    with errors still has figures (its exit status is 1): the table shows them."""
    summary_path, log_path = prefix.with_suffix(".json"), prefix.with_suffix(".log")
    host = platform.gateway_url
    argv = [PYTHON, "-m", "locust", "-f", "load/locustfile.py", "--headless", "--only-summary", "--host", host]
    argv += ["--shoppers", str(shoppers), "--duration", str(seconds), "--rate", str(rate)]
    argv += ["--summary-json", str(summary_path)]
    with open(log_path, "w") as log:
        try:
            username, password = platform.admin_credentials
            done = subprocess.run(
                argv,
                cwd=REPO_ROOT,
                env={**os.environ, "ADMIN_USERNAME": username, "ADMIN_PASSWORD": password},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=seconds + LOCUST_OVERHEAD_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise BenchError(f"the Locust run did not end in time:\n{_tail(log_path)}") from None
    if not summary_path.is_file():
        raise BenchError(f"the Locust run exited {done.returncode} without figures:\n{_tail(log_path)}")
    return report.Summary.from_json(summary_path.read_text())


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(f"    {line}" for line in path.read_text(errors="replace").splitlines()[-lines:])


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} ms"


def _table(closed: report.Summary, opened: report.Summary, databases_kind: str, cpu: dict[str, float]) -> Table:
    table = Table("load: `make load`'s scenario, closed loop and open loop (whole platform)")
    table.row(
        f"paid orders/s, {closed.setup.shoppers} closed-loop shoppers, {closed.seconds:.0f} s",
        f"{closed.paid_per_second:.1f}",
        target=f"≥ {report.TARGET_PAID_PER_SECOND:g} with 0 errors — {verdict(report.throughput_met(closed))}",
    )
    if closed.paid and cpu:
        per_order = {name: seconds * 1000 / closed.paid for name, seconds in cpu.items()}
        # The set-up commands ended before the window; a process idle in it is left out.
        per_order = {name: ms for name, ms in per_order.items() if ms >= 0.05}
        generator = closed.generator_cpu_seconds * 1000 / closed.paid
        table.row(
            "CPU per paid order, closed loop: the platform's processes (+ Locust's)",
            f"{sum(per_order.values()):.1f} ms (+ {generator:.1f} ms)",
        )
        table.notes.append(
            "CPU per paid order, by process: "
            + ", ".join(f"{name} {ms:.1f} ms" for name, ms in per_order.items())
            + ". User + system time over the closed loop's window, divided by the orders paid in it."
        )
    table.row(
        "checkout → final push, closed loop, p50 / p90 / p99 / max",
        " / ".join(_ms(closed.latency_ms[k]) for k in ("p50", "p90", "p99", "max")),
    )
    table.row(
        f"checkout → final push p99, {opened.setup.rate:g} orders/s offered open loop, {opened.seconds:.0f} s",
        _ms(opened.latency_ms["p99"]),
        target=f"≤ {report.TARGET_P99_MS:g} ms, all sent, 0 errors — {verdict(report.latency_met(opened))}",
    )
    table.row(
        "checkout → final push, open loop, p50 / p90 / max",
        " / ".join(_ms(opened.latency_ms[k]) for k in ("p50", "p90", "max")),
    )
    table.row(
        "open loop: checkouts sent / late for their slot / due but never sent",
        f"{opened.orders} / {opened.late_starts} / {opened.unsent}",
    )
    table.row(f"paid orders/s, open loop at {opened.setup.rate:g}/s offered", f"{opened.paid_per_second:.1f}")
    errors = closed.error_total + opened.error_total
    table.row("errors, both runs", str(errors), target=f"0 — {verdict(errors == 0)}")
    for name, figures in (("closed", closed), ("open", opened)):
        kinds = ", ".join(f"{kind} {count}" for kind, count in figures.errors.items() if count)
        if kinds:
            table.notes.append(f"Errors of the {name}-loop run: {kinds}; first: {'; '.join(figures.error_examples)}")
    table.notes.append(
        f"{databases_kind}; Locust in one process on the same machine, using "
        f"{closed.generator_cpu_seconds / max(closed.seconds, 1e-9):.0%} of a core (closed loop). Latency runs from "
        "sending the checkout (open loop: from its slot, so a checkout held back for want of a free shopper "
        "counts its wait) to the final push reaching the shopper's socket, on one monotonic clock."
    )
    return table
