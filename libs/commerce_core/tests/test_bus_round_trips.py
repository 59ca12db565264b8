"""What the bus saves per event in round trips to the database and the broker:
no savepoints while handlers succeed, sent rows marked together, the broker's
epoch read with the publish. Each saving keeps its guarantee."""

import threading

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commerce_core.events import delivery, outbox
from commerce_core.events.broker_base import Sent
from commerce_core.events.envelope import Envelope
from commerce_core.events.models import InboxMessage, ScheduledRetry
from commerce_core.events.routing import events_queue
from tests.busapp.contracts import ThingHappened, ThingTallied
from tests.busapp.handlers import attempts, behaviour
from tests.busapp.models import Effect, Tally
from tests.conftest import run_worker_until


def tallied(thing_id: int) -> delivery.Received:
    return delivery.Received.parse(Envelope.wrap(ThingTallied(thing_id=thing_id), source="test").to_dict())


@pytest.mark.django_db(transaction=True)
def test_a_batch_runs_the_nested_blocks_of_its_handlers_without_savepoints():
    with CaptureQueriesContext(connection) as queries:
        outcome = delivery.record_batch([tallied(1), tallied(2)])
    assert outcome.handled == 2
    assert [query["sql"] for query in queries if "SAVEPOINT" in query["sql"].upper()] == []
    assert sorted(Tally.objects.values_list("thing_id", "count")) == [(1, 1), (2, 1)]
    assert InboxMessage.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_handler_that_goes_on_after_a_nested_block_failed_is_run_again_with_its_savepoint():
    Tally.objects.create(thing_id=3)  # so the handler's create fails, and it counts instead
    runs_before = attempts.get("tally", 0)
    outcome = delivery.record_batch([tallied(3), tallied(4)])
    assert (outcome.handled, outcome.retries_scheduled) == (2, 0)
    assert sorted(Tally.objects.values_list("thing_id", "count")) == [(3, 2), (4, 1)]
    assert not ScheduledRetry.objects.exists()
    # The fast pass stopped at the first and was rolled back; the careful pass ran both.
    assert attempts["tally"] - runs_before == 3


@pytest.mark.django_db(transaction=True)
def test_an_event_another_worker_recorded_meanwhile_keeps_only_that_workers_effects(monkeypatch):
    behaviour["flaky_failures_left"] = 0
    received = delivery.Received.parse(Envelope.wrap(ThingHappened(thing_id=60), source="test").to_dict())
    other_workers_rows = [
        delivery._inbox_values(h, received.envelope) for h in delivery.handlers_for(received.envelope.type)
    ]
    delivery._insert_inbox_rows(other_workers_rows, only_new=True)  # and its effects:
    Effect.objects.bulk_create([Effect(handler="record", thing_id=60), Effect(handler="flaky", thing_id=60)])
    real_lookup = delivery._already_handled
    lookups = []

    def looked_up_before_the_other_worker_committed(events, *, atomic):
        lookups.append(atomic)
        return set() if len(lookups) == 1 else real_lookup(events, atomic=atomic)

    monkeypatch.setattr(delivery, "_already_handled", looked_up_before_the_other_worker_committed)
    outcome = delivery.record_batch([received])
    assert (outcome.handled, outcome.skipped) == (0, 2)
    # This worker's runs were rolled back when its inbox rows collided with the other's.
    assert sorted(Effect.objects.filter(thing_id=60).values_list("handler", flat=True)) == ["flaky", "record"]


class FakeBroker:
    """Takes every envelope at once in the epoch "e1", and lets the test wait for each send."""

    def __init__(self):
        self.sends: list[int] = []
        self.marks: list[tuple[list, str]] = []
        self.sent_one = threading.Semaphore(0)

    def send_many(self, envelopes):
        self.sends.append(len(envelopes))
        self.sent_one.release()
        return Sent([None] * len(envelopes), epoch="e1")

    def mark_sent(self, pks, *, epoch):
        self.marks.append((sorted(pks), epoch))


@pytest.fixture
def fake_broker(monkeypatch):
    fake = FakeBroker()
    monkeypatch.setattr(outbox, "send_many", fake.send_many)
    monkeypatch.setattr(outbox, "mark_sent", fake.mark_sent)
    return fake


def test_events_sent_one_after_another_are_marked_sent_together_in_one_statement(fake_broker):
    sender = outbox.OutboxSender()
    sender.MARK_DELAY_SECONDS = 0.5
    for pk in range(5):
        sender.submit(pk, {"type": "bustest.thing.happened"})
        assert fake_broker.sent_one.acquire(timeout=5)  # sent on its own before the next comes
    assert fake_broker.sends == [1, 1, 1, 1, 1]
    assert sender.flush(timeout=5)
    assert fake_broker.marks == [([0, 1, 2, 3, 4], "e1")]


def test_flush_marks_what_was_sent_without_waiting_for_the_delay(fake_broker):
    sender = outbox.OutboxSender()
    sender.MARK_DELAY_SECONDS = 3600.0
    sender.submit(7, {"type": "bustest.thing.happened"})
    assert fake_broker.sent_one.acquire(timeout=5)
    assert sender.flush(timeout=5)
    assert fake_broker.marks == [([7], "e1")]


def test_sent_events_are_marked_within_the_delay_without_a_flush(fake_broker, monkeypatch):
    marked = threading.Event()
    monkeypatch.setattr(outbox, "mark_sent", lambda pks, *, epoch: marked.set())
    sender = outbox.OutboxSender()
    sender.MARK_DELAY_SECONDS = 0.05
    sender.submit(8, {"type": "bustest.thing.happened"})
    assert marked.wait(timeout=5)


def test_a_mark_that_waits_for_the_database_does_not_hold_back_the_next_send(fake_broker, monkeypatch):
    marking, go_on = threading.Event(), threading.Event()

    def mark_waiting_for_the_write_lock(pks, *, epoch):
        marking.set()
        go_on.wait(timeout=10)

    monkeypatch.setattr(outbox, "mark_sent", mark_waiting_for_the_write_lock)
    sender = outbox.OutboxSender()
    sender.MARK_DELAY_SECONDS = 0.0
    sender.submit(1, {"type": "bustest.thing.happened"})
    assert fake_broker.sent_one.acquire(timeout=5)
    assert marking.wait(timeout=5)  # the first event's mark is waiting

    sender.submit(2, {"type": "bustest.thing.happened"})
    try:
        sent_meanwhile = fake_broker.sent_one.acquire(timeout=5)
    finally:
        go_on.set()

    assert sent_meanwhile
    assert sender.flush(timeout=5)


@pytest.mark.skipif(not settings.BROKER_URL.startswith("redis"), reason="a Redis broker's epoch")
def test_a_redis_broker_reads_its_epoch_in_the_round_trip_of_the_publish(bus):
    epoch = bus.epoch()  # set when the broker is first used
    envelope = Envelope.wrap(ThingTallied(thing_id=9), source="test").to_dict()
    sent = bus.publish_many([(envelope, [events_queue(settings.SERVICE_NAME)])])
    assert sent.errors == [None]
    assert sent.epoch == epoch


@pytest.mark.skipif(not settings.BROKER_URL.startswith("redis"), reason="a Redis broker's sending connection")
def test_a_redis_broker_sends_again_on_a_fresh_connection_after_redis_closed_its_own(bus):
    queue = events_queue(settings.SERVICE_NAME)
    envelope = Envelope.wrap(ThingTallied(thing_id=13), source="test").to_dict()
    assert bus.publish_many([(envelope, [queue])]).errors == [None]
    (sending,) = bus._sends.call(("CLIENT", "ID"))
    bus.client.client_kill_filter(_id=sending)  # as a Redis restart leaves it: closed under the sender

    assert bus.publish_many([(envelope, [queue])]).errors == [None]
    assert bus.client.xlen(queue) == 2


@pytest.mark.skipif(not settings.BROKER_URL.startswith("redis"), reason="a Redis broker's sends")
def test_a_queue_redis_refuses_fails_only_the_events_sent_to_it(bus):
    queue, broken = events_queue(settings.SERVICE_NAME), "bustest.not-a-stream"
    bus.client.set(broken, "a string, not a stream")
    try:
        first, second = (Envelope.wrap(ThingTallied(thing_id=n), source="test").to_dict() for n in (14, 15))
        sent = bus.publish_many([(first, [queue, broken]), (second, [queue])])
    finally:
        bus.client.delete(broken)

    assert isinstance(sent.errors[0], redis.ResponseError)
    assert sent.errors[1] is None
    assert sent.epoch == bus.epoch()


@pytest.mark.skipif(not settings.BROKER_URL.startswith("redis"), reason="a Redis stream's pending entries")
@pytest.mark.django_db(transaction=True)
def test_a_worker_acknowledges_each_batch_in_the_round_trip_of_its_next_read(bus):
    queue = events_queue(settings.SERVICE_NAME)
    for thing_id in (10, 11, 12):
        bus.publish(Envelope.wrap(ThingTallied(thing_id=thing_id), source="test").to_dict(), [queue])
    run_worker_until(bus, lambda: Tally.objects.count() == 3)
    # Acknowledged entries are deleted: nothing left in the stream, nothing pending.
    assert bus.client.xlen(queue) == 0
    assert bus.client.xpending(queue, "workers")["pending"] == 0
