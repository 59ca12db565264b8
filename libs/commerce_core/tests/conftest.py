import time

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings


def wait_for(predicate, *, timeout: float = 10.0, interval: float = 0.05):
    """Poll until `predicate()` is truthy; returns its value or fails the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s")


def delete_queue(queue, channel):
    """Remove a queue, its messages and its bindings from Redis. (Kombu deletes only
    the bindings this connection declared, hence the declare first.)"""
    bound = queue(channel)
    bound.declare()
    bound.purge()
    bound.delete()


@pytest.fixture
def redis_client():
    return redis.Redis.from_url(settings.REDIS_URL)


def _forget_bindings_of_earlier_runs(redis_client, *, keep: str):
    """A run killed before its teardown leaves bindings that would keep copying
    test events into queues nobody reads; drop them."""
    for table in ("_kombu.binding.domain_events", "_kombu.binding_permanent.domain_events"):
        for member in redis_client.smembers(table):
            queue = member.decode().rsplit("\x06\x16", 1)[-1]
            if queue.startswith("bustest") and not queue.startswith(f"{keep}."):
                redis_client.srem(table, member)
                redis_client.delete(queue)


@pytest.fixture
def bus(redis_client):
    """This run's queues, declared in the real Redis and deleted afterwards (with
    their bindings), so nothing of the test stays behind."""
    from commerce_core.events.transport import bus_app, declare_queues

    app = bus_app()
    _forget_bindings_of_earlier_runs(redis_client, keep=settings.SERVICE_NAME)
    declare_queues()
    yield app
    with app.connection_for_write() as conn:
        for queue in app.conf.task_queues:
            delete_queue(queue, conn.default_channel)


@pytest.fixture
def other_subscriber(bus):
    """A second service's queue bound to the same event types, as another service would have."""
    from commerce_core.events.transport import service_queues

    queue = service_queues(f"{settings.SERVICE_NAME}-other", ["bustest.thing.happened"])[0]
    with bus.connection_for_write() as conn:
        queue(conn.default_channel).declare()
        yield queue.name
        delete_queue(queue, conn.default_channel)


@pytest.fixture
def worker(bus):
    with start_worker(bus, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=20) as w:
        yield w


@pytest.fixture(autouse=True)
def _reset_handlers():
    from tests.busapp import handlers

    handlers.behaviour.update(flaky_failures_left=0, broken=True)
    handlers.attempts.clear()
    yield
