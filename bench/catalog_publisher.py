"""The publishing side of the bus benchmark, run inside the catalog project:

    cd catalog_service && DJANGO_SETTINGS_MODULE=config.settings \\
        python -m bench.catalog_publisher --count 2000 [--rate 200] --out events.json

Creates products with `catalog.services.product_create`, the catalog's own write
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
                "events": events,
            },
            out,
        )


if __name__ == "__main__":
    main()
