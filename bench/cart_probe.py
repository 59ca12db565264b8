"""The reading side of the bus benchmark, run inside the cart project:

    cd cart_service && DJANGO_SETTINGS_MODULE=config.settings \\
        python -m bench.cart_probe --expect 2050 --out handled.json

Waits until the cart has handled at least `--expect` `catalog.product.created`
events (its inbox rows), then writes, per event id, when the handler began
(`InboxMessage.processed_at`, stamped by the inbox insert that opens the handler's
transaction) and, per product id, when the handler wrote the replica
(`ProductReplica.updated_at`, the handler's last write before its commit).
It only reads the cart's database; the worker is the cart's own, untouched.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

EVENT_TYPE = "catalog.product.created"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    import django

    django.setup()
    from carts.models import ProductReplica

    from commerce_core.events.models import InboxMessage

    inbox = InboxMessage.objects.filter(event_type=EVENT_TYPE)
    deadline = time.monotonic() + args.timeout
    count = inbox.count()
    while count < args.expect and time.monotonic() < deadline:
        time.sleep(0.05)
        count = inbox.count()
    handled = {
        str(event_id): at.timestamp() for event_id, at in inbox.values_list("event_id", "processed_at").iterator()
    }
    written = {
        str(product_id): at.timestamp()
        for product_id, at in ProductReplica.objects.values_list("product_id", "updated_at").iterator()
    }
    with open(args.out, "w") as out:
        json.dump({"count": count, "handled": handled, "written": written}, out)
    if count < args.expect:
        print(f"only {count} of {args.expect} events handled after {args.timeout:.0f}s", file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
