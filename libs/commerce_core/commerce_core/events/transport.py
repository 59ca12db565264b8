"""Kombu/Celery wiring of the bus.

One durable `direct` exchange, `domain_events`, routes by event type. Every service
has its own durable queue, `<service>.events`, bound once per event type it handles.
Kombu's Redis transport LPUSHes a direct-exchange message into every bound queue,
so each subscriber gets its own copy that waits in Redis while the subscriber is
down. (A Redis `fanout` exchange is PUB/SUB and would lose exactly those; see
docs/event-bus.md.) Bindings live in Redis, declared at deploy time by
`manage.py declare_event_queues` and again by every worker at start, so a service
that has never run yet still receives what is published after its deployment.

Each message is a Celery task message for the task `events.deliver` with the
envelope as its one argument; every process registers its own `events.deliver`.
"""

import threading

from celery import Celery
from django.apps import apps
from django.conf import settings
from kombu import Exchange, Queue, binding

from .handlers import subscribed_event_types

EXCHANGE = Exchange("domain_events", type="direct", durable=True)
DELIVER_TASK = "events.deliver"


def service_name() -> str:
    return settings.SERVICE_NAME


def events_queue_name(service: str) -> str:
    return f"{service}.events"


def retry_queue_name(service: str) -> str:
    return f"{service}.events.retry"


def tasks_queue_name(service: str) -> str:
    return f"{service}.tasks"


def service_queues(service: str, event_types: list[str]) -> list[Queue]:
    """The queues a service's worker consumes: its events (one binding per event type),
    its delayed retries, and its own internal tasks."""
    queues = []
    if event_types:
        queues.append(
            Queue(
                events_queue_name(service),
                bindings=[binding(EXCHANGE, routing_key=t) for t in event_types],
                durable=True,
            )
        )
    for name in (retry_queue_name(service), tasks_queue_name(service)):
        queues.append(Queue(name, Exchange(name, type="direct", durable=True), routing_key=name, durable=True))
    return queues


_app: Celery | None = None
_app_lock = threading.Lock()


def bus_app() -> Celery:
    """The Celery app of this process, configured from Django settings (`CELERY_*`)."""
    global _app
    if _app is None:
        with _app_lock:
            if _app is None:
                _app = _build_app()
    return _app


def _build_app() -> Celery:
    service = service_name()
    app = Celery(service)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.task_queues = service_queues(service, subscribed_event_types())
    app.conf.task_default_queue = tasks_queue_name(service)
    app.conf.task_create_missing_queues = False
    # The consume side: importing registers `events.deliver` and the worker's helpers.
    from . import consumer, worker_support  # noqa: F401

    consumer.register_deliver_task(app)
    worker_support.install(app)
    app.autodiscover_tasks(lambda: [c.name for c in apps.get_app_configs()])
    return app


def declare_queues() -> list[str]:
    """Create this service's queues and their bindings in Redis (idempotent)."""
    app = bus_app()
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        for queue in app.conf.task_queues:
            queue(channel).declare()
    return [q.name for q in app.conf.task_queues]


def send_envelope(envelope: dict) -> None:
    """Put one envelope on the bus, routed by its type to every subscribed queue."""
    bus_app().send_task(
        DELIVER_TASK,
        args=[envelope],
        task_id=envelope["id"],
        exchange=EXCHANGE,
        routing_key=envelope["type"],
        # Celery would copy the arguments into a header that monitoring tools show;
        # the envelope's data (a payment token, say) has no business there.
        argsrepr=f"<{envelope['type']} {envelope['id']}>",
        kwargsrepr="{}",
        retry=True,
        retry_policy={"max_retries": 2, "interval_start": 0.05, "interval_step": 0.2},
    )
