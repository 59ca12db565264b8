import runpy
from datetime import timedelta
from pathlib import Path

import pytest
from carts.models import CartItem
from carts.services import cart_item_add
from django.utils import timezone

from commerce_core.events.models import OutboxMessage
from commerce_core.events.periodic import registered_jobs
from orders import jobs, services
from orders.models import Order

pytestmark = pytest.mark.django_db

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "config" / "settings.py"


@pytest.fixture(autouse=True)
def timeout_of_two_minutes(settings):
    settings.ORDER_TIMEOUT_SECONDS = 120


def aged(order, seconds):
    """Pretend `order` was placed `seconds` ago."""
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))
    return order


def place(user_id, product_id):
    cart_item_add(user_id=user_id, product_id=product_id, quantity=1)
    return services.order_place(user_id=user_id, payment_token="tok_visa")


def test_the_job_is_registered_for_the_worker():
    assert "orders.jobs.cancel_timed_out_orders" in {job.name for job in registered_jobs()}


@pytest.mark.parametrize("environment, seconds", [({}, 120), ({"ORDER_TIMEOUT_SECONDS": "7"}, 7)])
def test_the_timeout_is_read_from_the_environment_and_defaults_to_two_minutes(monkeypatch, environment, seconds):
    monkeypatch.delenv("ORDER_TIMEOUT_SECONDS", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert runpy.run_path(str(SETTINGS_FILE))["ORDER_TIMEOUT_SECONDS"] == seconds


def test_an_order_pending_past_the_timeout_is_cancelled_and_announced(placed_order):
    aged(placed_order, 121)
    OutboxMessage.objects.all().delete()

    jobs.cancel_timed_out_orders()

    placed_order.refresh_from_db()
    assert (placed_order.status, placed_order.reason) == ("cancelled", "timed out")
    events = sorted(
        (m.event_type, m.envelope["data"]) for m in OutboxMessage.objects.exclude(event_type="cart.updated")
    )
    user_id = placed_order.user_id
    assert events == [
        ("order.cancelled", {"order_id": placed_order.pk, "user_id": user_id, "reason": "timed out"}),
        (
            "order.status_changed",
            {"order_id": placed_order.pk, "user_id": user_id, "status": "cancelled", "reason": "timed out"},
        ),
    ]


def test_only_stale_pending_orders_are_cancelled(placed_order, filled_cart, principal_factory):
    mug, _ = filled_cart
    stale = aged(placed_order, 121)
    # One pending order per customer at a time: each order here is another customer's.
    fresh = aged(place(principal_factory().id, mug), 60)
    paid_long_ago = aged(place(principal_factory().id, mug), 600)
    failed_long_ago = aged(place(principal_factory().id, mug), 600)
    services.order_mark_paid(order_id=paid_long_ago.pk)
    services.order_fail(order_id=failed_long_ago.pk, reason="Your card was declined.")

    assert services.orders_cancel_timed_out() == [stale.pk]

    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {
        stale.pk: "cancelled",
        fresh.pk: "pending",
        paid_long_ago.pk: "paid",
        failed_long_ago.pk: "failed",
    }


def test_a_second_sweep_cancels_nothing_again(placed_order):
    aged(placed_order, 121)
    assert services.orders_cancel_timed_out() == [placed_order.pk]
    OutboxMessage.objects.all().delete()
    assert services.orders_cancel_timed_out() == []
    assert not OutboxMessage.objects.exists()


def test_the_timeout_comes_from_the_setting(placed_order, settings):
    aged(placed_order, 30)
    assert services.orders_cancel_timed_out() == []
    settings.ORDER_TIMEOUT_SECONDS = 20
    assert services.orders_cancel_timed_out() == [placed_order.pk]


def test_a_timed_out_order_gives_its_lines_back_to_the_cart(placed_order, filled_cart):
    mug, pot = filled_cart
    aged(placed_order, 121)

    services.orders_cancel_timed_out()

    lines = CartItem.objects.filter(cart__user_id=placed_order.user_id).values_list("product_id", "quantity")
    assert sorted(lines) == sorted([(mug, 2), (pot, 1)])
