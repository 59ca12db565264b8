import json
import time

import pytest
import redis
from django.conf import settings

from commerce_core.events.broker import default_broker
from commerce_core.events.routing import events_queue


def wait_for(predicate, *, timeout: float = 10.0, interval: float = 0.05):
    """Poll until `predicate()` is truthy; returns its value or fails the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s")


def run_worker_until(bus, predicate, *, timeout: float = 10.0):
    """Start this service's event worker on `bus`, wait until `predicate()`, stop it."""
    from commerce_core.events.worker import EventWorker

    events = EventWorker(broker=bus)
    events.start()
    try:
        return wait_for(predicate, timeout=timeout)
    finally:
        events.stop()


@pytest.fixture
def redis_client():
    return redis.Redis.from_url(settings.REDIS_URL)


def _delete_queues(broker, names):
    if broker.options.is_redis:
        broker.client.delete(*names)  # each queue is a stream, with its consumer group
        return
    with broker.connection() as conn:
        channel = conn.channel()
        for name in names:
            channel.queue_delete(name)


@pytest.fixture
def bus():
    """This run's queues, empty before the test and deleted after it."""
    broker = default_broker()
    names = [events_queue(settings.SERVICE_NAME), events_queue(settings.OTHER_SERVICE_NAME)]
    _delete_queues(broker, names)
    broker.reset()
    broker.declare(names)
    yield broker
    from commerce_core.events.outbox import sender

    sender.flush()
    _delete_queues(broker, names)
    broker.reset()


@pytest.fixture
def worker(bus):
    """This service's event worker, running in the test process (its own threads)."""
    from commerce_core.events.worker import EventWorker

    events = EventWorker(broker=bus)
    events.start()
    yield events
    events.stop()


@pytest.fixture(autouse=True)
def _reset_handlers():
    from tests.busapp import handlers

    handlers.behaviour.update(flaky_failures_left=0, broken=True)
    handlers.attempts.clear()
    handlers.pushed.clear()
    yield


def queued_event_ids(broker, queue: str) -> list[str]:
    """The ids of the events waiting in a queue, oldest first, left where they are."""
    if broker.options.is_redis:
        return [json.loads(fields[b"e"])["id"] for _, fields in broker.client.xrange(queue)]
    ids = []
    with broker.connection() as conn:
        channel = conn.channel()
        while (message := channel.basic_get(queue, no_ack=False)) is not None:
            ids.append(message.properties["message_id"])
        channel.close()  # unacknowledged, they go back to the queue
    return ids
