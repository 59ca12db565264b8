"""`python -m drills` (what `make drills` calls): the fault drills against the real
platform, one table row per drill.

    python -m drills                      # every drill, about ten minutes
    python -m drills poison redis-lost    # some of them
    python -m drills --list

The platform runs as `make run` runs it (devtools.launcher), on ports 31000-31005,
with a private embedded Redis the drills restart at will, fresh databases (SQLite
in a temp dir, or PostgreSQL with the database names prefixed `drill_` when
`DATABASE_URL` says so), and `BROKER_URL` when it names RabbitMQ (whose event
queues the drills then own). Retries are faster than by default, so that a poison
event is parked within seconds.

After each drill the runner waits until nothing is on its way any more, then
counts, among the events published during the drill, those every subscriber
recorded and those lost, and checks the invariants (drills/audit.py) on the whole
platform. The exit status is 0 only when no drill failed, lost an event or broke
an invariant. Every process's output goes to a log whose path is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from devtools import databases
from devtools.brokers import empty_event_queues
from devtools.journeys import http, log_in_as_operator
from devtools.launcher import Platform
from devtools.production_env import generated_production_env
from devtools.redis_server import EmbeddedRedis, free_port

from .audit import Ledger
from .scenarios import DRILLS, DrillContext

PORT_OFFSET = 23_000
DATABASE_PREFIX = "drill_"
#: Faster retries, and unacknowledged messages of a killed worker back within seconds.
DRILL_ENV = {
    "EVENT_RETRY_BACKOFF": "0.2",
    "EVENT_RETRY_BACKOFF_MAX": "1",
    "EVENT_MAX_RETRIES": "4",
    "EVENT_VISIBILITY_TIMEOUT": "20",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m drills", description=__doc__.splitlines()[0])
    parser.add_argument("drills", nargs="*", help="names of the drills to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the drills and exit")
    args = parser.parse_args(argv)
    by_name = {drill.name: drill for drill in DRILLS}
    if args.list:
        for drill in DRILLS:
            print(f"{drill.name:<20} {drill.done}")
        return 0
    unknown = [name for name in args.drills if name not in by_name]
    if unknown:
        parser.error(f"unknown drill(s) {', '.join(unknown)}; known: {', '.join(by_name)}")
    selected = [by_name[name] for name in args.drills] or DRILLS

    state_dir = Path(tempfile.mkdtemp(prefix="commerce-drills-"))
    log_path = state_dir / "platform.log"
    redis = EmbeddedRedis(port=free_port())
    redis_url = redis.start()
    broker_url = os.environ.get("BROKER_URL", "")
    if broker_url and not broker_url.startswith("redis"):
        empty_event_queues(broker_url)
    rows = []
    try:
        with open(log_path, "w", buffering=1) as log:
            platform = Platform(
                port_offset=PORT_OFFSET,
                state_dir=state_dir,
                redis_url=redis_url,
                env={
                    **DRILL_ENV,
                    **databases.prefixed_database_env(DATABASE_PREFIX, state_dir),
                    **generated_production_env(),
                },
                fresh_databases=True,
                output=log,
            )
            with platform:
                print(f"starting the platform (output in {log_path})", file=sys.stderr, flush=True)
                platform.up(timeout=180)
                with http(platform, timeout=15) as client:
                    operator = log_in_as_operator(client)
                    for drill in selected:
                        rows.append(run_drill(drill, DrillContext(platform, redis, client, operator)))
    finally:
        redis.stop()
    print(table(rows))
    print(f"\nplatform output: {log_path}")
    return 0 if all(row["ok"] for row in rows) else 1


def run_drill(drill, ctx: DrillContext) -> dict:
    print(f"drill {drill.name}: {drill.done}", file=sys.stderr, flush=True)
    began = time.monotonic()
    error = ""
    try:
        note = drill.run(ctx)
    except Exception as exc:  # the drill itself failed: reported in its row
        note, error = "", f"{type(exc).__name__}: {exc}"
    try:
        ctx.platform.wait_healthy(timeout=120)
    except Exception as exc:
        error = error or f"the platform did not recover: {exc}"
    ledger = Ledger(ctx.platform)
    left = ledger.wait_quiet(timeout=240)
    counts = ledger.wait_delivered(ctx.started)
    invariants = ledger.invariants()
    broken = [f"{name}: {'; '.join(problems[:3])}" for name, problems in invariants if problems]
    ok = not error and counts.lost == 0 and not broken and not left
    print(f"  done in {time.monotonic() - began:.0f}s: {'ok' if ok else 'FAILED'}", file=sys.stderr, flush=True)
    for line in counts.missing[:10]:
        print(f"  lost: {line}", file=sys.stderr)
    return {
        "drill": drill.done,
        "note": error or note,
        "published": counts.published,
        "handled": counts.handled,
        "expected": counts.expected,
        "lost": counts.lost,
        "invariants": "; ".join(broken) if broken else f"all {len(invariants)} hold",
        "ok": ok,
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| drill | what happened | events published | deliveries recorded | lost | invariants |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['drill']} | {row['note']} | {row['published']} | {row['handled']} of {row['expected']} "
            f"| {row['lost']} | {row['invariants']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
