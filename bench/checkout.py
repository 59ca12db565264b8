"""Checkout benchmark: the whole platform, as `make run` starts it.

1. Checkout-to-push latency: one buyer, one WebSocket subscribed to
   `order.status_changed`; for each of N orders, the time from sending
   `POST /api/cart/checkout/` (tok_visa) to the `paid` frame arriving on the socket.
   That spans the gateway, the cart, four hops over the bus (order.placed →
   stock.reserved → payment.succeeded → order.status_changed), four handler
   transactions and the push. Orders run one after another, so this is latency
   with the platform otherwise idle, not under load.
2. Catalog list throughput with 1,000 products: `GET /api/catalog/products/`
   (20 per page) through the gateway, as a ratio to the same URL on the catalog
   directly, with wrk, alternating A B A B.

Everything runs on ports 28100-28105 with a private Redis and SQLite (or the
databases `DATABASE_URL` names) in a temporary directory.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from statistics import median

import httpx
from websockets.sync.client import connect

from devtools.launcher import Platform

from .harness import Table, note, percentile, verdict, whole_platform
from .tools import find_or_install, run_wrk

PORT_OFFSET = 20_100
PASSWORD = "bench-password-123"


@dataclass
class Options:
    orders: int = 200
    products: int = 1000
    duration: float = 5.0
    rounds: int = 3


def run(options: Options) -> Table:
    wrk = find_or_install("wrk", "wrk")
    table = Table("checkout: checkout-to-push latency and catalog list throughput (whole platform)")
    with (
        whole_platform("checkout", port_offset=PORT_OFFSET) as platform,
        httpx.Client(base_url=platform.gateway_url, timeout=30) as client,
    ):
        operator = _operator_headers(client, platform)
        latencies = _checkout_latencies(client, platform.ws_url, operator, options.orders)
        _add_products(client, operator, options.products)
        list_path = "/api/catalog/products/?ordering=price"
        rates = _list_throughput(wrk, platform, list_path, options)

    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    table.row(
        f"checkout → paid push, p50 ({len(latencies)} orders)",
        f"{p50:.1f} ms",
        target=f"≤ 150 ms — {verdict(p50 <= 150)}",
    )
    table.row("checkout → paid push, p99", f"{p99:.1f} ms", target=f"≤ 500 ms — {verdict(p99 <= 500)}")
    table.row("checkout → paid push, max", f"{max(latencies):.1f} ms")
    gateway, direct = median(rates["gateway"]), median(rates["direct"])
    table.row(
        f"catalog list ({options.products} products), req/s via gateway vs direct",
        f"{gateway:.0f}",
        f"{direct:.0f}",
        f"{gateway / direct:.2f}",
    )
    table.notes.append(
        "Latency is measured one order at a time on an otherwise idle platform; throughput is wrk "
        f"-t1 -c32, {options.rounds} alternating runs of {options.duration:.0f} s each, medians."
    )
    return table


def _token(client: httpx.Client, username: str, password: str) -> str:
    response = client.post("/api/auth/token/", json={"username": username, "password": password})
    response.raise_for_status()
    return response.json()["access"]


def _operator_headers(client: httpx.Client, platform: Platform) -> dict:
    return {"Authorization": f"Bearer {_token(client, *platform.admin_credentials)}"}


def _checkout_latencies(client: httpx.Client, ws_url: str, operator: dict, orders: int) -> list[float]:
    username = f"buyer_{uuid.uuid4().hex[:8]}"
    client.post(
        "/api/auth/register/", json={"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    ).raise_for_status()
    buyer = {"Authorization": f"Bearer {_token(client, username, PASSWORD)}"}
    product = client.post(
        "/api/catalog/products/", headers=operator, json={"name": "Bench mug", "price": "5.00", "stock": orders * 10}
    )
    product.raise_for_status()
    product_id = product.json()["id"]

    latencies = []
    with connect(ws_url, open_timeout=10) as socket:
        socket.send(json.dumps({"type": "auth", "token": buyer["Authorization"].split()[1]}))
        socket.recv(timeout=10)
        socket.send(json.dumps({"type": "subscribe", "events": ["order.status_changed"]}))
        socket.recv(timeout=10)
        note(f"placing {orders} orders one after another")
        for _ in range(orders):
            _add_to_cart(client, buyer, product_id)
            started = time.perf_counter()
            placed = client.post("/api/cart/checkout/", json={"payment_token": "tok_visa"}, headers=buyer)
            placed.raise_for_status()
            order_id = placed.json()["order_id"]
            while True:
                frame = json.loads(socket.recv(timeout=30))
                data = frame.get("data", {})
                if (
                    frame.get("event") == "order.status_changed"
                    and data.get("order_id") == order_id
                    and data.get("status") != "pending"
                ):
                    break
            latencies.append((time.perf_counter() - started) * 1000)
            if data["status"] != "paid":
                raise RuntimeError(f"order {order_id} ended {data['status']}: {data.get('reason')}")
            # The paid order empties the cart line a moment after the push; wait for it.
            deadline = time.monotonic() + 10
            while client.get("/api/cart/", headers=buyer).json()["items"] and time.monotonic() < deadline:
                time.sleep(0.01)
    return latencies


def _add_to_cart(client: httpx.Client, buyer: dict, product_id: int) -> None:
    deadline = time.monotonic() + 15
    while True:  # the cart learns of a new product from its event a moment later
        response = client.post("/api/cart/items/", json={"product_id": product_id, "quantity": 1}, headers=buyer)
        if response.status_code == 201 or time.monotonic() > deadline:
            response.raise_for_status()
            return
        time.sleep(0.05)


def _add_products(client: httpx.Client, operator: dict, count: int) -> None:
    existing = client.get("/api/catalog/products/").json()["count"]
    note(f"adding {max(0, count - existing)} products")
    for n in range(existing, count):
        client.post(
            "/api/catalog/products/",
            headers=operator,
            json={"name": f"Bench product {n}", "price": f"{1 + n % 97}.50", "stock": 10},
        ).raise_for_status()


def _list_throughput(wrk: str, platform: Platform, path: str, options: Options) -> dict[str, list[float]]:
    targets = {"gateway": platform.gateway_url + path, "direct": platform.service_url("catalog") + path}
    for url in targets.values():
        run_wrk(wrk, url, duration=1)  # warm-up
    rates: dict[str, list[float]] = {name: [] for name in targets}
    for _ in range(options.rounds):
        for name, url in targets.items():
            result = run_wrk(wrk, url, duration=options.duration)
            if result.errors:
                raise RuntimeError(f"{name}: {result.errors} failed requests")
            rates[name].append(result.requests_per_second)
    return rates
