"""The fault drills: each breaks the running platform in one way, lets it recover,
and returns what it did. The runner (`__main__.py`) then counts the events and
checks the invariants (audit.py)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from devtools.journeys import Customer, EventSocket, eventually

from .outage import databases_unavailable

FINAL_STATUSES = {"paid", "failed", "cancelled"}


@dataclass
class Drill:
    name: str
    done: str  # what was done, in a few words, for the table
    run: Callable[[DrillContext], str]  # returns a note for the table (or "")
    allow_parked: bool = False


@dataclass
class DrillContext:
    platform: object  # devtools.launcher.Platform
    redis: object  # the drills' own devtools.redis_server.EmbeddedRedis
    client: httpx.Client
    operator: Customer
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def ws_url(self) -> str:
        return self.platform.ws_url

    def ledger(self):
        from .audit import Ledger

        return Ledger(self.platform)


# --- what shoppers and operators do, tolerating a platform that is being broken ----------


def patient(request: Callable[[], httpx.Response], *, ok=(200, 201, 202), seconds: float = 120.0) -> httpx.Response:
    """Send a request until it gets an answer in `ok`, as a client that retries would
    (a 5xx or a timeout while something is broken is expected, not a failure)."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            response = request()
        except httpx.HTTPError as exc:
            last = exc
        else:
            if response.status_code in ok:
                return response
            last = f"{response.status_code} {response.text[:200]}"
            if response.status_code < 500 and response.status_code not in (408, 409, 429):
                raise AssertionError(f"unexpected answer: {last}")
        time.sleep(0.5)
    raise AssertionError(f"no answer in {ok} within {seconds:.0f}s; last: {last}")


def new_product(ctx: DrillContext, *, stock: int = 1_000, price: str = "10.00") -> int:
    body = {"name": f"Drill {uuid.uuid4().hex[:8]}", "description": "", "price": price, "stock": stock}
    response = patient(
        lambda: ctx.client.post("/api/catalog/products/", json=body, headers=ctx.operator.headers), ok=(201,)
    )
    return response.json()["id"]


def change_price(ctx: DrillContext, product_id: int, price: str) -> None:
    patient(
        lambda: ctx.client.patch(
            f"/api/catalog/products/{product_id}/", json={"price": price}, headers=ctx.operator.headers
        )
    )


def shopper(ctx: DrillContext) -> Customer:
    with httpx.Client(base_url=ctx.platform.gateway_url, timeout=15) as client:
        username = f"drill_{uuid.uuid4().hex[:12]}"
        password = "correct-horse-battery-staple"
        registered = patient(
            lambda: client.post(
                "/api/auth/register/",
                json={"username": username, "email": f"{username}@example.com", "password": password},
            ),
            ok=(201,),
        )
        tokens = patient(lambda: client.post("/api/auth/token/", json={"username": username, "password": password}))
        return Customer(id=registered.json()["id"], username=username, access=tokens.json()["access"])


def buy(ctx: DrillContext, customer: Customer, product_id: int, *, token: str = "tok_visa") -> int:
    """Add the product and check out once (one Idempotency-Key for every retry); the order id."""
    with httpx.Client(base_url=ctx.platform.gateway_url, timeout=15) as client:
        patient(
            lambda: client.post(
                "/api/cart/items/", json={"product_id": product_id, "quantity": 1}, headers=customer.headers
            ),
            ok=(201,),
        )
        key = uuid.uuid4().hex
        response = patient(
            lambda: client.post(
                "/api/cart/checkout/",
                json={"payment_token": token},
                headers={**customer.headers, "Idempotency-Key": key},
            ),
            ok=(202,),
        )
        return response.json()["order_id"]


def settled(ctx: DrillContext, customer: Customer, order_id: int, *, seconds: float = 180.0) -> str:
    with httpx.Client(base_url=ctx.platform.gateway_url, timeout=15) as client:

        def final():
            try:
                response = client.get(f"/api/cart/orders/{order_id}/", headers=customer.headers)
            except httpx.HTTPError:
                return None
            if response.status_code == 200 and response.json()["status"] in FINAL_STATUSES:
                return response.json()["status"]
            return None

        status = eventually(final, timeout=seconds, interval=0.5)
    assert status, f"order {order_id} never settled"
    return status


def in_parallel(jobs: list[Callable[[], object]]) -> list[object]:
    """Run the jobs on threads; their results, or re-raise the first failure."""
    results: list[object] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index, job):
        try:
            results[index] = job()
        except BaseException as exc:  # reported below, in the drill's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def shop(ctx: DrillContext, *, shoppers: int | list[Customer], orders_each: int, product_id: int) -> list[str]:
    """Customers (new ones, or those given) each buying `orders_each` times, side by
    side; the orders' final statuses."""
    customers = shoppers if isinstance(shoppers, list) else [shopper(ctx) for _ in range(shoppers)]
    ready_to_sell(ctx, customers[0], product_id)

    def one_customer(customer):
        return [settled(ctx, customer, buy(ctx, customer, product_id)) for _ in range(orders_each)]

    return [status for statuses in in_parallel([lambda c=c: one_customer(c) for c in customers]) for status in statuses]


class Background:
    """A job on a thread of its own; `result()` joins it and re-raises its failure."""

    def __init__(self, job: Callable[[], object]):
        self._result: object = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(job,))
        self._thread.start()

    def _run(self, job) -> None:
        try:
            self._result = job()
        except BaseException as exc:  # re-raised in the drill's thread by result()
            self._error = exc

    def result(self) -> object:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result


def ready_to_sell(ctx: DrillContext, customer: Customer, product_id: int) -> None:
    """Until the cart knows the product (it learns products from events)."""
    with httpx.Client(base_url=ctx.platform.gateway_url, timeout=15) as client:

        def added():
            response = client.post(
                "/api/cart/items/", json={"product_id": product_id, "quantity": 1}, headers=customer.headers
            )
            return response.status_code == 201

        assert eventually(added, timeout=60, interval=0.3), f"the cart never learnt of product {product_id}"
        client.delete(f"/api/cart/items/{product_id}/", headers=customer.headers)


# --- the drills -------------------------------------------------------------------------------


def stopped_subscriber(ctx: DrillContext) -> str:
    products = [new_product(ctx) for _ in range(10)]
    ctx.platform.stop_process("cart-worker")
    for index in range(1_000):
        change_price(ctx, products[index % len(products)], f"{10 + index / 100:.2f}")
    ctx.platform.start_process("cart-worker")
    return "cart worker stopped during 1,000 price changes, then started"


def publisher_killed_after_commit(ctx: DrillContext) -> str:
    ctx.platform.restart_process("catalog-web", env={"COMMERCE_FAULTS": "outbox.before_send=pause:60"})
    ctx.platform.wait_healthy(timeout=60)
    created = [new_product(ctx) for _ in range(5)]  # committed and answered 201; sends paused
    ctx.platform.kill_process("catalog-web")
    ctx.platform.start_process("catalog-web")
    ctx.platform.wait_healthy(timeout=60)
    return f"catalog web killed with {len(created)} committed, unsent events"


def redis_restarted_empty(ctx: DrillContext) -> str:
    product = new_product(ctx, stock=10_000)
    stop = threading.Event()
    changes = []

    def keep_changing_prices():
        index = 0
        while not stop.is_set():
            change_price(ctx, product, f"{20 + index / 100:.2f}")
            changes.append(index)
            index += 1

    changer = Background(keep_changing_prices)
    try:
        customers = [shopper(ctx) for _ in range(4)]
        buyers = Background(lambda: shop(ctx, shoppers=customers, orders_each=3, product_id=product))
        time.sleep(4)
        ctx.redis.stop()
        time.sleep(1)
        ctx.redis.start()  # same port, no data: what a restart without persistence leaves
        statuses = buyers.result()
    finally:
        stop.set()
        changer.result()
    return f"Redis restarted empty during {len(changes)} price changes and {len(statuses)} checkouts"


def every_event_twice(ctx: DrillContext) -> str:
    product = new_product(ctx, stock=100)
    statuses = shop(ctx, shoppers=3, orders_each=2, product_id=product)
    for name in ("auth", "catalog", "cart", "payment", "review"):
        ctx.platform.manage(name, "resend_outbox", "--since", ctx.started.isoformat(), "--now")
    return f"every event of {len(statuses)} checkouts sent a second time"


def poison_event(ctx: DrillContext) -> str:
    poisoned, healthy = new_product(ctx), new_product(ctx)
    customer = shopper(ctx)
    ready_to_sell(ctx, customer, poisoned)
    fault = {"COMMERCE_FAULTS": f"handler.fail=record_price_change@product/{poisoned}"}
    ctx.platform.restart_process("cart-worker", env=fault)
    change_price(ctx, poisoned, "66.60")
    change_price(ctx, healthy, "77.70")
    ledger = ctx.ledger()
    letter = eventually(
        lambda: ledger.db["cart"].rows("SELECT id FROM events_deadletter WHERE replayed_at IS NULL"), timeout=60
    )
    assert letter, "the poison event was never parked"
    ctx.platform.restart_process("cart-worker")  # the cause is fixed
    first = ctx.platform.manage("cart", "replay_dead_letters")
    second = ctx.platform.manage("cart", "replay_dead_letters", str(letter[0][0]))
    assert "replayed 1" in first and "replayed 0" in second, (first, second)
    return "one price change failing in the cart until parked; fixed and replayed (a second replay does nothing)"


def database_unavailable(ctx: DrillContext) -> str:
    product = new_product(ctx, stock=1_000)
    customers = [shopper(ctx) for _ in range(4)]
    buyers = Background(lambda: shop(ctx, shoppers=customers, orders_each=4, product_id=product))
    time.sleep(3)
    databases_unavailable(ctx.platform, seconds=30)
    statuses = buyers.result()
    return f"every database unavailable for 30 s during {len(statuses)} checkouts"


def payment_worker_killed_mid_charge(ctx: DrillContext) -> str:
    product = new_product(ctx, stock=100)
    customer = shopper(ctx)
    ready_to_sell(ctx, customer, product)
    ctx.platform.restart_process("payment-worker", env={"COMMERCE_FAULTS": "payment.after_charge=pause:60"})
    order_id = buy(ctx, customer, product)
    # The provider charged; the worker is paused before committing what it answered.
    assert eventually(
        lambda: any(
            f"the provider answered the charge order-{order_id}" in line
            for line in ctx.platform.recent_output("payment-worker")
        ),
        timeout=60,
    ), "the payment worker never reached the charge"
    ctx.platform.kill_process("payment-worker")
    ctx.platform.start_process("payment-worker")
    status = settled(ctx, customer, order_id)
    return f"payment worker killed between the provider's charge and its commit; the order ended {status}"


def order_timeout_races_payment(ctx: DrillContext) -> str:
    product = new_product(ctx, stock=100)
    ctx.platform.restart_process("cart-worker", env={"ORDER_TIMEOUT_SECONDS": "3"})
    ctx.platform.restart_process("payment-worker", env={"COMMERCE_FAULTS": "payment.before_charge=pause:3"})
    statuses = shop(ctx, shoppers=4, orders_each=2, product_id=product)
    ctx.platform.restart_process("cart-worker")
    ctx.platform.restart_process("payment-worker")
    outcome = {status: statuses.count(status) for status in sorted(set(statuses))}
    return f"order timeout 3 s against charges 3 s late: {outcome}"


def push_worker_restarted(ctx: DrillContext) -> str:
    product = new_product(ctx, stock=1_000)
    buyers, per_buyer = 20, 10
    customers = [shopper(ctx) for _ in range(buyers)]
    ready_to_sell(ctx, customers[0], product)
    sockets = [EventSocket.listening_as(ctx.ws_url, customer, "order.status_changed") for customer in customers]
    received: dict[int, int] = {}
    try:

        def one_buyer(index: int):
            customer, socket = customers[index], sockets[index]
            for _ in range(per_buyer):
                order_id = buy(ctx, customer, product)
                frame = socket.next_event(
                    "order.status_changed",
                    timeout=120,
                    where=lambda data, order_id=order_id: (
                        data["order_id"] == order_id and data["status"] in FINAL_STATUSES
                    ),
                )
                received[order_id] = 1 if frame else 0

        restarter = threading.Timer(5.0, lambda: ctx.platform.restart_process("gateway-worker"))
        restarter.start()
        in_parallel([lambda i=i: one_buyer(i) for i in range(buyers)])
        restarter.join()
    finally:
        for socket in sockets:
            socket.close()
    pushed = sum(received.values())
    assert pushed == buyers * per_buyer, f"{pushed} of {buyers * per_buyer} final statuses pushed"
    return f"gateway's push worker restarted during {buyers * per_buyer} checkouts; {pushed} final pushes received"


DRILLS = [
    Drill("stopped-subscriber", "a subscriber's worker stopped while 1,000 events are published", stopped_subscriber),
    Drill("publisher-killed", "a publisher killed between commit and send", publisher_killed_after_commit),
    Drill("redis-lost", "Redis restarted with its data lost, mid-stream", redis_restarted_empty),
    Drill("twice", "every event delivered twice", every_event_twice),
    Drill("poison", "a poison event: retries, dead letter, replay once", poison_event),
    Drill("database-down", "the databases unavailable for 30 s during checkouts", database_unavailable),
    Drill("payment-killed", "the payment worker killed mid-charge", payment_worker_killed_mid_charge),
    Drill("timeout-race", "the order timeout racing a late payment", order_timeout_races_payment),
    Drill("push-restart", "200 checkouts, the push worker restarted midway", push_worker_restarted),
]
