"""Two workers charging the same order at the same instant: the row lock lets one charge.

Only PostgreSQL locks rows (`select_for_update`); SQLite serializes whole
transactions instead, so this runs against PostgreSQL only."""

import threading

import pytest
from django.db import connection, connections

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
