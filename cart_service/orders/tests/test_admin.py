import pytest
from carts.services import cart_item_add
from django.urls import reverse

from commerce_core.events.models import OutboxMessage
from orders import services
from orders.models import IdempotencyRecord, Order

from .conftest import checkout

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("query", ["", "?status__exact=pending", "?q=12", "?q=not-a-number"])
def test_the_order_list_renders_filters_and_searches(operator_client, placed_order, query):
    response = operator_client.get(reverse("admin:orders_order_changelist") + query)
    assert response.status_code == 200


def test_an_order_is_found_by_its_id_or_its_customer(operator_client, placed_order):
    url = reverse("admin:orders_order_changelist")
    assert operator_client.get(url, {"q": placed_order.pk}).context["cl"].result_count == 1
    assert operator_client.get(url, {"q": placed_order.user_id}).context["cl"].result_count == 1
    assert operator_client.get(url, {"q": placed_order.pk + 1000}).context["cl"].result_count == 0


def test_an_order_and_its_lines_are_shown_read_only(operator_client, placed_order):
    response = operator_client.get(reverse("admin:orders_order_change", args=[placed_order.pk]))
    assert response.status_code == 200
    assert b"12.50" in response.content
    assert (
        operator_client.post(
            reverse("admin:orders_order_change", args=[placed_order.pk]), {"status": "paid"}
        ).status_code
        == 403
    )
    assert Order.objects.get(pk=placed_order.pk).status == "pending"


def test_cancelling_from_the_admin_goes_through_the_saga(
    operator_client, placed_order, principal_factory, catalog_product
):
    someone_else = principal_factory().id
    cart_item_add(user_id=someone_else, product_id=catalog_product(), quantity=1)
    paid = services.order_place(user_id=someone_else, payment_token="tok_visa")
    services.order_mark_paid(order_id=paid.pk)
    OutboxMessage.objects.all().delete()

    response = operator_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "cancel_pending_orders", "_selected_action": [placed_order.pk, paid.pk]},
    )

    assert response.status_code == 302
    assert dict(Order.objects.values_list("pk", "status")) == {placed_order.pk: "cancelled", paid.pk: "paid"}
    cancelled = OutboxMessage.objects.get(event_type="order.cancelled")
    assert cancelled.envelope["data"]["order_id"] == placed_order.pk


def test_idempotency_records_are_listed_read_only(operator_client, customer, filled_cart):
    checkout(customer, key="checkout-1")
    record = IdempotencyRecord.objects.get()
    assert (
        operator_client.get(reverse("admin:orders_idempotencyrecord_changelist"), {"q": "checkout"}).status_code == 200
    )
    assert operator_client.get(reverse("admin:orders_idempotencyrecord_change", args=[record.pk])).status_code == 200
    assert operator_client.get(reverse("admin:orders_idempotencyrecord_add")).status_code == 403
