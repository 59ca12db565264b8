"""The event bus: how long a domain event takes from the publisher's commit to the
subscriber's handler, and how many events per second flow through.

The catalog publishes `catalog.product.created` through its real write path
(`catalog.services.product_create`: outbox row in the product's transaction, sent on
commit) and the cart's real event worker consumes it (inbox row + ProductReplica
write in one transaction). Processes: a private Redis, the cart worker, and
short-lived publisher and probe processes (bench/catalog_publisher.py,
bench/cart_probe.py), each inside its own project.

(a) Latency: a steady 200 events/s for 10 s; per event, the handler's replica write
    (and, for context, its inbox insert) minus the publisher's commit. Also at
    20 events/s, the floor when nothing queues.
(b) Throughput: 2000 events as fast as the publisher can; events/s from the first
    publish until the cart has handled the last one. Reference: a bare Celery round
    trip (bench/bare_celery.py) with the same broker, pool and concurrency. For
    context, each side alone: the senders' rates, a queue of 1000 drained by a
    freshly started worker, and CPU time per event.

Databases: SQLite files in a temp dir, or PostgreSQL when `DATABASE_URL` (or
`CATALOG_DATABASE_URL` / `CART_DATABASE_URL`) says so, like the platform.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from statistics import median

import redis

from commerce_core.settings.topology import PROJECTS
from devtools.commands import worker_argv

from . import bare_celery
from .harness import PYTHON, REPO_ROOT, BenchError, Table, Workspace, note, percentile, verdict

REDIS_PORT = 28091
LATENCY_P50_TARGET_MS = 5.0
LATENCY_P99_TARGET_MS = 25.0
THROUGHPUT_RATIO_TARGET = 0.5
WARMUP_EVENTS = 50
LIGHT_RATE, LIGHT_SECONDS = 20.0, 5.0  # a rate far below capacity: the latency floor
BURST_MAX_SECONDS = 25.0  # a publisher slower than 80 events/s publishes fewer
DRAIN_EVENTS, DRAIN_MAX_SECONDS = 1000, 12.0

CART = next(project for project in PROJECTS if project.name == "cart")
#: `publish()` calls timed alone, for the publisher's CPU against a bare Celery send.
PUBLISH_ONLY = 1000
CPU_RATIO_TARGET = 1.5
# The reference: a plain Celery worker, as its documentation runs one for I/O-bound tasks.
BARE_WORKER_ARGS = [
    "worker",
    "--pool",
    "threads",
    "--concurrency",
    "4",
    "--without-gossip",
    "--without-mingle",
    "--loglevel",
    "WARNING",
]


@dataclass(frozen=True)
class Options:
    rate: float = 200.0  # events/s of the latency run
    seconds: float = 10.0  # length of the latency run
    events: int = 2000  # events (and bare tasks) of the throughput run


class BusRun:
    """The processes of one bus benchmark and the events published so far."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self.expected = 0  # catalog.product.created events the cart must have handled

    def publish(
        self, count: int, *, rate: float = 0.0, max_seconds: float = 0.0, label: str, publish_only: int = 0
    ) -> dict:
        out = self.ws.directory / f"published-{label}.json"
        argv = [
            PYTHON,
            "-m",
            "bench.catalog_publisher",
            "--count",
            str(count),
            "--rate",
            str(rate),
            "--max-seconds",
            str(max_seconds),
            "--label",
            label,
            "--out",
            str(out),
            "--publish-only",
            str(publish_only),
        ]
        timeout = 60 + (max_seconds or (count / rate if rate else count / 20)) + publish_only / 50
        self.ws.run(
            f"publish-{label}",
            argv,
            cwd=REPO_ROOT / "catalog_service",
            env=self.ws.env(DJANGO_SETTINGS_MODULE="config.settings"),
            timeout=timeout,
        )
        published = json.loads(out.read_text())
        self.expected += len(published["events"]) + 1  # the publisher's first, unmeasured event too
        return published

    def handled(self, label: str, *, timeout: float = 60.0) -> dict:
        out = self.ws.directory / f"handled-{label}.json"
        argv = [
            PYTHON,
            "-m",
            "bench.cart_probe",
            "--expect",
            str(self.expected),
            "--timeout",
            str(timeout),
            "--out",
            str(out),
        ]
        self.ws.run(
            f"probe-{label}",
            argv,
            cwd=REPO_ROOT / "cart_service",
            env=self.ws.env(DJANGO_SETTINGS_MODULE="config.settings"),
            timeout=timeout + 60,
        )
        return json.loads(out.read_text())


def run(options: Options = Options()) -> Table:
    with Workspace("bus", redis_port=REDIS_PORT) as ws:
        redis_url = ws.start_redis()
        databases = ws.prepare_databases(["catalog", "cart"])
        note("migrating catalog and cart databases, declaring their queues")
        ws.setup_projects(["catalog", "cart"])
        bus = BusRun(ws)

        worker = ws.start(
            "cart-worker",
            worker_argv(CART, python=PYTHON, loglevel="WARNING"),
            cwd=REPO_ROOT / "cart_service",
        )
        note(f"warming up: {WARMUP_EVENTS} events")
        bus.publish(WARMUP_EVENTS, rate=options.rate, label="warmup")
        _handled_or_fail(bus, "warmup", worker)

        note(f"(a) latency, unloaded: {LIGHT_RATE:.0f} events/s for {LIGHT_SECONDS:.0f} s")
        light = bus.publish(round(LIGHT_RATE * LIGHT_SECONDS), rate=LIGHT_RATE, label="light")
        light_latency = _latencies(light, _handled_or_fail(bus, "light", worker))

        note(f"(a) latency: {options.rate:.0f} events/s for {options.seconds:.0f} s")
        steady = bus.publish(
            round(options.rate * options.seconds),
            rate=options.rate,
            max_seconds=options.seconds * 1.5 + 2,
            label="steady",
        )
        latency = _latencies(steady, _handled_or_fail(bus, "steady", worker))

        note(f"(b) throughput: {options.events} events as fast as possible")
        worker_cpu = worker.cpu_seconds()
        burst = bus.publish(options.events, max_seconds=BURST_MAX_SECONDS, label="burst")
        throughput = _throughput(burst, _handled_or_fail(bus, "burst", worker))
        throughput["worker_cpu"] = (worker.cpu_seconds() - worker_cpu) / throughput["events"]
        ws.stop(worker)

        drain_count = min(DRAIN_EVENTS, options.events)
        note(f"(b) consumer alone: {drain_count} events queued while the worker is stopped, then drained")
        queued = bus.publish(drain_count, max_seconds=DRAIN_MAX_SECONDS, label="queued", publish_only=PUBLISH_ONLY)
        throughput["publish_cpu"] = queued["publish_cpu"]
        worker = ws.start(
            "cart-worker-2",
            worker_argv(CART, python=PYTHON, loglevel="WARNING"),
            cwd=REPO_ROOT / "cart_service",
        )
        throughput["drain_per_second"] = _drain_rate(queued, _handled_or_fail(bus, "queued", worker))
        throughput["drain_events"] = len(queued["events"])
        ws.stop(worker)

        note(
            f"(b) reference: bare Celery, {len(queued['events'])} tasks drained, "
            f"{throughput['events']} sent and run at once"
        )
        bare = _bare_celery(ws, redis_url, throughput["events"], drain_count=len(queued["events"]))

    return _table(options, light_latency, latency, throughput, bare, databases)


def _handled_or_fail(bus: BusRun, label: str, worker) -> dict:
    try:
        return bus.handled(label)
    except BenchError as exc:
        raise BenchError(f"{exc}\ncart worker output:\n{worker.tail()}") from None


def _latencies(published: dict, handled: dict) -> dict:
    to_write, to_inbox, publish_cost, missing = [], [], [], 0
    for event in published["events"]:
        written = handled["written"].get(str(event["product_id"]))
        began = handled["handled"].get(event["event_id"] or "")
        if written is None or began is None:
            missing += 1
            continue
        to_write.append(written - event["committed"])
        to_inbox.append(began - event["committed"])
        publish_cost.append(event["returned"] - event["committed"])
    if not to_write:
        raise BenchError("no published event was found handled by the cart")
    events = published["events"]
    span = events[-1]["committed"] - events[0]["committed"] if len(events) > 1 else 0.0
    return {
        "to_write": to_write,
        "to_inbox": to_inbox,
        "publish_cost": publish_cost,
        "missing": missing,
        "worst_lag": published["worst_lag"],
        "unsent": published["unsent"],
        "achieved_rate": (len(events) - 1) / span if span else 0.0,
    }


def _throughput(published: dict, handled: dict) -> dict:
    events = published["events"]
    done = max(
        max(handled["handled"][e["event_id"]] for e in events),
        max(handled["written"][str(e["product_id"])] for e in events),
    )
    count = len(events)
    return {
        "events": count,
        "events_per_second": count / (done - published["started"]),
        "publish_per_second": count / (published["finished"] - published["started"]),
        "seconds": done - published["started"],
        "sender_cpu": published["cpu"] / count,
        "unsent": published["unsent"],
    }


def _drain_rate(published: dict, handled: dict) -> float:
    """Events/s of a worker draining a full queue: first to last handler done."""
    done = sorted(handled["written"][str(e["product_id"])] for e in published["events"])
    return (len(done) - 1) / (done[-1] - done[0]) if len(done) > 1 and done[-1] > done[0] else 0.0


def _bare_celery(ws: Workspace, redis_url: str, count: int, *, drain_count: int) -> dict:
    client = redis.Redis.from_url(redis_url)
    reset = (bare_celery.COUNTER, bare_celery.FIRST_DONE, bare_celery.LAST_DONE)
    client.delete(*reset, bare_celery.READY)
    # Queued first, drained by a worker started afterwards (its warm-up, too).
    ws.run("bare-queue", [PYTHON, "-m", "bench.bare_celery", "send", str(drain_count - 1)], cwd=REPO_ROOT)
    worker = ws.start(
        "bare-worker",
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "bench.bare_celery",
            *BARE_WORKER_ARGS,
            "-Q",
            bare_celery.QUEUE,
            "--hostname",
            "bare-bench@%h",
        ],
        cwd=REPO_ROOT,
    )
    _wait_counter(client, drain_count, worker)
    first, last = float(client.get(bare_celery.FIRST_DONE)), float(client.get(bare_celery.LAST_DONE))
    drain = (drain_count - 1) / (last - first) if last > first else 0.0
    client.delete(*reset)
    worker_cpu = worker.cpu_seconds()
    sent = json.loads(
        ws.run("bare-send", [PYTHON, "-m", "bench.bare_celery", "send", str(count)], cwd=REPO_ROOT)
        .strip()
        .splitlines()[-1]
    )
    _wait_counter(client, count + 1, worker)
    done = float(client.get(bare_celery.LAST_DONE))
    worker_cpu = worker.cpu_seconds() - worker_cpu
    ws.stop(worker)
    client.close()
    return {
        "tasks_per_second": count / (done - sent["started"]),
        "send_per_second": count / (sent["finished"] - sent["started"]),
        "seconds": done - sent["started"],
        "worker_cpu": worker_cpu / count,
        "sender_cpu": sent["cpu"] / count,
        "drain_per_second": drain,
    }


def _wait_counter(client: redis.Redis, target: int, worker, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while int(client.get(bare_celery.COUNTER) or 0) < target:
        if not worker.running or time.monotonic() > deadline:
            raise BenchError(f"the bare Celery worker did not run {target} tasks:\n{worker.tail()}")
        time.sleep(0.005)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def _table(options: Options, light: dict, latency: dict, throughput: dict, bare: dict, databases: str) -> Table:
    table = Table("bus — `catalog.product.created`: catalog outbox → Redis → cart worker")
    to_write = latency["to_write"]
    p50, p99 = percentile(to_write, 50), percentile(to_write, 99)
    label = (
        f"offered {options.rate:.0f}/s for {options.seconds:.0f} s; published "
        f"{latency['achieved_rate']:.0f}/s, {len(to_write)} events"
    )
    table.row(
        f"latency commit → handler done, p50 ({label})",
        _ms(p50),
        "",
        "",
        f"≤ {LATENCY_P50_TARGET_MS:g} ms — {verdict(p50 * 1e3 <= LATENCY_P50_TARGET_MS)}",
    )
    table.row(
        "latency commit → handler done, p99",
        _ms(p99),
        "",
        "",
        f"≤ {LATENCY_P99_TARGET_MS:g} ms — {verdict(p99 * 1e3 <= LATENCY_P99_TARGET_MS)}",
    )
    table.row("latency commit → handler done, max", _ms(max(to_write)))
    table.row(
        "latency commit → handler start (inbox row), p50 / p99",
        f"{_ms(percentile(latency['to_inbox'], 50))} / {_ms(percentile(latency['to_inbox'], 99))}",
    )
    table.row(
        f"latency commit → handler done at {LIGHT_RATE:.0f} events/s (floor), p50 / p99",
        f"{_ms(percentile(light['to_write'], 50))} / {_ms(percentile(light['to_write'], 99))}",
    )
    table.row("publisher: commit → event sent (on-commit send), p50", _ms(median(latency["publish_cost"])))
    ratio = throughput["events_per_second"] / bare["tasks_per_second"]
    table.row(
        f"throughput, {throughput['events']} events published at once (events/s)",
        f"{throughput['events_per_second']:.0f}",
        f"bare Celery {bare['tasks_per_second']:.0f}",
        f"{ratio:.2f}",
        f"≥ {THROUGHPUT_RATIO_TARGET} — {verdict(ratio >= THROUGHPUT_RATIO_TARGET)}",
    )
    table.row(
        "senders alone: publisher (product_create/s) vs bare send (tasks/s)",
        f"{throughput['publish_per_second']:.0f}",
        f"{bare['send_per_second']:.0f}",
        f"{throughput['publish_per_second'] / bare['send_per_second']:.2f}",
    )
    drain_ratio = throughput["drain_per_second"] / bare["drain_per_second"] if bare["drain_per_second"] else 0.0
    table.row(
        f"consumer alone: a queue of {throughput['drain_events']} drained (events/s)",
        f"{throughput['drain_per_second']:.0f}",
        f"bare Celery {bare['drain_per_second']:.0f}",
        f"{drain_ratio:.2f}",
    )
    delivery_ratio = throughput["worker_cpu"] / bare["worker_cpu"]
    table.row(
        "CPU per delivery with inbox and handler (ms): cart worker vs a bare Celery task run",
        f"{throughput['worker_cpu'] * 1e3:.2f}",
        f"{bare['worker_cpu'] * 1e3:.2f}",
        f"{delivery_ratio:.2f}",
        f"≤ {CPU_RATIO_TARGET}× — {verdict(delivery_ratio <= CPU_RATIO_TARGET)}",
    )
    publish_ratio = throughput["publish_cpu"] / bare["sender_cpu"]
    table.row(
        "CPU per publish with outbox, sent and marked (ms): publish() vs a bare Celery send",
        f"{throughput['publish_cpu'] * 1e3:.2f}",
        f"{bare['sender_cpu'] * 1e3:.2f}",
        f"{publish_ratio:.2f}",
        f"≤ {CPU_RATIO_TARGET}× — {verdict(publish_ratio <= CPU_RATIO_TARGET)}",
    )
    table.row(
        "CPU per product_create, the product's own write included (ms), for context",
        f"{throughput['sender_cpu'] * 1e3:.2f}",
        f"{bare['sender_cpu'] * 1e3:.2f}",
        f"{throughput['sender_cpu'] / bare['sender_cpu']:.2f}",
    )
    missing = latency["missing"] + light["missing"]
    unsent = throughput["unsent"]
    if missing or unsent:
        table.row("events not found handled / outbox rows left unsent", f"{missing} / {unsent}", "", "", "0 / 0")
    table.notes.append(
        f"Databases: {databases}. Cart worker: the platform's (one consumer thread, batches recorded in "
        f"one transaction each). Bare worker: Celery, --pool threads --concurrency 4, prefetch ×4, "
        f"acks_late. \"Handler done\" is the cart's ProductReplica write, the handler's last statement "
        f'before its commit; "handler start" its InboxMessage.processed_at. Publisher\'s worst lag behind '
        f"its schedule at {options.rate:.0f}/s: {_ms(latency['worst_lag'])}. CPU ratios are bus ÷ bare: "
        f"how many bare Celery round trips' worth of CPU one event costs."
    )
    return table
