"""What the shoppers buy: products with very large stock, made through the API as the
operator before any simulated user starts.

They are found again by name on the next run (and their stock topped up), so runs
against one platform do not pile up products. A product is usable once the cart
service knows it, which it learns from `catalog.product.created` a moment after
the catalog answered; until then adding it to a cart answers 400.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

import httpx

logger = logging.getLogger(__name__)

NAME_PREFIX = "Load test item"
LARGE_STOCK = 1_000_000_000  # the catalog takes up to 2**31 - 1
TOP_UP_BELOW = LARGE_STOCK // 10


class SetupError(RuntimeError):
    """The platform is not there, or refused the operator's requests."""


@dataclass(frozen=True)
class Catalog:
    items: list[int]  # products with very large stock, known to the cart
    browsable: list[int]  # ids seen on the first catalog pages, for detail pages
    search_words: list[str]  # words from product names, for searches
    pages: int  # catalog list pages that exist (at most the first few)


def operator_credentials() -> tuple[str, str]:
    return os.environ.get("ADMIN_USERNAME", "admin"), os.environ.get("ADMIN_PASSWORD", "admin")


def prepare(host: str, *, products: int, timeout: float = 60.0) -> Catalog:
    """Make `products` load-test products exist with very large stock, wait until the
    cart service knows every one, and read what browsers will look at."""
    with httpx.Client(base_url=host, timeout=30) as client:
        headers = _log_in(client)
        items = _ensure_items(client, headers, products)
        _wait_until_the_cart_knows(client, headers, items, timeout=timeout)
        browsable, words, pages = _browsable(client)
    return Catalog(items=items, browsable=browsable, search_words=words, pages=pages)


def _check(response: httpx.Response, what: str, *expected: int) -> httpx.Response:
    if response.status_code not in expected:
        raise SetupError(
            f"{what}: {response.request.method} {response.request.url} → {response.status_code} {response.text[:300]}"
        )
    return response


def _log_in(client: httpx.Client) -> dict[str, str]:
    username, password = operator_credentials()
    try:
        response = client.post("/api/auth/token/", json={"username": username, "password": password})
    except httpx.HTTPError as exc:
        raise SetupError(f"no platform answers at {client.base_url} ({exc!r}); start one with `make run`") from exc
    _check(response, f"logging in as the operator {username!r} (ADMIN_USERNAME / ADMIN_PASSWORD)", 200)
    return {"Authorization": f"Bearer {response.json()['access']}"}


def _ensure_items(client: httpx.Client, headers: dict[str, str], count: int) -> list[int]:
    found = {}
    url = "/api/catalog/products/"
    params: dict | None = {"search": NAME_PREFIX, "ordering": "name"}
    while url:
        page = _check(client.get(url, params=params), "listing the load-test products", 200).json()
        for product in page["results"]:
            if product["name"].startswith(NAME_PREFIX):
                found[product["name"]] = product
        url, params = page.get("next"), None
    ids = []
    for n in range(1, count + 1):
        name = f"{NAME_PREFIX} {n:03d}"
        product = found.get(name)
        if product is None:
            body = {"name": name, "description": "Made by `make load`.", "price": "9.90", "stock": LARGE_STOCK}
            product = _check(client.post("/api/catalog/products/", json=body, headers=headers), f"creating {name}", 201)
            product = product.json()
            logger.info("created %s (id %s) with stock %s", name, product["id"], LARGE_STOCK)
        elif product["stock"] < TOP_UP_BELOW:
            path = f"/api/catalog/products/{product['id']}/"
            _check(client.patch(path, json={"stock": LARGE_STOCK}, headers=headers), f"restocking {name}", 200)
        ids.append(product["id"])
    return ids


def _wait_until_the_cart_knows(client: httpx.Client, headers: dict[str, str], ids: list[int], *, timeout: float):
    """Add each product to the operator's own cart until the cart takes it, then take
    it out again."""
    deadline = time.monotonic() + timeout
    for product_id in ids:
        while True:
            added = client.post("/api/cart/items/", json={"product_id": product_id, "quantity": 1}, headers=headers)
            if added.status_code == 201:
                break
            if added.status_code != 400 or time.monotonic() > deadline:
                _check(added, f"waiting until the cart service knows product {product_id}", 201)
            time.sleep(0.2)
        _check(client.delete(f"/api/cart/items/{product_id}/", headers=headers), "emptying the operator's cart", 204)


def _browsable(client: httpx.Client, most: int = 3) -> tuple[list[int], list[str], int]:
    """Product ids and name words from the first `most` list pages, and how many of
    those pages exist. The load-test items are among them, so none is empty."""
    ids, words, pages = [], set(), 0
    for page in range(1, most + 1):
        response = _check(client.get("/api/catalog/products/", params={"page": page}), "listing products", 200)
        pages = page
        for product in response.json()["results"]:
            ids.append(product["id"])
            words.update(word for word in product["name"].split() if len(word) > 3 and word.isalpha())
        if not response.json().get("next"):
            break
    return ids, sorted(words), pages
