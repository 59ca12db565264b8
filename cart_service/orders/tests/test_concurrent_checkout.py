"""Checkouts racing each other, each in its own thread, connection and real transaction."""

import threading
import time
from datetime import timedelta

import pytest
from carts.models import CartItem
from django.db import connections
from django.utils import timezone

from commerce_core.events.broker_base import Sent
from commerce_core.events.models import OutboxMessage
from orders import services
from orders.models import IdempotencyRecord, Order

from .conftest import checkout

# On SQLite too: conftest.py gives the tests a database file, on which writers wait for each other.
pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 8


@pytest.fixture(autouse=True)
def bus_offline(monkeypatch):
    """These tests commit for real, so publish's on-commit send would reach Redis: keep it here."""
    sent = []

    def keep(envelopes):
        sent.extend(envelopes)
        return Sent([None] * len(envelopes))

    monkeypatch.setattr("commerce_core.events.outbox.send_many", keep)
    return sent


@pytest.fixture
def slow_checkout(monkeypatch):
    """Hold each order's transaction open a moment, so that every racer has passed the
    first look for a stored answer before the winner commits."""
    place = services.order_place

    def place_slowly(**kwargs):
        order = place(**kwargs)
        time.sleep(0.3)
        return order

    monkeypatch.setattr(services, "order_place", place_slowly)


def race(make_request, count=RACERS):
    barrier = threading.Barrier(count)
    responses, errors = [], []

    def run():
        try:
            barrier.wait()
            responses.append(make_request())
        except Exception as exc:  # reported below, with the others' outcomes
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return responses


def test_concurrent_checkouts_with_one_key_place_one_order_and_all_get_its_answer(customer, filled_cart, slow_checkout):
    responses = race(lambda: checkout(customer, key="double-click"))

    order = Order.objects.get()
    assert [r.status_code for r in responses] == [202] * RACERS
    assert [r.json() for r in responses] == [{"order_id": order.pk, "status": "pending"}] * RACERS
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == RACERS - 1
    assert IdempotencyRecord.objects.count() == 1
    assert OutboxMessage.objects.filter(event_type="order.placed").count() == 1


def test_concurrent_checkouts_with_one_key_and_different_tokens_place_one_order(customer, filled_cart, slow_checkout):
    tokens = iter(["tok_visa", "tok_chargeDeclined"] * RACERS)
    lock = threading.Lock()

    def next_token():
        with lock:
            return next(tokens)

    responses = race(lambda: checkout(customer, next_token(), key="double-click"))

    # The winner's half get its answer; the other token's half are told the key is taken.
    assert Order.objects.count() == 1
    assert sorted(r.status_code for r in responses) == [202] * (RACERS // 2) + [422] * (RACERS // 2)


def test_two_sweeping_workers_never_cancel_an_order_twice(placed_order, settings):
    settings.ORDER_TIMEOUT_SECONDS = 0
    Order.objects.update(created_at=timezone.now() - timedelta(seconds=1))
    OutboxMessage.objects.all().delete()

    swept = race(services.orders_cancel_timed_out, count=4)

    assert sorted(order_id for ids in swept for order_id in ids) == [placed_order.pk]
    assert OutboxMessage.objects.filter(event_type="order.cancelled").count() == 1


@pytest.mark.parametrize("keys", ["none", "distinct"])
def test_concurrent_checkouts_of_one_cart_place_one_order_and_refuse_the_rest_with_409(
    customer, filled_cart, slow_checkout, keys
):
    numbers = iter(range(RACERS))
    lock = threading.Lock()

    def key():
        with lock:
            return f"click-{next(numbers)}" if keys == "distinct" else None

    responses = race(lambda: checkout(customer, key=key()))

    order = Order.objects.get()
    assert sorted(r.status_code for r in responses) == [202] + [409] * (RACERS - 1)
    assert [r.json() for r in responses if r.status_code == 202] == [{"order_id": order.pk, "status": "pending"}]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"checkout_in_progress"}
    assert OutboxMessage.objects.filter(event_type="order.placed").count() == 1
    assert not CartItem.objects.filter(cart__user_id=customer.principal.id).exists()
    assert IdempotencyRecord.objects.count() == (1 if keys == "distinct" else 0)


def test_the_timeout_racing_a_late_payment_settles_the_order_once(placed_order, settings):
    """Whichever wins, the order is paid (and never cancelled) or cancelled (and never
    paid, its `order.cancelled` making the payment service refund): never both."""
    settings.ORDER_TIMEOUT_SECONDS = 0
    Order.objects.update(created_at=timezone.now() - timedelta(seconds=1))
    OutboxMessage.objects.all().delete()
    steps = iter([lambda: services.order_mark_paid(order_id=placed_order.pk), services.orders_cancel_timed_out] * 4)
    lock = threading.Lock()

    def next_step():
        with lock:
            step = next(steps)
        return step()

    race(next_step)

    placed_order.refresh_from_db()
    paid = OutboxMessage.objects.filter(event_type="order.paid").count()
    cancelled = OutboxMessage.objects.filter(event_type="order.cancelled").count()
    assert (paid, cancelled) in [(1, 0), (0, 1)]
    assert placed_order.status == ("paid" if paid else "cancelled")
