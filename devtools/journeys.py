"""What a client of the platform does, as small helpers for the end-to-end tests and
the fault drills: real HTTP through the gateway (httpx) and real WebSockets
(websockets' sync client)."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import httpx
from websockets.sync.client import ClientConnection, connect

#: The password of every customer `register_and_log_in` creates.
CUSTOMER_PASSWORD = "correct-horse-battery-staple"
_serial = itertools.count(1)


@dataclass
class Customer:
    id: int
    username: str
    access: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


class PlatformClient(httpx.Client):
    """An HTTP client of a platform's gateway that knows the platform's operator account.

    `platform`: the end-to-end tests' running platform, or a `devtools.launcher.Platform`."""

    def __init__(self, platform, **options):
        base_url = getattr(platform, "base_url", None) or platform.gateway_url
        super().__init__(base_url=base_url, **{"timeout": 10, **options})
        self.admin_credentials: tuple[str, str] = getattr(platform, "platform", platform).admin_credentials


def http(platform, **options) -> PlatformClient:
    """A client of the gateway of `platform` (see PlatformClient)."""
    return PlatformClient(platform, **options)


def register_and_log_in(client: httpx.Client) -> Customer:
    username = f"shopper{next(_serial)}_{uuid.uuid4().hex[:6]}"
    password = CUSTOMER_PASSWORD
    created = client.post(
        "/api/auth/register/", json={"username": username, "email": f"{username}@example.com", "password": password}
    )
    assert created.status_code == 201, created.text
    tokens = client.post("/api/auth/token/", json={"username": username, "password": password})
    assert tokens.status_code == 200, tokens.text
    return Customer(id=created.json()["id"], username=username, access=tokens.json()["access"])


def log_in_as_operator(client: PlatformClient) -> Customer:
    """The staff superuser the platform was set up with (its generated password)."""
    username, password = client.admin_credentials
    tokens = client.post("/api/auth/token/", json={"username": username, "password": password})
    assert tokens.status_code == 200, tokens.text
    me = client.get("/api/auth/me/", headers={"Authorization": f"Bearer {tokens.json()['access']}"})
    assert me.status_code == 200 and me.json()["is_staff"], me.text
    return Customer(id=me.json()["id"], username=username, access=tokens.json()["access"])


def create_product(client: httpx.Client, operator: Customer, **fields) -> dict:
    body = {"name": f"Product {uuid.uuid4().hex[:8]}", "description": "", "price": "12.50", "stock": 10, **fields}
    response = client.post("/api/catalog/products/", json=body, headers=operator.headers)
    assert response.status_code == 201, response.text
    return response.json()


def eventually(attempt: Callable[[], object], *, timeout: float = 15.0, interval: float = 0.1):
    """Retry `attempt` until it returns something truthy: events take a moment to flow."""
    deadline = time.monotonic() + timeout
    while True:
        result = attempt()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


class EventSocket:
    """A WebSocket client of /ws/events/ speaking the push protocol."""

    def __init__(self, url: str):
        self.connection: ClientConnection = connect(url, open_timeout=10).__enter__()
        # Event frames received while waiting for another one: pushes of different
        # events may arrive in any order, so none is thrown away.
        self._pending: list[dict] = []

    @classmethod
    def listening_as(cls, url: str, customer: Customer, *events: str) -> EventSocket:
        """A socket authenticated as `customer` and subscribed to `events`."""
        socket = cls(url)
        assert socket.authenticate(customer)["type"] == "authenticated"
        assert socket.subscribe(*events)["type"] == "subscribed"
        return socket

    def send(self, frame: dict | str) -> None:
        self.connection.send(frame if isinstance(frame, str) else json.dumps(frame))

    def receive(self, timeout: float = 10.0) -> dict:
        return json.loads(self.connection.recv(timeout=timeout))

    def authenticate(self, customer: Customer) -> dict:
        self.send({"type": "auth", "token": customer.access})
        return self.receive()

    def subscribe(self, *events: str) -> dict:
        self.send({"type": "subscribe", "events": list(events)})
        return self.receive()

    def next_event(
        self, name: str, *, timeout: float = 15.0, where: Callable[[dict], bool] = lambda data: True
    ) -> dict:
        """The first pushed event of that name whose data matches `where`, received
        before or during this call; other event frames are kept for later calls."""

        def matches(frame):
            return frame.get("event") == name and where(frame["data"])

        for frame in self._pending:
            if matches(frame):
                self._pending.remove(frame)
                return frame
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {name} event within {timeout}s")
            frame = self.receive(timeout=remaining)
            if frame.get("type") != "event":
                continue
            if matches(frame):
                return frame
            self._pending.append(frame)

    def assert_no_event(self, name: str, *, within: float = 2.0, where: Callable[[dict], bool] = lambda data: True):
        try:
            frame = self.next_event(name, timeout=within, where=where)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected {name} event reached this socket: {frame}")

    def close(self) -> None:
        self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def add_to_cart(client: httpx.Client, customer: Customer, product_id: int, quantity: int = 1) -> None:
    """Add once the cart's replica knows the product (it learns it from an event)."""
    added = eventually(
        lambda: (
            client.post(
                "/api/cart/items/", json={"product_id": product_id, "quantity": quantity}, headers=customer.headers
            ).status_code
            == 201
        )
    )
    assert added, f"the cart never learned of product {product_id}"


def checkout(client: httpx.Client, customer: Customer, token: str = "tok_visa", **headers) -> dict:
    response = client.post(
        "/api/cart/checkout/", json={"payment_token": token}, headers={**customer.headers, **headers}
    )
    assert response.status_code == 202, response.text
    return response.json()


def final_order(client: httpx.Client, customer: Customer, order_id: int, timeout: float = 30.0) -> dict:
    """The order once it has left `pending`."""

    def settled():
        order = client.get(f"/api/cart/orders/{order_id}/", headers=customer.headers).json()
        return order if order["status"] != "pending" else None

    order = eventually(settled, timeout=timeout)
    assert order, f"order {order_id} stayed pending"
    return order


def publish_raw(platform, envelope: dict) -> None:
    """Put an envelope on the bus the way a service's outbox does, bypassing every
    service: how the tests deliver an event a second time."""
    from commerce_core.events.broker import connect
    from commerce_core.events.broker_base import BrokerOptions
    from commerce_core.events.routing import default_subscriptions, queues_for

    broker = connect(BrokerOptions(url=platform.broker_url))
    try:
        broker.publish(envelope, queues_for(envelope["type"], default_subscriptions()))
    finally:
        broker.reset()


def envelope_of(frame: dict, *, source: str, time: str = "2026-01-01T00:00:00+00:00") -> dict:
    """The CloudEvents envelope behind a pushed frame (same id, type and data)."""
    return {
        "specversion": "1.0",
        "id": frame["id"],
        "source": f"/{source}",
        "type": frame["event"],
        "time": time,
        "datacontenttype": "application/json",
        "data": frame["data"],
    }


def wait_for_output(platform, process: str, text: str, *, timeout: float = 30.0) -> str:
    """The first line a process of the platform printed that contains `text`."""
    line = eventually(
        lambda: next((line for line in platform.platform.recent_output(process) if text in line), None),
        timeout=timeout,
    )
    assert line, f"{process} never printed {text!r}"
    return line


PROVIDER_LEDGER_FILE = "simulated-payment-provider.sqlite3"


def provider_ledger(platform) -> list[dict]:
    """What the simulated payment provider did, read from its own ledger (an SQLite file
    in the state directory): the money as the provider's dashboard would show it."""
    import sqlite3
    from contextlib import closing

    path = platform.platform.state_dir / PROVIDER_LEDGER_FILE
    if not path.exists():
        return []
    with closing(sqlite3.connect(path, timeout=20)) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM operations ORDER BY created_at, rowid")]


def money_taken(platform, order_ids) -> Decimal:
    """Charges minus refunds at the provider for these orders (charged with the key `order-<id>`)."""
    ledger = provider_ledger(platform)
    keys = {f"order-{order_id}" for order_id in order_ids}
    charges = {
        e["reference"]: Decimal(e["amount"])
        for e in ledger
        if e["kind"] == "charge" and e["succeeded"] and e["idempotency_key"] in keys
    }
    refunds = [
        Decimal(e["amount"])
        for e in ledger
        if e["kind"] == "refund" and e["succeeded"] and e["charge_reference"] in charges
    ]
    return sum(charges.values(), Decimal("0.00")) - sum(refunds, Decimal("0.00"))
