"""The event bus's guarantees, each shown against real Redis and a real database,
with a real Celery worker consuming where consumption is what is tested."""

import json

import pytest
from django.core.management import call_command
from django.db import transaction

from commerce_core.events.envelope import Envelope
from commerce_core.events.models import DeadLetter, InboxMessage, OutboxMessage
from commerce_core.events.outbox import publish, relay_pending
from commerce_core.events.transport import events_queue_name, send_envelope
from tests.busapp.contracts import ThingFailed, ThingHappened
from tests.busapp.handlers import attempts, behaviour
from tests.busapp.models import Effect
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def queued_event_ids(redis_client, queue_name) -> list[str]:
    """The event ids waiting in a Kombu queue (a Redis list of Celery task messages)."""
    return [json.loads(raw)["headers"]["id"] for raw in redis_client.lrange(queue_name, 0, -1)]


@pytest.fixture
def own_queue(settings):
    return events_queue_name(settings.SERVICE_NAME)


# --- transactional outbox -------------------------------------------------------------


def test_an_event_is_sent_as_soon_as_its_transaction_commits(bus, redis_client, own_queue):
    with transaction.atomic():
        message = publish(ThingHappened(thing_id=1))
        assert queued_event_ids(redis_client, own_queue) == []  # nothing leaves before commit
    assert queued_event_ids(redis_client, own_queue) == [str(message.event_id)]
    # Marked sent a moment later, in a batch, off the request's path.
    wait_for(lambda: OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=False).exists(), timeout=5)


def test_a_rolled_back_transaction_publishes_nothing(bus, redis_client, own_queue):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            publish(ThingHappened(thing_id=1))
            raise RuntimeError("the change fails")
    assert OutboxMessage.objects.count() == 0
    assert queued_event_ids(redis_client, own_queue) == []


def test_an_event_whose_send_failed_is_sent_again_by_the_relay(bus, redis_client, own_queue, monkeypatch):
    def broker_down(envelope):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("commerce_core.events.outbox.send_envelope", broker_down)
    with transaction.atomic():
        message = publish(ThingHappened(thing_id=7))
    message.refresh_from_db()
    assert message.sent_at is None and message.send_attempts == 1
    assert queued_event_ids(redis_client, own_queue) == []

    monkeypatch.undo()
    assert relay_pending(older_than_seconds=0) == 1
    assert queued_event_ids(redis_client, own_queue) == [str(message.event_id)]
    assert relay_pending(older_than_seconds=0) == 0  # sent rows are not sent again


def test_the_worker_relays_an_event_left_unsent_by_a_process_that_died(bus, worker, monkeypatch):
    # A row committed without its on-commit send, as when the web process dies in between.
    with transaction.atomic():
        monkeypatch.setattr(transaction, "on_commit", lambda *a, **k: None)
        message = publish(ThingHappened(thing_id=8))
    monkeypatch.undo()
    wait_for(lambda: Effect.objects.filter(handler="record", thing_id=8).exists(), timeout=15)
    wait_for(lambda: OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=False).exists(), timeout=5)


# --- durable fanout --------------------------------------------------------------------


def test_every_subscribed_queue_gets_its_own_copy_of_an_event(bus, redis_client, own_queue, other_subscriber):
    with transaction.atomic():
        message = publish(ThingHappened(thing_id=2))
    assert queued_event_ids(redis_client, own_queue) == [str(message.event_id)]
    assert queued_event_ids(redis_client, other_subscriber) == [str(message.event_id)]


def test_events_published_while_the_subscriber_was_down_are_handled_when_it_starts(bus, redis_client, own_queue):
    from celery.contrib.testing.worker import start_worker

    for thing_id in (10, 11, 12):
        with transaction.atomic():
            publish(ThingHappened(thing_id=thing_id))
    assert len(queued_event_ids(redis_client, own_queue)) == 3  # waiting in Redis, no worker running

    with start_worker(bus, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=20):
        wait_for(lambda: Effect.objects.filter(handler="record").count() == 3)
    assert sorted(Effect.objects.filter(handler="record").values_list("thing_id", flat=True)) == [10, 11, 12]


# --- idempotent consumer ---------------------------------------------------------------


def test_an_event_delivered_twice_is_handled_once(bus, worker):
    envelope = Envelope.wrap(ThingHappened(thing_id=3), source="test").to_dict()
    send_envelope(envelope)
    send_envelope(envelope)
    wait_for(
        lambda: (
            attempts.get("record", 0) >= 1 and InboxMessage.objects.filter(handler__endswith="record_thing").exists()
        )
    )
    # Let the second copy be consumed too before counting effects.
    wait_for(lambda: Effect.objects.filter(handler="flaky").count() == 1)
    send_envelope(Envelope.wrap(ThingHappened(thing_id=4), source="test").to_dict())
    wait_for(lambda: Effect.objects.filter(thing_id=4, handler="record").exists())
    assert Effect.objects.filter(thing_id=3, handler="record").count() == 1
    assert InboxMessage.objects.filter(event_id=envelope["id"]).count() == 2  # once per handler


# --- bounded retries and dead letters --------------------------------------------------


def test_a_handler_that_fails_transiently_succeeds_on_a_retry(bus, worker):
    behaviour["flaky_failures_left"] = 2
    send_envelope(Envelope.wrap(ThingHappened(thing_id=5), source="test").to_dict())
    wait_for(lambda: Effect.objects.filter(handler="flaky", thing_id=5).exists())
    assert attempts["flaky"] == 3
    assert attempts["record"] == 1  # the handler that succeeded first time did not run again
    assert DeadLetter.objects.count() == 0


def test_a_handler_that_keeps_failing_is_parked_after_bounded_retries_while_others_flow(bus, worker, settings):
    failing = Envelope.wrap(ThingFailed(thing_id=6), source="test").to_dict()
    send_envelope(failing)
    letter = wait_for(lambda: DeadLetter.objects.filter(event_id=failing["id"]).first(), timeout=15)
    assert letter.handler.endswith("broken_handler")
    assert letter.attempts == settings.COMMERCE_EVENTS["MAX_RETRIES"] + 1 == attempts["broken"]
    assert "downstream unavailable" in letter.error
    assert not Effect.objects.filter(handler="broken").exists()  # each failed run rolled back
    assert Effect.objects.filter(handler="steady", thing_id=6).count() == 1

    # Later events keep flowing.
    send_envelope(Envelope.wrap(ThingHappened(thing_id=60), source="test").to_dict())
    wait_for(lambda: Effect.objects.filter(handler="record", thing_id=60).exists())

    # Once the cause is fixed, one command replays it; the steady handler does not run again.
    behaviour["broken"] = False
    call_command("replay_dead_letters")
    wait_for(lambda: Effect.objects.filter(handler="broken", thing_id=6).exists())
    assert Effect.objects.filter(handler="steady", thing_id=6).count() == 1
    letter.refresh_from_db()
    assert letter.replayed_at is not None


def test_a_malformed_event_is_parked_at_once_without_retries(bus, worker):
    send_envelope(
        {
            "id": "not-an-envelope",
            "type": "bustest.thing.happened",
            "specversion": "1.0",
            "source": "/x",
            "time": "now",
            "data": {"thing_id": "NaN"},
        }
    )
    letter = wait_for(lambda: DeadLetter.objects.filter(event_id="not-an-envelope").first())
    assert letter.malformed and letter.attempts == 1
    assert attempts == {}


# --- periodic jobs ---------------------------------------------------------------------


def test_the_worker_runs_the_periodic_jobs_an_app_declares(bus, worker):
    from tests.busapp.jobs import runs

    before = runs["count"]
    wait_for(lambda: runs["count"] >= before + 2)
