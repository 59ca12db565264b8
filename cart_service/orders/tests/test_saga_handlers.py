"""The cart's part of the checkout saga, driven by the events the catalog and the
payment service publish, delivered the way the worker delivers them."""

from datetime import timedelta
from decimal import Decimal

import pytest
from carts.models import CartItem
from carts.services import cart_item_add
from django.utils import timezone

from commerce_core.events.api import Envelope
from commerce_core.events.contracts.inventory import StockRejected
from commerce_core.events.contracts.payments import PaymentFailed, PaymentSucceeded
from commerce_core.events.models import DeadLetter, OutboxMessage
from orders import services
from orders.models import Order

pytestmark = pytest.mark.django_db


def succeeded(order):
    return PaymentSucceeded(order_id=order.pk, payment_id=1, user_id=order.user_id, amount=order.total)


def declined(order):
    return PaymentFailed(
        order_id=order.pk, payment_id=1, user_id=order.user_id, amount=order.total, reason="Your card was declined."
    )


def rejected(order, *product_ids):
    return StockRejected(
        order_id=order.pk, user_id=order.user_id, reason="Not enough stock.", unavailable_product_ids=list(product_ids)
    )


def published():
    """(event type, data) of everything stored in the outbox since the last call."""
    events = [(m.event_type, m.envelope["data"]) for m in OutboxMessage.objects.order_by("created_at")]
    OutboxMessage.objects.all().delete()
    return events


@pytest.fixture
def order(placed_order):
    published()  # forget the checkout's own events
    return placed_order


def cart_lines(user_id):
    return sorted(CartItem.objects.filter(cart__user_id=user_id).values_list("product_id", "quantity"))


def test_a_successful_payment_makes_the_order_paid(deliver, order):
    assert deliver(succeeded(order)) == {"status": "done"}
    order.refresh_from_db()
    assert (order.status, order.reason) == ("paid", "")


def test_a_paid_order_is_announced_and_leaves_the_cart_as_it_is(deliver, order, filled_cart, catalog_product):
    mug, pot = filled_cart
    # The lines left the cart at checkout; what the customer added since stays.
    cup = catalog_product(price="1.00")
    cart_item_add(user_id=order.user_id, product_id=cup, quantity=3)
    published()

    deliver(succeeded(order))

    assert cart_lines(order.user_id) == [(cup, 3)]
    assert published() == [
        ("order.status_changed", {"order_id": order.pk, "user_id": order.user_id, "status": "paid", "reason": ""}),
        (
            "order.paid",
            {
                "order_id": order.pk,
                "user_id": order.user_id,
                "items": [
                    {"product_id": mug, "quantity": 2, "unit_price": "12.50"},
                    {"product_id": pot, "quantity": 1, "unit_price": "3.00"},
                ],
            },
        ),
    ]


def test_a_declined_payment_fails_the_order_gives_the_lines_back_and_cancels_it_for_the_others(
    deliver, order, filled_cart
):
    mug, pot = filled_cart
    deliver(declined(order))
    order.refresh_from_db()
    assert (order.status, order.reason) == ("failed", "Your card was declined.")
    assert published() == [
        (
            "order.status_changed",
            {"order_id": order.pk, "user_id": order.user_id, "status": "failed", "reason": "Your card was declined."},
        ),
        (
            "cart.updated",
            {
                "user_id": order.user_id,
                "total": "28.00",
                "items": [
                    {"product_id": mug, "quantity": 2, "unit_price": "12.50"},
                    {"product_id": pot, "quantity": 1, "unit_price": "3.00"},
                ],
            },
        ),
        ("order.cancelled", {"order_id": order.pk, "user_id": order.user_id, "reason": "Your card was declined."}),
    ]
    assert cart_lines(order.user_id) == sorted([(mug, 2), (pot, 1)])


def test_lines_given_back_add_to_what_the_cart_holds_now_except_deleted_products(
    deliver, order, filled_cart, catalog_product
):
    from commerce_core.events.contracts.catalog import ProductDeleted

    mug, pot = filled_cart
    cart_item_add(user_id=order.user_id, product_id=mug, quantity=1)  # added after checkout
    deliver(ProductDeleted(product_id=pot))

    deliver(declined(order))

    assert cart_lines(order.user_id) == [(mug, 3)]


def test_rejected_stock_cancels_the_order(deliver, order, filled_cart):
    deliver(rejected(order, filled_cart[1]))
    order.refresh_from_db()
    assert (order.status, order.reason) == ("cancelled", "Not enough stock.")
    assert [event for event in published() if event[0] != "cart.updated"] == [
        (
            "order.status_changed",
            {"order_id": order.pk, "user_id": order.user_id, "status": "cancelled", "reason": "Not enough stock."},
        ),
        ("order.cancelled", {"order_id": order.pk, "user_id": order.user_id, "reason": "Not enough stock."}),
    ]
    assert len(cart_lines(order.user_id)) == 2


def test_a_duplicated_payment_success_changes_nothing_the_second_time(deliver, order):
    body = Envelope.wrap(succeeded(order), source="payment").to_dict()
    deliver(body)
    published()
    paid_at = Order.objects.get(pk=order.pk).updated_at

    # The very same message redelivered, and the same news under a new event id.
    deliver(body)
    deliver(succeeded(order))

    assert Order.objects.get(pk=order.pk).updated_at == paid_at
    assert published() == []


def test_a_late_payment_success_after_the_timeout_changes_nothing(deliver, order, filled_cart, settings):
    settings.ORDER_TIMEOUT_SECONDS = 120
    services.orders_cancel_timed_out(now=timezone.now() + timedelta(seconds=121))
    published()

    deliver(succeeded(order))

    order.refresh_from_db()
    assert (order.status, order.reason) == ("cancelled", "timed out")
    # The payment service refunds: it received the timeout's order.cancelled.
    assert published() == []
    assert len(cart_lines(order.user_id)) == 2


@pytest.mark.parametrize("late_event", [declined, rejected])
def test_a_settled_order_ignores_every_later_outcome(deliver, order, late_event):
    deliver(succeeded(order))
    published()
    deliver(late_event(order))
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert published() == []


def test_an_event_about_an_unknown_order_is_dropped_without_retrying(deliver):
    event = PaymentSucceeded(order_id=999_999, payment_id=1, user_id=1, amount=Decimal("1.00"))
    assert deliver(event) == {"status": "done"}
    assert not DeadLetter.objects.exists()
    assert published() == []
