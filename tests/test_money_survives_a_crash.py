"""The checkout's money across real processes, with the payment worker killed
(SIGKILL) at the worst moment: after the provider charged the card and before the
payment service committed the answer. And the order's timeout racing a late payment.

Whatever happens, the order and the money agree: an order is `paid` exactly when its
payment `succeeded`; a cancelled order's charge, if there was one, is refunded; and
the provider's charges minus refunds equal the totals of the paid orders.

The moment is made with the fault point `payment.after_charge` (commerce_core.faults,
`COMMERCE_FAULTS`, never set in production), on a payment worker started for the test
alone: the worker logs the provider's answer, naming the charge, and then holds it a
while before recording it. The order's timeout is shortened the same way, on a cart
worker started for the moment it should strike.
"""

from decimal import Decimal

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
    provider_ledger,
    register_and_log_in,
    wait_for_output,
)


def hold_the_charges_answer(seconds: int) -> dict[str, str]:
    """The environment of a payment worker that holds every charge's answer `seconds`."""
    return {"COMMERCE_FAULTS": f"payment.after_charge=pause:{seconds}"}


def answered(order_id: int) -> str:
    """What the payment worker logs once the provider has answered the order's charge."""
    return f"the provider answered the charge order-{order_id}: succeeded"


pytestmark = [pytest.mark.timeout(300), pytest.mark.usefixtures("healthy_afterwards")]


def payments_of(client, customer) -> list[tuple[int, str]]:
    return [
        (p["order_id"], p["status"]) for p in client.get("/api/payments/", headers=customer.headers).json()["results"]
    ]


def cart_of(client, customer) -> list[tuple[int, int]]:
    return [
        (i["product_id"], i["quantity"]) for i in client.get("/api/cart/", headers=customer.headers).json()["items"]
    ]


def stock_of(client, product) -> int:
    return client.get(f"/api/catalog/products/{product['id']}/").json()["stock"]


def ledger_of(platform, order_id) -> list[tuple[str, int]]:
    return [
        (e["kind"], e["succeeded"])
        for e in provider_ledger(platform)
        if e["idempotency_key"] in (f"order-{order_id}", f"order-{order_id}-refund")
    ]


def assert_money_agrees_with_the_orders(platform, client, customer):
    """Paid exactly when the payment succeeded; charges minus refunds = the paid totals."""
    orders = client.get("/api/cart/orders/", headers=customer.headers).json()["results"]
    payments = dict(payments_of(client, customer))
    for order in orders:
        assert (order["status"] == "paid") == (payments.get(order["id"]) == "succeeded"), (order, payments)
    paid_totals = sum((Decimal(o["total"]) for o in orders if o["status"] == "paid"), Decimal("0.00"))
    assert money_taken(platform, [o["id"] for o in orders]) == paid_totals


def test_a_payment_worker_killed_after_the_provider_charged_still_pays_the_order_once(platform):
    with http(platform) as client:
        buyer, operator = register_and_log_in(client), log_in_as_operator(client)
        kettle = create_product(client, operator, name="Crash-proof kettle", price="10.00", stock=5)
        add_to_cart(client, buyer, kettle["id"], 1)

        platform.platform.restart_process("payment-worker", env=hold_the_charges_answer(120))
        try:
            order_id = checkout(client, buyer)["order_id"]
            wait_for_output(platform, "payment-worker", answered(order_id))
            # The card is charged; the payment service knows only that the call is in flight.
            assert money_taken(platform, [order_id]) == Decimal("10.00")
            assert payments_of(client, buyer) == [(order_id, "charging")]
            platform.platform.kill_process("payment-worker")
        finally:
            platform.platform.restart_process("payment-worker")

        # The restarted worker asks the provider again with the charge's key, long before
        # the bus would redeliver the interrupted event, and well within the order's timeout.
        order = final_order(client, buyer, order_id, timeout=120)
        assert order["status"] == "paid"
        assert eventually(lambda: payments_of(client, buyer) == [(order_id, "succeeded")])
        assert ledger_of(platform, order_id) == [("charge", 1)]
        assert eventually(lambda: stock_of(client, kettle) == 4)
        assert_money_agrees_with_the_orders(platform, client, buyer)


def test_an_order_that_times_out_while_a_killed_worker_held_its_charge_is_cancelled_and_refunded(platform):
    with http(platform) as client:
        buyer, operator = register_and_log_in(client), log_in_as_operator(client)
        lamp = create_product(client, operator, name="Crash-proof lamp", price="12.00", stock=5)
        add_to_cart(client, buyer, lamp["id"], 2)

        # The cart's worker, which runs the timeout, waits until the card is charged.
        platform.platform.stop_process("cart-worker")
        platform.platform.restart_process("payment-worker", env=hold_the_charges_answer(120))
        try:
            order_id = checkout(client, buyer)["order_id"]
            wait_for_output(platform, "payment-worker", answered(order_id))
            platform.platform.kill_process("payment-worker")
            # Nobody but the provider knows of the charge when the order times out.
            platform.platform.start_process("cart-worker", env={"ORDER_TIMEOUT_SECONDS": "1"})
            order = final_order(client, buyer, order_id, timeout=60)
            assert (order["status"], order["reason"]) == ("cancelled", "timed out")
        finally:
            platform.platform.restart_process("cart-worker")
            platform.platform.restart_process("payment-worker")

        # The payment service learns of the cancellation while the charge is still in
        # flight; once the charge is settled as a success it is refunded.
        assert eventually(lambda: payments_of(client, buyer) == [(order_id, "refunded")], timeout=120)
        assert ledger_of(platform, order_id) == [("charge", 1), ("refund", 1)]
        assert money_taken(platform, [order_id]) == 0
        assert final_order(client, buyer, order_id)["status"] == "cancelled"
        assert eventually(lambda: cart_of(client, buyer) == [(lamp["id"], 2)]), "the lines never came back"
        assert eventually(lambda: stock_of(client, lamp) == 5)
        assert_money_agrees_with_the_orders(platform, client, buyer)


def test_a_payment_recorded_after_the_order_timed_out_is_refunded_and_the_order_stays_cancelled(platform):
    with http(platform) as client:
        buyer, operator = register_and_log_in(client), log_in_as_operator(client)
        vase = create_product(client, operator, name="Late vase", price="7.50", stock=5)
        add_to_cart(client, buyer, vase["id"], 1)

        platform.platform.stop_process("cart-worker")
        # No crash this time: the charge's answer is only late, held while the order times out.
        platform.platform.restart_process("payment-worker", env=hold_the_charges_answer(20))
        try:
            try:
                order_id = checkout(client, buyer)["order_id"]
                wait_for_output(platform, "payment-worker", answered(order_id))
                platform.platform.start_process("cart-worker", env={"ORDER_TIMEOUT_SECONDS": "1"})
                order = final_order(client, buyer, order_id, timeout=60)
                assert (order["status"], order["reason"]) == ("cancelled", "timed out")
            finally:
                platform.platform.restart_process("cart-worker")

            # The late success is recorded, and refunded at once: the cancellation arrived first.
            assert eventually(lambda: payments_of(client, buyer) == [(order_id, "refunded")], timeout=90)
        finally:
            platform.platform.restart_process("payment-worker")

        assert ledger_of(platform, order_id) == [("charge", 1), ("refund", 1)]
        assert final_order(client, buyer, order_id)["status"] == "cancelled"
        assert eventually(lambda: cart_of(client, buyer) == [(vase["id"], 1)])
        assert_money_agrees_with_the_orders(platform, client, buyer)
