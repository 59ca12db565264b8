"""Prometheus metrics: the series every process exposes, and how it exposes them.

Where (the README's "Operations" lists every port):

- a service's web process: `GET /metrics` on its own port (views.py), never routed by
  the gateway;
- the gateway's web process and every event worker: a small HTTP server of their
  own (`serve()`), on `METRICS_PORT`, by default the project's port + 9 (the
  gateway's web process: 8009) or + 50 (an event worker: 8050 for the gateway's,
  8051-8055 for the services'), on `METRICS_HOST` (127.0.0.1; 0.0.0.0 in containers).

A web server of several processes (the auth service's gunicorn, one per core) keeps
its series in files under `PROMETHEUS_MULTIPROC_DIR` (ops/gunicorn_per_core.py sets it
up), and any of them answers `/metrics` with the sum of all.

The series (all prefixed `commerce_`):

| series | type | labels | who |
| --- | --- | --- | --- |
| `http_requests_total` | counter | route, method, status | every web process |
| `http_request_duration_seconds` | histogram | route, method | every web process |
| `events_published_total` | counter | type | whoever publishes (counted at commit) |
| `event_deliveries_total` | counter | type | subscribers: a handler's run committed |
| `event_delivery_latency_seconds` | histogram | type | subscribers: publish → handled |
| `event_retries_total` | counter | type | subscribers: a run failed, a retry is scheduled |
| `event_dead_letters_total` | counter | type | subscribers: an event parked |
| `outbox_unsent_events`, `outbox_oldest_unsent_age_seconds` | gauge | — | workers (their service's outbox) |
| `event_queue_depth` | gauge | queue | workers: messages waiting in their queue |
| `event_retries_waiting`, `event_dead_letters_waiting` | gauge | — | workers |
| `worker_problems` | gauge | — | workers: what makes /health report them |
| `push_sockets` | gauge | front_end | the gateway's web processes |
| `push_frames_sent_total`, `push_frames_dropped_total` | counter | event | the gateway's web processes |

Label values are bounded: routes are URL patterns (not paths), event types come
from the contracts, methods outside the standard ones count as `other`.

Each hook caches its labelled child, so counting costs a dict lookup and an add.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

logger = logging.getLogger(__name__)

PREFIX = "commerce_"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
DELIVERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# --- HTTP -------------------------------------------------------------------------------

HTTP_REQUESTS = Counter(
    PREFIX + "http_requests_total",
    "HTTP requests answered, by route, method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    PREFIX + "http_request_duration_seconds",
    "Time from a request's arrival to its response, by route and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
_http_children: dict[tuple, tuple] = {}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    key = (route, method, status)
    children = _http_children.get(key)
    if children is None:
        method_label = method if method in METHODS else "other"
        children = (
            HTTP_REQUESTS.labels(route, method_label, str(status)),
            HTTP_DURATION.labels(route, method_label),
        )
        if len(_http_children) < 10_000:
            _http_children[key] = children
    children[0].inc()
    children[1].observe(seconds)


# --- the event bus -------------------------------------------------------------------------

EVENTS_PUBLISHED = Counter(
    PREFIX + "events_published_total", "Events published (their transaction committed).", ["type"]
)
EVENT_DELIVERIES = Counter(
    PREFIX + "event_deliveries_total", "Handler runs on a delivered event whose outcome committed.", ["type"]
)
EVENT_DELIVERY_LATENCY = Histogram(
    PREFIX + "event_delivery_latency_seconds",
    "From an event's publish() to its handler's committed run, by event type.",
    ["type"],
    buckets=DELIVERY_BUCKETS,
)
EVENT_RETRIES = Counter(
    PREFIX + "event_retries_total", "Failed handler runs that were scheduled to run again.", ["type"]
)
EVENT_DEAD_LETTERS = Counter(PREFIX + "event_dead_letters_total", "Events parked in the dead-letter store.", ["type"])

_by_type: dict[tuple[object, str], object] = {}


def _child(metric, event_type: str):
    key = (metric, event_type)
    child = _by_type.get(key)
    if child is None:
        child = _by_type[key] = metric.labels(event_type)
    return child


def event_published(event_type: str) -> None:
    _child(EVENTS_PUBLISHED, event_type).inc()


def event_handled(event_type: str, published_at: str) -> None:
    """A handler's run on an event committed; `published_at` is the envelope's `time`."""
    _child(EVENT_DELIVERIES, event_type).inc()
    try:
        latency = time.time() - datetime.fromisoformat(published_at).timestamp()
    except (TypeError, ValueError):
        return
    _child(EVENT_DELIVERY_LATENCY, event_type).observe(max(latency, 0.0))


def event_retry_scheduled(event_type: str) -> None:
    _child(EVENT_RETRIES, event_type).inc()


def event_dead_lettered(event_type: str) -> None:
    _child(EVENT_DEAD_LETTERS, event_type or "unknown").inc()


class WorkerGauges:
    """The state of a worker's bus, as its housekeeping last read it (made only in
    workers, so that web processes expose no stale zeros)."""

    def __init__(self, registry=REGISTRY):
        def gauge(name, text, labels=()):
            return Gauge(PREFIX + name, text, labels, registry=registry)

        self.outbox_unsent = gauge("outbox_unsent_events", "Outbox rows committed and not yet sent.")
        self.outbox_age = gauge("outbox_oldest_unsent_age_seconds", "Age of the oldest unsent outbox row.")
        self.queue_depth = gauge("event_queue_depth", "Messages waiting in the worker's queue.", ["queue"])
        self.retries_waiting = gauge("event_retries_waiting", "Handler runs scheduled to run again.")
        self.dead_letters_waiting = gauge("event_dead_letters_waiting", "Dead letters not replayed.")
        self.problems = gauge("worker_problems", "Problems the worker reports to /health (0 when healthy).")

    def update(self, status, *, queue: str | None) -> None:
        self.outbox_unsent.set(status.outbox_unsent)
        self.outbox_age.set(status.outbox_oldest_seconds)
        self.retries_waiting.set(status.retries_scheduled)
        self.dead_letters_waiting.set(status.dead_letters)
        self.problems.set(len(status.problems))
        if queue is not None and status.queue_depth is not None:
            self.queue_depth.labels(queue).set(status.queue_depth)


_worker_gauges: WorkerGauges | None = None


def worker_status(status, *, queue: str | None) -> None:
    """The worker's housekeeping read its bus's state (heartbeat.WorkerStatus)."""
    global _worker_gauges
    if _worker_gauges is None:
        _worker_gauges = WorkerGauges()
    _worker_gauges.update(status, queue=queue)


# --- exposition ------------------------------------------------------------------------


def render() -> tuple[bytes, str]:
    """This process's series in the text format (the sum of every process's when
    several share `PROMETHEUS_MULTIPROC_DIR`), and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


#: Added to the project's port for the process's own metrics server.
PORT_STEP = {"web": 9, "worker": 50}


def metrics_address(service: str, role: str, environ=os.environ) -> tuple[str, int]:
    """(host, port) of a process's metrics server (see the module docstring)."""
    from ..settings.topology import PROJECTS

    host = environ.get("METRICS_HOST") or "127.0.0.1"
    if environ.get("METRICS_PORT"):
        return host, int(environ["METRICS_PORT"])
    project = next(p for p in PROJECTS if p.name == service)
    return host, project.port + PORT_STEP[role]


def serve(service: str, role: str):
    """Start this process's metrics server on a thread; returns it (None when its port
    is taken: logged, and the process goes on without it)."""
    from prometheus_client import start_http_server

    host, port = metrics_address(service, role)
    try:
        server, _thread = start_http_server(port, addr=host)
    except OSError as exc:
        logger.error("metrics: cannot listen on %s:%d (%s); this process exposes no metrics", host, port, exc)
        return None
    logger.info("metrics on http://%s:%d/metrics", host, port)
    return server
