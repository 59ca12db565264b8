"""A cart is ordered once, through the real gateway: a double click (with or without
an `Idempotency-Key`) and a third click while the order is pending place one order
and charge the card once; a failed order puts its lines back in the cart."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest

from devtools.journeys import (
    add_to_cart,
    checkout,
    create_product,
    eventually,
    final_order,
    http,
    log_in_as_operator,
    money_taken,
    register_and_log_in,
)

CLICKS = 6


@pytest.mark.usefixtures("healthy_afterwards")
def test_concurrent_checkouts_and_one_more_while_pending_place_one_order_and_charge_once(platform):
    with http(platform) as client:
        buyer, operator = register_and_log_in(client), log_in_as_operator(client)
        mug = create_product(client, operator, name="Ordered-once mug", price="10.00", stock=10)
        add_to_cart(client, buyer, mug["id"], 1)

        def click(number):
            # Half of them as a browser's double click sends it (no key), half with a key
            # shared by the retries of one click.
            headers = {**buyer.headers, **({"Idempotency-Key": "click"} if number % 2 else {})}
            with httpx.Client(base_url=platform.base_url, timeout=30) as own_client:
                return own_client.post("/api/cart/checkout/", json={"payment_token": "tok_visa"}, headers=headers)

        # The payment worker waits, so that the order is still pending for the last click.
        platform.platform.stop_process("payment-worker")
        try:
            with ThreadPoolExecutor(max_workers=CLICKS) as pool:
                answers = list(pool.map(click, range(CLICKS)))
            placed = {a.json()["order_id"] for a in answers if a.status_code == 202}
            refused = [a for a in answers if a.status_code != 202]
            assert len(placed) == 1, [(a.status_code, a.text) for a in answers]
            assert refused and all(
                a.status_code == 409 and a.json()["error"]["code"] == "checkout_in_progress" for a in refused
            ), [(a.status_code, a.text) for a in refused]
            (order_id,) = placed

            again = client.post("/api/cart/checkout/", json={"payment_token": "tok_visa"}, headers=buyer.headers)
            assert again.status_code == 409 and again.json()["error"]["code"] == "checkout_in_progress"
            assert f"Order {order_id} is still pending" in again.json()["error"]["message"]
            # The lines left with the order.
            assert client.get("/api/cart/", headers=buyer.headers).json()["items"] == []
        finally:
            platform.platform.start_process("payment-worker")

        assert final_order(client, buyer, order_id, timeout=60)["status"] == "paid"
        orders = client.get("/api/cart/orders/", headers=buyer.headers).json()["results"]
        assert [o["id"] for o in orders] == [order_id]
        assert eventually(
            lambda: (
                [p["status"] for p in client.get("/api/payments/", headers=buyer.headers).json()["results"]]
                == ["succeeded"]
            )
        )
        assert money_taken(platform, [order_id]) == Decimal("10.00")
        # Ordered once: nothing is left to check out.
        empty = client.post("/api/cart/checkout/", json={"payment_token": "tok_visa"}, headers=buyer.headers)
        assert empty.status_code == 400 and empty.json()["error"]["code"] == "cart_empty"


def test_a_declined_order_gives_its_lines_back_and_the_cart_can_be_ordered_again(platform):
    with http(platform) as client:
        buyer, operator = register_and_log_in(client), log_in_as_operator(client)
        pot = create_product(client, operator, name="Second-chance pot", price="4.00", stock=10)
        add_to_cart(client, buyer, pot["id"], 3)

        declined = checkout(client, buyer, "tok_chargeDeclined")["order_id"]
        assert final_order(client, buyer, declined)["status"] == "failed"
        cart = client.get("/api/cart/", headers=buyer.headers).json()
        assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [(pot["id"], 3)]

        paid = checkout(client, buyer, "tok_visa")["order_id"]
        assert final_order(client, buyer, paid)["status"] == "paid"
        assert money_taken(platform, [declined, paid]) == Decimal("12.00")
