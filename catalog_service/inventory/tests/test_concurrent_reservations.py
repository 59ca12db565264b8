"""Many checkouts racing for the last units, each in its own thread with its own
database connection, the way several worker processes would run them.

Real parallelism needs PostgreSQL (`DATABASE_URL=postgres://...`): there the row locks
taken in id order are what keep the stock from being oversold, and what keep orders
naming the same products in opposite orders from deadlocking. SQLite lets one
writer in at a time; its in-memory test database answers the others "table is
locked", which the bus turns into a retry. Either way the
outcome must be the same.
"""

import random
import threading
import time

import pytest
from catalog.models import Product
from django.db import DatabaseError, connection

from commerce_core.events.broker_base import Sent
from commerce_core.events.delivery import Received, record_batch
from commerce_core.events.envelope import Envelope
from commerce_core.events.models import InboxMessage, OutboxMessage, ScheduledRetry
from inventory.models import StockReservation

from .factories import order_placed

CHECKOUTS = 20
UNITS = 5


def run_like_a_worker(body: dict, errors: list, start: threading.Barrier) -> None:
    """Deliver `body` the way a worker does, until its outcome is recorded: a batch
    that could not be recorded is tried again, and a handler that failed (SQLite's
    "table is locked") is run again, as its scheduled retry would be."""
    try:
        start.wait()
        for _ in range(100):
            try:
                outcome = record_batch([Received.parse(body)])
            except DatabaseError:
                outcome = None
            if outcome is not None and not outcome.retries_scheduled:
                return
            try:
                ScheduledRetry.objects.filter(event_id=body["id"]).delete()
            except DatabaseError:
                pass
            time.sleep(random.uniform(0.01, 0.05))
        errors.append(f"order {body['data']['order_id']} never got through")
    except Exception as exc:  # reported by the test below rather than lost in the thread
        errors.append(repr(exc))
    finally:
        connection.close()


@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_checkouts_for_five_units_reserve_exactly_five(monkeypatch):
    # Keep these events off the real broker: what was published is read from the outbox.
    monkeypatch.setattr("commerce_core.events.outbox.send_many", lambda envelopes: Sent([None] * len(envelopes)))
    mug = Product.objects.create(name="Mug", price="10.00", stock=UNITS)
    pan = Product.objects.create(name="Pan", price="30.00", stock=UNITS)
    # Half the orders name the pan first: locking in id order keeps them from deadlocking.
    orders = [order_placed((mug, 1), (pan, 1)) if n % 2 else order_placed((pan, 1), (mug, 1)) for n in range(CHECKOUTS)]
    bodies = [Envelope.wrap(order, source="cart").to_dict() for order in orders]
    errors: list[str] = []
    start = threading.Barrier(CHECKOUTS)
    threads = [threading.Thread(target=run_like_a_worker, args=(body, errors, start)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert InboxMessage.objects.count() == CHECKOUTS
    assert [Product.objects.get(pk=p.pk).stock for p in (mug, pan)] == [0, 0]
    statuses = list(StockReservation.objects.values_list("status", flat=True))
    assert sorted(statuses) == ["rejected"] * (CHECKOUTS - UNITS) + ["reserved"] * UNITS
    assert OutboxMessage.objects.filter(event_type="stock.reserved").count() == UNITS
    assert OutboxMessage.objects.filter(event_type="stock.rejected").count() == CHECKOUTS - UNITS
    for product in (mug, pan):
        announced = [
            m.envelope["data"]["stock"]
            for m in OutboxMessage.objects.filter(
                event_type="catalog.product.stock_changed", subject=f"product/{product.pk}"
            )
        ]
        assert sorted(announced) == [0, 1, 2, 3, 4]  # every unit taken once, never below zero


@pytest.mark.timeout(120)
@pytest.mark.django_db(transaction=True)
def test_the_same_order_delivered_by_several_workers_at_once_is_reserved_once(monkeypatch):
    monkeypatch.setattr("commerce_core.events.outbox.send_many", lambda envelopes: Sent([None] * len(envelopes)))
    mug = Product.objects.create(name="Mug", price="10.00", stock=UNITS)
    order = order_placed((mug, 2))
    # Distinct event ids, so the inbox does not stop them: only the unique order id does.
    bodies = [Envelope.wrap(order, source="cart").to_dict() for _ in range(6)]
    errors: list[str] = []
    start = threading.Barrier(len(bodies))
    threads = [threading.Thread(target=run_like_a_worker, args=(body, errors, start)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Product.objects.get(pk=mug.pk).stock == UNITS - 2
    assert StockReservation.objects.get().status == "reserved"
    assert OutboxMessage.objects.filter(event_type="stock.reserved").count() == 1
