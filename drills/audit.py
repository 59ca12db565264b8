"""What the drills check after breaking something: every service's database and
the broker, read directly, as an auditor would (the drills are an operator's tool;
no service reads another's database).

- `Ledger.since(moment)`: the events published since then, which subscriber
  recorded each (an inbox row), and which were lost: routed to a subscriber by
  the bus's routing table, and recorded there by no handler.
- `invariants()`: the business facts that must hold whatever broke: stock is
  conserved, an order is paid exactly when its payment succeeded, charges minus
  refunds equal the paid totals, every replica equals its publisher's state, and
  nothing is left queued, unsent or waiting for a retry.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections import defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from commerce_core.events.broker import connect
from commerce_core.events.broker_base import BrokerOptions
from commerce_core.events.routing import all_queues, default_subscriptions, subscribers_of
from commerce_core.settings.topology import PROJECTS
from devtools import databases


class Database:
    """One project's database, SQLite or PostgreSQL, queried with `%s` placeholders."""

    def __init__(self, url: str):
        self.url = url
        self.postgres = databases.is_postgres(url)

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.postgres:
            import psycopg

            conninfo = self.url.replace("postgres://", "postgresql://", 1)
            with psycopg.connect(conninfo, connect_timeout=10) as conn:
                return list(conn.execute(sql, params).fetchall())
        path = self.url.removeprefix("sqlite:///")
        conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=30)
        try:
            return list(conn.execute(sql.replace("%s", "?"), params).fetchall())
        finally:
            conn.close()

    def moment(self, at: datetime):
        """A time as this database compares it (Django keeps naive UTC text in SQLite)."""
        return at if self.postgres else at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def event_key(value) -> str:
    return uuid.UUID(str(value)).hex


@dataclass
class EventCounts:
    published: int = 0
    handled: int = 0  # (event, subscriber) pairs recorded
    expected: int = 0  # (event, subscriber) pairs the routing table asks for
    parked: int = 0  # pairs dead-lettered and not replayed: kept, not lost
    missing: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return len(self.missing)


class Ledger:
    def __init__(self, platform):
        env = platform.child_env()
        self.db = {
            project.name: Database(databases.database_url(project.name, env, platform.state_dir))
            for project in PROJECTS
        }
        self.broker = connect(BrokerOptions(url=env.get("BROKER_URL") or platform.redis_url))
        self.table = default_subscriptions()
        # The simulated payment provider keeps its own ledger, outside the payment database.
        self.provider_ledger = Path(
            env.get("SIMULATED_PROVIDER_LEDGER") or platform.state_dir / "simulated-payment-provider.sqlite3"
        )

    # --- events ----------------------------------------------------------------------------
    def since(self, moment: datetime) -> EventCounts:
        counts = EventCounts()
        published: dict[str, str] = {}
        for db in self.db.values():
            for event_id, event_type in db.rows(
                "SELECT event_id, event_type FROM events_outboxmessage WHERE created_at >= %s", (db.moment(moment),)
            ):
                published[event_key(event_id)] = event_type
        counts.published = len(published)
        for name in self.table:
            db = self.db[name]
            recorded = {event_key(e) for (e,) in db.rows("SELECT DISTINCT event_id FROM events_inboxmessage")}
            parked = {
                event_key(e)
                for (e,) in db.rows(
                    "SELECT event_id FROM events_deadletter WHERE replayed_at IS NULL AND event_id <> ''"
                )
            }
            for event_id, event_type in published.items():
                if name not in subscribers_of(event_type, self.table):
                    continue
                counts.expected += 1
                if event_id in recorded:
                    counts.handled += 1
                elif event_id in parked:
                    counts.parked += 1
                else:
                    counts.missing.append(f"{event_type} {event_id} never reached {name}")
        return counts

    def backlog(self) -> dict[str, int]:
        """What is still on its way: unsent outbox rows, scheduled retries, queued messages,
        and provider calls a killed payment worker left in flight (the resolver settles
        them after PAYMENT_RESOLVE_AFTER_SECONDS, and what they settle publishes more)."""
        waiting = {}
        for name, db in self.db.items():
            waiting[f"{name} outbox"] = db.rows("SELECT COUNT(*) FROM events_outboxmessage WHERE sent_at IS NULL")[0][0]
            waiting[f"{name} retries"] = db.rows("SELECT COUNT(*) FROM events_scheduledretry")[0][0]
        waiting["payments in flight"] = self.db["payment"].rows(
            "SELECT COUNT(*) FROM payments_payment WHERE status IN ('charging', 'refunding')"
        )[0][0]
        try:
            for queue in all_queues(self.table):
                waiting[queue] = self.broker.depth(queue)  # not yet acknowledged, delivered or not
        finally:
            self.broker.reset()
        return {key: value for key, value in waiting.items() if value}

    def wait_quiet(self, *, timeout: float = 180.0, allow_retries: bool = False) -> dict[str, int]:
        """Until nothing is on its way any more (and stays so for two looks); what is left."""
        deadline = time.monotonic() + timeout
        calm = 0
        left: dict[str, int] = {}
        while time.monotonic() < deadline:
            try:
                left = self.backlog()
            except Exception as exc:  # a database or the broker still coming back
                left = {f"unreadable: {exc}"[:120]: 1}
            if allow_retries:
                left = {key: value for key, value in left.items() if not key.endswith(" retries")}
            calm = calm + 1 if not left else 0
            if calm >= 2:
                return {}
            time.sleep(1.0)
        return left

    def wait_delivered(self, moment: datetime, *, timeout: float = 240.0, stalled_after: float = 20.0) -> EventCounts:
        """The events since `moment`, once every one has reached every subscriber, or
        once no more arrive for `stalled_after` seconds. (A queue's depth alone does not
        say it: RabbitMQ does not count messages a consumer holds unacknowledged.)"""
        deadline = time.monotonic() + timeout
        counts = self.since(moment)
        progress_at, handled = time.monotonic(), counts.handled
        while counts.lost and time.monotonic() < deadline:
            time.sleep(1.0)
            counts = self.since(moment)
            if counts.handled != handled:
                progress_at, handled = time.monotonic(), counts.handled
            elif time.monotonic() - progress_at > stalled_after:
                break
        return counts

    # --- business invariants -----------------------------------------------------------------
    def invariants(self) -> list[tuple[str, list[str]]]:
        """[(invariant, problems)]: an invariant holds when its problem list is empty."""
        return [
            ("stock conserved", self._stock_conserved()),
            ("orders paid iff charged", self._orders_match_payments()),
            ("money balances", self._money_balances()),
            ("replicas equal", self._replicas_equal()),
            ("nothing pending", self._nothing_pending()),
        ]

    def _stock_conserved(self) -> list[str]:
        catalog = self.db["catalog"]
        initial: dict[int, int] = {}
        for (envelope,) in catalog.rows(
            "SELECT envelope FROM events_outboxmessage WHERE event_type = 'catalog.product.created'"
        ):
            data = _json(envelope)["data"]
            initial[int(data["product_id"])] = int(data["stock"])
        now = dict(catalog.rows("SELECT id, stock FROM catalog_product"))
        held: dict[int, int] = defaultdict(int)
        for product_id, quantity in catalog.rows(
            "SELECT l.product_id, l.quantity FROM inventory_stockreservationline l "
            "JOIN inventory_stockreservation r ON r.id = l.reservation_id "
            "WHERE r.status IN ('reserved', 'committed')"
        ):
            held[int(product_id)] += int(quantity)
        problems = []
        for product_id, stock in now.items():
            if product_id in initial and stock + held[product_id] != initial[product_id]:
                problems.append(
                    f"product {product_id}: {stock} in stock + {held[product_id]} held ≠ {initial[product_id]}"
                )
        return problems

    def _orders_match_payments(self) -> list[str]:
        orders = dict(self.db["cart"].rows("SELECT id, status FROM orders_order"))
        payments = dict(self.db["payment"].rows("SELECT order_id, status FROM payments_payment"))
        problems = []
        for order_id, status in orders.items():
            paid = payments.get(order_id) == "succeeded"
            if status == "pending":
                problems.append(f"order {order_id} still pending")
            elif payments.get(order_id) in ("charging", "refunding"):
                problems.append(f"order {order_id} is {status}, its payment still {payments[order_id]}")
            elif (status == "paid") != paid:
                problems.append(f"order {order_id} is {status}, its payment {payments.get(order_id, 'missing')}")
        return problems

    def _money_balances(self) -> list[str]:
        paid_total = sum(
            (
                Decimal(str(total))
                for (total,) in self.db["cart"].rows("SELECT total FROM orders_order WHERE status = 'paid'")
            ),
            Decimal("0"),
        )
        charged = refunded = Decimal("0")
        for kind, amount in self._provider_operations():
            if kind == "charge":
                charged += Decimal(str(amount))
            else:
                refunded += Decimal(str(amount))
        if charged - refunded != paid_total:
            return [f"charged {charged} − refunded {refunded} ≠ paid orders {paid_total}"]
        return []

    def _provider_operations(self) -> list[tuple[str, str]]:
        """(kind, amount) of every operation the simulated provider carried out."""
        if not self.provider_ledger.exists():
            return []
        with closing(sqlite3.connect(self.provider_ledger, timeout=20)) as ledger:
            return ledger.execute("SELECT kind, amount FROM operations WHERE succeeded").fetchall()

    def _replicas_equal(self) -> list[str]:
        problems = []
        products = {
            int(pk): (Decimal(str(price)), int(stock))
            for pk, price, stock in self.db["catalog"].rows("SELECT id, price, stock FROM catalog_product")
        }
        for pk, price, stock, deleted in self.db["cart"].rows(
            "SELECT product_id, price, stock, is_deleted FROM carts_productreplica"
        ):
            expected = products.get(int(pk))
            if expected is None:
                if not deleted:
                    problems.append(f"cart still sells deleted product {pk}")
            elif (Decimal(str(price)), int(stock)) != expected:
                problems.append(
                    f"cart has product {pk} at {price} × {stock}, the catalog {expected[0]} × {expected[1]}"
                )
        missing = set(products) - {
            int(pk) for (pk,) in self.db["cart"].rows("SELECT product_id FROM carts_productreplica")
        }
        problems += [f"cart never heard of product {pk}" for pk in sorted(missing)]
        reviewed = {
            int(pk)
            for (pk,) in self.db["review"].rows("SELECT product_id FROM reviews_productreplica WHERE NOT is_deleted")
        }
        problems += [f"review never heard of product {pk}" for pk in sorted(set(products) - reviewed)]
        users = {
            int(pk): (name, email, bool(active))
            for pk, name, email, active in self.db["auth"].rows("SELECT id, username, email, is_active FROM auth_user")
        }
        for service in ("cart", "review"):
            for pk, name, email, active in self.db[service].rows(
                "SELECT user_id, username, email, is_active FROM customers_customerreplica"
            ):
                if users.get(int(pk)) != (name, email, bool(active)):
                    problems.append(
                        f"{service} knows user {pk} as {(name, email, bool(active))}, auth as {users.get(int(pk))}"
                    )
        # Every customer is known everywhere (staff accounts are made per service, not announced).
        customers = {int(pk) for (pk,) in self.db["auth"].rows("SELECT id FROM auth_user WHERE NOT is_staff")}
        for service in ("cart", "review"):
            known = {int(pk) for (pk,) in self.db[service].rows("SELECT user_id FROM customers_customerreplica")}
            problems += [f"{service} never heard of user {pk}" for pk in sorted(customers - known)]
        return problems[:20]

    def _nothing_pending(self) -> list[str]:
        return [f"{what}: {count}" for what, count in self.backlog().items()]


def _json(value):
    import json

    return json.loads(value) if isinstance(value, str | bytes) else value
