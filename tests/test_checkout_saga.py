"""The checkout saga across real processes: cart, catalog, payment and review only
ever talk through events, and the buyer watches each step arrive on their socket."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx

from devtools.journeys import (
    EventSocket,
    add_to_cart,
    checkout,
    create_product,
    envelope_of,
    eventually,
    final_order,
    http,
    log_in_as_operator,
    publish_raw,
    register_and_log_in,
)

PRIVATE_EVENTS = ("order.status_changed", "payment.succeeded", "payment.failed", "cart.updated")


def product_stock(client, product_id) -> int:
    return client.get(f"/api/catalog/products/{product_id}/").json()["stock"]


def test_a_paid_checkout_empties_the_cart_takes_the_stock_and_is_pushed_only_to_the_buyer(platform, listen):
    with http(platform) as client:
        buyer, other = register_and_log_in(client), register_and_log_in(client)
        operator = log_in_as_operator(client)
        buyer_socket = listen(buyer, *PRIVATE_EVENTS)
        other_socket = listen(other, *PRIVATE_EVENTS)

        kettle = create_product(client, operator, name="Kettle", price="30.00", stock=5)
        cups = create_product(client, operator, name="Cups", price="4.25", stock=10)
        add_to_cart(client, buyer, kettle["id"], 1)
        add_to_cart(client, buyer, cups["id"], 2)

        placed = checkout(client, buyer, "tok_visa")
        assert placed["status"] == "pending"
        order_id = placed["order_id"]

        paid = buyer_socket.next_event(
            "order.status_changed", where=lambda d: d["order_id"] == order_id and d["status"] == "paid", timeout=30
        )
        payment = buyer_socket.next_event("payment.succeeded", where=lambda d: d["order_id"] == order_id)
        assert Decimal(payment["data"]["amount"]) == Decimal("38.50")
        assert paid["data"]["user_id"] == buyer.id
        other_socket.assert_no_event("order.status_changed", within=1)
        other_socket.assert_no_event("payment.succeeded", within=0.5)

        order = final_order(client, buyer, order_id)
        assert order["status"] == "paid"
        assert Decimal(order["total"]) == Decimal("38.50")
        assert eventually(lambda: client.get("/api/cart/", headers=buyer.headers).json()["items"] == [])
        assert eventually(lambda: product_stock(client, kettle["id"]) == 4 and product_stock(client, cups["id"]) == 8)

        payments = client.get("/api/payments/", headers=buyer.headers).json()["results"]
        assert [(p["order_id"], p["status"]) for p in payments] == [(order_id, "succeeded")]
        assert client.get("/api/payments/", headers=other.headers).json()["results"] == []


def test_a_declined_card_fails_the_order_keeps_the_cart_and_gives_the_stock_back(platform, listen):
    with http(platform) as client:
        buyer, other = register_and_log_in(client), register_and_log_in(client)
        operator = log_in_as_operator(client)
        buyer_socket = listen(buyer, *PRIVATE_EVENTS)
        other_socket = listen(other, *PRIVATE_EVENTS)
        lamp = create_product(client, operator, name="Lamp", price="20.00", stock=3)
        add_to_cart(client, buyer, lamp["id"], 2)

        order_id = checkout(client, buyer, "tok_chargeDeclined")["order_id"]

        failed = buyer_socket.next_event("payment.failed", where=lambda d: d["order_id"] == order_id, timeout=30)
        assert failed["data"]["reason"]
        buyer_socket.next_event(
            "order.status_changed", where=lambda d: d["order_id"] == order_id and d["status"] == "failed"
        )
        other_socket.assert_no_event("payment.failed", within=1)
        other_socket.assert_no_event("order.status_changed", within=0.5)
        assert final_order(client, buyer, order_id)["status"] == "failed"
        cart = client.get("/api/cart/", headers=buyer.headers).json()
        assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [(lamp["id"], 2)]
        assert eventually(lambda: product_stock(client, lamp["id"]) == 3), "the reserved stock was not released"


def test_an_order_the_catalog_cannot_fill_is_cancelled_and_the_buyer_is_told(platform, listen):
    with http(platform) as client:
        buyer, other = register_and_log_in(client), register_and_log_in(client)
        operator = log_in_as_operator(client)
        buyer_socket = listen(buyer, *PRIVATE_EVENTS)
        other_socket = listen(other, *PRIVATE_EVENTS)
        clock = create_product(client, operator, name="Clock", price="45.00", stock=2)
        add_to_cart(client, buyer, clock["id"], 2)

        # With the cart's worker down, its replica still believes in the stock the
        # operator has just sold elsewhere, so it accepts the order; the catalog, which
        # decides, rejects it. The cart hears of both once its worker is back.
        platform.platform.stop_process("cart-worker")
        try:
            patched = client.patch(f"/api/catalog/products/{clock['id']}/", json={"stock": 1}, headers=operator.headers)
            assert patched.status_code == 200, patched.text
            order_id = checkout(client, buyer, "tok_visa")["order_id"]
        finally:
            platform.platform.start_process("cart-worker")

        cancelled = buyer_socket.next_event(
            "order.status_changed", timeout=30, where=lambda d: d["order_id"] == order_id and d["status"] != "pending"
        )
        assert cancelled["data"]["status"] == "cancelled"
        other_socket.assert_no_event("order.status_changed", within=1)
        assert final_order(client, buyer, order_id)["status"] == "cancelled"
        assert product_stock(client, clock["id"]) == 1
        assert client.get("/api/payments/", headers=buyer.headers).json()["results"][0]["status"] == "cancelled"


def test_twenty_concurrent_checkouts_for_the_last_five_units_sell_exactly_five(platform):
    with http(platform) as client:
        operator = log_in_as_operator(client)
        last_units = create_product(client, operator, name="Limited edition", price="99.00", stock=5)
        buyers = [register_and_log_in(client) for _ in range(20)]
        for buyer in buyers:
            add_to_cart(client, buyer, last_units["id"], 1)

        def check_out(buyer):
            with httpx.Client(base_url=platform.base_url, timeout=30) as own_client:
                return buyer, own_client.post(
                    "/api/cart/checkout/", json={"payment_token": "tok_visa"}, headers=buyer.headers
                )

        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(check_out, buyers))

        # Once the cart's replica hears that the stock is gone it refuses checkouts up
        # front (400); every order it did accept is settled by the catalog's reservation.
        placed = [(buyer, r.json()["order_id"]) for buyer, r in answers if r.status_code == 202]
        refused = [r for _, r in answers if r.status_code != 202]
        assert all(r.status_code == 400 and r.json()["error"]["code"] == "products_unavailable" for r in refused)
        statuses = [final_order(client, buyer, order_id, timeout=60)["status"] for buyer, order_id in placed]
        assert statuses.count("paid") == 5
        assert statuses.count("cancelled") == len(placed) - 5
        assert product_stock(client, last_units["id"]) == 0


def test_redelivered_and_repeated_saga_events_change_nothing(platform, listen):
    with http(platform) as client:
        buyer = register_and_log_in(client)
        operator = log_in_as_operator(client)
        buyer_socket = listen(buyer, *PRIVATE_EVENTS)
        vase = create_product(client, operator, name="Vase", price="15.00", stock=4)
        add_to_cart(client, buyer, vase["id"], 1)
        order_id = checkout(client, buyer, "tok_visa")["order_id"]
        succeeded = buyer_socket.next_event("payment.succeeded", where=lambda d: d["order_id"] == order_id, timeout=30)
        buyer_socket.next_event(
            "order.status_changed", where=lambda d: d["order_id"] == order_id and d["status"] == "paid"
        )
        assert final_order(client, buyer, order_id)["status"] == "paid"
        assert eventually(lambda: product_stock(client, vase["id"]) == 3)

        # The very same payment.succeeded again (same event id), then a second one for the
        # same order (new id), then a stock.reserved for the paid order.
        publish_raw(platform, envelope_of(succeeded, source="payment"))
        publish_raw(platform, {**envelope_of(succeeded, source="payment"), "id": str(uuid.uuid4())})
        publish_raw(
            platform,
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": "/catalog",
                "type": "stock.reserved",
                "time": "2026-01-01T00:00:00+00:00",
                "data": {
                    "order_id": order_id,
                    "user_id": buyer.id,
                    "total": "15.00",
                    "items": [{"product_id": vase["id"], "quantity": 1, "unit_price": "15.00"}],
                },
            },
        )

        buyer_socket.assert_no_event(
            "order.status_changed", within=3, where=lambda d: d["order_id"] == order_id and d["status"] != "pending"
        )
        payments = client.get("/api/payments/", headers=buyer.headers).json()["results"]
        assert [(p["order_id"], p["status"]) for p in payments] == [(order_id, "succeeded")]
        assert final_order(client, buyer, order_id)["status"] == "paid"
        assert product_stock(client, vase["id"]) == 3


def test_a_review_after_a_paid_order_is_a_verified_purchase_and_updates_the_rating(platform):
    with http(platform) as client, EventSocket(platform.ws_url) as listener:
        buyer, stranger = register_and_log_in(client), register_and_log_in(client)
        operator = log_in_as_operator(client)
        listener.subscribe("review.created")
        teapot = create_product(client, operator, name="Teapot", price="25.00", stock=5)
        add_to_cart(client, buyer, teapot["id"], 1)
        order_id = checkout(client, buyer, "tok_visa")["order_id"]
        assert final_order(client, buyer, order_id)["status"] == "paid"

        def review(customer, rating):
            return client.post(
                "/api/reviews/",
                json={"product_id": teapot["id"], "rating": rating, "comment": "ok"},
                headers=customer.headers,
            )

        verified = eventually(
            lambda: (r := review(buyer, 5)).status_code == 201 and r.json()["verified_purchase"] and r
        )
        assert verified, "the review service never learned of the purchase"
        assert review(buyer, 4).status_code in (400, 409)
        unverified = review(stranger, 2)
        assert unverified.status_code == 201 and unverified.json()["verified_purchase"] is False

        pushed = listener.next_event("review.created", where=lambda d: d["product_id"] == teapot["id"])
        assert pushed["data"]["rating"] in (5, 2)
        rated = eventually(
            lambda: (p := client.get(f"/api/catalog/products/{teapot['id']}/").json())["rating_count"] == 2 and p
        )
        assert rated and Decimal(rated["rating_avg"]) == Decimal("3.50")
