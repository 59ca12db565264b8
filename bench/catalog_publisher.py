"""The publishing side of the bus benchmark, run inside the catalog project:

    cd catalog_service && DJANGO_SETTINGS_MODULE=config.settings \\
        python -m bench.catalog_publisher --count 2000 [--rate 200] --out events.json

With `--publish-only N`, it then times N `publish()` calls alone (see
`_publish_only_cpu`). Creates products with `catalog.services.product_create`, the catalog's own write
path: the product and its `catalog.product.created` outbox row in one transaction,
sent to the bus right after commit. With `--rate`, one product every 1/rate s on
a fixed schedule; without, as fast as one process can. `--max-seconds` stops it
early on a machine too slow to publish them all in time (the output says how many
went out).

For every event it records `committed`, the time.time() right after the commit
(taken by an on-commit callback registered ahead of the outbox's own, so it runs
first), and `returned`, when product_create has returned (the event then sent to
Redis; the outbox row is marked sent in a later batch). The event id comes from the outbox row.
"""

from __future__ import annotations

import argparse
import json
import time
from decimal import Decimal


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rate", type=float, default=0.0, help="events/s; 0 for as fast as possible")
    parser.add_argument("--max-seconds", type=float, default=0.0, help="stop publishing after this long (0: never)")
    parser.add_argument("--label", default="bench")
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--publish-only", type=int, default=0, help="then this many publish() calls alone, for their CPU"
    )
    args = parser.parse_args()

    import django

    django.setup()
    from catalog.services import product_create
    from django.db import transaction

    from commerce_core.events.models import OutboxMessage
    from commerce_core.events.outbox import sender

    def create(index: int) -> tuple[int, float, float]:
        committed = []
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(time.time()))
            product = product_create(name=f"{args.label} product {index}", price=Decimal("9.99"), stock=5)
        return product.id, committed[0], time.time()

    create(-1)  # the first write pays for opening the database and the broker connection
    rows, worst_lag = [], 0.0
    started, cpu = time.time(), time.process_time()
    clock = time.perf_counter()
    stop_at = clock + args.max_seconds if args.max_seconds else float("inf")
    for index in range(args.count):
        if time.perf_counter() > stop_at:  # keeps a run on a slow machine within its time budget
            break
        if args.rate:
            due = clock + index / args.rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            else:
                worst_lag = max(worst_lag, -delay)
        rows.append(create(index))
    finished, cpu = time.time(), time.process_time() - cpu

    product_ids = {product_id for product_id, *_ in rows}
    event_of = {}
    for event_id, envelope in (
        OutboxMessage.objects.filter(event_type="catalog.product.created")
        .values_list("event_id", "envelope")
        .iterator()
    ):
        if envelope["data"]["product_id"] in product_ids:
            event_of[envelope["data"]["product_id"]] = str(event_id)
    # Events are sent and marked in batches by the sender thread; count after its last batch.
    sender.flush()
    publish_cpu = _publish_only_cpu(args.publish_only) if args.publish_only else None
    unsent = OutboxMessage.objects.filter(sent_at__isnull=True).count()
    events = [
        {"event_id": event_of.get(product_id), "product_id": product_id, "committed": committed, "returned": returned}
        for product_id, committed, returned in rows
    ]
    with open(args.out, "w") as out:
        json.dump(
            {
                "started": started,
                "finished": finished,
                "cpu": cpu,
                "worst_lag": worst_lag,
                "unsent": unsent,
                "publish_cpu": publish_cpu,
                "events": events,
            },
            out,
        )


def _publish_only_cpu(count: int) -> float:
    """CPU seconds per `publish()` of an event in a transaction of its own, its send
    by the sender thread included: what the outbox costs a publisher, without the
    write of its own that a real change makes. The event, `stock.reserved`, goes to
    the payment service's queue, which nothing in this benchmark reads."""
    from django.db import transaction

    from commerce_core.events.api import publish
    from commerce_core.events.contracts.cart import CartLine
    from commerce_core.events.contracts.inventory import StockReserved
    from commerce_core.events.outbox import sender

    def one(order_id: int) -> None:
        line = CartLine(product_id=1, quantity=1, unit_price=Decimal("9.99"))
        with transaction.atomic():
            publish(StockReserved(order_id=order_id, user_id=1, items=[line], total=Decimal("9.99")))

    one(0)
    sender.flush()
    cpu = time.process_time()
    for order_id in range(1, count + 1):
        one(order_id)
    sender.flush()
    return (time.process_time() - cpu) / count


if __name__ == "__main__":
    main()
