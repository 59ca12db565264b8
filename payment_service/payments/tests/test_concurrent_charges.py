"""Two workers charging the same order at the same instant: the row lock lets one charge.
Likewise two workers resolving the same call left in flight: one claims it.

Only PostgreSQL locks rows (`select_for_update`); SQLite serializes whole
transactions instead, so this runs against PostgreSQL only."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from payments import services
from payments.models import Payment

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_concurrent_stock_reserved_events_of_one_order_charge_it_once(deliver, order, provider_calls):
    deliver(order.placed())
    start = threading.Barrier(4)
    results = []

    def worker():
        try:
            start.wait()
            results.append(deliver(order.stock_reserved()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [{"status": "done"}] * 4
    assert Payment.objects.get(order_id=order.id).status == "succeeded"
    assert sum(1 for method, _ in provider_calls if method == "charge") == 1


def test_concurrent_resolvers_ask_the_provider_about_a_call_left_in_flight_once(deliver, order, provider_calls):
    deliver(order.placed())
    Payment.objects.filter(order_id=order.id).update(
        status="charging", charge_idempotency_key=f"order-{order.id}", in_flight_since=timezone.now()
    )
    later = timezone.now() + timedelta(seconds=3600)
    start = threading.Barrier(4)
    settled = []

    def sweeper():
        try:
            start.wait()
            settled.extend(services.payments_resolve_in_flight(now=later))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(settled) == 1
    assert Payment.objects.get(order_id=order.id).status == "succeeded"
    assert sum(1 for method, _ in provider_calls if method == "charge") == 1
