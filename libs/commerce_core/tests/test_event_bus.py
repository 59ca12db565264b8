"""The event bus's guarantees, each shown against a real broker (Redis, or RabbitMQ
with `BROKER_URL=amqp://...`) and a real database, with the service's real event
worker consuming where consumption is what is tested."""

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError, transaction

from commerce_core.events import delivery, outbox
from commerce_core.events.broker_base import Sent
from commerce_core.events.envelope import Envelope
from commerce_core.events.models import DeadLetter, InboxMessage, OutboxMessage, ScheduledRetry
from commerce_core.events.outbox import publish, relay_pending, sender
from commerce_core.events.routing import events_queue, queues_for
from tests.busapp.contracts import ThingFailed, ThingHappened, ThingPushed
from tests.busapp.handlers import attempts, behaviour, pushed
from tests.busapp.models import Effect
from tests.conftest import queued_event_ids, run_worker_until, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def own_queue():
    return events_queue(settings.SERVICE_NAME)


@pytest.fixture
def other_queue():
    return events_queue(settings.OTHER_SERVICE_NAME)


def put_on_the_bus(broker, envelope: dict) -> None:
    """What a publisher's outbox does, without one: how a test delivers an event twice."""
    broker.publish(envelope, queues_for(envelope["type"]))


def committed(event) -> OutboxMessage:
    with transaction.atomic():
        message = publish(event)
    sender.flush()
    return message


# --- transactional outbox -------------------------------------------------------------


def test_an_event_is_sent_as_soon_as_its_transaction_commits(bus, own_queue):
    with transaction.atomic():
        message = publish(ThingHappened(thing_id=1))
        sender.flush()
        assert queued_event_ids(bus, own_queue) == []  # nothing leaves before commit
    sender.flush()
    assert queued_event_ids(bus, own_queue) == [str(message.event_id)]
    message.refresh_from_db()
    assert message.sent_at is not None  # marked sent by the sender, off the request's path


def test_a_rolled_back_transaction_publishes_nothing(bus, own_queue):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            publish(ThingHappened(thing_id=1))
            raise RuntimeError("the change fails")
    sender.flush()
    assert OutboxMessage.objects.count() == 0
    assert queued_event_ids(bus, own_queue) == []


def test_an_event_whose_send_failed_stays_unsent_and_is_sent_again_by_the_relay(bus, own_queue, monkeypatch):
    def broker_down(items):
        return Sent([ConnectionError("broker unreachable")] * len(items))

    monkeypatch.setattr(bus, "publish_many", broker_down)
    message = committed(ThingHappened(thing_id=7))
    message.refresh_from_db()
    assert message.sent_at is None and message.send_attempts == 1
    assert "broker unreachable" in message.last_error

    monkeypatch.undo()
    assert relay_pending(older_than_seconds=0) == 1
    assert queued_event_ids(bus, own_queue) == [str(message.event_id)]
    assert relay_pending(older_than_seconds=0) == 0  # sent rows are not sent again


def test_the_relay_takes_no_write_transaction_while_nothing_is_due(bus, monkeypatch):
    committed(ThingHappened(thing_id=9))  # sent at once: nothing left for the relay
    sender.flush()

    def write_transaction(*args, **kwargs):
        raise AssertionError("a transaction was opened")  # on SQLite it would take the write lock

    monkeypatch.setattr(outbox.transaction, "atomic", write_transaction)
    assert relay_pending(older_than_seconds=0) == 0


def test_the_worker_relays_an_event_left_unsent_by_a_process_that_died(bus, worker, monkeypatch):
    # A row committed without its on-commit send, as when the web process dies in between.
    with transaction.atomic():
        monkeypatch.setattr(transaction, "on_commit", lambda *a, **k: None)
        message = publish(ThingHappened(thing_id=8))
    monkeypatch.undo()
    wait_for(lambda: Effect.objects.filter(handler="record", thing_id=8).exists(), timeout=15)
    wait_for(lambda: OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=False).exists(), timeout=5)


# --- durable fanout --------------------------------------------------------------------


def test_every_subscribed_queue_gets_its_own_copy_and_no_other_queue_gets_one(bus, own_queue, other_queue):
    happened = committed(ThingHappened(thing_id=2))
    failed = committed(ThingFailed(thing_id=2))
    assert queued_event_ids(bus, own_queue) == [str(happened.event_id), str(failed.event_id)]
    assert queued_event_ids(bus, other_queue) == [str(happened.event_id)]  # it subscribes to one type only


def test_events_published_while_the_subscriber_was_down_are_handled_when_it_starts(bus, own_queue):
    for thing_id in (10, 11, 12):
        committed(ThingHappened(thing_id=thing_id))
    assert len(queued_event_ids(bus, own_queue)) == 3  # waiting in the broker, no worker running

    run_worker_until(bus, lambda: Effect.objects.filter(handler="record").count() == 3)
    assert sorted(Effect.objects.filter(handler="record").values_list("thing_id", flat=True)) == [10, 11, 12]


@pytest.mark.skipif(not settings.BROKER_URL.startswith("redis"), reason="a Redis broker's failure")
def test_a_redis_that_restarted_empty_still_routes_every_later_event_to_every_subscriber(
    bus, worker, own_queue, other_queue, redis_client
):
    committed(ThingHappened(thing_id=20))
    wait_for(lambda: Effect.objects.filter(handler="record", thing_id=20).exists())

    redis_client.flushdb()  # what a restart without persistence leaves behind

    later = committed(ThingHappened(thing_id=21))
    wait_for(lambda: Effect.objects.filter(handler="record", thing_id=21).exists())
    assert queued_event_ids(bus, other_queue) == [str(later.event_id)]  # a subscriber that is down, too


@pytest.mark.skipif(not settings.BROKER_URL.startswith("redis"), reason="a Redis broker's failure")
def test_events_lost_with_a_redis_restarted_empty_are_sent_again_and_handled_once(bus, redis_client, own_queue):
    from commerce_core.events.worker import EventWorker

    events = EventWorker(broker=bus)
    events.housekeeping.tick()  # the worker has seen the broker's epoch
    handled_before = committed(ThingHappened(thing_id=30))
    events.start()
    wait_for(lambda: Effect.objects.filter(handler="record", thing_id=30).exists())
    events.stop()

    lost = committed(ThingHappened(thing_id=31))  # queued while the worker is stopped...
    assert queued_event_ids(bus, own_queue) == [str(lost.event_id)]
    redis_client.flushdb()  # ...and gone with the broker's data

    run_worker_until(bus, lambda: Effect.objects.filter(handler="record", thing_id=31).exists(), timeout=15)
    assert Effect.objects.filter(handler="record", thing_id=30).count() == 1  # resent, but not handled again
    assert InboxMessage.objects.filter(event_id=handled_before.event_id, handler__endswith="record_thing").count() == 1


@pytest.mark.skipif(not settings.BROKER_URL.startswith("redis"), reason="a Redis broker's failure")
def test_an_event_marked_sent_only_after_the_loss_was_noticed_is_sent_again(bus, redis_client, own_queue):
    from commerce_core.events.worker import EventWorker

    events = EventWorker(broker=bus)
    events.housekeeping.tick()  # the worker knows the broker's epoch
    old_epoch = bus.epoch()
    with transaction.atomic():
        late = publish(ThingHappened(thing_id=32))
    sender.flush()
    # The send reached the old Redis, but its "sent" mark is written late, after the
    # loss was noticed and the resend done: as if the sender had stalled in between.
    OutboxMessage.objects.filter(pk=late.pk).update(sent_at=None)
    redis_client.flushdb()
    events.housekeeping.tick()  # notices the new epoch, resends what it finds
    outbox.mark_sent([late.pk], epoch=old_epoch)
    assert queued_event_ids(bus, own_queue) == []

    events.housekeeping.tick()  # still recovering: the late mark names the lost epoch
    relay_pending(older_than_seconds=0)
    assert queued_event_ids(bus, own_queue) == [str(late.event_id)]
    events.housekeeping.stop()


@pytest.mark.skipif(not settings.BROKER_URL.startswith("redis"), reason="an upgrade over a Redis broker")
def test_messages_queued_by_an_earlier_release_in_a_redis_list_are_handled_after_an_upgrade(
    bus, own_queue, redis_client
):
    import base64
    import json

    def kombu_message(body) -> str:  # how Kombu's Redis transport stored a message
        encoded = base64.b64encode(json.dumps(body).encode()).decode()
        return json.dumps({"body": encoded, "content-type": "application/json", "content-encoding": "utf-8",
                           "headers": {}, "properties": {"body_encoding": "base64", "delivery_tag": "x"}})  # fmt: skip

    plain = Envelope.wrap(ThingHappened(thing_id=80), source="test").to_dict()
    celery_task = Envelope.wrap(ThingHappened(thing_id=81), source="test").to_dict()
    redis_client.delete(own_queue)
    redis_client.lpush(own_queue, kombu_message([[celery_task], {}, {"callbacks": None}]))
    redis_client.lpush(own_queue, kombu_message(plain))

    run_worker_until(
        bus, lambda: Effect.objects.filter(handler="record", thing_id__in=[80, 81]).count() == 2, timeout=15
    )
    assert redis_client.type(own_queue) == b"stream" and bus.depth(own_queue) == 0
    assert not redis_client.exists(f"{own_queue}.legacy-list")


# --- idempotent consumer ---------------------------------------------------------------


def test_an_event_delivered_twice_is_handled_once(bus, worker):
    envelope = Envelope.wrap(ThingHappened(thing_id=3), source="test").to_dict()
    put_on_the_bus(bus, envelope)
    put_on_the_bus(bus, envelope)
    put_on_the_bus(bus, Envelope.wrap(ThingHappened(thing_id=4), source="test").to_dict())
    wait_for(lambda: Effect.objects.filter(thing_id=4, handler="record").exists())
    wait_for(lambda: bus.depth(events_queue(settings.SERVICE_NAME)) == 0)
    assert Effect.objects.filter(thing_id=3, handler="record").count() == 1
    assert InboxMessage.objects.filter(event_id=envelope["id"]).count() == 2  # once per handler


def test_a_handler_outside_the_database_runs_outside_any_transaction_once_per_event(bus, worker):
    envelope = Envelope.wrap(ThingPushed(thing_id=5), source="test").to_dict()
    put_on_the_bus(bus, envelope)
    put_on_the_bus(bus, envelope)
    wait_for(lambda: InboxMessage.objects.filter(event_id=envelope["id"]).exists())
    wait_for(lambda: bus.depth(events_queue(settings.SERVICE_NAME)) == 0)
    assert pushed == {envelope["id"]: 1}


def test_a_handler_outside_the_database_is_retried_outside_any_transaction_too(bus, worker):
    behaviour["flaky_failures_left"] = 1
    envelope = Envelope.wrap(ThingPushed(thing_id=6), source="test").to_dict()
    put_on_the_bus(bus, envelope)
    wait_for(lambda: pushed.get(envelope["id"]) == 1, timeout=15)
    wait_for(lambda: not ScheduledRetry.objects.exists())
    assert attempts["push"] == 2  # the failed run and the retry, which its assertion let through
    assert not DeadLetter.objects.exists()


# --- never acknowledged before its outcome is stored ------------------------------------


def test_a_message_whose_outcome_cannot_be_stored_is_kept_and_handled_once_the_database_is_back(
    bus, worker, monkeypatch
):
    real_record = delivery.record_batch
    outages = {"left": 3}

    def database_away(batch):
        if outages["left"]:
            outages["left"] -= 1
            raise OperationalError("could not connect to server")
        return real_record(batch)

    monkeypatch.setattr("commerce_core.events.worker.record_batch", database_away)
    committed(ThingHappened(thing_id=40))
    wait_for(lambda: Effect.objects.filter(handler="record", thing_id=40).exists(), timeout=20)
    assert outages["left"] == 0
    assert Effect.objects.filter(handler="record", thing_id=40).count() == 1


def test_a_retry_that_cannot_be_stored_keeps_the_message_instead_of_dropping_it(bus, worker, monkeypatch):
    behaviour["flaky_failures_left"] = 1
    real_schedule = delivery.schedule_retries
    outages = {"left": 2}

    def cannot_store(*args, **kwargs):
        if outages["left"]:
            outages["left"] -= 1
            raise OperationalError("database is locked")
        return real_schedule(*args, **kwargs)

    monkeypatch.setattr(delivery, "schedule_retries", cannot_store)
    committed(ThingHappened(thing_id=41))
    wait_for(lambda: Effect.objects.filter(handler="flaky", thing_id=41).exists(), timeout=20)
    assert Effect.objects.filter(handler="record", thing_id=41).count() == 1


def test_messages_a_killed_worker_took_and_never_acknowledged_are_handled_after_it(bus, own_queue):
    """A worker killed at any instant: what it had taken comes back to the next one."""
    first = Envelope.wrap(ThingHappened(thing_id=42), source="test").to_dict()
    second = Envelope.wrap(ThingHappened(thing_id=43), source="test").to_dict()
    put_on_the_bus(bus, first)
    put_on_the_bus(bus, second)
    crashed = bus.consumer(own_queue)
    taken = crashed.fetch(wait=1.0, limit=10)
    assert {delivery.body["id"] for delivery in taken} == {first["id"], second["id"]}
    # The process dies here: no acknowledgement, no goodbye to the broker.
    if bus.options.is_amqp:
        crashed.connection.transport.close_connection(crashed.connection.connection)

    run_worker_until(
        bus, lambda: Effect.objects.filter(handler="record", thing_id__in=[42, 43]).count() == 2, timeout=15
    )
    assert bus.depth(own_queue) == 0


# --- retries and dead letters ------------------------------------------------------------


def test_a_handler_that_fails_transiently_succeeds_on_a_retry_and_only_it_runs_again(bus, worker):
    behaviour["flaky_failures_left"] = 2
    committed(ThingHappened(thing_id=5))
    wait_for(lambda: ScheduledRetry.objects.exists())
    runs_of_record = attempts["record"]
    wait_for(lambda: Effect.objects.filter(handler="flaky", thing_id=5).exists())
    assert attempts["flaky"] == 3  # one failed run, two retries
    assert Effect.objects.filter(handler="record", thing_id=5).count() == 1
    assert DeadLetter.objects.count() == 0
    assert not ScheduledRetry.objects.exists()
    assert attempts["record"] == runs_of_record  # the retries ran the failing handler only


def test_a_failing_handler_leaves_no_effect_while_the_rest_of_its_batch_keeps_theirs(bus):
    behaviour["broken"] = True
    batch = [
        delivery.Received.parse(Envelope.wrap(event, source="test").to_dict())
        for event in (ThingHappened(thing_id=50), ThingFailed(thing_id=51), ThingHappened(thing_id=52))
    ]
    outcome = delivery.record_batch(batch)
    assert outcome.retries_scheduled == 1
    assert sorted(Effect.objects.values_list("handler", "thing_id")) == [
        ("flaky", 50),
        ("flaky", 52),
        ("record", 50),
        ("record", 52),
        ("steady", 51),
    ]
    assert ScheduledRetry.objects.get().handler.endswith("broken_handler")


def test_a_handler_that_keeps_failing_is_parked_after_bounded_retries_while_others_flow(bus, worker):
    failing = Envelope.wrap(ThingFailed(thing_id=6), source="test").to_dict()
    put_on_the_bus(bus, failing)
    letter = wait_for(lambda: DeadLetter.objects.filter(event_id=failing["id"]).first(), timeout=15)
    assert letter.handler.endswith("broken_handler")
    assert letter.attempts == settings.COMMERCE_EVENTS["MAX_RETRIES"] + 1 == attempts["broken"]
    assert "downstream unavailable" in letter.error
    assert not Effect.objects.filter(handler="broken").exists()  # each failed run rolled back
    assert Effect.objects.filter(handler="steady", thing_id=6).count() == 1

    # Later events keep flowing.
    committed(ThingHappened(thing_id=60))
    wait_for(lambda: Effect.objects.filter(handler="record", thing_id=60).exists())

    # Once the cause is fixed, one command replays it; the steady handler does not run again.
    behaviour["broken"] = False
    call_command("replay_dead_letters")
    wait_for(lambda: Effect.objects.filter(handler="broken", thing_id=6).exists())
    assert Effect.objects.filter(handler="steady", thing_id=6).count() == 1
    letter.refresh_from_db()
    assert letter.replayed_at is not None

    # A replay works once.
    assert delivery.replay(letter) is False
    call_command("replay_dead_letters", str(letter.pk))
    wait_for(lambda: not ScheduledRetry.objects.exists())
    assert Effect.objects.filter(handler="broken", thing_id=6).count() == 1


def test_a_malformed_event_is_parked_at_once_without_retries(bus, worker, own_queue):
    put_on_the_bus(
        bus,
        {
            "id": "not-an-envelope",
            "type": "bustest.thing.happened",
            "specversion": "1.0",
            "source": "/x",
            "time": "now",
            "data": {"thing_id": "NaN"},
        },
    )
    letter = wait_for(lambda: DeadLetter.objects.filter(event_id="not-an-envelope").first())
    assert letter.malformed and letter.attempts == 1
    assert attempts == {}
    wait_for(lambda: bus.depth(own_queue) == 0)


def test_retries_back_off_with_jitter_over_minutes_by_default(settings):
    from commerce_core.settings.base import COMMERCE_EVENTS as defaults

    settings.COMMERCE_EVENTS = defaults
    waits = [delivery.backoff_seconds(attempt) for attempt in range(1, defaults["MAX_RETRIES"] + 1)]
    assert sum(waits) > 5 * 60  # a database failover of minutes does not exhaust them
    assert all(later >= earlier * 0.5 for earlier, later in zip(waits, waits[1:], strict=False))
    assert len({round(delivery.backoff_seconds(3), 6) for _ in range(20)}) > 1  # jittered


# --- health ------------------------------------------------------------------------------


def test_the_heartbeat_reports_an_outbox_that_stopped_draining(bus, monkeypatch, redis_client, settings):
    from commerce_core.events.heartbeat import WorkerStatus, heartbeat_key
    from commerce_core.events.worker import EventWorker

    settings.COMMERCE_EVENTS = {**settings.COMMERCE_EVENTS, "OUTBOX_ALARM_SECONDS": 0.0}

    def broker_down(items):
        return Sent([ConnectionError("broker unreachable")] * len(items))

    monkeypatch.setattr(bus, "publish_many", broker_down)
    committed(ThingHappened(thing_id=70))
    events = EventWorker(broker=bus)
    events.housekeeping.tick()
    status = WorkerStatus.from_json(redis_client.get(heartbeat_key(settings.SERVICE_NAME)))
    assert status.outbox_unsent == 1
    assert any("unsent in the outbox" in problem for problem in status.problems)

    monkeypatch.undo()
    outbox.relay_pending(older_than_seconds=0)
    events.housekeeping._last_figures = 0.0
    events.housekeeping.tick()
    status = WorkerStatus.from_json(redis_client.get(heartbeat_key(settings.SERVICE_NAME)))
    assert status.outbox_unsent == 0 and status.problems == []
    events.housekeeping.stop()


# --- routing ------------------------------------------------------------------------------


def test_a_worker_refuses_to_start_with_a_handler_the_routing_table_does_not_route_to_it(settings):
    from commerce_core.events.checks import SubscriptionMismatch, check_subscriptions

    settings.COMMERCE_EVENTS = {
        **settings.COMMERCE_EVENTS,
        "SUBSCRIPTIONS": {settings.SERVICE_NAME: {"bustest.thing.happened"}},
    }
    with pytest.raises(SubscriptionMismatch, match="bustest.thing.failed"):
        check_subscriptions(settings.SERVICE_NAME, raise_on_error=True)


# --- periodic jobs ---------------------------------------------------------------------


def test_the_worker_runs_the_periodic_jobs_an_app_declares(bus, worker):
    from tests.busapp.jobs import runs

    before = runs["count"]
    wait_for(lambda: runs["count"] >= before + 2)
